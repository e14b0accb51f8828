package modbus

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	mbus "github.com/simonvetter/modbus"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/shareddata"
	"github.com/zevdesk/zevdesk/ingest/gateway/driver"
)

// device is a Modbus TCP server's register map: holding and input registers
// per unit id.
type device struct {
	mu      sync.Mutex
	holding map[uint8]map[uint16]uint16
	input   map[uint8]map[uint16]uint16
}

func (d *device) HandleCoils(*mbus.CoilsRequest) ([]bool, error) { return nil, mbus.ErrIllegalFunction }
func (d *device) HandleDiscreteInputs(*mbus.DiscreteInputsRequest) ([]bool, error) {
	return nil, mbus.ErrIllegalFunction
}

func (d *device) read(m map[uint8]map[uint16]uint16, unit uint8, addr, n uint16) ([]uint16, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	regs, ok := m[unit]
	if !ok {
		return nil, mbus.ErrGWTargetFailedToRespond
	}
	out := make([]uint16, n)
	for i := range out {
		v, ok := regs[addr+uint16(i)]
		if !ok {
			return nil, mbus.ErrIllegalDataAddress
		}
		out[i] = v
	}
	return out, nil
}

func (d *device) HandleHoldingRegisters(r *mbus.HoldingRegistersRequest) ([]uint16, error) {
	if r.IsWrite {
		return nil, mbus.ErrIllegalFunction
	}
	return d.read(d.holding, r.UnitId, r.Addr, r.Quantity)
}

func (d *device) HandleInputRegisters(r *mbus.InputRegistersRequest) ([]uint16, error) {
	return d.read(d.input, r.UnitId, r.Addr, r.Quantity)
}

func (d *device) setFloat(unit uint8, addr uint16, v float32) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.input[unit] == nil {
		d.input[unit] = map[uint16]uint16{}
	}
	b := math.Float32bits(v)
	d.input[unit][addr], d.input[unit][addr+1] = uint16(b>>16), uint16(b)
}

// sunspecMap lays out a SunSpec device at base: the marker, a common
// model 1, a meter model, the end marker.
func (d *device) sunspecMap(unit uint8, base uint16, model uint16, impWh, expWh uint32, whSF int16, w int16, wSF int16) {
	d.mu.Lock()
	defer d.mu.Unlock()
	m := map[uint16]uint16{}
	m[base], m[base+1] = SunSpecMarker0, SunSpecMarker1
	a := base + 2
	m[a], m[a+1] = 1, 66
	for i := uint16(0); i < 66; i++ {
		m[a+2+i] = 0
	}
	a += 68
	m[a], m[a+1] = model, SunSpecMeterLen
	for i := uint16(0); i < SunSpecMeterLen; i++ {
		m[a+2+i] = sunspecNotImpl16
	}
	m[a+OffW], m[a+OffWSF] = uint16(w), uint16(wSF)
	m[a+OffTotWhExp], m[a+OffTotWhExp+1] = uint16(expWh>>16), uint16(expWh)
	m[a+OffTotWhImp], m[a+OffTotWhImp+1] = uint16(impWh>>16), uint16(impWh)
	m[a+OffTotWhSF] = uint16(whSF)
	a += 2 + SunSpecMeterLen
	m[a], m[a+1] = SunSpecEnd, 0
	d.holding[unit] = m
}

func startServer(t *testing.T) (*device, string) {
	t.Helper()
	// The library listens on the address it is given: find a free port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dev := &device{holding: map[uint8]map[uint16]uint16{}, input: map[uint8]map[uint16]uint16{}}
	srv, err := mbus.NewServer(&mbus.ServerConfiguration{URL: "tcp://" + addr, MaxClients: 4, Timeout: 10 * time.Second}, dev)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	return dev, addr
}

var at = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newDriver(t *testing.T, params map[string]string) driver.Driver {
	t.Helper()
	d, err := driver.New(context.Background(), Name, driver.Config{ID: "M1", Params: params, Clock: core.FixedClock(at)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.(driver.Closer).Close() })
	return d
}

func TestSDM630(t *testing.T) {
	dev, addr := startServer(t)
	dev.setFloat(2, SDM630ImportKWh, 12345.5)
	dev.setFloat(2, SDM630ExportKWh, 17.25)
	dev.setFloat(2, SDM630TotalPower, -1530)
	d := newDriver(t, map[string]string{"addr": addr, "type": "sdm630", "unit": "2"})
	rs, err := d.Registers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Meter != "M1" || rs[0].Import != 12345_500_000 || rs[0].Export != 17_250_000 || !rs[0].Time.Equal(at) {
		t.Errorf("readings %+v", rs)
	}
	ps, err := d.(driver.PowerMeter).Power(context.Background())
	if err != nil || ps[0].W != -1530 {
		t.Errorf("power %+v %v", ps, err)
	}
	// A wrong unit id is an error naming the meter, not a zero reading.
	bad := newDriver(t, map[string]string{"addr": addr, "type": "sdm630", "unit": "9", "timeout": "500ms"})
	if _, err := bad.Registers(context.Background()); err == nil {
		t.Error("reading an absent unit succeeded")
	}
}

func TestSunSpecModels(t *testing.T) {
	for _, c := range []struct {
		model     uint16
		base      uint16
		imp, exp  uint32
		sf        int16
		wantI     core.Energy
		wantE     core.Energy
		w, wSF    int16
		wantW     float64
		baseParam string
		unit      uint8
		unitParam string
		notes     string
	}{
		{model: 201, base: 40000, imp: 1234567, exp: 0, sf: 0, wantI: 1234567 * core.Wh, w: 230, wSF: 0, wantW: 230, unit: 1},
		{model: 202, base: 0, imp: 98765, exp: 4321, sf: 1, wantI: 987650 * core.Wh, wantE: 43210 * core.Wh, w: -150, wSF: 1, wantW: -1500, unit: 1},
		{model: 203, base: 50000, imp: 5000123, exp: 77, sf: -1, wantI: 500012300, wantE: 7700, w: 12345, wSF: -2, wantW: 123.45, unit: 3, unitParam: "3"},
		{model: 204, base: 40000, imp: 4294967295, exp: 1, sf: -5, wantI: 42949673, wantE: 0, w: 1, wSF: 3, wantW: 1000, unit: 1, baseParam: "40000"},
	} {
		t.Run(fmt.Sprint(c.model), func(t *testing.T) {
			dev, addr := startServer(t)
			dev.sunspecMap(c.unit, c.base, c.model, c.imp, c.exp, c.sf, c.w, c.wSF)
			params := map[string]string{"addr": addr, "type": "sunspec"}
			if c.baseParam != "" {
				params["base"] = c.baseParam
			}
			if c.unitParam != "" {
				params["unit"] = c.unitParam
			}
			d := newDriver(t, params)
			rs, err := d.Registers(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if rs[0].Import != c.wantI || rs[0].Export != c.wantE {
				t.Errorf("import %d export %d mWh, want %d and %d", rs[0].Import, rs[0].Export, c.wantI, c.wantE)
			}
			ps, err := d.(driver.PowerMeter).Power(context.Background())
			if err != nil || math.Abs(ps[0].W-c.wantW) > 1e-9 {
				t.Errorf("power %+v %v, want %v", ps, err, c.wantW)
			}
		})
	}
}

func TestSunSpecWithoutMeter(t *testing.T) {
	dev, addr := startServer(t)
	dev.sunspecMap(1, 40000, 103, 1, 1, 0, 0, 0) // an inverter, not a meter
	d := newDriver(t, map[string]string{"addr": addr, "type": "sunspec"})
	if _, err := d.Registers(context.Background()); err == nil {
		t.Fatal("a device without a meter model was read")
	}
}

func TestBadConfig(t *testing.T) {
	for _, p := range []map[string]string{
		{"type": "sdm630"},
		{"addr": "host", "type": "sdm630"},
		{"addr": "h:502", "type": "fronius"},
		{"addr": "h:502", "type": "sdm630", "unit": "300"},
		{"addr": "h:502", "type": "sdm630", "colour": "red"},
	} {
		if _, err := driver.New(context.Background(), Name, driver.Config{ID: "x", Params: p}); err == nil {
			t.Errorf("%v accepted", p)
		}
	}
}

// TestSunSpecOffsetsMatchModels checks the driver's register offsets
// against the SunSpec model definitions.
func TestSunSpecOffsetsMatchModels(t *testing.T) {
	for _, id := range []int{201, 202, 203, 204} {
		path := shareddata.Path(t, fmt.Sprintf("devices/sunspec/model_%d.json", id))
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Group struct {
				Points []struct {
					Name string `json:"name"`
					Type string `json:"type"`
					Size int    `json:"size"`
				} `json:"points"`
			} `json:"group"`
		}
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		want := map[string]struct {
			off int
			typ string
		}{"W": {OffW, "int16"}, "W_SF": {OffWSF, "sunssf"}, "TotWhExp": {OffTotWhExp, "acc32"}, "TotWhImp": {OffTotWhImp, "acc32"}, "TotWh_SF": {OffTotWhSF, "sunssf"}}
		off := 0
		for _, p := range m.Group.Points {
			if w, ok := want[p.Name]; ok {
				if off != w.off || p.Type != w.typ {
					t.Errorf("model %d %s: offset %d type %s, driver uses %d %s", id, p.Name, off, p.Type, w.off, w.typ)
				}
				delete(want, p.Name)
			}
			off += p.Size
		}
		if len(want) > 0 || off-2 != SunSpecMeterLen {
			t.Errorf("model %d: points %v not found, length %d", id, want, off-2)
		}
	}
}

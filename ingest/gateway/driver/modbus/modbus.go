// Package modbus is the gateway driver for meters on Modbus TCP: SunSpec
// meters (models 201 to 204, integer with scale factors) and the Eastron
// SDM630 (its input-register map, float32). It uses
// github.com/simonvetter/modbus.
//
// Parameters (see driver.ParseSpec): addr (host:port, required), type
// (sunspec or sdm630, required), unit (the Modbus unit id, default 1), base
// (SunSpec: the register of the "SunS" marker; default: try 40000, 0 and
// 50000), timeout (default 2s).
package modbus

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	mbus "github.com/simonvetter/modbus"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/ingest/gateway/driver"
	"github.com/zevdesk/zevdesk/ingest/protocol"
)

// Name is the driver's registered name.
const Name = "modbus"

// Meter types.
const (
	TypeSunSpec = "sunspec"
	TypeSDM630  = "sdm630"
)

// Eastron SDM630 input registers (float32, big-endian, high word first).
const (
	SDM630TotalPower  = 0x0034 // total system power, W
	SDM630ImportKWh   = 0x0048 // total import, kWh
	SDM630ExportKWh   = 0x004A // total export, kWh
	sdm630EnergyCount = 2      // import and export are adjacent float32s
)

// SunSpec: the marker "SunS" and the offsets, from a model's ID register, of
// the points this driver reads. Models 201 (single phase), 202 (split
// phase), 203 (wye) and 204 (delta) share this layout (length 105).
const (
	SunSpecMarker0   = 0x5375 // "Su"
	SunSpecMarker1   = 0x6e53 // "nS"
	SunSpecEnd       = 0xFFFF
	SunSpecMeterLen  = 105
	OffW             = 18 // int16, total real power, W × 10^W_SF
	OffWSF           = 22 // sunssf
	OffTotWhExp      = 38 // acc32, total real energy exported, Wh × 10^TotWh_SF
	OffTotWhImp      = 46 // acc32, total real energy imported
	OffTotWhSF       = 54 // sunssf
	sunspecNotImpl16 = 0x8000
)

// Driver reads one Modbus TCP meter. It is safe for concurrent use.
type Driver struct {
	id, typ string
	addr    string
	unit    uint8
	bases   []uint16
	clock   core.Clock
	timeout time.Duration

	mu     sync.Mutex
	client *mbus.ModbusClient
	model  uint16 // SunSpec: the meter model found
	start  uint16 // SunSpec: the meter model's ID register
}

var (
	_ driver.Driver     = (*Driver)(nil)
	_ driver.PowerMeter = (*Driver)(nil)
	_ driver.Closer     = (*Driver)(nil)
)

func init() {
	driver.Register(Name, func(_ context.Context, cfg driver.Config) (driver.Driver, error) { return New(cfg) })
}

// New makes a driver from its configuration; it connects on first use, so
// that a gateway starts while a meter is unreachable.
func New(cfg driver.Config) (*Driver, error) {
	d := &Driver{id: cfg.ID, typ: cfg.Param("type", ""), addr: cfg.Param("addr", ""), clock: cfg.Clock}
	if d.clock == nil {
		d.clock = core.SystemClock{}
	}
	if _, _, err := net.SplitHostPort(d.addr); err != nil {
		return nil, fmt.Errorf("addr=%q: expected host:port", d.addr)
	}
	switch d.typ {
	case TypeSunSpec, TypeSDM630:
	default:
		return nil, fmt.Errorf("type=%q: expected %s or %s", d.typ, TypeSunSpec, TypeSDM630)
	}
	unit, err := strconv.ParseUint(cfg.Param("unit", "1"), 10, 8)
	if err != nil {
		return nil, fmt.Errorf("unit=%q: expected a Modbus unit id 0-255", cfg.Params["unit"])
	}
	d.unit = uint8(unit)
	d.bases = []uint16{40000, 0, 50000}
	if s := cfg.Params["base"]; s != "" {
		b, err := strconv.ParseUint(s, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("base=%q: expected a register address", s)
		}
		d.bases = []uint16{uint16(b)}
	}
	if d.timeout, err = time.ParseDuration(cfg.Param("timeout", "2s")); err != nil {
		return nil, fmt.Errorf("timeout: %w", err)
	}
	for k := range cfg.Params {
		switch k {
		case "addr", "type", "unit", "base", "timeout":
		default:
			return nil, fmt.Errorf("unknown parameter %q (known: addr, type, unit, base, timeout)", k)
		}
	}
	return d, nil
}

// Meters describes the one meter.
func (d *Driver) Meters() []protocol.Meter {
	model := "SunSpec meter"
	if d.typ == TypeSDM630 {
		model = "Eastron SDM630"
	}
	return []protocol.Meter{driver.EnergyMeter(d.id, Name, model, "", true)}
}

// Close closes the connection.
func (d *Driver) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dropLocked()
}

func (d *Driver) dropLocked() error {
	if d.client == nil {
		return nil
	}
	err := d.client.Close()
	d.client = nil
	return err
}

// connLocked returns an open client; d.mu is held.
func (d *Driver) connLocked() (*mbus.ModbusClient, error) {
	if d.client != nil {
		return d.client, nil
	}
	c, err := mbus.NewClient(&mbus.ClientConfiguration{URL: "tcp://" + d.addr, Timeout: d.timeout})
	if err != nil {
		return nil, err
	}
	if err := c.Open(); err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", d.addr, err)
	}
	if err := c.SetUnitId(d.unit); err != nil {
		c.Close()
		return nil, err
	}
	d.client = c
	return c, nil
}

// withClient runs fn with a connection; a failed exchange drops the
// connection, so the next call reconnects.
func (d *Driver) withClient(fn func(*mbus.ModbusClient) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, err := d.connLocked()
	if err != nil {
		return fmt.Errorf("meter %s: %w", d.id, err)
	}
	if err := fn(c); err != nil {
		var me mbus.Error
		if !errors.As(err, &me) || me == mbus.ErrRequestTimedOut || me == mbus.ErrBadTransactionId || me == mbus.ErrProtocolError {
			d.dropLocked()
		}
		return fmt.Errorf("meter %s at %s: %w", d.id, d.addr, err)
	}
	return nil
}

// Registers reads the import and export registers.
func (d *Driver) Registers(context.Context) ([]driver.Reading, error) {
	var r driver.Reading
	err := d.withClient(func(c *mbus.ModbusClient) error {
		var err error
		if d.typ == TypeSDM630 {
			r.Import, r.Export, err = readSDM630Energy(c)
		} else {
			r.Import, r.Export, err = d.readSunSpecEnergy(c)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	r.Meter, r.Time = d.id, d.clock.Now().UTC()
	return []driver.Reading{r}, nil
}

// Power reads the total real power (positive: import).
func (d *Driver) Power(context.Context) ([]driver.Power, error) {
	var w float64
	err := d.withClient(func(c *mbus.ModbusClient) error {
		if d.typ == TypeSDM630 {
			v, err := c.ReadFloat32(SDM630TotalPower, mbus.INPUT_REGISTER)
			w = float64(v)
			return err
		}
		if err := d.findSunSpec(c); err != nil {
			return err
		}
		regs, err := c.ReadRegisters(d.start+OffW, OffWSF-OffW+1, mbus.HOLDING_REGISTER)
		if err != nil {
			return err
		}
		raw, sf := regs[0], regs[OffWSF-OffW]
		if raw == sunspecNotImpl16 || sf == sunspecNotImpl16 {
			return errors.New("power (W) not implemented by the meter")
		}
		w = float64(int16(raw)) * math.Pow10(int(int16(sf)))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return []driver.Power{{Meter: d.id, W: w}}, nil
}

func readSDM630Energy(c *mbus.ModbusClient) (imp, exp core.Energy, err error) {
	vs, err := c.ReadFloat32s(SDM630ImportKWh, sdm630EnergyCount, mbus.INPUT_REGISTER)
	if err != nil {
		return 0, 0, err
	}
	if imp, err = kWhFloat(vs[0]); err == nil {
		exp, err = kWhFloat(vs[1])
	}
	return imp, exp, err
}

func kWhFloat(v float32) (core.Energy, error) {
	f := float64(v)
	// 1 TWh bounds any building's register (as in the Shelly driver) and
	// keeps the conversion to mWh inside int64: a float32 register read with
	// the wrong map can hold up to 3.4e38.
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e9 {
		return 0, fmt.Errorf("implausible register value %v kWh", v)
	}
	return core.Energy(math.Round(f * float64(core.KWh))), nil
}

// findSunSpec locates the first meter model (201-204) in the device's
// SunSpec map, once.
func (d *Driver) findSunSpec(c *mbus.ModbusClient) error {
	if d.model != 0 {
		return nil
	}
	for _, base := range d.bases {
		m, err := c.ReadRegisters(base, 2, mbus.HOLDING_REGISTER)
		if err != nil || m[0] != SunSpecMarker0 || m[1] != SunSpecMarker1 {
			continue
		}
		addr := base + 2
		for range 64 { // a device has a handful of models; bound the walk
			hdr, err := c.ReadRegisters(addr, 2, mbus.HOLDING_REGISTER)
			if err != nil {
				return fmt.Errorf("reading the SunSpec model at %d: %w", addr, err)
			}
			id, l := hdr[0], hdr[1]
			if id == SunSpecEnd {
				break
			}
			if id >= 201 && id <= 204 {
				if l < SunSpecMeterLen {
					return fmt.Errorf("SunSpec model %d at %d has length %d, expected %d", id, addr, l, SunSpecMeterLen)
				}
				d.model, d.start = id, addr
				return nil
			}
			if int(addr)+2+int(l) > math.MaxUint16 {
				break
			}
			addr += 2 + l
		}
		return fmt.Errorf("no SunSpec meter model (201-204) in the map at %d", base)
	}
	return fmt.Errorf("no SunSpec map (marker \"SunS\") at register %s", joinBases(d.bases))
}

func joinBases(bs []uint16) string {
	s := make([]string, len(bs))
	for i, b := range bs {
		s[i] = strconv.Itoa(int(b))
	}
	return strings.Join(s, ", ")
}

func (d *Driver) readSunSpecEnergy(c *mbus.ModbusClient) (imp, exp core.Energy, err error) {
	if err := d.findSunSpec(c); err != nil {
		return 0, 0, err
	}
	regs, err := c.ReadRegisters(d.start+OffTotWhExp, OffTotWhSF-OffTotWhExp+1, mbus.HOLDING_REGISTER)
	if err != nil {
		return 0, 0, err
	}
	sf := regs[OffTotWhSF-OffTotWhExp]
	if sf == sunspecNotImpl16 {
		return 0, 0, errors.New("energy scale factor (TotWh_SF) not implemented by the meter")
	}
	acc := func(off int) uint32 { return uint32(regs[off])<<16 | uint32(regs[off+1]) }
	if imp, err = scaleWh(acc(OffTotWhImp-OffTotWhExp), int16(sf)); err == nil {
		exp, err = scaleWh(acc(0), int16(sf))
	}
	return imp, exp, err
}

// scaleWh returns raw × 10^sf Wh in mWh, exactly where it can be (sf ≥ -3)
// and rounded to the mWh otherwise. SunSpec allows scale factors -10..10;
// one outside that is a misread register map, and a large one would
// overflow the result into a negative reading.
func scaleWh(raw uint32, sf int16) (core.Energy, error) {
	if sf < -10 || sf > 10 {
		return 0, fmt.Errorf("energy scale factor %d outside SunSpec's -10..10", sf)
	}
	e := int64(raw)
	p := int(sf) + 3 // mWh = Wh × 10^3
	for ; p > 0; p-- {
		if e > math.MaxInt64/10 {
			return 0, fmt.Errorf("energy register %d × 10^%d Wh is out of range", raw, sf)
		}
		e *= 10
	}
	if p < 0 {
		div := int64(math.Pow10(-p))
		e = (e + div/2) / div
	}
	return core.Energy(e), nil
}

// Package simulator is the gateway driver for the simulated building of
// ingest/sim: it reads the simulator's registers and power on the gateway's
// clock, which a simulation may run faster than real time.
package simulator

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/ingest/gateway/driver"
	"github.com/zevdesk/zevdesk/ingest/protocol"
	"github.com/zevdesk/zevdesk/ingest/sim"
)

// Name is the driver's registered name.
const Name = "sim"

// Driver reads a simulated building. It is safe for concurrent use.
type Driver struct {
	b      *sim.Building
	clock  core.Clock
	meters []protocol.Meter
}

var (
	_ driver.Driver            = (*Driver)(nil)
	_ driver.PowerMeter        = (*Driver)(nil)
	_ driver.RegistersAtReader = (*Driver)(nil)
)

func init() {
	driver.Register(Name, func(_ context.Context, cfg driver.Config) (driver.Driver, error) {
		sc, err := ParseConfig(cfg.Params)
		if err != nil {
			return nil, err
		}
		return New(sim.New(sc), cfg.Clock), nil
	})
}

// ParseConfig reads a simulator configuration from driver parameters: seed,
// units, pv_kwp, heatpump (true/false), ev (number of chargers).
func ParseConfig(p map[string]string) (sim.Config, error) {
	var c sim.Config
	var err error
	for k, v := range p {
		switch k {
		case "seed":
			c.Seed, err = strconv.ParseInt(v, 10, 64)
		case "units":
			c.Units, err = strconv.Atoi(v)
		case "pv_kwp":
			c.PVkWp, err = strconv.ParseFloat(v, 64)
		case "heatpump":
			c.HeatPump, err = strconv.ParseBool(v)
		case "ev":
			c.EVChargers, err = strconv.Atoi(v)
		default:
			return c, fmt.Errorf("unknown parameter %q (known: seed, units, pv_kwp, heatpump, ev)", k)
		}
		if err != nil {
			return c, fmt.Errorf("parameter %s=%q: %w", k, v, err)
		}
	}
	return c, nil
}

// New returns a driver reading b with clock (nil for the system clock).
func New(b *sim.Building, clock core.Clock) *Driver {
	if clock == nil {
		clock = core.SystemClock{}
	}
	d := &Driver{b: b, clock: clock}
	for _, m := range b.Meters() {
		pm := driver.EnergyMeter(m.ID, Name, "zevdesk simulator", m.Serial, true)
		pm.Channels[0].OBIS, pm.Channels[1].OBIS = m.OBISImport, m.OBISExport
		d.meters = append(d.meters, pm)
	}
	return d
}

// Building returns the simulated building.
func (d *Driver) Building() *sim.Building { return d.b }

// Meters describes the building's meters, with the simulator's meter ids.
func (d *Driver) Meters() []protocol.Meter { return d.meters }

// Registers reads every meter's registers now (on the driver's clock).
func (d *Driver) Registers(context.Context) ([]driver.Reading, error) {
	return d.RegistersAt(d.clock.Now())
}

// RegistersAt reads every meter's registers at t.
func (d *Driver) RegistersAt(t time.Time) ([]driver.Reading, error) {
	t = t.UTC().Truncate(time.Millisecond)
	rs := d.b.Registers(t)
	out := make([]driver.Reading, len(rs))
	for i, r := range rs {
		out[i] = driver.Reading{Meter: r.Meter, Time: t, Import: r.Import, Export: r.Export}
	}
	return out, nil
}

// Power reads every meter's power now: import positive, export negative.
func (d *Driver) Power(context.Context) ([]driver.Power, error) {
	ps := d.b.Power(d.clock.Now())
	out := make([]driver.Power, len(ps))
	for i, p := range ps {
		out[i] = driver.Power{Meter: p.Meter, W: float64(p.ImportW - p.ExportW)}
	}
	return out, nil
}

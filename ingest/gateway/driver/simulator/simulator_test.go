package simulator

import (
	"context"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/ingest/gateway/driver"
	"github.com/zevdesk/zevdesk/ingest/sim"
)

func TestSimulatorDriver(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 6, 21, 10, 0, 0, 0, time.UTC)
	d, err := driver.New(ctx, Name, driver.Config{ID: "sim", Params: map[string]string{"seed": "7", "units": "4", "pv_kwp": "30", "ev": "1"}, Clock: core.FixedClock(at)})
	if err != nil {
		t.Fatal(err)
	}
	b := sim.New(sim.Config{Seed: 7, Units: 4, PVkWp: 30, EVChargers: 1})
	ms := d.Meters()
	if len(ms) != len(b.Meters()) || ms[0].ID != "PV" || ms[0].Channels[1].OBIS != "1-0:2.8.0" {
		t.Fatalf("meters %+v", ms)
	}
	rs, err := d.Registers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := b.Registers(at)
	for i, r := range rs {
		if r.Meter != want[i].Meter || r.Import != want[i].Import || r.Export != want[i].Export || !r.Time.Equal(at) {
			t.Errorf("reading %+v, simulator says %+v", r, want[i])
		}
	}
	// At midday in June the PV plant exports: negative power.
	ps, err := d.(driver.PowerMeter).Power(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ps[0].Meter != "PV" || ps[0].W >= 0 {
		t.Errorf("PV power %+v, want export (negative)", ps[0])
	}
	if _, err := driver.New(ctx, Name, driver.Config{ID: "x", Params: map[string]string{"colour": "red"}}); err == nil {
		t.Error("unknown parameter accepted")
	}
}

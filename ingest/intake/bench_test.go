package intake

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/ingest/gateway"
	"github.com/zevdesk/zevdesk/ingest/gateway/driver"
	"github.com/zevdesk/zevdesk/ingest/protocol"
)

// BenchmarkCatchUp measures a catch-up from a gateway on loopback over TLS
// into a real bbolt file, with registers derived and checked: one op is one
// record.
func BenchmarkCatchUp(b *testing.B) {
	g := newFakeGateway(b, uint64(b.N))
	addr := g.serve(b, "").Listener.Addr().String()
	st := openStore(b, "")
	c := NewClient(st, g.pairing(addr), benchOptions())
	defer c.Close()
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	n, err := c.CatchUp(context.Background())
	el, cpu := time.Since(start), cpuTime()-cpu0
	b.StopTimer()
	if err != nil || n != b.N {
		b.Fatalf("CatchUp = %d, %v; want %d", n, err, b.N)
	}
	reportRates(b, n, el, cpu)
}

// benchMeters is a gateway driver describing the four meters whose readings
// the benchmark appends to the gateway's buffer directly.
type benchMeters struct{}

func (benchMeters) Meters() []protocol.Meter {
	var ms []protocol.Meter
	for m := 0; m < 4; m++ {
		ms = append(ms, driver.EnergyMeter("M"+strconv.Itoa(m), "bench", "", "", false))
	}
	return ms
}

func (benchMeters) Registers(context.Context) ([]driver.Reading, error) { return nil, nil }

// BenchmarkCatchUpGateway is BenchmarkCatchUp against the real gateway agent
// (ingest/gateway: its bbolt buffer, its records handler), paired the real
// way. Both run in this process, sharing its CPUs.
func BenchmarkCatchUpGateway(b *testing.B) {
	gw, err := gateway.New(gateway.Config{
		Dir:       b.TempDir(),
		OpenStore: func(p string) (store.Store, error) { return bolt.Open(p, nil) },
		Drivers:   []driver.Driver{benchMeters{}},
		Retention: 20 * 365 * 24 * time.Hour, // the benchmark's records span years
		Clock:     testClock,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	defer gw.Close()
	fake := newFakeGateway(b, 0)
	batch := make([]driver.Reading, 0, 10000)
	for s := uint64(1); s <= uint64(b.N); s++ {
		r := fake.record(s)
		batch = append(batch, driver.Reading{Meter: r.Meter, Time: r.Time, Import: r.Import, Export: r.Export})
		if len(batch) == cap(batch) || s == uint64(b.N) {
			if _, err := gw.Buffer().Append(batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- gw.Run(ctx, ln) }()
	defer func() { cancel(); <-done }()

	p, err := Pair(ctx, ln.Addr().String(), gw.ID(), gw.Code())
	if err != nil {
		b.Fatal(err)
	}
	p.Site = "S1"
	st := openStore(b, "")
	c := NewClient(st, p, benchOptions())
	defer c.Close()
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	n, err := c.CatchUp(ctx)
	el, cpu := time.Since(start), cpuTime()-cpu0
	b.StopTimer()
	if err != nil || n != b.N {
		b.Fatalf("CatchUp = %d, %v; want %d", n, err, b.N)
	}
	reportRates(b, n, el, cpu)
}

// reportRates reports records per wall second and per CPU second of the
// whole process (both sides of the connection, the store, TLS, the GC): the
// second is what a dedicated core would reach.
func reportRates(b *testing.B, n int, wall, cpu time.Duration) {
	b.ReportMetric(float64(n)/wall.Seconds(), "records/s")
	if cpu > 0 {
		b.ReportMetric(float64(n)/cpu.Seconds(), "records/cpu-s")
	}
}

// benchOptions is testOptions with the clock far enough ahead that the
// millions of readings of a long benchmark (four meters, 15 minutes apart)
// all lie in its past.
func benchOptions() *Options {
	o := testOptions()
	o.Clock = core.FixedClock(time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC))
	return o
}

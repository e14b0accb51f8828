//go:build unix

package gateway

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/ingest/gateway/driver"
	"github.com/zevdesk/zevdesk/ingest/gateway/driver/simulator"
	"github.com/zevdesk/zevdesk/ingest/protocol"
	"github.com/zevdesk/zevdesk/ingest/sim"
)

// benchGateway runs a paired gateway for a benchmark and returns a client.
func benchGateway(b *testing.B, cfg Config) (*Gateway, *client, func()) {
	b.Helper()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if cfg.OpenStore == nil {
		cfg.OpenStore = func(p string) (store.Store, error) { return bolt.Open(p, &bolt.Options{NoSync: true}) }
	}
	g, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx, ln) }()
	t := &testing.T{}
	c := newClient(t, ln.Addr().String())
	c.pair(g.Code())
	if t.Failed() {
		b.Fatal("pairing failed")
	}
	return g, c, func() { cancel(); <-done; g.Close() }
}

// BenchmarkRecordsEndpoint measures catching up from the buffer: GET
// /records pages of 10,000 over TLS on loopback, decoded with
// protocol.ReadRecords, as the workstation does.
func BenchmarkRecordsEndpoint(b *testing.B) {
	const total = 100_000
	g, c, stop := benchGateway(b, Config{Dir: b.TempDir()})
	defer stop()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	batch := make([]driver.Reading, 0, 10_000)
	for i := range total {
		batch = append(batch, driver.Reading{Meter: "M-W" + strconv.Itoa(i%50), Time: t0.Add(time.Duration(i/50) * 15 * time.Minute),
			Import: core.Energy(i) * 1234, Export: core.Energy(i)})
		if len(batch) == cap(batch) {
			if _, err := g.Buffer().Append(batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	b.ResetTimer()
	n := 0
	for b.Loop() {
		var after uint64
		for {
			req, _ := http.NewRequest("GET", fmt.Sprintf("https://%s%s?after=%d&limit=%d", c.addr, protocol.PathRecords, after, protocol.MaxRecordsLimit), nil)
			req.Header.Set("Authorization", "Bearer "+c.token)
			resp, err := c.http.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			page, err := protocol.ReadRecords(resp.Body, func(r protocol.Record) error { after = r.Seq; n++; return nil })
			resp.Body.Close()
			if err != nil {
				b.Fatal(err)
			}
			if !page.More {
				break
			}
		}
		if after != total {
			b.Fatalf("caught up to %d of %d", after, total)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rssMB reads the resident set size from /proc (Linux); 0 elsewhere.
func rssMB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkAgent50Meters measures the gateway agent on a simulated building
// of 50 meters (45 apartments, PV, grid, general, heat pump, one EV charger)
// at its real duty: one record per meter per 15 minutes, and the live stream
// (one event a second) to one listener. It runs the live stream for a few
// wall seconds, measures the CPU time of a poll separately and reports
//
//	cpu-%: CPU time per wall second, in % of one core, with the polls
//	       amortised over their 15 minutes (target: at most 2 %)
//	heap-MB: live heap after a GC (the agent's own data)
//	rss-MB: resident memory of the whole test process (the agent plus the
//	       test binary; target for the agent: at most 30 MB)
//
// The buffer holds 7 days of history, as `zevdesk gateway --simulate` does.
func BenchmarkAgent50Meters(b *testing.B) {
	for b.Loop() {
		bld := sim.New(sim.Config{Seed: 1, Units: 45, PVkWp: 60, HeatPump: true, EVChargers: 1})
		now := time.Now().UTC()
		drv := simulator.New(bld, core.SystemClock{})
		if n := len(drv.Meters()); n != 50 {
			b.Fatalf("%d meters, want 50", n)
		}
		g, c, stop := benchGateway(b, Config{Dir: b.TempDir(), Drivers: []driver.Driver{drv},
			OpenStore: func(p string) (store.Store, error) { return bolt.Open(p, nil) }})
		if _, err := g.FillHistory(now.AddDate(0, 0, -7), now); err != nil {
			b.Fatal(err)
		}

		// The cost of one poll (50 readings, one committed transaction).
		const polls = 20
		cpu0 := cpuTime()
		for i := range polls {
			if _, err := g.Poll(context.Background(), now.Add(time.Duration(i+1)*15*time.Minute)); err != nil {
				b.Fatal(err)
			}
		}
		perPoll := (cpuTime() - cpu0) / polls

		// The live stream to one listener for a few seconds.
		req, _ := http.NewRequest("GET", "https://"+c.addr+protocol.PathLive, nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := c.http.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		runtime.GC()
		const events = 5
		wall0, cpu1 := time.Now(), cpuTime()
		for got := 0; got < events && sc.Scan(); {
			if strings.HasPrefix(sc.Text(), "data: ") {
				got++
			}
		}
		wall := time.Since(wall0)
		liveCPU := cpuTime() - cpu1
		resp.Body.Close()

		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		perWallSecond := float64(liveCPU)/wall.Seconds() + float64(perPoll)/(15*60)
		b.ReportMetric(100*perWallSecond/float64(time.Second), "cpu-%")
		b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MB")
		b.ReportMetric(rssMB(), "rss-MB")
		b.ReportMetric(float64(perPoll)/float64(time.Millisecond), "ms-cpu/poll")
		stop()
	}
}

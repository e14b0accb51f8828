package intake

import (
	"context"
	"testing"
	"time"
)

// BenchmarkCatchUp measures a catch-up from a gateway on loopback over TLS
// into a real bbolt file, with registers derived and checked: one op is one
// record.
func BenchmarkCatchUp(b *testing.B) {
	g := newFakeGateway(b, uint64(b.N))
	addr := g.serve(b, "").Listener.Addr().String()
	st := openStore(b, "")
	c := NewClient(st, g.pairing(addr), testOptions())
	defer c.Close()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	n, err := c.CatchUp(context.Background())
	el := time.Since(start)
	b.StopTimer()
	if err != nil || n != b.N {
		b.Fatalf("CatchUp = %d, %v; want %d", n, err, b.N)
	}
	b.ReportMetric(float64(n)/el.Seconds(), "records/s")
}

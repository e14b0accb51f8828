package block

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// randomBlock returns a block mixing the shapes that matter to the
// encoding: gaps, all four qualities or a uniform one, values at any scale
// and at the ends of int64.
func randomBlock(rng *rand.Rand) *Day {
	var b Day
	uniform := rng.IntN(2) == 0
	q0 := store.Quality(1 + rng.IntN(3))
	scale := core.Energy(1)
	for range rng.IntN(8) {
		scale *= 10
	}
	for i := range b.Q {
		q := q0
		if !uniform {
			q = store.Quality(rng.IntN(4))
		}
		b.Q[i] = q
		if q == store.Missing {
			continue
		}
		switch rng.IntN(6) {
		case 0:
			b.E[i] = core.Energy(rng.Int64())
		case 1:
			b.E[i] = -core.Energy(rng.Int64())
		case 2:
			b.E[i] = [...]core.Energy{math.MaxInt64, math.MinInt64, 0, -1, 1}[rng.IntN(5)]
		default:
			b.E[i] = core.Energy(rng.IntN(400)-20) * scale
		}
	}
	return &b
}

func TestBlockRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var got Day
	for i := range 20000 {
		b := randomBlock(rng)
		if b.Empty() {
			continue
		}
		enc := Append(nil, b)
		if err := Decode(enc, &got); err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
		if got != *b {
			t.Fatalf("block %d does not round-trip:\n got %v\nwant %v", i, got, *b)
		}
	}
}

func TestBlockSize(t *testing.T) {
	// A household day in Wh: the scale drops the three zeros, deltas fit
	// one or two bytes, a uniform quality needs no bitmap.
	var b Day
	for i := range b.Q {
		b.Q[i] = store.Measured
		b.E[i] = core.Energy(100+(i*37)%90) * core.Wh
	}
	enc := Append(nil, &b)
	if enc[0]&0x0f != 3 || enc[0]&hdrUniform == 0 {
		t.Errorf("header %#x: want scale 10^3 and uniform quality", enc[0])
	}
	if len(enc) > 1+2*SlotsPerDay {
		t.Errorf("household day takes %d bytes", len(enc))
	}
	// A night of zeros costs one byte per value.
	var night Day
	for i := range night.Q {
		night.Q[i] = store.Measured
	}
	if enc := Append(nil, &night); len(enc) != 1+SlotsPerDay {
		t.Errorf("a day of zeros takes %d bytes, want %d", len(enc), 1+SlotsPerDay)
	}
	// Mixed qualities add the 24-byte bitmap.
	b.Q[5] = store.Estimated
	if enc2 := Append(nil, &b); len(enc2) != len(enc)+BitmapLen {
		t.Errorf("with a bitmap: %d bytes, want %d", len(enc2), len(enc)+BitmapLen)
	}
}

func TestBlockCorrupt(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var got Day
	for range 100 {
		b := randomBlock(rng)
		if b.Empty() {
			continue
		}
		enc := Append(nil, b)
		for n := range len(enc) {
			if err := Decode(enc[:n], &got); err == nil {
				t.Fatalf("truncated to %d of %d bytes: no error", n, len(enc))
			}
		}
		if err := Decode(append(enc, 0), &got); err == nil {
			t.Fatal("trailing byte: no error")
		}
	}
	// uniform builds a block of 96 measured values at scale 10^k from
	// zigzag varints: first, then zeros.
	uniform := func(k byte, first uint64) []byte {
		enc := binary.AppendUvarint([]byte{hdrUniform | byte(store.Measured)<<hdrQualShift | k}, first)
		return append(enc, make([]byte, SlotsPerDay-1)...)
	}
	if err := Decode(uniform(3, 2), &got); err != nil || got.E[0] != 1000 {
		t.Fatalf("valid reference block: %v, %d", err, got.E[0])
	}
	bad := map[string][]byte{
		"future format":            {0x80},
		"uniform missing":          {hdrUniform},
		"value overflows at k=3":   uniform(3, 1<<62),         // 2^61 × 1000
		"value overflows at k=15":  uniform(15, 20_000),       // 10^4 × 10^15
		"negative overflow at k=1": uniform(1, 1<<63|1<<62-1), // about -2^62 × 10
		"empty":                    {},
	}
	for name, enc := range bad {
		if err := Decode(enc, &got); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// BenchmarkEncodeBlock and BenchmarkDecodeBlock measure the hot paths; both
// must not allocate.
func BenchmarkEncodeBlock(b *testing.B) {
	var blk Day
	for i := range blk.Q {
		blk.Q[i] = store.Measured
		blk.E[i] = core.Energy(100+(i*37)%90) * core.Wh
	}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = Append(buf[:0], &blk)
	}
	b.ReportMetric(float64(b.N*SlotsPerDay)/b.Elapsed().Seconds(), "values/s")
}

func BenchmarkDecodeBlock(b *testing.B) {
	var blk Day
	for i := range blk.Q {
		blk.Q[i] = store.Measured
		blk.E[i] = core.Energy(100+(i*37)%90) * core.Wh
	}
	enc := Append(nil, &blk)
	b.ReportAllocs()
	for b.Loop() {
		if err := Decode(enc, &blk); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*SlotsPerDay)/b.Elapsed().Seconds(), "values/s")
}

func TestBlockNoAllocs(t *testing.T) {
	var blk Day
	for i := range blk.Q {
		blk.Q[i] = store.Quality(i % 4)
		if blk.Q[i] != store.Missing {
			blk.E[i] = core.Energy(i * 1001)
		}
	}
	buf := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() {
		buf = Append(buf[:0], &blk)
		if err := Decode(buf, &blk); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("encode+decode allocate %v times", n)
	}
}

// TestScaleExp checks the scale exponent against its definition, the
// largest k <= 15 with 10^k dividing every present value: on random blocks,
// a day of zeros and values of each power of ten.
func TestScaleExp(t *testing.T) {
	want := func(b *Day) int {
		k := 0
		for k < maxScaleExp {
			for i, q := range b.Q {
				if q != store.Missing && int64(b.E[i])%pow10[k+1] != 0 {
					return k
				}
			}
			k++
		}
		return k
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var blocks []*Day
	for range 5000 {
		blocks = append(blocks, randomBlock(rng))
	}
	var zeros Day
	for i := range zeros.Q {
		zeros.Q[i] = store.Measured
	}
	blocks = append(blocks, &zeros)
	for k := range maxScaleExp + 1 {
		b := zeros
		b.E[7], b.E[50] = core.Energy(pow10[k]), -core.Energy(pow10[k])*3
		b.E[60] = core.Energy(pow10[maxScaleExp]) // larger scales do not raise it
		blocks = append(blocks, &b)
	}
	for i, b := range blocks {
		if got, w := scaleExp(b), want(b); got != w {
			t.Fatalf("block %d: scaleExp = %d, want %d", i, got, w)
		}
	}
}

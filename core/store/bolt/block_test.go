package bolt

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
func randomBlock(rng *rand.Rand) *dayBlock {
	var b dayBlock
	uniform := rng.IntN(2) == 0
	q0 := store.Quality(1 + rng.IntN(3))
	scale := core.Energy(1)
	for range rng.IntN(8) {
		scale *= 10
	}
	for i := range b.q {
		q := q0
		if !uniform {
			q = store.Quality(rng.IntN(4))
		}
		b.q[i] = q
		if q == store.Missing {
			continue
		}
		switch rng.IntN(6) {
		case 0:
			b.e[i] = core.Energy(rng.Int64())
		case 1:
			b.e[i] = -core.Energy(rng.Int64())
		case 2:
			b.e[i] = [...]core.Energy{math.MaxInt64, math.MinInt64, 0, -1, 1}[rng.IntN(5)]
		default:
			b.e[i] = core.Energy(rng.IntN(400)-20) * scale
		}
	}
	return &b
}

func TestBlockRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var got dayBlock
	for i := range 20000 {
		b := randomBlock(rng)
		if b.empty() {
			continue
		}
		enc := appendBlock(nil, b)
		if err := decodeBlock(enc, &got); err != nil {
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
	var b dayBlock
	for i := range b.q {
		b.q[i] = store.Measured
		b.e[i] = core.Energy(100+(i*37)%90) * core.Wh
	}
	enc := appendBlock(nil, &b)
	if enc[0]&0x0f != 3 || enc[0]&hdrUniform == 0 {
		t.Errorf("header %#x: want scale 10^3 and uniform quality", enc[0])
	}
	if len(enc) > 1+2*slotsPerDay {
		t.Errorf("household day takes %d bytes", len(enc))
	}
	// A night of zeros costs one byte per value.
	var night dayBlock
	for i := range night.q {
		night.q[i] = store.Measured
	}
	if enc := appendBlock(nil, &night); len(enc) != 1+slotsPerDay {
		t.Errorf("a day of zeros takes %d bytes, want %d", len(enc), 1+slotsPerDay)
	}
	// Mixed qualities add the 24-byte bitmap.
	b.q[5] = store.Estimated
	if enc2 := appendBlock(nil, &b); len(enc2) != len(enc)+bitmapLen {
		t.Errorf("with a bitmap: %d bytes, want %d", len(enc2), len(enc)+bitmapLen)
	}
}

func TestBlockCorrupt(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var got dayBlock
	for range 100 {
		b := randomBlock(rng)
		if b.empty() {
			continue
		}
		enc := appendBlock(nil, b)
		for n := range len(enc) {
			if err := decodeBlock(enc[:n], &got); err == nil {
				t.Fatalf("truncated to %d of %d bytes: no error", n, len(enc))
			}
		}
		if err := decodeBlock(append(enc, 0), &got); err == nil {
			t.Fatal("trailing byte: no error")
		}
	}
	// uniform builds a block of 96 measured values at scale 10^k from
	// zigzag varints: first, then zeros.
	uniform := func(k byte, first uint64) []byte {
		enc := binary.AppendUvarint([]byte{hdrUniform | byte(store.Measured)<<hdrQualShift | k}, first)
		return append(enc, make([]byte, slotsPerDay-1)...)
	}
	if err := decodeBlock(uniform(3, 2), &got); err != nil || got.e[0] != 1000 {
		t.Fatalf("valid reference block: %v, %d", err, got.e[0])
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
		if err := decodeBlock(enc, &got); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// BenchmarkEncodeBlock and BenchmarkDecodeBlock measure the hot paths; both
// must not allocate.
func BenchmarkEncodeBlock(b *testing.B) {
	var blk dayBlock
	for i := range blk.q {
		blk.q[i] = store.Measured
		blk.e[i] = core.Energy(100+(i*37)%90) * core.Wh
	}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = appendBlock(buf[:0], &blk)
	}
	b.ReportMetric(float64(b.N*slotsPerDay)/b.Elapsed().Seconds(), "values/s")
}

func BenchmarkDecodeBlock(b *testing.B) {
	var blk dayBlock
	for i := range blk.q {
		blk.q[i] = store.Measured
		blk.e[i] = core.Energy(100+(i*37)%90) * core.Wh
	}
	enc := appendBlock(nil, &blk)
	b.ReportAllocs()
	for b.Loop() {
		if err := decodeBlock(enc, &blk); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*slotsPerDay)/b.Elapsed().Seconds(), "values/s")
}

func TestBlockNoAllocs(t *testing.T) {
	var blk dayBlock
	for i := range blk.q {
		blk.q[i] = store.Quality(i % 4)
		if blk.q[i] != store.Missing {
			blk.e[i] = core.Energy(i * 1001)
		}
	}
	buf := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() {
		buf = appendBlock(buf[:0], &blk)
		if err := decodeBlock(buf, &blk); err != nil {
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
	want := func(b *dayBlock) int {
		k := 0
		for k < maxScaleExp {
			for i, q := range b.q {
				if q != store.Missing && int64(b.e[i])%pow10[k+1] != 0 {
					return k
				}
			}
			k++
		}
		return k
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var blocks []*dayBlock
	for range 5000 {
		blocks = append(blocks, randomBlock(rng))
	}
	var zeros dayBlock
	for i := range zeros.q {
		zeros.q[i] = store.Measured
	}
	blocks = append(blocks, &zeros)
	for k := range maxScaleExp + 1 {
		b := zeros
		b.e[7], b.e[50] = core.Energy(pow10[k]), -core.Energy(pow10[k])*3
		b.e[60] = core.Energy(pow10[maxScaleExp]) // larger scales do not raise it
		blocks = append(blocks, &b)
	}
	for i, b := range blocks {
		if got, w := scaleExp(b), want(b); got != w {
			t.Fatalf("block %d: scaleExp = %d, want %d", i, got, w)
		}
	}
}

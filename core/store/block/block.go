// Package block is the encoding of interval data that the stores share: one
// series' 96 values of one UTC day in one short byte string. The bbolt store
// keeps a block per key, the PostgreSQL store one per row; both therefore
// take a few bytes per value, and a copy between them moves blocks
// unchanged.
package block

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// A day block (Day) holds one series' 96 values of one UTC day (slots
// day*96 .. day*96+95). Its encoding:
//
//	byte 0     header: bits 0-3 scale exponent k (values are stored divided
//	           by 10^k, so Wh-resolution data in mWh costs nothing for the
//	           three trailing zeros); bit 4 set: every slot has the quality
//	           in bits 5-6 (no bitmap); bit 7 must be 0 (format version 1).
//	24 bytes   quality bitmap, 2 bits per slot (slot i in byte i/4, bits
//	           2*(i%4)), present only when bit 4 is clear.
//	varints    for each slot whose quality is not Missing, in slot order, the
//	           zigzag-encoded difference of its scaled value from the previous
//	           one (starting at 0), computed with wrap-around so that every
//	           int64 round-trips.
//
// Delta coding makes a flat night of zeros one byte per value and a
// household's 15-minute load one or two bytes.
const (
	// SlotsPerDay is the number of values in a block.
	SlotsPerDay = core.SlotsPerUTCDay
	// BitmapLen is the length of the quality bitmap.
	BitmapLen = SlotsPerDay / 4
)

const (
	hdrUniform   = 1 << 4
	hdrQualShift = 5
	hdrVersion   = 1 << 7
	maxScaleExp  = 15
)

// pow10 holds 10^k for the scale exponents.
var pow10 = func() (p [maxScaleExp + 1]int64) {
	v := int64(1)
	for i := range p {
		p[i] = v
		v *= 10
	}
	return p
}()

// Day is a decoded day block: E[i] and Q[i] belong to slot i of the day.
type Day struct {
	E [SlotsPerDay]core.Energy
	Q [SlotsPerDay]store.Quality
}

// Reset makes every slot Missing.
func (b *Day) Reset() {
	b.E = [SlotsPerDay]core.Energy{}
	b.Q = [SlotsPerDay]store.Quality{}
}

// Empty reports whether every slot is Missing.
func (b *Day) Empty() bool {
	for _, q := range b.Q {
		if q != store.Missing {
			return false
		}
	}
	return true
}

// ErrCorrupt is wrapped by every decoding error.
var ErrCorrupt = errors.New("corrupt interval block")

// Append appends the encoding of b to dst. b must not be empty.
func Append(dst []byte, b *Day) []byte {
	k := scaleExp(b)
	uniform := true
	q0 := b.Q[0]
	for _, q := range b.Q[1:] {
		if q != q0 {
			uniform = false
			break
		}
	}
	hdr := byte(k)
	if uniform {
		hdr |= hdrUniform | byte(q0&3)<<hdrQualShift
		dst = append(dst, hdr)
	} else {
		dst = append(dst, hdr)
		var bm [BitmapLen]byte
		for i, q := range b.Q {
			bm[i/4] |= byte(q&3) << (2 * (i % 4))
		}
		dst = append(dst, bm[:]...)
	}
	p := pow10[k]
	var prev uint64
	for i, q := range b.Q {
		if q == store.Missing {
			continue
		}
		v := uint64(int64(b.E[i]) / p)
		d := int64(v - prev)
		prev = v
		dst = binary.AppendUvarint(dst, uint64(d<<1)^uint64(d>>63))
	}
	return dst
}

// scaleExp returns the largest scale exponent k (at most maxScaleExp) such
// that 10^k divides every present value. It lowers k as values need it, so
// that each value costs one test (an all-zero channel none), each a
// division by a constant.
func scaleExp(b *Day) int {
	k := maxScaleExp
	for i, q := range b.Q {
		v := int64(b.E[i])
		if q == store.Missing || v == 0 {
			continue
		}
		for !divisiblePow10(v, k) {
			k--
		}
		if k == 0 {
			return 0
		}
	}
	return k
}

// divisiblePow10 reports whether 10^k divides v (k <= maxScaleExp); the
// constant divisors compile to multiplications.
func divisiblePow10(v int64, k int) bool {
	switch k {
	case 0:
		return true
	case 1:
		return v%10 == 0
	case 2:
		return v%100 == 0
	case 3:
		return v%1000 == 0
	case 4:
		return v%10000 == 0
	case 5:
		return v%100000 == 0
	case 6:
		return v%1000000 == 0
	case 7:
		return v%10000000 == 0
	case 8:
		return v%100000000 == 0
	case 9:
		return v%1000000000 == 0
	case 10:
		return v%10000000000 == 0
	case 11:
		return v%100000000000 == 0
	case 12:
		return v%1000000000000 == 0
	case 13:
		return v%10000000000000 == 0
	case 14:
		return v%100000000000000 == 0
	default:
		return v%1000000000000000 == 0
	}
}

// Decode decodes src into b.
func Decode(src []byte, b *Day) error {
	if len(src) == 0 {
		return fmt.Errorf("%w: empty", ErrCorrupt)
	}
	hdr := src[0]
	if hdr&hdrVersion != 0 {
		return fmt.Errorf("%w: unknown format (header %#x)", ErrCorrupt, hdr)
	}
	k := int(hdr & 0x0f)
	src = src[1:]
	if hdr&hdrUniform != 0 {
		q := store.Quality(hdr>>hdrQualShift) & 3
		if q == store.Missing {
			return fmt.Errorf("%w: no values", ErrCorrupt)
		}
		for i := range b.Q {
			b.Q[i] = q
		}
	} else {
		if len(src) < BitmapLen {
			return fmt.Errorf("%w: truncated quality bitmap", ErrCorrupt)
		}
		for i := range b.Q {
			b.Q[i] = store.Quality(src[i/4]>>(2*(i%4))) & 3
		}
		src = src[BitmapLen:]
	}
	p := pow10[k]
	var prev uint64
	for i, q := range b.Q {
		if q == store.Missing {
			b.E[i] = 0
			continue
		}
		u, n := Uvarint(src)
		if n <= 0 {
			return fmt.Errorf("%w: truncated value at slot %d of the day", ErrCorrupt, i)
		}
		src = src[n:]
		d := int64(u>>1) ^ -int64(u&1)
		prev += uint64(d)
		v := int64(prev)
		if k > 0 {
			hi, lo := bits.Mul64(uint64(abs(v)), uint64(p))
			if hi != 0 || lo > 1<<63 || (lo == 1<<63 && v > 0) {
				return fmt.Errorf("%w: value out of range at slot %d of the day", ErrCorrupt, i)
			}
			v *= p
		}
		b.E[i] = core.Energy(v)
	}
	if len(src) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(src))
	}
	return nil
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// Uvarint is binary.Uvarint with a fast path for one- and two-byte values,
// which are most of them.
func Uvarint(b []byte) (uint64, int) {
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	if len(b) > 1 && b[1] < 0x80 {
		return uint64(b[0]&0x7f) | uint64(b[1])<<7, 2
	}
	return binary.Uvarint(b)
}

// DayOf returns the UTC day number of slot s (floor division): its block
// holds slots DayOf(s)*SlotsPerDay and the 95 after it.
func DayOf(s core.Slot) int64 {
	d := int64(s) / SlotsPerDay
	if int64(s)%SlotsPerDay < 0 {
		d--
	}
	return d
}

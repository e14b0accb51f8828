package billing

import (
	"math/bits"

	"github.com/zevdesk/zevdesk/core"
)

// splitter divides an integer total into parts proportional to weights,
// exactly: each part gets floor(total·w/W) and the remaining units go to the
// largest remainders, ties to the lower index. It keeps its scratch space
// so that the per-slot loop does not allocate.
type splitter struct {
	rem  []uint64
	idx  []int
	vals []uint64
}

// split writes into out[i] the share of total (>= 0) for weights[i] (>= 0).
// If every weight is zero, out is all zeros and split returns false.
func (s *splitter) split(total int64, weights []int64, out []int64) bool {
	var sum uint64
	for _, w := range weights {
		sum += uint64(w)
	}
	for i := range out {
		out[i] = 0
	}
	if sum == 0 {
		return total == 0
	}
	if total == 0 {
		return true
	}
	if cap(s.rem) < len(weights) {
		s.rem = make([]uint64, len(weights))
		s.idx = make([]int, 0, len(weights))
	}
	rem := s.rem[:len(weights)]
	idx := s.idx[:0]
	var given int64
	t := uint64(total)
	for i, w := range weights {
		if w == 0 {
			rem[i] = 0
			continue
		}
		hi, lo := bits.Mul64(t, uint64(w))
		q, r := bits.Div64(hi, lo, sum) // hi < sum because w <= sum
		out[i] = int64(q)
		given += int64(q)
		rem[i] = r
		if r > 0 {
			idx = append(idx, i)
		}
	}
	left := total - given
	if left > 0 {
		if int(left) == len(idx) {
			for _, i := range idx {
				out[i]++
			}
		} else {
			// The left largest remainders get one more unit, ties to the
			// lower index. Selecting the threshold instead of sorting keeps
			// this linear in the number of consumers.
			vals := s.vals[:0]
			for _, i := range idx {
				vals = append(vals, rem[i])
			}
			th := selectKth(vals, len(vals)-int(left))
			s.vals = vals
			for _, i := range idx {
				if rem[i] > th {
					out[i]++
					left--
				}
			}
			for _, i := range idx {
				if left == 0 {
					break
				}
				if rem[i] == th {
					out[i]++
					left--
				}
			}
		}
	}
	s.idx = idx
	return true
}

// splitSigned is split for a total of either sign.
func (s *splitter) splitSigned(total int64, weights []int64, out []int64) bool {
	if total >= 0 {
		return s.split(total, weights, out)
	}
	ok := s.split(-total, weights, out)
	for i := range out {
		out[i] = -out[i]
	}
	return ok
}

// allocProportional gives consumer i its share of solar s (0 <= s <= Σc)
// proportional to c[i], exactly.
func (s *splitter) allocProportional(solar core.Energy, c, out []int64) {
	s.split(int64(solar), c, out)
}

// allocEqual shares solar equally among the consumers, none getting more
// than it used (water-filling): it finds the level L with Σ min(c_i, L) <=
// solar < Σ min(c_i, L+1), gives min(c_i, L) and the remaining mWh, one
// each, to the first consumers (by index) that use more than L.
func allocEqual(solar core.Energy, c, out []int64) {
	want := int64(solar)
	var hiL int64
	for _, v := range c {
		hiL = max(hiL, v)
	}
	fill := func(l int64) int64 {
		var sum int64
		for _, v := range c {
			sum += min(v, l)
		}
		return sum
	}
	lo, hi := int64(0), hiL
	for lo < hi { // largest L with fill(L) <= want
		mid := lo + (hi-lo+1)/2
		if fill(mid) <= want {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	left := want
	for i, v := range c {
		out[i] = min(v, lo)
		left -= out[i]
	}
	for i, v := range c {
		if left == 0 {
			break
		}
		if v > lo {
			out[i]++
			left--
		}
	}
}

// selectKth returns the k-th smallest value of v (0-based), reordering v:
// quickselect with a median-of-three pivot, linear on average.
func selectKth(v []uint64, k int) uint64 {
	lo, hi := 0, len(v)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		a, b, c := v[lo], v[mid], v[hi]
		p := max(min(a, b), min(max(a, b), c))
		i, j := lo, hi
		for i <= j {
			for v[i] < p {
				i++
			}
			for v[j] > p {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return v[k]
		}
	}
	return v[k]
}

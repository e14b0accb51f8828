//go:build !unix

package intake

import "time"

// cpuTime is not measured here: the benchmarks leave out their per-CPU
// figure.
func cpuTime() time.Duration { return 0 }

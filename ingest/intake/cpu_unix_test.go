//go:build unix

package intake

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this process has used (user and system), so that
// benchmarks can report throughput per CPU second, which a busy shared
// machine disturbs far less than wall-clock throughput.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

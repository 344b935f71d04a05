//go:build unix

package debezium

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user and system) the process has used. The
// benchmark reports events per CPU-second as well as per wall-clock second,
// since a shared machine's wall clock says little about the code.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

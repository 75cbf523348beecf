package harness

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is USER_HZ, the unit of /proc/stat and /proc/PID/stat; it is 100
// on every Linux architecture Go supports.
const clockTick = 100.0

// CPUTimes is a snapshot of the machine's CPU counters from /proc/stat.
type CPUTimes struct {
	Busy, Total float64 // seconds summed over all CPUs
}

// ReadCPUTimes reads the aggregate "cpu" line of /proc/stat.
func ReadCPUTimes() (CPUTimes, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return CPUTimes{}, err
	}
	return parseProcStat(b)
}

func parseProcStat(b []byte) (CPUTimes, error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 5 || f[0] != "cpu" {
		return CPUTimes{}, fmt.Errorf("harness: unexpected /proc/stat line %q", line)
	}
	var total, idle float64
	for i, s := range f[1:] {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return CPUTimes{}, fmt.Errorf("harness: /proc/stat field %q: %w", s, err)
		}
		// user nice system idle iowait irq softirq steal guest guest_nice;
		// guest time is already counted in user, so stop at steal.
		if i >= 8 {
			break
		}
		total += v
		if i == 3 || i == 4 {
			idle += v
		}
	}
	return CPUTimes{Busy: (total - idle) / clockTick, Total: total / clockTick}, nil
}

// IdlePct is the share of CPU time idle between two snapshots, in percent.
func IdlePct(a, b CPUTimes) float64 {
	dt := b.Total - a.Total
	if dt <= 0 {
		return 100
	}
	return min(max(100*(1-(b.Busy-a.Busy)/dt), 0), 100) // rounding can stray past the bounds
}

// MeasureIdle samples /proc/stat over d and returns the idle percentage.
func MeasureIdle(ctx context.Context, d time.Duration) float64 {
	a, err := ReadCPUTimes()
	if err != nil {
		return -1
	}
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
	b, err := ReadCPUTimes()
	if err != nil {
		return -1
	}
	return IdlePct(a, b)
}

// WaitIdle waits, up to maxWait, until the machine is at least minPct idle
// over a 250 ms window, and returns the last idle figure seen.
func WaitIdle(ctx context.Context, minPct float64, maxWait time.Duration) float64 {
	deadline := time.Now().Add(maxWait)
	for {
		idle := MeasureIdle(ctx, 250*time.Millisecond)
		if idle >= minPct || time.Now().After(deadline) || ctx.Err() != nil {
			return idle
		}
	}
}

// ProcCPU returns the user+system CPU seconds process pid has used, from
// /proc/PID/stat.
func ProcCPU(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parsePIDStat(b)
}

func parsePIDStat(b []byte) (float64, error) {
	// The command name is in parentheses and may hold spaces: fields
	// restart after the last ')'. utime and stime are fields 14 and 15,
	// i.e. the 12th and 13th after the name.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("harness: unexpected /proc/PID/stat %q", b)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("harness: short /proc/PID/stat %q", b)
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("harness: /proc/PID/stat times %q %q", f[11], f[12])
	}
	return (ut + st) / clockTick, nil
}

// ProcStatusKB returns a "kB" field (VmRSS, VmHWM) of /proc/PID/status;
// pid 0 means this process.
func ProcStatusKB(pid int, field string) (int64, error) {
	p := "/proc/self/status"
	if pid != 0 {
		p = fmt.Sprintf("/proc/%d/status", pid)
	}
	f, err := os.Open(p)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return parseStatusKB(f, field)
}

func parseStatusKB(f io.Reader, field string) (int64, error) {
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != field {
			continue
		}
		v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))
		return strconv.ParseInt(v, 10, 64)
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("harness: no %s in status", field)
}

// selfRSSBytes is this process's resident set now, in bytes (0 if unknown).
func selfRSSBytes() int64 {
	kb, err := ProcStatusKB(0, "VmRSS")
	if err != nil {
		return 0
	}
	return kb * 1024
}

// rusageCPU is user+system seconds of a rusage.
func rusageCPU(ru *syscall.Rusage) float64 {
	if ru == nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// selfCPU is this process's own CPU seconds so far.
func selfCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return rusageCPU(&ru)
}

package harness

import (
	"math"
	"os"
	"strings"
	"testing"
)

func TestParseProcStat(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice
	b := []byte("cpu  100 0 50 800 50 0 0 0 30 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n")
	got, err := parseProcStat(b)
	if err != nil {
		t.Fatal(err)
	}
	// guest is inside user already and must not count twice.
	if got.Total != 10 || got.Busy != 1.5 {
		t.Fatalf("got %+v, want Total 10 s, Busy 1.5 s", got)
	}
	if _, err := parseProcStat([]byte("intr 1 2 3\n")); err == nil {
		t.Fatal("a line other than cpu must be an error")
	}
	a := CPUTimes{Busy: 10, Total: 20}
	c := CPUTimes{Busy: 11, Total: 24}
	if got := IdlePct(a, c); got != 75 {
		t.Fatalf("IdlePct = %v, want 75", got)
	}
	// Fully busy, in tick sums that do not add up exactly in floating point.
	for _, busy := range []float64{0.1, 0.2, 0.3, 0.7, 1.1} {
		if got := IdlePct(CPUTimes{Busy: busy, Total: busy}, CPUTimes{Busy: 3 * busy, Total: 3 * busy}); got < 0 || got > 1e-9 {
			t.Fatalf("fully busy IdlePct = %v, want 0", got)
		}
	}
}

func TestParsePIDStat(t *testing.T) {
	// A command name with spaces and a ')' must not shift the fields.
	f := make([]string, 13)
	for i := range f {
		f[i] = "0"
	}
	f[11], f[12] = "150", "50" // utime, stime
	b := []byte("1234 (my (odd) cmd) " + strings.Join(f, " ") + " 0 0 0")
	got, err := parsePIDStat(b)
	if err != nil {
		t.Fatal(err)
	}
	if got != 2 {
		t.Fatalf("cpu = %v s, want 2", got)
	}
	if _, err := parsePIDStat([]byte("garbage")); err == nil {
		t.Fatal("garbage must be an error")
	}
}

func TestParseStatusKB(t *testing.T) {
	in := "Name:\tx\nVmHWM:\t   2048 kB\nVmRSS:\t  1024 kB\n"
	got, err := parseStatusKB(strings.NewReader(in), "VmRSS")
	if err != nil || got != 1024 {
		t.Fatalf("VmRSS = %d, %v", got, err)
	}
	if _, err := parseStatusKB(strings.NewReader(in), "VmSwap"); err == nil {
		t.Fatal("a missing field must be an error")
	}
}

func TestProcOfThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	if kb, err := ProcStatusKB(0, "VmRSS"); err != nil || kb <= 0 {
		t.Fatalf("own VmRSS = %d, %v", kb, err)
	}
	if cpu, err := ProcCPU(os.Getpid()); err != nil || cpu < 0 || math.IsNaN(cpu) {
		t.Fatalf("own CPU = %v, %v", cpu, err)
	}
	c, err := ReadCPUTimes()
	if err != nil || c.Total <= 0 || c.Busy > c.Total {
		t.Fatalf("machine CPU = %+v, %v", c, err)
	}
}

package harness

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Status is how a sample ended.
type Status string

// Sample statuses.
const (
	StatusOK          Status = "ok"
	StatusFailed      Status = "failed"      // the variant ran and did wrong work, or crashed
	StatusUnavailable Status = "unavailable" // not implemented in this build, or its runtime is missing
	StatusSkipped     Status = "skipped"     // the time budget ran out before it
)

// Sample is one measurement of one variant: one line of samples.jsonl.
type Sample struct {
	Kind     string    `json:"kind"` // "sample"
	Time     time.Time `json:"time"`
	Workload string    `json:"workload"`
	Config   string    `json:"config,omitempty"`
	Variant  string    `json:"variant"`
	Lang     string    `json:"lang"`
	Ours     bool      `json:"ours,omitempty"`
	Rep      int       `json:"rep"`
	N        int       `json:"n,omitempty"`
	Status   Status    `json:"status"`
	Error    string    `json:"error,omitempty"`
	// Metrics by name (see MetricInfo).
	Metrics map[string]float64 `json:"metrics,omitempty"`
	// WallSec is the lifetime of the measured processes, the window the
	// noise figures cover.
	WallSec float64 `json:"wall_sec,omitempty"`
	// PreIdlePct is the machine's idle share just before the sample.
	PreIdlePct float64 `json:"pre_idle_pct"`
	// OtherCores is the CPU the rest of the machine used during it.
	OtherCores float64 `json:"other_cpu_cores"`
	// NoiseValid says the sample lasted long enough for OtherCores to
	// mean something; Noisy that it exceeded the noise threshold.
	NoiseValid bool `json:"noise_valid"`
	Noisy      bool `json:"noisy"`
}

// Env describes the machine and the run: the first line of samples.jsonl.
type Env struct {
	Kind       string    `json:"kind"` // "env"
	Time       time.Time `json:"time"`
	GoVersion  string    `json:"go_version"`
	GOMAXPROCS int       `json:"gomaxprocs"`
	NumCPU     int       `json:"num_cpu"`
	CPUModel   string    `json:"cpu_model,omitempty"`
	Kernel     string    `json:"kernel,omitempty"`
	Python     string    `json:"python,omitempty"` // version line, or why it is unavailable
	Quick      bool      `json:"quick"`
	Reps       int       `json:"reps"`
	Args       []string  `json:"args"`
	Commit     string    `json:"commit,omitempty"`
	Note       string    `json:"note,omitempty"`
}

// MetricInfo describes a metric for tables and charts.
type MetricInfo struct {
	Label string
	// Lower is better (times, memory); false for rates.
	Lower bool
}

// Metrics is every metric the harness and its variants report.
var Metrics = map[string]MetricInfo{
	"ns_per_op":          {"ns/op", true},
	"allocs_per_op":      {"allocs/op", true},
	"wall_ms":            {"wall ms", true},
	"peak_rss_kb":        {"peak RSS kB", true},
	"rss_bytes_per_task": {"RSS B/task", true},
	"msgs_per_s":         {"msgs/s", false},
	"mb_per_s":           {"MB/s", false},
	"p50_us":             {"p50 us", true},
	"p99_us":             {"p99 us", true},
	"server_cpu":         {"server CPU", true},
	"client_cpu":         {"client CPU", true},
	"server_rss_kb":      {"server RSS kB", true},
	"pages_per_s":        {"pages/s", false},
	"pages":              {"pages", false},
	"req_per_s":          {"req/s", false},
	"server_us_per_req":  {"server CPU us/req", true},
}

// Label returns a metric's column label (its name if unknown).
func Label(metric string) string {
	if m, ok := Metrics[metric]; ok {
		return m.Label
	}
	return metric
}

// JSONLWriter writes records one JSON object per line.
type JSONLWriter struct {
	w   io.Writer
	enc *json.Encoder
}

// NewJSONLWriter returns a writer of JSON lines to w.
func NewJSONLWriter(w io.Writer) *JSONLWriter {
	return &JSONLWriter{w: w, enc: json.NewEncoder(w)}
}

// Write writes one record.
func (j *JSONLWriter) Write(rec any) error { return j.enc.Encode(rec) }

// ReadSamples reads a samples.jsonl stream: the env line (if any) and the
// samples, skipping records of other kinds.
func ReadSamples(r io.Reader) (Env, []Sample, error) {
	var env Env
	var out []Sample
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 4<<20)
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		var k struct {
			Kind string `json:"kind"`
		}
		if err := json.Unmarshal(b, &k); err != nil {
			return env, nil, fmt.Errorf("harness: line %d: %w", line, err)
		}
		switch k.Kind {
		case "env":
			if err := json.Unmarshal(b, &env); err != nil {
				return env, nil, fmt.Errorf("harness: line %d: %w", line, err)
			}
		case "sample":
			var s Sample
			if err := json.Unmarshal(b, &s); err != nil {
				return env, nil, fmt.Errorf("harness: line %d: %w", line, err)
			}
			out = append(out, s)
		}
	}
	return env, out, sc.Err()
}

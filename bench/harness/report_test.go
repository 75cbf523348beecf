package harness

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func reportWorkload() (*Workload, []*Variant) {
	w := &Workload{Name: "spawn", Title: "Spawn things.", Kind: Micro, Ref: "ref", Primary: "ns_per_op",
		Ratios: []string{"ns_per_op"}, Columns: []string{"ns_per_op", "peak_rss_kb"}}
	vs := []*Variant{
		{Workload: "spawn", Name: "ref", Lang: LangGo},
		{Workload: "spawn", Name: "ours", Lang: LangGo, Ours: true},
		{Workload: "spawn", Name: "noisy", Lang: LangGo},
		{Workload: "spawn", Name: "broken", Lang: LangGo},
		{Workload: "spawn", Name: "later", Lang: LangGo, Ours: true, Missing: "not merged yet"},
		{Workload: "spawn", Name: "gevent", Lang: LangPython},
		{Workload: "spawn", Name: "lonely", Lang: LangGo},
	}
	return w, vs
}

func ok(variant string, rep int, ns float64, noisy bool) Sample {
	return Sample{Kind: "sample", Workload: "spawn", Variant: variant, Rep: rep, N: 1000, Status: StatusOK, Noisy: noisy,
		NoiseValid: true, OtherCores: map[bool]float64{true: 0.9, false: 0.1}[noisy],
		Metrics: map[string]float64{"ns_per_op": ns, "peak_rss_kb": 1000}}
}

func reportSamples() []Sample {
	return []Sample{
		{Kind: "sample", Workload: "spawn", Variant: "later", Status: StatusUnavailable, Error: "not merged yet"},
		{Kind: "sample", Workload: "spawn", Variant: "gevent", Status: StatusUnavailable, Error: "python3 cannot import gevent"},
		ok("ref", 0, 100, false), ok("ref", 1, 200, false), ok("ref", 2, 150, true),
		ok("ours", 0, 300, false), ok("ours", 1, 400, false), ok("ours", 2, 10, false),
		ok("noisy", 0, 50, true), ok("noisy", 1, 70, true),
		ok("lonely", 2, 300, false), // quiet only where the reference was noisy
		{Kind: "sample", Workload: "spawn", Variant: "broken", Rep: 0, Status: StatusFailed, Error: "counted 9, want 10"},
		{Kind: "sample", Workload: "spawn", Variant: "broken", Rep: 1, Status: StatusFailed, Error: "counted 9, want 10"},
	}
}

func TestBuildRows(t *testing.T) {
	w, vs := reportWorkload()
	rows := BuildRows(w, vs, reportSamples())
	by := map[string]Row{}
	for _, r := range rows {
		by[r.Variant] = r
	}
	if len(rows) != len(vs) {
		t.Fatalf("%d rows, want %d", len(rows), len(vs))
	}
	ref := by["ref"]
	if ref.Status != StatusOK || ref.Runs != 2 || ref.Noisy != 1 || !ref.Ref {
		t.Errorf("ref row %+v: want 2 runs, 1 noisy dropped", ref)
	}
	if m := ref.Metrics["ns_per_op"]; m.Median != 150 || m.Min != 100 || m.Max != 200 {
		t.Errorf("ref ns/op %+v", m)
	}
	ours := by["ours"]
	// Rep 2 of ours has no kept reference (it was noisy), so only reps 0
	// and 1 pair up: 300/100 and 400/200.
	if r := ours.Ratios["ns_per_op"]; r.N != 2 || r.Min != 2 || r.Max != 3 || r.Median != 2.5 {
		t.Errorf("ours ratio %+v, want pairs 2 and 3", r)
	}
	if m := ours.Metrics["ns_per_op"]; m.N != 3 || m.Median != 300 {
		t.Errorf("ours ns/op %+v", m)
	}
	noisy := by["noisy"]
	if noisy.Status != StatusOK || !noisy.AllNoisy || noisy.Runs != 2 || !strings.Contains(noisy.Note, "all samples noisy") {
		t.Errorf("all-noisy row %+v", noisy)
	}
	lonely := by["lonely"]
	if r := lonely.Ratios["ns_per_op"]; r.N != 1 || r.Median != 2 || !strings.Contains(lonely.Note, "x ref from noisy pairs") {
		t.Errorf("lonely row %+v: with no quiet pair the ratio must come from the noisy pair, and say so", lonely)
	}
	if r := by["ours"].Ratios["ns_per_op"]; r.N != 2 || strings.Contains(by["ours"].Note, "noisy pairs") {
		t.Errorf("quiet pairs exist for ours: the noisy ones must not be used (%+v)", r)
	}
	broken := by["broken"]
	if broken.Status != StatusFailed || broken.Failed != 2 || broken.Note != "counted 9, want 10" || broken.Metrics != nil {
		t.Errorf("failed row %+v: must carry the error and no numbers", broken)
	}
	if later := by["later"]; later.Status != StatusUnavailable || later.Note != "not merged yet" {
		t.Errorf("slot row %+v", later)
	}
	if g := by["gevent"]; g.Status != StatusUnavailable || g.Note != "python3 cannot import gevent" {
		t.Errorf("python row %+v", g)
	}
}

func TestBuildRowsEchoConfigs(t *testing.T) {
	w := &Workload{Name: "echo", Kind: Echo, Ref: "gnet", Primary: "msgs_per_s", Ratios: []string{"msgs_per_s"}, Columns: []string{"msgs_per_s"}}
	vs := []*Variant{{Workload: "echo", Name: "gnet"}, {Workload: "echo", Name: "std"}, {Workload: "echo", Name: "slot", Missing: "later"}}
	s := func(v, cfg string, rep int, x float64) Sample {
		return Sample{Workload: "echo", Variant: v, Config: cfg, Rep: rep, Status: StatusOK, Metrics: map[string]float64{"msgs_per_s": x}}
	}
	samples := []Sample{
		{Workload: "echo", Variant: "slot", Status: StatusUnavailable, Error: "later"},
		s("gnet", "c100_s64", 0, 100), s("std", "c100_s64", 0, 50),
		s("gnet", "c1000_s64", 0, 100), s("std", "c1000_s64", 0, 200),
	}
	rows := BuildRows(w, vs, samples)
	if len(rows) != 6 {
		t.Fatalf("%d rows, want 2 configs x 3 variants", len(rows))
	}
	want := []struct {
		cfg, v string
		ratio  float64
		status Status
	}{
		{"c100_s64", "gnet", 1, StatusOK}, {"c100_s64", "std", 0.5, StatusOK}, {"c100_s64", "slot", 0, StatusUnavailable},
		{"c1000_s64", "gnet", 1, StatusOK}, {"c1000_s64", "std", 2, StatusOK}, {"c1000_s64", "slot", 0, StatusUnavailable},
	}
	for i, w := range want {
		r := rows[i]
		if r.Config != w.cfg || r.Variant != w.v || r.Status != w.status || (w.status == StatusOK && r.Ratios["msgs_per_s"].Median != w.ratio) {
			t.Errorf("row %d = %s %s %s ratio %+v; want %+v", i, r.Config, r.Variant, r.Status, r.Ratios["msgs_per_s"], w)
		}
	}
}

func TestWriteMarkdown(t *testing.T) {
	w, vs := reportWorkload()
	rows := BuildRows(w, vs, reportSamples())
	var b bytes.Buffer
	env := Env{Time: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), GoVersion: "go1.26", GOMAXPROCS: 2, NumCPU: 2, Reps: 3,
		Args: []string{"-reps", "3"}, Commit: "abc1234"}
	if err := WriteMarkdown(&b, env, []Section{{Workload: w, Rows: rows, Chart: "spawn.png"}}); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"## spawn (n=1,000)",
		"![spawn](spawn.png)",
		"| variant | lang | runs | ns/op | x ref | peak RSS kB | others | note |",
		"| ref (ref) | go | 2 | 150 (100-200) | 1.00 | 1000 (1000-1000) | 0.1 (0.1-0.1) | 1 noisy dropped |",
		"| **ours** (ours) | go | 3 | 300 (10.0-400) | 2.50 (2.00-3.00) |",
		"| broken | go | - | FAILED |  |  |  | counted 9, want 10 |",
		"| **later** (ours) | go | - | not available |  |  |  | not merged yet |",
		"2026-01-02 03:04 UTC",
		"Command: `go run ./bench -reps 3` (from bench/) at commit abc1234.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	// Every table line has the header's number of cells.
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "| ") && strings.Count(l, " | ") != 7 {
			t.Errorf("ragged table line %q", l)
		}
	}
}

func TestFormatNum(t *testing.T) {
	for _, c := range []struct {
		x    float64
		want string
	}{
		{0, "0"}, {0.000123456, "0.000123"}, {1.234, "1.23"}, {12.34, "12.3"}, {123.4, "123"},
		{99999, "99999"}, {253442, "253,442"}, {1234567.8, "1,234,568"}, {-150000, "-150,000"},
	} {
		if got := FormatNum(c.x); got != c.want {
			t.Errorf("FormatNum(%v) = %q, want %q", c.x, got, c.want)
		}
	}
	if got := FormatStat(Stat{}); got != "-" {
		t.Errorf("empty stat %q", got)
	}
}

func TestJSONLRoundTrip(t *testing.T) {
	var b bytes.Buffer
	jw := NewJSONLWriter(&b)
	env := Env{Kind: "env", GoVersion: "go1.26", Reps: 3}
	if err := jw.Write(env); err != nil {
		t.Fatal(err)
	}
	in := reportSamples()
	for _, s := range in {
		if err := jw.Write(s); err != nil {
			t.Fatal(err)
		}
	}
	jw.Write(Row{Kind: "row", Variant: "x"}) // other kinds are skipped
	gotEnv, got, err := ReadSamples(&b)
	if err != nil {
		t.Fatal(err)
	}
	if gotEnv.GoVersion != "go1.26" || gotEnv.Reps != 3 {
		t.Errorf("env %+v", gotEnv)
	}
	if len(got) != len(in) {
		t.Fatalf("%d samples back, want %d", len(got), len(in))
	}
	for i := range in {
		if got[i].Variant != in[i].Variant || got[i].Status != in[i].Status || got[i].Metrics["ns_per_op"] != in[i].Metrics["ns_per_op"] {
			t.Errorf("sample %d: %+v, want %+v", i, got[i], in[i])
		}
	}
	if _, _, err := ReadSamples(strings.NewReader("{not json\n")); err == nil {
		t.Error("bad JSON must be an error")
	}
}

func TestWriteChart(t *testing.T) {
	w, vs := reportWorkload()
	rows := BuildRows(w, vs, reportSamples())
	file := filepath.Join(t.TempDir(), "spawn.png")
	ok, err := WriteChart(file, w, rows)
	if err != nil || !ok {
		t.Fatalf("WriteChart = %v, %v", ok, err)
	}
	b, err := os.ReadFile(file)
	if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Fatalf("not a PNG (%v)", err)
	}
	// Nothing measured: no chart.
	ok, err = WriteChart(filepath.Join(t.TempDir(), "none.png"), w, rows[4:5])
	if err != nil || ok {
		t.Fatalf("chart of unavailable rows = %v, %v", ok, err)
	}
}

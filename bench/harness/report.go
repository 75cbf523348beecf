package harness

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Row is the summary of one variant (at one echo configuration): a line of
// summary.jsonl and of the Markdown table.
type Row struct {
	Kind     string `json:"kind"` // "row"
	Workload string `json:"workload"`
	Config   string `json:"config,omitempty"`
	Variant  string `json:"variant"`
	Lang     string `json:"lang"`
	Ours     bool   `json:"ours,omitempty"`
	Ref      bool   `json:"ref,omitempty"`
	N        int    `json:"n,omitempty"`
	Status   Status `json:"status"`
	// Note says why a row has no numbers, or which samples were left out.
	Note string `json:"note,omitempty"`
	// Runs counts the samples the statistics use; Noisy the noisy ones left
	// out; Failed the failed ones.
	Runs   int `json:"runs"`
	Noisy  int `json:"noisy,omitempty"`
	Failed int `json:"failed,omitempty"`
	// AllNoisy: every good sample was noisy, so the statistics use them all.
	AllNoisy bool            `json:"all_noisy,omitempty"`
	Metrics  map[string]Stat `json:"metrics,omitempty"`
	// Ratios are per-pair ratios to the reference (variant ÷ reference of
	// the same repetition), by metric.
	Ratios  map[string]Stat `json:"ratios,omitempty"`
	Others  Stat            `json:"other_cpu_cores"`
	PreIdle Stat            `json:"pre_idle_pct"`
}

// BuildRows summarizes the samples of one workload: one row per
// configuration and variant, in the order of variants, configurations in the
// order they first appear.
func BuildRows(w *Workload, variants []*Variant, samples []Sample) []Row {
	var configs []string
	by := map[string][]Sample{} // config + "\x00" + variant
	for _, s := range samples {
		if s.Workload != w.Name {
			continue
		}
		if !slices.Contains(configs, s.Config) && s.Status != StatusUnavailable {
			configs = append(configs, s.Config)
		}
		by[s.Config+"\x00"+s.Variant] = append(by[s.Config+"\x00"+s.Variant], s)
	}
	if len(configs) == 0 {
		configs = []string{""}
	}
	var rows []Row
	for _, cfg := range configs {
		kept := map[string][]Sample{}
		for _, v := range variants {
			kept[v.Name] = keptSamples(by[cfg+"\x00"+v.Name])
		}
		for _, v := range variants {
			ss := by[cfg+"\x00"+v.Name]
			if len(ss) == 0 {
				// Unavailable variants are recorded once, without a config.
				ss = by["\x00"+v.Name]
			}
			refAll := by[cfg+"\x00"+w.Ref]
			rows = append(rows, buildRow(w, v, cfg, ss, kept[v.Name], kept[w.Ref], refAll))
		}
	}
	return rows
}

// keptSamples are the good samples the statistics use: the ok ones that
// are not noisy, or all ok ones if every one of them was noisy.
func keptSamples(ss []Sample) []Sample {
	var ok, quiet []Sample
	for _, s := range ss {
		if s.Status != StatusOK {
			continue
		}
		ok = append(ok, s)
		if !s.Noisy {
			quiet = append(quiet, s)
		}
	}
	if len(quiet) > 0 {
		return quiet
	}
	return ok
}

// buildRow summarizes one variant: ss are all its samples, kept the ones
// the statistics use, ref the reference's kept samples and refAll all of
// the reference's samples.
func buildRow(w *Workload, v *Variant, cfg string, ss, kept, ref, refAll []Sample) Row {
	r := Row{Kind: "row", Workload: w.Name, Config: cfg, Variant: v.Name, Lang: v.Lang, Ours: v.Ours, Ref: v.Name == w.Ref}
	var errs []string
	skipped := ""
	for _, s := range ss {
		if s.N > 0 {
			r.N = s.N
		}
		switch s.Status {
		case StatusSkipped:
			skipped = s.Error
		case StatusFailed:
			r.Failed++
			if !slices.Contains(errs, s.Error) {
				errs = append(errs, s.Error)
			}
		case StatusOK:
			if s.Noisy {
				r.Noisy++
			}
		}
	}
	if len(kept) == 0 {
		switch {
		case v.Missing != "":
			r.Status, r.Note = StatusUnavailable, v.Missing
		case r.Failed > 0:
			r.Status, r.Note = StatusFailed, strings.Join(errs, "; ")
		case len(ss) > 0 && ss[0].Status == StatusUnavailable:
			r.Status, r.Note = StatusUnavailable, ss[0].Error
		default:
			r.Status, r.Note = StatusSkipped, or(skipped, "no sample")
		}
		return r
	}
	r.Status = StatusOK
	r.Runs = len(kept)
	r.AllNoisy = len(kept) > 0 && kept[0].Noisy
	if r.AllNoisy {
		r.Noisy = 0
	}
	var notes []string
	if r.Noisy > 0 {
		notes = append(notes, fmt.Sprintf("%d noisy dropped", r.Noisy))
	}
	if r.AllNoisy {
		notes = append(notes, "all samples noisy")
	}
	if r.Failed > 0 {
		notes = append(notes, fmt.Sprintf("%d failed: %s", r.Failed, strings.Join(errs, "; ")))
	}
	r.Metrics = map[string]Stat{}
	for _, m := range w.Columns {
		r.Metrics[m] = Summarize(values(kept, m))
	}
	r.Ratios = map[string]Stat{}
	noisyPairs := false
	for _, m := range w.Ratios {
		st := Summarize(PairRatios(byRep(kept, m), byRep(ref, m)))
		if st.N == 0 && !r.Ref {
			// No rep where both samples were quiet: the two samples of a
			// rep ran back to back under much the same load, so their
			// ratio still says something; the note says it is from noisy
			// pairs.
			st = Summarize(PairRatios(byRep(okSamples(ss), m), byRep(okSamples(refAll), m)))
			noisyPairs = noisyPairs || st.N > 0
		}
		r.Ratios[m] = st
	}
	if noisyPairs {
		notes = append(notes, "x ref from noisy pairs")
	}
	r.Note = strings.Join(notes, "; ")
	var others, idle []float64
	for _, s := range kept {
		if s.NoiseValid {
			others = append(others, s.OtherCores)
		}
		idle = append(idle, s.PreIdlePct)
	}
	r.Others, r.PreIdle = Summarize(others), Summarize(idle)
	return r
}

func okSamples(ss []Sample) []Sample {
	var out []Sample
	for _, s := range ss {
		if s.Status == StatusOK {
			out = append(out, s)
		}
	}
	return out
}

func values(ss []Sample, m string) []float64 {
	var out []float64
	for _, s := range ss {
		if v, ok := s.Metrics[m]; ok {
			out = append(out, v)
		}
	}
	return out
}

func byRep(ss []Sample, m string) map[int]float64 {
	out := map[int]float64{}
	for _, s := range ss {
		if v, ok := s.Metrics[m]; ok {
			out[s.Rep] = v
		}
	}
	return out
}

// WriteMarkdown writes one table per workload.
func WriteMarkdown(out io.Writer, env Env, sections []Section) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# gevent-go side-by-side benchmarks\n\n")
	fmt.Fprintf(&b, "Run %s: %s, GOMAXPROCS=%d on %d CPUs (%s), kernel %s; Python: %s. Mode: %s, %d reps.\n\n",
		env.Time.UTC().Format("2006-01-02 15:04 UTC"), env.GoVersion, env.GOMAXPROCS, env.NumCPU, or(env.CPUModel, "?"),
		or(env.Kernel, "?"), or(env.Python, "not checked"), map[bool]string{true: "quick", false: "full"}[env.Quick], env.Reps)
	cmd := strings.TrimSpace("go run ./bench " + strings.Join(env.Args, " "))
	fmt.Fprintf(&b, "Command: `%s` (from bench/)", cmd)
	if env.Commit != "" {
		fmt.Fprintf(&b, " at commit %s", env.Commit)
	}
	b.WriteString(".\n\n")
	fmt.Fprintf(&b, "Each cell is median (min-max) over the runs kept. \"x ref\" is the median (min-max) of per-pair ratios: "+
		"variant ÷ reference from the same repetition. \"others\" is the CPU (cores) the rest of the machine used during a sample; "+
		"samples above %.2g cores (and at least %.2g s long) are dropped as noisy. Rows marked ours are gevent-go.\n",
		DefaultNoise.MaxOtherCores, DefaultNoise.MinWallSec)
	if env.Note != "" {
		fmt.Fprintf(&b, "\n%s\n", env.Note)
	}
	for _, s := range sections {
		writeSection(&b, s)
	}
	_, err := io.WriteString(out, b.String())
	return err
}

// Section is one workload's rows and chart.
type Section struct {
	Workload *Workload
	Rows     []Row
	Chart    string // file name of the chart, if any
}

func writeSection(b *strings.Builder, s Section) {
	w := s.Workload
	n := 0
	for _, r := range s.Rows {
		n = max(n, r.N)
	}
	fmt.Fprintf(b, "\n## %s", w.Name)
	if n > 0 && w.Kind == Micro {
		fmt.Fprintf(b, " (n=%s)", groupDigits(strconv.Itoa(n)))
	}
	fmt.Fprintf(b, "\n\n%s Reference: %s.\n\n", w.Title, w.Ref)
	if s.Chart != "" {
		fmt.Fprintf(b, "![%s](%s)\n\n", w.Name, s.Chart)
	}
	head := []string{}
	switch w.Kind {
	case Echo:
		head = append(head, "conns", "size")
	case HTTP:
		head = append(head, "conns")
	}
	head = append(head, "variant", "lang", "runs")
	for _, m := range w.Columns {
		head = append(head, Label(m))
		if slices.Contains(w.Ratios, m) {
			head = append(head, "x ref")
		}
	}
	head = append(head, "others", "note")
	b.WriteString("| " + strings.Join(head, " | ") + " |\n|")
	b.WriteString(strings.Repeat("---|", len(head)) + "\n")
	for _, r := range s.Rows {
		var cells []string
		switch c := ParseEchoConfig(r.Config); w.Kind {
		case Echo:
			cells = append(cells, strconv.Itoa(c.Conns), strconv.Itoa(c.Size))
		case HTTP:
			cells = append(cells, strconv.Itoa(c.Conns))
		}
		name := r.Variant
		if r.Ours {
			name = "**" + name + "** (ours)"
		}
		if r.Ref {
			name += " (ref)"
		}
		cells = append(cells, name, r.Lang)
		if r.Status != StatusOK {
			cells = append(cells, "-")
			label := map[Status]string{StatusUnavailable: "not available", StatusFailed: "FAILED", StatusSkipped: "skipped"}[r.Status]
			for _, m := range w.Columns {
				cells = append(cells, "")
				if slices.Contains(w.Ratios, m) {
					cells = append(cells, "")
				}
			}
			cells[len(cells)-countCols(w)] = label
			cells = append(cells, "", escape(r.Note))
			b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
			continue
		}
		runs := strconv.Itoa(r.Runs)
		cells = append(cells, runs)
		for _, m := range w.Columns {
			cells = append(cells, FormatStat(r.Metrics[m]))
			if slices.Contains(w.Ratios, m) {
				if r.Ref {
					cells = append(cells, "1.00")
				} else {
					cells = append(cells, FormatStat(r.Ratios[m]))
				}
			}
		}
		cells = append(cells, FormatStat(r.Others), escape(r.Note))
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
}

// countCols is the number of metric and ratio cells of a row.
func countCols(w *Workload) int {
	n := len(w.Columns)
	for _, m := range w.Columns {
		if slices.Contains(w.Ratios, m) {
			n++
		}
	}
	return n
}

func escape(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 300 {
		s = s[:297] + "..."
	}
	return s
}

func or(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// FormatStat prints "median (min-max)", or just the median for one value,
// or "-" for none.
func FormatStat(s Stat) string {
	switch s.N {
	case 0:
		return "-"
	case 1:
		return FormatNum(s.Median)
	}
	return fmt.Sprintf("%s (%s-%s)", FormatNum(s.Median), FormatNum(s.Min), FormatNum(s.Max))
}

// FormatNum prints about three significant digits, whole numbers from 100
// up, with thousands grouped from 100,000 up.
func FormatNum(x float64) string {
	a := math.Abs(x)
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return "-"
	case a >= 100000:
		return groupDigits(strconv.FormatFloat(math.Round(x), 'f', 0, 64))
	case a >= 100:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(x, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(x, 'f', 2, 64)
	case a == 0:
		return "0"
	}
	return strconv.FormatFloat(x, 'g', 3, 64)
}

func groupDigits(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

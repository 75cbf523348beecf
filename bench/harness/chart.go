package harness

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Chart colors: ours stands out; the reference is black.
var (
	colorOurs   = color.RGBA{R: 214, G: 39, B: 40, A: 255}
	colorRef    = color.RGBA{A: 255}
	colorGo     = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	colorPython = color.RGBA{R: 44, G: 160, B: 44, A: 255}
)

// WriteChart draws one workload's primary metric: a dot per variant at its
// median with a bar from min to max, on a log axis when the values span
// more than 20x. Rows without numbers are listed in the caption instead. It
// reports false (and writes nothing) when no row has numbers.
func WriteChart(file string, w *Workload, rows []Row) (bool, error) {
	type pt struct {
		label string
		s     Stat
		c     color.Color
	}
	var pts []pt
	var missing []string
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range rows {
		st, ok := r.Metrics[w.Primary]
		if r.Status != StatusOK || !ok || st.N == 0 {
			if r.Config == "" || !slices.Contains(missing, r.Variant) {
				missing = append(missing, r.Variant)
			}
			continue
		}
		label := r.Variant
		if r.Config != "" {
			label = ParseEchoConfig(r.Config).Label() + ": " + label
		}
		c := colorGo
		switch {
		case r.Ours:
			c, label = colorOurs, label+" (ours)"
		case r.Ref:
			c = colorRef
		case r.Lang == LangPython:
			c = colorPython
		}
		pts = append(pts, pt{label, st, c})
		lo, hi = math.Min(lo, st.Min), math.Max(hi, st.Max)
	}
	if len(pts) == 0 {
		return false, nil
	}
	p := plot.New()
	info := Metrics[w.Primary]
	better := "lower is better"
	if !info.Lower {
		better = "higher is better"
	}
	p.Title.Text = fmt.Sprintf("%s: %s, %s (dot = median, bar = min-max)\n"+
		"black = reference, red = gevent-go, blue = Go peers, green = Python gevent", w.Name, info.Label, better)
	if len(missing) > 0 {
		p.Title.Text += "\nnot measured: " + strings.Join(missing, ", ")
	}
	p.X.Label.Text = info.Label
	// Leave room around the extreme dots.
	if lo > 0 && hi/lo > 20 {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
		p.X.Min, p.X.Max = lo/1.5, hi*1.5
	} else {
		p.X.Min, p.X.Max = 0, hi*1.08
	}
	p.Add(plotter.NewGrid())
	// Top to bottom in table order: the Y axis grows upwards.
	names := make([]string, len(pts))
	for i, q := range pts {
		y := float64(len(pts) - 1 - i)
		names[len(pts)-1-i] = q.label
		xy := plotter.XYs{{X: q.s.Median, Y: y}}
		sc, err := plotter.NewScatter(xy)
		if err != nil {
			return false, err
		}
		sc.GlyphStyle.Color = q.c
		sc.GlyphStyle.Radius = vg.Points(4)
		sc.GlyphStyle.Shape = draw.CircleGlyph{}
		eb, err := plotter.NewXErrorBars(errPoints{xy, plotter.XErrors{{Low: q.s.Median - q.s.Min, High: q.s.Max - q.s.Median}}})
		if err != nil {
			return false, err
		}
		eb.LineStyle.Color = q.c
		p.Add(eb, sc)
	}
	p.NominalY(names...)
	height := vg.Length(len(pts))*0.32*vg.Inch + 1.4*vg.Inch
	return true, p.Save(9*vg.Inch, height, file)
}

type errPoints struct {
	plotter.XYs
	plotter.XErrors
}

package main

import (
	"fmt"
	"io"

	"github.com/gevent-go/gevent/examples/crawler/crawl"
	"github.com/schollz/progressbar/v3"
)

// reporter shows a crawl's progress: a live bar on a terminal, a plain line
// per progress period (a second) otherwise, or nothing.
type reporter struct {
	mode string // "bar", "lines" or "off"
	w    io.Writer
	bar  *progressbar.ProgressBar
}

func newReporter(mode string, w io.Writer) *reporter {
	r := &reporter{mode: mode, w: w}
	if mode == "bar" {
		r.bar = progressbar.NewOptions(1,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionSetPredictTime(false),
			// The bar is redrawn by our updates, ten a second, and only by
			// them: no throttle that could skip the final numbers, and no
			// ticker goroutine of its own.
			progressbar.OptionSetSpinnerChangeInterval(0),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionSetDescription("crawling"),
		)
	}
	return r
}

// update takes one progress snapshot. The crawl calls it from inside
// itself, so it only writes.
func (r *reporter) update(p crawl.Progress) {
	switch r.mode {
	case "bar":
		// The total is what is known so far: it grows as links are found,
		// and after an interruption it still counts the URLs dropped, so
		// the bar shows what was done of what was known.
		r.bar.ChangeMax(max(1, p.Done+p.Queued+p.Dropped))
		r.bar.Describe(fmt.Sprintf("%d queued, %d errors, %.0f pages/s", p.Queued, p.Errors, p.PagesPerSec()))
		_ = r.bar.Set(p.Done)
	case "lines":
		dropped := ""
		if p.Dropped > 0 {
			dropped = fmt.Sprintf(", %d dropped", p.Dropped)
		}
		fmt.Fprintf(r.w, "crawler: %d done, %d queued%s, %d errors, %.1f MiB, %.0f pages/s, %.1fs\n",
			p.Done, p.Queued, dropped, p.Errors, float64(p.Bytes)/(1<<20), p.PagesPerSec(), p.Elapsed.Seconds())
	}
}

// finish ends the live bar's line so the summary starts on a fresh one.
func (r *reporter) finish() {
	if r.bar != nil {
		_ = r.bar.Exit()
		fmt.Fprintln(r.w)
	}
}

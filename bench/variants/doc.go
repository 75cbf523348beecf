// Package variants holds the workloads of the side-by-side harness and every
// variant that does their work: gevent-go's own (files ours_*.go), the Go
// peers (raw goroutines, errgroup, conc, ants, pond, gnet, the standard
// library), and Python gevent (py/gevent_bench.py, run as a subprocess).
//
// Every variant checks its own result (a counter, a sum, the order of its
// output, every echoed byte) and returns an error instead of a time for
// wrong work.
//
// A variant registered with Missing set is reported as not available, never
// with numbers; a real variant under the same name replaces it whatever the
// file order.
package variants

package variants

import (
	_ "embed"

	"github.com/gevent-go/gevent/bench/harness"
)

// geventScript holds every Python gevent variant; the harness runs it with
// python3 -c, so the binary carries it and no file has to be found.
//
//go:embed py/gevent_bench.py
var geventScript string

// Python gevent variants, run as subprocesses of the Debian system python3
// with python3-gevent.
func init() {
	for _, v := range []struct{ workload, name, desc string }{
		{"spawn_join", "gevent_spawn_joinall", "gevent.spawn per task, gevent.joinall"},
		{"switch", "gevent_sleep0", "two greenlets alternating gevent.sleep(0)"},
		{"switch", "gevent_event", "Event ping-pong between two greenlets"},
		{"switch", "greenlet_switch", "raw greenlet.switch ping-pong (no hub)"},
		{"queue", "gevent_queue", "gevent.queue.Queue(100), one producer, one consumer"},
		{"pool_map", "gevent_pool_map", "gevent.pool.Pool(100).map"},
		{"sleep_many", "gevent_sleep", "gevent.spawn + gevent.sleep(0.01)"},
		{"mem_parked", "gevent_event", "greenlets in Event.wait()"},
		{"echo", "gevent", "gevent.server.StreamServer, recv/sendall loop"},
		{"http", "gevent_pywsgi", "gevent.pywsgi.WSGIServer, a WSGI app returning the body"},
		{"crawl", "gevent", "monkey.patch_all + http.client keep-alive, 50 worker greenlets"},
	} {
		Reg.Add(harness.Variant{Workload: v.workload, Name: v.name, Lang: harness.LangPython, Desc: v.desc,
			Python: &harness.Python{Script: geventScript, Name: v.name}})
	}
}

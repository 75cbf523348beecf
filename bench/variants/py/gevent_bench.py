# Python gevent variants of the gevent-go side-by-side harness.
#
# Run by the harness as: python3 -c <this file> MODE ARGS...
#   micro WORKLOAD VARIANT N WARMUP   time one variant, print one JSON line
#   echo_server HOST:PORT             serve echo until killed
#   http_server HOST:PORT             serve HTTP (pywsgi) until killed
#   crawl ROOT CONC EXPECTED          crawl a site, print one JSON line
#
# Every variant checks its own result and raises instead of reporting a time
# for wrong work. The JSON line matches harness.ChildResult:
#   {"ok": true, "ops": N, "wall_ns": T, "metrics": {...}} or {"ok": false, "error": "..."}
import json
import sys
import time


def emit(ok, ops=0, wall_ns=0, metrics=None, error=None):
    rec = {"ok": ok}
    if ok:
        rec.update(ops=ops, wall_ns=wall_ns, metrics=metrics or {})
    else:
        rec["error"] = error
    sys.stdout.write(json.dumps(rec) + "\n")
    sys.stdout.flush()


def status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def vmrss_bytes():
    return status_kb("VmRSS") * 1024


class Bench:
    """What a variant gets: its size and the parked-memory hook."""

    def __init__(self, n):
        self.n = n
        self.ops = n
        self.parked_rss = 0

    def parked(self):
        self.parked_rss = vmrss_bytes()


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


# --- spawn_join ---------------------------------------------------------


def gevent_spawn_joinall(b):
    import gevent

    count = [0]

    def task():
        count[0] += 1

    gs = [gevent.spawn(task) for _ in range(b.n)]
    gevent.joinall(gs, raise_error=True)
    check(count[0] == b.n, "spawn_join: counted %d, want %d" % (count[0], b.n))


# --- switch -------------------------------------------------------------


def gevent_sleep0(b):
    import gevent

    b.ops = 2 * b.n
    state = {"last": -1, "steps": 0, "out_of_turn": 0}

    def player(ident):
        for _ in range(b.n):
            if state["last"] == ident:
                state["out_of_turn"] += 1
            state["last"] = ident
            state["steps"] += 1
            gevent.sleep(0)

    gevent.joinall([gevent.spawn(player, 0), gevent.spawn(player, 1)], raise_error=True)
    check(state["steps"] == 2 * b.n, "switch: %d steps" % state["steps"])
    check(state["out_of_turn"] == 0, "switch: %d turns out of order" % state["out_of_turn"])


def gevent_event(b):
    import gevent
    from gevent.event import Event

    b.ops = 2 * b.n
    ping, pong = Event(), Event()
    got = [0]

    def ponger():
        for _ in range(b.n):
            ping.wait()
            ping.clear()
            got[0] += 1
            pong.set()

    g = gevent.spawn(ponger)
    for i in range(b.n):
        ping.set()
        pong.wait()
        pong.clear()
        check(got[0] == i + 1, "switch: pong %d after ping %d" % (got[0], i + 1))
    g.join()


def greenlet_switch(b):
    from greenlet import greenlet, getcurrent

    b.ops = 2 * b.n
    main = getcurrent()

    def echo(v):
        while True:
            v = main.switch(v + 1)

    g = greenlet(echo)
    for i in range(b.n):
        v = g.switch(2 * i)
        check(v == 2 * i + 1, "switch: got %r, want %d" % (v, 2 * i + 1))
    g.throw()  # GreenletExit ends the echo greenlet cleanly


# --- queue --------------------------------------------------------------


def gevent_queue(b):
    import gevent
    from gevent.queue import Queue

    q = Queue(100)
    total = [0]

    def consumer():
        s = 0
        for _ in range(b.n):
            s += q.get()
        total[0] = s

    c = gevent.spawn(consumer)
    for i in range(1, b.n + 1):
        q.put(i)
    c.join()
    want = b.n * (b.n + 1) // 2
    check(total[0] == want, "queue: sum %d, want %d" % (total[0], want))


# --- pool_map -----------------------------------------------------------


def map_fn(i):
    return 2 * i + 1


def gevent_pool_map(b):
    from gevent.pool import Pool

    out = Pool(100).map(map_fn, range(b.n))
    check(len(out) == b.n, "pool_map: %d results" % len(out))
    for i, v in enumerate(out):
        check(v == map_fn(i), "pool_map: out[%d] = %r" % (i, v))


# --- sleep_many ---------------------------------------------------------


def gevent_sleep(b):
    import gevent

    state = {"n": 0, "early": 0}

    def sleeper():
        t = time.perf_counter()
        gevent.sleep(0.01)
        if time.perf_counter() - t < 0.01:
            state["early"] += 1
        state["n"] += 1

    gevent.joinall([gevent.spawn(sleeper) for _ in range(b.n)], raise_error=True)
    check(state["early"] == 0, "sleep_many: %d tasks woke before 10ms" % state["early"])
    check(state["n"] == b.n, "sleep_many: %d of %d finished" % (state["n"], b.n))


# --- mem_parked ---------------------------------------------------------


def gevent_event_parked(b):
    import gevent
    from gevent.event import Event

    ev = Event()
    state = {"parked": 0, "woke": 0}

    def waiter():
        state["parked"] += 1
        ev.wait()
        state["woke"] += 1

    gs = [gevent.spawn(waiter) for _ in range(b.n)]
    gevent.sleep(0)  # every spawned greenlet runs up to ev.wait() first
    check(state["parked"] == b.n, "mem_parked: %d of %d parked" % (state["parked"], b.n))
    b.parked()
    ev.set()
    gevent.joinall(gs, raise_error=True)
    check(state["woke"] == b.n, "mem_parked: %d of %d woke" % (state["woke"], b.n))


MICRO = {
    ("spawn_join", "gevent_spawn_joinall"): gevent_spawn_joinall,
    ("switch", "gevent_sleep0"): gevent_sleep0,
    ("switch", "gevent_event"): gevent_event,
    ("switch", "greenlet_switch"): greenlet_switch,
    ("queue", "gevent_queue"): gevent_queue,
    ("pool_map", "gevent_pool_map"): gevent_pool_map,
    ("sleep_many", "gevent_sleep"): gevent_sleep,
    ("mem_parked", "gevent_event"): gevent_event_parked,
}


def micro(workload, name, n, warmup):
    fn = MICRO.get((workload, name))
    if fn is None:
        raise KeyError("no python variant %s/%s" % (workload, name))
    if warmup:
        fn(Bench(n))
    b = Bench(n)
    rss0 = vmrss_bytes()
    t0 = time.perf_counter_ns()
    fn(b)
    wall = time.perf_counter_ns() - t0
    metrics = {"peak_rss_kb": status_kb("VmHWM")}
    if b.parked_rss:
        metrics["rss_bytes_per_task"] = (b.parked_rss - rss0) / n
    emit(True, b.ops, wall, metrics)


# --- echo ---------------------------------------------------------------


def echo_server(addr):
    from gevent.server import StreamServer

    host, port = addr.rsplit(":", 1)

    def handle(sock, _addr):
        while True:
            data = sock.recv(65536)
            if not data:
                break
            sock.sendall(data)
        sock.close()

    server = StreamServer((host, int(port)), handle, backlog=2048)
    server.serve_forever()


# --- http ---------------------------------------------------------------


def http_server(addr):
    from gevent.pywsgi import WSGIServer

    host, port = addr.rsplit(":", 1)
    body = b"Hello, World!"

    def app(_environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", str(len(body)))])
        return [body]

    server = WSGIServer((host, int(port)), app, log=None, backlog=2048)
    server.serve_forever()


# --- crawl --------------------------------------------------------------


def crawl(root, conc, expected):
    from gevent import monkey

    monkey.patch_all()
    import gevent
    import http.client
    import re
    from gevent.queue import Queue
    from urllib.parse import urljoin, urldefrag, urlsplit

    href = re.compile(rb'href="([^"]*)"')
    base = urlsplit(root)
    todo = Queue()
    seen = {root}
    state = {"pages": 0, "bytes": 0, "errors": 0, "pending": 1}
    todo.put(root)

    def worker():
        conn = http.client.HTTPConnection(base.hostname, base.port, timeout=30)
        while True:
            url = todo.get()
            if url is None:
                return
            try:
                u = urlsplit(url)
                conn.request("GET", u.path + ("?" + u.query if u.query else ""))
                resp = conn.getresponse()
                body = resp.read()
                if resp.status != 200:
                    raise IOError("GET %s: %d" % (url, resp.status))
                state["pages"] += 1
                state["bytes"] += len(body)
                for m in href.findall(body):
                    link = urldefrag(urljoin(url, m.decode()))[0]
                    lu = urlsplit(link)
                    if lu.scheme in ("http", "https") and lu.netloc == base.netloc and link not in seen:
                        seen.add(link)
                        state["pending"] += 1
                        todo.put(link)
            except Exception:
                state["errors"] += 1
                conn.close()
                conn = http.client.HTTPConnection(base.hostname, base.port, timeout=30)
            state["pending"] -= 1
            if state["pending"] == 0:
                for _ in range(conc):
                    todo.put(None)

    t0 = time.perf_counter_ns()
    gevent.joinall([gevent.spawn(worker) for _ in range(conc)], raise_error=True)
    wall = time.perf_counter_ns() - t0
    if state["errors"] or state["pages"] != expected:
        emit(False, error="crawl: %d pages (want %d), %d errors" % (state["pages"], expected, state["errors"]))
        return 1
    emit(True, state["pages"], wall, {"pages_per_s": state["pages"] / (wall / 1e9), "pages": state["pages"],
                                      "peak_rss_kb": status_kb("VmHWM")})
    return 0


def main(argv):
    mode = argv[1] if len(argv) > 1 else ""
    try:
        if mode == "micro":
            micro(argv[2], argv[3], int(argv[4]), argv[5] == "1")
            return 0
        if mode == "echo_server":
            echo_server(argv[2])
            return 0
        if mode == "http_server":
            http_server(argv[2])
            return 0
        if mode == "crawl":
            return crawl(argv[2], int(argv[3]), int(argv[4]))
        raise ValueError("unknown mode %r" % mode)
    except Exception as e:  # a failed variant reports why, never a time
        emit(False, error="%s: %s" % (type(e).__name__, e))
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""The crawler example written with Python's gevent, for side-by-side benchmarks.

It crawls like examples/crawler/crawl: every URL on the start host fetched
once, redirects followed by the crawler itself (bounded), fragments dropped,
only http(s) on the start host, non-HTML bodies not parsed, 404s counted,
bodies cut at a limit, keep-alive connections reused (one per pool slot).
Standard library only, plus gevent: monkey.patch_all(), a gevent.pool.Pool,
a JoinableQueue of URLs, http.client and html.parser.

usage: python3 gevent_crawler.py START_URL [CONCURRENCY [MAX_PAGES]]
Prints a JSON summary on stdout.
"""

from gevent import monkey

monkey.patch_all()

import http.client  # noqa: E402  (after patch_all, as gevent wants)
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import urllib.parse  # noqa: E402
from html.parser import HTMLParser  # noqa: E402

import gevent.pool  # noqa: E402
import gevent.queue  # noqa: E402

MAX_BODY = 1 << 20
MAX_REDIRECTS = 10
TIMEOUT = 10.0


class LinkParser(HTMLParser):
    """Collects <a href> and <area href>, honouring the first <base href>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hrefs = []
        self.base = None

    def handle_starttag(self, tag, attrs):
        if tag in ("textarea", "title"):
            # RCDATA in HTML5: markup inside is text (html.parser only knows
            # script and style).
            self.set_cdata_mode(tag)
            return
        if tag not in ("a", "area", "base"):
            return
        for k, v in attrs:
            if k == "href":
                if v is None:
                    v = ""
                if tag == "base":
                    if self.base is None:
                        self.base = v.strip()
                else:
                    self.hrefs.append(v.strip())
                return

    handle_startendtag = handle_starttag


def normalize(u):
    p = urllib.parse.urlsplit(u)
    scheme = p.scheme.lower()
    if scheme not in ("http", "https") or not p.netloc:
        return None
    host = p.netloc.lower()
    if (scheme == "http" and host.endswith(":80")) or (scheme == "https" and host.endswith(":443")):
        host = host.rsplit(":", 1)[0]
    return urllib.parse.urlunsplit((scheme, host, p.path or "/", p.query, ""))


def main():
    start = normalize(sys.argv[1])
    conc = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    max_pages = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    host = urllib.parse.urlsplit(start).netloc

    pool = gevent.pool.Pool(conc)
    urls = gevent.queue.JoinableQueue()
    conns = gevent.queue.Queue()
    for _ in range(conc):
        conns.put(None)
    seen = set()
    st = {"fetched": 0, "begun": 0, "pages": 0, "files": 0, "redirects": 0, "errors": 0, "bytes": 0}

    def offer(url, hops):
        try:
            key = normalize(url)
        except ValueError:  # an href that is not a URL
            return
        if key is None or urllib.parse.urlsplit(key).netloc != host or key in seen:
            return
        seen.add(key)
        urls.put((key, hops))

    def fetch(key):
        parts = urllib.parse.urlsplit(key)
        path = parts.path + ("?" + parts.query if parts.query else "")
        conn = conns.get()
        try:
            if conn is None:
                conn = http.client.HTTPConnection(parts.netloc, timeout=TIMEOUT)
            conn.request("GET", path, headers={"User-Agent": "gevent-crawler/1.0"})
            resp = conn.getresponse()
            ctype = resp.getheader("Content-Type", "").split(";")[0].strip().lower()
            is_html = ctype in ("text/html", "application/xhtml+xml")
            if 200 <= resp.status < 300 and is_html:
                body = resp.read(MAX_BODY + 1)
            else:
                body = resp.read(64 << 10)
            if not resp.isclosed():
                # Left unread past the limit: this connection cannot be reused.
                conn.close()
                conn = None
            return resp.status, resp.getheader("Location"), is_html, body
        except Exception:
            if conn is not None:
                conn.close()
            conn = None
            raise
        finally:
            conns.put(conn)

    def visit(item):
        key, hops = item
        try:
            try:
                status, location, is_html, body = fetch(key)
            except Exception:
                st["errors"] += 1
                return
            st["fetched"] += 1
            st["bytes"] += len(body)
            if 300 <= status < 400:
                st["redirects"] += 1
                if location is None or hops + 1 > MAX_REDIRECTS:
                    st["errors"] += 1
                else:
                    offer(urllib.parse.urljoin(key, location), hops + 1)
            elif not 200 <= status < 300:
                st["errors"] += 1
            elif not is_html:
                st["files"] += 1
            else:
                st["pages"] += 1
                p = LinkParser()
                p.feed(body[:MAX_BODY].decode("utf-8", "replace"))
                base = urllib.parse.urljoin(key, p.base) if p.base else key
                for h in p.hrefs:
                    try:
                        offer(urllib.parse.urljoin(base, h), 0)
                    except ValueError:
                        pass
        finally:
            urls.task_done()

    def dispatch():
        while True:
            item = urls.get()
            if item is None:
                return
            if max_pages and st["begun"] >= max_pages:
                urls.task_done()
                continue
            st["begun"] += 1
            pool.spawn(visit, item)  # blocks (cooperatively) while the pool is full

    began = time.monotonic()
    offer(start, 0)
    d = gevent.spawn(dispatch)
    urls.join()
    urls.put(None)
    d.join()
    pool.join()
    secs = time.monotonic() - began
    st.pop("begun")
    st.update(seconds=secs, pages_per_sec=st["pages"] / secs if secs > 0 else 0.0, concurrency=conc)
    json.dump(st, sys.stdout)
    print()


if __name__ == "__main__":
    main()

"""``digest serve``: a live preview on the build engine. It keeps the site's output folder
(``dist/``) up to date as files are edited, serves it, and reloads the tabs that show a page
that changed.

- Builds run in a build process of their own (``digest/rebuilder.py``): the engine of
  ``digest build`` (parse cache, render workers, page keys, the one writer), kept running so
  the model stays in memory between edits. A warm start is a no-change build.
- The pages open in connected tabs (each tab's live-reload connection names its page) are
  rendered first, put in place and reloaded; the rest of the site catches up behind them. A
  request for any other page while a build is under way waits for the build, so nothing
  stale is served once an edit has been seen.
- The site is served under the path of its ``base_url`` (``/digest/`` for
  ``https://me.github.io/digest/``), as GitHub Pages serves a project site, so the preview
  and ``digest build`` make the same files and the 404 page's links work.
- Live reload: every HTML response gets a small script that listens on
  ``/__digest__/events`` (server-sent events). It is added when the page is *served*, never
  written to a file. ``/__digest__/poll?since=TOKEN`` is the same signal as a long poll (JSON).
- A failed build (broken template, feed, config) is one ``error:`` line in the terminal and
  an overlay on every page; the last good site is still served, and the next good save
  recovers. Dropped connections are silent; Ctrl-C stops the build process and leaves
  nothing behind.
"""

from __future__ import annotations

import html
import json
import os
import queue
import subprocess
import sys
import threading
import time
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import parse_qs, unquote, urlsplit

import watchfiles

from digest.config import Config, ConfigError, load_config
from digest.newsletter import EDITOR_DIR
from digest.rebuilder import short_path

CONFIG_FILES = ("digest.toml", "pyproject.toml")
EVENTS, POLL = "__digest__/events", "__digest__/poll"
KEEPALIVE = 15.0  # seconds between SSE comments, so proxies and browsers keep the stream open
WAIT_FOR_BUILD = 300.0  # longest a request waits for a build to catch up before it is served as is

RELOAD_SCRIPT = """<script>/* digest serve: live reload (added by the preview server, never built) */
(function () {
  var token = %s;
  function listen() {
    var source = new EventSource("%s?since=" + encodeURIComponent(token) + "&page=" + encodeURIComponent(location.pathname));
    source.onmessage = function (e) { if (e.data !== token) { location.reload(); } };
    source.onerror = function () { source.close(); setTimeout(listen, 1000); };
  }
  listen();
})();
</script>"""

OVERLAY = """<div id="digest-error" role="alert" style="position:fixed;inset:auto 1rem 1rem 1rem;z-index:2147483647;
max-height:60vh;overflow:auto;font:14px/1.5 ui-monospace,monospace;background:#fff1f0;color:#7a1712;
border:2px solid #d4351c;border-radius:6px;padding:1rem;box-shadow:0 4px 24px rgba(0,0,0,.3);white-space:pre-wrap">
<strong style="font-family:system-ui,sans-serif">Build failed</strong> — this is the last good page; fix the file and save.
%s</div>"""


class Preview:
    """What the server knows: the change token tabs wait on, which pages are open, whether a
    build is catching up, and the last error."""

    def __init__(self, out: Path, mount: str, log: Callable[[str], None]):
        self.out, self.mount, self.log = out, mount, log
        self.error: str | None = None
        self.instance = os.urandom(4).hex()
        self.generation = 0
        self.scopes: dict[int, frozenset[str] | None] = {}  # generation → pages it changed (None: all)
        self.building = False  # an edit has been seen and the site has not caught up yet
        self.fresh: frozenset[str] = frozenset()  # pages already up to date during a build
        self.open: dict[str, int] = {}  # site path → tabs showing it
        self.changed = threading.Condition()

    def token(self) -> str:
        return f"{self.instance}-{self.generation}"

    def generation_of(self, token: str) -> int | None:
        instance, _, number = token.rpartition("-")
        return int(number) if instance == self.instance and number.isdigit() else None

    def publish(self, pages: Iterable[str] | None = None) -> None:
        """A new generation: tabs showing ``pages`` (all tabs when None) reload."""
        with self.changed:
            self.generation += 1
            self.scopes[self.generation] = None if pages is None else frozenset(pages)
            self.scopes.pop(self.generation - 1000, None)
            self.changed.notify_all()

    def concerns(self, since: str, page: str | None) -> bool:
        """Whether a generation after ``since`` changed ``page`` (call with the lock held)."""
        start = self.generation_of(since)
        if start is None or start > self.generation:
            return True
        for number in range(start + 1, self.generation + 1):
            scope = self.scopes.get(number)
            if scope is None or page is None or page in scope:
                return True
        return False

    def wait(self, since: str, timeout: float, page: str | None = None) -> str:
        """Block until a generation after ``since`` concerns ``page`` (or ``timeout``)."""
        with self.changed:
            self.changed.wait_for(lambda: self.concerns(since, page), timeout=timeout)
            return self.token() if self.concerns(since, page) else since

    def begin(self) -> None:
        with self.changed:
            self.building, self.fresh = True, frozenset()

    def mark_fresh(self, pages: Iterable[str]) -> None:
        with self.changed:
            self.fresh = frozenset(pages)

    def end(self) -> None:
        with self.changed:
            self.building, self.fresh = False, frozenset()
            self.changed.notify_all()

    def wait_until_fresh(self, page: str) -> None:
        with self.changed:
            self.changed.wait_for(lambda: not self.building or page in self.fresh, timeout=WAIT_FOR_BUILD)

    def opened(self, page: str, delta: int) -> None:
        with self.changed:
            self.open[page] = self.open.get(page, 0) + delta
            if self.open[page] <= 0:
                del self.open[page]

    def open_pages(self) -> list[str]:
        with self.changed:
            return sorted(self.open)

    def site_path(self, url_path: str) -> str | None:
        """The site path of a request path under the mount ('/digest/countries/' → 'countries/'),
        as the build names pages; None outside the site."""
        if not url_path.startswith(self.mount):
            return None
        rel = url_path[len(self.mount):]
        if ".." in rel.split("/"):
            return None
        if rel.endswith("/index.html"):
            rel = rel[: -len("index.html")]
        elif rel == "index.html":
            rel = ""
        return rel


class BuildProcess:
    """The rebuilder process and the thread that reads what it says."""

    def __init__(self, root: Path, on_message: Callable[[dict], None]):
        self.proc = subprocess.Popen([sys.executable, "-m", "digest.rebuilder", str(root)], cwd=root,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.reader = threading.Thread(target=self._read, args=(on_message,), daemon=True)
        self.reader.start()

    def _read(self, on_message: Callable[[dict], None]) -> None:
        for line in self.proc.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            on_message(message)
        on_message({"event": "exit"})

    def request(self, first: list[str]) -> None:
        self.proc.stdin.write(json.dumps({"first": first}) + "\n")
        self.proc.stdin.flush()

    def stop(self) -> None:
        try:
            self.proc.stdin.close()  # the rebuilder finishes what it does and exits
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.terminate()  # SIGTERM unwinds it: staging folders go
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(timeout=5)


class Coordinator:
    """Turns file changes into builds, one at a time, and build reports into reloads."""

    def __init__(self, preview: Preview, root: Path):
        self.preview, self.root = preview, root
        self.messages: "queue.Queue[dict]" = queue.Queue()
        self.process = BuildProcess(root, self._on_message)
        self.problems: tuple[str, ...] | None = None

    def _on_message(self, message: dict) -> None:
        if message.get("event") == "warm":  # between builds: said at once, nobody waits for it
            self.preview.log(f"model in memory ({message['seconds']:.2f} s): edits render at once")
        else:
            self.messages.put(message)

    def build(self, started_by: str) -> dict:
        """One build, waited for; returns its last message."""
        preview = self.preview
        preview.begin()
        first = preview.open_pages()
        started = time.perf_counter()
        self.process.request(first)
        while True:
            message = self.messages.get()
            event = message.get("event")
            if event == "first":
                preview.mark_fresh(first)
                if preview.error is None and message["changed"]:
                    preview.publish(message["changed"])
                continue
            break
        preview.end()
        seconds = time.perf_counter() - started
        if event == "done":
            problems = tuple(message.get("problems", ()))
            if problems != self.problems:
                for problem in problems:
                    self.preview.log(f"warning: {problem}")
                self.problems = problems
            recovered = preview.error is not None
            preview.error = None
            self.preview.log(f"rebuilt ({started_by}) in {seconds:.2f} s: {message['written']} file(s) changed"
                             + (" — recovered" if recovered else ""))
            if recovered:
                preview.publish()
            elif message["written"]:
                # Tabs whose page was rendered first already reloaded; the others reload now.
                preview.publish(None if not first else [p for p in preview.open_pages() if p not in first])
        elif event == "error":
            changed = message["message"] != preview.error
            preview.error = message["message"]
            self.preview.log(f"error: {preview.error}")
            if changed:
                preview.publish()
        else:
            preview.error = "the build process stopped unexpectedly; restart digest serve"
            self.preview.log(f"error: {preview.error}")
            preview.publish()
        return message


def inject(page: bytes, token: str, error: str | None = None, events: str = "/" + EVENTS) -> bytes:
    """``page`` with the live-reload script (and the error overlay) before ``</body>``."""
    extra = (OVERLAY % html.escape(error)) if error else ""
    script = (extra + RELOAD_SCRIPT % (json.dumps(token), events)).encode("utf-8")
    at = page.rfind(b"</body>")
    return page[:at] + script + page[at:] if at >= 0 else page + script


def make_handler(preview: Preview, stopping: threading.Event):
    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(preview.out), **kwargs)

        def log_message(self, format, *args):  # noqa: A002 (http.server's name) — keep the terminal for rebuilds
            pass

        def end_headers(self):
            self.send_header("Cache-Control", "no-store")  # a preview must never show a stale file
            super().end_headers()

        def handle(self):
            try:
                super().handle()
            except ConnectionError:  # a tab that went away mid-answer is nobody's problem
                pass

        def translate_path(self, path):
            # Serve the site under its mount: '/digest/x' is dist/x.
            url = urlsplit(path).path
            rel = url[len(preview.mount):] if url.startswith(preview.mount) else "\x00outside"
            return super().translate_path("/" + rel)

        def do_GET(self):  # noqa: N802
            url = urlsplit(self.path)
            path = unquote(url.path)
            query = parse_qs(url.query)
            if path == preview.mount + EVENTS:
                return self._events(query.get("since", [""])[0], query.get("page", [None])[0])
            if path == preview.mount + POLL:
                timeout = min(float(query.get("timeout", ["25"])[0]), 60.0)
                token = preview.wait(query.get("since", [""])[0], timeout)
                return self._send(200, json.dumps({"token": token, "error": preview.error}).encode(), "application/json")
            if not path.startswith(preview.mount):
                if path in ("/", ""):  # the site lives under its base URL's path
                    self.send_response(HTTPStatus.FOUND)
                    self.send_header("Location", preview.mount)
                    self.end_headers()
                    return None
                return self._not_found()
            site_path = preview.site_path(path)
            target = self._page_file(site_path)
            if target is None:
                return super().do_GET()
            preview.wait_until_fresh(site_path)
            if not target.is_file():
                return self._not_found()
            return self._send(200, inject(target.read_bytes(), preview.token(), preview.error,
                                          preview.mount + EVENTS), "text/html; charset=utf-8")

        def _not_found(self):
            page = preview.out / "404.html"
            body = page.read_bytes() if page.is_file() else b"<!doctype html><title>Not found</title><body><h1>Not found</h1></body>"
            return self._send(404, inject(body, preview.token(), preview.error, preview.mount + EVENTS),
                              "text/html; charset=utf-8")

        def _page_file(self, site_path: str | None) -> Path | None:
            """The HTML file for a page request, or None for assets (served as they are)."""
            if site_path is None:
                return None
            if site_path == "" or site_path.endswith("/"):
                return preview.out / site_path / "index.html"
            if site_path.endswith(".html"):
                return preview.out / site_path
            if (preview.out / site_path).exists():
                return None  # a file as it is, or a folder SimpleHTTPRequestHandler redirects
            return preview.out / site_path / "index.html"

        def _send(self, status: int, body: bytes, kind: str) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except ConnectionError:
                self.close_connection = True

        def _events(self, since: str, page_url: str | None) -> None:
            page = preview.site_path(unquote(page_url)) if page_url else None
            if page is not None:
                preview.opened(page, +1)
            try:
                self.send_response(HTTPStatus.OK)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                while not stopping.is_set():
                    token = preview.wait(since, KEEPALIVE, page)
                    if token != since:
                        self.wfile.write(f"data: {token}\n\n".encode())
                        self.wfile.flush()
                        break
                    self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
            except OSError:
                pass  # the tab went away
            finally:
                if page is not None:
                    preview.opened(page, -1)
            self.close_connection = True

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # Browsers drop connections all the time (a reload, a closed tab): not worth a traceback.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def kind_of(path: Path, root: Path, cache: Path) -> str | None:
    if path.parent == root and path.name in CONFIG_FILES:
        return "config"
    if path.name.startswith(".") or path.name.endswith((".tmp", "~")):
        return None  # editor swap files, fetch's temporary files
    if path.is_relative_to(cache):
        return "cache"
    return "render"


def watched_dirs(root: Path, config: Config) -> list[Path]:
    dirs = [root / d for d in (config.cache_dir, config.templates_dir, config.static_dir, EDITOR_DIR)]
    return [d.resolve() for d in dirs if d.is_dir()]


def _watch(root: Path, changes_out: "queue.Queue[set[str]]", stopping: threading.Event) -> None:
    """Watch the site's input folders (recursively) and its root (not recursively: for the config
    file and folders made later), and queue the kinds of change for the builder. The output
    and the parse cache are never watched (a build writes thousands of files there)."""
    while not stopping.is_set():
        try:
            config = load_config(root)
        except ConfigError:
            config = Config(root=root)
        cache = config.path(config.cache_dir).resolve()
        dirs = watched_dirs(root, config)
        restart = threading.Event()
        stop = _Either(stopping, restart)

        def root_watch() -> None:
            for changes in watchfiles.watch(root, recursive=False, stop_event=stop, debounce=50, step=20,
                                            rust_timeout=500, yield_on_timeout=False):
                kinds = {k for _, p in changes if (k := kind_of(Path(p), root, cache)) == "config"}
                if kinds:
                    changes_out.put(kinds)
                try:
                    now = load_config(root)
                except ConfigError:
                    now = config
                if set(watched_dirs(root, now)) != set(dirs):
                    # Folders came or went, or the config moved them: watch anew, and build once
                    # more after that, for whatever changed while no watcher was looking.
                    restart.set()
                    return

        thread = threading.Thread(target=root_watch, daemon=True)
        thread.start()
        if dirs:
            for changes in watchfiles.watch(*dirs, stop_event=stop, debounce=50, step=20, rust_timeout=500):
                kinds = {k for _, p in changes if (k := kind_of(Path(p), root, cache))}
                if kinds:
                    changes_out.put(kinds)
        else:
            while not stop.is_set():
                stopping.wait(0.2)
        restart.set()
        thread.join()
        if not stopping.is_set():
            changes_out.put({"cache", "render"})


class _Either:
    """Set when either event is set (what watchfiles' stop_event needs: an ``is_set``)."""

    def __init__(self, a: threading.Event, b: threading.Event):
        self.a, self.b = a, b

    def is_set(self) -> bool:
        return self.a.is_set() or self.b.is_set()


def _build_loop(coordinator: Coordinator, changes: "queue.Queue[set[str]]", stopping: threading.Event) -> None:
    while not stopping.is_set():
        try:
            kinds = changes.get(timeout=0.2)
        except queue.Empty:
            continue
        while True:  # a burst of saves is one rebuild
            try:
                kinds |= changes.get_nowait()
            except queue.Empty:
                break
        if coordinator.build("full" if kinds & {"cache", "config"} else "pages").get("event") == "exit":
            return


def serve(root: Path, port: int = 8000, host: str = "127.0.0.1", log: Callable[[str], None] = print,
          ready: Callable[[str], None] | None = None, stopping: threading.Event | None = None) -> None:
    """Run the preview until ``stopping`` is set (or Ctrl-C)."""
    root = root.resolve()
    stopping = stopping or threading.Event()
    try:
        config = load_config(root)
    except ConfigError:
        config = Config(root=root)  # the build reports the error; the server starts anyway
    mount = "/" + urlsplit(config.base_url).path.strip("/")
    mount = mount.rstrip("/") + "/"
    preview = Preview(config.path(config.out_dir), mount, log)
    httpd = Server((host, port), make_handler(preview, stopping))
    shown_host = host if ":" not in host else f"[{host}]"
    url = f"http://{shown_host}:{httpd.server_address[1]}{mount}"
    if host not in ("127.0.0.1", "localhost", "::1"):
        log(f"warning: serving on {host}: the preview is reachable from the network, not only this computer")
    changes: "queue.Queue[set[str]]" = queue.Queue()
    # The watcher starts before the first build so that no save made meanwhile is missed.
    watcher = threading.Thread(target=_watch, args=(root, changes, stopping), daemon=True)
    watcher.start()
    coordinator = Coordinator(preview, root)
    started = time.perf_counter()
    server_thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    try:
        coordinator.build("start")
        builder = threading.Thread(target=_build_loop, args=(coordinator, changes, stopping), daemon=True)
        builder.start()
        server_thread.start()
        log(f"Serving {root.name or root} at {url} (ready in {time.perf_counter() - started:.2f} s)")
        log("Watching " + ", ".join(short_path(str(d), root) + "/" for d in watched_dirs(root, config))
            + " and the config; Ctrl-C to stop.")
        if ready:
            ready(url)
        while not stopping.is_set():
            stopping.wait(0.5)
    except KeyboardInterrupt:
        log("Stopping.")
    finally:
        stopping.set()
        with preview.changed:
            preview.changed.notify_all()
        if server_thread.is_alive():
            httpd.shutdown()
        httpd.server_close()
        coordinator.process.stop()
        watcher.join(timeout=2)


def main_log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)

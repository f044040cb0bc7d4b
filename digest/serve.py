"""``digest serve``: build into a temporary folder, serve it on 127.0.0.1, rebuild on change
and reload open tabs.

- Watches (watchfiles) the site's ``content_cache/``, ``templates/``, ``static/``,
  ``newsletter/`` and its config file.
- Rebuilds reuse what did not change: the config and its Jinja environment (Jinja recompiles
  only the templates whose files changed), the parsed ``Site`` unless the cache or config
  changed, and the feeds, catalog, sitemap and search index unless the content changed — a
  template or stylesheet edit re-renders only the pages and newsletters. Only files whose
  bytes changed are rewritten.
- Live reload: every HTML response gets a tiny script that listens on
  ``/__digest__/events`` (server-sent events) and reloads the tab after a rebuild. The script
  is added when the page is *served*; it is never in the built files or in ``dist/``.
  ``/__digest__/poll?since=TOKEN`` is the same signal as a long poll (JSON).
- A failed rebuild (broken template, config or newsletter file) is shown in every page of
  the browser and in the terminal; the server keeps running and the next good save recovers.
"""

from __future__ import annotations

import html
import json
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
import traceback
import uuid
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs, unquote, urlsplit

import watchfiles

from digest.assets import asset_version, static_files
from digest.build import build_model, render_site
from digest.config import Config, load_config
from digest.newsletter import EDITOR_DIR, edition_files
from digest.pages import build_pages, render_pages
from digest.templating import make_env
from digest.views import article_views
from digest.write import Manifest, Previous, update_site

CONFIG_FILES = ("digest.toml", "pyproject.toml")
EVENTS, POLL = "/__digest__/events", "/__digest__/poll"
KEEPALIVE = 15.0  # seconds between SSE comments, so proxies and browsers keep the stream open

RELOAD_SCRIPT = """<script>/* digest serve: live reload (added by the preview server, never built) */
(function () {
  var token = %s;
  function listen() {
    var source = new EventSource("%s?since=" + encodeURIComponent(token));
    source.onmessage = function (e) { if (e.data !== token) { location.reload(); } };
    source.onerror = function () { source.close(); setTimeout(listen, 1000); };
  }
  listen();
})();
</script>"""


class Preview:
    """The preview's state: what was built from what, and the change token tabs wait on."""

    def __init__(self, root: Path, out: Path, base_url: str, log: Callable[[str], None],
                 environ=os.environ):
        self.root, self.out, self.base_url, self.log, self.environ = root, out, base_url, log, environ
        self.config: Config | None = None
        self.env = None
        self.site = None
        self.views: dict | None = None
        self.files: dict[str, bytes] = {}
        self.manifest: Manifest | None = None  # what the writer left in self.out
        self.static_keys: set[str] = set()
        self.full_done = False  # self.files holds a full render of self.site
        self.pending: set[str] = {"config"}
        self.error: str | None = None
        self.instance = uuid.uuid4().hex[:8]
        self.generation = 0
        self.changed = threading.Condition()

    @property
    def token(self) -> str:
        return f"{self.instance}-{self.generation}"

    # --- building -------------------------------------------------------------------------

    def rebuild(self, kinds: set[str]) -> None:
        """Rebuild for changes of ``kinds`` ("config", "cache", "render"); never raises."""
        kinds = set(kinds) | self.pending
        started = time.perf_counter()
        try:
            if "config" in kinds or self.config is None:
                config = load_config(self.root, out_dir=self.out, base_url=self.base_url)
                self.config, self.env = config, make_env(config)
                kinds.add("cache")
            if "cache" in kinds or self.site is None:
                self.site, self.full_done = build_model(self.config, self.environ), False
                self.views = article_views(self.site, self.config.full_text_weeks)
            if self.full_done:
                files, how = self._render_pages_only(), "pages"
            else:
                files, how = render_site(self.site, self.config), "full"
                self.static_keys = set(static_files(self.config))
            written = self._sync(files)
        except Exception as exc:  # whatever the editor broke, the server stays up
            self.pending = kinds
            message = describe(exc, self.root)
            changed = message != self.error
            self.error = message
            self.log(f"error: {message}")
            if changed or self.generation == 0:
                self._publish()
            return
        self.files, self.full_done, self.pending = files, True, set()
        recovered = self.error is not None
        self.error = None
        seconds = time.perf_counter() - started
        self.log(f"rebuilt ({how}) in {seconds:.2f} s: {written} file(s) changed" + (" — recovered" if recovered else ""))
        if written or recovered or self.generation == 0:
            self._publish()

    def _render_pages_only(self) -> dict[str, bytes]:
        """Templates, static files or newsletter notes changed: re-render pages and newsletters;
        feeds, catalog, sitemap and search index depend on the content only and are kept."""
        static = static_files(self.config)
        pages = build_pages(self.site, self.config, self.views)
        files = {p: b for p, b in self.files.items() if p not in self.static_keys}
        files.update(render_pages(pages, self.site, self.config, self.env, asset_version(static)))
        files.update(edition_files(self.site, self.config, self.env, self.views))
        files.update(static)
        self.static_keys = set(static)
        return files

    def _sync(self, files: dict[str, bytes]) -> int:
        """Write what changed through the site writer (staged, then moved in; stale files
        removed); its manifest lets it compare by hash instead of reading the old files."""
        result = update_site(files, self.out, Previous(self.out, self.manifest))
        self.manifest = result.manifest
        return result.written + result.removed

    def _publish(self) -> None:
        with self.changed:
            self.generation += 1
            self.changed.notify_all()

    def wait(self, since: str, timeout: float) -> str:
        with self.changed:
            self.changed.wait_for(lambda: self.token != since, timeout=timeout)
            return self.token

    # --- watching -------------------------------------------------------------------------

    def kind_of(self, path: Path) -> str | None:
        cache = (self.root / (self.config or Config()).cache_dir).resolve()
        if path.parent == self.root.resolve() and path.name in CONFIG_FILES:
            return "config"
        if path.name.startswith(".") or path.name.endswith((".tmp", "~")):
            return None  # editor swap files, fetch's temporary files
        if path.is_relative_to(cache):
            return "cache"
        return "render"

    def watched_dirs(self) -> list[Path]:
        c = self.config or Config()
        dirs = [self.root / d for d in (c.cache_dir, c.templates_dir, c.static_dir, EDITOR_DIR)]
        return [d.resolve() for d in dirs if d.is_dir()]


def describe(exc: BaseException, root: Path) -> str:
    """One or two lines an editor can act on: the file and line for template errors."""
    import jinja2

    if isinstance(exc, jinja2.TemplateSyntaxError):
        where = exc.filename or exc.name or "template"
        return f"{_short_path(where, root)}:{exc.lineno}: {exc.message}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith((".html", ".txt", ".xml"))]
    where = f"{_short_path(frames[-1].filename, root)}:{frames[-1].lineno}: " if frames else ""
    return f"{where}{type(exc).__name__}: {exc}"


def _short_path(path: str, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(root.resolve()))
    except ValueError:
        return path


def error_page(message: str, token: str) -> bytes:
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Build failed · digest serve</title>"
        "<style>body{font:16px/1.5 system-ui,sans-serif;margin:2rem;max-width:60rem}"
        "pre{background:#fff1f0;color:#7a1712;border:1px solid #f3b4ae;padding:1rem;white-space:pre-wrap}</style>"
        "</head><body><h1>Build failed</h1><p>The preview keeps serving; fix the file and save, and this tab "
        f"reloads by itself.</p><pre id=\"digest-error\">{html.escape(message)}</pre>"
        f"{RELOAD_SCRIPT % (json.dumps(token), EVENTS)}</body></html>"
    ).encode("utf-8")


def inject(page: bytes, token: str) -> bytes:
    script = (RELOAD_SCRIPT % (json.dumps(token), EVENTS)).encode("utf-8")
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

        def do_GET(self):  # noqa: N802
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            if url.path == EVENTS:
                return self._events(query.get("since", [""])[0])
            if url.path == POLL:
                timeout = min(float(query.get("timeout", ["25"])[0]), 60.0)
                token = preview.wait(query.get("since", [""])[0], timeout)
                return self._send(200, json.dumps({"token": token, "error": preview.error}).encode(), "application/json")
            target = self._page_file(unquote(url.path))
            if target is None:
                return super().do_GET()
            if preview.error is not None:
                return self._send(500, error_page(preview.error, preview.token), "text/html; charset=utf-8")
            if not target.is_file():
                page = preview.out / "404.html"
                body = page.read_bytes() if page.is_file() else b"<!doctype html><title>Not found</title><body><h1>Not found</h1></body>"
                return self._send(404, inject(body, preview.token), "text/html; charset=utf-8")
            return self._send(200, inject(target.read_bytes(), preview.token), "text/html; charset=utf-8")

        def _page_file(self, path: str) -> Path | None:
            """The HTML file for a page request, or None for assets (served as they are)."""
            if ".." in path.split("/"):
                return None
            rel = path.lstrip("/")
            if rel == "" or rel.endswith("/"):
                return preview.out / rel / "index.html"
            if rel.endswith(".html"):
                return preview.out / rel
            if (preview.out / rel).is_dir():
                return None  # SimpleHTTPRequestHandler redirects to the slash form
            return None if (preview.out / rel).exists() else preview.out / rel / "index.html"

        def _send(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _events(self, since: str) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                while not stopping.is_set():
                    token = preview.wait(since, KEEPALIVE)
                    if token != since:
                        self.wfile.write(f"data: {token}\n\n".encode())
                        self.wfile.flush()
                        return
                    self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
            except OSError:
                return  # the tab went away
            self.close_connection = True

    return Handler


def _watch(preview: Preview, requests: "queue.Queue[set[str]]", stopping: threading.Event) -> None:
    """Watch the site's folders (recursively) and its root (for the config file and for
    folders created later), and queue the kinds of change for the builder."""
    while not stopping.is_set():
        dirs = preview.watched_dirs()
        restart = threading.Event()

        def root_watch() -> None:
            for changes in watchfiles.watch(preview.root, recursive=False, stop_event=_either(stopping, restart),
                                            debounce=400, step=30, rust_timeout=500, yield_on_timeout=False):
                kinds = {k for _, p in changes if (k := preview.kind_of(Path(p))) == "config"}
                if kinds:
                    requests.put(kinds)
                if set(preview.watched_dirs()) != set(dirs):
                    requests.put({"cache", "render"})
                    restart.set()
                    return

        thread = threading.Thread(target=root_watch, daemon=True)
        thread.start()
        if dirs:
            for changes in watchfiles.watch(*dirs, stop_event=_either(stopping, restart), debounce=400, step=30,
                                            rust_timeout=500):
                kinds = {k for _, p in changes if (k := preview.kind_of(Path(p)))}
                if kinds:
                    requests.put(kinds)
        else:
            _either(stopping, restart).wait()
        restart.set()
        thread.join()


class _either:
    """Set when either event is set (what watchfiles' stop_event needs: an ``is_set``)."""

    def __init__(self, a: threading.Event, b: threading.Event):
        self.a, self.b = a, b

    def is_set(self) -> bool:
        return self.a.is_set() or self.b.is_set()

    def wait(self) -> None:
        while not self.is_set():
            self.a.wait(0.2)


def _build_loop(preview: Preview, requests: "queue.Queue[set[str]]", stopping: threading.Event) -> None:
    while not stopping.is_set():
        try:
            kinds = requests.get(timeout=0.2)
        except queue.Empty:
            continue
        while True:  # a burst of saves is one rebuild
            try:
                kinds |= requests.get_nowait()
            except queue.Empty:
                break
        preview.rebuild(kinds)


def serve(root: Path, port: int = 8000, log: Callable[[str], None] = print, ready: Callable[[str], None] | None = None,
          stopping: threading.Event | None = None) -> None:
    """Run the preview until ``stopping`` is set (or Ctrl-C)."""
    root = root.resolve()
    stopping = stopping or threading.Event()
    tmp = Path(tempfile.mkdtemp(prefix="digest-serve-"))

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    preview = Preview(root, tmp / "site", "", log)
    httpd = Server(("127.0.0.1", port), make_handler(preview, stopping))
    url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    preview.base_url = url  # feeds, the 404 page and newsletter links point at the preview
    requests: "queue.Queue[set[str]]" = queue.Queue()
    # The watcher starts before the first build so that no save made meanwhile is missed.
    threads = [threading.Thread(target=_watch, args=(preview, requests, stopping), daemon=True),
               threading.Thread(target=_build_loop, args=(preview, requests, stopping), daemon=True)]
    threads[0].start()
    started = time.perf_counter()
    preview.rebuild({"config"})
    threads[1].start()
    log(f"Serving {root.name or root} at {url} (first build {time.perf_counter() - started:.2f} s)")
    log("Watching " + ", ".join(_short_path(str(d), root) + "/" for d in preview.watched_dirs())
        + " and the config; Ctrl-C to stop.")
    if ready:
        ready(url)
    server_thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    server_thread.start()
    try:
        while not stopping.is_set():
            stopping.wait(0.5)
    except KeyboardInterrupt:
        log("Stopping.")
    finally:
        stopping.set()
        with preview.changed:
            preview.changed.notify_all()
        httpd.shutdown()
        httpd.server_close()
        for t in threads:
            t.join(timeout=2)
        shutil.rmtree(tmp, ignore_errors=True)


def main_log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)

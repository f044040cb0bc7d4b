"""The live preview timed as an editor uses it, on a corpus site built once before:

  first page   ``digest serve`` started → the home page answers (a warm start)
  edit         ``base.html`` changed (once serve has its model in memory, a few seconds after
               the first page) → a tab on the home page is told to reload and the page it
               gets has the change
  new feed     one new RSS file of 100 stories → that tab reloads and the home page shows
               one of them

plus the peak memory (PSS) of serve's whole process tree over the session and the number of
tracebacks it printed. Each step is one HTTP client doing what a browser tab does: it holds
the live-reload connection of the page it shows, and fetches the page when told to reload.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from markupsafe import escape

from bench.measure import PeakSampler

STEPS = ("first page", "edit visible", "new feed on home")
TIMEOUT = 600.0


@dataclass(frozen=True)
class Session:
    seconds: dict[str, float | None]  # step → seconds (None: did not happen within the time box)
    peak_bytes: int
    tracebacks: int
    output: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 60.0) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.read().decode("utf-8", "replace")
    except OSError:
        return None


class _Tab:
    """A tab on one page: its live-reload connection, and whether it was told to reload."""

    def __init__(self, base: str, page_url: str):
        self.reload = threading.Event()
        token = json.loads(_get(f"{base}__digest__/poll?since=&timeout=1") or '{"token": ""}')["token"]
        path = urllib.request.urlparse(page_url).path
        self.url = f"{base}__digest__/events?since={token}&page={urllib.request.quote(path)}"
        threading.Thread(target=self._listen, daemon=True).start()
        time.sleep(0.2)  # the connection is up before anything is changed

    def _listen(self) -> None:
        try:
            with urllib.request.urlopen(self.url, timeout=TIMEOUT) as r:
                for line in r:
                    if line.startswith(b"data:"):
                        self.reload.set()
                        return
        except OSError:
            return


def session(site: Path, extra_feed: Path, builtin_base: str, python: str, env: dict, log=print) -> Session:
    """One preview session in ``site`` (already built, parse cache warm)."""
    port = _free_port()
    out_log = site.parent / "serve.log"
    with open(out_log, "w") as out:
        proc = subprocess.Popen([python, "-m", "digest", "serve", "--port", str(port)], cwd=site, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    sampler = PeakSampler(proc.pid)
    seconds: dict[str, float | None] = {step: None for step in STEPS}
    started = time.perf_counter()
    try:
        base = _mount(site, port)
        while time.perf_counter() - started < TIMEOUT and proc.poll() is None:
            if _get(base, timeout=TIMEOUT) is not None:
                seconds["first page"] = time.perf_counter() - started
                break
            time.sleep(0.02)
        log(f"[bench]   serve first page: {seconds['first page']}")
        _wait_line(out_log, "Serving ", TIMEOUT)
        # An editor reads before editing: the build process makes the model in the background
        # after the no-change start; the edit is timed from when it has (its log line says so).
        _wait_line(out_log, "model in memory", TIMEOUT)
        builds = _count_lines(out_log, "rebuilt (")

        tab = _Tab(base, base)
        marker = f"<!-- bench: preview edit {time.time_ns()} -->"
        (site / "templates").mkdir(exist_ok=True)
        changed = time.perf_counter()
        (site / "templates" / "base.html").write_text(builtin_base.replace("</body>", marker + "</body>"),
                                                      encoding="utf-8")
        if tab.reload.wait(TIMEOUT) and marker in (_get(base) or ""):
            seconds["edit visible"] = time.perf_counter() - changed
        log(f"[bench]   serve edit visible: {seconds['edit visible']}")
        _wait_builds(out_log, builds + 1, TIMEOUT)  # the rest of the site caught up
        builds = _count_lines(out_log, "rebuilt (")

        titles = re.findall(r"<title>(.*?)</title>", extra_feed.read_text(encoding="utf-8"))[1:]
        newest = _html_text(titles[-1]) if titles else ""
        tab = _Tab(base, base)
        changed = time.perf_counter()
        shutil.copyfile(extra_feed, site / "content_cache" / extra_feed.name)
        if tab.reload.wait(TIMEOUT) and newest and newest in (_get(base) or ""):
            seconds["new feed on home"] = time.perf_counter() - changed
        log(f"[bench]   serve new feed on home: {seconds['new feed on home']}")
        _wait_builds(out_log, builds + 1, TIMEOUT)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        peak = sampler.stop()
    output = out_log.read_text(encoding="utf-8", errors="replace")
    return Session(seconds, peak, output.count("Traceback"), output[-4000:])


def _mount(site: Path, port: int) -> str:
    """The preview's URL: the site lives under its base URL's path."""
    text = (site / "digest.toml").read_text(encoding="utf-8")
    found = re.search(r'base_url\s*=\s*"[a-z]+://[^/"]+(/[^"]*)?"', text)
    path = "/" + ((found.group(1) or "") if found else "").strip("/")
    return f"http://127.0.0.1:{port}{path.rstrip('/')}/"


def _wait_line(log: Path, text: str, timeout: float) -> bool:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if text in log.read_text(encoding="utf-8", errors="replace"):
            return True
        time.sleep(0.05)
    return False


def _count_lines(log: Path, text: str) -> int:
    return sum(text in line for line in log.read_text(encoding="utf-8", errors="replace").splitlines())


def _wait_builds(log: Path, count: int, timeout: float) -> bool:
    """Until the server has reported ``count`` finished builds (or an error)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if _count_lines(log, "rebuilt (") >= count or _count_lines(log, "error:"):
            return True
        time.sleep(0.05)
    return False


def _html_text(title: str) -> str:
    """A feed title as the page shows it: CDATA unwrapped, entities read, escaped as Jinja does."""
    title = html.unescape(title.removeprefix("<![CDATA[").removesuffix("]]>"))
    return str(escape(title))

"""digest serve for real: a subprocess on a free port, a real Chromium tab that reloads by
itself after a template edit, a broken template and a broken config that the server survives
and shows over the last good page, recovery on the next good save, no stale page once an edit
has been seen, silence about dropped connections, and a clean stop. Every wait polls with a
timeout."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from digest import build as build_module
from digest.build import Builder, build
from digest.config import load_config
from digest.serve import inject

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def copy_site(tmp_path: Path) -> Path:
    for name in ("content_cache", "templates", "static", "newsletter"):
        shutil.copytree(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / "digest.toml", tmp_path / "digest.toml")
    for p in (tmp_path / "content_cache").rglob("*"):
        p.chmod(0o644)
    return tmp_path


class Served:
    """``digest serve --port 0`` in ``root``; collects its terminal lines."""

    def __init__(self, root: Path, *args: str, tmp: Path | None = None):
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **({"TMPDIR": str(tmp)} if tmp else {})}
        self.proc = subprocess.Popen([sys.executable, "-m", "digest", "serve", "--port", "0", *args], cwd=root, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        line = self.expect("Serving ", timeout=60)
        self.url = line.split(" at ")[1].split()[0]

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def expect(self, text: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                assert self.proc.poll() is None, f"server exited: {self.seen}"
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"no line with {text!r} within {timeout} s; saw {self.seen}")

    def drain(self) -> None:
        """Forget lines printed so far (the server is shared by the module's tests)."""
        while not self.lines.empty():
            self.seen.append(self.lines.get_nowait())

    def poll(self, since: str, timeout: float = 20) -> dict:
        with urllib.request.urlopen(f"{self.url}__digest__/poll?since={since}&timeout={timeout}",
                                    timeout=timeout + 5) as r:
            return json.load(r)

    def poll_until(self, since: str, done, timeout: float = 30) -> dict:
        """Long-poll until ``done(state)``: one save can be seen as two changes (truncate, write)."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.poll(since, timeout=max(1.0, deadline - time.monotonic()))
            if done(state) or time.monotonic() > deadline:
                return state
            since = state["token"]

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as r:
                return r.status, r.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One server for the module (starting one costs seconds); each test puts back what it
    changed, and the one test that deletes a cache file runs last."""
    site = copy_site(tmp_path_factory.mktemp("served"))
    server = Served(site)
    yield site, server
    server.stop()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def in_own_thread(fn) -> None:
    """Run ``fn`` in a fresh thread: another test module may hold a session-wide Playwright
    whose event loop runs in the main thread, and the sync API refuses to nest in it."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=120)
    assert not thread.is_alive(), "the browser part did not finish within 120 s"
    if errors:
        raise errors[0]


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's Chromium")
def test_a_tab_reloads_by_itself_and_survives_a_broken_template(served):
    site, server = served
    server.drain()
    group = site / "templates" / "group.html"
    original = group.read_bytes()
    try:
        in_own_thread(lambda: _reload_and_recover(site, server))
    finally:
        if group.read_bytes() != original:
            group.write_bytes(original)


def _reload_and_recover(site: Path, server: Served) -> None:
    from playwright.sync_api import sync_playwright

    group = site / "templates" / "group.html"
    original = group.read_text(encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(server.url + "weeks/2026-w25/")
            assert "Week 25, 2026" in page.locator("h1").inner_text()
            page.evaluate("window.__beforeReload = true")

            edit(group, "{% block main %}", '{% block main %}<p id="live-edit">Edited live</p>')
            page.wait_for_selector("#live-edit", timeout=15000)
            assert page.evaluate("window.__beforeReload === undefined"), "the tab reloaded by itself"
            server.expect("rebuilt (pages)")

            group.write_text(original.replace("{% block main %}", "{% block main %}{% if %}"), encoding="utf-8")
            page.wait_for_selector("#digest-error", timeout=15000)
            assert "templates/group.html" in page.locator("#digest-error").inner_text()
            assert "Week 25, 2026" in page.locator("h1").inner_text(), "the last good page, under the overlay"
            server.expect("error: templates/group.html")
            assert server.proc.poll() is None, "the server keeps running"
            assert server.get("static/style.css")[0] == 200, "assets are still served"

            group.write_text(original, encoding="utf-8")
            page.wait_for_selector("#digest-error", state="detached", timeout=15000)
            page.wait_for_function("document.querySelector('h1') && document.querySelector('h1')"
                                   ".innerText.includes('Week 25, 2026')", timeout=15000)
            assert page.locator("#digest-error").count() == 0 and page.locator("#live-edit").count() == 0
            server.expect("recovered")
        finally:
            browser.close()


def test_long_poll_sees_config_errors_and_recovery(served):
    site, server = served
    server.drain()
    config = site / "digest.toml"
    good = config.read_text(encoding="utf-8")
    try:
        _config_errors_and_recovery(server, config, good)
    finally:
        if config.read_text(encoding="utf-8") != good:  # an identical write would still be an event
            config.write_text(good, encoding="utf-8")


def _config_errors_and_recovery(server: Served, config: Path, good: str) -> None:
    token = server.poll("", timeout=1)["token"]
    config.write_text(good.replace('title = "Central Asia Reading Digest"', 'title = "Steppe Weekly"'), encoding="utf-8")
    state = server.poll(token)
    assert state["error"] is None and state["token"] != token
    assert "Steppe Weekly" in server.get("")[1]

    config.write_text(good + "\nper_page = \n", encoding="utf-8")
    state = server.poll_until(state["token"], lambda st: "line 36" in (st["error"] or ""))
    assert "digest.toml" in (state["error"] or ""), (state, "\n".join(server.seen))
    status, body = server.get("countries/")  # the last good page, under the error
    assert status == 200 and 'id="digest-error"' in body and "digest.toml" in body and "__digest__/events" in body
    assert "Steppe Weekly" in body

    config.write_text(good, encoding="utf-8")
    state = server.poll_until(state["token"], lambda st: st["error"] is None)
    assert state["error"] is None
    status, body = server.get("countries/")
    assert status == 200 and "Central Asia Reading Digest" in body and 'id="digest-error"' not in body


def test_cache_and_newsletter_changes_rebuild(served):
    site, server = served
    server.drain()
    token = server.poll("", timeout=1)["token"]
    notes = site / "newsletter" / "2026-w25.toml"
    edit(notes, "This week Novastan talks", "This week, again, Novastan talks")
    state = server.poll(token)
    assert "This week, again, Novastan talks" in server.get("weeks/2026-w25/newsletter.md")[1]
    server.expect("rebuilt (")
    assert "novastan-interview.rss.xml" in server.get("sources/")[1]
    (site / "content_cache" / "novastan-interview.rss.xml").unlink()
    state = server.poll(state["token"])
    assert state["error"] is None
    assert "novastan-interview.rss.xml" not in server.get("sources/")[1]
    server.expect("rebuilt (full)")


def test_a_kept_builder_reuses_the_model_and_equals_a_fresh_build(tmp_path, monkeypatch):
    """serve's build process keeps one Builder: a template edit re-renders without making the
    model again, a cache edit makes it again, and each result equals a build from nothing."""
    site = copy_site(tmp_path / "site")
    config = load_config(site)
    made = []
    real = build_module.make_model
    monkeypatch.setattr(build_module, "make_model", lambda *a, **k: made.append(1) or real(*a, **k))
    builder = Builder(config, environ={})
    builder.build()
    edit(site / "templates" / "base.html", "<main", "<main data-edited")
    builder.build()
    assert len(made) == 1 and b"data-edited" in (site / "dist" / "index.html").read_bytes()
    edit(site / "content_cache" / "novastan-interview.rss.xml", "<title>", "<title>Edited: ")
    builder.build()
    assert len(made) == 2
    monkeypatch.undo()
    fresh = load_config(site, out_dir=tmp_path / "fresh")
    build(fresh, environ={}, parse_cache=tmp_path / "fresh-cache")
    assert _tree(site / "dist") == _tree(tmp_path / "fresh")


def test_open_pages_come_first(tmp_path):
    """The pages named first are rendered before the rest and handed over at once."""
    site = copy_site(tmp_path / "site")
    builder = Builder(load_config(site), environ={})
    builder.build()
    edit(site / "templates" / "base.html", "<main", "<main data-first")
    seen = []
    builder.build(first=["countries/kazakhstan/", "weeks/"], on_first=seen.append)
    assert len(seen) == 1
    assert sorted(a.path for a in seen[0]) == ["countries/kazakhstan/index.html", "weeks/index.html"]
    assert all(b"data-first" in a.data for a in seen[0])


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_reload_script_is_never_built(seed_build):
    out, _ = seed_build
    for page in out.rglob("*.html"):
        assert b"__digest__" not in page.read_bytes(), page
    assert inject(b"<html><body>x</body></html>", "t").count(b"__digest__/events") == 1


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's Chromium")
def test_no_page_is_served_stale_once_an_edit_was_seen(served):
    """A tab is open on one page; after a template edit that page reloads first, and any other
    page asked for while the rest of the site catches up already has the edit."""
    site, server = served
    server.drain()
    base = site / "templates" / "base.html"
    original = base.read_bytes()
    try:
        in_own_thread(lambda: _fresh_everywhere(site, server))
    finally:
        base.write_bytes(original)
        server.poll(server.poll("", timeout=1)["token"], timeout=10)


def _fresh_everywhere(site: Path, server: Served) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(server.url + "countries/")
            page.wait_for_timeout(300)  # its live-reload connection is up
            edit(site / "templates" / "base.html", "<main", '<main data-stale-check="1"')
            page.wait_for_selector("main[data-stale-check]", timeout=15000)
            for other in ("tags/", "authors/", "weeks/2026-w25/", "sources/"):
                status, body = server.get(other)
                assert status == 200 and 'data-stale-check="1"' in body, other
        finally:
            browser.close()


def test_dropped_connections_are_silent(served):
    import socket
    from urllib.parse import urlsplit

    site, server = served
    server.drain()
    before = len(server.seen)
    where = urlsplit(server.url)
    for path in (where.path, where.path + "__digest__/events?since=x", where.path + "static/style.css"):
        for _ in range(5):
            with socket.create_connection((where.hostname, where.port)) as conn:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                conn.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            # closed with a reset before the answer is read
    time.sleep(1.0)
    assert server.get("")[0] == 200
    server.drain()
    said = server.seen[before:]
    assert not any("Traceback" in line or "Error" in line for line in said), said


def test_ctrl_c_stops_cleanly_and_leaves_nothing_behind(tmp_path):
    import signal

    site = copy_site(tmp_path / "site")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    server = Served(site, "--host", "0.0.0.0", tmp=scratch)
    assert any("reachable from the network" in line for line in server.seen)
    children = subprocess.run(["pgrep", "-P", str(server.proc.pid)], capture_output=True, text=True).stdout.split()
    assert children, "the build process runs beside the server"
    edit(site / "templates" / "base.html", "<main", "<main data-x")  # a build under way when stopping
    time.sleep(0.3)
    server.proc.send_signal(signal.SIGINT)
    assert server.proc.wait(timeout=30) == 0
    server.drain()
    out = "\n".join(server.seen) + server.proc.stdout.read()
    assert "Traceback" not in out, out
    for pid in children:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
    assert not [p for p in site.iterdir() if p.name.startswith(".dist-new-")]
    assert not list(scratch.iterdir())  # no Pagefind scratch folder either

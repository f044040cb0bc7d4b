"""digest serve for real: a subprocess on a free port, a real Chromium tab that reloads by
itself after a template edit, a broken template and a broken config that the server survives
and shows, and recovery on the next good save. Every wait polls with a timeout."""

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

from digest.config import load_config
from digest.build import render_site
from digest.serve import Preview, inject

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

    def __init__(self, root: Path):
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "digest", "serve", "--port", "0"], cwd=root, env=env,
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
            server.expect("error: templates/group.html")
            assert server.proc.poll() is None, "the server keeps running"
            assert server.get("static/style.css")[0] == 200, "assets are still served"

            group.write_text(original, encoding="utf-8")
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
    state = server.poll(state["token"])
    assert "digest.toml" in state["error"]
    status, body = server.get("countries/")
    assert status == 500 and "digest.toml" in body and "__digest__/events" in body

    config.write_text(good, encoding="utf-8")
    state = server.poll(state["token"])
    assert state["error"] is None
    status, body = server.get("countries/")
    assert status == 200 and "Central Asia Reading Digest" in body


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


def test_pages_only_rebuild_matches_a_full_render(tmp_path):
    """The fast path (templates changed: keep the model, feeds, catalog) gives the same files
    as a full render, apart from the search index that is only rebuilt with the content."""
    site = copy_site(tmp_path)
    logs: list[str] = []
    preview = Preview(site, tmp_path / "out", "http://127.0.0.1:1/", logs.append, environ={})
    preview.rebuild({"config"})
    assert preview.error is None and (tmp_path / "out" / "index.html").is_file()
    edit(site / "templates" / "base.html", "<main", "<main data-edited")
    (site / "static" / "extra.css").write_text("p{}", encoding="utf-8")
    preview.rebuild({"render"})
    assert logs[-1].startswith("rebuilt (pages)"), logs
    full = render_site(preview.site, preview.config)
    fast = preview.files
    ignore = ("pagefind/",)
    assert {p for p in full if not p.startswith(ignore)} == {p for p in fast if not p.startswith(ignore)}
    for path, data in full.items():
        if not path.startswith(ignore):
            assert fast[path] == data, path
    assert b"data-edited" in (tmp_path / "out" / "index.html").read_bytes()
    assert (tmp_path / "out" / "static" / "extra.css").is_file()
    (site / "static" / "extra.css").unlink()
    preview.rebuild({"render"})
    assert not (tmp_path / "out" / "static" / "extra.css").exists()


def test_the_reload_script_is_never_built(seed_build):
    out, _ = seed_build
    for page in out.rglob("*.html"):
        assert b"__digest__" not in page.read_bytes(), page
    assert inject(b"<html><body>x</body></html>", "t").count(b"__digest__/events") == 1

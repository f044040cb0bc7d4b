"""digest fetch against a local HTTP server on 127.0.0.1 (no other network): 200, 304, 404,
500, slow responses, garbage, gzip, HTML pages; snapshots keep rolled-off stories."""

from __future__ import annotations

import gzip
import http.server
import json
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from digest.archive import snapshots
from digest.build import build_model
from digest.cli import main
from digest.config import FeedSource, load_config
from digest.fetch import FAILED, UNCHANGED, UPDATED, Options, fetch_all, page_text
from digest.sources import meta

ETAG = '"v1"'
LAST_MODIFIED = "Sun, 21 Jun 2026 12:01:20 GMT"


def rss(*items: tuple[str, str]) -> bytes:
    entries = "".join(
        f"<item><title>{title}</title><link>https://example.org/{slug}/</link>"
        f"<guid>https://example.org/?p={slug}</guid><pubDate>{date}</pubDate>"
        f"<category>Kazakhstan</category><description>Story {title} from Almaty, Kazakhstan.</description></item>"
        for title, slug, date in ((t, s, "Mon, 15 Jun 2026 10:00:00 +0000") for t, s in items)
    )
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Test feed</title>'
            f"<link>https://example.org/</link><description>t</description>{entries}</channel></rss>").encode()


PAGE = b"""<!doctype html><html><head><title>x</title><script>alert(1)</script><style>p{}</style></head>
<body><ul class="ticker"><li>KGS/USD = 0.01144 0%</li><li>KZT/USD = 0.00197 0%</li></ul>
<p>07 December 2025</p><p>Viewing results 19 - 24 of 1312</p>
<h2>Kazakhstan Enters the Global Rare Earth Metals Arena</h2>
<p>Kazakhstan ranks among the global leaders in proven rare earth metals reserves in Central Asia...</p>
</body></html>"""


class Handler(http.server.BaseHTTPRequestHandler):
    """Routes by path; ``state`` (shared per server) holds the feed body and request log."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output quiet
        pass

    def send(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 (http.server's name)
        state = self.server.state
        state["log"].append((self.path, dict(self.headers)))
        path = self.path
        if path == "/feed":
            if self.headers.get("If-None-Match") == state["etag"]:
                return self.send(304, headers={"ETag": state["etag"]})
            return self.send(200, state["feed"], {"ETag": state["etag"], "Content-Type": "application/rss+xml"})
        if path == "/lastmod":
            if self.headers.get("If-Modified-Since") == LAST_MODIFIED:
                return self.send(304)
            return self.send(200, state["feed"], {"Last-Modified": LAST_MODIFIED})
        if path == "/gzip":
            return self.send(200, gzip.compress(state["feed"]), {"Content-Encoding": "gzip"})
        if path == "/page":
            return self.send(200, PAGE, {"Content-Type": "text/html; charset=utf-8"})
        if path == "/missing":
            return self.send(404, b"not here")
        if path == "/broken":
            return self.send(500, b"oops")
        if path == "/flaky":
            state["flaky"] += 1
            return self.send(503, b"busy") if state["flaky"] < 3 else self.send(200, state["feed"])
        if path == "/slow":
            time.sleep(1.5)
            return self.send(200, state["feed"])
        if path == "/drip":  # headers at once, then a byte at a time: only a total deadline stops it
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            for _ in range(40):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.1)
            return None
        if path == "/garbage":
            return self.send(200, bytes(range(256)) * 8)
        if path == "/html":
            return self.send(200, b"<!doctype html><html><body><p>Please enable cookies</p></body></html>")
        return self.send(404)


@pytest.fixture()
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.state = {"feed": rss(("Alpha", "a"), ("Beta", "b")), "etag": ETAG, "log": [], "flaky": 0}
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv, f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


class Clock:
    def __init__(self):
        self.now = datetime(2026, 6, 21, 12, 0, tzinfo=timezone.utc)

    def __call__(self):
        self.now += timedelta(minutes=1)
        return self.now


FAST = Options(timeout=0.5, retries=2, backoff=0.01)


def site(tmp_path: Path, base: str, *sources: tuple[str, str, str]) -> Path:
    feeds = "".join(f'[[feeds]]\nname = "{n}"\nurl = "{base}{u}"\nkind = "{k}"\n\n' for n, u, k in sources)
    (tmp_path / "digest.toml").write_text(f'title = "T"\n\n{feeds}', encoding="utf-8")
    return tmp_path


def run(root: Path, *names: str, options: Options = FAST, clock=None):
    sleeps = []
    outcomes = fetch_all(load_config(root), names, options, clock=clock or Clock(), sleep=sleeps.append)
    return outcomes, sleeps


def test_first_fetch_writes_file_sidecar_and_snapshot(tmp_path, server):
    srv, base = server
    root = site(tmp_path, base, ("test.rss.xml", "/feed", "feed"))
    [outcome], _ = run(root)
    assert outcome.status == UPDATED
    cached = root / "content_cache" / "test.rss.xml"
    assert cached.read_bytes() == srv.state["feed"]
    record = meta.read(cached)
    assert record.url == f"{base}/feed" and record.etag == ETAG
    assert record.fetched == datetime(2026, 6, 21, 12, 1, tzinfo=timezone.utc)
    [snap] = snapshots(root / "content_cache", "test.rss.xml")
    assert snap.name == "20260621T120100Z-test.rss.xml" and snap.read_bytes() == srv.state["feed"]
    assert meta.read(snap).fetched == record.fetched
    agent = srv.state["log"][0][1]["User-Agent"]
    assert agent.startswith("digest/") and "+http" in agent


def test_304_changes_nothing(tmp_path, server):
    srv, base = server
    root = site(tmp_path, base, ("test.rss.xml", "/feed", "feed"), ("lm.rss.xml", "/lastmod", "feed"))
    run(root)
    cache = root / "content_cache"
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in cache.rglob("*") if p.is_file()}
    outcomes, _ = run(root)
    assert [o.status for o in outcomes] == [UNCHANGED, UNCHANGED]
    assert all("304" in o.detail for o in outcomes)
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in cache.rglob("*") if p.is_file()}
    assert after == before
    sent = [h for path, h in srv.state["log"][2:]]
    assert sent[0]["If-None-Match"] == ETAG and sent[1]["If-Modified-Since"] == LAST_MODIFIED


@pytest.mark.parametrize("path, expected, attempts", [
    ("/missing", "HTTP 404", 1),
    ("/broken", "HTTP 500", 3),
    ("/slow", "timed out", 3),
    ("/drip", "timed out", 3),
    ("/garbage", "binary file", 1),
    ("/html", "HTML page", 1),
])
def test_a_failed_download_keeps_the_last_good_copy(tmp_path, server, path, expected, attempts):
    srv, base = server
    root = site(tmp_path, base, ("test.rss.xml", "/feed", "feed"))
    run(root)
    cache = root / "content_cache"
    good, good_meta = (cache / "test.rss.xml").read_bytes(), (cache / "test.rss.xml.meta.json").read_bytes()
    site(tmp_path, base, ("test.rss.xml", path, "feed"))
    started = time.monotonic()
    [outcome], sleeps = run(root)
    assert time.monotonic() - started < 12, "timeouts are bounded"
    assert outcome.status == FAILED and expected in outcome.detail, outcome.detail
    assert "kept the last good copy" in outcome.detail
    assert outcome.attempts == attempts and sleeps == [0.01, 0.02][: attempts - 1]
    assert (cache / "test.rss.xml").read_bytes() == good
    assert (cache / "test.rss.xml.meta.json").read_bytes() == good_meta
    assert len(snapshots(cache, "test.rss.xml")) == 1
    assert not [p for p in cache.iterdir() if p.name.startswith(".")], "no temporary files left"


def test_retries_with_backoff_then_succeeds(tmp_path, server):
    _, base = server
    root = site(tmp_path, base, ("test.rss.xml", "/flaky", "feed"))
    [outcome], sleeps = run(root)
    assert outcome.status == UPDATED and outcome.attempts == 3 and sleeps == [0.01, 0.02]


def test_gzip_and_html_pages(tmp_path, server):
    srv, base = server
    root = site(tmp_path, base, ("z.rss.xml", "/gzip", "feed"), ("listing.txt", "/page", "page"))
    outcomes, _ = run(root)
    assert [o.status for o in outcomes] == [UPDATED, UPDATED], [o.detail for o in outcomes]
    assert (root / "content_cache" / "z.rss.xml").read_bytes() == srv.state["feed"]
    text = (root / "content_cache" / "listing.txt").read_text(encoding="utf-8")
    assert "alert" not in text and "• KGS/USD = 0.01144 0%" in text and "Viewing results 19 - 24 of 1312" in text
    model = build_model(load_config(root), environ={})
    titles = {a.title for a in model.articles.values()}
    assert "Kazakhstan Enters the Global Rare Earth Metals Arena" in titles
    assert model.rates and model.rates[0].pair == "KGS/USD"


def test_rolled_off_stories_stay_on_the_site(tmp_path, server):
    srv, base = server
    root = site(tmp_path, base, ("test.rss.xml", "/feed", "feed"))
    run(root)
    srv.state["feed"], srv.state["etag"] = rss(("Beta", "b"), ("Gamma", "c")), '"v2"'
    [outcome], _ = run(root, clock=Clock())
    assert outcome.status == UPDATED
    cache = root / "content_cache"
    assert len(snapshots(cache, "test.rss.xml")) == 2
    model = build_model(load_config(root), environ={})
    assert sorted(a.title for a in model.articles.values()) == ["Alpha", "Beta", "Gamma"]
    by_title = {a.title: a for a in model.articles.values()}
    assert by_title["Alpha"].sources == ("20260621T120100Z-test.rss.xml",)
    assert by_title["Beta"].sources == ("test.rss.xml",), "a story still in the feed is read once"
    assert len(model.sources) == 2  # the current feed and the snapshot holding the rolled-off story


def test_a_hand_saved_copy_is_archived_before_its_first_refresh(tmp_path, server):
    srv, base = server
    root = site(tmp_path, base, ("test.rss.xml", "/feed", "feed"))
    cache = root / "content_cache"
    cache.mkdir()
    (cache / "test.rss.xml").write_bytes(rss(("Old story", "old"), ("Alpha", "a")))
    (cache / "test.rss.xml.meta.json").write_text(json.dumps(
        {"url": f"{base}/feed", "fetched": "2026-06-01T08:00:00+00:00", "note": "saved by hand"}), encoding="utf-8")
    [outcome], _ = run(root)
    assert outcome.status == UPDATED
    first, second = snapshots(cache, "test.rss.xml")
    assert first.name == "20260601T080000Z-test.rss.xml" and b"Old story" in first.read_bytes()
    assert json.loads(meta.path_for(first).read_text(encoding="utf-8"))["note"] == "saved by hand"
    assert "note" not in json.loads((cache / "test.rss.xml.meta.json").read_text(encoding="utf-8"))
    titles = sorted(a.title for a in build_model(load_config(root), environ={}).articles.values())
    assert titles == ["Alpha", "Beta", "Old story"]


def test_only_named_sources_and_unknown_names(tmp_path, server):
    _, base = server
    root = site(tmp_path, base, ("a.rss.xml", "/feed", "feed"), ("b.rss.xml", "/missing", "feed"))
    outcomes, _ = run(root, "a.rss.xml")
    assert [o.source.name for o in outcomes] == ["a.rss.xml"]
    with pytest.raises(KeyError):
        run(root, "nope.xml")


def test_page_text_keeps_blocks_and_drops_scripts():
    text = page_text(b"<html><body><h2>T</h2><p>a <b>b</b>\n c</p><script>x()</script><ul><li>one</li></ul></body></html>")
    assert text == "T\n\na b c\n\n• one\n".encode()


def test_cli_fetch_reports_failures_and_is_quiet_without_a_tty(tmp_path, server, monkeypatch):
    _, base = server
    root = site(tmp_path, base, ("a.rss.xml", "/feed", "feed"), ("b.rss.xml", "/missing", "feed"))
    monkeypatch.chdir(root)
    result = CliRunner().invoke(main, ["fetch", "--timeout", "2", "--retries", "0"])
    assert result.exit_code == 0, result.output
    assert "[1/2]" not in result.output, "no progress lines when stderr is not a terminal"
    assert "warning: b.rss.xml: HTTP 404" in result.output
    assert "Fetched 2 source(s): 1 updated, 0 unchanged, 1 failed" in result.output
    result = CliRunner().invoke(main, ["fetch", "--strict", "--retries", "0"])
    assert result.exit_code == 1
    assert "1 unchanged" in result.output


def test_cli_fetch_without_sources_says_how_to_add_them(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["fetch"])
    assert result.exit_code == 1 and "[[feeds]]" in result.output


def test_the_repository_config_lists_the_seed_sources():
    config = load_config(Path(__file__).resolve().parent.parent)
    by_name = {f.name: f for f in config.feeds}
    assert by_name["novastan-kazakhstan.rss.xml"].url == "https://novastan.org/en/tag/kazakhstan/feed/"
    assert by_name["novastan-interview.rss.xml"].url == "https://novastan.org/en/tag/interview/feed/"
    assert by_name["novastan-war-in-ukraine.rss.xml"].url == "https://novastan.org/en/tag/war-in-ukraine/feed/"
    assert {f.kind for f in config.feeds if f.name.startswith("timesca-")} == {"page"}
    assert json.dumps([f.name for f in config.feeds])  # every name is a plain file name
    assert all("/" not in f.name for f in config.feeds)

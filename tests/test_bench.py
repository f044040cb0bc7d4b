"""The benchmark's own correctness (corpus, peer sites, measuring, report) — never its timings."""

import json
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

from bench import corpus, harness, peers, report
from bench.measure import run
from digest.build import build_model
from digest.config import load_config
from tests.conftest import SEEDS

SIZE = 240


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    work = tmp_path_factory.mktemp("bench")
    return harness.prepare(SIZE, work, seed_dir=SEEDS, log=lambda m: None)


def test_stories_have_the_promised_shape():
    seeds = corpus.load_seeds(SEEDS)
    stories = corpus.stories(1000, seeds)
    assert len(stories) == 1000 and len({s.slug for s in stories}) == 1000
    assert len({s.title for s in stories}) == 1000
    assert set(s.country for s in stories) == set(corpus.COUNTRIES)
    assert len({t for s in stories for t in s.tags}) == pytest.approx(1000 / 20, abs=2)
    assert len({s.author for s in stories if s.author}) == pytest.approx(1000 / 50, abs=2)
    days = [s.published for s in stories]
    assert (max(days) - min(days)).days > 600  # spread over about two years
    assert 10 <= sum(s.scraped for s in stories) <= 30
    assert corpus.stories(50, seeds) == corpus.stories(50, seeds)  # deterministic


def test_cache_files_hold_100_items_and_some_scrapes(generated):
    files = sorted(generated.cache.iterdir())
    feeds = [f for f in files if f.suffix == ".xml"]
    scrapes = [f for f in files if f.suffix == ".txt"]
    assert scrapes and feeds
    counts = [f.read_text(encoding="utf-8").count("<item>") for f in feeds]
    assert counts[:-1] == [100] * (len(counts) - 1) and sum(counts) == generated.info["feed_stories"]
    assert generated.info["feed_stories"] + generated.info["scraped_stories"] == SIZE
    assert json.loads((generated.root / "corpus.json").read_text())["stories"] == SIZE


def test_digest_reads_every_generated_story_once(generated):
    site = build_model(load_config(generated.site), environ={})
    assert len(site.order) == SIZE
    assert {c.name for c in site.countries if c.keys} == set(corpus.COUNTRIES)
    assert not [p for p in site.problems if "skipped" in p]
    assert load_config(generated.site).per_page == 10


def test_peers_get_the_same_stories_and_page_set(generated):
    pelican = list((generated.pelican / "content").glob("*.html"))
    hugo = list((generated.hugo / "content" / "posts").glob("*.html"))
    assert len(pelican) == len(hugo) == SIZE
    conf = (generated.pelican / "pelicanconf.py").read_text()
    assert "DEFAULT_PAGINATION = 10" in conf and "FEED_MAX_ITEMS = 20" in conf
    for key in ("CATEGORY_FEED_ATOM", "TAG_FEED_ATOM", "AUTHOR_FEED_ATOM"):
        assert key in conf
    hugo_conf = (generated.hugo / "hugo.toml").read_text()
    assert "pagerSize = 10" in hugo_conf and "limit = 20" in hugo_conf
    assert 'term = ["html", "rss"]' in hugo_conf
    sample = sorted(hugo)[0].read_text()
    assert re.search(r"^countries: \[", sample, re.M) and sample.startswith("---\n")
    tags = Counter(t for p in pelican for m in re.findall(r'name="tags" content="([^"]*)"', p.read_text())
                   for t in m.split(", "))
    assert len(tags) == pytest.approx(SIZE / 20, abs=2)


def test_new_feed_brings_100_new_stories(generated):
    text = generated.extra.read_text(encoding="utf-8")
    assert text.count("<item>") == 100
    existing = {m for f in generated.cache.glob("*.xml") for m in re.findall(r"<guid[^>]*>([^<]+)", f.read_text())}
    assert not existing & set(re.findall(r"<guid[^>]*>([^<]+)", text))


def test_run_measures_exit_code_time_and_memory(tmp_path):
    ok = run([sys.executable, "-c", "x = bytearray(50 * 2**20); print('hi')"], tmp_path)
    assert ok.returncode == 0 and ok.seconds > 0 and ok.peak_bytes > 50 * 2**20 and "hi" in ok.output
    # CPU time counts the workers the command waited for, not only its own process.
    busy = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass\n"
    spin = run([sys.executable, "-c", "import subprocess, sys\n" + busy
                + f"subprocess.run([sys.executable, '-c', {busy!r}])"], tmp_path)
    assert 0.55 <= spin.user + spin.system <= spin.seconds * 2 + 0.5  # (process_time() is itself a system call)
    bad = run([sys.executable, "-c", "raise SystemExit(3)"], tmp_path)
    assert bad.returncode == 3
    slow = run([sys.executable, "-c", "import time; time.sleep(30)"], tmp_path, timeout=0.5)
    assert slow.timed_out and slow.seconds < 10


def _result(size, tool, seconds, pages=100, note=""):
    from bench.measure import Run
    r = harness.Result(size, tool, [Run(s, 2**20 * 10, 0) for s in seconds], pages=pages, note=note)
    return r


def test_table_has_medians_ratios_and_time_boxed_peers():
    from bench.measure import Run
    results = [_result(1000, "digest: cold", [1.0, 3.0, 2.0]), _result(1000, "Hugo", [4.0]),
               _result(1000, "Pelican", [8.0])]
    timed_out = harness.Result(1000, "Pelican", [Run(900.0, 0, -9, timed_out=True)], note="stopped after 900 s (time box)")
    text = report.table(results)
    row = next(line for line in text.splitlines() if "digest: cold" in line)
    assert "| 2.00 |" in row and "0.25×" in row and "0.50×" in row and "| 50 |" in row
    assert "| – |" in row  # no CPU time measured for these runs
    cpu = harness.Result(1000, "digest: cold", [Run(2.0, 0, 0, user=u, system=s) for u, s in ((3.0, 1.0), (5.0, 0.5))],
                         pages=10)
    assert "| 4.0 + 0.8 |" in report.table([cpu])  # medians of user and of system time
    assert "time box" in report.table([results[0], timed_out])


def test_doc_keeps_the_prose_around_the_table(tmp_path):
    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text(f"# Benchmarks\n\nintro\n\n{report.BEGIN}\nold\n{report.END}\n\nanalysis\n")
    report.write_doc(doc, "new table")
    text = doc.read_text()
    assert "intro" in text and "analysis" in text and "new table" in text and "old" not in text
    fresh = tmp_path / "new.md"
    report.write_doc(fresh, "t")
    assert report.BEGIN in fresh.read_text()


def test_hugo_layouts_cover_every_kind(tmp_path):
    peers.write_hugo_site(tmp_path)
    for name in ("baseof.html", "home.html", "page.html", "section.html", "taxonomy.html", "term.html"):
        assert (tmp_path / "layouts" / name).is_file()
    assert Path(harness.__file__).parent.name == "bench"


def _as_articles(stories_, outlets: int):
    """The stories as articles of ``outlets`` outlets, all within a few days (the worst case)."""
    from datetime import datetime, timedelta, timezone

    from digest.model import EXACT, Article
    from digest.text import excerpt, plain

    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    return [Article(id=str(s.number), slug=s.slug, title=s.title, source_url=s.link, publisher=f"Outlet {s.number % outlets}",
                    authors=(), tags=(), countries=(s.country,), published=start + timedelta(minutes=40 * s.number),
                    date_precision=EXACT, date_note="", body_html=s.body, excerpt=excerpt(plain(s.summary)), sources=())
            for s in stories_]


def test_no_two_generated_stories_read_as_one_event(monkeypatch):
    from digest import events

    seeds = corpus.load_seeds(SEEDS)
    stories_ = corpus.stories(300, seeds)
    # four outlets (a seed comes back every 30 stories, 20 hours later, in another outlet) and
    # no place gate: only the words can keep them apart
    assert events.group(_as_articles(stories_, 4), {})[0] == {}
    # The seeds' own words, repeated (the corpus before each story had its own words), would
    # read as events: what the rewriting is for.
    monkeypatch.setattr(corpus.Rewriter, "text", lambda self, html_, shift: html_)
    assert events.group(_as_articles(corpus.stories(300, seeds), 4), {})[0] != {}


def test_size_breakdown_sorts_every_file_by_kind(tmp_path):
    from bench import size
    files = {"articles/a/index.html": 100, "countries/x/feed.xml": 30, "tags/y/feed.json": 20, "index.xml": 5,
             "search-index/0123456789abcdef/t0.gz": 7, "weeks/2026-w01/index.html": 11, "weeks/2026-w01/newsletter.md": 13,
             "tags/y/page/2/index.html": 17, "sitemap-1.xml": 3, "index.html": 1}
    for rel, n in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x" * n)
    got = size.breakdown(tmp_path)
    assert got["article pages"] == size.Size(100, 1) and got["feeds"] == size.Size(55, 3)
    assert got["search index"].bytes == 7 and got["week pages"].bytes == 11 and got["newsletters"].bytes == 13
    assert got["listings"].bytes == 17 and got["sitemaps"].bytes == 3 and got["other"] == size.Size(1, 1)
    assert size.total(got) == size.Size(sum(files.values()), len(files))


def test_size_table_sets_digest_beside_hugo():
    from bench import size
    ours = _result(10000, "digest: cold", [1.0])
    ours.sizes = {k: size.Size(0, 0) for k in size.KINDS} | {"article pages": size.Size(150_000_000, 10)}
    hugo = _result(10000, "Hugo", [1.0])
    hugo.sizes = {k: size.Size(0, 0) for k in size.KINDS} | {"article pages": size.Size(200_000_000, 20)}
    text = report.size_table([ours, hugo, _result(10000, "digest: no-change", [1.0])])
    row = next(line for line in text.splitlines() if "| digest |" in line)
    assert "| 150.0 | 10 | 0.75× |" in row
    assert "| Hugo | 200.0 | 20 | – |" in text and len(text.splitlines()) == 4


def test_bench_settings_go_into_the_bench_site_config(tmp_path):
    harness._configure(tmp_path, ("full_text_weeks = 13", "per_page = 50"))
    config = load_config(tmp_path)
    assert config.full_text_weeks == 13 and config.per_page == 50
    harness._configure(tmp_path)
    assert load_config(tmp_path).per_page == 10 and load_config(tmp_path).full_text_weeks == 0


def test_peers_can_be_chosen_for_a_big_run():
    from bench.__main__ import parse_args
    opts, _ = parse_args(["--sizes", "100000", "--peers", "Hugo", "--doc", "-"])
    assert opts.peers and opts.peer_names == ("Hugo",)
    opts, _ = parse_args(["--sizes", "1000", "--doc", "-"])
    assert opts.peer_names == ("Hugo", "Pelican")
    with pytest.raises(SystemExit):
        parse_args(["--peers", "Jekyll"])

"""The parse cache is only a cache: cold, warm, corrupt, stale or missing, the site is the same.
Also the speed-work helpers it relies on (fast relative links, XML-safe text, workers)."""

import os
import posixpath
import time
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from digest import parsecache, workers
from digest.build import build, build_model
from digest.classify import classify, unify_tag_spellings
from digest.cli import main
from digest.feeds import _xml_safe
from digest.normalize import normalize
from digest.parsecache import ParseCache
from digest.site import build_site
from digest.sources import read_cache
from digest.urls import _relpath
from tests.conftest import SEEDS, make_site


def _tree(root: Path) -> dict[str, bytes]:
    # pagefind/ left out: Pagefind's own bundle varies between runs on identical pages (its
    # filter/meta file names), which is the search stage's matter, not the cache's.
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.relative_to(root).as_posix().startswith("pagefind/")}


def _plain_model(config):
    """The pipeline without any cache or worker: the reference."""
    reports = read_cache(config.path(config.cache_dir))
    articles = unify_tag_spellings(classify(normalize(reports), config))
    return build_site(articles, reports, config, {})


def _same(site):
    """The model with every body in its article (the store's, or the article's own), no store:
    what two models must agree on whether or not their bodies sit in a store."""
    articles = {k: replace(a, body_html=site.body(k)) for k, a in site.articles.items()}
    return replace(site, articles=articles, bodies=None)


@pytest.fixture
def parallel(monkeypatch):
    """Make even the five seed files go through the process pool."""
    monkeypatch.setattr(parsecache, "MIN_PARALLEL", 1)
    monkeypatch.setattr(parsecache, "MIN_PARALLEL_CLASSIFY", 1)


def test_cold_warm_and_parallel_models_equal_the_plain_pipeline(tmp_path, seed_config, parallel):
    reference = _plain_model(seed_config)
    cache = ParseCache(tmp_path / "pc")
    cold = build_model(seed_config, {}, cache, jobs=2)
    assert cache.stats.misses == 5 and cache.stats.hits == 0
    warm_cache = ParseCache(tmp_path / "pc")
    warm = build_model(seed_config, {}, warm_cache, jobs=2)
    assert warm_cache.stats.hits == 5 and warm_cache.stats.misses == 0
    assert _same(cold) == _same(reference)
    assert _same(warm) == _same(reference)


def test_corrupt_and_truncated_entries_are_recomputed(tmp_path, seed_config):
    root = tmp_path / "pc"
    reference = _same(build_model(seed_config, {}, ParseCache(root), jobs=1))
    entries = [p for p in root.rglob("*") if p.is_file() and not p.name.startswith("bodies.sqlite")]  # see test_store.py
    assert len(entries) >= 5 + 5 + 1  # sources, articles per source, the classification table
    for i, path in enumerate(entries):
        data = path.read_bytes()
        path.write_bytes(b"garbage" if i % 3 == 0 else data[: len(data) // 2] if i % 3 == 1 else data[:-1] + b"x")
    cache = ParseCache(root)
    assert _same(build_model(seed_config, {}, cache, jobs=1)) == reference
    assert cache.stats.corrupt >= len(entries) // 2
    assert ParseCache(root).load("sources", "0" * 64) is None


def test_entry_under_another_key_is_not_trusted(tmp_path):
    cache = ParseCache(tmp_path)
    cache.store("sources", "a" * 64, "value for a")
    (tmp_path / "sources" / "bb").mkdir(parents=True)
    os.replace(tmp_path / "sources" / "aa" / ("a" * 64), tmp_path / "sources" / "bb" / ("b" * 64))
    assert cache.load("sources", "b" * 64) is None


def test_key_covers_code_version_bytes_name_and_sidecar(tmp_path):
    feed = tmp_path / "a.xml"
    feed.write_bytes(b"<rss/>")
    cache = ParseCache(tmp_path / "pc", version="v1")
    first = parsecache.source_key(cache, feed)
    assert parsecache.source_key(ParseCache(tmp_path / "pc", version="v2"), feed) != first
    feed.write_bytes(b"<rss />")
    second = parsecache.source_key(cache, feed)
    assert second != first
    (tmp_path / "a.xml.meta.json").write_text('{"fetched": "2026-06-01T00:00:00+00:00"}')
    assert parsecache.source_key(cache, feed) != second
    other = tmp_path / "b.xml"
    other.write_bytes(b"<rss />")
    assert parsecache.source_key(cache, other) != second
    assert parsecache.code_version() == parsecache.code_version()


def test_changed_source_is_read_again(tmp_path):
    rss = ("<?xml version='1.0'?><rss version='2.0'><channel><title>T</title><link>https://e.org/</link>"
           "<item><title>{t}</title><link>https://e.org/{s}/</link><pubDate>Mon, 01 Jun 2026 10:00:00 +0000</pubDate>"
           "<description>In Bishkek, Kyrgyzstan.</description></item></channel></rss>")
    site = make_site(tmp_path, {"f.xml": rss.format(t="Bishkek school", s="a")})
    from digest.config import load_config
    config = load_config(site)
    first = build_model(config, {}, ParseCache(site / ".pc"), 1)
    (site / "content_cache" / "f.xml").write_text(rss.format(t="Osh market", s="b"))
    again = build_model(config, {}, ParseCache(site / ".pc"), 1)
    assert [a.title for a in first.articles.values()] == ["Bishkek school"]
    assert [a.title for a in again.articles.values()] == ["Osh market"]


def test_an_unchanged_file_keeps_its_key_unread_and_any_change_is_seen(tmp_path, monkeypatch):
    """Keys come from a file's bytes, but a file whose stat is the recorded one is not read
    again; a rewrite of the same size with its modification time put back still changes the
    stat (its change time), and a file written within the racy window is never trusted."""
    monkeypatch.setattr(parsecache, "RACY_NS", 0)
    paths = []
    for name in ("a.xml", "b.xml"):
        (tmp_path / name).write_bytes(b"<rss>" + name.encode() + b"</rss>")
        paths.append(tmp_path / name)
    read = []
    real = parsecache.source_key
    monkeypatch.setattr(parsecache, "source_key", lambda cache, path: read.append(path.name) or real(cache, path))
    first = parsecache.source_keys(ParseCache(tmp_path / "pc"), paths)
    assert read == ["a.xml", "b.xml"] and first == [real(ParseCache(tmp_path / "pc"), p) for p in paths]
    read.clear()
    assert parsecache.source_keys(ParseCache(tmp_path / "pc"), paths) == first and read == []
    before = paths[0].stat()
    time.sleep(0.02)  # past the file system's clock tick
    paths[0].write_bytes(b"<rss>A.xml</rss>")  # same size
    os.utime(paths[0], ns=(before.st_atime_ns, before.st_mtime_ns))
    (tmp_path / "b.xml.meta.json").write_text("{}")  # a sidecar appears
    again = parsecache.source_keys(ParseCache(tmp_path / "pc"), paths)
    assert read == ["a.xml", "b.xml"] and again[0] != first[0] and again[1] != first[1]
    monkeypatch.setattr(parsecache, "RACY_NS", 10**12)  # every file is "just written"
    read.clear()
    parsecache.source_keys(ParseCache(tmp_path / "pc2"), paths)
    parsecache.source_keys(ParseCache(tmp_path / "pc2"), paths)
    assert read == ["a.xml", "b.xml"] * 2


def test_deleting_the_cache_never_changes_the_site(tmp_path, seed_config):
    out_a, out_b = tmp_path / "a", tmp_path / "b"
    pc = tmp_path / "pc"
    build(replace(seed_config, out_dir=out_a), environ={}, parse_cache=pc)
    build(replace(seed_config, out_dir=out_a), environ={}, parse_cache=pc)  # warm
    assert any(pc.rglob("*"))
    import shutil
    shutil.rmtree(pc)
    build(replace(seed_config, out_dir=out_b), environ={}, parse_cache=pc)
    assert _tree(out_a) == _tree(out_b)


def test_unwritable_cache_does_not_break_the_build(tmp_path, seed_config):
    blocker = tmp_path / "pc"
    blocker.write_text("a file where the cache folder should be")
    result = build(replace(seed_config, out_dir=tmp_path / "dist"), environ={}, parse_cache=blocker)
    assert len(result.site.order) > 0


def test_cli_parse_cache_option_and_quiet_progress_off_a_terminal(tmp_path):
    site = make_site(tmp_path, {p.name: p.read_bytes() for p in SEEDS.iterdir() if p.is_file()})
    runner = CliRunner()
    cwd = os.getcwd()
    os.chdir(site)
    try:
        result = runner.invoke(main, ["build", "--parse-cache", "pc", "--jobs", "2"], env={"SOURCE_DATE_EPOCH": None})
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    assert list((site / "pc" / "sources").rglob("*")), "the cache went where --parse-cache said"
    assert not (site / ".digest-cache").exists()
    assert "\r" not in result.output and "\033[" not in result.output  # no progress display off a terminal
    summary = [line for line in result.output.splitlines() if line.startswith("Built ")]
    assert len(summary) == 1 and "stories" in summary[0] and " s" in summary[0]


paths = st.lists(st.sampled_from(["a", "b", "tags", "x y", "é", "index.html", "page", "2"]), max_size=4)


@given(paths, paths)
def test_fast_relpath_equals_posixpath(a, b):
    src, dst = "/".join(a) or ".", "/".join(b) or "."
    assert _relpath(dst, src) == posixpath.relpath(dst, src)


@given(st.text())
def test_xml_safe_keeps_exactly_what_xml_can_carry(text):
    expected = "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 0x20 and ch not in "\ufffe\uffff")
    assert _xml_safe(text) == expected


def _squares(offset, start, end):
    return [offset + i * i for i in range(start, end)]


def test_workers_keep_order_across_processes():
    parts = list(workers.iter_ranges(_squares, (1,), 103, jobs=2))
    assert [x for part in parts for x in part] == [1 + i * i for i in range(103)]
    assert list(workers.iter_ranges(_squares, (0,), 5, jobs=1)) == [[0, 1, 4, 9, 16]]


def _site_with_seeds(tmp_path):
    return make_site(tmp_path, {p.name: p.read_bytes() for p in SEEDS.iterdir() if p.is_file()})


def test_no_change_rebuild_reuses_dist_and_the_model(tmp_path):
    from digest.config import load_config
    site = _site_with_seeds(tmp_path)
    config = load_config(site)
    first = build(config, environ={})
    before = _tree(site / "dist")
    (site / ".build.log").write_text("a log next to the site is not an input")
    again = build(config, environ={})
    assert again.written == 0 and again.unchanged == first.files == again.files
    assert again.site == first.site and again.problems == first.problems
    assert _tree(site / "dist") == before


def test_any_changed_input_or_touched_output_means_a_full_build(tmp_path):
    from digest.config import load_config
    site = _site_with_seeds(tmp_path)
    config = load_config(site)
    build(config, environ={})
    # a new template in the site folder
    (site / "templates").mkdir()
    base = (Path(__file__).resolve().parent.parent / "templates" / "base.html").read_text()
    (site / "templates" / "base.html").write_text(base.replace("</body>", "<!-- mine --></body>"))
    changed = build(config, environ={})
    assert changed.written > 0 and "<!-- mine -->" in (site / "dist" / "index.html").read_text()
    # a reader edited a file in dist/: the next build puts the real one back
    (site / "dist" / "index.html").write_text("edited by hand")
    repaired = build(config, environ={})
    assert repaired.written >= 1 and "<!-- mine -->" in (site / "dist" / "index.html").read_text()
    # another "now"
    dated = build(config, environ={"SOURCE_DATE_EPOCH": "1800000000"})
    assert dated.written > 0
    # a removed source
    victim = sorted((site / "content_cache").glob("*.xml"))[0]
    victim.unlink()
    fewer = build(config, environ={"SOURCE_DATE_EPOCH": "1800000000"})
    assert len(fewer.site.order) < len(dated.site.order)


def test_no_change_model_survives_a_corrupt_stored_model(tmp_path):
    from digest.config import load_config
    site = _site_with_seeds(tmp_path)
    config = load_config(site)
    first = build(config, environ={})
    for path in (site / ".digest-cache" / "state").rglob("last-site"):
        path.write_bytes(b"not a pickle")
    again = build(config, environ={})
    assert again.written == 0 and again.site == first.site  # rebuilt from the parse cache instead


def test_cache_keeps_only_what_the_last_build_used(tmp_path):
    from digest.config import load_config
    site = _site_with_seeds(tmp_path)
    config = load_config(site)
    build(config, environ={})
    entries = lambda: sorted(p.name for p in (site / ".digest-cache").rglob("*") if p.is_file())  # noqa: E731
    first = entries()
    victim = sorted((site / "content_cache").glob("*.xml"))[0]
    victim.write_bytes(victim.read_bytes().replace(b"<title>", b"<title>New: ", 1))
    build(config, environ={})
    second = entries()
    assert len(second) == len(first)  # the old version's entries went, the new one's came
    assert second != first


def _feed(items: str) -> str:
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>https://t.example/</link>{items}</channel></rss>'


def _item(n: int, date: str) -> str:
    return (f"<item><title>Story {n}</title><link>https://t.example/{n}</link><pubDate>{date}</pubDate>"
            f"<description>&lt;p&gt;Body {n} of a story from Osh, Kyrgyzstan.&lt;/p&gt;</description></item>")


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_file_whose_items_the_audit_changed_is_cleaned_again_from_the_file(tmp_path, parallel, monkeypatch, jobs):
    """Stories are cleaned by the process that read the file, but the cache-wide audit may
    still change an item (a date from the future, in a file that cannot date itself): such a
    file's stories are cleaned again from the file, and none goes without its body."""
    site = make_site(tmp_path, {"a.xml": _feed(_item(1, "Fri, 01 May 2026 08:00:00 +0000")
                                                + _item(2, "Sat, 02 May 2026 08:00:00 +0000")),
                                "b.xml": _feed(_item(3, "Sun, 03 May 2026 08:00:00 +0000")
                                                + _item(4, "Thu, 01 Jan 2099 08:00:00 +0000"))})
    cleaned = []
    real = parsecache._clean
    if jobs == 1:  # a lambda cannot cross to a worker
        monkeypatch.setattr(parsecache, "_clean", lambda report: cleaned.append(report.file) or real(report))
    from digest.config import load_config
    model = build_model(load_config(site), {}, ParseCache(site / ".digest-cache"), jobs=jobs)
    by_title = {a.title: a for a in model.articles.values()}
    assert by_title["Story 4"].published is None  # the audit's change is what the model has
    assert all(f"Body {n} of a story" in model.body(by_title[f"Story {n}"].id) for n in (1, 2, 3, 4))
    if jobs == 1:  # in this process: each file cleaned once as read, b.xml once more after the audit
        assert sorted(cleaned) == ["a.xml", "b.xml", "b.xml"]


def test_results_of_the_reading_pool_come_as_a_stream(monkeypatch):
    """Each file's cleaned bodies reach the store as its result comes back, not after all files
    are read (the parent would hold every body of the archive at once)."""
    calls = []

    def read(item):
        calls.append(item)
        return item * 10

    stream = parsecache._imap(read, [1, 2, 3], jobs=1)
    assert next(stream) == 10 and calls == [1]
    assert list(stream) == [20, 30]
    monkeypatch.setattr(parsecache, "MIN_PARALLEL", 1)
    assert list(parsecache._imap(_tenfold, [1, 2, 3, 4], jobs=2)) == [10, 20, 30, 40]


def _tenfold(x):
    return x * 10


def test_reading_new_files_gives_the_freed_heap_back_once(tmp_path, monkeypatch):
    from digest.sources import read_source
    trims = []
    monkeypatch.setattr(parsecache, "trim_heap", lambda: trims.append(1))
    site = _site_with_seeds(tmp_path)
    paths = sorted((site / "content_cache").glob("*.xml"))
    cache = parsecache.ParseCache(tmp_path / "cache")
    first = parsecache.read_sources(paths, cache, 1, read_source)
    assert trims == [1]
    again = parsecache.read_sources(paths, parsecache.ParseCache(tmp_path / "cache"), 1, read_source)
    assert trims == [1] and again == first  # all from the cache: nothing came through, nothing to give back

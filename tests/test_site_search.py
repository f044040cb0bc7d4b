"""The Pagefind search bundle: built with the site, small, complete and deterministic.
(It is left out of tests/golden, see tests/golden.py, so its determinism is proved here.)"""

import json
import time
from dataclasses import replace

from digest.build import build
from digest.pagefind_run import UNUSED, index_files


def _bundle(out):
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted((out / "pagefind").rglob("*")) if p.is_file()}


def test_search_bundle_is_byte_identical_across_builds(tmp_path, seed_config, seed_build):
    out, _ = seed_build
    again = tmp_path / "again"
    build(replace(seed_config, out_dir=again), environ={})
    first, second = _bundle(out), _bundle(again)
    assert first and first == second


def test_every_article_and_only_articles_are_indexed(seed_build, catalog):
    out, _ = seed_build
    entry = json.loads((out / "pagefind" / "pagefind-entry.json").read_text())
    assert entry["languages"]["en"]["page_count"] == len(catalog)
    fragments = list((out / "pagefind" / "fragment").iterdir())
    assert len(fragments) == len(catalog)


def test_only_what_the_search_page_loads_is_shipped(seed_build):
    out, _ = seed_build
    names = set(_bundle(out))
    assert {"pagefind/pagefind.js", "pagefind/pagefind-entry.json", "pagefind/wasm.en.pagefind"} <= names
    assert not [n for n in names if n.removeprefix("pagefind/").startswith(UNUSED)]


def test_index_files_indexes_html_given_in_memory():
    page = ('<!doctype html><html lang="en"><head><title>t</title></head><body><nav>menu</nav>'
            '<h1 data-pagefind-body>Karakol apples</h1><div data-pagefind-body><p>Orchards near Issyk-Kul.</p></div></body></html>')
    other = '<!doctype html><html lang="en"><body><p>No opt-in marker, so not indexed.</p></body></html>'
    files = index_files({"articles/a/index.html": page.encode(), "tags/index.html": other.encode()})
    entry = json.loads(files["pagefind/pagefind-entry.json"])
    assert entry["languages"]["en"]["page_count"] == 1
    assert all(path.startswith("pagefind/") for path in files)
    fragment_count = sum(1 for path in files if path.startswith("pagefind/fragment/"))
    assert fragment_count == 1


def test_search_page_loads_the_bundle_relative_to_itself(seed_build):
    out, _ = seed_build
    html = (out / "search" / "index.html").read_text()
    assert 'data-bundle="../pagefind/pagefind.js"' in html
    assert '<script type="module" src="../static/search.js' in html
    assert "<noscript>" in html  # says what to do without JavaScript


def test_an_empty_cache_builds_a_search_page_without_a_bundle(tmp_path):
    from digest.config import load_config
    from tests.conftest import make_site

    site = make_site(tmp_path, {})
    build(load_config(site), environ={})
    assert not (site / "dist" / "pagefind").exists()
    html = (site / "dist" / "search" / "index.html").read_text()
    assert "no stories to search yet" in html and "search.js" not in html


# --- Shards (digest/search.py): many small Pagefind runs, each cached, merged by the browser. ---

import gzip

import pytest

from digest import pagefind_run, search
from digest.parsecache import ParseCache

WORDS = ["almaty", "bishkek", "dushanbe", "ashgabat", "tashkent", "osh", "khujand", "nukus", "aktau", "karakol"]


def _doc(i: int) -> bytes:
    # Each story has a word of its own (spelled in letters: "story" + its number as words).
    own = "".join(WORDS[int(d)] for d in str(i))
    return (f'<!doctype html><html lang="en"><head><title>Story {i}</title></head><body>'
            f'<h1 data-pagefind-body data-pagefind-meta="title">Story {i}</h1>'
            f'<div data-pagefind-body><p>Caravan {own} notes from the steppe.</p></div></body></html>').encode()


def _docs(numbers) -> dict[str, bytes]:
    """Oldest first, as ``search.documents`` returns them."""
    return {f"articles/story-{i}/index.html": _doc(i) for i in numbers}


def _by_shard(files: dict[str, bytes]) -> dict[str, dict[str, bytes]]:
    """Shard folder ("" for the primary bundle) → its files."""
    out: dict[str, dict[str, bytes]] = {}
    for path, data in files.items():
        rel = path.removeprefix("pagefind/")
        if rel == "shards.json":
            continue
        folder = ""
        if rel.startswith("shard/"):
            folder, rel = rel[: rel.index("/", len("shard/")) + 1], rel[rel.index("/", len("shard/")) + 1:]
        out.setdefault(folder, {})[rel] = data
    return out


def _urls(shard: dict[str, bytes]) -> list[str]:
    return [json.loads(gzip.decompress(data).removeprefix(b"pagefind_dcd"))["url"]
            for rel, data in shard.items() if rel.startswith("fragment/")]


@pytest.fixture
def small_shards(monkeypatch):
    monkeypatch.setenv(search.SHARD_ENV, "8")  # C = 8: a few dozen documents make several shards


def test_shard_size_grows_in_powers_of_two_with_the_archive(monkeypatch):
    monkeypatch.delenv(search.SHARD_ENV, raising=False)
    assert search.shard_size(40) == search.shard_size(1_000) == search.shard_size(10_000) == 512
    assert search.shard_size(100_000) == 4096
    for n in (1_000, 10_000, 100_000, 1_000_000):
        assert n / search.shard_size(n) <= search.MAX_SHARDS
    monkeypatch.setenv(search.SHARD_ENV, "8")
    assert search.shard_size(100_000) == 8


def test_shard_boundaries_are_content_defined_and_capped():
    paths = list(_docs(range(400)))
    cut = search.shards(paths, 8)
    assert [p for shard in cut for p in shard] == paths  # every document once, in order
    assert 400 / 8 / 2 < len(cut) < 400 / 8 * 2
    assert max(map(len, cut)) <= search.cap(8)
    for shard in cut[:-1]:  # each ends at a boundary document or at the cap
        assert search._path_hash(shard[-1]) % 8 == 0 or len(shard) == search.cap(8)


def test_a_multi_shard_index_has_every_document_exactly_once(small_shards):
    docs = _docs(range(60))
    files = search.cached_index(docs, "en")
    shards = _by_shard(files)
    manifest = json.loads(files["pagefind/shards.json"])["shards"]
    assert len(shards) > 3 and sorted(manifest) == sorted(f for f in shards if f)
    counts = [json.loads(s["pagefind-entry.json"])["languages"]["en"]["page_count"] for s in shards.values()]
    assert sum(counts) == len(docs)
    urls = [url for s in shards.values() for url in _urls(s)]
    assert sorted(urls) == sorted("/" + p for p in docs)
    # Only the primary bundle carries the API, worker and WebAssembly; the others only index data.
    assert {"pagefind.js", "pagefind-worker.js", "wasm.en.pagefind"} <= set(shards[""])
    for folder in manifest:
        assert not [rel for rel in shards[folder] if rel.startswith(search.RUNTIME)]
        assert "pagefind-entry.json" in shards[folder]
    assert files == search.cached_index(dict(docs), "en")  # deterministic


def test_appending_the_newest_documents_changes_only_the_last_shard(small_shards):
    before = _by_shard(search.cached_index(_docs(range(60)), "en"))
    after = _by_shard(search.cached_index(_docs(range(75)), "en"))
    order = list(before)  # primary first, then the manifest's order (oldest first)
    last = json.loads(search.cached_index(_docs(range(60)), "en")["pagefind/shards.json"])["shards"][-1]
    assert len(order) > 3
    for folder, files in before.items():
        if folder != last:
            assert after.get(folder) == files, folder  # same path, same bytes
    assert len(set(after) - set(before)) >= 1


def test_a_story_inserted_in_the_middle_changes_at_most_two_shards(small_shards):
    base = list(range(0, 120, 2))
    before = _by_shard(search.cached_index(_docs(base), "en"))
    for late in (31, 61, 89):  # a late-arriving older story, at three places
        numbers = sorted(base + [late])
        after = _by_shard(search.cached_index(_docs(numbers), "en"))
        changed = {f for f in set(before) | set(after) if before.get(f) != after.get(f)}
        gone = {f for f in changed if f in before}
        assert 1 <= len(gone) <= 2, (late, gone)


def test_the_cache_reindexes_only_the_shards_that_changed(tmp_path, small_shards, monkeypatch):
    runs = []
    real = pagefind_run.PagefindRun.start

    def counting(run):
        runs.append(run.count)
        return real(run)

    monkeypatch.setattr(pagefind_run.PagefindRun, "start", counting)
    cache = ParseCache(tmp_path / "cache")
    docs = _docs(range(60))
    first = search.cached_index(docs, "en", cache)
    shards = len(_by_shard(first))
    assert len(runs) == shards > 3 and sum(runs) == 60 and max(runs) <= search.cap(8)

    runs.clear()
    assert search.cached_index(docs, "en", cache) == first and runs == []  # nothing changed

    runs.clear()
    grown = search.cached_index(_docs(range(64)), "en", cache)  # four new, newest stories
    assert 1 <= len(runs) <= 2 and sum(runs) < 30
    runs.clear()
    assert grown == search.cached_index(_docs(range(64)), "en")  # the same as built without a cache
    assert len(runs) == len(_by_shard(grown))


def test_the_seed_site_is_one_shard_with_an_empty_manifest(seed_build):
    out, _ = seed_build
    assert json.loads((out / "pagefind" / "shards.json").read_text()) == {
        "shards": [], "indexes": [{"path": "", "language": "en", "engine": ""}]}
    assert not (out / "pagefind" / "shard").exists()


def test_pagefind_runs_are_scheduled_by_their_documents(small_shards, monkeypatch):
    """Beside the renderers (poll) one run at a time, of a small shard only; after them up to
    ``jobs`` runs at once, never more documents at once than the largest shard has. The bundle
    is the one made one shard after another."""
    docs = _docs(range(120))
    alone = search.cached_index(docs, "en")
    running, seen = [], []
    real = pagefind_run.PagefindRun.start

    def start(run):
        real(run)
        running.append(run)
        seen.append((in_poll[0], [r.count for r in running if not r.done()]))
        return run

    monkeypatch.setattr(pagefind_run.PagefindRun, "start", start)
    in_poll = [True]
    with search.Indexer(docs, "en", jobs=2) as index:
        sizes = [len(p) for p in index._paths]
        for _ in range(3):
            index.poll()
            time.sleep(0.3)
        in_poll[0] = False
        files = {a.path: a.data for a in index.outputs()}
    assert files == alone
    small = int(8 * search.BESIDE_RENDERERS)
    beside = [counts for polled, counts in seen if polled]
    assert beside and all(len(c) == 1 and c[0] <= small for c in beside)
    after = [counts for polled, counts in seen if not polled]
    assert max(len(c) for c in after) == 2  # two at once, where they fit
    assert all(sum(c) <= max(sizes) for c in after)

"""The full-text search index (digest/search.py, digest/fulltext.py): built with the site, complete,
deterministic and cut into shards that a new feed mostly leaves alone. (It is left out of
tests/golden, see tests/golden.py, so its determinism is proved here.)"""

import gzip
import json
import os
from dataclasses import replace

import pytest

from digest import fulltext, search, urls
from digest.build import build
from digest.parsecache import ParseCache
from digest.views import Html


def _index(out) -> dict[str, bytes]:
    root = out / search.FOLDER
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _unpack(data: bytes):
    return json.loads(gzip.decompress(data))


def test_search_index_is_byte_identical_across_builds(tmp_path, seed_config, seed_build):
    out, _ = seed_build
    again = tmp_path / "again"
    build(replace(seed_config, out_dir=again), environ={}, parse_cache=tmp_path / "cache")  # indexed anew
    first, second = _index(out), _index(again)
    assert search.MANIFEST in first and len(first) > 2 and first == second


def test_every_article_and_only_articles_are_indexed(seed_build, catalog):
    out, _ = seed_build
    manifest = json.loads((out / search.MANIFEST).read_text())
    assert manifest["engine"] == fulltext.ENGINE and manifest["docs"] == len(catalog)
    stories = [_unpack(data) for path, data in _index(out).items() if path.rsplit("/", 1)[-1].startswith("d")]
    assert len(stories) == len(catalog)  # one story file per article
    pages = {urls.page_file(a["url"]): a for a in catalog.values()}
    assert sorted(s["u"] for s in stories) == sorted(pages)  # each article once, nothing else
    for story in stories:
        assert (out / story["u"]).is_file()
        assert story["t"] == pages[story["u"]]["title"] and story["l"] == pages[story["u"]]["language"]


def test_only_what_the_search_page_can_fetch_is_shipped(seed_build):
    """Every file under search-index/ is the manifest or one a query can fetch through it, and
    every file the manifest names is there."""
    out, _ = seed_build
    manifest = json.loads((out / search.MANIFEST).read_text())
    named = {search.MANIFEST}
    for shard in manifest["shards"]:
        named |= {f"{search.FOLDER}/{shard['path']}t{i}.gz" for i in range(len(shard["chunks"]))}
        named |= {f"{search.FOLDER}/{shard['path']}d{n}.gz" for n in range(shard["docs"])}
    assert set(_index(out)) == named


def test_search_page_loads_the_index_relative_to_itself(seed_build):
    out, _ = seed_build
    html = (out / "search" / "index.html").read_text()
    assert 'data-index="../search-index/index.json"' in html
    assert (out / "search" / "../search-index/index.json").resolve() == (out / search.MANIFEST).resolve()
    assert (out / search.MANIFEST).is_file()
    assert '<script type="module" src="../static/search.js' in html
    assert "<noscript>" in html  # says what to do without JavaScript


def test_an_empty_cache_builds_a_search_page_without_an_index(tmp_path):
    from digest.config import load_config
    from tests.conftest import make_site

    site = make_site(tmp_path, {})
    build(load_config(site), environ={})
    assert not (site / "dist" / search.FOLDER).exists()
    html = (site / "dist" / "search" / "index.html").read_text()
    assert "no stories to search yet" in html and "search.js" not in html and "data-index" not in html


def test_the_seed_site_is_one_shard(seed_build, catalog):
    out, _ = seed_build
    manifest = json.loads((out / search.MANIFEST).read_text())
    [shard] = manifest["shards"]
    assert shard["language"] == "en" and shard["docs"] == len(catalog) and len(shard["chunks"]) >= 1
    folders = [p.name for p in (out / search.FOLDER).iterdir() if p.is_dir()]
    assert folders == [shard["path"].rstrip("/")] and len(folders[0]) == 16


# --- Shards (digest/search.py): built from article views, each cached on its own. ---

WORDS = ["almaty", "bishkek", "dushanbe", "ashgabat", "tashkent", "osh", "khujand", "nukus", "aktau", "karakol"]


def _view(i: int, language: str | None = None) -> dict:
    # Each story has a word of its own (spelled in letters: "story" + its number as words).
    own = "".join(WORDS[int(d)] for d in str(i))
    view = {"path": f"articles/story-{i}/", "title": f"Story {i}", "date_label": f"{i % 28 + 1} May 2026",
            "body_html": Html(f"<p>Caravan {own} notes from the steppe.</p>")}
    if language:
        view["language"] = language
    return view


def _docs(numbers, languages: dict[int, str] | None = None) -> search.Documents:
    """The documents of stories ``numbers`` (oldest first); the views are newest first, as the site's."""
    languages = languages or {}
    views = {f"key-{i}": _view(i, languages.get(i)) for i in reversed(list(numbers))}
    return search.documents(views, "en")


def _by_shard(files: dict[str, bytes]) -> dict[str, dict[str, bytes]]:
    """Shard folder → its files (by name)."""
    out: dict[str, dict[str, bytes]] = {}
    for path, data in files.items():
        if path == search.MANIFEST:
            continue
        folder, name = path.removeprefix(f"{search.FOLDER}/").split("/")
        out.setdefault(folder + "/", {})[name] = data
    return out


def _manifest(files: dict[str, bytes]) -> dict:
    return json.loads(files[search.MANIFEST])


@pytest.fixture
def small_shards(monkeypatch):
    monkeypatch.setenv(search.SHARD_ENV, "8")  # C = 8: a few dozen documents make several shards


def test_documents_are_the_articles_oldest_first():
    docs = _docs(range(3), {1: "ru"})
    assert list(docs) == ["articles/story-0/", "articles/story-1/", "articles/story-2/"]
    assert docs["articles/story-1/"] == fulltext.Doc("articles/story-1/index.html", "Story 1", "2 May 2026", "ru",
                                                     "Caravan bishkek notes from the steppe.")
    assert docs["articles/story-2/"].language == "en"  # the site's, when the view has none


def test_shard_size_grows_in_powers_of_two_with_the_archive(monkeypatch):
    monkeypatch.delenv(search.SHARD_ENV, raising=False)
    assert search.shard_size(40) == search.shard_size(10_000) == search.shard_size(65_536) == search.SHARD_DOCS == 2048
    assert search.shard_size(65_537) == 4096 and search.shard_size(100_000) == 4096
    for n in (1_000, 10_000, 65_537, 100_000, 1_000_000, 10_000_000):
        size = search.shard_size(n)
        assert n / size <= search.MAX_SHARDS and size & (size - 1) == 0
        assert size == 2048 or n / (size // 2) > search.MAX_SHARDS  # no bigger than it must be
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
    # No boundary in 13 documents: the cap (12 of C = 8) cuts them anyway.
    unbounded = [p for p in (f"articles/x-{i}/" for i in range(2000)) if search._path_hash(p) % 8][:13]
    assert [len(s) for s in search.shards(unbounded, 8)] == [search.cap(8), 1]


def test_the_open_end_is_cut_finer_and_a_new_story_touches_only_its_last_piece():
    """With C ≥ 64, the documents after the last boundary of C are cut at path hash 0 modulo
    C / TAIL_SPLIT, so appending stories (with no boundary of C among them) changes one small piece."""
    size, step = 64, 64 // search.TAIL_SPLIT
    paths = [f"articles/story-{i}/" for i in range(3000)]
    ends = [i for i, p in enumerate(paths) if search._path_hash(p) % size == 0]
    # Two boundaries of C with 60 to 90 stories between them (so no cap cuts in between).
    start, stop = next((a, b) for a, b in zip(ends, ends[1:]) if 60 <= b - a <= 90)
    upto = stop - 20  # then 19 more stories: still none a boundary of C
    before = search.shards(paths[:upto], size)
    after = search.shards(paths[:upto + 19], size)
    for got, count in ((before, upto), (after, upto + 19)):
        assert [p for s in got for p in s] == paths[:count]  # every document once, in order
    j = next(n for n, s in enumerate(before) if s[-1] == paths[start])
    tail = before[j + 1:]
    assert len(tail) > 2 and all(search._path_hash(s[-1]) % step == 0 for s in tail[:-1])
    assert max(map(len, tail)) < size
    assert after[:len(before) - 1] == before[:-1] and len(after) >= len(before)  # only the last piece changed
    # The boundary of C arriving merges the pieces into one shard.
    merged = search.shards(paths[:stop + 1], size)
    assert merged[:j + 1] == before[:j + 1] and merged[j + 1:] == [paths[start + 1:stop + 1]]


def _index_of(docs, language, cache=None, jobs=1):
    """Every file of the search index of ``docs``, in memory."""
    return {a.path: a.data for a in search.Indexer(docs, language, cache, jobs).outputs()}


def test_a_multi_shard_index_has_every_document_exactly_once(small_shards):
    docs = _docs(range(60))
    files = _index_of(docs, "en")
    shards = _by_shard(files)
    manifest = _manifest(files)
    assert len(shards) > 3 and [s["path"] for s in manifest["shards"]] == list(shards)
    assert manifest["docs"] == sum(s["docs"] for s in manifest["shards"]) == len(docs)
    urls_in_order = []
    for entry in manifest["shards"]:
        files_of = shards[entry["path"]]
        assert sorted(files_of) == sorted([f"d{n}.gz" for n in range(entry["docs"])]
                                          + [f"t{i}.gz" for i in range(len(entry["chunks"]))])
        urls_in_order += [_unpack(files_of[f"d{n}.gz"])["u"] for n in range(entry["docs"])]
    assert urls_in_order == [f"articles/story-{i}/index.html" for i in range(60)]  # each once, oldest first
    assert files == _index_of(_docs(range(60)), "en")  # deterministic


def test_each_language_is_sharded_on_its_own(small_shards):
    languages = {i: "ru" for i in range(0, 40, 3)}
    files = _index_of(_docs(range(40), languages), "en")
    manifest, shards = _manifest(files), _by_shard(files)
    order = [s["language"] for s in manifest["shards"]]
    assert order == sorted(order, key=lambda lang: lang != "en") and set(order) == {"en", "ru"}  # the site's first
    seen = []
    for entry in manifest["shards"]:
        stories = [_unpack(shards[entry["path"]][f"d{n}.gz"]) for n in range(entry["docs"])]
        assert {s["l"] for s in stories} == {entry["language"]}
        seen += [s["u"] for s in stories]
    assert sorted(seen) == sorted(urls.page_file(f"articles/story-{i}/") for i in range(40))


def test_appending_the_newest_documents_changes_only_the_last_shard(small_shards):
    first = _index_of(_docs(range(60)), "en")
    before, after = _by_shard(first), _by_shard(_index_of(_docs(range(75)), "en"))
    last = _manifest(first)["shards"][-1]["path"]
    assert len(before) > 3
    for folder, files in before.items():
        if folder != last:
            assert after.get(folder) == files, folder  # same path, same bytes
    assert last not in after and len(set(after) - set(before)) >= 1


def test_a_shard_folder_is_named_by_its_content(small_shards):
    """Same documents, same folder and bytes; one document edited, another folder."""
    docs = _docs(range(20))
    a = _by_shard(_index_of(docs, "en"))
    views = {f"key-{i}": _view(i) for i in reversed(range(20))}
    views["key-0"]["title"] = "Story zero, retitled"
    b = _by_shard(_index_of(search.documents(views, "en"), "en"))
    first = _manifest(_index_of(docs, "en"))["shards"][0]["path"]
    assert first in a and first not in b
    assert {f: v for f, v in a.items() if f != first} == {f: v for f, v in b.items() if f in a and f != first}
    assert len(b) == len(a)


def test_a_story_inserted_in_the_middle_changes_at_most_two_shards(small_shards):
    base = list(range(0, 120, 2))
    before = _by_shard(_index_of(_docs(base), "en"))
    for late in (31, 61, 89):  # a late-arriving older story, at three places
        after = _by_shard(_index_of(_docs(sorted(base + [late])), "en"))
        changed = {f for f in set(before) | set(after) if before.get(f) != after.get(f)}
        gone = {f for f in changed if f in before}
        assert 1 <= len(gone) <= 2, (late, gone)
        assert all(f not in before for f in changed - gone)  # a changed shard is a new folder


def test_the_cache_reindexes_only_the_shards_that_changed(tmp_path, small_shards, monkeypatch):
    runs = []
    real = fulltext.index_shard

    def counting(docs, lexicon):
        docs = list(docs)
        runs.append(len(docs))
        return real(docs, lexicon)

    monkeypatch.setattr(fulltext, "index_shard", counting)
    cache = ParseCache(tmp_path / "cache")
    first = _index_of(_docs(range(60)), "en", cache)
    shards = len(_by_shard(first))
    assert len(runs) == shards > 3 and sum(runs) == 60 and max(runs) <= search.cap(8)

    runs.clear()
    assert _index_of(_docs(range(60)), "en", cache) == first and runs == []  # nothing changed

    runs.clear()
    grown = _index_of(_docs(range(64)), "en", cache)  # four new, newest stories
    assert 1 <= len(runs) <= 2 and sum(runs) < 30
    runs.clear()
    assert grown == _index_of(_docs(range(64)), "en")  # the same as built without a cache
    assert len(runs) == len(_by_shard(grown))


def test_shards_dist_already_has_are_not_read_again(tmp_path, small_shards, monkeypatch):
    """``outputs(fresh)``: the files of a shard ``fresh`` vouches for all come as Unchanged (the
    shard is not even read from the cache); a shard with one file not vouched for comes whole,
    as bytes; the manifest always."""
    from digest.artifact import Artifact, Unchanged

    cache = ParseCache(tmp_path / "cache")
    files = _index_of(_docs(range(30)), "en", cache)
    folders = list(_by_shard(files))
    assert len(folders) > 2
    partly = folders[1]
    keep = {p for p in files if f"/{partly}" not in p} | {p for p in files if f"/{partly}" in p and "/d0." not in p}
    loads = []
    real = ParseCache.load
    monkeypatch.setattr(ParseCache, "load", lambda self, kind, key: loads.append(key) or real(self, kind, key))
    outputs = list(search.Indexer(_docs(range(30)), "en", cache).outputs(lambda path, key: path in keep))
    assert outputs[0].path == search.MANIFEST and sorted(o.path for o in outputs) == sorted(files)
    for o in outputs:
        if o.path == search.MANIFEST or f"/{partly}" in o.path:
            assert isinstance(o, Artifact) and o.data == files[o.path], o.path
        else:
            assert isinstance(o, Unchanged) and o.key, o.path
    assert len([key for key in loads if not key.endswith("-meta")]) == 1  # the one shard's files


@pytest.mark.skipif(not hasattr(os, "fork"), reason="workers need fork")
def test_forked_workers_make_the_same_index(small_shards):
    docs = _docs(range(60))
    assert _index_of(docs, "en", jobs=3) == _index_of(docs, "en")

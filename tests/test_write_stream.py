"""Streaming output: the writer takes files as they are rendered, the site is the same."""

from pathlib import Path

import pytest

from digest import feeds, newsletter, pages, parsecache, workers
from digest.artifact import Artifact
from digest.build import render, render_site
from digest.write import write_site


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _staging(parent: Path) -> list[Path]:
    return [p for p in parent.iterdir() if p.name.startswith(".dist-new-")]


def test_files_are_written_as_they_arrive(tmp_path):
    out = tmp_path / "dist"
    seen_on_disk = []

    def files():
        yield "index.html", b"home"
        # The first file is already in the staging folder before the second is produced.
        (staging,) = _staging(tmp_path)
        seen_on_disk.append((staging / "index.html").read_bytes())
        yield "a/b/page.html", b"page"
        yield "a/c.txt", b"c"

    stats = write_site(files(), out)
    assert seen_on_disk == [b"home"]
    assert _tree(out) == {"index.html": b"home", "a/b/page.html": b"page", "a/c.txt": b"c"}
    assert stats == {"files": 3, "written": 3, "unchanged": 0}
    assert _staging(tmp_path) == []


def test_stream_keeps_unchanged_files_and_last_copy_wins(tmp_path):
    out = tmp_path / "dist"
    write_site({"same.html": b"same", "dup.html": b"old"}, out)
    same_before, dup_before = (out / "same.html").stat(), (out / "dup.html").stat()
    # dup.html first equals the old file (hard-linked), then changes: the new bytes must not be
    # written through the link into the previous tree.
    stats = write_site(iter([("same.html", b"same"), ("dup.html", b"old"), ("dup.html", b"new")]), out)
    assert _tree(out) == {"same.html": b"same", "dup.html": b"new"}
    assert stats == {"files": 2, "written": 1, "unchanged": 1}
    after = (out / "same.html").stat()
    assert (after.st_ino, after.st_mtime_ns) == (same_before.st_ino, same_before.st_mtime_ns)
    assert (out / "dup.html").stat().st_ino != dup_before.st_ino


def test_a_stream_that_fails_leaves_the_previous_site(tmp_path):
    out = tmp_path / "dist"
    write_site({"index.html": b"v1", "x.html": b"x"}, out)

    def files():
        yield "index.html", b"v2"
        raise RuntimeError("template exploded")

    with pytest.raises(RuntimeError):
        write_site(files(), out)
    assert _tree(out) == {"index.html": b"v1", "x.html": b"x"}
    assert _staging(tmp_path) == []


def _squares(offset, start, end):
    return [offset + i * i for i in range(start, end)]


@pytest.mark.parametrize("jobs", [1, 2])
def test_iter_ranges_yields_small_pieces_in_order(jobs):
    parts = list(workers.iter_ranges(_squares, (1,), 103, jobs=jobs, batch=7))
    assert [x for part in parts for x in part] == [1 + i * i for i in range(103)]
    assert max(len(p) for p in parts) <= 7 and len(parts) == 15


def test_streamed_site_equals_the_dict_and_the_build(seed_build, seed_config, monkeypatch):
    out, result = seed_build
    whole = render_site(result.site, seed_config)
    assert _tree(out) == whole  # what build() streamed to disk is what the dict path gives
    # Forked workers and small batches (the 10,000-story path) give the same files, each once.
    monkeypatch.setattr(pages, "PARALLEL_PAGES", 1)
    monkeypatch.setattr(feeds, "PARALLEL_FEEDS", 1)
    monkeypatch.setattr(newsletter, "PARALLEL_WEEKS", 1)
    monkeypatch.setattr(pages, "PAGE_BATCH", 9)
    artifacts = list(render(result.site, seed_config, jobs=2))
    assert all(type(a) is Artifact for a in artifacts)
    assert len(artifacts) == len({a.path for a in artifacts})
    assert {a.path: a.data for a in artifacts} == whole


def test_render_workers_fork_from_a_single_threaded_process(seed_build, seed_config, monkeypatch):
    """Pagefind runs beside the renderers as a process polled between batches, not in a thread:
    a child forked while another thread holds a lock can deadlock on it."""
    import threading

    out, result = seed_build
    monkeypatch.setattr(pages, "PARALLEL_PAGES", 1)
    monkeypatch.setattr(feeds, "PARALLEL_FEEDS", 1)
    monkeypatch.setattr(newsletter, "PARALLEL_WEEKS", 1)
    real, threads = workers.iter_ranges, []

    def watching(*args, **kwargs):
        threads.append(threading.active_count())
        yield from real(*args, **kwargs)

    monkeypatch.setattr(workers, "iter_ranges", watching)
    baseline = threading.active_count()  # other tests may leave threads of their own (a browser driver)
    assert {a.path: a.data for a in render(result.site, seed_config, jobs=2)} == render_site(result.site, seed_config)
    assert len(threads) >= 3 and set(threads) == {baseline}


def test_render_workers_stage_the_pages_themselves(seed_build, seed_config, tmp_path, monkeypatch):
    """Forked render workers write pages into the writer's staging folder and hand it receipts
    (stage.py): the site is byte for byte the one rendered in memory, a page whose bytes did
    not change is kept without a write, and no staging folder is left behind."""
    from dataclasses import replace

    from digest import build as build_module
    from digest.artifact import Staged
    from digest.assets import BUILTIN_TEMPLATES
    from digest.build import build

    monkeypatch.setattr(pages, "PARALLEL_PAGES", 1)
    monkeypatch.setattr(pages, "PAGE_BATCH", 9)
    receipts: list[Staged] = []
    real = build_module.update_site

    def spying(files, *args):
        return real((receipts.append(x) or x if type(x) is Staged else x for x in files), *args)

    monkeypatch.setattr(build_module, "update_site", spying)
    templates = tmp_path / "templates"
    templates.mkdir()
    base = (BUILTIN_TEMPLATES / "base.html").read_text(encoding="utf-8")
    config = replace(seed_config, out_dir=tmp_path / "dist", templates_dir=templates)
    out = tmp_path / "dist"

    def build_with(extra: str):
        receipts.clear()
        (templates / "base.html").write_text(base + extra, encoding="utf-8")
        result = build(config, environ={}, parse_cache=tmp_path / "cache", jobs=2)
        assert not _staging(tmp_path)
        return result

    first = build_with("")
    assert len(receipts) > 40 and all(r.name for r in receipts)  # a new site: every page staged
    assert _tree(out) == render_site(first.site, config)
    build_with("{# a template comment: new keys, the same bytes #}")
    assert len(receipts) > 40 and all(r.name is None for r in receipts)
    assert _tree(out) == render_site(first.site, config)
    changed = build_with("<!-- every page changes -->\n")
    assert len(receipts) > 40 and all(r.name for r in receipts)
    assert changed.written >= len(receipts)
    assert _tree(out) == render_site(changed.site, config)


def _slow_squares(delay, start, end):
    import time

    time.sleep(delay)
    return [i * i for i in range(start, end)]


@pytest.mark.parametrize("jobs", [1, 2])
def test_iter_ranges_makes_the_parents_results_while_the_workers_work(jobs):
    """``meanwhile``: the parent's own results come while the workers' pieces are not back (with
    workers) or after them (without); every result comes once, the pieces in order."""
    parts = list(workers.iter_ranges(_slow_squares, (0.2,), 8, jobs=jobs, batch=2, meanwhile=iter("abc")))
    assert [x for part in parts if isinstance(part, list) for x in part] == [i * i for i in range(8)]
    assert [part for part in parts if isinstance(part, str)] == ["a", "b", "c"]
    if jobs == 1:
        assert parts[-3:] == ["a", "b", "c"]
    else:  # the first piece takes 0.2 s: the parent's results do not wait for it
        assert parts[:3] == ["a", "b", "c"]


@pytest.mark.parametrize("way", ["exchange", "link", "replace"])
def test_replaced_and_removed_files_are_freed_beside_the_renames(tmp_path, monkeypatch, way):
    """The writer swaps each staged file with the one it replaces (or, where it cannot, links the
    old one aside first; where it cannot either, replaces it as it is) and removes the old
    copies and the files the site no longer has in threads, beside the renames. Every way, the
    site is exactly the new one, each new file is the staged inode, and nothing is left."""
    import os
    import threading

    from digest import mover

    if way == "exchange" and mover._renameat2() is None:
        pytest.skip("no renameat2 here")
    out = tmp_path / "dist"
    old = {f"p/{i}.html": f"old {i}".encode() for i in range(300)} | {f"gone/{i}.html": b"x" for i in range(50)}
    write_site(old, out)
    old_inodes = {os.stat(out / rel).st_ino for rel in old}
    real_link, real_unlink = os.link, os.unlink
    linked, by_threads = [], []

    def link(src, dst, **kw):
        if way == "replace":
            raise PermissionError(1, "Operation not permitted")
        linked.append(src)
        return real_link(src, dst, **kw)

    def unlink(path, *a, **kw):
        if threading.current_thread().name.startswith("digest-remove"):
            by_threads.append(path)
        return real_unlink(path, *a, **kw)

    if way != "exchange":
        monkeypatch.setattr(mover, "_renameat2", lambda: None)
    monkeypatch.setattr(mover.os, "link", link)
    monkeypatch.setattr(mover.os, "unlink", unlink)
    new = {f"p/{i}.html": f"new {i}".encode() for i in range(300)} | {"q.html": b"q"}
    write_site(new, out)
    assert _tree(out) == new and not (out / "gone").exists()
    assert not old_inodes & {os.stat(out / rel).st_ino for rel in new}
    assert _staging(tmp_path) == []
    assert sorted(linked) == (sorted(f"{out}/p/{i}.html" for i in range(300)) if way == "link" else [])
    # The 300 old copies and the 50 gone files, removed beside the renames.
    assert len(by_threads) == (350 if way != "replace" else 50)


def _collecting(start, end=None):
    import gc

    return [gc.isenabled()]


def test_the_parent_does_not_collect_while_it_makes_the_model_but_its_workers_do(monkeypatch):
    """``no_collections``: no cyclic collection inside, what was made is frozen (the next
    collection does not walk it), collection is back after; workers forked inside collect."""
    import gc

    assert gc.isenabled()
    try:
        with workers.no_collections():
            made = [{"n": i} for i in range(1000)]
            assert not gc.isenabled()
            parts = list(workers.iter_ranges(_collecting, (), 4, jobs=2, batch=1))
            monkeypatch.setattr(parsecache, "MIN_PARALLEL", 1)  # the pool that reads and cleans feeds
            read = parsecache._map(_collecting, [(0, 0)] * 4, jobs=2)
        assert gc.isenabled() and gc.get_freeze_count() >= len(made)
        assert parts == [[True]] * 4 and read == [[True]] * 4
    finally:
        gc.unfreeze()


def test_a_folder_where_the_site_has_a_file_is_replaced_by_the_file(tmp_path):
    """Someone made a folder where the last build wrote a page: the writer puts the page there
    (the swap takes the folder out with it) and leaves no folder behind in dist/ or beside it."""
    out = tmp_path / "dist"
    write_site({"a.html": b"one", "b/c.html": b"c"}, out)
    (out / "a.html").unlink()
    (out / "a.html").mkdir()
    (out / "a.html" / "inside.txt").write_bytes(b"x")
    write_site({"a.html": b"two", "b/c.html": b"c"}, out)
    assert _tree(out) == {"a.html": b"two", "b/c.html": b"c"}
    assert _staging(tmp_path) == []

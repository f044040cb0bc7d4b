"""Incremental rebuilds: after a change only the files it touches are rendered and written, and
the result is byte for byte what a build from nothing gives."""

import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest import pages as render, urls
from digest.artifact import Unchanged
from digest.assets import BUILTIN_TEMPLATES
from digest import buildstate
from digest.build import build
from digest.parsecache import ParseCache
from digest.config import load_config
from digest.previous import Previous
from digest.write import update_site, write_site

from .conftest import SEEDS, make_site


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _feed(items: list[tuple[str, str, str]], outlet: str = "Extra", language: str = "") -> str:
    """A small RSS file of ``outlet``: (title, date, category) per item, in ``language`` if given."""
    body = "".join(
        f"<item><title>{t}</title><link>https://{outlet.lower()}.example.org/news/{i}-{abs(hash(t)) % 10**8}/</link>"
        f"<guid>https://{outlet.lower()}.example.org/news/{i}-{t}</guid><pubDate>{d}</pubDate><category>{c}</category>"
        f"<dc:creator>Reporter {i % 3}</dc:creator>"
        f"<description>&lt;p&gt;{t}. A report from {c}, with details.&lt;/p&gt;</description></item>"
        for i, (t, d, c) in enumerate(items))
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f"<channel><title>{outlet}</title><link>https://{outlet.lower()}.example.org/</link><description>x</description>"
            + (f"<language>{language}</language>" if language else "") + body
            + "</channel></rss>")


NEW = _feed([("Astana opens a new metro line", "Mon, 29 Jun 2026 09:00:00 +0000", "Kazakhstan"),
             ("Bishkek schools add Kyrgyz lessons", "Tue, 30 Jun 2026 10:00:00 +0000", "Kyrgyzstan")])


@pytest.fixture
def site(tmp_path):
    return make_site(tmp_path / "site", {p.name: p.read_bytes() for p in SEEDS.iterdir() if p.is_file()})


def _fresh_build(config, tmp_path, name="scratch"):
    """The same site built from nothing: no dist/, no parse cache."""
    out = tmp_path / name
    build(replace(config, out_dir=out), environ={}, parse_cache=tmp_path / f"{name}-cache")
    return _tree(out)


def test_a_new_feed_renders_only_what_it_touches_and_equals_a_full_build(site, tmp_path, monkeypatch):
    config = load_config(site)
    first = build(config, environ={})
    rendered = []
    real = render._render_range

    def recording(pages, *args):
        out = real(pages, *args)
        made = {a.path for a in out if type(a) is not Unchanged}  # rendered: staged or kept by its bytes
        rendered.extend(p for p in pages[args[-2]:args[-1]] if urls.page_file(p.path) in made)
        return out

    monkeypatch.setattr(render, "_render_range", recording)
    (site / "content_cache" / "extra.xml").write_text(NEW)
    again = build(config, environ={})
    monkeypatch.undo()
    assert again.stories == first.stories + 2
    assert _tree(site / "dist") == _fresh_build(config, tmp_path)
    paths = {p.path for p in rendered}
    # The new stories, their groups' listings, the home page and the indexes; not the site.
    assert {"", "countries/kazakhstan/", "countries/kyrgyzstan/"} <= paths
    assert len(paths) < first.files / 4
    untouched_country = "countries/tajikistan/"
    assert untouched_country not in paths
    assert 0 < again.written < again.files / 4


def test_archive_pages_stay_as_they_are_when_newer_stories_arrive(site):
    (site / "digest.toml").write_text("per_page = 4\n")
    config = load_config(site)
    build(config, environ={})
    pages = site / "dist" / "countries" / "kazakhstan" / "page"
    archive = sorted(pages.glob("*/index.html"), key=lambda p: int(p.parent.name))
    before = {p: p.stat().st_mtime_ns for p in archive[:-1]}
    (site / "content_cache" / "extra.xml").write_text(NEW)  # one new Kazakhstan story: 35 → 36
    build(config, environ={})
    # 36 fills a ninth page of 4: one new archive page, the old newest one links to it, and
    # every older page is left alone.
    assert len(archive) == 7 and (pages / "8" / "index.html").is_file()
    assert {p: p.stat().st_mtime_ns for p in archive[:-1]} == before


def test_a_second_language_adds_and_then_removes_the_language_pages_as_a_full_build_does(site, tmp_path):
    # The navigation links languages/ only on a site in several languages: every page changes.
    config = load_config(site)
    build(config, environ={})
    (site / "content_cache" / "extra.xml").write_text(_feed([("Astana opens a new metro line",
                                                              "Mon, 29 Jun 2026 09:00:00 +0000", "Kazakhstan")], language="ru"))
    build(config, environ={})
    assert (site / "dist" / "languages" / "ru" / "feed.xml").is_file()
    assert 'href="languages/index.html">Languages</a>' in (site / "dist" / "index.html").read_text()
    assert _tree(site / "dist") == _fresh_build(config, tmp_path, "two")
    (site / "content_cache" / "extra.xml").unlink()
    build(config, environ={})
    assert not (site / "dist" / "languages").exists()
    assert _tree(site / "dist") == _fresh_build(config, tmp_path, "one")


def test_an_untouched_article_page_keeps_its_file(site):
    config = load_config(site)
    build(config, environ={})
    page = next((site / "dist" / "articles").iterdir()) / "index.html"
    before = page.stat()
    (site / "content_cache" / "extra.xml").write_text(_feed([("Dushanbe tea house reopens",
                                                               "Mon, 29 Jun 2026 09:00:00 +0000", "Tajikistan")]))
    build(config, environ={})
    after = page.stat()
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)


def test_a_template_change_renders_every_page(site):
    config = load_config(site)
    first = build(config, environ={})
    (site / "templates").mkdir()
    base = (BUILTIN_TEMPLATES / "base.html").read_text()
    (site / "templates" / "base.html").write_text(base.replace("</body>", "<!-- mine --></body>"))
    again = build(config, environ={})
    pages = [p for p in (site / "dist").rglob("*.html") if p.name != "newsletter.html"]  # emails have no frame
    assert all("<!-- mine -->" in p.read_text() for p in pages)
    assert again.written >= len(pages) and again.files == first.files


def test_a_hand_edited_or_deleted_file_is_rendered_again(site, tmp_path):
    config = load_config(site)
    build(config, environ={})
    article = next((site / "dist" / "articles").iterdir()) / "index.html"
    article.write_text("edited by hand")
    (site / "dist" / "tags" / "index.html").unlink()
    (site / "dist" / "stray.html").write_text("not ours")
    # an input changed too, so this is a real build that trusts only what is as it left it
    (site / "content_cache" / "extra.xml").write_text(NEW)
    build(config, environ={})
    assert _tree(site / "dist") == _fresh_build(config, tmp_path)


def _touch_dist(dist: Path, how: str) -> None:
    article = next((dist / "articles").iterdir())
    if how == "file added deep":
        (article / "extra.html").write_text("not ours")
    elif how == "folder added":
        (dist / "tags" / "new-folder").mkdir()
    elif how == "file removed":
        (article / "index.html").unlink()
    elif how == "edited in place":
        with open(article / "index.html", "a") as fh:
            fh.write("<!-- edited -->")
    elif how == "same size, other bytes, old mtime":
        page = article / "index.html"
        st = page.stat()
        page.write_bytes(b"x" * st.st_size)
        os.utime(page, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    elif how == "replaced by a symlink":
        (dist / "404.html").unlink()
        os.symlink(article / "index.html", dist / "404.html")


def test_a_no_change_build_notices_any_touch_to_dist_without_listing_it(site, tmp_path):
    """The no-change check stats each recorded file and folder instead of listing dist/
    (previous.untouched): every kind of touch is still seen, and the build puts the site back
    and records it, so the next check is quick again."""
    config = load_config(site)
    build(config, environ={})
    dist, cache = site / "dist", ParseCache(site / ".digest-cache")
    assert buildstate.untouched(buildstate.load(cache, dist), dist)
    for how in ("file added deep", "folder added", "file removed", "edited in place",
                "same size, other bytes, old mtime", "replaced by a symlink"):
        _touch_dist(dist, how)
        assert not buildstate.untouched(buildstate.load(cache, dist), dist), how
        build(config, environ={})
        assert buildstate.untouched(buildstate.load(cache, dist), dist), how
    assert _tree(dist) == _fresh_build(config, tmp_path)  # an empty folder is left alone


def test_a_build_lists_dist_only_when_a_stat_found_a_difference(site, tmp_path, monkeypatch):
    """A new feed's build trusts dist/ by one stat of each recorded file and folder; only a
    touched dist/ is listed (previous.scan), and the site still equals a full build."""
    from digest import previous as previous_module

    config = load_config(site)
    build(config, environ={})
    listed = []
    real_scan = previous_module.scan
    monkeypatch.setattr(previous_module, "scan", lambda out: listed.append(out) or real_scan(out))
    (site / "content_cache" / "extra.xml").write_text(NEW)
    build(config, environ={})
    assert listed == []
    (site / "dist" / "stray.html").write_text("not ours")
    (site / "content_cache" / "extra.xml").unlink()
    build(config, environ={})
    assert len(listed) == 1
    assert _tree(site / "dist") == _fresh_build(config, tmp_path)


def test_removing_a_source_removes_its_pages_and_empty_folders(site, tmp_path):
    config = load_config(site)
    (site / "content_cache" / "extra.xml").write_text(NEW)
    build(config, environ={})
    assert (site / "dist" / "authors" / "reporter-0").is_dir()
    (site / "content_cache" / "extra.xml").unlink()
    build(config, environ={})
    assert not (site / "dist" / "authors" / "reporter-0").exists()
    assert _tree(site / "dist") == _fresh_build(config, tmp_path)


def test_the_writer_never_follows_a_symlink_out_of_the_site(tmp_path):
    out, outside = tmp_path / "dist", tmp_path / "outside"
    outside.mkdir()
    write_site({"a/index.html": b"one", "b.html": b"b", "c/d/e/index.html": b"e", "c/f.html": b"f"}, out)
    shutil.rmtree(out / "a")
    os.symlink(outside, out / "a")  # someone (or something) put a link where a folder was
    (out / "b.html").unlink()
    os.symlink(outside / "x", out / "b.html")
    shutil.rmtree(out / "c" / "d")  # deeper, below a real folder the writer knows
    os.symlink(outside, out / "c" / "d")
    write_site({"a/index.html": b"two", "b.html": b"b2", "c/d/e/index.html": b"e2", "c/f.html": b"f"}, out)
    assert list(outside.iterdir()) == []
    assert not (out / "c" / "d").is_symlink() and (out / "c" / "d" / "e" / "index.html").read_bytes() == b"e2"
    assert not (out / "a").is_symlink() and (out / "a" / "index.html").read_bytes() == b"two"
    assert not (out / "b.html").is_symlink() and (out / "b.html").read_bytes() == b"b2"


def test_keep_is_refused_for_a_file_the_writer_did_not_leave(tmp_path):
    out = tmp_path / "dist"
    written = update_site([("x.html", b"x", "k1")], out)
    previous = Previous(out, written.manifest)
    assert previous.fresh("x.html", "k1") and not previous.fresh("x.html", "k2")
    (out / "x.html").write_bytes(b"changed")
    previous = Previous(out, written.manifest)
    assert not previous.fresh("x.html", "k1")
    with pytest.raises(ValueError):
        update_site([Unchanged("x.html", "k1")], out, previous)
    with pytest.raises(TypeError):  # a stray None is not "keep"
        update_site([("x.html", None, "k1")], out, previous)
    assert (out / "x.html").read_bytes() == b"changed"  # a refused build writes nothing


@pytest.mark.parametrize("stored", [False, True], ids=["entries", "columns"])
def test_the_stored_manifest_judges_dist_as_the_entries_do(tmp_path, stored):
    """buildstate keeps the manifest in columns (Recorded); read back it gives the same entries,
    and Previous finds the same files trusted, the same untouched site, the same changes."""
    import pickle

    out = tmp_path / "dist"
    written = update_site([("a/index.html", b"one", "k1"), ("b.html", b"two", "k2"), (".nojekyll", b"", None)], out)
    manifest = pickle.loads(pickle.dumps(buildstate.Recorded.of(written.manifest))) if stored else written.manifest
    assert dict(manifest) == written.manifest and len(manifest) == 3
    assert Previous(out, manifest).exact  # compared as stats, without making entries
    assert Previous(out, manifest).untouched() and Previous(out, manifest).trusted == written.manifest
    (out / "b.html").write_bytes(b"owt")  # same size, other bytes
    changed = Previous(out, manifest)
    assert not changed.untouched() and set(changed.trusted) == {"a/index.html", ".nojekyll"}
    (out / "b.html").write_bytes(b"two")
    (out / "extra.html").write_bytes(b"x")  # a file the writer did not leave
    extra = Previous(out, manifest)
    assert not extra.untouched() and set(extra.trusted) == set(written.manifest)  # b.html: its bytes again


_DAYS = [f"{d:02d} Jun 2026" for d in range(1, 29)]
_COUNTRIES = ["Kazakhstan", "Kyrgyzstan", "Tajikistan", "Turkmenistan", "Uzbekistan", "Economy"]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["", "ru", "add", "again"]),
                          st.lists(st.tuples(st.sampled_from(["Rail", "Water", "Cotton", "Border", "Wheat"]),
                                             st.sampled_from(_DAYS), st.sampled_from(_COUNTRIES)),
                                   min_size=0, max_size=4)), min_size=2, max_size=3),
       st.lists(st.sampled_from("ab"), min_size=1, max_size=3))
def test_any_sequence_of_feed_edits_ends_where_a_full_build_does(tmp_path_factory, steps, revisions):
    """Steps edit the feeds ("": in English, "ru": the site gains its language pages), or only
    add one: "add" a new outlet's (the articles' assembly grows, assembly.py), "again" a copy
    of stories already there under another file name (they join old ones: assembled again)."""
    tmp = tmp_path_factory.mktemp("seq")
    seed = SEEDS / "novastan-interview.rss.xml"
    site = make_site(tmp / "site", {seed.name: seed.read_bytes()})
    config = load_config(site)
    build(config, environ={})
    for n, (kind, items) in enumerate(steps):
        extra = site / "content_cache" / "extra.xml"
        if kind in ("add", "again"):
            added = site / "content_cache" / f"added-{n}.xml"
            if kind == "again" and extra.exists():
                added.write_bytes(extra.read_bytes())
            else:
                added.write_text(_feed([(f"{word} news {i} step {n}", f"Mon, {day} 08:00:00 +0000", c)
                                        for i, (word, day, c) in enumerate(items)], outlet=f"Added{n}"))
            build(config, environ={})
            continue
        feed = _feed([(f"{word} news {i} step {n}", f"Mon, {day} 08:00:00 +0000", c)
                      for i, (word, day, c) in enumerate(items)], language=kind)
        extra.write_text(feed)
        # Another outlet telling some of the same stories; its stories outlive a step, so the
        # events of existing pages come and go between builds.
        other = _feed([(f"{word} news {i}, as Other saw it", f"Mon, {day} 11:00:00 +0000", c)
                       for i, (word, day, c) in enumerate(items) if i % 2 == 0], outlet="Other")
        (site / "content_cache" / "other.xml").write_text(other)
        # One story that stays while its text is revised back and forth: the same id with a new
        # body, then an old body again (whose stored copy a build in between pruned).
        (site / "content_cache" / "standing.xml").write_text(_feed(
            [("Standing story", "Mon, 01 Jun 2026 08:00:00 +0000", "Uzbekistan")], outlet="Standing")
            .replace("with details.", f"revision {revisions[n % len(revisions)]}."))
        build(config, environ={})
    assert _tree(site / "dist") == _fresh_build(config, tmp)


def test_a_new_feed_reindexes_a_small_search_shard():
    from digest import search
    paths = [f"articles/story-{n}/index.html" for n in range(6000)]
    size = search.shard_size(len(paths))
    before = search.shards(paths, size)
    after = search.shards(paths + [f"articles/new-{n}/index.html" for n in range(100)], size)
    changed = [s for s in after if s not in before]
    assert sum(map(len, changed)) < 100 + size / 2  # new stories plus a piece of the open end
    assert len(after) <= search.MAX_SHARDS + search.TAIL_SPLIT * 2
    assert [p for s in after for p in s] == paths + [f"articles/new-{n}/index.html" for n in range(100)]


def test_a_site_restored_from_a_ci_cache_is_trusted_by_its_bytes(site, tmp_path, monkeypatch):
    """actions/cache gives dist/ back with new inodes and mtimes: the build hashes the files
    instead of rendering every page again, and is then a no-change build; an edited file is
    still caught."""
    config = load_config(site)
    first = build(config, environ={})
    dist = site / "dist"
    shutil.copytree(dist, tmp_path / "saved")
    shutil.rmtree(dist)
    shutil.copytree(tmp_path / "saved", dist)  # as a cache restore leaves it: same bytes, new files
    made = []
    real = render._render_range

    def recording(pages, *args):
        out = real(pages, *args)
        made.extend(x for x in out if type(x) is not Unchanged)
        return out

    monkeypatch.setattr(render, "_render_range", recording)
    (site / "content_cache" / "extra.xml").write_text(NEW)  # the weekly fetch brought a feed
    again = build(config, environ={})
    assert again.stories == first.stories + 2
    assert 0 < len(made) < first.files / 4  # what the new feed touches, not every page
    monkeypatch.undo()
    assert _tree(dist) == _fresh_build(config, tmp_path)
    manifest = buildstate.load(ParseCache(site / ".digest-cache"), dist).manifest
    tampered = dist / "sources" / "index.html"
    tampered.write_bytes(b"x" * tampered.stat().st_size)  # same size, other bytes
    previous = Previous(dist, manifest)
    assert "sources/index.html" not in previous.trusted
    assert len(previous.trusted) == len(manifest) - 1


def test_a_story_whose_text_changes_is_searched_by_its_new_text(site, tmp_path):
    """The same story (same id and title) with a new body: its page and its search shard are
    made again, though the shard's documents are keyed by body key, not by reading them."""
    config = load_config(site)
    story = [("Standing story", "Mon, 01 Jun 2026 08:00:00 +0000", "Uzbekistan")]
    (site / "content_cache" / "standing.xml").write_text(_feed(story, outlet="Standing"))
    build(config, environ={})
    (site / "content_cache" / "standing.xml").write_text(
        _feed(story, outlet="Standing").replace("with details.", "with a correction."))
    build(config, environ={})
    after = _tree(site / "dist")
    assert after == _fresh_build(config, tmp_path)
    assert any(p.startswith("search-index/") for p in after)


def test_the_folder_times_recorded_after_a_build_are_the_folders_times(site):
    """After a build that adds stories and one that removes them, the recorded time of every
    folder of dist/ is its time on disk, though only the folders the writer touched are read."""
    from digest.previous import folder_stamps
    config = load_config(site)
    build(config, environ={})
    for change in ("add", "remove"):
        if change == "add":
            (site / "content_cache" / "extra.xml").write_text(NEW)
        else:
            (site / "content_cache" / "extra.xml").unlink()
        build(config, environ={})
        state = buildstate.load(ParseCache(site / ".digest-cache"), site / "dist")
        assert state.folders == folder_stamps((site / "dist").absolute(), state.manifest), change

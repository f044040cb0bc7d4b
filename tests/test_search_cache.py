"""The search index is built from titles and bodies alone, so a template edit reuses it; what
it holds of a story is what the story's page shows."""

import gzip
import html
import json
import re
from dataclasses import replace

import pytest

from digest import fulltext, search
from digest.build import build
from digest.text import plain
from digest.views import article_views


def _index_files(out) -> dict[str, bytes]:
    root = out / search.FOLDER
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_template_edit_reuses_the_search_index(tmp_path, seed_config, monkeypatch):
    runs = []
    real = fulltext.index_shard
    monkeypatch.setattr(fulltext, "index_shard", lambda docs, lexicon: runs.append(1) or real(docs, lexicon))
    site = tmp_path / "site"
    (site / "templates").mkdir(parents=True)
    config = replace(seed_config, root=site, cache_dir=seed_config.path(seed_config.cache_dir),
                     out_dir=site / "dist", templates_dir=site / "templates")
    build(config, environ={})
    first = _index_files(site / "dist")
    assert len(runs) == 1 and first  # the seed site is one shard, indexed here (a new parse cache)
    (site / "templates" / "404.html").write_text('{% extends "base.html" %}{% block main %}<h1>Lost</h1>{% endblock %}')
    (site / "templates" / "article.html").write_text(
        (seed_config.path(seed_config.templates_dir) / "article.html").read_text().replace(
            '<article class="story">', '<article class="story edited">'))
    build(config, environ={})
    assert "Lost" in (site / "dist" / "404.html").read_text()
    assert "story edited" in next((site / "dist" / "articles").glob("*/index.html")).read_text()
    assert len(runs) == 1 and _index_files(site / "dist") == first


_HEAD = re.compile(r'<header class="story-head"[^>]*>.*?<h1[^>]*>(.*?)</h1>\s*<p class="meta"><(?:time|span)[^>]*>(.*?)</',
                   re.S)


def _shown(page: str) -> tuple[str, str, str]:
    """(title, date, story body HTML) as the article page shows them."""
    head = _HEAD.search(page)
    title, date = html.unescape(head.group(1)), html.unescape(head.group(2))
    body = page.split('<div class="story-body">', 1)[1].split('<footer class="story-foot"', 1)[0].rsplit("</div>", 1)[0]
    return title, date, body


def test_search_documents_carry_exactly_what_the_article_page_shows(seed_build, seed_config):
    out, result = seed_build
    docs = search.documents(article_views(result.site, seed_config.full_text_weeks), seed_config.language)
    assert len(docs) == len(result.site.order)
    for path, doc in docs.items():
        title, date, body = _shown((out / doc.url).read_text())
        assert (doc.title, doc.date, doc.text) == (title, date, plain(body)) and doc.text
    # … and so does the index shipped in dist/.
    stories = [json.loads(gzip.decompress(data)) for path, data in _index_files(out).items()
               if path.rsplit("/", 1)[-1].startswith("d")]
    assert len(stories) == len(docs)
    for story in stories:
        title, date, body = _shown((out / story["u"]).read_text())
        assert (story["t"], story["d"], story["x"]) == (title, date, plain(body)[:fulltext.TEXT_LIMIT])


@pytest.mark.parametrize("size", ["x", "0"])
def test_a_bad_shard_size_is_one_error_line(tmp_path, monkeypatch, size):
    from click.testing import CliRunner

    from digest.cli import main
    from tests.conftest import SEEDS

    monkeypatch.setenv(search.SHARD_ENV, size)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["build", "--cache", str(SEEDS)])
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if "Error" in line]
    assert errors == [f"Error: {search.SHARD_ENV} must be a positive number of documents, not {size!r}"]
    assert "Traceback" not in result.output
    assert not (tmp_path / "dist" / search.FOLDER).exists()


def _shard_site(tmp_path, monkeypatch):
    from digest.config import load_config
    from tests.conftest import SEEDS, make_site
    monkeypatch.setenv(search.SHARD_ENV, "4")  # the 40 seed stories in a dozen shards
    site = make_site(tmp_path / "site", {p.name: p.read_bytes() for p in SEEDS.iterdir() if p.is_file()})
    config = load_config(site)
    build(config, environ={})
    return site, config


def test_a_new_feed_reads_no_cached_search_shard_that_dist_already_has(tmp_path, monkeypatch):
    from digest.parsecache import ParseCache
    from tests.test_incremental import NEW, _fresh_build, _tree
    site, config = _shard_site(tmp_path, monkeypatch)
    manifest = json.loads((site / "dist" / search.MANIFEST).read_text())
    assert len(manifest["shards"]) > 3
    loads, stores = [], []
    real, real_store = ParseCache.load, ParseCache.store
    monkeypatch.setattr(ParseCache, "load", lambda self, kind, key: loads.append((kind, key)) or real(self, kind, key))
    monkeypatch.setattr(ParseCache, "store", lambda self, kind, key, value: stores.append((kind, key))
                        or real_store(self, kind, key, value))
    (site / "content_cache" / "new.xml").write_text(NEW)
    build(config, environ={})
    # The shards this build indexed are read back (the build does not hold them meanwhile); no other.
    indexed = {key for kind, key in stores if kind == "search"}
    assert indexed and not [key for kind, key in loads
                            if kind == "search" and not key.endswith("-meta") and key not in indexed]
    after = json.loads((site / "dist" / search.MANIFEST).read_text())
    assert after["docs"] == manifest["docs"] + 2
    kept = {s["path"] for s in manifest["shards"]} & {s["path"] for s in after["shards"]}
    assert len(kept) >= len(manifest["shards"]) - 2  # the new stories touched a shard or two
    monkeypatch.undo()
    monkeypatch.setenv(search.SHARD_ENV, "4")
    assert _tree(site / "dist") == _fresh_build(config, tmp_path)


def test_a_damaged_search_entry_is_indexed_again(tmp_path, monkeypatch):
    from tests.test_incremental import _fresh_build, _tree
    site, config = _shard_site(tmp_path, monkeypatch)
    damaged = 0
    for entry in (site / ".digest-cache" / "search").rglob("*"):
        if entry.is_file() and not entry.name.endswith("-meta"):
            entry.write_bytes(b"damaged")
            damaged += 1
    assert damaged > 3
    story = next((site / "dist" / search.FOLDER).glob("*/d*.gz"))
    story.write_bytes(b"edited by hand")  # so the shard's files must come from the cache
    build(config, environ={})
    assert story.read_bytes() != b"edited by hand"
    assert _tree(site / "dist") == _fresh_build(config, tmp_path)

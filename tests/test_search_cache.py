"""The search index is built from titles and bodies alone, so a template edit reuses it."""

import json
from dataclasses import replace

from digest import pagefind_run, search
from digest.build import build
from digest.views import article_views


def test_template_edit_reuses_the_search_index(tmp_path, seed_config, monkeypatch):
    runs = []
    real = pagefind_run.PagefindRun.start
    monkeypatch.setattr(pagefind_run.PagefindRun, "start", lambda run: runs.append(1) or real(run))
    site = tmp_path / "site"
    (site / "templates").mkdir(parents=True)
    config = replace(seed_config, root=site, cache_dir=seed_config.path(seed_config.cache_dir),
                     out_dir=site / "dist", templates_dir=site / "templates")
    build(config, environ={})
    first = {p.name: p.read_bytes() for p in (site / "dist" / "pagefind").rglob("*") if p.is_file()}
    (site / "templates" / "404.html").write_text('{% extends "base.html" %}{% block main %}<h1>Lost</h1>{% endblock %}')
    build(config, environ={})
    again = {p.name: p.read_bytes() for p in (site / "dist" / "pagefind").rglob("*") if p.is_file()}
    assert "Lost" in (site / "dist" / "404.html").read_text()
    assert len(runs) == 1 and again == first


def test_search_documents_carry_exactly_what_the_article_page_indexes(seed_build):
    out, result = seed_build
    docs = search.documents(article_views(result.site))
    assert len(docs) == len(result.site.order)
    for path, doc in docs.items():
        page = (out / path).read_text()
        text = doc.decode()
        title = text.split('data-pagefind-meta="title">')[1].split("</h1>")[0]
        assert f'data-pagefind-meta="title">{title}</h1>' in page
        body = text.split('<div class="story-body">')[1].rsplit("</div></div>", 1)[0]
        assert body in page


def test_missing_pagefind_is_one_error_line(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from digest.cli import main
    from tests.conftest import SEEDS

    def missing():
        raise pagefind_run.SearchIndexError("no pagefind binary found: pip install 'pagefind[bin]'")

    monkeypatch.setattr(pagefind_run, "executable", missing)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["build", "--cache", str(SEEDS)])
    assert result.exit_code == 1
    assert "Error: no pagefind binary found" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "dist").exists()


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
    assert len(json.loads((site / "dist" / search.MANIFEST).read_text())["shards"]) > 3
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
    monkeypatch.undo()
    monkeypatch.setenv(search.SHARD_ENV, "4")
    assert _tree(site / "dist") == _fresh_build(config, tmp_path)


def test_a_damaged_search_entry_is_indexed_again(tmp_path, monkeypatch):
    from tests.test_incremental import _fresh_build, _tree
    site, config = _shard_site(tmp_path, monkeypatch)
    for entry in (site / ".digest-cache" / "search").rglob("*"):
        if entry.is_file() and not entry.name.endswith("-meta"):
            entry.write_bytes(b"damaged")
    fragment = next((site / "dist" / "pagefind" / "shard").rglob("fragment/*"))
    fragment.write_bytes(b"edited by hand")  # so the shard's files must come from the cache
    build(config, environ={})
    assert _tree(site / "dist") == _fresh_build(config, tmp_path)

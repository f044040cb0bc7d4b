"""The Pagefind search bundle: built with the site, small, complete and deterministic.
(It is left out of tests/golden, see tests/golden.py, so its determinism is proved here.)"""

import json
from dataclasses import replace

from digest.build import build
from digest.search import UNUSED, index_files


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

"""Search in every language, in a real browser: a Russian query finds the story that has its
word only in other grammatical forms (Pagefind's Russian stemmer), on a site whose index is
in many shards and several languages (tests/data/languages, built with C = 2)."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from dataclasses import replace

import pytest

from digest import search
from digest.build import build
from digest.config import load_config
from tests.conftest import ROOT, _PagesHandler
from tests.test_browser import Visit, browser  # noqa: F401 - the session's Chromium

FIXTURES = ROOT / "tests" / "data" / "languages"


@pytest.fixture(scope="module")
def multilingual_site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("languages")
    shutil.copytree(FIXTURES, folder / "content_cache")
    (folder / "digest.toml").write_text(
        '[[feeds]]\nname = "misdeclared.rss.xml"\nurl = "https://mis.example/feed/"\nlanguage = "ru"\n')
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(search.SHARD_ENV, "2")
        build(replace(load_config(folder), out_dir=folder / "dist"), environ={}, parse_cache=folder / "cache")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_PagesHandler, directory=str(folder / "dist")))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/repo/", folder / "dist"
    server.shutdown()
    server.server_close()


def _search(browser, site: str, query: str, language: str = "") -> tuple[str, list[str], Visit]:
    v = Visit(browser, site, 1280)
    page = v.open(site + "search/index.html")
    if language:
        page.select_option("#search-lang", language)
    page.fill("#search-q", query)
    page.press("#search-q", "Enter")
    page.wait_for_function("document.getElementById('search-status').textContent.includes('match')")
    links = page.eval_on_selector_all("#search-results li h2 a", "as => as.map(a => a.getAttribute('href'))")
    return page.inner_text("#search-status"), links, v


def test_a_russian_query_finds_other_grammatical_forms(browser, multilingual_site):  # noqa: F811
    import json

    site, out = multilingual_site
    indexes = json.loads((out / "pagefind" / "shards.json").read_text())["indexes"]
    assert len(indexes) >= 4 and len({x["language"] for x in indexes}) == 7  # many shards, seven languages
    body = (out / "articles" / "zasukha-v-khatlone-fermery-prosyat-pomoshchi" / "index.html").read_text()
    assert "засухи" not in body.lower() and "засуха" in body.lower()  # only another form of the word
    # "засухи" (genitive) finds "Засуха" (nominative): both stem to "засух"; a prefix match would not.
    status, links, v = _search(browser, site, "засухи")
    assert any("zasukha-v-khatlone" in href for href in links), (status, links)
    v.assert_clean()
    v.close()
    # "министров" finds "Министры"; the Kazakh and Turkmen engines are searched in the same query.
    status, links, v = _search(browser, site, "министров")
    assert any("glavy-mid" in href for href in links), (status, links)
    v.close()
    status, links, v = _search(browser, site, "köpri")
    assert any("asgabatda" in href for href in links), (status, links)
    v.close()
    # The language filter keeps to one language.
    status, links, v = _search(browser, site, "köpri", language="ru")
    assert links == [] and status.startswith("No stories"), (status, links)
    v.close()

"""The site in a real browser: Debian's Chromium driven by Playwright, the seed site served over
HTTP under a sub-path (/repo/) the way GitHub Pages serves a project site.

Each page must load with no console error and no failed request, pass axe-core with no serious
or critical violation, fit a 320 px screen without sideways scrolling, and search must find a
story by a word that only its body contains. The tests save the screenshots shown in the README
(docs/screenshots/, 390 px and 1280 px wide). One browser for the whole session keeps them fast.

Where Chromium is missing, `make test` installs it (apt, as root) or these tests skip loudly.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import ROOT

CHROMIUM = os.environ.get("DIGEST_CHROMIUM", "/usr/bin/chromium")
SHOTS = ROOT / "docs" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
# A 1×1 transparent GIF served in place of publisher images: tests never touch the network.
PIXEL = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")
ARTICLE = "articles/heroines-of-the-second-world-war/index.html"
WITH_IMAGES = "articles/the-wife-the-short-film-highlighting-domestic-violence-in-kazakhstan/index.html"
PAGES = {
    "home": "",
    "article": ARTICLE,
    "country": "countries/kazakhstan/index.html",
    "search": "search/index.html",
}

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - playwright is a declared test dependency
    sync_playwright = None


def _why_no_browser() -> str | None:
    if sync_playwright is None:
        return "playwright is not installed (pip install -e '.[test]')"
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM}: run `make browser` (apt-get install -y chromium) to run the browser tests"
    return None


@pytest.fixture(scope="session")
def browser():
    reason = _why_no_browser()
    if reason:
        print(f"\n*** BROWSER TESTS SKIPPED: {reason} ***\n")
        pytest.skip(f"BROWSER TESTS SKIPPED: {reason}")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


class Visit:
    """One page load with everything that went wrong on the way recorded."""

    def __init__(self, browser, served_site: str, width: int, dark: bool = False):
        self.origin = urlsplit(served_site).netloc
        self.context = browser.new_context(viewport={"width": width, "height": 844 if width < 600 else 800},
                                           color_scheme="dark" if dark else "light", device_scale_factor=1)
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.loaded: dict[str, int] = {}
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        self.page.on("response", self._response)

    def _route(self, route):
        if urlsplit(route.request.url).netloc == self.origin:
            route.continue_()
        elif route.request.resource_type == "image":
            route.fulfill(status=200, content_type="image/gif", body=PIXEL)
        else:
            route.fulfill(status=204, body=b"")

    def _response(self, response):
        if urlsplit(response.url).netloc != self.origin:
            return
        if response.status >= 400:
            self.failed.append(f"{response.url} (HTTP {response.status})")
        else:
            try:
                self.loaded[response.url] = len(response.body())
            except Exception:  # redirects and aborted bodies have no body to measure
                pass

    def open(self, url: str):
        response = self.page.goto(url, wait_until="networkidle")
        assert response is not None and response.status == 200, url
        return self.page

    def assert_clean(self):
        assert not self.errors, f"console errors: {self.errors}"
        assert not self.failed, f"failed requests: {self.failed}"

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, served_site):
    opened = []

    def make(width: int = 1280, dark: bool = False) -> Visit:
        v = Visit(browser, served_site, width, dark)
        opened.append(v)
        return v

    yield make
    for v in opened:
        v.close()


def _axe_serious(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} – {[n['target'] for n in v['nodes'][:3]]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("name", list(PAGES))
def test_page_loads_cleanly_is_accessible_and_fits_a_phone(visit, served_site, name):
    wide = visit(1280)
    page = wide.open(served_site + PAGES[name])
    if name == "search":  # the screenshot shows the page in use
        page.fill("#search-q", "Almaty")
        page.wait_for_selector("#search-results li")
    assert _axe_serious(page) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-1280.png"))
    page.emulate_media(color_scheme="dark")
    assert _axe_serious(page) == []  # the dark theme has to pass the contrast checks too
    wide.assert_clean()

    phone = visit(390, dark=name == "home")
    page = phone.open(served_site + PAGES[name] + ("?q=Almaty" if name == "search" else ""))
    if name == "search":
        page.wait_for_selector("#search-results li")
    page.screenshot(path=str(SHOTS / f"{name}-390{'-dark' if name == 'home' else ''}.png"))
    assert _axe_serious(page) == []
    page.set_viewport_size({"width": 320, "height": 700})  # the narrowest phone we support
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at 320px"
    phone.assert_clean()


def _index_files(v: Visit) -> dict[str, int]:
    """What a tab fetched of the search index: path under search-index/ → bytes as they came."""
    return {url.split("/search-index/", 1)[1]: n for url, n in v.loaded.items() if "/search-index/" in url}


def _documents(out: Path) -> dict[str, dict]:
    """Page path of each story in the built index → its document ({"u", "t", "d", "l", "x"}, with
    the shard's folder added as "shard")."""
    root = out / "search-index"
    docs = {}
    for shard in json.loads((root / "index.json").read_text())["shards"]:
        for n in range(shard["docs"]):
            doc = json.loads(gzip.decompress((root / shard["path"] / f"d{n}.gz").read_bytes()))
            docs[doc["u"]] = {**doc, "shard": shard["path"]}
    return docs


def test_search_finds_a_story_by_a_word_only_in_its_body(visit, served_site, seed_build):
    out, _ = seed_build
    body = (out / ARTICLE).read_text()
    assert "Moldagulova" in body and "Moldagulova" not in body.split("<h1")[1].split("</h1>")[0]
    v = visit(390)
    page = v.open(served_site + PAGES["search"])
    page.fill("#search-q", "moldagulova")
    page.press("#search-q", "Enter")
    first = page.wait_for_selector("#search-results li a")
    assert first.inner_text() == "Heroines of the Second World War"
    assert "Moldagulova" in page.inner_text("#search-results li mark")
    assert "story matches" in page.inner_text("#search-status")
    assert page.url.endswith("search/index.html?q=moldagulova")  # a shareable URL
    fetched = _index_files(v)
    with page.expect_navigation(wait_until="networkidle"):
        first.click()
    assert page.url == served_site + ARTICLE  # result links work under the sub-path
    v.assert_clean()
    # A phone loads little: the manifest, the one term chunk (of 16) that can hold the word and
    # the one story shown, as they came over the wire (gzip-compressed JSON; under 5 KiB in all).
    search_bytes = sum(fetched.values())
    print(f"\nsearch for one word loaded {search_bytes / 1024:.1f} KiB of the search index: {sorted(fetched)}")
    assert sorted(re.sub(r".*/([td])\d+\.gz$", r"\1", name) for name in fetched) == ["d", "index.json", "t"], fetched
    assert 0 < search_bytes < 12 * 1024


def test_a_word_in_a_title_ranks_that_story_first(visit, served_site, seed_build):
    """"soldiers" is in one story's title and never in its body; four other stories have it in
    their bodies only, up to four times. The title counts more (fulltext.TITLE_WEIGHT), so that
    story comes first: by its body alone it would come fourth."""
    out, _ = seed_build
    docs = _documents(out)
    v = visit(1280)
    status, links = _search(v, served_site, "soldiers")
    found = [docs[u.removeprefix(served_site)] for u in links]
    assert status == "5 stories match “soldiers”.", status
    said = [(len(re.findall(r"(?i)\bsoldiers\b", d["t"])), len(re.findall(r"(?i)\bsoldiers\b", d["x"])))
            for d in found]  # (in its title, in its body)
    assert said[0] == (1, 0), (found[0]["t"], said)  # first: in its title, not in its body …
    assert all(title == 0 and body >= 1 for title, body in said[1:]), said  # … above those with it in the body
    assert v.page.inner_text("#search-results li h2") == found[0]["t"]
    v.assert_clean()


def test_a_short_word_finds_the_stories_of_its_stem(visit, served_site):
    """A word's stem may sort before the word ("city" → "citi", "jobs" → "job"): a short query
    word still finds every story of its stem, as its longer forms do."""
    for short, long in (("city", "cities"), ("jobs", "job"), ("army", "armies")):
        v = visit(1280)
        status, links = _search(v, served_site, short)
        long_status, long_links = _search(v, served_site, long)
        assert links and links == long_links, (short, status, long_status)
        assert status == long_status.replace(f"“{long}”", f"“{short}”")
        v.assert_clean()


def test_an_excerpt_shows_the_passage_with_most_of_the_query_words(visit, served_site):
    """The story says "water" 1,200 words before it first says "Aral": its excerpt is the
    passage where both stand together, not the first "water"."""
    v = visit(1280)
    _search(v, served_site, "water aral")
    items = v.page.query_selector_all("#search-results li")
    story = next(li for li in items if li.inner_text().startswith("Overview of environmental issues in Kazakhstan"))
    marks = [m.inner_text().lower() for m in story.query_selector_all("mark")]
    assert any(m.startswith("water") for m in marks) and any(m.startswith("aral") for m in marks), marks
    v.assert_clean()


def test_a_one_letter_word_is_only_itself(visit, served_site):
    """"a" finds the stories with the word "a", not every word starting with it, and fetches
    one chunk, not every chunk of the letter."""
    v = visit(1280)
    status, links = _search(v, served_site, "a")
    assert links and "match" in status
    chunks = [name for name in _index_files(v) if name.rsplit("/", 1)[-1].startswith("t")]
    assert len(chunks) == 1, chunks
    marks = v.page.eval_on_selector_all("#search-results mark", "ms => ms.map(m => m.textContent)")
    assert marks and all(m.lower() == "a" for m in marks), marks
    v.assert_clean()


@pytest.fixture(scope="session")
def sharded_site(tmp_path_factory, seed_config):
    """The seed site built with a search index in many shards (C = 8, see digest/search.py),
    served under /repo/ like the seed site; yields (url, dist folder)."""
    import functools
    import http.server
    import threading
    from dataclasses import replace

    from digest import search
    from digest.build import build
    from tests.conftest import _PagesHandler

    out = tmp_path_factory.mktemp("sharded") / "dist"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(search.SHARD_ENV, "8")
        build(replace(seed_config, out_dir=out), environ={}, parse_cache=out.parent / "parse-cache")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_PagesHandler, directory=str(out)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/repo/", out
    server.shutdown()
    server.server_close()


def _search(v, site: str, query: str) -> tuple[str, list[str]]:
    page = v.open(site + PAGES["search"] + "?q=" + query)
    page.wait_for_function("document.getElementById('search-status').textContent.includes('match')")
    links = page.eval_on_selector_all("#search-results li h2 a", "as => as.map(a => a.href)")
    return page.inner_text("#search-status"), links


def test_search_merges_every_shard_of_a_sharded_index(browser, visit, served_site, sharded_site):
    site, out = sharded_site
    tabs: list[Visit] = []

    def sharded_visit() -> Visit:  # the ``visit`` fixture only lets the seed site's origin through
        tabs.append(Visit(browser, site, 390))
        return tabs[-1]

    try:
        _check_sharded_search(sharded_visit, visit, served_site, site, out)
    finally:
        for tab in tabs:
            tab.close()


def _check_sharded_search(sharded_visit, visit, served_site: str, site: str, out: Path):
    manifest = json.loads((out / "search-index" / "index.json").read_text())
    shards = manifest["shards"]
    shard_of = {u: doc["shard"] for u, doc in _documents(out).items()}
    # Every story is in exactly one of several shards.
    assert len(shards) >= 3 and len(set(shard_of.values())) == len(shards)
    assert len(shard_of) == manifest["docs"] == sum(s["docs"] for s in shards) == 40
    # Whole words and prefixes find the same stories as on the one-shard site: the stem fallback
    # (a stem the query word begins, for a word no story uses) must not run in a shard just
    # because that shard lacks the word ("kazakhstani" must not find the stories of a shard that
    # only has "Kazakhstan"), and a shard with words the query word begins keeps its prefix
    # matches ("alma" finds Almaty). The order may differ a little: BM25 weighs a story's length
    # against the average of its own shard (fulltext.index_shard).
    found = {}
    for query in ("moldagulova", "moldag", "almaty", "alma", "kazakhstani", "zzqxjv", "almaty women",
                  "zzqxjv alma"):
        v, one = sharded_visit(), visit(390)
        status, links = _search(v, site, query)
        single_status, single_links = _search(one, served_site, query)
        assert status == single_status  # the same number of stories match as on the one-shard site
        assert len(single_links) < 20  # … and the same stories (all shown)
        found[query] = sorted(u.removeprefix(site) for u in links)
        assert found[query] == sorted(u.removeprefix(served_site) for u in single_links), query
        assert all(u.startswith(site + "articles/") for u in links)
        if query == "almaty":  # a common word: its stories live in several shards
            assert len({shard_of[u] for u in found[query]}) >= 3, found[query]
            # a result from another shard than the first result's
            first = shard_of[links[0].removeprefix(site)]
            merged = next(u for u in links if shard_of[u.removeprefix(site)] != first)
            page = v.page
            with page.expect_navigation(wait_until="networkidle"):
                page.click(f'#search-results a[href="{merged}"]')
            assert page.url == merged  # result links of every shard work under the sub-path
        v.assert_clean()
        one.assert_clean()
    assert found["moldag"] == found["moldagulova"] == [ARTICLE]
    assert found["alma"] == found["almaty"] and len(found["almaty"]) > 1
    assert 0 < len(found["kazakhstani"]) < 20
    assert found["zzqxjv"] == []  # a word that exists nowhere: no fallback matches either …
    assert found["zzqxjv alma"] == found["alma"]  # … and, as on one index, is left out of a longer query
    assert 0 < len(found["almaty women"]) < len(found["almaty"])
    # What one query costs: the manifest, then per shard the chunk or two whose stems can match
    # the word, plus the stories shown.
    v = sharded_visit()
    _search(v, site, "moldagulova")
    fetched = _index_files(v)
    chunks = [name for name in fetched if re.fullmatch(r"[0-9a-f]{16}/t\d+\.gz", name)]
    stories = [name for name in fetched if re.fullmatch(r"[0-9a-f]{16}/d\d+\.gz", name)]
    assert sorted(fetched) == sorted(["index.json", *chunks, *stories])
    folders = [s["path"] for s in shards]
    assert all(sum(name.startswith(f) for name in chunks) <= 2 for f in folders), chunks
    assert len(stories) == 1 and stories[0].startswith(shard_of[ARTICLE]), stories
    print(f"\none word on the seed site in {len(shards)} shards loaded {sum(fetched.values()) / 1024:.1f} KiB "
          f"of the search index ({len(chunks)} term chunks of {sum(len(s['chunks']) for s in shards)})")


def test_no_match_says_so(visit, served_site):
    v = visit(1280)
    page = v.open(served_site + PAGES["search"] + "?q=zzqxjv")
    page.wait_for_function("document.getElementById('search-status').textContent.includes('No stories')")
    assert page.query_selector_all("#search-results li") == []
    v.assert_clean()


def test_images_do_not_shift_the_layout(visit, served_site):
    """Body images keep their width/height attributes, so the page does not jump as they load."""
    v = visit(390)
    page = v.open(served_site + WITH_IMAGES)
    assert page.eval_on_selector_all(".story-body img", "imgs => imgs.every(i => i.getAttribute('width') && i.getAttribute('height'))")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_timeout(200)
    shift = page.evaluate("""() => new Promise(resolve => {
        let total = 0;
        new PerformanceObserver(list => { for (const e of list.getEntries()) if (!e.hadRecentInput) total += e.value; })
          .observe({type: "layout-shift", buffered: true});
        setTimeout(() => resolve(total), 100);
    })""")
    assert shift < 0.05, f"cumulative layout shift {shift:.3f}"
    v.assert_clean()


def test_keyboard_focus_is_visible(visit, served_site):
    v = visit(1280)
    page = v.open(served_site)
    page.keyboard.press("Tab")  # the skip link comes first and shows itself
    assert page.evaluate("document.activeElement.className") == "skip"
    style = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert style == "solid"
    box = page.evaluate("document.activeElement.getBoundingClientRect().left")
    assert box >= 0  # moved on screen when focused
    v.assert_clean()


def test_every_kind_of_page_fits_a_320px_screen(visit, served_site):
    """No sideways scrolling on the narrowest phone, on every kind of page, in one tab."""
    v = visit(320)
    for path in ("weeks/index.html", "weeks/2026-w25/index.html", "tags/index.html", "authors/index.html",
                 "sources/index.html", "countries/index.html", WITH_IMAGES, "authors/mathieu-lemoine/index.html"):
        page = v.open(served_site + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 320px"
    v.assert_clean()


# --- Search in every language (digest/search.py, "Languages") --------------------------------
# A Russian query finds the story that has its word only in other grammatical forms (the index's
# Russian stemmer), on a site whose index is in many shards and seven languages
# (tests/data/languages, built with C = 2).
LANGUAGE_FIXTURES = ROOT / "tests" / "data" / "languages"


@pytest.fixture(scope="module")
def multilingual_site(tmp_path_factory):
    import functools
    import http.server
    import threading
    from dataclasses import replace

    from digest import search
    from digest.build import build
    from digest.config import load_config
    from tests.conftest import _PagesHandler

    folder = tmp_path_factory.mktemp("languages")
    shutil.copytree(LANGUAGE_FIXTURES, folder / "content_cache")
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


def _search_in(browser, site: str, query: str, language: str = "") -> tuple[str, list[str], Visit]:
    v = Visit(browser, site, 1280)
    page = v.open(site + "search/index.html")
    if language:
        page.select_option("#search-lang", language)
    page.fill("#search-q", query)
    page.press("#search-q", "Enter")
    page.wait_for_function("document.getElementById('search-status').textContent.includes('match')")
    links = page.eval_on_selector_all("#search-results li h2 a", "as => as.map(a => a.getAttribute('href'))")
    return page.inner_text("#search-status"), links, v


def test_a_russian_query_finds_other_grammatical_forms(browser, multilingual_site):
    site, out = multilingual_site
    shards = json.loads((out / "search-index" / "index.json").read_text())["shards"]
    assert len(shards) >= 4 and len({s["language"] for s in shards}) == 7  # many shards, seven languages
    language_of = {s["path"]: s["language"] for s in shards}
    body = (out / "articles" / "zasukha-v-khatlone-fermery-prosyat-pomoshchi" / "index.html").read_text()
    assert "засухи" not in body.lower() and "засуха" in body.lower()  # only another form of the word
    # "засухи" (genitive) finds "Засуха" (nominative): both stem to "засух"; a prefix match would not.
    status, links, v = _search_in(browser, site, "засухи")
    assert any("zasukha-v-khatlone" in href for href in links), (status, links)
    # Each result's title and excerpt say the story's language (the "l" of its document).
    marked = v.page.eval_on_selector_all(
        "#search-results li", "lis => lis.map(li => [li.querySelector('a').getAttribute('href'), "
        "li.querySelector('h2').lang, li.querySelector('.excerpt').lang])")
    assert [m[1:] for m in marked if "zasukha-v-khatlone" in m[0]] == [["ru", "ru"]], marked
    v.assert_clean()
    v.close()
    status, links, v = _search_in(browser, site, "köpri")
    marked = v.page.eval_on_selector_all("#search-results li h2", "hs => hs.map(h => h.lang)")
    assert "tk" in marked, (status, marked)
    assert any("asgabatda" in href for href in links), (status, links)
    v.close()
    # "министров" finds "Министры"; the shards of every language are searched in the same query.
    status, links, v = _search_in(browser, site, "министров")
    assert any("glavy-mid" in href for href in links), (status, links)
    v.close()
    # The language filter keeps to one language: it searches that language's shards only.
    status, links, v = _search_in(browser, site, "köpri", language="ru")
    assert links == [] and status.startswith("No stories"), (status, links)
    v.close()
    status, links, v = _search_in(browser, site, "köpri", language="tk")
    marked = v.page.eval_on_selector_all("#search-results li h2", "hs => hs.map(h => h.lang)")
    assert any("asgabatda" in href for href in links) and set(marked) == {"tk"}, (status, links, marked)
    searched = {language_of[name.split("/")[0] + "/"] for name in _index_files(v) if "/" in name}
    assert searched == {"tk"}, sorted(_index_files(v))
    v.assert_clean()
    v.close()

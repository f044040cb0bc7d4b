"""feedparser's own sanitizer test cases (tests/data/feedparser-sanitize/, copied from its
6.0.14 sdist) through digest's whole pipeline: one site built from all of them, then every
page and every output feed parsed and checked for active markup (see tests/test_sanitize.py)."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from digest.build import build
from digest.config import load_config
from tests.conftest import ROOT
from tests.test_sanitize import chrome, site_findings, unexpected

CASES = ROOT / "tests" / "data" / "feedparser-sanitize"


@pytest.fixture(scope="module")
def suite_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("fp-sanitize")
    cache = root / "content_cache"
    cache.mkdir()
    files = sorted(CASES.glob("*.xml"))
    for path in files:
        shutil.copy(path, cache / path.name)
    result = build(load_config(root), environ={})
    return root / "dist", result, files, chrome(tmp_path_factory.mktemp("chrome"))


def test_the_whole_suite_is_there(suite_site):
    _, _, files, _ = suite_site
    assert len(files) == 745  # feedparser 6.0.14's tests/wellformed/sanitize/
    assert (CASES / "LICENSE").is_file()


def test_no_active_markup_reaches_any_page_or_feed(suite_site):
    out, result, _, allowed = suite_site
    leaks = unexpected(out, allowed)
    assert leaks == {}, {k: sorted(v)[:3] for k, v in list(leaks.items())[:5]}
    # and the check did look at real output: hundreds of pages and every feed
    assert len(list(out.rglob("*.html"))) > 400
    assert site_findings(out).keys() <= {p.relative_to(out).as_posix() for p in out.rglob("*")}


def test_every_case_is_published_or_reported(suite_site):
    """No case disappears silently: it is in an article's sources, or its report says why not."""
    out, result, files, _ = suite_site
    catalog = json.loads((out / "articles.json").read_text(encoding="utf-8"))["articles"]
    published = {s for row in catalog for s in row["sources"]}
    reported = {r.file for r in result.site.sources if r.problems}
    feed_level = {r.file for r in result.site.sources if not r.items and not r.problems}
    # payload in the channel, no entries at all
    assert all(not re.search(rb"<(entry|item)\b", (CASES / name).read_bytes()) for name in feed_level)
    missing = {p.name for p in files} - published - reported - feed_level
    assert missing == set()
    sources_page = (out / "sources" / "index.html").read_text(encoding="utf-8")
    assert all(name in sources_page for name in feed_level)  # their (hostile) titles are shown, checked above
    assert len(published) > 500  # most cases carry readable content


def test_acceptable_markup_survives(suite_site):
    """The sanitizer is not a blunt instrument: the safe cases keep their content."""
    out, _, _, _ = suite_site
    catalog = json.loads((out / "articles.json").read_text(encoding="utf-8"))["articles"]
    by_source = {s: row for row in catalog for s in row["sources"]}
    row = by_source["entry_content_crazy.xml"]
    page = (out / row["url"] / "index.html").read_text(encoding="utf-8")
    assert "I will execute here, too, if you mouse over me" in page  # the words stay, the script goes

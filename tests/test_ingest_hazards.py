"""Bad input, end to end: a cache holding every hazard in tests/data/hazards/ (empty, BOM-only,
truncated, PNG, random bytes, HTML page, notes, foreign JSON, untitled items, a 2099 date,
missing and unreadable dates, path tricks, XSS) next to good feeds. Each bad thing is one
warning line naming the file and the reason, --strict fails, and everything else is built."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from digest.build import build
from digest.cli import main
from digest.config import load_config
from tests.conftest import ROOT, make_site

HAZARDS = ROOT / "tests" / "data" / "hazards"
INGEST = ROOT / "tests" / "data" / "ingest"

SKIPPED = {
    "empty.xml": "empty file; skipped",
    "bom-only.xml": "empty file; skipped",
    "picture.xml": "binary file (a PNG image), not a feed; skipped",
    "noise.bin": "binary file, not a feed; skipped",
    "news.xml": "an HTML page, not a feed; skipped",
    "notes.txt": "not a feed (no RSS, Atom, RDF, JSON Feed or known page scrape found); skipped",
    "settings.json": "JSON, but not a JSON Feed (no jsonfeed.org version); skipped",
}


@pytest.fixture(scope="module")
def hazard_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("hazards")
    cache = root / "content_cache"
    cache.mkdir()
    for path in list(HAZARDS.iterdir()) + [INGEST / "rss20.xml", INGEST / "atom10.xml"]:
        shutil.copy(path, cache / path.name)
    old = os.getcwd()
    os.chdir(root)
    try:
        runner = CliRunner()
        plain = runner.invoke(main, ["build"])
        strict = runner.invoke(main, ["build", "--strict", "--out", "strict-dist"])
    finally:
        os.chdir(old)
    catalog = json.loads((root / "dist" / "articles.json").read_text(encoding="utf-8"))["articles"]
    return root, plain, strict, {row["title"]: row for row in catalog}


def _warnings(result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("warning: ")]


def test_each_skipped_file_is_one_line_naming_it_and_why(hazard_site):
    _, plain, _, _ = hazard_site
    assert plain.exit_code == 0, plain.output
    lines = _warnings(plain)
    for name, reason in SKIPPED.items():
        mine = [line for line in lines if line.startswith(f"warning: {name}:")]
        assert mine == [f"warning: {name}: {reason}"], (name, mine)
    assert all("\n" not in line and len(line) < 400 for line in lines)


def test_strict_fails_but_still_builds_everything(hazard_site):
    root, plain, strict, _ = hazard_site
    assert strict.exit_code == 1 and "--strict:" in strict.output
    assert _warnings(strict) == _warnings(plain)
    assert (root / "strict-dist" / "articles.json").read_bytes() == (root / "dist" / "articles.json").read_bytes()


def test_good_feeds_next_to_bad_files_are_built(hazard_site):
    root, _, _, rows = hazard_site
    for title in ("Bishkek opens a solar-powered school", "Aral fishermen return to Aralsk"):
        assert (root / "dist" / rows[title]["url"] / "index.html").is_file()


def test_truncated_feed_keeps_its_complete_items(hazard_site):
    _, plain, _, rows = hazard_site
    assert "Truncated feed first complete item" in rows and "Truncated feed second complete item" in rows
    assert not any("third item" in t for t in rows)
    [line] = [l for l in _warnings(plain) if l.startswith("warning: truncated.xml:")]
    assert "kept the 2 complete item(s), skipped 1 incomplete one(s)" in line
    assert "Truncated JSON first complete item" in rows and not any("second item cut off" in t for t in rows)
    [line] = [l for l in _warnings(plain) if l.startswith("warning: truncated.json:")]
    assert "malformed or truncated JSON" in line and "kept the 1 complete item(s)" in line


def test_untitled_items_are_titled_from_their_words(hazard_site):
    root, plain, _, rows = hazard_site
    assert "Khujand farmers in Tajikistan started the cotton harvest early this year…" in rows
    assert any(t.startswith("Another untitled note, from Osh") for t in rows)
    lines = [l for l in _warnings(plain) if l.startswith("warning: untitled.xml:")]
    assert lines == ["warning: untitled.xml: item 3 has no title, link or content; skipped",
                     "warning: untitled.xml: 2 items have no title; shown under the first words of the text"]


def test_future_and_missing_dates_are_visible_and_harmless(hazard_site):
    root, plain, _, rows = hazard_site
    future = rows["A story dated 2099"]
    assert future["published"] is None and future["date_precision"] == "unknown"
    assert "2099-01-01" in future["date_note"]
    page = (root / "dist" / future["url"] / "index.html").read_text()
    assert "Date unknown" in page and "2099-01-01" in page  # shown, with why
    lines = [l for l in _warnings(plain) if l.startswith("warning: future.xml:")]
    assert lines[0] == ("warning: future.xml: item “A story dated 2099” is dated 2099-01-01, after the feed was "
                        "last built (2026-05-02); shown as undated")
    assert "2 items have no usable date" in lines[1] and "A story with an unreadable date" in lines[1]
    assert "sometime last spring" in rows["A story with an unreadable date"]["date_note"]
    # sorting: dated stories first, newest first; nothing from 2099 anywhere
    catalog = list(rows.values())
    dated = [r["published"] for r in catalog if r["published"]]
    assert [r["published"] for r in catalog[: len(dated)]] == sorted(dated, reverse=True)
    dist = root / "dist"
    assert not list(dist.glob("weeks/2099*"))
    assert not any('datetime="2099' in page.read_text() for page in dist.rglob("*.html"))
    assert "as of 3 May 2026" in (dist / "index.html").read_text()  # "now" is the newest real story
    sources = (dist / "sources" / "index.html").read_text()
    assert "A story dated 2099" in sources and "Skipped" in sources and "Warnings" in sources


def test_path_tricks_stay_inside_dist(hazard_site):
    root, _, _, rows = hazard_site
    dist = (root / "dist").resolve()
    for path in root.rglob("*"):
        assert path.resolve().is_relative_to(root.resolve())
    assert not (root / "etc").exists() and not (root.parent / "etc").exists()
    names = {p.name for p in dist.rglob("*")}
    assert ".." not in names and not any("/" in n or "\\" in n for n in names)
    story = rows["../../../etc/passwd"]
    assert story["url"] == "articles/etc-passwd/"
    assert "../../etc" in story["tags"] and story["authors"] == ["../../root"]
    assert (dist / "tags" / "etc" / "index.html").is_file()
    assert (dist / "authors" / "root" / "index.html").is_file()
    for tag_dir in (dist / "tags").iterdir():
        assert re.fullmatch(r"[a-z0-9-]+|index\.html|feed\.(xml|json)", tag_dir.name), tag_dir.name


def test_five_megabyte_item(tmp_path):
    paragraph = "<p>" + "Almaty, Kazakhstan, in a very long report. " * 25 + "</p>\n"
    body = paragraph * (5_000_000 // len(paragraph) + 1)
    feed = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Huge</title>'
            '<link>https://huge.example.org/</link><description>d</description>'
            '<item><title>The five megabyte story</title><link>https://huge.example.org/5mb</link>'
            '<pubDate>Fri, 01 May 2026 08:00:00 +0000</pubDate>'
            f'<description><![CDATA[{body}]]></description></item>'
            '<item><title>A normal story next to it</title><link>https://huge.example.org/small</link>'
            '<pubDate>Fri, 01 May 2026 09:00:00 +0000</pubDate><description>Small.</description></item>'
            '</channel></rss>')
    assert len(feed) > 5_000_000
    site = make_site(tmp_path, {"huge.xml": feed})
    result = build(load_config(site), environ={})
    assert len(result.site.order) == 2
    assert any(p.startswith("huge.xml: item “The five megabyte story” has a 5.0 MB body; kept the first 1 MB")
               for p in result.problems)
    big = next(a for a in result.site.articles.values() if a.title == "The five megabyte story")
    body = result.site.body(big.id)
    assert big.truncated and 900_000 < len(body) <= 1_000_000 and body.endswith("</p>")
    assert len(big.excerpt) <= 281
    page = site / "dist" / "articles" / big.slug / "index.html"
    assert page.stat().st_size < 1_200_000
    assert len((site / "dist" / "feed.xml").read_bytes()) < 3_000_000


def test_every_output_of_the_hazard_site_is_well_formed(hazard_site):
    root, _, _, _ = hazard_site
    from xml.etree import ElementTree as ET

    for feed in (root / "dist").rglob("feed.xml"):
        ET.fromstring(feed.read_bytes())
    for feed in (root / "dist").rglob("feed.json"):
        assert json.loads(feed.read_bytes())["version"] == "https://jsonfeed.org/version/1.1"


def test_entity_bomb_and_external_entity_do_nothing(hazard_site):
    root, plain, _, rows = hazard_site
    assert "Bomb item &x;" in rows  # the entity is left as text: never expanded, never read from disk
    dist = root / "dist"
    assert max(p.stat().st_size for p in dist.rglob("*.html")) < 2_000_000
    assert not any("root:x:0:0" in p.read_text(errors="replace") for p in dist.rglob("*") if p.is_file())
    assert any(l.startswith("warning: entities.xml: malformed or truncated XML") for l in _warnings(plain))

"""The size budget: summary or full-text group feeds, the archive setting (full_text_weeks),
sitemaps within the protocol's limits, and the size line and warning of ``digest build``."""

import json
import os
import re
from dataclasses import replace
from datetime import datetime, timezone
from xml.etree import ElementTree as ET

import feedparser
import pytest
from click.testing import CliRunner

from digest import budget, search, sitemap
from digest.build import build
from digest.cli import main
from digest.config import ConfigError, load_config
from digest.views import article_views

from tests.conftest import ROOT, SEEDS

ATOM = "{http://www.w3.org/2005/Atom}"
OLD = "articles/another-time/"  # 2 March 2026: archived with full_text_weeks = 4 (now: June 2026)
NEW = "articles/heroines-of-the-second-world-war/"  # 20 June 2026: keeps its text
OLD_BODY = "Credits : Massimiliano"  # only in the old story's body, never in its summary


def _env():
    return {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}


@pytest.fixture(scope="module")
def archived_build(tmp_path_factory, seed_config):
    out = tmp_path_factory.mktemp("archived") / "dist"
    result = build(replace(seed_config, out_dir=out, full_text_weeks=4), environ=_env(),
                   parse_cache=out.parent / "cache")
    return out, result


@pytest.fixture(scope="module")
def full_feeds_build(tmp_path_factory, seed_config):
    out = tmp_path_factory.mktemp("full") / "dist"
    build(replace(seed_config, out_dir=out, feed_content="full"), environ=_env(), parse_cache=out.parent / "cache")
    return out


def _atom_contents(path):
    root = ET.parse(path).getroot()
    return [e.find(f"{ATOM}content") for e in root.iter(f"{ATOM}entry")]


def test_group_feeds_carry_summaries_and_the_site_feed_full_text_by_default(seed_build):
    out, _ = seed_build
    group = out / "countries" / "kazakhstan"
    contents = _atom_contents(group / "feed.xml")
    assert contents and all(c is None for c in contents)
    parsed = feedparser.parse((group / "feed.xml").read_bytes())
    assert not parsed.bozo and all(e.summary and e.link for e in parsed.entries)
    items = json.loads((group / "feed.json").read_text())["items"]
    assert items and all("content_html" not in i and i["content_text"] and i["url"] for i in items)
    assert all(c is not None for c in _atom_contents(out / "feed.xml"))
    assert all("content_html" in i for i in json.loads((out / "feed.json").read_text())["items"])


def test_feed_content_full_puts_the_bodies_in_every_feed(full_feeds_build, seed_build):
    group = full_feeds_build / "countries" / "kazakhstan"
    contents = _atom_contents(group / "feed.xml")
    assert contents and all(c is not None and c.get("type") == "html" for c in contents)
    assert not feedparser.parse((group / "feed.xml").read_bytes()).bozo
    items = json.loads((group / "feed.json").read_text())["items"]
    assert all(i["content_html"] and i["summary"] for i in items)
    summary_bytes = (seed_build[0] / "countries" / "kazakhstan" / "feed.xml").stat().st_size
    assert (group / "feed.xml").stat().st_size > 2 * summary_bytes


def test_full_text_since_counts_whole_weeks_back_from_now():
    now = datetime(2026, 6, 21, 12, tzinfo=timezone.utc)  # a Sunday, ISO week 25
    assert budget.full_text_since(now, 0) is None
    assert budget.full_text_since(now, 1) == datetime(2026, 6, 15, tzinfo=timezone.utc)
    assert budget.full_text_since(now, 4) == datetime(2026, 5, 25, tzinfo=timezone.utc)


def test_archived_pages_keep_links_and_metadata_but_not_the_body(archived_build, seed_build):
    out, _ = archived_build
    old = (out / OLD / "index.html").read_text()
    full = (seed_build[0] / OLD / "index.html").read_text()
    assert OLD_BODY in full and OLD_BODY not in old
    assert "full text is at" in old and "full text is at" not in full
    # title, summary, tags, "filed under", source link, canonical and JSON-LD all stay
    for kept in ("<h1", "Another time", "Filed under Kazakhstan", 'href="../../tags/mosaic/index.html"',
                 'href="../../countries/kazakhstan/index.html"', 'href="../../authors/novastan/index.html"',
                 "https://novastan.org/en/photo-of-the-day/another-time/", "a Soviet mosaic stands tall",
                 'rel="canonical"', 'og:description'):
        assert kept in old and kept in full, kept
    # a stub: no neighbour lists, no NewsArticle, no tag metadata, no feed link in <head>
    for dropped in ("application/ld+json", "More from", 'property="article:tag"', 'rel="alternate"'):
        assert dropped in full and dropped not in old, dropped
    assert len(old) < 0.8 * len(full)  # no body, no "more from", no JSON-LD
    new = (out / NEW / "index.html").read_text()
    assert new == (seed_build[0] / NEW / "index.html").read_text()
    assert (out / "articles.json").read_bytes() == (seed_build[0] / "articles.json").read_bytes()


def test_archived_stories_leave_the_search_index_and_feeds_smaller(archived_build, seed_config):
    out, result = archived_build
    views = article_views(result.site, 4)
    docs = search.documents(views)
    full = search.documents(article_views(result.site))
    assert OLD_BODY in full[OLD].text and OLD_BODY not in docs[OLD].text
    assert "a Soviet mosaic stands tall" in docs[OLD].text and docs[OLD].title == "Another time"
    assert docs[NEW] == full[NEW]
    assert sum(len(d.text) for d in docs.values()) < sum(len(d.text) for d in full.values())
    # the site feed has full text, except for an archived story
    entries = {e.find(f"{ATOM}link").get("href"): e for e in ET.parse(out / "feed.xml").getroot().iter(f"{ATOM}entry")}
    archived = [e for link, e in entries.items() if views[next(k for k, v in views.items()
                                                               if link.endswith(v["path"]))]["archived"]]
    assert archived and all(e.find(f"{ATOM}content") is None for e in archived)
    assert any(e.find(f"{ATOM}content") is not None for e in entries.values())


def test_sitemap_stays_one_file_within_the_limits():
    out = sitemap.files(["", "articles/a/", "404.html"], "https://e.org/s/")
    assert list(out) == ["sitemap.xml"]
    root = ET.fromstring(out["sitemap.xml"])
    assert root.tag.endswith("urlset") and len(root) == 2


@pytest.mark.parametrize("max_urls, max_bytes", [(7, None), (None, 600)])
def test_sitemap_past_a_limit_is_an_index_of_files_within_both(max_urls, max_bytes):
    paths = [f"articles/story-{i:02d}/" for i in range(30)]
    out = sitemap.files(paths, "https://e.org/s/", max_urls=max_urls, max_bytes=max_bytes)
    index = ET.fromstring(out["sitemap.xml"])
    assert index.tag.endswith("sitemapindex")
    parts = [loc.text for loc in index.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert parts == [f"https://e.org/s/sitemap-{i}.xml" for i in range(1, len(out))] and len(parts) > 1
    listed = []
    for name in out:
        if name == "sitemap.xml":
            continue
        part = ET.fromstring(out[name])
        assert part.tag.endswith("urlset")
        assert len(part) <= (max_urls or sitemap.MAX_URLS) and len(out[name]) <= (max_bytes or sitemap.MAX_BYTES)
        listed += [u[0].text for u in part]
    assert listed == [f"https://e.org/s/{p}" for p in paths]


def test_a_build_past_the_lowered_limit_writes_an_index_robots_points_at(tmp_path, seed_config, monkeypatch):
    monkeypatch.setattr(sitemap, "MAX_URLS", 50)
    out = tmp_path / "dist"
    build(replace(seed_config, out_dir=out), environ=_env(), parse_cache=tmp_path / "cache")
    parts = sorted(out.glob("sitemap-*.xml"))
    assert len(parts) >= 3
    assert ET.parse(out / "sitemap.xml").getroot().tag.endswith("sitemapindex")
    assert all(len(ET.parse(p).getroot()) <= 50 for p in parts)
    assert "Sitemap: https://central-asia-digest.github.io/digest/sitemap.xml" in (out / "robots.txt").read_text()


def test_build_summary_states_the_bytes_and_warns_once_over_the_limit(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    (site / "content_cache").symlink_to(SEEDS, target_is_directory=True)
    (site / "digest.toml").write_text("size_limit = 100_000\n")
    monkeypatch.chdir(site)
    result = CliRunner().invoke(main, ["build"], env={"SOURCE_DATE_EPOCH": None})
    assert result.exit_code == 0, result.output
    total = sum(p.stat().st_size for p in (site / "dist").rglob("*") if p.is_file())
    assert f"449 files, {budget.human(total)} (" in result.output or f", {budget.human(total)} (" in result.output
    warnings = [line for line in result.output.splitlines() if "size_limit" in line]
    assert len(warnings) == 1 and warnings[0].startswith("warning: dist/ is ")
    assert "full_text_weeks" in warnings[0] and "per_page" in warnings[0] and "100.0 kB" in warnings[0]
    again = CliRunner().invoke(main, ["build"], env={"SOURCE_DATE_EPOCH": None})  # no-change rebuild
    assert "written" in again.output and [l for l in again.output.splitlines() if "size_limit" in l] == warnings
    (site / "digest.toml").write_text("")
    quiet = CliRunner().invoke(main, ["build"], env={"SOURCE_DATE_EPOCH": None})
    assert "size_limit" not in quiet.output and budget.human(total) in quiet.output


def test_size_warning_names_only_the_settings_left_to_turn():
    config = replace(load_config(ROOT), size_limit=10, full_text_weeks=2, feed_content="summary")
    line = budget.size_warning(11, config)
    assert "full_text_weeks" not in line and "feed_content" not in line and "per_page" in line
    assert budget.size_warning(10, config) is None
    assert 'feed_content = "summary"' in budget.size_warning(11, replace(config, feed_content="full"))


@pytest.mark.parametrize("text, key", [('feed_content = "some"', "feed_content"), ("full_text_weeks = -1", "full_text_weeks"),
                                       ('size_limit = "1 GB"', "size_limit")])
def test_bad_budget_settings_are_one_error_naming_the_file(tmp_path, text, key):
    (tmp_path / "digest.toml").write_text(text + "\n")
    with pytest.raises(ConfigError, match=re.escape(str(tmp_path / "digest.toml")) + f".*'{key}'"):
        load_config(tmp_path)


def test_archived_weeks_keep_their_page_but_not_the_newsletter_files(archived_build, seed_build):
    out, _ = archived_build
    recent, old = out / "weeks" / "2026-w25", out / "weeks" / "2026-w10"  # 2026-W10: 2 March 2026
    assert (recent / "newsletter.md").is_file() and (recent / "newsletter.html").is_file()
    assert 'href="newsletter.md"' in (recent / "index.html").read_text()
    assert (old / "index.html").is_file() and not list(old.glob("newsletter.*"))
    assert "newsletter." not in (old / "index.html").read_text() and "Another time" in (old / "index.html").read_text()
    assert (seed_build[0] / "weeks" / "2026-w10" / "newsletter.md").is_file()  # off by default


def test_archived_stories_are_listed_without_excerpt_and_left_out_of_group_feeds(archived_build, seed_build):
    out, _ = archived_build
    excerpt = "a Soviet mosaic stands tall"
    listing, before = (out / "tags" / "mosaic" / "index.html").read_text(), (seed_build[0] / "tags" / "mosaic" / "index.html").read_text()
    assert "Another time" in listing and excerpt in before and excerpt not in listing
    # an archived story is a row (title, date, publisher) in a list, not a card
    row = re.search(r'<ul class="rows">\n<li>(<a href="[^"]*another-time/index.html">Another time</a>[^\n]*)</li>', listing).group(1)
    assert "2 March 2026" in row and "Novastan English" in row and "chips" not in row and "<h2" not in row
    assert "Another time" not in "".join(re.findall(r'<article class="card">.*?</article>', listing, re.S))
    feed = feedparser.parse((out / "countries" / "kazakhstan" / "feed.xml").read_bytes())
    old_feed = feedparser.parse((seed_build[0] / "countries" / "kazakhstan" / "feed.xml").read_bytes())
    assert not feed.bozo and feed.entries and len(feed.entries) < len(old_feed.entries)
    assert all(e.get("published", "undated") >= "2026-05-25" for e in feed.entries)  # undated stories keep their text
    assert not json.loads((out / "tags" / "mosaic" / "feed.json").read_text())["items"]
    assert "Another time" in (out / "feed.xml").read_text()  # the site feed still lists it


def test_a_listing_of_cards_and_rows_keeps_its_order(archived_build, seed_build):
    """Recent stories as cards, archived ones as rows, in the same order as without the setting."""
    links = lambda html: re.findall(r'<(?:h2|li)><a href="([^"]*articles/[^"]*)"', html.split('<main')[1])  # noqa: E731
    for page in ("countries/kazakhstan/index.html", "tags/photo-of-the-day/index.html", "authors/novastan/index.html"):
        mixed, plain = (archived_build[0] / page).read_text(), (seed_build[0] / page).read_text()
        assert links(mixed) == links(plain) and links(plain), page
    front = (archived_build[0] / "countries/kazakhstan/index.html").read_text()
    assert '<div class="cards">' in front and '<ul class="rows">' in front

"""Every output feed parses cleanly, and every page points at the right feed and metadata."""

import json
import re

import feedparser
import pytest


def _feeds(out, name):
    return sorted(p for p in out.rglob(name))


def test_every_atom_feed_parses_without_bozo(seed_build, catalog):
    out, _ = seed_build
    feeds = _feeds(out, "feed.xml")
    # the site, and one per country with stories, per tag and per author
    assert len(feeds) > 1 + 5 + 10
    for path in feeds:
        parsed = feedparser.parse(path.read_bytes())
        rel = path.relative_to(out).as_posix()
        assert parsed.bozo == 0, f"{rel}: {parsed.get('bozo_exception')}"
        assert parsed.version == "atom10", rel
        assert parsed.feed.title and parsed.entries or rel.startswith("countries/"), rel
        for entry in parsed.entries:
            assert entry.link.startswith("https://central-asia-digest.github.io/digest/articles/"), (rel, entry.link)
            assert entry.title and entry.id


def test_site_feed_holds_the_newest_stories_with_their_bodies(seed_build, catalog):
    out, _ = seed_build
    parsed = feedparser.parse((out / "feed.xml").read_bytes())
    newest = [a for a in catalog.values() if a["published"]]
    newest.sort(key=lambda a: a["published"], reverse=True)
    assert parsed.entries[0].title == newest[0]["title"]
    assert "Aliya Moldagulova" in parsed.entries[0].content[0].value


def test_every_json_feed_is_valid_json_feed_1_1(seed_build):
    out, _ = seed_build
    for path in _feeds(out, "feed.json"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        rel = path.relative_to(out).as_posix()
        assert doc["version"] == "https://jsonfeed.org/version/1.1", rel
        assert doc["title"] and doc["feed_url"].endswith(rel), rel
        ids = [item["id"] for item in doc["items"]]
        assert len(ids) == len(set(ids)), rel
        for item in doc["items"]:
            assert item["url"].startswith("https://") and ("content_html" in item or "content_text" in item)


@pytest.mark.parametrize("page, feed", [
    ("index.html", "feed.xml"),
    ("countries/kazakhstan/index.html", "feed.xml"),  # relative to the page: its own feed
    ("tags/index.html", "../feed.xml"),
    ("authors/mathieu-lemoine/index.html", "feed.xml"),
    ("weeks/2026-w25/index.html", "../../feed.xml"),  # weeks have no feed of their own: the site's
])
def test_listing_pages_link_their_own_feed(seed_build, page, feed):
    out, _ = seed_build
    html = (out / page).read_text(encoding="utf-8")
    alternates = re.findall(r'<link rel="alternate" type="([^"]+)" title="[^"]*" href="([^"]+)"', html)
    assert ("application/atom+xml", feed) in alternates
    assert ("application/feed+json", feed.replace(".xml", ".json")) in alternates
    assert (out / page).parent.joinpath(feed).resolve().is_file()


def test_article_pages_carry_canonical_opengraph_and_json_ld(seed_build, catalog):
    out, _ = seed_build
    for article in catalog.values():
        html = (out / article["url"] / "index.html").read_text(encoding="utf-8")
        canonical = re.search(r'<link rel="canonical" href="([^"]+)">', html).group(1)
        own = "https://central-asia-digest.github.io/digest/" + article["url"]
        assert canonical == (article["source_url"] or own).replace("&", "&amp;")
        assert f'<meta property="og:url" content="{own}">' in html
        # one description, for search engines (name) and link previews (og: property) alike
        descriptions = re.findall(r'<meta [^>]*(?:name="description"|property="og:description")[^>]*>', html)
        assert len(descriptions) == 1, descriptions
        assert re.fullmatch(r'<meta name="description" property="og:description" content="[^"]+">', descriptions[0])
        assert '<meta property="og:type" content="article">' in html
        assert re.search(r'<link rel="alternate" type="application/atom\+xml" title="[^"]+" href="(\.\./)+feed\.xml">', html)
        ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))
        assert ld["@type"] == "NewsArticle" and ld["headline"] == article["title"][:110]
        assert ld["url"] == own and ld["@context"] == "https://schema.org"
        assert not {"description", "keywords", "inLanguage", "mainEntityOfPage"} & set(ld)  # said by the page's own tags
        assert [a["name"] for a in ld["author"]] == (article["authors"] or [article["publisher"]])
        if article["date_precision"] == "exact":
            assert ld["datePublished"] == article["published"]
        else:
            assert "datePublished" not in ld  # an approximate date is not claimed as exact


def test_json_ld_cannot_be_broken_out_of(tmp_path):
    """A title with a closing script tag stays inside the JSON-LD block (Jinja's tojson escapes <)."""
    from tests.conftest import make_site
    from digest.build import build
    from digest.config import load_config
    rss = ("<?xml version='1.0'?><rss version='2.0'><channel><title>T</title><link>https://e.org/</link>"
           "<description>d</description><item><title>Bishkek &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;</title>"
           "<link>https://e.org/a</link><pubDate>Mon, 01 Jun 2026 10:00:00 +0000</pubDate>"
           "<description>In Bishkek, Kyrgyzstan.</description></item></channel></rss>")
    site = make_site(tmp_path, {"f.xml": rss})
    build(load_config(site), environ={})
    page = next((site / "dist" / "articles").rglob("index.html")).read_text(encoding="utf-8")
    assert "<script>alert(1)" not in page
    assert page.count("</script>") == 1  # only the JSON-LD block's own end tag

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


# The feeds are written from each story's entry, made once (feeds.Entries); the bytes must be
# those of the whole feed written in one piece, as ElementTree and json.dumps write it.
from datetime import datetime, timezone  # noqa: E402
from xml.etree import ElementTree as ET  # noqa: E402

from hypothesis import given, settings, strategies as st  # noqa: E402

from digest import feeds  # noqa: E402

_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)  # element text
_attr = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"), include_characters="\t\n\r"), max_size=30)  # attributes: URLs, tags
_when = st.none() | st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2030, 1, 1),
                                 timezones=st.just(timezone.utc))
_entry = st.fixed_dictionaries({
    "title": _text, "link": _attr, "source_url": st.none() | _attr, "published": _when,
    "authors": st.lists(_text, max_size=3), "publisher": _text, "tags": st.lists(_attr, max_size=3),
    "countries": st.lists(_attr, max_size=2), "excerpt": _text, "body_html": st.none() | _text,
    "language": st.sampled_from(["", "ru", "kk"]),
})


def _whole_atom(title, feed_url, page_url, updated, entries):
    """The feed as one ElementTree: ``feeds.atom`` as it was before entries were reused."""
    A, sub, iso = feeds.ATOM, feeds._sub, feeds._iso
    ET.register_namespace("", A)
    feed = ET.Element(f"{{{A}}}feed")
    sub(feed, "title", title)
    sub(feed, "id", feed_url)
    sub(feed, "updated", iso(updated))
    ET.SubElement(feed, f"{{{A}}}link", rel="self", href=feed_url, type="application/atom+xml")
    ET.SubElement(feed, f"{{{A}}}link", rel="alternate", href=page_url, type="text/html")
    sub(ET.SubElement(feed, f"{{{A}}}author"), "name", title)
    ET.SubElement(feed, f"{{{A}}}generator").text = "digest"
    for e in entries:
        entry = ET.SubElement(feed, f"{{{A}}}entry")
        if e.get("language"):
            entry.set("{http://www.w3.org/XML/1998/namespace}lang", e["language"])
        sub(entry, "title", e["title"])
        sub(entry, "id", e["link"])
        ET.SubElement(entry, f"{{{A}}}link", rel="alternate", href=e["link"], type="text/html")
        if e.get("source_url"):
            ET.SubElement(entry, f"{{{A}}}link", rel="related", href=e["source_url"], type="text/html")
        sub(entry, "updated", iso(e["published"] or updated))
        if e["published"]:
            sub(entry, "published", iso(e["published"]))
        for name in e["authors"] or [e["publisher"]]:
            sub(ET.SubElement(entry, f"{{{A}}}author"), "name", name)
        for tag in e["tags"] + e["countries"]:
            ET.SubElement(entry, f"{{{A}}}category", term=tag)
        sub(entry, "summary", e["excerpt"])
        if e["body_html"] is not None:
            sub(entry, "content", e["body_html"]).set("type", "html")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8") + b"\n"


@settings(max_examples=60, deadline=None)
@given(st.lists(_entry, max_size=4), _text, _when.filter(lambda d: d is not None))
def test_feeds_from_reused_entries_are_the_feeds_written_whole(entries, title, updated):
    atom = feeds.atom(title=title, feed_url="https://e.org/f.xml", page_url="https://e.org/", updated=updated,
                      entries=[feeds.atom_entry(e, updated) for e in entries])
    assert atom == _whole_atom(title, "https://e.org/f.xml", "https://e.org/", updated, entries)
    ET.fromstring(atom)  # well-formed
    doc = json.loads(feeds.json_feed(title=title, feed_url="f", page_url="p", description="d",
                                     items=[feeds.json_item(e) for e in entries]))
    whole = {"version": "https://jsonfeed.org/version/1.1", "title": title, "home_page_url": "p", "feed_url": "f",
             "description": "d", "items": [json.loads(feeds.json_item(e)) for e in entries]}
    assert feeds.json_feed(title=title, feed_url="f", page_url="p", description="d",
                           items=[feeds.json_item(e) for e in entries]) == (
        json.dumps(whole, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    assert doc == whole


def test_a_story_in_several_feeds_is_written_and_its_body_read_once():
    """feeds.Entries: the entry and item of a story are made once per process, with one read
    of its body, however many feeds list it."""

    class Body:  # a stored body (views.StoredHtml): each str() is a read from the store
        reads = 0

        def __str__(self):
            Body.reads += 1
            return "<p>Body</p>"

    when = datetime(2026, 6, 1, tzinfo=timezone.utc)
    view = {"path": "articles/a/", "title": "A", "source_url": None, "published": when, "publisher": "P",
            "authors": [{"name": "R", "path": "authors/r/"}], "tags": [], "countries": [], "excerpt": "E",
            "body_html": Body(), "language": "", "archived": False}
    entries = feeds.Entries({"a": view}, "https://e.org/")
    made = [entries.both("a", True, when) for _ in range(3)]
    assert Body.reads == 1 and made[0] == made[1] == made[2]
    assert entries.both("a", False, when)[0] != made[0][0]  # a summary entry is another entry


@settings(max_examples=200, deadline=None)
@given(_entry)
def test_a_json_feed_item_is_what_json_dumps_writes_for_it(e):
    item = {"id": e["link"], "url": e["link"], **({"external_url": e["source_url"]} if e["source_url"] else {}),
            "title": e["title"],
            **({"content_html": e["body_html"], "summary": e["excerpt"]} if e["body_html"] is not None
               else {"content_text": e["excerpt"]}),
            **({"date_published": feeds._iso(e["published"])} if e["published"] else {}),
            "authors": [{"name": n} for n in e["authors"] or [e["publisher"]]],
            "tags": e["tags"] + e["countries"], **({"language": e["language"]} if e["language"] else {})}
    assert feeds.json_item(e) == json.dumps(item, ensure_ascii=False, indent=1)

"""Ingest of every format a Central Asia desk caches, read from fixtures in tests/data/ingest/:
format detection from content, encodings, bases, honest dates, cleanup and deduplication."""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from digest.build import build
from digest.config import load_config
from digest.model import RawItem
from digest.normalize import normalize
from digest.sources import charset, detect, meta, read_cache, read_source
from digest.sources.audit import audit
from digest.model import SourceReport
from tests.conftest import ROOT, make_site

INGEST = ROOT / "tests" / "data" / "ingest"
SEEDS = ROOT / "content_cache"

FORMATS = {
    "rss090.rdf": ("rdf", "RSS 0.90 (RDF)", "Almaty metro extends its third line"),
    "rss091.xml": ("rss", "RSS 0.91", "Samarkand hosts a paper-making fair"),
    "rss092.xml": ("rss", "RSS 0.92", "Dushanbe tea house reopens"),
    "rss10.rdf": ("rdf", "RSS 1.0 (RDF)", "Ashgabat marathon draws record field"),
    "rss20.xml": ("rss", "RSS 2.0", "Bishkek opens a solar-powered school"),
    "atom03.xml": ("atom", "Atom 0.3", "Pamir highway reopens after rockfall"),
    "atom10.xml": ("atom", "Atom 1.0", "Aral fishermen return to Aralsk"),
    "jsonfeed10.json": ("jsonfeed", "JSON Feed 1.0", "Tashkent brings back the tram"),
    "jsonfeed11.json": ("jsonfeed", "JSON Feed 1.1", "Karakol ski season breaks records"),
    "timesca-author.txt": ("timesca-author", "Times of Central Asia author page (text scrape)",
                           "Turkmenistan Signs a Gas Deal With China"),
    "timesca-listing.txt": ("timesca-listing", "Times of Central Asia listing page (text scrape)",
                            "Kazakhstan Reforms Its Pension Funds"),
}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_each_format_is_read(name):
    fmt, version, first_title = FORMATS[name]
    report = read_source(INGEST / name)
    assert (report.format, report.version) == (fmt, version)
    assert report.problems == () or name.startswith("rss09")  # 0.9x items carry no dates
    assert report.items[0].title == first_title


@pytest.mark.parametrize("name", ["rss20.xml", "atom10.xml", "jsonfeed11.json", "timesca-listing.txt"])
def test_format_comes_from_content_not_name(tmp_path, name):
    """The same bytes under a misleading name are read the same way."""
    liar = tmp_path / ("feed.json" if not name.endswith(".json") else "feed.xml")
    liar.write_bytes((INGEST / name).read_bytes())
    assert read_source(liar).version == FORMATS[name][1]
    assert read_source(liar).items[0].title == FORMATS[name][2]


@pytest.mark.parametrize("name, title, encoding", [
    ("cp1251-declared.xml", "Новости Казахстана: Астана строит метро", "windows-1251"),
    ("cp1251-undeclared.xml", "Бишкек: новый парк открыт", "windows-1251 (detected)"),
    ("bom-utf8.xml", "Ташкент — BOM “quotes” test", "utf-8 (BOM)"),
    ("utf16-bom.xml", "Душанбе в UTF-16", "utf-16 (BOM)"),
])
def test_encodings_decode_to_the_right_letters(name, title, encoding):
    report = read_source(INGEST / name)
    assert report.items[0].title == title
    assert report.title == "Казахстан сегодня"
    assert report.encoding == encoding
    assert "Ð" not in report.items[0].content_html and "Ã" not in report.items[0].content_html


def test_legacy_guess_tells_cyrillic_from_western():
    assert charset.guess_legacy("Новости из Алматы и Бишкека".encode("cp1251")) == "windows-1251"
    assert charset.guess_legacy("Les médias français à Almaty, été".encode("cp1252")) == "windows-1252"
    wrong = charset.decode('<?xml version="1.0" encoding="utf-8"?><a>Привет мир</a>'.encode("cp1251"))
    assert "Привет мир" in wrong.text and "declares utf-8" in wrong.note
    stale = charset.decode('<?xml version="1.0" encoding="windows-1251"?><a>Привет мир</a>'.encode("utf-8"))
    assert "Привет мир" in stale.text and stale.note == "declares windows-1251 but is UTF-8"


def test_mislabelled_feed_is_read_and_reported(tmp_path):
    data = (INGEST / "cp1251-declared.xml").read_bytes().decode("cp1251").encode("utf-8")
    (tmp_path / "f.xml").write_bytes(data)  # still says windows-1251
    report = read_source(tmp_path / "f.xml")
    assert report.items[0].title == "Новости Казахстана: Астана строит метро"
    assert report.problems == ("declares windows-1251 but is UTF-8; read as utf-8",)


def test_cyrillic_story_is_filed_and_slugged(tmp_path):
    site = make_site(tmp_path, {"ru.xml": (INGEST / "cp1251-undeclared.xml").read_bytes()})
    result = build(load_config(site), environ={})
    article = next(iter(result.site.articles.values()))
    assert article.countries == ("Kyrgyzstan",)
    assert article.slug.isascii() and article.slug.startswith("bishkek")


def test_atom_xml_base_resolves_links_images_and_drops_unsafe_srcset(tmp_path):
    site = make_site(tmp_path, {"atom.xml": (INGEST / "atom10.xml").read_bytes()})
    result = build(load_config(site), environ={})
    article = next(iter(result.site.articles.values()))
    body = result.site.body(article.id)
    assert article.source_url == "https://atom10.example.org/blog/posts/2026/aral-fishermen.html"
    assert article.title == "Aral fishermen return to Aralsk"  # type="html" title made plain
    assert 'href="https://atom10.example.org/blog/posts/2026/maps/north.html"' in body
    assert 'src="https://atom10.example.org/blog/posts/2026/img/boat.jpg"' in body
    assert 'srcset="https://atom10.example.org/blog/posts/2026/img/boat-2x.jpg 2x"' in body
    assert "javascript" not in body


def test_wordpress_item_is_cleaned(tmp_path):
    site = make_site(tmp_path, {"wp.xml": (INGEST / "rss20.xml").read_bytes()})
    result = build(load_config(site), environ={})
    article = next(iter(result.site.articles.values()))
    body = result.site.body(article.id)
    assert article.publisher == "Silk Road Daily"
    assert not body.startswith("<p><a")  # the title paragraph is gone
    assert body.startswith("<p>A school in")
    assert 'href="https://rss20.example.org/tag/bishkek/"' in body  # relative link resolved
    assert "appeared first on" not in body and "donate" not in body.lower()
    assert "newsletter" not in body.lower() and "<form" not in body and "<input" not in body
    assert "[caption" not in body and "[/caption]" not in body
    assert "<figcaption>The roof in April</figcaption>" in body
    assert 'alt="Panels on the roof"' in body and 'loading="lazy"' in body
    assert "<p></p>" not in body
    assert article.excerpt == "A school in Bishkek, Kyrgyzstan, now runs on solar panels. The roof in April"
    page = (site / "dist" / "articles" / article.slug / "index.html").read_text()
    assert "Bishkek opens a solar-powered school" in page


def test_excerpt_is_plain_and_bounded():
    from digest.normalize import to_article

    long = "<p>" + " ".join(["Almaty grows fast."] * 60) + "</p><p><b>Bold</b> second.</p>"
    article = to_article(RawItem(source="x", publisher="p", title="T", content_html=long))
    assert len(article.excerpt) <= 281 and "<" not in article.excerpt
    assert article.excerpt.endswith(".") or article.excerpt.endswith("…")


def test_times_of_central_asia_dates_follow_the_fetch_time():
    author = read_source(INGEST / "timesca-author.txt")
    assert author.fetched == datetime(2026, 5, 1, 10, tzinfo=timezone.utc)
    gas, solar = author.items
    assert gas.date_precision == solar.date_precision == "approximate"
    assert gas.published == datetime(2026, 4, 10, 10, tzinfo=timezone.utc)  # 3 weeks before the fetch
    assert "3 weeks ago" in gas.date_note and "fetched 01 May 2026" in gas.date_note
    assert "[caption" not in gas.content_html and "[sic]" in gas.content_html  # only real shortcodes go
    assert gas.truncated and author.profile.role == "Correspondent"
    assert [r.pair for r in author.rates] == ["KGS/USD", "KZT/USD"]
    listing = read_source(INGEST / "timesca-listing.txt")
    assert all(i.date_note.startswith("on or before 4 May 2026") for i in listing.items)
    assert listing.page_date.isoformat() == "2026-05-04" and listing.rates[0].pair == "TJS/USD"


def test_relative_dates_without_a_fetch_time_stay_unknown(tmp_path):
    shutil.copy(INGEST / "timesca-author.txt", tmp_path / "page.txt")  # no sidecar
    report = audit((read_source(tmp_path / "page.txt"),))[0]
    assert all(i.published is None and i.date_precision == "unknown" for i in report.items)
    assert any('set "fetched" in page.txt.meta.json' in p for p in report.problems)


# --- the metadata sidecar ----------------------------------------------------------------

def test_every_seed_has_a_sidecar_that_invents_nothing():
    seeds = sorted(p for p in SEEDS.iterdir() if not p.name.endswith(meta.SUFFIX))
    assert len(seeds) == 5
    for seed in seeds:
        sidecar = json.loads(meta.path_for(seed).read_text())
        assert set(sidecar) <= set(meta.KEYS) and meta.read(seed).problem is None
        assert sidecar["etag"] is None and sidecar["last_modified"] is None
        if seed.name.startswith("novastan-"):
            self_href = seed.read_text().split('<atom:link href="', 1)[1].split('"', 1)[0]
            assert sidecar["url"] == self_href and sidecar["fetched"] is None
        elif "listing" in seed.name:
            assert sidecar["fetched"] == "2025-12-07" and sidecar["url"] is None  # the page's own date
        else:
            assert sidecar["fetched"] is None and sidecar["url"] is None


def test_seed_files_are_untouched():
    shared = Path("/work/shared/seeds")
    if not shared.is_dir():
        pytest.skip("no shared seed folder on this machine")
    for seed in shared.glob("*.xml"):
        assert (SEEDS / seed.name).read_bytes() == seed.read_bytes()
    for seed in shared.glob("*.txt"):
        assert (SEEDS / seed.name).read_bytes() == seed.read_bytes()


def test_sidecar_round_trip_and_bad_sidecars(tmp_path):
    source = tmp_path / "f.xml"
    source.write_bytes((INGEST / "rss20.xml").read_bytes())
    record = meta.Meta(url="https://e.org/feed/", fetched=datetime(2026, 5, 2, 8, tzinfo=timezone.utc),
                       etag='"abc"', last_modified="Sat, 02 May 2026 07:00:00 GMT")
    meta.write(source, record)
    again = meta.read(source)
    assert (again.url, again.fetched, again.etag, again.modified) == (
        record.url, record.fetched, record.etag, datetime(2026, 5, 2, 7, tzinfo=timezone.utc))
    assert read_source(source).fetched == record.fetched and read_source(source).url == record.url
    meta.path_for(source).write_text('{"fetched": "last tuesday", "url": "javascript:alert(1)", "colour": 1}')
    odd = meta.read(source)
    assert odd.fetched is None and odd.url is None
    assert "fetched 'last tuesday' is not an ISO 8601" in odd.problem and "unknown key(s) colour" in odd.problem
    meta.path_for(source).write_text("{not json")
    report = read_source(source)
    assert report.items and any("f.xml.meta.json: unreadable metadata" in p for p in report.problems)


# --- one story, one article --------------------------------------------------------------

def _rss(channel: str, items: str) -> str:
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{channel}</title>'
            f'<link>https://{channel.lower()}.example.org/</link><description>d</description>{items}</channel></rss>')


def _item(title, link=None, guid=None, date="Fri, 01 May 2026 08:00:00 +0000", body="Osh, Kyrgyzstan."):
    return (f"<item><title>{title}</title>" + (f"<link>{link}</link>" if link else "")
            + (f"<guid>{guid}</guid>" if guid else "") + f"<pubDate>{date}</pubDate>"
            f"<description>{body}</description></item>")


def test_deduplication_by_guid_link_and_title(tmp_path):
    files = {
        "a.xml": _rss("Alpha", _item("Guid story", "https://alpha.example.org/g", guid="urn:g1")
                      + _item("Link story", "https://alpha.example.org/news/link-story/")
                      + _item("Same day story", "https://alpha.example.org/s1")
                      + _item("Next day story", "https://alpha.example.org/n1")),
        "b.xml": _rss("Beta", _item("Guid story (retitled)", "https://beta.example.org/other", guid="urn:g1")),
        "c.xml": _rss("Alpha", _item("Link story", "HTTP://Alpha.Example.ORG/news/link-story?utm_source=rss&utm_medium=x#top")
                      + _item("Same day story", "https://alpha.example.org/s2",
                              date="Fri, 01 May 2026 19:00:00 +0000")
                      + _item("Next day story", "https://alpha.example.org/n2", date="Sat, 02 May 2026 08:00:00 +0000")),
        "d.xml": _rss("Gamma", _item("Same day story", "https://gamma.example.org/s3")),
        "e.xml": _rss("Delta", _item("Scheme story", "http://delta.example.org/x")
                      + _item("Scheme story again", "https://delta.example.org/x/")),
    }
    site = make_site(tmp_path, files)
    result = build(load_config(site), environ={})
    by_title = {}
    for article in result.site.articles.values():
        by_title.setdefault(article.title.split(" (")[0].split(" again")[0], []).append(article)
    assert [a.sources for a in by_title["Guid story"]] == [("a.xml", "b.xml")]
    assert [a.sources for a in by_title["Link story"]] == [("a.xml", "c.xml")]
    assert sorted(a.sources for a in by_title["Same day story"]) == [("a.xml", "c.xml"), ("d.xml",)]  # other publisher
    assert sorted(a.sources for a in by_title["Next day story"]) == [("a.xml",), ("c.xml",)]  # other day
    assert [a.sources for a in by_title["Scheme story"]] == [("e.xml",)] and len(by_title["Scheme story"]) == 1


def test_untitled_items_never_merge_by_title(tmp_path):
    items = "".join(f"<item><description>Note {n} from Khujand, Tajikistan.</description>"
                    f"<pubDate>Fri, 01 May 2026 08:00:00 +0000</pubDate></item>" for n in range(3))
    site = make_site(tmp_path, {"u.xml": _rss("Untitled", items)})
    result = build(load_config(site), environ={})
    titles = sorted(a.title for a in result.site.articles.values())
    assert titles == [f"Note {n} from Khujand, Tajikistan." for n in range(3)]


def test_future_date_with_no_reference_is_an_outlier():
    def report(name, *dates):
        return SourceReport(file=name, format="jsonfeed", items=tuple(
            RawItem(source=name, publisher=name, title=f"{name} {d.year}", published=d, date_precision="exact")
            for d in dates))
    dates = [datetime(2026, 5, d, tzinfo=timezone.utc) for d in (1, 2, 3)]
    checked = audit((report("a", *dates), report("b", datetime(2099, 1, 1, tzinfo=timezone.utc))))
    assert [i.published for i in checked[0].items] == dates
    assert checked[1].items[0].published is None and "more than a year after" in checked[1].problems[0]


def test_read_cache_on_the_ingest_fixtures_has_no_crash():
    reports = read_cache(INGEST)
    assert {r.file for r in reports} >= set(FORMATS)
    assert len(normalize(reports)) == 17  # 9 one-item feeds, 2 + 2 scraped stories, 4 encodings


def test_detect_names_what_it_skips():
    assert detect(b"") == "skip:empty file"
    assert detect(b"\xef\xbb\xbf \n") == "skip:empty file"
    assert detect(b"\x89PNG\r\n\x1a\n....") == "skip:binary file (a PNG image), not a feed"
    assert detect(b"<!DOCTYPE html><html><body>x</body></html>") == "skip:an HTML page, not a feed"
    assert detect(b"<?xml version='1.0'?><!-- c --><html><body/></html>") == "skip:an HTML page, not a feed"
    assert detect(b"<?xml version='1.0'?><!-- html --><rss version='2.0'/>") == "xml"
    assert detect(b"just some words") .startswith("skip:not a feed")
    assert detect(b"[1, 2]") == "skip:JSON list, not a JSON Feed"


# --- no input crashes a reader -----------------------------------------------------------

from hypothesis import given, settings, strategies as st  # noqa: E402

_PIECES = st.sampled_from([
    b"<?xml version='1.0' encoding='windows-1251'?>", b"<rss version='2.0'><channel>", b"<item>", b"</item>",
    b"<title>", b"</title>", b"<feed xmlns='http://www.w3.org/2005/Atom'>", b"<entry>", b"<pubDate>",
    b"Thu, 01 Jan 2099 00:00:00 +0000", b"</pubDate>", b"<![CDATA[<script>x</script>", b"]]>", b"&amp;",
    b'{"version": "https://jsonfeed.org/version/1.1", "items": [', b'{"title": 5, "date_published": "x"}',
    b"\xef\xbb\xbf", b"\xff\xfe", b"\x00", "Привет".encode("cp1251"), b"Viewing results 1 - 2 of 3",
    b"  \xe2\x80\xa2 KGS/USD = 0.01 0%\n", b"\n\n", b"3 weeks ago",
])


@settings(max_examples=80, deadline=None)
@given(st.one_of(st.binary(max_size=300), st.lists(_PIECES, max_size=25).map(b"".join)))
def test_no_bytes_crash_a_reader(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f"
        path.write_bytes(data)
        report = audit((read_source(path),))[0]
    assert report.items or report.problems or report.format != "unknown"
    normalize((report,))


def test_rss_relative_urls_resolve_against_the_item_page(tmp_path):
    item = ('<item><title>Relative</title><link>https://e.example.org/2026/05/story/</link>'
            '<pubDate>Fri, 01 May 2026 08:00:00 +0000</pubDate>'
            '<description><![CDATA[<p>Text <a href="../other/">other</a> <img src="photo.jpg" alt="p"></p>]]>'
            '</description></item>')
    (tmp_path / "f.xml").write_text(_rss("E", item))
    [article] = normalize((read_source(tmp_path / "f.xml"),))
    assert 'href="https://e.example.org/2026/05/other/"' in article.body_html
    assert 'src="https://e.example.org/2026/05/story/photo.jpg"' in article.body_html


@pytest.mark.parametrize("data, reason", [
    (b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://e.org/</loc>'
     b'</url></urlset>', "XML with root <urlset>, not RSS, Atom or RDF; skipped"),
    (b'<?xml version="1.0"?><opml version="2.0"><body><outline xmlUrl="https://e.org/feed"/></body></opml>',
     "XML with root <opml>, not RSS, Atom or RDF; skipped"),
])
def test_other_xml_is_named_and_skipped(tmp_path, data, reason):
    (tmp_path / "feed.xml").write_bytes(data)
    assert read_source(tmp_path / "feed.xml").problems == (reason,)


def test_read_source_alone_applies_the_checks():
    """Every path that reads one file (archived snapshots, the parse cache) gets the same checks."""
    report = read_source(ROOT / "tests" / "data" / "hazards" / "future.xml")
    future = next(i for i in report.items if i.title == "A story dated 2099")
    assert future.published is None and future.date_note.startswith("the source dates it 2099-01-01")
    assert report.problems[0].startswith("item “A story dated 2099” is dated 2099-01-01")
    hostile = read_source(ROOT / "tests" / "data" / "hazards" / "xss.xml")
    assert "<" not in hostile.items[0].title and all("<" not in a for a in hostile.items[0].authors)


@pytest.mark.parametrize("name", ["atom10.xml", "rss10.rdf"])
def test_truncated_atom_and_rdf_keep_complete_items(tmp_path, name):
    whole = (INGEST / name).read_text()
    end = "</entry>" if name.startswith("atom") else "</item>"
    first = whole.index(end) + len(end)
    # the complete item, a second one cut off in its body, and nothing after
    cut = whole[:first] + whole[whole.index("<entry" if end == "</entry>" else "<item "):first][:-len(end) - 40]
    (tmp_path / name).write_text(cut)
    report = read_source(tmp_path / name)
    assert len(report.items) == 1 and report.items[0].title == FORMATS[name][2]
    assert "kept the 1 complete item(s), skipped 1 incomplete one(s)" in report.problems[0]


def test_json_feed_item_with_only_a_summary_keeps_its_text(tmp_path):
    import json as _json

    from digest.sources import read_source

    path = tmp_path / "summary-only.json"
    path.write_text(_json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "T",
                                 "items": [{"id": "1", "url": "https://example.org/1", "title": "Short",
                                            "summary": "Only <a summary> in Bishkek."}]}), encoding="utf-8")
    item = read_source(path).items[0]
    assert item.content_html == "<p>Only &lt;a summary&gt; in Bishkek.</p>"


def test_an_item_matching_a_story_already_merged_into_another_joins_it():
    """A and B are separate until C links them (A's link, B's title); a later item with B's
    guid must join the merged story, not the folded copy."""
    from datetime import datetime, timezone

    from digest.model import RawItem, SourceReport
    from digest.normalize import normalize

    day = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def item(guid, link, title):
        return RawItem(source="f.xml", publisher="P", title=title, link=link, guid=guid, published=day,
                       date_precision="exact", content_html="<p>Text.</p>")

    report = SourceReport(file="f.xml", format="rss", items=(
        item("a", "https://e.org/1", "Alpha"), item("b", "https://e.org/2", "Beta"),
        item("c", "https://e.org/1", "Beta"), item("b", None, "Gamma")))
    assert [a.id for a in normalize((report,))] == ["a"]


def test_the_publisher_line_is_found_after_text_lower_case_makes_longer():
    # "İ".lower() is two characters: the line's place in the lower-cased body is not its place
    # in the body, so the pattern must then search from the start.
    from digest.sources.rss import _publisher

    body = "<p>" + "İstanbul " * 40 + "</p><p>The post <a href='https://e.org/x'>X</a> appeared first on <a href='https://e.org'>Novastan</a>.</p>"
    assert _publisher(body, {"title": "Feed"}, None) == "Novastan"
    assert _publisher("<p>appeared first on nothing</p>", {"title": "Feed"}, None) == "Feed"

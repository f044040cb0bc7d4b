"""Nothing from a feed can execute in a reader's browser or feed reader.

Hostile fixtures (tests/data/hazards/xss*) put payloads in every field a feed has: titles,
authors, categories, ids, links, enclosures, summaries and bodies, in RSS, Atom (with XHTML
and xml:base) and JSON Feed. The built site is parsed (lxml, and the standard library's
html.parser as a second opinion), never grepped: every element, attribute and URL of every
page, and every string of every output feed and of articles.json, is checked.

The site's own chrome (its stylesheet link, any script or search form a template adds) is
learned from a build of a harmless feed and allowed; anything active beyond it fails.
"""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin
from xml.etree import ElementTree as ET

import lxml.html
import pytest

from digest.body import clean_body
from digest.build import build
from digest.config import load_config
from tests.conftest import ROOT, make_site

HAZARDS = ROOT / "tests" / "data" / "hazards"
ACTIVE_TAGS = {
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "input", "button",
    "textarea", "select", "option", "base", "svg", "math", "template", "noscript", "marquee", "video", "audio",
    "source", "track", "param", "portal", "isindex", "keygen", "xml", "xss", "body", "html", "head",
}
URL_ATTRS = {"href", "src", "action", "formaction", "data", "poster", "background", "cite", "longdesc", "lowsrc",
             "dynsrc", "ping", "manifest", "codebase", "xlink:href", "usemap", "icon", "profile", "srcdoc"}
SAFE_SCHEMES = {"http", "https", "mailto"}
SITE = "https://site.invalid/"
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.I)
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f\u200b-\u200f\ufeff]")

BENIGN = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Benign</title><link>https://benign.example.org/</link><description>d</description>
<item><title>Almaty opens a library</title><link>https://benign.example.org/a</link><guid>https://benign.example.org/?p=1</guid>
<dc:creator>Asel Nur</dc:creator><category>Culture</category><pubDate>Fri, 01 May 2026 08:00:00 +0000</pubDate>
<description><![CDATA[<p>Almaty, Kazakhstan, opened a <a href="https://benign.example.org/lib">library</a>.</p>
<p><img src="https://benign.example.org/l.jpg" alt="The library"></p>]]></description></item></channel></rss>"""


# --- the checker -------------------------------------------------------------------------

def _scheme(url: str) -> str:
    """The scheme a browser would see: entities already decoded by the parser; whitespace and
    control characters inside the scheme are ignored by browsers, so they are removed here."""
    match = _SCHEME.match(_INVISIBLE.sub("", url))
    return match.group(1).lower() if match else ""


def _where(value: str, page: str) -> str:
    """A URL as an absolute address, so the same chrome link matches from every page."""
    try:
        absolute = urljoin(SITE + page, value)
    except ValueError:
        return value
    # the site's own assets carry a content hash (?v=…) that changes with the stylesheet
    return absolute.split("?", 1)[0] if absolute.startswith(SITE) else absolute


def element_findings(tag: str, attrs: list[tuple[str, str]], page: str) -> set[tuple]:
    """Everything active about one element, as comparable tuples."""
    found = set()
    tag = tag.lower().split("}")[-1]
    names = {k.lower() for k, _ in attrs}
    if tag in ACTIVE_TAGS or tag == "meta" and "http-equiv" in names or \
            tag == "link" and dict((k.lower(), v) for k, v in attrs).get("rel", "").lower() not in (
                "alternate", "icon", "canonical", "next", "prev", "license", "author"):
        found.add(("tag", tag, tuple(sorted((k.lower(), _where(v, page) if k.lower() in URL_ATTRS else v)
                                            for k, v in attrs))))
    for name, value in attrs:
        name = name.lower().split("}")[-1] if "}" in name else name.lower()
        value = value or ""
        if name.startswith("on"):
            found.add(("handler", tag, name, value))
        elif name == "style":
            found.add(("style", tag, value))
        elif name in URL_ATTRS or name.endswith(":href"):
            scheme = _scheme(value)
            if name == "srcdoc" or scheme and scheme not in SAFE_SCHEMES:
                found.add(("url", tag, name, value))
        elif name in ("srcset", "imagesrcset"):
            for candidate in value.split(","):
                scheme = _scheme(candidate.strip())
                if scheme and scheme not in SAFE_SCHEMES:
                    found.add(("url", tag, name, candidate.strip()))
        elif name == "content" and tag == "meta" and "url=" in value.lower():
            found.add(("url", tag, name, value))
    return found


def html_findings(markup: str, page: str = "", *, document: bool = True) -> set[tuple]:
    """Active things in an HTML page (or fragment), seen by lxml and by html.parser."""
    found: set[tuple] = set()
    if not markup.strip():
        return found
    if document:
        roots = [lxml.html.document_fromstring(markup)]
    else:
        roots = [el for el in lxml.html.fragments_fromstring(markup) if not isinstance(el, str)]
    for root in roots:
        for el in root.iter():
            if not isinstance(el.tag, str):
                continue  # comments: inert
            if document and el.tag in ("html", "head", "body") and el.getparent() is None or \
                    document and el.tag in ("head", "body") and el.getparent() is root:
                attrs = list(el.attrib.items())
                if attrs and el.tag == "body":
                    found |= {f for f in element_findings("body", attrs, page) if f[0] != "tag"}
                continue
            found |= element_findings(el.tag, list(el.attrib.items()), page)

    class Second(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if document and tag in ("html", "head", "body"):
                found.update(f for f in element_findings(tag, [(k, v or "") for k, v in attrs], page) if f[0] != "tag")
                return
            found.update(element_findings(tag, [(k, v or "") for k, v in attrs], page))

    parser = Second(convert_charrefs=True)
    parser.feed(markup)
    parser.close()
    return found


def text_findings(value: str) -> set[tuple]:
    """A string from a feed or catalog, read as HTML the way a careless consumer would."""
    if "<" not in value and "&" not in value:
        return set()
    return html_findings(value, document=False)


def json_findings(doc, key: str = "") -> set[tuple]:
    found = set()
    if isinstance(doc, dict):
        for k, v in doc.items():
            found |= json_findings(v, k)
    elif isinstance(doc, list):
        for v in doc:
            found |= json_findings(v, key)
    elif isinstance(doc, str):
        if key in ("url", "external_url", "image", "banner_image", "home_page_url", "feed_url", "source_url",
                   "avatar", "icon", "favicon", "next_url"):
            scheme = _scheme(doc)
            if scheme and scheme not in SAFE_SCHEMES:
                found.add(("url", "json", key, doc))
        found |= text_findings(doc)
    return found


def atom_findings(data: bytes) -> set[tuple]:
    found = set()
    root = ET.fromstring(data)
    for el in root.iter():
        for name, value in el.attrib.items():
            if name in ("href", "src", "uri", "url") or name.endswith("}base"):
                scheme = _scheme(value)
                if scheme and scheme not in SAFE_SCHEMES:
                    found.add(("url", el.tag, name, value))
        if el.text and el.text.strip():
            found |= text_findings(el.text)
    return found


def site_findings(out: Path) -> dict[str, set[tuple]]:
    """Every active thing in a built site, by file."""
    report = {}
    for path in sorted(out.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(out).as_posix()
        data = path.read_bytes()
        if path.suffix == ".html":
            page = rel[: -len("index.html")] if rel.endswith("index.html") else rel
            found = html_findings(data.decode("utf-8"), page)
        elif path.suffix == ".xml" and rel.endswith("feed.xml"):
            found = atom_findings(data)
        elif path.suffix == ".json" and (rel.endswith("feed.json") or rel == "articles.json"):
            found = json_findings(json.loads(data))
        else:
            continue
        if found:
            report[rel] = found
    return report


def chrome(tmp_path: Path) -> set[tuple]:
    """What the site's own templates put on pages (allowed), from a build of a harmless feed."""
    # A second language, so the search page's own language filter (<select>) is chrome too.
    russian = BENIGN.replace("<channel>", "<channel><language>ru</language>").replace("?p=1", "?p=ru1").replace(
        "<link>https://benign.example.org/a</link>", "<link>https://benign.example.org/ru</link>").replace(
        "Almaty opens a library", "В Алматы открылась библиотека")
    site = make_site(tmp_path / "benign", {"benign.xml": BENIGN, "benign-ru.xml": russian})
    build(load_config(site), environ={})
    return set().union(*site_findings(site / "dist").values()) if site_findings(site / "dist") else set()


def unexpected(out: Path, allowed: set[tuple]) -> dict[str, set[tuple]]:
    return {rel: found - allowed for rel, found in site_findings(out).items() if found - allowed}


# --- the checker checks what it should ---------------------------------------------------

@pytest.mark.parametrize("markup", [
    "<script>alert(1)</script>", "<p onclick='x()'>a</p>", "<a href='javascript:alert(1)'>a</a>",
    "<a href='jav&#x09;ascript:alert(1)'>a</a>", "<iframe src='https://e'></iframe>", "<object data='x'></object>",
    "<form action='https://e'></form>", "<style>p{}</style>", "<p style='color:red'>a</p>",
    "<img src='https://e/x.png' srcset='javascript:alert(1) 1x'>", "<svg><a xlink:href='javascript:x'>a</a></svg>",
])
def test_checker_sees_active_markup(markup):
    assert html_findings(f"<!doctype html><html><body>{markup}</body></html>", "x/")
    assert text_findings(markup)


def test_checker_passes_plain_content():
    safe = '<p>A <a href="https://e.org/a" rel="noopener">link</a> and <img src="https://e.org/i.png" alt="i"></p>'
    assert html_findings(f"<!doctype html><html><body>{safe}</body></html>", "x/") == set()
    assert text_findings("Kazakhstan & Kyrgyzstan: a < b") == set()


# --- the hostile fixtures through the whole pipeline -------------------------------------

@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    cache = root / "content_cache"
    cache.mkdir()
    for name in ("xss.xml", "xss-atom.xml", "xss.json", "traversal.xml"):
        shutil.copy(HAZARDS / name, cache / name)
    result = build(load_config(root), environ={})
    return root / "dist", result, chrome(tmp_path_factory.mktemp("chrome"))


def test_no_active_markup_in_any_page_or_feed(hostile_site):
    out, result, allowed = hostile_site
    assert len(result.site.order) == 4  # every hostile story is still published, only defused
    assert unexpected(out, allowed) == {}


def test_hostile_stories_keep_their_words(hostile_site):
    out, _, _ = hostile_site
    rows = {r["title"]: r for r in json.loads((out / "articles.json").read_text())["articles"]}
    title = next(t for t in rows if t.startswith("Hostile title"))
    assert title == 'Hostile title "> in Astana, Kazakhstan'
    row = rows[title]
    assert row["source_url"] is None  # a javascript: link is not a link
    assert row["authors"] == ['Eve "Mallory"'] and "Politics" in row["tags"]
    page = (out / row["url"] / "index.html").read_text()
    for words in ("Hostile body from Astana", "styled paragraph text", "safe link keeps", "Last <b>words</b> survive",
                  "javascript link text", 'href="https://safe.example.org/page"', 'alt="an ok image"',
                  'srcset="https://img.example.org/ok-2x.jpg 2x"'):
        assert words in page, words
    atom = next(r for r in rows.values() if r["id"] == "urn:hostile-atom-1")
    assert atom["title"] == "Atom hostile entry in Osh, Kyrgyzstan"
    assert atom["source_url"] is None and atom["authors"] == ["Atom Author"]
    # xml:base was javascript:, so the relative link and image inside it have no base: dropped
    body = (out / atom["url"] / "index.html").read_text()
    assert "relative link" in body and 'href="relative/page.html"' not in body and "pic.png" not in body


def test_sanitizer_keeps_safe_structure():
    html = clean_body('<h2>Head</h2><p>Text <em>em</em> <a href="https://a.org/x" title="t">a</a></p>'
                      '<figure><img src="https://a.org/i.jpg" alt="Alt"><figcaption>Cap</figcaption></figure>'
                      '<table><tr><td colspan="2">c</td></tr></table>')
    for kept in ("<h2>Head</h2>", "<em>em</em>", 'href="https://a.org/x"', 'rel="noopener noreferrer nofollow"',
                 'alt="Alt"', 'loading="lazy"', "<figcaption>Cap</figcaption>", 'colspan="2"'):
        assert kept in html, kept


def test_the_check_fails_when_the_sanitizer_is_off(tmp_path, monkeypatch):
    """The end-to-end check can fail: with nh3 switched off, it finds the payloads."""
    monkeypatch.setattr("digest.body._sanitize", lambda html: html)
    site = make_site(tmp_path, {"xss.xml": (HAZARDS / "xss.xml").read_bytes()})
    build(load_config(site), environ={})
    found = set().union(*unexpected(site / "dist", chrome(tmp_path / "c")).values())
    kinds = {f[0] for f in found}
    assert {"handler", "style"} <= kinds, found

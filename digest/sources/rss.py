"""RSS 0.9x/1.0 (RDF)/2.0 and Atom 0.3/1.0 through feedparser (feedparser-rs first for plain RSS 2.0).

feedparser's own sanitizer and URI resolution are off: normalize sanitizes with nh3 and
resolves links itself, once, for every format alike (and it is 4x faster this way). The bytes
are decoded by ``charset`` first, so an undeclared windows-1251 feed is not read as Latin-1.

feedparser-rs (Rust, about 5x faster again) reads a feed first when it is the case both readers
agree on: well-formed RSS 2.0 without ``xml:base`` whose every item has a title, link or body.
Its result is shaped as feedparser's, with feedparser's own fix-ups of text (the title's HTML
guess, mis-decoded UTF-8, windows-1252 code points); anything else goes to feedparser.
tests/test_readers_agree.py checks both give the same reports on every fixture.
"""

from __future__ import annotations

import calendar
import html
import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit
from xml.parsers import expat

import feedparser
import feedparser_rs
from feedparser.mixin import _cp1252, _FeedParserMixin
from feedparser.util import FeedParserDict

from digest.model import EXACT, UNKNOWN, RawItem, SourceReport
from digest.sources import charset
from digest.sources.meta import Meta
from digest.text import plain, squash

VERSIONS = {
    "rss090": "RSS 0.90 (RDF)", "rss091n": "RSS 0.91", "rss091u": "RSS 0.91", "rss092": "RSS 0.92",
    "rss093": "RSS 0.93", "rss094": "RSS 0.94", "rss20": "RSS 2.0", "rss10": "RSS 1.0 (RDF)", "rss": "RSS",
    "atom01": "Atom 0.1", "atom02": "Atom 0.2", "atom03": "Atom 0.3", "atom10": "Atom 1.0", "atom": "Atom",
    "cdf": "CDF",
}
# WordPress (Yoast) ends every item with "The post X appeared first on SITE."; SITE is the publisher.
_APPEARED = re.compile(r"appeared first on\s*<a[^>]*>([^<]+)</a>", re.I)
_ROOT = re.compile(r"<(?![?!])([A-Za-z_][\w:.-]*)")
_C1 = re.compile("[\x80-\x9f]")  # the keys of feedparser's windows-1252 table
_ITEM_END = re.compile(rb"</(?:[A-Za-z][\w.-]*:)?(?:item|entry)\s*>")


def read(name: str, data: bytes, sidecar: Meta, *, fast: bool = True) -> SourceReport:
    """``fast=False`` reads with feedparser alone (the agreement test compares the two)."""
    decoded = charset.decode(data)
    xml = charset.as_utf8_xml(decoded)
    parsed = (_parse_fast(xml) if fast else None) or feedparser.parse(
        xml, sanitize_html=False, resolve_relative_uris=False)
    version = parsed.get("version") or ""
    problems: list[str] = [p for p in (sidecar.problem, decoded.note and f"{decoded.note}; read as {decoded.encoding}") if p]
    if not version and not parsed.entries:
        reason = parsed.get("bozo_exception")
        root = _ROOT.search(xml.decode("utf-8", errors="replace"))
        what = f"XML with root <{root.group(1)}>, not RSS, Atom or RDF" if root else "not a feed"
        why = f" ({_short(reason)})" if reason else ""
        return SourceReport(file=name, format="unknown", problems=(f"{what}{why}",) + tuple(problems),
                            fetched=sidecar.fetched, encoding=decoded.label)
    entries = list(parsed.entries)
    if parsed.bozo and not isinstance(parsed.get("bozo_exception"), feedparser.CharacterEncodingOverride):
        # feedparser's loose parser also returns the item the file broke off in; only items whose
        # end tag is in the file are complete.
        complete = len(_ITEM_END.findall(xml))
        dropped = max(0, len(entries) - complete)
        entries = entries[:complete] if dropped else entries
        problems.append(f"malformed or truncated XML ({_short(parsed.get('bozo_exception'))}): kept the "
                        f"{len(entries)} complete item(s)" + (f", skipped {dropped} incomplete one(s)" if dropped else ""))
    feed = parsed.feed
    channel_link = _http(feed.get("link")) or sidecar.url
    items = []
    for index, entry in enumerate(entries):
        item = _item(name, entry, feed, channel_link)
        if item is None:
            problems.append(f"item {index + 1} has no title, link or content; skipped")
        else:
            items.append(item)
    if version.startswith("atom"):
        fmt = "atom"
    elif version in ("rss090", "rss10"):
        fmt = "rdf"
    else:
        fmt = "rss"
    return SourceReport(
        file=name,
        format=fmt,
        title=_text(feed.get("title_detail")) or name,
        link=channel_link,
        items=tuple(items),
        problems=tuple(problems),
        fetched=sidecar.fetched,
        version=VERSIONS.get(version, version or "RSS (version unknown)"),
        encoding=decoded.label,
        updated=_feed_date(feed),
    )


def _parse_fast(xml: bytes) -> FeedParserDict | None:
    """feedparser's result from feedparser-rs, or None where the two could differ."""
    if b"xml:base" in xml or b":language" in xml:
        return None  # feedparser resolves links and bases against it; feedparser-rs drops dc:language
    try:
        parsed = feedparser_rs.parse(xml, sanitize_html=False, resolve_relative_uris=False)
    except Exception:
        return None
    if parsed.bozo or parsed.version != "rss20":
        return None
    try:  # feedparser reads with expat: what expat rejects, feedparser reads loosely (bozo)
        expat.ParserCreate(namespace_separator=" ").Parse(xml, True)
    except expat.ExpatError:
        return None
    entries = []
    for e in parsed.entries:
        entry = FeedParserDict()
        if e.title_detail is not None:
            entry["title_detail"] = _fast_text(e.title_detail, title=True)
        if e.summary_detail is not None:
            entry["summary_detail"] = _fast_text(e.summary_detail)
        if e.content:
            entry["content"] = [_fast_text(c) for c in e.content]
        if e.link:
            entry["link"] = _fast_fix(e.link)
        if e.id:
            entry["id"] = _fast_fix(e.id)
        entry["authors"] = [FeedParserDict(name=_fast_fix(a.name), email=a.email) for a in e.authors or ()]
        entry["tags"] = [FeedParserDict(term=_fast_fix(t.term), label=t.label) for t in e.tags or ()]
        for key in ("published", "updated"):
            if getattr(e, key, None):
                entry[key] = _fast_fix(getattr(e, key))
                entry[f"{key}_parsed"] = getattr(e, f"{key}_parsed")
        if not ((entry.get("title_detail") or {}).get("value") or entry.get("link") or entry.get("summary_detail")
                or entry.get("content")):
            return None  # feedparser may find its content elsewhere (<body>, <xhtml:body>)
        entries.append(entry)
    f = parsed.feed
    feed = FeedParserDict()
    if f.link:
        feed["link"] = _fast_fix(f.link)
    if f.title_detail is not None:
        feed["title_detail"] = _fast_text(f.title_detail, title=True)
        feed["title"] = feed["title_detail"]["value"]
    if f.author:
        feed["author"] = _fast_fix(f.author)
    if getattr(f, "language", None):
        feed["language"] = _fast_fix(f.language)
    for key in ("updated_parsed", "published_parsed"):
        if getattr(f, key, None):
            feed[key] = getattr(f, key)
    return FeedParserDict(version=parsed.version, entries=entries, feed=feed, bozo=0)


def _fast_fix(value: str | None) -> str | None:
    """What feedparser does to every text it keeps: strip it, undo UTF-8 read as Latin-1,
    map the windows-1252 range to its characters."""
    if value is None:
        return None
    value = value.strip()
    try:
        value = value.encode("iso-8859-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    # str.translate with a dict is slow on long non-ASCII text: only when there is anything to map
    return value.translate(_cp1252) if _C1.search(value) else value


def _fast_text(construct, title: bool = False) -> FeedParserDict:
    """A text construct as feedparser gives it for RSS (no xml:base: its base is '')."""
    value = _fast_fix(construct.value)
    kind = construct.type
    if title:  # an RSS title is text unless it looks like HTML (feedparser's guess)
        kind = "text/html" if _FeedParserMixin.looks_like_html(value) else "text/plain"
    return FeedParserDict(type=kind, value=value, base="", language=None)


def _item(source: str, entry, feed, channel_link: str | None) -> RawItem | None:
    content = ""
    if entry.get("content"):
        # Atom may carry several; prefer HTML over plain text.
        ranked = sorted(entry.content, key=lambda c: c.get("type") not in ("text/html", "application/xhtml+xml"))
        content = _as_html(ranked[0])
    summary = _as_html(entry.get("summary_detail")) if entry.get("summary_detail") else ""
    title = _text(entry.get("title_detail"))
    # feedparser resolves link hrefs against xml:base; a bare relative <link> still needs the channel.
    link = _http(urljoin(channel_link or "", (entry.get("link") or "").strip())) if entry.get("link") else None
    if not title and not link and not (content or summary).strip():
        return None
    published, raw = _date(entry)
    authors = tuple(dict.fromkeys(
        squash(a.get("name") or a.get("email") or "") for a in entry.get("authors", []) if a
    ))
    authors = tuple(a for a in authors if a)
    if not authors and feed.get("author"):
        authors = (squash(feed.author),)
    categories = tuple(dict.fromkeys(
        squash(t.get("label") or t.get("term") or "") for t in entry.get("tags", [])
    ))
    categories = tuple(c for c in categories if c)
    body = content or summary
    detail = (entry.get("content") or [None])[0] or entry.get("summary_detail") or {}
    # xml:base when the feed gives one, else the item's own page (where its HTML was written)
    base = _http(detail.get("base")) or _http(entry.get("title_detail", {}).get("base")) or link or channel_link
    if published:
        note = ""
    elif raw:
        note = f"the feed's date “{squash(raw)[:60]}” could not be read"
    else:
        note = "the feed gives no date"
    return RawItem(
        source=source,
        publisher=_publisher(body, feed, channel_link),
        title=title,
        link=link,
        guid=(entry.get("id") or "").strip() or None,
        authors=authors,
        categories=categories,
        published=published,
        published_raw=raw,
        date_precision=EXACT if published else UNKNOWN,
        date_note=note,
        content_html=body,
        base_url=base or link,
        # dc:language, else xml:lang on the content or title (inherited from the feed), else <language>
        language=(entry.get("language") or detail.get("language") or entry.get("title_detail", {}).get("language")
                  or feed.get("language") or ""),
    )


def _date(entry) -> tuple[datetime | None, str | None]:
    first_raw = None
    for key in ("published", "updated", "created"):
        raw = entry.get(key)
        if not raw:
            continue
        first_raw = first_raw or raw
        try:  # keep the source's own UTC offset when it is an RFC 822 date
            value = parsedate_to_datetime(raw)
            if value.tzinfo is None:
                value = value.replace(tzinfo=timezone.utc)
            value.timestamp()  # out-of-range years fail here, not later in sorting
            return value, raw
        except (TypeError, ValueError, IndexError, OverflowError, OSError):
            pass
        parsed = entry.get(f"{key}_parsed")
        if parsed:
            try:
                return datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc), raw
            except (OverflowError, ValueError, OSError):
                pass
        try:
            value = datetime.fromisoformat(raw.strip())
            value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
            value.timestamp()
            return value, raw
        except (ValueError, OverflowError, OSError):
            continue
    return None, first_raw


def _feed_date(feed) -> datetime | None:
    """When the feed says it was last built (RSS lastBuildDate, Atom updated), if readable."""
    parsed = feed.get("updated_parsed") or feed.get("published_parsed")
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc)
    except (OverflowError, ValueError, OSError):
        return None


def _http(url: str | None) -> str | None:
    """``url`` when it is an absolute http(s) URL, else None (javascript:, data:, relative)."""
    if not url or not isinstance(url, str):
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _text(detail) -> str:
    """A feed text construct as plain text (titles may be declared HTML)."""
    if not detail:
        return ""
    value = detail.get("value") or ""
    if detail.get("type") in ("text/html", "application/xhtml+xml"):
        return plain(value)
    return squash(value)


def _as_html(detail) -> str:
    value = detail.get("value") or ""
    if detail.get("type") == "text/plain":
        return "".join(f"<p>{html.escape(p.strip())}</p>" for p in re.split(r"\n\s*\n", value) if p.strip())
    return value


def _publisher(body: str, feed, channel_link: str | None) -> str:
    # A case-insensitive search scans the whole body slowly (80 µs a story); most bodies have
    # no such line, which a plain substring test of the lower-cased body tells in a tenth of that.
    # The regex starts where the line does: case-insensitive, it cannot skip ahead by itself.
    lowered = body.lower()
    at = lowered.find("appeared first on")
    match = _APPEARED.search(body, at if len(lowered) == len(body) else 0) if at >= 0 else None
    if match:
        return squash(html.unescape(match.group(1)))
    title = squash(feed.get("title", ""))
    if title and not title.endswith(" Archives"):
        return title
    host = urlsplit(channel_link or "").hostname or ""
    return host.removeprefix("www.") or title or "unknown"


def _short(exc: object) -> str:
    text = str(exc).strip().splitlines()[0] if exc else "unknown error"
    return text[:160]

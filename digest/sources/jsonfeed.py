"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1)."""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

from digest.model import EXACT, UNKNOWN, RawItem, SourceReport
from digest.sources import charset
from digest.sources.meta import Meta
from digest.text import squash


def read(name: str, data: bytes, sidecar: Meta) -> SourceReport:
    decoded = charset.decode(data)  # JSON Feed must be UTF-8, but a legacy file should still read
    salvaged = None
    try:
        doc = json.loads(decoded.text.lstrip("\ufeff"))
    except (ValueError, RecursionError) as exc:
        doc = salvaged = _salvage(decoded.text)
        if doc is None:
            return SourceReport(file=name, format="unknown", problems=(f"not valid JSON ({str(exc)[:120]})",),
                                fetched=sidecar.fetched, encoding=decoded.label)
        salvaged = f"malformed or truncated JSON ({str(exc)[:120]}): kept the {len(doc['items'])} complete item(s)"
    if not isinstance(doc, dict) or "jsonfeed.org/version" not in str(doc.get("version", "")):
        return SourceReport(file=name, format="unknown", problems=("JSON, but not a JSON Feed (no jsonfeed.org version)",),
                            fetched=sidecar.fetched, encoding=decoded.label)
    problems = [p for p in (salvaged, sidecar.problem) if p]
    if decoded.encoding != "utf-8":
        problems.append(f"JSON Feed must be UTF-8; read as {decoded.encoding}")
    number = str(doc.get("version")).rstrip("/").rsplit("/", 1)[-1]
    version = "JSON Feed " + ("1.0" if number == "1" else number)
    feed_authors = _authors(doc)
    home = _http(doc.get("home_page_url")) or sidecar.url
    publisher = squash(str(doc.get("title") or "")) or (urlsplit(home or "").hostname or "unknown")
    items = []
    entries = doc.get("items") if isinstance(doc.get("items"), list) else []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            problems.append(f"item {index + 1} is not an object; skipped")
            continue
        body = entry.get("content_html") if isinstance(entry.get("content_html"), str) else ""
        if not body and entry.get("content_text"):
            body = "".join(f"<p>{html.escape(p)}</p>" for p in str(entry["content_text"]).split("\n\n") if p.strip())
        if not body and entry.get("summary"):  # a summary is better than an empty page
            body = f"<p>{html.escape(str(entry['summary']))}</p>"
        title = squash(str(entry.get("title") or ""))
        link = _http(_join(home, entry.get("url"))) or _http(entry.get("external_url"))
        if not (title or link or body):
            problems.append(f"item {index + 1} has no title, link or content; skipped")
            continue
        published, raw = _date(entry.get("date_published") or entry.get("date_modified"))
        items.append(RawItem(
            source=name,
            publisher=publisher,
            title=title,
            link=str(link) if link else None,
            guid=str(entry.get("id")) if entry.get("id") is not None else None,
            authors=_authors(entry) or feed_authors,
            categories=tuple(squash(str(t)) for t in (entry.get("tags") if isinstance(entry.get("tags"), list) else [])
                             if str(t).strip()),
            published=published,
            published_raw=raw,
            date_precision=EXACT if published else UNKNOWN,
            date_note="" if published else (f"the feed's date “{raw[:60]}” could not be read" if raw
                                            else "the feed gives no date"),
            content_html=body,
            base_url=str(link or home or "") or None,
            language=_language(entry.get("language")) or _language(doc.get("language")),
        ))
    return SourceReport(file=name, format="jsonfeed", title=publisher, link=home, items=tuple(items),
                        problems=tuple(problems), fetched=sidecar.fetched, version=version,
                        encoding=decoded.label)


def _language(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _salvage(text: str) -> dict | None:
    """The top-level fields and the complete items of a JSON Feed cut off part-way, or None."""
    start = re.search(r'"items"\s*:\s*\[', text)
    if not start or "jsonfeed.org/version" not in text[: start.start()]:
        return None
    head: dict = {}
    for key in ("version", "title", "home_page_url"):
        found = re.search(rf'"{key}"\s*:\s*("(?:[^"\\]|\\.)*")', text[: start.start()])
        if found:
            head[key] = json.loads(found.group(1))
    decoder, items, at = json.JSONDecoder(), [], start.end()
    while True:
        at = len(text) - len(text[at:].lstrip(" \t\r\n,"))
        try:
            item, at = decoder.raw_decode(text, at)
        except (ValueError, RecursionError):
            break
        items.append(item)
    return {**head, "items": items}


def _join(base: str | None, url: object) -> object:
    """JSON Feed allows an item url relative to the home page."""
    if isinstance(url, str) and base:
        try:
            return urljoin(base, url.strip())
        except ValueError:
            return None
    return url


def _http(url: object) -> str | None:
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _authors(obj: dict) -> tuple[str, ...]:
    people = obj.get("authors") if isinstance(obj.get("authors"), list) else []
    people = people or ([obj["author"]] if isinstance(obj.get("author"), dict) else [])
    return tuple(squash(str(p.get("name"))) for p in people if isinstance(p, dict) and p.get("name"))


def _date(value: object) -> tuple[datetime | None, str | None]:
    if not value:
        return None, None
    raw = str(value)
    try:
        parsed = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
        parsed.timestamp()  # out-of-range dates fail here, not in sorting
    except (ValueError, OverflowError, OSError):
        return None, raw
    return parsed, raw

"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1)."""

from __future__ import annotations

import html
import json
from datetime import datetime, timezone
from urllib.parse import urlsplit

from digest.model import EXACT, UNKNOWN, RawItem, SourceReport
from digest.sources.meta import Meta
from digest.text import squash


def read(name: str, data: bytes, sidecar: Meta) -> SourceReport:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        return SourceReport(file=name, format="unknown", problems=(f"not valid JSON ({exc})",), fetched=sidecar.fetched)
    if not isinstance(doc, dict) or "jsonfeed.org/version" not in str(doc.get("version", "")):
        return SourceReport(file=name, format="unknown", problems=("JSON, but not a JSON Feed (no jsonfeed.org version)",),
                            fetched=sidecar.fetched)
    problems = [sidecar.problem] if sidecar.problem else []
    feed_authors = _authors(doc)
    home = doc.get("home_page_url") or sidecar.url
    publisher = squash(str(doc.get("title") or "")) or (urlsplit(home or "").hostname or "unknown")
    items = []
    for index, entry in enumerate(doc.get("items") or []):
        if not isinstance(entry, dict):
            problems.append(f"item {index + 1} is not an object; skipped")
            continue
        body = entry.get("content_html") or ""
        if not body and entry.get("content_text"):
            body = "".join(f"<p>{html.escape(p)}</p>" for p in str(entry["content_text"]).split("\n\n") if p.strip())
        title = squash(str(entry.get("title") or ""))
        link = entry.get("url") or entry.get("external_url")
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
            categories=tuple(squash(str(t)) for t in entry.get("tags") or [] if str(t).strip()),
            published=published,
            published_raw=raw,
            date_precision=EXACT if published else UNKNOWN,
            date_note="" if published else "the feed gives no date",
            content_html=body,
            summary_html=html.escape(str(entry.get("summary") or "")),
            base_url=str(link or home or "") or None,
        ))
    return SourceReport(file=name, format="jsonfeed", title=publisher, link=home, items=tuple(items),
                        problems=tuple(problems), fetched=sidecar.fetched)


def _authors(obj: dict) -> tuple[str, ...]:
    people = obj.get("authors") or ([obj["author"]] if isinstance(obj.get("author"), dict) else [])
    return tuple(squash(str(p.get("name"))) for p in people if isinstance(p, dict) and p.get("name"))


def _date(value: object) -> tuple[datetime | None, str | None]:
    if not value:
        return None, None
    raw = str(value)
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None, raw
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)), raw

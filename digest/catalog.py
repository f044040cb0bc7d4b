"""The machine-readable files of the site: ``articles.json`` (the data contract in
ARCHITECTURE.md) and robots.txt (the sitemap is sitemap.py)."""

from __future__ import annotations

import json

import orjson

from digest import urls
from digest.config import Config
from digest.model import Site

def catalog(site: Site) -> bytes:
    """``articles.json``: the data contract in ARCHITECTURE.md, newest first then by id."""
    events = site.events
    lines = []
    for key in site.order:
        a = site.articles[key]
        event = events.get(a.id)
        lines.append(_line({
            "id": a.id,
            "title": a.title,
            "url": urls.article(a.slug),
            "source_url": a.source_url,
            "authors": a.authors,
            "tags": a.tags,
            "countries": a.countries,
            "language": a.language,
            "published": a.published.isoformat() if a.published else None,
            "date_precision": a.date_precision,
            "date_note": a.date_note or None,
            "country_reasons": dict(a.country_reasons),
            "publisher": a.publisher,
            "sources": a.sources,
            "event": event.id if event is not None else None,
        }))
    # Compact, one story a line: the indented form was a tenth of a large site's bytes in
    # whitespace (10.8 MB at 10,000 stories), and a line per story still diffs and greps well.
    return b'{"articles":[\n' + b",\n".join(lines) + (b"\n" if lines else b"") + b"]}\n"


def _line(row: dict) -> bytes:
    """One row as compact UTF-8 JSON, as ``json.dumps(ensure_ascii=False)`` writes it, with
    orjson: a third of the time (0.21 → 0.07 s at 10,000 stories)."""
    try:
        return orjson.dumps(row)
    except orjson.JSONEncodeError:  # a string orjson refuses (a lone surrogate): the slow way
        return json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "replace")


def robots(config: Config) -> bytes:
    return f"User-agent: *\nAllow: /\nSitemap: {urls.absolute(config.base_url, 'sitemap.xml')}\n".encode()

"""The metadata sidecar of a cached source: ``<file>.meta.json`` next to it.

    {"url": "https://…/feed/", "fetched": "2026-06-21T12:05:00+00:00",
     "etag": "\"abc\"", "last_modified": "Sun, 21 Jun 2026 12:01:20 GMT", "page_date": null}

Every key is optional. ``fetched`` is what turns "2 months ago" into an approximate date;
``digest fetch`` writes it, and editors may write it by hand for a file they saved themselves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

SUFFIX = ".meta.json"


@dataclass(frozen=True)
class Meta:
    url: str | None = None
    fetched: datetime | None = None
    etag: str | None = None
    last_modified: str | None = None
    problem: str | None = None  # the sidecar itself was unreadable


def path_for(source: Path) -> Path:
    return source.with_name(source.name + SUFFIX)


def read(source: Path) -> Meta:
    path = path_for(source)
    if not path.is_file():
        return Meta()
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
        fetched = parse_time(data.get("fetched"))
        return Meta(url=data.get("url"), fetched=fetched, etag=data.get("etag"),
                    last_modified=data.get("last_modified"))
    except (OSError, ValueError, AttributeError) as exc:
        return Meta(problem=f"{path.name}: unreadable metadata ({exc})")


def write(source: Path, meta: Meta) -> None:
    data = {
        "url": meta.url,
        "fetched": meta.fetched.isoformat() if meta.fetched else None,
        "etag": meta.etag,
        "last_modified": meta.last_modified,
    }
    path = path_for(source)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def parse_time(value: object) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)

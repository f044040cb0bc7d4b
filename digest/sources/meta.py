"""The metadata sidecar of a cached source: ``<file>.meta.json`` next to it.

    {"url": "https://novastan.org/en/tag/kazakhstan/feed/",
     "fetched": "2026-06-21T12:05:00+00:00",
     "etag": "\\"abc\\"", "last_modified": "Sun, 21 Jun 2026 12:01:20 GMT",
     "note": "free text for people; the build ignores it"}

Every key is optional and ``null`` means "not known". ``fetched`` is an ISO 8601 time, or just
a date (``"2025-12-07"``) when only the day is known; it is what turns "2 months ago" into an
approximate date and what a date "from the future" is measured against. Never guess it: a
wrong fetch time silently misdates every relative date in the file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

SUFFIX = ".meta.json"
KEYS = ("url", "fetched", "etag", "last_modified", "note")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Meta:
    url: str | None = None
    fetched: datetime | None = None
    fetched_day_only: bool = False  # "fetched" gave a date, not a time
    etag: str | None = None
    last_modified: str | None = None
    note: str | None = None
    problem: str | None = None  # the sidecar itself was unreadable or odd

    @property
    def modified(self) -> datetime | None:
        """``last_modified`` as a time (it is an HTTP date), or None."""
        if not self.last_modified:
            return None
        try:
            value = parsedate_to_datetime(self.last_modified)
        except (TypeError, ValueError, IndexError):
            return None
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def path_for(source: Path) -> Path:
    return source.with_name(source.name + SUFFIX)


def read(source: Path) -> Meta:
    """The sidecar of ``source``; a missing one is an empty Meta, a broken one a Meta with a problem."""
    path = path_for(source)
    if not path.is_file():
        return Meta()
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return Meta(problem=f"{path.name}: unreadable metadata ({_short(exc)}); ignored")
    if not isinstance(data, dict):
        return Meta(problem=f"{path.name}: metadata is not a JSON object; ignored")
    odd = []
    values = {}
    for key in ("url", "etag", "last_modified", "note"):
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            odd.append(f"{key} is not a string")
            value = None
        values[key] = value or None
    if values["url"] and not values["url"].startswith(("http://", "https://")):
        odd.append("url is not an http(s) URL")
        values["url"] = None
    try:
        fetched = parse_time(data.get("fetched"))
    except (TypeError, ValueError):
        odd.append(f"fetched {data.get('fetched')!r} is not an ISO 8601 date or time")
        fetched = None
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        odd.append("unknown key(s) " + ", ".join(unknown))
    return Meta(
        url=values["url"], fetched=fetched, fetched_day_only=_DATE_ONLY.match(str(data.get("fetched") or "")) is not None,
        etag=values["etag"], last_modified=values["last_modified"], note=values["note"],
        problem=f"{path.name}: " + "; ".join(odd) + " (ignored)" if odd else None,
    )


def write(source: Path, meta: Meta) -> None:
    data = {
        "url": meta.url,
        "fetched": (meta.fetched.date().isoformat() if meta.fetched_day_only else meta.fetched.isoformat())
        if meta.fetched else None,
        "etag": meta.etag,
        "last_modified": meta.last_modified,
    }
    if meta.note:
        data["note"] = meta.note
    path = path_for(source)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 time (UTC when it has no offset) or date (midnight UTC); None for null."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise TypeError("not a string")
    if _DATE_ONLY.match(value.strip()):
        day = date.fromisoformat(value.strip())
        return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _short(exc: object) -> str:
    return str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__

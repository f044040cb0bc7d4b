"""Dated snapshots of fetched sources, so stories that roll off a feed stay on the site.

Layout (``digest fetch`` writes it; editors never need to touch it)::

    content_cache/archive/<source name>/<yyyymmddThhmmssZ>-<source name>
    content_cache/archive/<source name>/<yyyymmddThhmmssZ>-<source name>.meta.json

A snapshot is kept each time a fetch brings new bytes. The build reads the current files as
always and then, newest snapshot first, only the items of each snapshot that no newer copy
has: a rolled-off story comes from the newest snapshot that still had it, and a story still
in the feed is never read twice. No network here; ``digest.fetch`` does that.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from digest.model import RawItem, SourceReport
from digest.normalize import canonical_url
from digest.sources import cache_files, read_source

FOLDER = "archive"


def stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def snapshot_path(cache_dir: Path, name: str, moment: datetime) -> Path:
    """A new, unused snapshot path for source ``name`` fetched at ``moment``."""
    folder = cache_dir / FOLDER / name
    path = folder / f"{stamp(moment)}-{name}"
    n = 2
    while path.exists():  # two fetches within one second
        path = folder / f"{stamp(moment)}-{n}-{name}"
        n += 1
    return path


def snapshots(cache_dir: Path, name: str) -> list[Path]:
    """Snapshots of one source, oldest first."""
    return cache_files(cache_dir / FOLDER / name)


def _keys(item: RawItem) -> set[tuple[str, ...]]:
    keys = {("title", item.publisher, " ".join(item.title.split()).casefold())}
    if item.guid:
        keys.add(("guid", item.guid))
    if item.link:
        keys.add(("link", canonical_url(item.link) or item.link))
    return keys


def rolled_off(cache_dir: Path, current: tuple[SourceReport, ...]) -> tuple[SourceReport, ...]:
    """Reports holding only the archived items that the current cache no longer has."""
    root = cache_dir / FOLDER
    if not root.is_dir():
        return ()
    seen = {key for report in current for item in report.items for key in _keys(item)}
    out = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        latest = cache_dir / folder.name
        for snap in reversed(cache_files(folder)):
            if _same_bytes(snap, latest):
                continue
            report = read_source(snap)
            fresh = tuple(item for item in report.items if not _keys(item) & seen)
            for item in fresh:
                seen |= _keys(item)
            if fresh or report.problems:
                # Old tickers and profiles are superseded by the current file's.
                out.append(replace(report, items=fresh, rates=(), profile=None))
    return tuple(out)


def _same_bytes(a: Path, b: Path) -> bool:
    try:
        return a.stat().st_size == b.stat().st_size and a.read_bytes() == b.read_bytes()
    except OSError:
        return False

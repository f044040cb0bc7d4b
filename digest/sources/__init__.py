"""Read every file in the cache with the reader its *content* calls for.

Each reader returns a ``SourceReport``; a file no reader can use becomes a report with a
one-line problem and no items, so one bad file never stops the build.
"""

from __future__ import annotations

from pathlib import Path

from digest.model import SourceReport
from digest.sources import jsonfeed, meta, rss, timesca

MAX_BYTES = 50 * 1024 * 1024  # a cache file larger than this is not a feed we should hold in memory

_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive",
    b"\x1f\x8b": "a gzip archive",
}


def cache_files(cache_dir: Path) -> list[Path]:
    """The source files of a cache, in name order (metadata sidecars and hidden files left out)."""
    if not cache_dir.is_dir():
        return []
    return sorted(
        p for p in cache_dir.iterdir()
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith(meta.SUFFIX)
    )


def read_source(path: Path) -> SourceReport:
    """Read one cache file; never raises for bad content."""
    sidecar = meta.read(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return _skipped(path, f"too large ({size} bytes > {MAX_BYTES})", sidecar)
        data = path.read_bytes()
    except OSError as exc:
        return _skipped(path, f"cannot read: {exc.strerror or exc}", sidecar)
    kind = detect(data)
    if kind.startswith("skip:"):
        return _skipped(path, kind[5:], sidecar)
    reader = {"xml": rss.read, "json": jsonfeed.read, "text": timesca.read}[kind]
    try:
        report = reader(path.name, data, sidecar)
    except Exception as exc:  # a reader bug must not lose the other sources
        return _skipped(path, f"could not be read ({type(exc).__name__}: {exc})", sidecar)
    return report


def detect(data: bytes) -> str:
    """'xml', 'json', 'text' or 'skip:<reason>' from the bytes alone (file names can lie)."""
    if not data.strip():
        return "skip:empty file"
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            return f"skip:binary file ({what}), not a feed"
    head = data[:4096]
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    for bom in (b"\xff\xfe", b"\xfe\xff"):
        if head.startswith(bom):
            return "xml"  # UTF-16 with a BOM: only feeds come that way; feedparser decodes it
    stripped = head.lstrip()
    if b"\x00" in head:
        return "skip:binary file, not a feed"
    if stripped.startswith(b"{"):
        return "json"
    if stripped.startswith(b"<"):
        lowered = stripped[:2048].lower()
        if b"<rss" in lowered or b"<feed" in lowered or b"<rdf" in lowered or b"<?xml" in lowered:
            return "xml"
        if b"<html" in lowered or b"<!doctype html" in lowered:
            return "skip:an HTML page, not a feed"
        return "xml"
    if timesca.looks_like(head):
        return "text"
    return "skip:not a feed (no RSS, Atom, RDF, JSON Feed or known page scrape found)"


def read_cache(cache_dir: Path) -> tuple[SourceReport, ...]:
    return tuple(read_source(p) for p in cache_files(cache_dir))


def _skipped(path: Path, reason: str, sidecar: meta.Meta) -> SourceReport:
    return SourceReport(file=path.name, format="unknown", problems=(reason,), fetched=sidecar.fetched)

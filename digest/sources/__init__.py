"""Read every file in the cache with the reader its *content* calls for.

Each reader returns a ``SourceReport``; a file no reader can use becomes a report with a
one-line problem and no items, so one bad file never stops the build. ``audit`` then checks
all items alike (safe plain-text fields, body size, future and missing dates).
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from digest.model import SourceReport
from digest.sources import charset, jsonfeed, meta, rss, timesca
from digest.sources.audit import audit, audit_source

MAX_BYTES = 50 * 1024 * 1024  # a cache file larger than this is not a feed we should hold in memory

_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"RIFF": "a RIFF (WebP/WAV/AVI) file",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (or an Office document)",
    b"\x1f\x8b": "a gzip archive",
    b"BZh": "a bzip2 archive",
    b"\xfd7zXZ": "an xz archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
    b"\x7fELF": "a program (ELF)",
    b"MZ": "a Windows program",
    b"SQLite format 3": "an SQLite database",
    b"\x00\x00\x01\x00": "an icon",
}
_SKIP_DECLS = re.compile(r"^(?:\s+|<\?.*?\?>|<!--.*?-->|<!\[CDATA\[.*?\]\]>)+", re.S)
_DOCTYPE = re.compile(r"^<!DOCTYPE\s+([\w:.-]+)", re.I)
_ROOT = re.compile(r"^<([A-Za-z_][\w:.-]*)")
_FEED_ROOTS = {"rss", "feed", "rdf", "channel", "redirect"}


def cache_files(cache_dir: Path) -> list[Path]:
    """The source files of a cache, in name order (metadata sidecars and hidden files left out)."""
    if not cache_dir.is_dir():
        return []
    return sorted(
        p for p in cache_dir.iterdir()
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith((meta.SUFFIX, ".tmp"))
    )


def read_source(path: Path) -> SourceReport:
    """Read one cache file; never raises for bad content."""
    sidecar = meta.read(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return _skipped(path, f"too large ({size:,} bytes, the limit is {MAX_BYTES:,}); skipped", sidecar)
        data = path.read_bytes()
    except OSError as exc:
        return _skipped(path, f"cannot be read ({exc.strerror or exc}); skipped", sidecar)
    kind = detect(data)
    if kind.startswith("skip:"):
        return _skipped(path, kind[5:] + "; skipped", sidecar)
    reader = {"xml": rss.read, "json": jsonfeed.read, "text": timesca.read}[kind]
    try:
        report = reader(path.name, data, sidecar)
    except Exception as exc:  # a reader bug must not lose the other sources
        return _skipped(path, f"could not be read ({type(exc).__name__}: {_first_line(exc)}); skipped", sidecar)
    if report.format == "unknown" and report.problems and not report.problems[0].endswith("skipped"):
        report = replace(report, problems=(report.problems[0] + "; skipped",) + report.problems[1:])
    return audit_source(replace(report, url=sidecar.url, updated=report.updated or sidecar.modified))


def detect(data: bytes) -> str:
    """'xml', 'json', 'text' or 'skip:<reason>' from the bytes alone (file names can lie)."""
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    if not body.strip():
        return "skip:empty file"
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            return f"skip:binary file ({what}), not a feed"
    head = charset.decode(data[:8192]).text.lstrip("\ufeff")
    if "\x00" in head or _control_share(head) > 0.05:
        return "skip:binary file, not a feed"
    stripped = head.lstrip()
    if stripped.startswith("{"):
        return "json"
    if stripped.startswith("["):
        return "skip:JSON list, not a JSON Feed"
    if stripped.startswith("<"):
        rest = _SKIP_DECLS.sub("", stripped, count=1)
        doctype = _DOCTYPE.match(rest)
        if doctype and doctype.group(1).lower() == "html":
            return "skip:an HTML page, not a feed"
        rest = re.sub(r"^<!DOCTYPE[^>\[]*(\[.*?\])?\s*>", "", rest, count=1, flags=re.S | re.I)
        rest = _SKIP_DECLS.sub("", rest, count=1)
        root = _ROOT.match(rest)
        name = root.group(1).split(":")[-1].lower() if root else ""
        if name in ("html", "body", "head"):
            return "skip:an HTML page, not a feed"
        return "xml"  # any other root: feedparser decides, and says why when it is not a feed
    if timesca.looks_like(data[:8192]):
        return "text"
    return "skip:not a feed (no RSS, Atom, RDF, JSON Feed or known page scrape found)"


def read_cache(cache_dir: Path, read_all=None) -> tuple[SourceReport, ...]:
    """``read_all(paths)``, when given, reads the files instead (the parse cache, in parallel)."""
    files = cache_files(cache_dir)
    return audit(tuple(read_all(files) if read_all else (read_source(p) for p in files)))


def _control_share(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(1 for ch in text if (ord(ch) < 32 and ch not in "\t\n\r\f") or ch == "\ufffd")
    return bad / len(text)


def _first_line(exc: object) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:160]


def _skipped(path: Path, reason: str, sidecar: meta.Meta) -> SourceReport:
    problems = (reason,) + ((sidecar.problem,) if sidecar.problem else ())
    return SourceReport(file=path.name, format="unknown", problems=problems, fetched=sidecar.fetched,
                        url=sidecar.url)

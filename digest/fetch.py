"""``digest fetch``: refresh ``content_cache/`` from the sources in the config.

The only module that touches the network. Standard library only (urllib): one GET per
source is all we need, and it keeps the runtime dependencies to what the build uses.

Per source: a conditional GET (If-None-Match / If-Modified-Since from the sidecar; a 304
changes nothing), a total time limit, a few retries with exponential backoff for timeouts,
connection errors and 5xx/429, and a check that the new bytes are something our readers
can use before they replace anything. A good download is written atomically, kept as a
dated snapshot (``digest.archive``) and recorded in the sidecar (URL, fetch time,
validators). A failed one leaves the last good copy and its sidecar exactly as they were.
"""

from __future__ import annotations

import gzip
import os
import re
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from lxml import html as lxml_html

from digest import __version__, archive
from digest.config import Config, FeedSource
from digest.sources import MAX_BYTES, meta, read_source

UPDATED, UNCHANGED, FAILED = "updated", "unchanged", "failed"
RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}
ACCEPT = {
    "feed": "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, */*;q=0.5",
    "page": "text/html, text/plain;q=0.9, */*;q=0.5",
}


@dataclass(frozen=True)
class Options:
    timeout: float = 20.0  # seconds for the whole download of one attempt
    retries: int = 3  # attempts after the first
    backoff: float = 1.0  # seconds before the first retry; doubles each time
    user_agent: str = ""


@dataclass(frozen=True)
class Outcome:
    source: FeedSource
    status: str  # updated | unchanged | failed
    detail: str  # one line for people
    size: int = 0
    attempts: int = 1
    snapshot: Path | None = None
    warnings: tuple[str, ...] = ()


class FetchError(Exception):
    def __init__(self, message: str, retry: bool):
        super().__init__(message)
        self.retry = retry


def user_agent(config: Config) -> str:
    return f"digest/{__version__} (static news digest; +{config.base_url}) Python-urllib"


def fetch_all(config: Config, names: tuple[str, ...] = (), options: Options | None = None,
              progress: Callable[[int, int, FeedSource, Outcome | None], None] | None = None,
              clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc).replace(microsecond=0),
              sleep: Callable[[float], None] = time.sleep) -> list[Outcome]:
    """Fetch every configured source (or only ``names``), one after the other."""
    options = options or Options()
    if not options.user_agent:
        options = replace(options, user_agent=user_agent(config))
    sources = [s for s in config.feeds if not names or s.name in names]
    unknown = set(names) - {s.name for s in config.feeds}
    if unknown:
        raise KeyError(f"no [[feeds]] entry named {', '.join(sorted(unknown))}")
    cache_dir = config.path(config.cache_dir)
    outcomes = []
    for i, source in enumerate(sources, 1):
        if progress:
            progress(i, len(sources), source, None)
        outcome = fetch_one(source, cache_dir, options, clock, sleep)
        outcomes.append(outcome)
        if progress:
            progress(i, len(sources), source, outcome)
    return outcomes


def fetch_one(source: FeedSource, cache_dir: Path, options: Options,
              clock: Callable[[], datetime], sleep: Callable[[float], None]) -> Outcome:
    target = cache_dir / source.name
    if "/" in source.name or "\\" in source.name or source.name.startswith(".") or source.name in ("", archive.FOLDER):
        return Outcome(source, FAILED, f"unusable cache file name {source.name!r}")
    if source.kind not in ACCEPT:
        return Outcome(source, FAILED, f"unknown kind {source.kind!r} (expected feed or page)")
    old = meta.read(target) if target.is_file() else meta.Meta()
    headers = {"User-Agent": options.user_agent, "Accept": ACCEPT[source.kind], "Accept-Encoding": "gzip, deflate"}
    if target.is_file() and old.url == source.url:  # validators belong to the URL they came from
        if old.etag:
            headers["If-None-Match"] = old.etag
        if old.last_modified:
            headers["If-Modified-Since"] = old.last_modified
    attempt = 0
    while True:
        attempt += 1
        try:
            status, data, response_headers = _get(source.url, headers, options.timeout)
            break
        except FetchError as exc:
            if not exc.retry or attempt > options.retries:
                tries = f" after {attempt} attempts" if attempt > 1 else ""
                kept = "; kept the last good copy" if target.is_file() else "; nothing cached yet"
                return Outcome(source, FAILED, f"{exc}{tries}{kept}", attempts=attempt)
            sleep(options.backoff * 2 ** (attempt - 1))
    if status == 304:
        return Outcome(source, UNCHANGED, "not modified (304)", attempts=attempt)
    fetched = clock()
    if source.kind == "page" and _looks_like_html(data):
        data = page_text(data)
    problem, warnings = _unusable(data, source, cache_dir)
    if problem:
        kept = "; kept the last good copy" if target.is_file() else "; nothing cached yet"
        return Outcome(source, FAILED, f"{problem}{kept}", size=len(data), attempts=attempt)
    record = meta.Meta(url=source.url, fetched=fetched, etag=response_headers.get("Etag"),
                       last_modified=response_headers.get("Last-Modified"))
    if target.is_file() and target.read_bytes() == data:
        return Outcome(source, UNCHANGED, "same bytes as the cached copy", size=len(data), attempts=attempt)
    _archive_previous(target, old, cache_dir)
    snapshot = archive.snapshot_path(cache_dir, source.name, fetched)
    _write_atomic(snapshot, data)
    meta.write(snapshot, record)
    _write_atomic(target, data)
    meta.write(target, record)
    return Outcome(source, UPDATED, f"{len(data):,} bytes", size=len(data), attempts=attempt,
                   snapshot=snapshot, warnings=warnings)


def _archive_previous(target: Path, old: meta.Meta, cache_dir: Path) -> None:
    """Before the first replace of a copy that never went through fetch (a seed, a file saved
    by hand), keep it as a snapshot too, with its sidecar (and any note), so none of its
    stories is lost. It is stamped with its recorded fetch time, else its file time."""
    if not target.is_file():
        return
    previous = archive.snapshots(cache_dir, target.name)
    data = target.read_bytes()
    if previous and previous[-1].read_bytes() == data:
        return
    moment = old.fetched or datetime.fromtimestamp(target.stat().st_mtime, timezone.utc)
    snapshot = archive.snapshot_path(cache_dir, target.name, moment)
    _write_atomic(snapshot, data)
    if meta.path_for(target).is_file():
        _write_atomic(meta.path_for(snapshot), meta.path_for(target).read_bytes())


def _get(url: str, headers: dict[str, str], timeout: float) -> tuple[int, bytes, dict[str, str]]:
    """One GET with a deadline for the whole body (a per-read timeout lets a slow drip run forever)."""
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (http/https checked by config)
            chunks, size = [], 0
            while chunk := response.read1(64 * 1024):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise FetchError(f"larger than {MAX_BYTES:,} bytes", retry=False)
                if time.monotonic() > deadline:
                    raise FetchError(f"timed out after {timeout:g} s", retry=True)
                chunks.append(chunk)
            data = b"".join(chunks)
            got = {k.title(): v for k, v in response.headers.items()}
            return response.status, _decompress(data, got.get("Content-Encoding", "")), got
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return 304, b"", {k.title(): v for k, v in exc.headers.items()}
        raise FetchError(f"HTTP {exc.code} {exc.reason}", retry=exc.code in RETRY_STATUS) from exc
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError) or "timed out" in str(reason):
            raise FetchError(f"timed out after {timeout:g} s", retry=True) from exc
        raise FetchError(f"cannot connect ({reason})", retry=True) from exc
    except (TimeoutError, OSError) as exc:  # a read timeout or a reset mid-body
        what = f"timed out after {timeout:g} s" if isinstance(exc, TimeoutError) or "timed out" in str(exc) \
            else f"connection failed ({exc})"
        raise FetchError(what, retry=True) from exc
    except ValueError as exc:  # e.g. "unknown url type"
        raise FetchError(f"bad URL ({exc})", retry=False) from exc


def _decompress(data: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    try:
        if encoding in ("gzip", "x-gzip"):
            return gzip.decompress(data)
        if encoding == "deflate":
            return zlib.decompress(data)
    except (OSError, zlib.error, EOFError) as exc:
        raise FetchError(f"corrupt {encoding} body ({exc})", retry=True) from exc
    return data


def _unusable(data: bytes, source: FeedSource, cache_dir: Path) -> tuple[str | None, tuple[str, ...]]:
    """Run the real reader on the new bytes: only what the build can use may replace a good copy."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".check-", dir=cache_dir)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        report = read_source(Path(tmp))
    finally:
        os.unlink(tmp)
    problems = tuple(p for p in report.problems if "metadata" not in p)
    if report.format == "unknown":
        return (problems[0] if problems else "not a feed"), ()
    if not (report.items or report.rates or report.profile):
        return "no stories in the download" + (f" ({problems[0]})" if problems else ""), ()
    return None, problems


def _looks_like_html(data: bytes) -> bool:
    head = data[:2048].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head


_BLOCKS = {"p", "div", "section", "article", "header", "footer", "main", "aside", "nav", "ul", "ol", "li",
           "h1", "h2", "h3", "h4", "h5", "h6", "br", "tr", "table", "blockquote", "figure", "figcaption",
           "time", "dt", "dd", "hr"}


_WS = re.compile(r"\s+")


def page_text(data: bytes) -> bytes:
    """A web page as the plain text a browser shows (what our page-scrape reader reads):
    one block per paragraph, list items as "• …", scripts and styles dropped."""
    root = lxml_html.document_fromstring(data)
    for bad in root.xpath("//script|//style|//noscript|//template|//head|//svg|//form"):
        bad.drop_tree()
    parts: list[str] = []

    def walk(el) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        block = tag in _BLOCKS
        if block:
            parts.append("\n\n")
        if tag == "li":
            parts.append("• ")
        if tag == "img" and el.get("alt"):
            parts.append(f"\n\n{el.get('alt')}\n\n")
        if el.text and tag:
            parts.append(_WS.sub(" ", el.text))  # source line breaks are just spaces in HTML
        for child in el:
            walk(child)
            if child.tail:
                parts.append(_WS.sub(" ", child.tail))
        if block:
            parts.append("\n\n")

    walk(root.find("body") if root.find("body") is not None else root)
    text = "".join(parts)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return (text + "\n").encode("utf-8")


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise

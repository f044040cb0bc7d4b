"""Plain-text scrapes of Times of Central Asia pages (they publish no feed).

Two page kinds, told apart by their chrome:
- author page: ticker, "Our People > NAME", "NAME's Avatar", name, role, bio, "Articles", then
  (title, body, "N months ago") blocks;
- listing page: ticker, a page date "07 December 2025", "Viewing results A - B of N", then
  (title, body) blocks with no dates or authors.
The ticker ("• KGS/USD = 0.01144 0%") repeats 8 times; it is exchange-rate data, never an article.
"""

from __future__ import annotations

import html
import re
from datetime import date, datetime, timedelta, timezone

from digest.body import strip_shortcodes
from digest.model import APPROXIMATE, UNKNOWN, AuthorProfile, ExchangeRate, RawItem, SourceReport
from digest.sources import charset
from digest.sources.meta import Meta
from digest.text import squash

PUBLISHER = "The Times of Central Asia"
_TICKER = re.compile(r"^\s*•?\s*([A-Z]{3})/([A-Z]{3})\s*=\s*([0-9.]+)\s+([-+]?[0-9.]+%)\s*$")
_BREADCRUMB = re.compile(r"^Our People\s*>\s*(.+)$")
_PAGE_DATE = re.compile(r"^(\d{1,2}) ([A-Z][a-z]+) (\d{4})$")
_RESULTS = re.compile(r"^Viewing results (\d+)\s*-\s*(\d+) of (\d+)$")
_RELATIVE = re.compile(r"^(an?|\d+) (second|minute|hour|day|week|month|year)s? ago$", re.I)
_UNIT_DAYS = {"second": 0, "minute": 0, "hour": 0, "day": 1, "week": 7, "month": 30, "year": 365}
_MONTHS = {m: i for i, m in enumerate(
    "January February March April May June July August September October November December".split(), 1)}


def looks_like(head: bytes) -> bool:
    text = _decode(head)
    return bool(_TICKER.match(text.lstrip().splitlines()[0] if text.strip() else "")) or \
        "Our People >" in text or "Viewing results" in text


def read(name: str, data: bytes, sidecar: Meta) -> SourceReport:
    decoded = charset.decode(data)
    lines = decoded.text.lstrip("\ufeff").splitlines()
    rates, rest = _ticker(lines, name)
    blocks = _blocks(rest)
    problems = [sidecar.problem] if sidecar.problem else []
    profile = None
    page_date = None
    kind = "timesca-listing"
    if blocks and _BREADCRUMB.match(blocks[0]):
        kind = "timesca-author"
        profile, blocks = _profile(blocks, name)
    else:
        while blocks and (_PAGE_DATE.match(blocks[0]) or _RESULTS.match(blocks[0])):
            m = _PAGE_DATE.match(blocks.pop(0))
            if m and m.group(2) in _MONTHS:
                page_date = date(int(m.group(3)), _MONTHS[m.group(2)], int(m.group(1)))
    if page_date:
        rates = tuple(ExchangeRate(**{**r.__dict__, "as_of": page_date}) for r in rates)
    items, leftovers = _articles(blocks, name, profile, page_date, sidecar.fetched)
    if leftovers:
        problems.append(f"{leftovers} line(s) not understood as articles; skipped")
    if not items and not rates:
        problems.append("no articles found in the page scrape")
    return SourceReport(
        file=name,
        format=kind,
        title=f"{PUBLISHER}: {profile.name}" if profile else f"{PUBLISHER} listing",
        link=sidecar.url,
        items=tuple(items),
        problems=tuple(problems),
        rates=rates,
        profile=profile,
        page_date=page_date,
        fetched=sidecar.fetched,
        version="Times of Central Asia " + ("author page" if profile else "listing page") + " (text scrape)",
        encoding=decoded.label,
    )


def _decode(data: bytes) -> str:
    return charset.decode(data).text.lstrip("\ufeff")


def _ticker(lines: list[str], name: str) -> tuple[tuple[ExchangeRate, ...], list[str]]:
    seen: dict[str, ExchangeRate] = {}
    i = 0
    while i < len(lines) and (_TICKER.match(lines[i]) or not lines[i].strip()):
        m = _TICKER.match(lines[i])
        if m:
            base, quote, rate, change = m.groups()
            seen.setdefault(f"{base}/{quote}", ExchangeRate(f"{base}/{quote}", base, quote, rate, change, name))
        i += 1
    return tuple(seen.values()), lines[i:]


def _blocks(lines: list[str]) -> list[str]:
    """Non-empty lines, trimmed; blank lines only separate blocks, each block is one line here."""
    return [squash(line) for line in lines if line.strip()]


def _profile(blocks: list[str], source: str) -> tuple[AuthorProfile, list[str]]:
    name = _BREADCRUMB.match(blocks[0]).group(1).strip()
    rest = blocks[1:]
    if rest and rest[0] == f"{name}'s Avatar":
        rest = rest[1:]
    if rest and rest[0] == name:
        rest = rest[1:]
    if "Articles" not in rest:  # no header line: nothing tells profile lines from articles
        return AuthorProfile(name=name, source=source), rest
    header = rest.index("Articles")
    role = rest[0] if header >= 1 else ""
    bio = " ".join(rest[1:header])
    return AuthorProfile(name=name, role=role, bio=bio, source=source), rest[header + 1:]


def _articles(blocks, source, profile, page_date, fetched):
    items: list[RawItem] = []
    leftovers = 0
    i = 0
    while i < len(blocks):
        title = blocks[i]
        body = blocks[i + 1] if i + 1 < len(blocks) else ""
        if not body or _RELATIVE.match(title) or _RELATIVE.match(body):
            leftovers += 1
            i += 1
            continue
        i += 2
        relative = None
        if i < len(blocks) and _RELATIVE.match(blocks[i]):
            relative = blocks[i]
            i += 1
        items.append(_item(source, title, body, profile, page_date, fetched, relative))
    return items, leftovers


def _item(source, title, body, profile, page_date, fetched, relative) -> RawItem:
    text = strip_shortcodes(body, html=False)
    text = squash(text)
    truncated = text.endswith("...")
    if truncated:
        text = text[:-3].rstrip() + "…"
    published, precision, note = None, UNKNOWN, ""
    if relative:
        published = _resolve(relative, fetched)
        if published:
            precision, note = APPROXIMATE, f"“{relative}” on a page fetched {fetched:%d %B %Y}"
        else:
            note = f"“{relative}” on the source page, whose capture date is unknown"
    elif page_date:
        published = datetime(page_date.year, page_date.month, page_date.day, tzinfo=timezone.utc)
        precision, note = APPROXIMATE, f"on or before {page_date.day} {page_date:%B %Y} (listed on a page of that date)"
    return RawItem(
        source=source,
        publisher=PUBLISHER,
        title=title,
        authors=(profile.name,) if profile else (),
        published=published,
        published_raw=relative or (page_date.isoformat() if page_date else None),
        date_precision=precision,
        date_note=note,
        content_html=f"<p>{html.escape(text, quote=False)}</p>",
        truncated=truncated,
    )


def _resolve(relative: str, fetched: datetime | None) -> datetime | None:
    if fetched is None:
        return None
    m = _RELATIVE.match(relative)
    count = 1 if m.group(1).lower() in ("a", "an") else int(m.group(1))
    return fetched - timedelta(days=count * _UNIT_DAYS[m.group(2).lower()])

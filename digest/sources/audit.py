"""Checks every reader's items get alike, after all files are read: plain-text fields made
safe, oversized bodies cut, and dates that cannot be true (from the future) or are missing
turned into visible, one-line warnings instead of a wrong "now" or a broken sort.

When is a date "from the future"? Only inputs may say what now is, so an item is measured
against its own source: the fetch time from the metadata sidecar, else the sidecar's
Last-Modified, else the feed's own build date (RSS lastBuildDate, Atom updated), else the
listing page's date, with one day of grace for time zones. A source with none of these is
measured against the rest of the cache: a date more than a year after every other dated story
is an outlier nobody could have fetched.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, time, timedelta, timezone

from digest.model import EXACT, UNKNOWN, RawItem, SourceReport
from digest.text import clean_line

GRACE = timedelta(days=1)
OUTLIER_GAP = timedelta(days=366)
MAX_BODY_CHARS = 1_000_000  # a real article is 5-100 KB; more is a broken or hostile feed
_RELATIVE = re.compile(r"\bago$", re.I)
_FUTURE_NOTE = "the source dates it"
_BLOCK_END = re.compile(r"</(?:p|div|li|ul|ol|blockquote|figure|table|pre|section|h[1-6])\s*>", re.I)


def audit_source(report: SourceReport) -> SourceReport:
    """Every check that needs only this file (``read_source`` runs it, so every path that
    reads a file, archived snapshots included, gets it)."""
    return _audit(report, reference(report))


def audit(reports: tuple[SourceReport, ...]) -> tuple[SourceReport, ...]:
    """The cache-wide check: sources that cannot date themselves are measured against the rest."""
    outlier_after = _outlier_cut([i.published for r in reports for i in r.items
                                  if i.published and i.date_precision == EXACT])
    if outlier_after is None:
        return reports
    why = "more than a year after every other dated story in the cache"
    return tuple(_flag_future(r, outlier_after + GRACE, why) if reference(r) is None and r.items else r
                 for r in reports)


def reference(report: SourceReport) -> tuple[datetime, str] | None:
    """The latest moment the source itself says it existed, and how we know."""
    if report.fetched:
        return report.fetched, f"after the file was fetched ({report.fetched:%Y-%m-%d})"
    if report.updated:
        return report.updated, f"after the feed was last built ({report.updated:%Y-%m-%d})"
    if report.page_date:
        end = datetime.combine(report.page_date, time.min, timezone.utc)
        return end, f"after the page date ({report.page_date:%Y-%m-%d})"
    return None


def _outlier_cut(dates: list[datetime]) -> datetime | None:
    """The newest date not separated from the one before it by more than a year."""
    dates = sorted(dates)
    while len(dates) > 1 and dates[-1] - dates[-2] > OUTLIER_GAP:
        dates.pop()
    return dates[-1] if len(dates) > 1 else None


def _audit(report: SourceReport, ref) -> SourceReport:
    if not report.items:
        return report
    problems = list(report.problems)
    items = []
    for item in report.items:
        item = _clean_fields(item)
        if len(item.content_html) > MAX_BODY_CHARS:
            problems.append(f"item “{_name(item)}” has a {len(item.content_html) / 1e6:.1f} MB body; "
                            f"kept the first {MAX_BODY_CHARS // 1_000_000} MB")
            item = replace(item, content_html=_cut_html(item.content_html, MAX_BODY_CHARS), truncated=True)
        items.append(item)
    report = replace(report, items=tuple(items), problems=tuple(problems), title=clean_line(report.title, 200))
    if ref:
        report = _flag_future(report, ref[0] + GRACE, ref[1])
    problems = list(report.problems)
    undated = [i for i in report.items if i.published is None and i.date_precision == UNKNOWN
               and not i.date_note.startswith(_FUTURE_NOTE)]
    untitled = [i for i in report.items if not i.title]
    if undated:
        relative = [i for i in undated if i.published_raw and _RELATIVE.search(i.published_raw)]
        if len(relative) == len(undated) and report.fetched is None:
            problems.append(f"{_count(undated)} only relative dates (“{relative[0].published_raw}”) and no known "
                            f"fetch time; shown as “date unknown” (set \"fetched\" in {report.file}.meta.json)")
        else:
            problems.append(f"{_count(undated)} no usable date; listed last as “date unknown”: {_titles(undated)}")
    if untitled:
        problems.append(f"{_count(untitled)} no title; shown under the first words of the text")
    return replace(report, problems=tuple(problems))


def _flag_future(report: SourceReport, limit: datetime, why: str) -> SourceReport:
    """Items dated after ``limit`` become undated, each with one warning line."""
    items, problems = [], list(report.problems)
    for item in report.items:
        if item.published and item.published > limit:
            claimed = f"{item.published:%Y-%m-%d}"
            problems.append(f"item “{_name(item)}” is dated {claimed}, {why}; shown as undated")
            item = replace(item, published=None, date_precision=UNKNOWN,
                           date_note=f"{_FUTURE_NOTE} {claimed}, {why}; shown as undated")
        items.append(item)
    return replace(report, items=tuple(items), problems=tuple(problems))


def _clean_fields(item: RawItem) -> RawItem:
    return replace(
        item,
        title=clean_line(item.title, 300),
        guid=clean_line(item.guid, 500) or None if item.guid else None,
        publisher=clean_line(item.publisher, 120) or "unknown",
        authors=tuple(dict.fromkeys(a for a in (clean_line(a, 120) for a in item.authors) if a)),
        categories=tuple(dict.fromkeys(c for c in (clean_line(c, 100) for c in item.categories) if c)),
    )


def _cut_html(fragment: str, limit: int) -> str:
    """At most ``limit`` characters, ending after a whole block when there is one (else not
    inside a tag; lxml closes what is left open)."""
    cut = fragment[:limit]
    blocks = list(_BLOCK_END.finditer(cut))
    if blocks and blocks[-1].end() > limit // 2:
        return cut[: blocks[-1].end()]
    lt = cut.rfind("<")
    return cut[:lt] if lt > cut.rfind(">") else cut


def _name(item: RawItem) -> str:
    return clean_line(item.title, 80) or (item.link or item.guid or "untitled item")


def _count(items: list) -> str:
    return f"{len(items)} item has" if len(items) == 1 else f"{len(items)} items have"


def _titles(items: list[RawItem], shown: int = 3) -> str:
    names = [f"“{_name(i)}”" for i in items[:shown]]
    more = f" and {len(items) - shown} more" if len(items) > shown else ""
    return ", ".join(names) + more

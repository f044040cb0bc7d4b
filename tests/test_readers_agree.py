"""feedparser-rs reads plain RSS 2.0 first (digest/sources/rss.py); feedparser reads the rest.
The two must give the same reports and articles on every feed we have: the seeds, the ingest
and hazard fixtures and feedparser's own sanitizer cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.normalize import to_article
from digest.sources import charset, detect, meta, rss

ROOT = Path(__file__).resolve().parent.parent
FEEDS = sorted(
    p for folder in (ROOT / "content_cache", ROOT / "tests" / "data") for p in folder.rglob("*")
    if p.is_file() and not p.name.endswith(meta.SUFFIX) and detect(p.read_bytes()) == "xml"
)


def _fast_reads(path: Path) -> bool:
    return rss._parse_fast(charset.as_utf8_xml(charset.decode(path.read_bytes()))) is not None


def test_there_are_feeds_of_every_kind():
    assert len(FEEDS) > 700
    fast = [p for p in FEEDS if _fast_reads(p)]
    assert len(fast) > 100  # the fast reader is really exercised...
    assert len(fast) < len(FEEDS)  # ...and so is the fallback (Atom, RDF, broken XML, xml:base)
    seeds = [p for p in FEEDS if p.parent == ROOT / "content_cache"]
    assert seeds and all(_fast_reads(p) for p in seeds if b'<rss version="2.0"' in p.read_bytes())


@pytest.mark.parametrize("path", FEEDS, ids=lambda p: str(p.relative_to(ROOT)))
def test_both_readers_give_the_same_report_and_articles(path):
    data, sidecar = path.read_bytes(), meta.read(path)
    slow = rss.read(path.name, data, sidecar, fast=False)
    fast = rss.read(path.name, data, sidecar, fast=True)
    # titles, links, guids, authors, categories, dates and their precision, bodies, problems
    assert fast == slow
    # equal datetimes may differ in their offset: compare the offsets too
    assert [i.published and i.published.isoformat() for i in fast.items] == \
        [i.published and i.published.isoformat() for i in slow.items]
    assert [to_article(i) for i in fast.items] == [to_article(i) for i in slow.items]

"""Classified articles → the ``Site``: one article store, groups holding keys, stable slugs."""

from __future__ import annotations

import copy
import os
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timezone
from typing import Iterable

from digest import language
from digest.config import Config
from digest.events import group as group_events
from digest.model import UNKNOWN, Article, Group, Site, SourceReport
from digest.store import without_bodies
from digest.text import fold, short_hash, slugify


def sort_key(article: Article) -> tuple:
    """Newest first, undated last, then by id: the one order used everywhere."""
    ts = article.published.timestamp() if article.published else 0.0
    return (article.published is None, -ts, article.id)


def assign_slugs(articles: list[Article], known: dict[str, str] | None = None) -> list[Article]:
    """Slug from the title. On a clash the oldest story keeps the plain slug and the others get
    a short hash of their id, so adding a new story never renames an old page. ``known`` maps
    titles to their slugs from an earlier build (transliterating 10,000 titles takes a second
    or two); it is replaced by this build's titles."""
    by_slug: dict[str, list[Article]] = defaultdict(list)
    earlier = dict(known or {})
    if known is not None:
        known.clear()
    for article in articles:
        slug = earlier.get(article.title)
        if slug is None:
            slug = slugify(article.title)
        if known is not None:
            known[article.title] = slug
        by_slug[slug].append(article)
    out = {}
    for slug, group in by_slug.items():
        group.sort(key=lambda a: (a.published is None, a.published.timestamp() if a.published else 0, a.id))
        for i, article in enumerate(group):
            out[article.id] = _with_slug(article, slug if i == 0 else f"{slug}-{short_hash(article.id)}")
    return [out[a.id] for a in articles]


def _with_slug(article: Article, slug: str) -> Article:
    """``replace(article, slug=slug)`` without running the dataclass's ``__init__`` again for
    its 23 fields (0.03 s of every build at 10,000 stories): a copy with one field set."""
    if article.slug == slug:
        return article
    made = copy.copy(article)
    object.__setattr__(made, "slug", slug)  # frozen: set once, on a copy no one else holds
    return made


def group_slugs(names: Iterable[str]) -> dict[str, str]:
    """Unique slug per group name; 'C', 'C++' and 'C#' stay three pages."""
    names = sorted(set(names), key=lambda n: (fold(n), n))
    seen: dict[str, str] = {}
    out = {}
    for name in names:
        slug = slugify(name)
        if slug in seen and seen[slug] != name:
            slug = f"{slug}-{short_hash(name)}"
        seen[slug] = name
        out[name] = slug
    return out


def build_now(articles: list[Article], reports: tuple[SourceReport, ...], environ=os.environ) -> datetime:
    """'Now' for the site: SOURCE_DATE_EPOCH when set, else the newest thing the inputs know of."""
    epoch = environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    # Future-dated items arrive undated (sources/audit.py), so they cannot move "now".
    known = [a.published for a in articles if a.published and a.date_precision != UNKNOWN]
    known += [r.fetched for r in reports if r.fetched]
    return max(known, default=datetime(1970, 1, 1, tzinfo=timezone.utc)).astimezone(timezone.utc)


def week_of(article: Article) -> str | None:
    if article.published is None or article.date_precision == UNKNOWN:
        return None
    year, week, _ = article.published.astimezone(timezone.utc).isocalendar()
    return f"{year}-W{week:02d}"


def build_site(articles: list[Article], reports: tuple[SourceReport, ...], config: Config,
               environ=os.environ, slugs: dict[str, str] | None = None, bodies=None) -> Site:
    """The model. ``bodies`` is the store holding the articles' bodies (None: they carry them)."""
    articles = assign_slugs(articles, slugs)
    ordered = sorted(articles, key=sort_key)
    store = {a.id: a for a in ordered}
    order = tuple(a.id for a in ordered)

    def groups(kind: str, names_of, names_order=None, describe=None) -> tuple[Group, ...]:
        members: dict[str, list[str]] = defaultdict(list)
        for article in ordered:
            for name in names_of(article):
                members[name].append(article.id)
        names = list(names_order) if names_order is not None else list(members)
        slugs = group_slugs(names)
        return tuple(
            Group(kind=kind, name=n, slug=slugs[n], keys=tuple(members.get(n, ())),
                  description=describe(n) if describe else "")
            for n in names
        )

    profiles = {r.profile.name: r.profile for r in reports if r.profile}
    countries = groups("country", lambda a: a.countries, config.country_names)
    tags = groups("tag", lambda a: a.tags)
    tags = tuple(sorted(tags, key=lambda g: (-len(g.keys), fold(g.name), g.name)))
    authors = tuple(
        replace(g, profile=profiles.get(g.name))
        for g in sorted(groups("author", lambda a: a.authors), key=lambda g: (fold(g.name), g.name))
    )
    weeks = groups("week", lambda a: [w] if (w := week_of(a)) else [])
    weeks = tuple(sorted(
        (replace(g, slug=g.name.lower()) for g in weeks), key=lambda g: g.name, reverse=True
    ))
    codes = language.languages_of(ordered)
    # Browsing by language means something only with two or more; a one-language site has none.
    languages = tuple(
        Group(kind="language", name=language.display_name(code), slug=code,
              keys=tuple(a.id for a in ordered if a.language == code))
        for code in codes
    ) if len(codes) > 1 else ()
    rates = _latest_rates(reports)
    problems = tuple(f"{r.file}: {p}" for r in reports for p in r.problems)
    events, unmatched = group_events(ordered, {c.name: c.places for c in config.countries}, config.events)
    return Site(
        articles=store, order=order, countries=countries, tags=tags, authors=authors, weeks=weeks,
        sources=tuple(without_bodies(r) for r in reports), rates=rates, now=build_now(ordered, reports, environ),
        problems=problems + unmatched, events=events, languages=languages, bodies=bodies,
    )


def _latest_rates(reports):
    """The newest ticker among the scrapes, by fetch time or page date; undated ones rank last."""
    def when(report) -> datetime:
        if report.fetched:
            return report.fetched
        if report.page_date:
            return datetime.combine(report.page_date, datetime.min.time(), timezone.utc)
        return datetime.min.replace(tzinfo=timezone.utc)

    tickers = sorted((r for r in reports if r.rates), key=lambda r: (when(r), r.file))
    return tickers[-1].rates if tickers else ()

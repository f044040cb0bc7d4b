"""The data that flows through the pipeline: plain frozen dataclasses, no behaviour that renders.

sources yield ``RawItem``s inside a ``SourceReport``; normalize turns them into ``Article``s;
classify fills in countries, tags and authors; site groups article *keys* (never copies).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Mapping

EXACT = "exact"
APPROXIMATE = "approximate"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class ExchangeRate:
    pair: str  # "KGS/USD"
    base: str
    quote: str
    rate: str  # kept as printed: "0.01144"
    change: str  # kept as printed: "-0%"
    source: str  # cache file it came from
    as_of: date | None = None  # the page date when the scrape has one


@dataclass(frozen=True)
class AuthorProfile:
    name: str
    role: str = ""
    bio: str = ""
    source: str = ""


@dataclass(frozen=True)
class RawItem:
    """One story as a reader found it, before any cleaning."""

    source: str  # cache file name
    publisher: str
    title: str  # plain text as given (entities decoded once)
    link: str | None = None
    guid: str | None = None
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    published: datetime | None = None
    published_raw: str | None = None
    date_precision: str = UNKNOWN
    date_note: str = ""  # why the date is what it is, for readers ("on or before …")
    content_html: str = ""  # full body (HTML); text scrapes give escaped paragraphs
    base_url: str | None = None  # for resolving relative links in the body
    truncated: bool = False  # the source only gave a teaser
    language: str = ""  # as the item (else its feed) declares it, raw; digest/language.py decides
    # Set when content_html was emptied to keep the report light (parsecache.py): the key of
    # the body it held (store.body_key), so items that differ only in their body still differ.
    content_digest: str = ""


@dataclass(frozen=True)
class SourceReport:
    """Everything one cache file gave us, and what went wrong with it."""

    file: str
    format: str  # "rss", "atom", "rdf", "jsonfeed", "timesca-author", "timesca-listing", "unknown"
    title: str = ""
    link: str | None = None
    items: tuple[RawItem, ...] = ()
    problems: tuple[str, ...] = ()  # one line each; non-empty means something was skipped
    rates: tuple[ExchangeRate, ...] = ()
    profile: AuthorProfile | None = None
    page_date: date | None = None
    fetched: datetime | None = None  # from the metadata sidecar, when there is one
    version: str = ""  # human label of the exact format: "RSS 2.0", "Atom 0.3", "JSON Feed 1.1"
    encoding: str = ""  # how the bytes were decoded: "utf-8", "windows-1251 (detected)"
    updated: datetime | None = None  # the feed's own build date (lastBuildDate, Atom updated)
    url: str | None = None  # where the file was fetched from (metadata sidecar)


@dataclass(frozen=True)
class Article:
    id: str
    slug: str
    title: str
    source_url: str | None
    publisher: str
    authors: tuple[str, ...]
    tags: tuple[str, ...]
    countries: tuple[str, ...]
    published: datetime | None
    date_precision: str
    date_note: str
    body_html: str
    excerpt: str
    sources: tuple[str, ...]
    truncated: bool = False
    country_reasons: tuple[tuple[str, str], ...] = ()  # (country, why)
    categories: tuple[str, ...] = ()  # raw feed categories, kept for the record
    word_count: int = 0
    language: str = ""  # BCP 47 primary tag (digest/language.py)
    # The body lives in the body store (store.py) under body_key; the model's articles have
    # body_html '' (an article made by hand, e.g. in a test, may still carry it). What readers
    # of the model need from the body is kept here: its size (dedupe keeps the longer), its
    # first image (link previews) and the plain text of its opening (events.py).
    body_key: str = ""
    body_size: int = 0
    image: str | None = None
    lead: str = ""


@dataclass(frozen=True)
class Group:
    """A country, tag, author or week: a name and the keys of its articles, newest first."""

    kind: str  # "country" | "tag" | "author" | "week"
    name: str
    slug: str
    keys: tuple[str, ...]
    description: str = ""
    profile: AuthorProfile | None = None


@dataclass(frozen=True)
class Site:
    articles: dict[str, Article]  # id -> article
    order: tuple[str, ...]  # ids, newest first then by id
    countries: tuple[Group, ...]
    tags: tuple[Group, ...]
    authors: tuple[Group, ...]
    weeks: tuple[Group, ...]  # newest first
    sources: tuple[SourceReport, ...]
    rates: tuple[ExchangeRate, ...]
    now: datetime  # from SOURCE_DATE_EPOCH or the newest input, never the wall clock
    problems: tuple[str, ...] = field(default=())
    events: Mapping[str, Any] = field(default_factory=dict)  # id -> events.Event, for stories other outlets covered too
    languages: tuple[Group, ...] = ()  # most stories first; none for a site in one language
    # store.Bodies holding the articles' bodies (None: the articles carry them). Not compared:
    # the articles' body_key (a hash of the body) already says which body each one has.
    bodies: Any = field(default=None, compare=False, repr=False)

    def body(self, key: str) -> str:
        """The body of the article ``key``: its own (an article made by hand), else the store's."""
        article = self.articles[key]
        if article.body_html or self.bodies is None:
            return article.body_html
        return self.bodies.get(article.body_key)

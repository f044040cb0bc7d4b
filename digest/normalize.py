"""Raw items → articles: clean bodies, honest dates, canonical URLs, one article per story."""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from digest import language
from digest.body import clean_body
from digest.model import Article, RawItem, SourceReport
from digest.store import body_key
from digest.text import EXCERPT_LIMIT, clean_line, excerpt, first_image, fold, opening, plain, short_hash, slugify, squash

LEAD_CHARS = 400  # of a body's opening kept in the model (events.py reads no more)
_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|dclid|mc_cid|mc_eid|yclid|_ga|ref|ref_src|cmpid)$", re.I)
# Bylines and photo credits at the end of a body are not what a listing's excerpt should say.
_CREDIT = re.compile(r"^(credits?\s*:|written by|translated|edited by|interview by|originally written)", re.I)


def canonical_url(url: str | None) -> str | None:
    """One spelling per URL: lower-case scheme and host, no default port, fragment,
    tracking parameters or trailing slash."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    port = parts.port if parts.port not in (None, 80, 443) else None
    netloc = f"{host}:{port}" if port else host
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)])
    path = parts.path.rstrip("/") if parts.path not in ("", "/") else ""
    return urlunsplit((parts.scheme.lower(), netloc, path, query, ""))


def _pieces(body: str):
    """``re.split(r"(?<=</p>)", body)``, lazily."""
    start = 0
    while True:
        end = body.find("</p>", start)
        if end < 0:
            yield body[start:]
            return
        yield body[start:end + 4]
        start = end + 4


def _summary(body: str) -> str:
    """The plain text of the body's paragraphs without credit lines, joined by spaces — or, once
    that is longer than an excerpt, a beginning of it that gives the same ``excerpt()`` (squash()
    of a prefix is a prefix of squash() of the whole, and the excerpt reads only its start)."""
    parts: list[str] = []
    size = 0
    for piece in _pieces(body):
        text = plain(piece)
        if _CREDIT.match(text):
            continue
        parts.append(text)
        size += len(text) + 1
        if size > EXCERPT_LIMIT + 1 and len(squash(" ".join(parts))) > EXCERPT_LIMIT:
            break
    return " ".join(parts)


def title_id(title: str) -> str:
    """Stable id of an item with no guid or link (text scrapes): a slug of its title."""
    return slugify(title, max_length=0) if title else "untitled"


def to_article(item: RawItem) -> Article:
    body = clean_body(item.content_html, title=item.title, base_url=item.base_url)
    text = plain(body)
    # An untitled item is shown under its first words (a page of "Untitled" helps nobody).
    title = item.title or clean_line(text, 80) or f"Untitled story from {item.publisher}"
    summary = _summary(body)  # bylines are no summary
    link = canonical_url(item.link)
    if item.guid or link:
        ident = item.guid or link
    elif item.title:
        ident = title_id(item.title)
    else:  # nothing names it: its content does, so the same untitled item twice is still one
        ident = f"untitled-{short_hash(item.publisher + '|' + item.content_html + '|' + str(item.published), 10)}"
    return Article(
        id=ident,
        slug="",
        title=title,
        source_url=item.link if link else None,
        publisher=item.publisher,
        authors=item.authors,
        tags=(),
        countries=(),
        published=item.published,
        date_precision=item.date_precision,
        date_note=item.date_note,
        body_html=body,
        excerpt=excerpt(summary or text),
        sources=(item.source,),
        truncated=item.truncated,
        categories=item.categories,
        word_count=text.count(" ") + 1 if text else 0,  # plain() leaves single spaces between words
        # declared, else detected; '' (unsure) takes the feed's configured or the site's later
        language=language.normalize_tag(item.language) or language.detect(f"{title}.\n{text}"),
        body_key=body_key(body),
        body_size=len(body),
        image=first_image(body),
        lead=opening(body, LEAD_CHARS),
    )


def dedupe_keys(article: Article) -> list[str]:
    keys = [f"id:{article.id}"]
    link = canonical_url(article.source_url)
    if link:  # http:// and https:// spellings of one page are one story
        keys.append(f"url:{link.split('://', 1)[1]}")
    if article.id.startswith("untitled-"):
        return keys  # its title was made from its text; only the text (in the id) can match it
    day = article.published.date().isoformat() if article.published and article.date_precision == "exact" else "-"
    keys.append(f"title:{fold(article.publisher)}|{fold(article.title)}|{day}")
    return keys


def merge(first: Article, other: Article) -> Article:
    """The same story seen again: keep the first copy, remember every source and label."""
    def union(a, b):
        return tuple(dict.fromkeys(a + b))

    # The longer body wins, with what was taken from it (the model holds sizes, not bodies)
    longer = first if _size(first) >= _size(other) else other
    return replace(
        first,
        sources=union(first.sources, other.sources),
        categories=union(first.categories, other.categories),
        authors=union(first.authors, other.authors),
        body_html=longer.body_html, body_key=longer.body_key, body_size=longer.body_size,
        image=longer.image, lead=longer.lead,
        truncated=first.truncated and other.truncated,
        published=first.published or other.published,
    )


def _size(article: Article) -> int:
    return len(article.body_html) if article.body_html else article.body_size


def normalize(reports: tuple[SourceReport, ...], converted=None, seen_keys: set[str] | None = None) -> list[Article]:
    """Every item of every report as an article, each story once, in first-seen order.
    ``converted``, when given, is ``to_article`` of every item in order (from the parse cache).
    ``seen_keys``, when given, receives every key the stories answer to (``dedupe_keys``): stories
    added later with none of them cannot join one of these (assembly.py)."""
    by_key: dict[str, int] = {}
    articles: list[Article | None] = []
    for article in converted if converted is not None else (to_article(i) for r in reports for i in r.items):
        keys = dedupe_keys(article)
        hits = sorted({by_key[k] for k in keys if k in by_key})
        if hits:
            index = hits[0]
            merged = merge(articles[index], article)
            for extra in hits[1:]:  # this item joined two stories seen separately so far
                merged = merge(merged, articles[extra])
                articles[extra] = None
            if len(hits) > 1:  # keys that named a folded story now name the one it joined
                folded = set(hits[1:])
                by_key.update({k: index for k, v in by_key.items() if v in folded})
            articles[index] = merged
            keys += dedupe_keys(merged)  # the merged story answers to every key of its parts
        else:
            index = len(articles)
            articles.append(article)
        for k in keys:
            by_key[k] = index
    if seen_keys is not None:
        seen_keys.update(by_key)
    return [a for a in articles if a is not None]

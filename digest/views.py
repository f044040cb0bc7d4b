"""Model → views: the plain dicts templates, feeds, search and the newsletter read, computed
once per build. Templates never see model objects."""

from __future__ import annotations

from digest import budget, events, urls
from digest.config import Config
from digest.model import APPROXIMATE, EXACT, Article, Group, Site
from digest.templating import format_date, week_label
from digest.text import first_image


class Html:
    """Sanitized HTML that templates output as it is (it has ``__html__``), holding the model's
    own string: ``Markup(body)`` would copy every body of the archive (about 90 MB at 10,000
    stories) only to mark it safe."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __html__(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other) -> bool:
        return isinstance(other, Html) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __reduce__(self):  # pickled (page keys, worker results) as the plain string it holds
        return (Html, (self.text,))

    def __fingerprint__(self) -> str:  # hashed as its text (fingerprint.memo_of)
        return self.text


class StoredHtml:
    """A sanitized body that stays in the body store (store.py) until a template, feed or search
    document outputs it, and is then read and dropped: the views of 10,000 stories hold keys,
    not 100 MB of bodies. Pickled (page keys) as its key, which is a hash of the body."""

    __slots__ = ("key", "store")

    def __init__(self, key: str, store):
        self.key, self.store = key, store

    def __html__(self) -> str:
        return self.store.get(self.key)

    __str__ = __html__

    def __eq__(self, other) -> bool:
        return isinstance(other, StoredHtml) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __reduce__(self):
        return (StoredHtml, (self.key, self.store))

    def __fingerprint__(self) -> str:  # hashed as its key, a hash of the body: no body is read
        return self.key


def body_view(article: Article, bodies) -> Html | StoredHtml:
    if article.body_html or bodies is None:
        return Html(article.body_html)
    if bodies.in_memory:  # kept in memory anyway: no need to look it up late
        return Html(bodies.get(article.body_key))
    return StoredHtml(article.body_key, bodies)


def group_path(group: Group) -> str:
    return urls.group(group.kind, group.slug)


def article_view(article: Article, site: Site, group_paths: dict[tuple[str, str], str]) -> dict:
    """Everything a template needs to show an article, computed once per build."""
    if article.date_precision == EXACT:
        date_label = format_date(article.published)
    elif article.date_precision == APPROXIMATE:
        date_label = f"c. {format_date(article.published)}"
    else:
        date_label = "Date unknown"
    return {
        "id": article.id,
        "path": urls.article(article.slug),
        "title": article.title,
        "excerpt": article.excerpt,
        "body_html": body_view(article, site.bodies),
        "publisher": article.publisher,
        "source_url": article.source_url,
        "published": article.published,
        "iso": article.published.isoformat() if article.published else "",
        "date_label": date_label,
        "date_precision": article.date_precision,
        "date_note": article.date_note,
        "authors": [{"name": n, "path": group_paths[("author", n)]} for n in article.authors],
        "countries": [{"name": n, "path": group_paths[("country", n)]} for n in article.countries],
        "country_reasons": [{"name": n, "why": why} for n, why in article.country_reasons],
        "tags": [{"name": n, "path": group_paths[("tag", n)]} for n in article.tags],
        "truncated": article.truncated,
        "reading_minutes": max(1, round(article.word_count / 230)),
        "sources": list(article.sources),
        "language": article.language,
        "image": first_image(article.body_html) if article.body_html else article.image,
        # The event is part of the view, so a page re-renders when its event changes.
        "event": site.events[article.id].id if article.id in site.events else None,
        "also": events.others(site.events, site.articles, article.id),
        "archived": False,  # budget.archived: the body is at the publisher only
    }


def article_views(site: Site, full_text_weeks: int = 0) -> dict[str, dict]:
    """Every article's view; with ``full_text_weeks``, stories older than that many weeks
    (before ``site.now``) are archived: their page, search entry and feed entry carry the
    summary instead of the body (budget.py)."""
    groups = site.countries + site.tags + site.authors + site.weeks
    group_paths = {(g.kind, g.name): group_path(g) for g in groups}
    since = budget.full_text_since(site.now, full_text_weeks)
    views = {}
    for key in site.order:
        view = article_view(site.articles[key], site, group_paths)
        views[key] = view if budget.keeps_full_text(site.articles[key], since) else budget.archived(view)
    return views


def news_article(view: dict, config: Config) -> dict:
    """schema.org NewsArticle for search engines (JSON-LD): what the page's other metadata does
    not already say. The description is <meta name="description">, the tags article:tag, the
    language <html lang>, the canonical copy <link rel="canonical">."""
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": view["title"][:110],
        "url": urls.absolute(config.base_url, view["path"]),
        "publisher": {"@type": "Organization", "name": view["publisher"]},
        "author": [{"@type": "Person", "name": a["name"]} for a in view["authors"]]
        or [{"@type": "Organization", "name": view["publisher"]}],
    }
    if view["published"] is not None and view["date_precision"] == EXACT:
        ld["datePublished"] = view["iso"]
    if view["image"]:
        ld["image"] = [view["image"]]
    return ld


def edition_view(week: Group, site: Site, views: dict) -> dict:
    """The week's stories grouped by country, each story once: under its country, or under
    "Across the region" when it is about three or more."""
    sections: dict[str, list[dict]] = {c.name: [] for c in site.countries}
    region: list[dict] = []
    shown = events.collapse(week.keys, site.events)  # an event once, led by its earliest story
    for key in shown:
        countries = site.articles[key].countries
        if len(countries) == 1 or len(countries) == 2:
            sections[countries[0]].append(views[key])
        else:
            region.append(views[key])
    out = [{"name": c.name, "path": group_path(c), "articles": sections[c.name]}
           for c in site.countries if sections[c.name]]
    if region:
        out.append({"name": "Across the region", "path": None, "articles": region})
    return {"label": week_label(week.name), "path": group_path(week), "count": len(week.keys),
            "events": len(shown), "countries": out}


def source_view(report) -> dict:
    """One row of /sources/: what the file is, what it gave, and what went wrong with it."""
    dated = [i for i in report.items if i.published]
    newest = max(dated, key=lambda i: i.published) if dated else None

    def web(url):  # only http(s) becomes a link; a feed's javascript: "link" stays text
        return url if isinstance(url, str) and url.lower().startswith(("http://", "https://")) else None

    return {
        "file": report.file, "format": report.format, "version": getattr(report, "version", "") or report.format,
        "encoding": getattr(report, "encoding", ""), "title": report.title, "link": web(report.link),
        "url": web(getattr(report, "url", None)),
        "item_count": len(report.items), "newest": newest.published if newest else None,
        "newest_approximate": bool(newest and newest.date_precision != EXACT),
        "undated": len(report.items) - len(dated),
        "fetched": report.fetched, "updated": getattr(report, "updated", None),
        "skipped": report.format == "unknown", "problems": list(report.problems),
        "rates": len(report.rates),
    }

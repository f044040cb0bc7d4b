"""Site model → files. Templates get plain dicts (views), never model objects.

Templates are looked up in the site's own ``templates/`` first and the built-in ones last,
so an editor overrides any single template by dropping a file of the same name in theirs.
"""

from __future__ import annotations

import hashlib
import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from html import unescape
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup, escape

from digest import charts, events, feeds, fingerprint, search, urls, workers
from digest.config import Config
from digest.model import APPROXIMATE, EXACT, Article, Group, Site
from digest.newsletter import iter_edition_files
from digest.parsecache import code_version
from digest.write import KEEP

BUILTIN_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
BUILTIN_STATIC = Path(__file__).resolve().parent.parent / "static"
SECTIONS = {"country": "countries", "tag": "tags", "author": "authors", "week": "weeks"}
FEED_ITEMS = 20
PARALLEL_PAGES = 1000  # below this, forking workers costs more than it saves
PAGE_BATCH = 250  # pages per piece handed to a worker: what one result holds in transit
_IMG_SRC = re.compile(r'<img\b[^>]*?\ssrc="(https?://[^"]+)"')


def make_env(config: Config) -> jinja2.Environment:
    dirs = [config.path(config.templates_dir)]
    if BUILTIN_TEMPLATES.resolve() not in [d.resolve() for d in dirs if d.exists()]:
        dirs.append(BUILTIN_TEMPLATES)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in dirs]),
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["date"] = format_date
    env.filters["number"] = lambda n: f"{n:,}"
    return env


def format_date(value: datetime | None, style: str = "long") -> str:
    if value is None:
        return ""
    if style == "short":
        return f"{value.day} {value:%b %Y}"
    return f"{value.day} {value:%B %Y}"


def group_path(group: Group) -> str:
    return f"{SECTIONS[group.kind]}/{group.slug}/"


@dataclass(frozen=True)
class Page:
    path: str  # site path: "" (home), "articles/x/", "404.html"
    template: str
    context: dict


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
        "path": f"articles/{article.slug}/",
        "title": article.title,
        "excerpt": article.excerpt,
        "body_html": Markup(article.body_html),
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
        "image": _first_image(article.body_html),
        # The event is part of the view, so a page re-renders when its event changes.
        "event": site.events[article.id].id if article.id in site.events else None,
        "also": events.others(site.events, site.articles, article.id),
    }


def _first_image(body_html: str) -> str | None:
    """The first absolute http(s) image in the (sanitized) body, for link previews."""
    match = _IMG_SRC.search(body_html)
    return unescape(match.group(1)) if match else None


def article_views(site: Site) -> dict[str, dict]:
    groups = site.countries + site.tags + site.authors + site.weeks
    group_paths = {(g.kind, g.name): group_path(g) for g in groups}
    return {key: article_view(site.articles[key], site, group_paths) for key in site.order}


def build_pages(site: Site, config: Config, views: dict[str, dict]) -> list[Page]:
    """Every HTML page of the site, with its context. Gathering is separate from rendering."""
    all_groups = site.countries + site.tags + site.authors + site.weeks
    group_paths = {(g.kind, g.name): group_path(g) for g in all_groups}
    latest_week = site.weeks[0] if site.weeks else None
    pages: list[Page] = []

    coverage = [{"name": g.name, "path": group_path(g), "count": len(g.keys)} for g in site.countries]
    edition = _edition(latest_week, site, views) if latest_week else None
    in_edition = set(latest_week.keys) if latest_week else set()
    week_counts = {g.name: len(g.keys) for g in site.weeks}
    siblings = _week_siblings(site.weeks)
    pages.append(Page("", "index.html", {
        "edition": edition,
        "latest": [views[k] for k in events.latest(site.order, site.events, in_edition, 12)],
        "coverage": coverage,
        "coverage_chart": _country_chart(site, "home-countries"),
        "weeks_chart": charts.column_chart(
            charts.week_bars(week_counts, latest_week.name, 12), chart_id="home-weeks",
            title="Stories per week, last 12 weeks", width=320, height=120, tick_every=3,
        ) if latest_week else None,
        "rates": [r.__dict__ for r in site.rates],
        "rates_source": site.rates[0].source if site.rates else "",
        "total": len(site.order),
        "now": site.now,
        "feed": "feed.xml",
    }))

    by_name = {g.kind + g.name: g for g in all_groups}
    positions: dict[str, dict[str, int]] = {}
    for key in site.order:
        view = views[key]
        article = site.articles[key]
        more = []
        for kind, names in (("country", article.countries), ("tag", article.tags)):
            for name in names[:2]:
                others = [views[k] for k in _around(by_name[kind + name], key, positions)]
                if others:
                    more.append({"label": name, "path": group_paths[(kind, name)], "articles": others})
        pages.append(Page(view["path"], "article.html", {"article": view, "more": more[:3],
                                                         "ld": _news_article(view, config)}))

    for kind, groups, title, blurb in (
        ("country", site.countries, "Countries", "Stories filed under each of the five republics."),
        ("tag", site.tags, "Tags", "Every topic, from the feeds' own categories, with spelling variants merged."),
        ("author", site.authors, "Authors", "Everyone credited with a story, by name."),
        ("week", site.weeks, "Weekly editions", "Every week with stories, newest first."),
    ):
        section = SECTIONS[kind]
        chart = None
        if kind == "country":
            chart = _country_chart(site, "countries")
        elif kind == "week" and site.weeks:
            chart = charts.column_chart(charts.week_bars(week_counts, site.weeks[0].name, 52),
                                        chart_id="weeks", title="Stories per week, last 52 weeks",
                                        width=720, height=200, tick_every=8)
        pages.append(Page(f"{section}/", "groups.html", {
            "kind": kind, "title": title, "blurb": blurb, "chart": chart,
            "groups": [{"name": g.name, "path": group_path(g), "count": len(g.keys),
                        "label": _week_label(g.name, short=True) if kind == "week" else g.name,
                        "year": g.name[:4] if kind == "week" else ""} for g in groups],
        }))
        for group in groups:
            pages.extend(_group_pages(group, views, config, site, siblings.get(group.name) if kind == "week" else None))

    pages.append(Page("sources/", "sources.html", {"sources": [_source_view(r) for r in site.sources]}))
    pages.append(Page("search/", "search.html", {"total": len(site.order)}))
    pages.append(Page("404.html", "404.html", {}))
    return pages


def _around(group: Group, key: str, positions: dict[str, dict[str, int]], count: int = 3) -> list[str]:
    """The ``count`` stories of ``group`` published nearest to ``key``: the next newer one and
    the older ones after it (all older for the newest). Only the neighbours, not the group's
    newest: a new story then changes the "more from" lists of a few pages, not of every page
    of its country (and the lookup stays linear: a scan of 2,000-story countries per article
    was quadratic)."""
    index = positions.get(group.kind + group.name)
    if index is None:
        index = positions[group.kind + group.name] = {k: i for i, k in enumerate(group.keys)}
    i = index[key]
    start = max(0, min(i - 1, len(group.keys) - count - 1))
    return [k for k in group.keys[start:start + count + 1] if k != key][:count]


def _country_chart(site: Site, chart_id: str, width: int = 320):
    return charts.bar_chart([charts.Bar(g.name, len(g.keys)) for g in site.countries],
                            chart_id=chart_id, title="Stories per country", width=width)


def _news_article(view: dict, config: Config) -> dict:
    """schema.org NewsArticle for search engines and link previews (JSON-LD)."""
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": view["title"][:110],
        "description": view["excerpt"],
        "url": urls.absolute(config.base_url, view["path"]),
        "mainEntityOfPage": view["source_url"] or urls.absolute(config.base_url, view["path"]),
        "publisher": {"@type": "Organization", "name": view["publisher"]},
        "author": [{"@type": "Person", "name": a["name"]} for a in view["authors"]]
        or [{"@type": "Organization", "name": view["publisher"]}],
        "keywords": [t["name"] for t in view["tags"]],
        "about": [{"@type": "Country", "name": c["name"]} for c in view["countries"]],
        "inLanguage": config.language,
    }
    if view["published"] is not None and view["date_precision"] == EXACT:
        ld["datePublished"] = view["iso"]
    if view["image"]:
        ld["image"] = [view["image"]]
    return ld


def _edition(week: Group, site: Site, views: dict) -> dict:
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
    return {"label": _week_label(week.name), "path": group_path(week), "count": len(week.keys),
            "events": len(shown), "countries": out}



def _week_label(name: str, short: bool = False) -> str:
    year, week = name.split("-W")
    start = datetime.fromisocalendar(int(year), int(week), 1)
    end = datetime.fromisocalendar(int(year), int(week), 7)
    if short:  # under a year heading
        return f"Week {int(week)}: {start.day} {start:%b} – {end.day} {end:%b}"
    return f"Week {int(week)}, {year} ({format_date(start, 'short')} – {format_date(end, 'short')})"


def _week_siblings(weeks: tuple[Group, ...]) -> dict[str, dict]:
    """Each week's newer and older neighbours (weeks are newest first), for the archive."""
    link = lambda g: {"path": group_path(g), "label": f"Week {int(g.name[6:])}, {g.name[:4]}"}
    return {g.name: {"newer": link(weeks[i - 1]) if i > 0 else None,
                     "older": link(weeks[i + 1]) if i + 1 < len(weeks) else None}
            for i, g in enumerate(weeks)}


def _group_pages(group: Group, views: dict, config: Config, site: Site, siblings: dict | None = None) -> list[Page]:
    """A group's listing, newest first, in pages numbered from the *oldest*: page 1 holds the
    oldest ``per_page`` stories, page 2 the next, and the group's own page the newest
    ``per_page`` to ``2 × per_page - 1``. A page's stories then never change when newer stories
    arrive (only the front page does, and one archive page each time ``per_page`` more have
    come), so links to "page 37" stay true and a new feed re-renders a few pages per group
    instead of every page of it."""
    base = group_path(group)
    per_page = max(1, config.per_page)
    count = len(group.keys)
    archive = max(0, count // per_page - 1)  # full pages behind the front page
    heading = _week_label(group.name) if group.kind == "week" else group.name
    about = {"kind": group.kind, "name": group.name, "heading": heading, "count": count,
             "path": base, "section": SECTIONS[group.kind],
             "profile": group.profile.__dict__ if group.profile else None}
    stable = {k: v for k, v in about.items() if k != "count"}  # archive pages: not the running total
    common = {"group": about, "feed": f"{base}feed.xml", "feed_json": f"{base}feed.json", "siblings": siblings}
    page_path = lambda k: base if k > archive else f"{base}page/{k}/"  # noqa: E731
    pages = [Page(base, "group.html", {
        **common, "articles": [views[k] for k in group.keys[:count - archive * per_page]],
        "page": None, "span": "", "prev": None, "next": page_path(archive) if archive else None,
    })]
    for number in range(archive, 0, -1):
        start = count - number * per_page
        shown = [views[k] for k in group.keys[start:start + per_page]]
        pages.append(Page(page_path(number), "group.html", {
            **common, "group": stable, "articles": shown, "page": number, "span": _span(shown),
            "prev": page_path(number + 1), "next": page_path(number - 1) if number > 1 else None,
        }))
    return pages


def _span(shown: list[dict]) -> str:
    """The dates a page covers, oldest to newest ("3 March – 17 March 2025")."""
    dated = [v["published"] for v in shown if v["published"] is not None]
    if not dated:
        return ""
    first, last = min(dated), max(dated)
    if (first.year, first.month, first.day) == (last.year, last.month, last.day):
        return format_date(first)
    head = f"{first.day} {first:%B}" + ("" if first.year == last.year else f" {first.year}")
    return f"{head} – {format_date(last)}"


def _source_view(report) -> dict:
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


def render_pages(pages: list[Page], site: Site, config: Config, env: jinja2.Environment,
                 asset_version: str, jobs: int = 1) -> dict[str, bytes]:
    """Every page through its template; ``jobs`` > 1 renders big sites in forked workers."""
    return dict(iter_pages(pages, site, config, env, asset_version, jobs))


def iter_pages(pages: list[Page], site: Site, config: Config, env: jinja2.Environment,
               asset_version: str, jobs: int = 1, keyer: tuple | None = None) -> Iterator[tuple]:
    """``render_pages`` as ``(path, bytes)`` pairs, a batch of pages at a time, so a caller that
    writes and drops them never holds more than a few batches. With ``keyer`` (the render
    key, the views' memo and the writer's ``fresh``), each pair gains the page's key and a
    page whose key is unchanged comes as KEEP, unrendered; the workers compute the keys too."""
    common = {
        "site": {"title": config.title, "description": config.description, "language": config.language,
                 "base_url": config.base_url},
        "nav": [("", "Home"), ("countries/", "Countries"), ("tags/", "Tags"), ("authors/", "Authors"),
                ("weeks/", "Weeks"), ("sources/", "Sources"), ("search/", "Search")],
        "asset_version": asset_version,
    }
    # Compiled once here, before any worker forks, so no process compiles a template again.
    templates = {name: env.get_template(name) for name in dict.fromkeys(p.template for p in pages)}
    if len(pages) < PARALLEL_PAGES:
        jobs = 1
    cards = Cards(env)  # filled in each worker (after the fork), so each keeps its own
    for part in workers.iter_ranges(_render_range, (pages, templates, common, config.base_url, cards, keyer),
                                    len(pages), jobs, batch=PAGE_BATCH):
        if keyer is None:
            yield from ((path, data) for path, (data, _) in part.items())
        else:
            yield from ((path, data, key) for path, (data, key) in part.items())


def _render_range(pages: list[Page], templates: dict, common: dict, base_url: str, cards: "Cards",
                  keyer: tuple | None, start: int, end: int) -> dict[str, tuple]:
    out = {}
    absolute = lambda p: urls.absolute(base_url, p)  # noqa: E731 - one per range, not per page
    for page in pages[start:end]:
        file, key = urls.page_file(page.path), None
        if keyer is not None:
            render_key, memo, fresh = keyer
            key = fingerprint.of(render_key, page.path, page.template, page.context, memo=memo)
            if fresh and fresh(file, key):
                out[file] = (KEEP, key)
                continue
        link = _linker(page.path, base_url)
        html = templates[page.template].render(**common, **page.context, page_path=page.path,
                                               url=link, absolute=absolute, card_html=cards.for_page(link))
        out[file] = (html.encode("utf-8"), key)
    return out


_LINK_MARK = re.compile("\x00([^\x00\x01]*)\x01")


def _link_mark(target: str) -> str:
    return f"\x00{target}\x01"


class Cards:
    """Each article's card (the ``card`` macro of ``_macros.html``) rendered once per process,
    not once per listing it appears on (five to eight, plus "more from" lists). Its links are
    rendered as placeholders holding the target; each page fills in its own relative links,
    so the result is byte for byte what the macro gives on that page."""

    def __init__(self, env: jinja2.Environment):
        self._env = env
        self._macros = None
        self._done: dict[tuple, str] = {}

    def for_page(self, link: Callable[[str], str]) -> Callable[..., Markup]:
        def fill(match: re.Match) -> str:
            target = match.group(1)  # as the template escaped it
            return str(escape(link(unescape(target) if "&" in target else target)))

        def card_html(a: dict, heading: str = "h3", excerpt: bool = True) -> Markup:
            key = (a["path"], heading, excerpt)
            html = self._done.get(key)
            if html is None:
                if self._macros is None:
                    self._macros = self._env.get_template("_macros.html").make_module({"url": _link_mark})
                html = self._done[key] = str(self._macros.card(a, heading, excerpt))
            return Markup(_LINK_MARK.sub(fill, html))

        return card_html


def _linker(from_path: str, base_url: str) -> Callable[[str], str]:
    # GitHub Pages serves 404.html at whatever depth was asked for, so its links cannot be
    # relative: they start from the base URL's path (the project sub-path).
    if from_path == "404.html":
        root = "/" + urlsplit(base_url).path.strip("/")
        return lambda target: (root.rstrip("/") + "/" + urls.page_file(target))
    return lambda target: urls.relative(from_path, target)


PARALLEL_FEEDS = 100  # below this many feeds to write, workers cost more than they save


def iter_feed_files(site: Site, config: Config, views: dict[str, dict], keys: Callable | None = None,
                    fresh: Callable[[str, str], bool] | None = None, jobs: int = 1) -> Iterator[tuple]:
    """Atom + JSON Feed for the whole site and for every country, tag and author, as
    ``(path, bytes)`` pairs. With ``keys`` (the key of a feed's inputs) each pair gains its key,
    and a feed that ``fresh`` says is unchanged comes as KEEP. ``jobs`` > 1 writes many feeds in
    forked workers (full-text feeds are megabytes of XML and JSON)."""
    targets = [("", config.title, site.order)] + [
        (group_path(g), f"{g.name} — {config.title}", g.keys)
        for g in site.countries + site.tags + site.authors
    ]
    todo = []
    for base, title, keys_ in targets:
        shown = keys_[:FEED_ITEMS]
        # A feed is as new as its newest story (not the build), so it changes only with them.
        updated = max((views[k]["published"] for k in shown if views[k]["published"]), default=site.now)
        key = keys(base, title, updated, [views[k] for k in shown]) if keys else None
        if fresh and key and fresh(f"{base}feed.xml", key) and fresh(f"{base}feed.json", key):
            yield f"{base}feed.xml", KEEP, key
            yield f"{base}feed.json", KEEP, key
            continue
        todo.append((base, title, updated, shown, key))
    jobs = jobs if len(todo) >= PARALLEL_FEEDS else 1
    for part in workers.iter_ranges(_feed_range, (todo, views, config), len(todo), jobs, batch=25):
        for path, data, key in part:
            yield (path, data) if keys is None else (path, data, key)


def _feed_range(todo: list, views: dict[str, dict], config: Config, start: int, end: int) -> list[tuple]:
    out = []
    for base, title, updated, shown, key in todo[start:end]:
        entries = []
        for k in shown:
            view = dict(views[k])
            view["link"] = urls.absolute(config.base_url, view["path"])
            view["tags"] = [t["name"] for t in view["tags"]]
            view["countries"] = [c["name"] for c in view["countries"]]
            view["authors"] = [a["name"] for a in view["authors"]]
            view["body_html"] = str(view["body_html"])
            entries.append(view)
        page_url = urls.absolute(config.base_url, base)
        atom = feeds.atom(title=title, feed_url=urls.absolute(config.base_url, f"{base}feed.xml"),
                          page_url=page_url, updated=updated, entries=entries)
        json_ = feeds.json_feed(title=title, feed_url=urls.absolute(config.base_url, f"{base}feed.json"),
                                page_url=page_url, description=config.description, entries=entries)
        out += [(f"{base}feed.xml", atom, key), (f"{base}feed.json", json_, key)]
    return out


def catalog(site: Site) -> bytes:
    """``articles.json``: the data contract in ARCHITECTURE.md, newest first then by id."""
    rows = []
    for key in site.order:
        a = site.articles[key]
        rows.append({
            "id": a.id,
            "title": a.title,
            "url": f"articles/{a.slug}/",
            "source_url": a.source_url,
            "authors": list(a.authors),
            "tags": list(a.tags),
            "countries": list(a.countries),
            "published": a.published.isoformat() if a.published else None,
            "date_precision": a.date_precision,
            "date_note": a.date_note or None,
            "country_reasons": {c: why for c, why in a.country_reasons},
            "publisher": a.publisher,
            "sources": list(a.sources),
            "event": site.events[a.id].id if a.id in site.events else None,
        })
    return (json.dumps({"articles": rows}, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def sitemap(pages: list[Page], config: Config) -> bytes:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for page in sorted(pages, key=lambda p: p.path):
        if page.path == "404.html":
            continue
        loc = urls.absolute(config.base_url, page.path).replace("&", "&amp;")
        lines.append(f"  <url><loc>{loc}</loc></url>")
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def static_files(config: Config) -> dict[str, bytes]:
    """Built-in static files, overlaid by the site's own ``static/``, under ``static/``."""
    out: dict[str, bytes] = {}
    for folder in (BUILTIN_STATIC, config.path(config.static_dir)):
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not path.name.startswith("."):
                    out["static/" + path.relative_to(folder).as_posix()] = path.read_bytes()
    return out


def asset_version(static: dict[str, bytes]) -> str:
    """A content hash for cache-busting the stylesheet: changes only when static files do."""
    digest = hashlib.sha1()
    for path in sorted(static):
        digest.update(path.encode())
        digest.update(static[path])
    return digest.hexdigest()[:10]


def render_site(site: Site, config: Config, jobs: int = 1, cache=None) -> dict[str, bytes]:
    """Every file of the site, in memory: pages, feeds, catalog, sitemap and static assets.
    ``cache`` (a ParseCache) lets an unchanged search index be reused."""
    return {path: data for path, data, _ in iter_site(site, config, jobs, cache)}


def iter_site(site: Site, config: Config, jobs: int = 1, cache=None,
              fresh: Callable[[str, str], bool] | None = None) -> Iterator[tuple[str, bytes | None, str | None]]:
    """``render_site`` as a stream of ``(path, bytes, key)``, each produced when it is needed
    (pages a batch at a time), for a writer that stores and drops them. Every path comes once.

    ``key`` names everything the file is made from (code, config, templates, static files and
    its own data; see fingerprint.py). With ``fresh(path, key)`` (the writer's knowledge of
    ``dist/``), a page, feed or newsletter whose key is unchanged is not rendered at all and
    comes as ``KEEP`` instead of bytes: after a new feed, only the pages it touches are made."""
    env = make_env(config)
    static = static_files(config)
    version = asset_version(static)
    views = article_views(site)
    # Pagefind runs as its own process on the titles and bodies, beside all the rendering; it
    # starts first because after a new feed it is the longest single piece of work.
    with ThreadPoolExecutor(max_workers=1) as side:
        index = side.submit(search.cached_index, search.documents(views, config.language), config.language, cache)
        try:
            pages = build_pages(site, config, views)
            memo = fingerprint.memo_of(views.values())
            code = cache.version if cache is not None else code_version()
            content_key = fingerprint.of(code, repr(config))
            render_key = fingerprint.of(content_key, fingerprint.of_files(Path(d) for d in env.loader.searchpath),
                                        version)
            yield from iter_pages(pages, site, config, env, version, jobs, keyer=(render_key, memo, fresh))
            yield from iter_edition_files(
                site, config, env, views, fresh=fresh, jobs=jobs,
                keys=lambda week, picks: fingerprint.of(render_key, "edition", week.name, repr(picks),
                                                         [views[k] for k in week.keys], memo=memo))
            yield from iter_feed_files(
                site, config, views, fresh=fresh, jobs=jobs,
                keys=lambda base, title, updated, shown: fingerprint.of(content_key, "feed", base, title, updated,
                                                                        shown, memo=memo))
            index_files = index.result()
        except BaseException:
            index.cancel()
            raise
        for path, data in index_files.items():
            yield path, data, None
        del index_files
    for path, data in static.items():
        yield path, data, None
    yield "articles.json", catalog(site), None
    yield "sitemap.xml", sitemap(pages, config), None
    robots = f"User-agent: *\nAllow: /\nSitemap: {urls.absolute(config.base_url, 'sitemap.xml')}\n"
    yield "robots.txt", robots.encode(), None
    yield ".nojekyll", b"", None

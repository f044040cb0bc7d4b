"""The HTML pages of the site: gathered (path, template, context) first, then rendered, a batch at
a time, in forked workers when there are many."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable, Iterator

import jinja2

from digest import budget, charts, events, fingerprint, language, templating, urls, workers
from digest.artifact import Artifact, Output, Staged, Unchanged
from digest.cardstore import CardStore
from digest.config import Config
from digest.model import Group, Site
from digest.templating import Cards, format_date, linker, week_label
from digest.views import edition_view, group_path, news_article, source_view

PARALLEL_PAGES = 1000  # below this, forking workers costs more than it saves
PAGE_BATCH = 250  # pages per piece handed to a worker: what one result holds in transit
MORE = 5  # stories in an article page's "more from" list


@dataclass(frozen=True)
class Page:
    path: str  # site path: "" (home), "articles/x/", "404.html"
    template: str
    context: dict
    # More of the context, made only when the page is rendered, from the context and the config
    # alone, so the page's key need not name it (an article's JSON-LD, from its view: keying
    # and making it for every page was a fifth of gathering them and of keying them).
    late: Callable[[], dict] | None = None


def build_pages(site: Site, config: Config, views: dict[str, dict]) -> list[Page]:
    """Every HTML page of the site, with its context. Gathering is separate from rendering."""
    all_groups = site.countries + site.tags + site.authors + site.weeks
    group_paths = {(g.kind, g.name): group_path(g) for g in all_groups}
    latest_week = site.weeks[0] if site.weeks else None
    pages: list[Page] = []

    coverage = [{"name": g.name, "path": group_path(g), "count": len(g.keys)} for g in site.countries]
    edition = edition_view(latest_week, site, views) if latest_week else None
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
        more, shown = [], {key}
        for kind, names in (("country", article.countries), ("tag", article.tags)):
            for name in names[:2]:
                # MORE stories in all, each once, from the first group that has them (the
                # story's first country, as a rule): one list of five reads better than three
                # of three, most of them the same country's, and costs half the bytes.
                want = MORE - len(shown) + 1
                if want <= 0:
                    break
                near = [k for k in _around(by_name[kind + name], key, positions, want + len(shown) - 1)
                        if k not in shown][:want]
                shown.update(near)
                if near:
                    more.append({"label": name, "path": group_paths[(kind, name)], "articles": [views[k] for k in near]})
        pages.append(Page(view["path"], "article.html", {"article": view, "more": more,
                                                         "page_language": view["language"]},
                          late=partial(_linked_data, view, config)))

    for kind, groups, title, blurb in (
        ("country", site.countries, "Countries", "Stories filed under each of the five republics."),
        ("tag", site.tags, "Tags", "Every topic, from the feeds' own categories, with spelling variants merged."),
        ("author", site.authors, "Authors", "Everyone credited with a story, by name."),
        ("week", site.weeks, "Weekly editions", "Every week with stories, newest first."),
        ("language", site.languages, "Languages", "Stories by the language they are written in."),
    ):
        if kind == "language" and not groups:
            continue  # a site in one language has no language pages (site.languages)
        chart = None
        if kind == "country":
            chart = _country_chart(site, "countries")
        elif kind == "week" and site.weeks:
            chart = charts.column_chart(charts.week_bars(week_counts, site.weeks[0].name, 52),
                                        chart_id="weeks", title="Stories per week, last 52 weeks",
                                        width=720, height=200, tick_every=8)
        pages.append(Page(urls.section(kind), "groups.html", {
            "kind": kind, "title": title, "blurb": blurb, "chart": chart,
            "groups": [{"name": g.name, "path": group_path(g), "count": len(g.keys),
                        "label": week_label(g.name, short=True) if kind == "week" else g.name,
                        "year": g.name[:4] if kind == "week" else "",
                        **(language.label(g.slug) if kind == "language" else {})} for g in groups],
        }))
        for group in groups:
            pages.extend(_group_pages(group, views, config, site, siblings.get(group.name) if kind == "week" else None))

    pages.append(Page("sources/", "sources.html", {"sources": [source_view(r) for r in site.sources]}))
    pages.append(Page("search/", "search.html", {"total": len(site.order),
                                                 "languages": language.choices(site.articles.values())}))
    pages.append(Page("404.html", "404.html", {}))
    return pages


def _linked_data(view: dict, config: Config) -> dict:
    return {"ld": news_article(view, config)}


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
    heading = week_label(group.name) if group.kind == "week" else group.name
    about = {"kind": group.kind, "name": group.name, "heading": heading, "count": count,
             "path": base, "section": urls.SECTIONS[group.kind],
             "profile": group.profile.__dict__ if group.profile else None,
             **(language.label(group.slug) if group.kind == "language" else {})}
    stable = {k: v for k, v in about.items() if k != "count"}  # archive pages: not the running total
    atom, json_feed = urls.feed_files(base)
    common = {"group": about, "feed": atom, "feed_json": json_feed, "siblings": siblings,
              "newsletter": group.kind == "week" and budget.keeps_newsletter(
                  group.name, budget.full_text_since(site.now, config.full_text_weeks))}
    page_path = lambda k: base if k > archive else urls.listing_page(base, k)  # noqa: E731
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


def render_pages(pages: list[Page], site: Site, config: Config, env: jinja2.Environment,
                 asset_version: str, jobs: int = 1) -> dict[str, bytes]:
    """Every page through its template; ``jobs`` > 1 renders big sites in forked workers."""
    return {a.path: a.data for a in iter_pages(pages, site, config, env, asset_version, jobs)}


def iter_pages(pages: list[Page], site: Site, config: Config, env: jinja2.Environment,
               asset_version: str, jobs: int = 1, keyer: tuple | None = None,
               stage=None, card_store: CardStore | None = None,
               meanwhile: Iterator[Output] | None = None) -> Iterator[Output]:
    """``render_pages`` as artifacts, a batch of pages at a time, so a caller that writes and
    drops them never holds more than a few batches. With ``keyer`` (the key of everything
    but the templates, the views' memo and the writer's ``fresh``), each artifact carries the page's key and a page whose key
    is unchanged comes as ``Unchanged``, unrendered; the workers compute the keys too. With
    ``stage`` (stage.Stage), the workers write the pages into the writer's staging folder
    and hand back ``Staged`` receipts, not the bytes. With ``keyer`` and ``card_store``, the
    cards of the last build whose views did not change are used, not rendered (cardstore.py).
    ``meanwhile``: other files, made in this process while the workers render (workers.iter_ranges)."""
    sections = (("country", "Countries"), ("tag", "Tags"), ("author", "Authors"), ("week", "Weeks"))
    if site.languages:  # only a site in several languages has language pages
        sections += (("language", "Languages"),)
    common = {
        "site": {"title": config.title, "description": config.description, "language": config.language,
                 "base_url": config.base_url},
        "nav": [("", "Home")] + [(urls.section(kind), label) for kind, label in sections]
        + [("sources/", "Sources"), ("search/", "Search")],
        "asset_version": asset_version,
    }
    # Compiled once here, before any worker forks, so no process compiles a template again.
    templates = {name: env.get_template(name) for name in dict.fromkeys(p.template for p in pages)}
    if keyer is not None:
        # A page depends on its template, what that reaches, and the card macros (Cards); the
        # navigation is on every page but in no page's context: key it too.
        base = fingerprint.of(keyer[0], common["nav"])
        by_template = {name: fingerprint.of(base, templating.sources_key(env, (name, Cards.TEMPLATE)))
                       for name in templates}
        keyer = (by_template, *keyer[1:])
    if len(pages) < PARALLEL_PAGES:
        jobs = 1
    memo = keyer[1] if keyer is not None else None
    store = card_store if memo is not None else None
    kept = store.load() if store is not None else {}
    cards = Cards(env, kept, memo, store)  # filled in each worker (after the fork), so each keeps its own
    for part in workers.iter_ranges(_render_range, (pages, templates, common, config.base_url, cards, keyer, stage),
                                    len(pages), jobs, batch=PAGE_BATCH,
                                    meanwhile=None if meanwhile is None else ([made] for made in meanwhile)):
        yield from part
    if store is not None:
        store.fold(kept, memo.values())


def _render_range(pages: list[Page], templates: dict, common: dict, base_url: str, cards: Cards,
                  keyer: tuple | None, stage, start: int, end: int) -> list[Artifact | Unchanged | Staged]:
    out: list[Artifact | Unchanged | Staged] = []
    absolute = lambda p: urls.absolute(base_url, p)  # noqa: E731 - one per range, not per page
    shared: dict = {}  # the links the range's pages have in common (urls.relative_from)
    for page in pages[start:end]:
        file, key = urls.page_file(page.path), None
        if keyer is not None:
            by_template, memo, fresh = keyer
            key = fingerprint.of(by_template[page.template], page.path, page.template, page.context, memo=memo)
            if fresh and fresh(file, key):
                out.append(Unchanged(file, key))
                continue
        link = linker(page.path, base_url, shared)
        card_html, row_html = cards.for_page(link)
        late = page.late() if page.late is not None else {}
        html = templates[page.template].render(**common, **page.context, **late, page_path=page.path, url=link,
                                               absolute=absolute, card_html=card_html, row_html=row_html)
        data = html.encode("utf-8")
        out.append(stage.put(file, data, key) if stage is not None else Artifact(file, data, key))
    cards.flush()
    return out

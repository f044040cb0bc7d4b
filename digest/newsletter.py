"""A week's edition as a newsletter: Markdown, email-safe HTML and plain text.

The edition is gathered once (``make_edition``) and rendered three ways from templates in
``templates/newsletter/`` (overridable like every other template):

- Markdown: ``edition.md``, its text escaped by the ``md`` filters (markdown.py) exactly as
  markdownify would convert the same edition in HTML; a site that still has its own
  ``edition.html`` (the Markdown's source before) gets that converted with markdownify;
- email HTML: ``email.html`` (table layout, one ``<style>``) with the CSS inlined by
  css-inline, so no ``<style>`` or ``<script>`` is left and every link is absolute;
- plain text: ``edition.txt``.

An editor's intro and "top stories" picks come from ``newsletter/<yyyy>-w<ww>.toml`` in the
site folder (see README "Newsletter"). Nothing here reads the clock.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import quote, urlsplit

import css_inline
import jinja2
from lxml import html as lxml_html

from digest import budget, events, urls, workers
from digest.config import Config, ConfigError
from digest.model import Group, Site
from digest.artifact import Artifact, Unchanged
from digest.resources import BUILTIN_TEMPLATES
from digest.templating import make_env
from digest.views import article_views

FORMATS = {"markdown": "md", "html": "html", "text": "txt"}
EDITOR_DIR = Path("newsletter")  # relative to the site folder
IMAGE_WIDTH = 560  # the email column is 600 px with 20 px gutters
REGION = "Across the region"


class EditionFileError(ConfigError):
    """An editor's newsletter file that cannot be used; names the file and the problem."""


@dataclass(frozen=True)
class Picks:
    """What the editor wrote for one week (all optional)."""

    subject: str = ""
    intro: tuple[str, ...] = ()  # paragraphs of plain text
    top: tuple[str, ...] = ()  # article ids, publisher links or site slugs
    origin: str = ""


def week_slug(name: str) -> str:
    """'2026-W25' → '2026-w25' (the page and file name)."""
    return name.lower()


def parse_week(value: str) -> str:
    """Accept '2026-W25', '2026-w25' or '2026W25'; return '2026-W25'."""
    m = re.fullmatch(r"\s*(\d{4})-?[Ww](\d{1,2})\s*", value or "")
    if not m or not 1 <= int(m.group(2)) <= 53:
        raise ValueError(f"not an ISO week: {value!r} (expected YYYY-Www, e.g. 2026-W25)")
    return f"{m.group(1)}-W{int(m.group(2)):02d}"


def load_picks(config: Config, week: str) -> Picks:
    path = config.path(EDITOR_DIR) / f"{week_slug(week)}.toml"
    if not path.is_file():
        return Picks()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise EditionFileError(f"{path}: {exc}") from exc
    unknown = set(data) - {"subject", "intro", "top"}
    if unknown:
        raise EditionFileError(f"{path}: unknown key(s) {', '.join(sorted(unknown))} (expected subject, intro, top)")
    subject, intro, top = data.get("subject", ""), data.get("intro", ""), data.get("top", [])
    if not isinstance(subject, str) or not isinstance(intro, str):
        raise EditionFileError(f"{path}: 'subject' and 'intro' should be strings")
    if not isinstance(top, list) or not all(isinstance(t, str) for t in top):
        raise EditionFileError(f"{path}: 'top' should be a list of strings (article ids, links or slugs)")
    paragraphs = tuple(" ".join(p.split()) for p in re.split(r"\n\s*\n", intro) if p.strip())
    return Picks(subject=subject.strip(), intro=paragraphs, top=tuple(top), origin=str(path))


def _find(site: Site, keys: tuple[str, ...], pick: str) -> str | None:
    wanted = pick.strip().rstrip("/")
    for key in keys:
        a = site.articles[key]
        if wanted in (a.id.rstrip("/"), (a.source_url or "").rstrip("/"), a.slug, urls.article(a.slug).rstrip("/")):
            return key
    return None


def _image(body_html: str, title: str) -> dict | None:
    """The story's first web image, sized for the email column (alt falls back to the title)."""
    if "<img" not in body_html:
        return None
    for img in lxml_html.fragment_fromstring(body_html, create_parent="div").iter("img"):
        src = (img.get("src") or "").strip()
        if urlsplit(src).scheme not in ("http", "https"):
            continue
        height = None
        try:
            w, h = int(img.get("width", "")), int(img.get("height", ""))
            height = round(h * IMAGE_WIDTH / w) if w > 0 and h > 0 else None
        except ValueError:
            pass
        return {"src": _href(src), "alt": (img.get("alt") or "").strip() or title,
                "width": IMAGE_WIDTH, "height": height}
    return None


def make_edition(site: Site, config: Config, week: Group, views: dict[str, dict]) -> dict:
    """A week's stories as a plain dict for the templates: top picks, then by country, each
    story once (under its country, or "Across the region" when it concerns three or more)."""
    picks = load_picks(config, week.name)
    top_keys = []
    for pick in picks.top:
        key = _find(site, week.keys, pick)
        if key is None:
            continue  # a stale pick is left out; the build warns about it (digest/editorial.py)
        if key not in top_keys:
            top_keys.append(key)

    def story(key: str, with_image: bool = False) -> dict:
        view = views[key]
        article = site.articles[key]
        return {
            "title": view["title"], "url": _href(urls.absolute(config.base_url, view["path"])),
            "source_url": _href(view["source_url"]) if _is_web(view["source_url"]) else None,
            "publisher": view["publisher"], "excerpt": view["excerpt"], "date_label": view["date_label"],
            "authors": [a["name"] for a in view["authors"]], "countries": [c["name"] for c in view["countries"]],
            "image": _image(site.body(key), article.title) if with_image else None,
            "also": [{"title": o["title"], "publisher": o["publisher"], "date_label": views[o["id"]]["date_label"],
                      "url": _href(urls.absolute(config.base_url, o["path"]))} for o in view["also"]],
            # marked only where it differs from the edition's own language (the site's)
            "lang": view["language"] if view["language"] != config.language else "",
        }

    by_country: dict[str, list[dict]] = {c.name: [] for c in site.countries}
    region: list[dict] = []
    # An event once: led by the editor's top pick among its stories, else by its earliest.
    shown = events.collapse(week.keys, site.events, prefer=top_keys)
    top_events = {site.events[k].id for k in top_keys if k in site.events}
    for key in events.collapse(week.keys, site.events, prefer=top_keys, skip=top_events):
        if key in top_keys:
            continue
        countries = site.articles[key].countries
        (by_country[countries[0]] if len(countries) in (1, 2) else region).append(story(key))
    sections = [{"name": name, "stories": stories} for name, stories in by_country.items() if stories]
    if region:
        sections.append({"name": REGION, "stories": region})
    label = week_label(week.name)
    count = len(week.keys)
    return {
        "week": week.name,
        "label": label,
        "site_title": config.title,
        "language": config.language,
        "site_url": _href(urls.absolute(config.base_url, "")),
        "week_url": _href(urls.absolute(config.base_url, urls.group("week", week.slug))),
        "subject": picks.subject or f"{config.title}: {label}",
        "intro": list(picks.intro) or [f"{count} stor{'y' if count == 1 else 'ies'} from Central Asia this week"
                                        + (f", about {len(shown)} events." if len(shown) != count else ".")],
        "top": [story(k, with_image=True) for k in top_keys],
        "sections": sections,
        "count": count,
        "events": len(shown),
    }


def week_label(name: str) -> str:
    year, week = name.split("-W")
    start, end = date.fromisocalendar(int(year), int(week), 1), date.fromisocalendar(int(year), int(week), 7)
    return f"Week {int(week)}, {year} · {start.day} {start:%b} – {end.day} {end:%b %Y}"


def _is_web(url: str | None) -> bool:
    return bool(url) and urlsplit(url).scheme in ("http", "https")


def _href(url: str) -> str:
    """Percent-encode what would end a Markdown link early (spaces, parentheses, angle
    brackets) and non-ASCII; the URL means the same, and every format gets the same one."""
    return re.sub(r"%(?![0-9A-Fa-f]{2})", "%25", quote(url, safe=":/?#[]@!$&'*+,;=%-._~"))


# The template each format is rendered from.
TEMPLATES = {"markdown": "newsletter/edition.md", "html": "newsletter/email.html", "text": "newsletter/edition.txt"}
# A site's own HTML source of the Markdown, from before edition.md: converted with markdownify.
HTML_MARKDOWN = "newsletter/edition.html"


def template_names(env: jinja2.Environment) -> dict[str, str]:
    """Format → the template it is rendered from: ``TEMPLATES``, unless the site has its own
    ``edition.html`` and no ``edition.md`` of its own (then its HTML is what the Markdown is)."""
    try:
        _, html_file, _ = env.loader.get_source(env, HTML_MARKDOWN)
        _, md_file, _ = env.loader.get_source(env, TEMPLATES["markdown"])
    except jinja2.TemplateNotFound:
        return TEMPLATES
    builtin = BUILTIN_TEMPLATES.resolve()
    if Path(md_file).resolve().is_relative_to(builtin) and not Path(html_file).resolve().is_relative_to(builtin):
        return {**TEMPLATES, "markdown": HTML_MARKDOWN}
    return TEMPLATES


def render_edition(edition: dict, env: jinja2.Environment, fmt: str) -> str:
    """One format of the edition: 'markdown', 'html' (email) or 'text'."""
    if fmt == "markdown":
        name = template_names(env)["markdown"]
        text = env.get_template(name).render(edition=edition)
        if name == HTML_MARKDOWN:
            # Imported here: with BeautifulSoup it is a sixth of the package's import time.
            from markdownify import markdownify

            text = markdownify(text, heading_style="ATX", bullets="-", escape_misc=True)
        return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    if fmt == "html":
        page = env.get_template(TEMPLATES["html"]).render(edition=edition)
        return css_inline.CSSInliner(keep_style_tags=False, keep_link_tags=False, load_remote_stylesheets=False).inline(page)
    if fmt == "text":
        return re.sub(r"\n{3,}", "\n\n", env.get_template(TEMPLATES["text"]).render(edition=edition)).strip() + "\n"
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def edition_work(site: Site, config: Config, keys: Callable | None = None,
                 fresh: Callable[[str, str], bool] | None = None) -> tuple[list[Unchanged], list[tuple]]:
    """The editions' files ``fresh`` finds unchanged, and the weeks to render (``render_editions``)."""
    unchanged, todo = [], []
    since = budget.full_text_since(site.now, config.full_text_weeks)
    for week in site.weeks:
        if not budget.keeps_newsletter(week.name, since):
            continue
        names = {fmt: urls.newsletter_file(week.slug, ext) for fmt, ext in FORMATS.items()}
        key = keys(week, load_picks(config, week.name)) if keys else None
        if fresh and key and all(fresh(name, key) for name in names.values()):
            unchanged += [Unchanged(name, key) for name in names.values()]
        else:
            todo.append((week, names, key))
    return unchanged, todo


def render_editions(todo: list[tuple], site: Site, config: Config, env: jinja2.Environment, views: dict[str, dict],
                    jobs: int = 1) -> Iterator[Artifact]:
    """The files of the weeks in ``todo`` (``edition_work``), in forked workers when there are many."""
    jobs = jobs if len(todo) >= PARALLEL_WEEKS else 1
    for part in workers.iter_ranges(_edition_range, (todo, site, config, env, views), len(todo), jobs, batch=8):
        yield from part


PARALLEL_WEEKS = 20  # below this many editions to render, workers cost more than they save


def _edition_range(todo: list, site: Site, config: Config, env: jinja2.Environment, views: dict[str, dict],
                   start: int, end: int) -> list[tuple]:
    out = []
    for week, names, key in todo[start:end]:
        edition = make_edition(site, config, week, views)
        out += [Artifact(name, render_edition(edition, env, fmt).encode("utf-8"), key) for fmt, name in names.items()]
    return out


def find_week(site: Site, week: str | None) -> Group:
    """The requested week, or the latest week with stories."""
    if not site.weeks:
        raise LookupError("no week has stories yet (is the cache empty?)")
    if week is None:
        return site.weeks[0]
    name = parse_week(week)
    for group in site.weeks:
        if group.name == name:
            return group
    raise LookupError(f"week {name} has no stories; weeks with stories: "
                      + ", ".join(g.name for g in site.weeks[:8]) + (" …" if len(site.weeks) > 8 else ""))


def newsletter(site: Site, config: Config, week: str | None = None, fmt: str = "markdown") -> str:
    """The edition of ``week`` (default: the latest with stories) in one format."""
    group = find_week(site, week)
    return render_edition(make_edition(site, config, group, article_views(site, config.full_text_weeks)), make_env(config), fmt)

"""The Jinja environment and what every template shares: date and week labels, article cards
rendered once per process, and the links from one page to another.

Templates are looked up in the site's own ``templates/`` first and the built-in ones last,
so an editor overrides any single template by dropping a file of the same name in theirs."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from datetime import datetime
from html import unescape
from pathlib import Path
from types import FunctionType
from typing import Callable, Iterable
from urllib.parse import urlsplit

import jinja2
import jinja2.meta
import jinja2.runtime
from markupsafe import Markup, escape

from digest import fingerprint, markdown, urls
from digest.assets import BUILTIN_TEMPLATES
from digest.config import Config


class Context(jinja2.runtime.Context):
    """Jinja's context, calling a plain function or a macro from a template without first
    asking whether it wants the context, the environment or the evaluation context passed
    (``pass_context`` and the like mark a function with ``jinja_pass_arg``): Jinja asks every
    callable three times (0.67 µs a call, 40 to 90 calls a page: ``url()``, ``card_html()``,
    the macros). Anything else, or a marked function, goes Jinja's way."""

    def call(__self, __obj, *args, **kwargs):  # noqa: N805 - Jinja's names, so keyword arguments pass through
        kind = type(__obj)
        if kind is jinja2.runtime.Macro or kind is FunctionType and "jinja_pass_arg" not in __obj.__dict__:
            if kwargs:  # what a call inside a loop or block hands on for context functions
                kwargs.pop("_loop_vars", None)
                kwargs.pop("_block_vars", None)
            try:
                return __obj(*args, **kwargs)
            except StopIteration:  # as Jinja does
                return __self.environment.undefined("value was undefined because a callable raised a"
                                                    " StopIteration exception")
        return super().call(__obj, *args, **kwargs)


class Environment(jinja2.Environment):
    """Jinja, with ``a.title`` looked up as a key first when ``a`` is a plain dict (a view):
    Jinja tries the attribute first, and a dict has none, so each lookup raised and caught an
    AttributeError, about a hundred per page (a sixth of rendering an article page). A dict's
    methods (``d.items()``) still resolve when it has no key of that name."""

    context_class = Context

    def getattr(self, obj, attribute):
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


class BytecodeCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates and the templates each one reaches, kept between builds in the parse
    cache (``jinja/``): compiling and parsing them again was 0.12 s of every build that renders.
    Jinja checks each entry against its template's source; a cache that cannot be written is
    only not used."""

    def load_bytecode(self, bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # a damaged entry (Jinja unpickles its checksum): compiled again
            bucket.reset()

    def dump_bytecode(self, bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass

    def references(self, env: jinja2.Environment, filename: str, source: str) -> list[str | None]:
        """``find_referenced_templates`` of the template file ``filename`` holding ``source``,
        remembered with a hash of the source (one small file per template file)."""
        path = Path(self.directory) / f"refs-{hashlib.sha1(filename.encode('utf-8', 'surrogatepass')).hexdigest()}.json"
        checksum = hashlib.sha256(f"{jinja2.__version__}\0{source}".encode("utf-8", "surrogatepass")).hexdigest()
        try:
            kept = json.loads(path.read_bytes())
            if kept["source"] == checksum:
                return kept["refs"]
        except (OSError, ValueError, KeyError, TypeError):
            pass
        refs = list(jinja2.meta.find_referenced_templates(env.parse(source)))
        try:
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".refs-")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"source": checksum, "refs": refs}, fh)
            os.replace(tmp, path)
        except OSError:
            pass
        return refs


def make_env(config: Config, cache_dir: Path | None = None) -> jinja2.Environment:
    """The environment of ``config``'s templates; with ``cache_dir``, compiled templates are
    kept there between builds (``BytecodeCache``)."""
    dirs = [config.path(config.templates_dir)]
    if BUILTIN_TEMPLATES.resolve() not in [d.resolve() for d in dirs if d.exists()]:
        dirs.append(BUILTIN_TEMPLATES)
    env = Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in dirs]),
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # a build's templates do not change under it: no stat per template use
    )
    if cache_dir is not None:
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            env.bytecode_cache = BytecodeCache(str(cache_dir))
        except OSError:  # a read-only or missing parse cache: compile as without one
            pass
    env.filters["date"] = format_date
    env.filters["number"] = lambda n: f"{n:,}"
    env.filters["clip"] = clip
    env.filters.update(markdown.FILTERS)  # newsletter/edition.md
    # A card or a "more from" entry says lang only where the story's language is not the site's.
    env.globals["site_language"] = config.language
    # JSON-LD without the spaces json.dumps puts after "," and ":", and UTF-8 as it is rather
    # than \uXXXX escapes (tojson still escapes <, >, & and ' for the script element).
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False}
    return env


def sources_key(env: jinja2.Environment, names: Iterable[str]) -> str:
    """The key of the templates ``names`` and of every template they reach through
    ``extends``, ``include``, ``import`` and ``from``, as the loader finds them (a site's own
    template before the built-in one): what an output made from ``names`` depends on, so an
    edit to the newsletter's templates does not re-render a page, nor ``base.html`` a
    newsletter. A name chosen at render time (not a string in the template) could be any
    template: then the key is that of every template file."""
    seen: dict[str, str] = {}
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        try:
            source, filename, _ = env.loader.get_source(env, name)
            if isinstance(env.bytecode_cache, BytecodeCache):
                refs = env.bytecode_cache.references(env, filename, source)
            else:
                refs = list(jinja2.meta.find_referenced_templates(env.parse(source)))
        except jinja2.TemplateError:  # missing or broken: rendering reports it
            refs = [None]
        if None in refs:  # key on every template file
            return fingerprint.of_files(Path(d) for d in env.loader.searchpath)
        seen[name] = source  # not where it was found: digest installed elsewhere renders the same
        todo += refs
    return fingerprint.of(sorted(seen.items()))


CARD_EXCERPT = 160  # characters of a summary on a card: two or three lines; the page has it all


_SENTENCE_END = re.compile(r"[.!?…][”’\"»)]?(?= )")


def clip(text: str, limit: int = CARD_EXCERPT) -> str:
    """A card's summary: ``text`` when it fits in ``limit`` characters; else its whole sentences
    that fit, when they fill at least half of it; else the words that fit, with "…"."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    ends = [m.end() for m in _SENTENCE_END.finditer(cut)]
    if ends and ends[-1] >= limit // 2:
        return cut[:ends[-1]]
    cut = cut[:-1]
    if text[limit - 1] != " " and " " in cut:
        cut = cut[:cut.rindex(" ")]
    return cut.rstrip(" ,;:.–—-(") + "…"


def format_date(value: datetime | None, style: str = "long") -> str:
    if value is None:
        return ""
    if style == "short":
        return f"{value.day} {value:%b %Y}"
    return f"{value.day} {value:%B %Y}"


def week_label(name: str, short: bool = False) -> str:
    year, week = name.split("-W")
    start = datetime.fromisocalendar(int(year), int(week), 1)
    end = datetime.fromisocalendar(int(year), int(week), 7)
    if short:  # under a year heading
        return f"Week {int(week)}: {start.day} {start:%b} – {end.day} {end:%b}"
    return f"Week {int(week)}, {year} ({format_date(start, 'short')} – {format_date(end, 'short')})"


_LINK_MARK = re.compile("\x00([^\x00\x01]*)\x01")


def _link_mark(target: str) -> str:
    return f"\x00{target}\x01"


class Cards:
    """Each article's card (the ``card`` macro of ``_macros.html``; an archived story's ``row``)
    rendered once per process,
    not once per listing it appears on (five to eight, plus "more from" lists). Its links are
    rendered as placeholders holding the target; each page fills in its own relative links,
    so the result is byte for byte what the macro gives on that page. With ``kept`` (the cards
    of the last build, by view digest: cardstore.py) and ``memo`` (this build's view digests),
    a card whose view did not change is not rendered at all; the new ones go to ``store``."""

    TEMPLATE = "_macros.html"

    def __init__(self, env: jinja2.Environment, kept: dict | None = None, memo: dict | None = None, store=None):
        self._env = env
        self._macros = None
        self._done: dict[tuple, str] = {}
        self._kept, self._memo, self.store = kept or {}, memo, store
        self._new: list[tuple[tuple, str]] = []

    def for_page(self, link: Callable[[str], str]) -> Callable[..., Markup]:
        def fill(match: re.Match) -> str:
            target = match.group(1)  # as the template escaped it
            return str(escape(link(unescape(target) if "&" in target else target)))

        def card_html(a: dict, heading: str = "h3", excerpt: bool = True) -> Markup:
            return Markup(_LINK_MARK.sub(fill, self._card(a, (heading, excerpt))))

        def row_html(a: dict) -> Markup:
            return Markup(_LINK_MARK.sub(fill, self._card(a, ("row",))))

        return card_html, row_html

    def _card(self, a: dict, variant: tuple) -> str:
        """The card of view ``a`` with link placeholders: made once per process, from the kept
        cards when its view did not change."""
        done = self._done.get((a["path"], *variant))
        if done is not None:
            return done
        self._done[(a["path"], *variant)] = html = self._made(a, variant)
        return html

    def _made(self, a: dict, variant: tuple) -> str:
        digest = self._memo.get(id(a)) if self._memo is not None else None
        kept = self._kept.get((digest, *variant)) if digest is not None else None
        if type(kept) is str:
            return kept
        module = self._module()
        html = str(module.row(a) if variant == ("row",) else module.card(a, *variant))
        if digest is not None:
            self._new.append(((digest, *variant), html))
        return html

    def flush(self) -> None:
        """Hand the cards rendered since the last flush to the store (the render workers call
        it after each batch of pages)."""
        if self.store is not None and self._new:
            self.store.add(self._new)
        self._new = []

    def _module(self):
        if self._macros is None:
            self._macros = self._env.get_template(self.TEMPLATE).make_module({"url": _link_mark})
        return self._macros


def linker(from_path: str, base_url: str, shared: dict | None = None) -> Callable[[str], str]:
    """The ``url()`` of the page at ``from_path``; ``shared``: see ``urls.relative_from``."""
    # GitHub Pages serves 404.html at whatever depth was asked for, so its links cannot be
    # relative: they start from the base URL's path (the project sub-path).
    if from_path == "404.html":
        root = "/" + urlsplit(base_url).path.strip("/")
        return lambda target: (root.rstrip("/") + "/" + urls.page_file(target))
    return urls.relative_from(from_path, shared)

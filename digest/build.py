"""The pipeline, top to bottom: sources → normalize → classify → site model → views → pages,
newsletters, feeds, search, catalog and sitemap → writer. Rendered files stream into the
writer, which swaps the finished site in at once."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from itertools import chain
from typing import Callable, Collection, Iterator

from digest import assets, budget, buildstate, catalog, fingerprint, language, newsletter, search, sitemap, templating, workers
from digest.archive import rolled_off
from digest.assembly import GROWN, KIND as ASSEMBLY, Assembly, assemble
from digest.config import Config
from digest.artifact import Artifact, Output, Unchanged
from digest.cardstore import CardStore
from digest.editorial import stale_picks
from digest.feeds import iter_feed_files
from digest.model import Site
from digest.pages import Page, build_pages, iter_pages
from digest.parsecache import (DEFAULT_DIR, ParseCache, Progress, code_version, default_jobs, prune, prune_bodies,
                               read_sources)
from digest.site import build_site
from digest.stage import Stage
from digest.store import Corrupt, discard
from digest.sources import read_cache, read_source
from digest.views import article_views
from digest.write import update_site


@dataclass(frozen=True)
class BuildResult:
    files: int
    written: int
    unchanged: int
    seconds: float
    stories: int
    sources: int
    problems: tuple[str, ...]
    load_site: Callable[[], Site] = field(repr=False, compare=False)
    bytes: int = 0  # of dist/, as the writer left it
    size_warning: str | None = None  # dist/ is over config.size_limit (budget.py)

    @cached_property
    def site(self) -> Site:
        """The site model; after a no-change rebuild it is read from the parse cache on first use."""
        return self.load_site()

    def summary(self) -> str:
        return (f"{self.stories} stories from {self.sources} sources, "
                f"{self.files} files, {budget.human(self.bytes)} ({self.written} written, {self.unchanged} unchanged) "
                f"in {self.seconds:.2f} s")


def build_model(config: Config, environ=os.environ, parse_cache: ParseCache | None = None,
                jobs: int = 1, progress: Progress | None = None) -> Site:
    """The site model. With a ``parse_cache``, unchanged sources, items and articles are not
    read, cleaned or classified again; ``jobs`` > 1 spreads that work over processes."""
    return make_model(config, environ, parse_cache, jobs, progress)[0]


def make_model(config: Config, environ=os.environ, parse_cache: ParseCache | None = None, jobs: int = 1,
               progress: Progress | None = None, previous: Assembly | None = None) -> tuple[Site, Assembly, bool]:
    """The model, the assembly of its articles and whether that grew from ``previous`` or the
    parse cache's (a build whose only news is new stories, see assembly.py)."""
    cache = config.path(config.cache_dir)
    store = parse_cache or ParseCache(None)
    reports = read_cache(cache, lambda paths: read_sources(paths, store, jobs, read_source, progress))
    reports = tuple(language.undeclarable(reports, config.feed_languages))  # snapshots: no second warning
    reports += rolled_off(cache, reports)  # stories that left a feed, from fetch's snapshots
    reread = lambda name: read_source(cache / name)  # noqa: E731 - raw bodies of a file, when its stories must be cleaned again
    assembly, grown = assemble(reports, store, config, jobs, progress, reread, previous)
    slug_key = store.key("slugs")
    slugs = store.load("slugs", slug_key)
    slugs = slugs if isinstance(slugs, dict) else {}
    before = dict(slugs)
    site = build_site(list(assembly.articles), reports, config, environ, slugs, store.bodies)
    cached = ((store.bodies.problem,) if store.bodies.problem else ()) + tuple(store.problems)
    site = replace(site, problems=cached + site.problems + stale_picks(site, config))  # warn, build without them
    store.digests.clear()  # it holds every raw item; the model no longer needs them
    if slugs != before:
        store.store("slugs", slug_key, slugs)
    return site, assembly, grown


def build(config: Config, environ=os.environ, parse_cache: Path | None = None, jobs: int | None = None,
          progress: Progress | None = None) -> BuildResult:
    """Build the site. ``parse_cache`` defaults to ``.digest-cache/`` in the site folder;
    ``jobs`` to every core; ``progress(stage, done, total)`` is told how far it got."""
    return Builder(config, environ, parse_cache, jobs, progress).build()


class Builder:
    """Builds of one site, one after another. ``build()`` makes one; ``digest serve`` keeps one
    in its build process, so the model survives between builds and is made again only when
    the content cache, the config or the code changed: a template edit only re-renders."""

    def __init__(self, config: Config, environ=os.environ, parse_cache: Path | None = None, jobs: int | None = None,
                 progress: Progress | None = None):
        self.config, self.environ, self.jobs = config, environ, jobs or default_jobs()
        self.cache_dir = config.path(parse_cache if parse_cache is not None else DEFAULT_DIR)
        self.tell = progress or (lambda stage, done, total: None)
        self.progress = progress
        self._model: tuple[str, Site] | None = None  # (content fingerprint, model)
        self._assembly: Assembly | None = None  # its articles, which the next model grows from
        self._prepared: Prepared | None = None  # views and pages of that model

    def build(self, first: Collection[str] = (), on_first: Callable[[list[Artifact]], None] | None = None) -> BuildResult:
        """One build. The pages at the site paths in ``first`` are rendered before all else and
        handed to ``on_first`` (serve writes them at once and reloads the tabs showing them)."""
        with workers.fewer_collections():
            try:
                return self._build(first, on_first)
            except Corrupt as exc:
                # A body could not be read back as it was written. Nothing was published (the
                # writer stages the whole site first): drop the store and build again from the
                # feeds, once; the warning says what happened.
                discard(self.cache_dir)
                self._model = self._prepared = self._assembly = None
                result = self._build(first, on_first)
                return replace(result, problems=(f"{exc}; discarded it and built again",) + result.problems)

    def _build(self, first: Collection[str], on_first) -> BuildResult:
        started = time.perf_counter()
        config, environ = self.config, self.environ
        store = ParseCache(self.cache_dir)
        if first and on_first and self._model is not None and self._prepared is not None \
                and self._model[0] == buildstate.content_fingerprint(config, environ, store):
            # The model in memory still holds: the open pages go out before dist/ is even
            # scanned (29,000 files at 10,000 stories); the build below makes them again, keyed.
            on_first(render_first(self._model[1], config, self._prepared, first))
            first, on_first = (), None
        out_dir = config.path(config.out_dir)
        inputs = buildstate.fingerprint(config, environ, store, (assets.BUILTIN_TEMPLATES, assets.BUILTIN_STATIC))
        last = buildstate.load(store, out_dir)
        # dist/ is checked (29,000 files at 10,000 stories) before the model only when the inputs
        # are unchanged; otherwise after the open pages are out.
        previous = buildstate.previous_site(last, out_dir) if last is not None and last.fingerprint == inputs else None
        if previous is not None and previous.untouched():
            # Nothing changed and dist/ is as we left it: it is already the answer.
            snap = last.snapshot
            if previous.listed:  # the same files, restored or beside a new empty folder:
                buildstate.save(store, inputs, out_dir, snap, previous.trusted)  # next check quick
            self.tell("done", 0, 0)
            return BuildResult(files=snap.files, written=0, unchanged=snap.files,
                               seconds=time.perf_counter() - started, stories=snap.stories, sources=snap.sources,
                               problems=snap.problems, load_site=lambda: self.model(store, 1)[0], bytes=snap.bytes,
                               size_warning=budget.size_warning(snap.bytes, config))
        with workers.no_collections():  # long-lived objects only: nothing for the collector
            site, made = self.model(store, self.jobs)
            if self._prepared is None:
                self._prepared = prepare(site, config)
        if first and on_first:  # before anything else: an editor is looking
            on_first(render_first(site, config, self._prepared, first))
        if made == "assembled":  # what cleaning the archive freed, given back before render workers fork
            workers.trim_heap()
        if previous is None:
            previous = buildstate.previous_site(last, out_dir)
        self.tell("rendering", 0, 0)
        # Each file goes to the writer as soon as it is rendered and is then dropped (the parent
        # never holds the whole site); pages whose inputs did not change are not rendered at all.
        stage = Stage(out_dir, previous)  # render workers write pages into it themselves
        try:
            written = update_site(render(site, config, self.jobs, store, previous.fresh, self._prepared, stage),
                                  out_dir, previous, stage.dir)
        finally:
            stage.discard()
        stats = written.counts()
        total = sum(entry.size for entry in written.manifest.values())
        snapshot = buildstate.Snapshot(files=stats["files"], stories=len(site.order), sources=len(site.sources),
                                       problems=site.problems, bytes=total)
        # dist/'s folders were found as the last build left them (unless it had to be listed):
        # only those the writer touched are read again.
        known = last.folders if last is not None and not previous.listed and written.touched is not None else None
        buildstate.save(store, inputs, out_dir, snapshot, written.manifest, known, written.touched or ())
        if made:  # entries for files and code that are gone (only a build that read them all knows)
            prune(store, ("sources", "articles", "search", "slugs", "classified", ASSEMBLY, GROWN))
            prune_bodies(store)
        self.tell("done", 0, 0)
        return BuildResult(files=stats["files"], written=stats["written"], unchanged=stats["unchanged"],
                           seconds=time.perf_counter() - started, stories=len(site.order), sources=len(site.sources),
                           problems=site.problems, load_site=lambda: site, bytes=total,
                           size_warning=budget.size_warning(total, config))

    @property
    def has_model(self) -> bool:
        return self._model is not None

    def warm(self) -> None:
        """Make the model and its views now, so the next build has them: serve calls it after a
        no-change start, while the editor is still reading, so the first edit renders at once."""
        with workers.fewer_collections():
            site, made = self.model(ParseCache(self.cache_dir), self.jobs)
            if self._prepared is None:
                self._prepared = prepare(site, self.config)
        if made == "assembled":
            workers.trim_heap()

    def model(self, store: ParseCache, jobs: int) -> tuple[Site, str]:
        """The model, and how: "" (the kept one still holds), "grown" (its articles' assembly
        grew by new stories, assembly.py) or "assembled" (from every report)."""
        key = buildstate.content_fingerprint(self.config, self.environ, store)
        if self._model is not None and self._model[0] == key:
            return self._model[1], ""
        self._model = self._prepared = None  # let the old model go before the new one is made
        site, self._assembly, grown = make_model(self.config, self.environ, store, jobs, self.progress,
                                                 self._assembly)
        self._model = (key, site)
        return site, "grown" if grown else "assembled"


@dataclass
class Prepared:
    """What rendering reads besides the templates: the article views, the page list and the
    views' digests for page keys. It depends on the model and config only, so serve's build
    process keeps it while templates change."""

    views: dict[str, dict]
    pages: list[Page]

    @cached_property
    def memo(self) -> dict[int, bytes]:
        """Made when first needed: serve renders the open pages (unkeyed) before it."""
        return fingerprint.memo_of(self.views.values())


def prepare(site: Site, config: Config) -> Prepared:
    views = article_views(site, config.full_text_weeks)
    return Prepared(views, build_pages(site, config, views))


def render_first(site: Site, config: Config, prepared: Prepared, first: Collection[str]) -> list[Artifact]:
    """Only the pages at the site paths in ``first``, unkeyed: what serve shows at once. The build
    renders them again with their keys (a page or two), and the writer finds the same bytes."""
    env = templating.make_env(config)
    version = assets.asset_version(assets.static_files(config))
    wanted = set(first)
    return [a for a in iter_pages([p for p in prepared.pages if p.path in wanted], site, config, env, version)
            if isinstance(a, Artifact)]


def render(site: Site, config: Config, jobs: int = 1, cache: ParseCache | None = None,
           fresh: Callable[[str, str], bool] | None = None, prepared: Prepared | None = None,
           stage: Stage | None = None) -> Iterator[Output]:
    """Every file of the site, as a stream of artifacts, each made when it is needed (pages a
    batch at a time) for a writer that stores and drops them. Every path comes once.

    A file's key names everything it is made from (code, config, templates, static files and
    its own data; see fingerprint.py). With ``fresh(path, key)`` (the writer's knowledge of
    ``dist/``), a page, newsletter or feed whose key is unchanged is not rendered and comes as
    ``Unchanged``: after a new feed, only the files it touches are made. With ``stage``, pages and feeds
    come as ``Staged``: written by the renderers into the writer's staging folder."""
    env = templating.make_env(config, _jinja_dir(cache))
    static = assets.static_files(config)
    version = assets.asset_version(static)
    prepared = prepared or prepare(site, config)
    views, memo, pages = prepared.views, prepared.memo, prepared.pages
    content_key = fingerprint.of(cache.version if cache is not None else code_version(), repr(config))
    # Pages are keyed by their own templates' sources (pages.iter_pages), editions by theirs.
    keyer = (fingerprint.of(content_key, version), memo, fresh)
    edition_key = fingerprint.of(content_key, templating.sources_key(env, newsletter.template_names(env).values()))
    later: list[tuple] = []  # editions too many to make in this process: workers, after the pages

    def by_parent() -> Iterator[Artifact | Unchanged]:
        # The editions of a week or two are made here while the page workers run: this process
        # would otherwise wait for them, then work alone. Only work that touches few objects:
        # whatever it reads of the model while workers share it is copied (copy-on-write), and
        # the catalog and sitemap read it all (+110 MiB at 10,000 stories).
        unchanged, weeks = newsletter.edition_work(
            site, config, fresh=fresh,
            keys=lambda week, picks: fingerprint.of(edition_key, "edition", week.name, repr(picks),
                                                    [views[k] for k in week.keys], memo=memo))
        yield from unchanged
        if len(weeks) < newsletter.PARALLEL_WEEKS:
            yield from newsletter.render_editions(weeks, site, config, env, views)
        else:
            later.extend(weeks)

    yield from chain(
        iter_pages(pages, site, config, env, version, jobs, keyer, stage, _card_store(cache, content_key, env),
                   meanwhile=by_parent()),
        newsletter.render_editions(later, site, config, env, views, jobs),  # runs once the pages are done
        iter_feed_files(site, config, views, fresh=fresh, jobs=jobs, stage=stage,
                        keys=lambda base, title, updated, shown, full: fingerprint.of(
                            content_key, "feed", base, title, updated, shown, full, memo=memo)),
        search_index(views, config, cache, jobs).outputs(fresh, stage),
    )
    yield from (Artifact(path, data) for path, data in static.items())
    yield Artifact("articles.json", catalog.catalog(site))
    yield from (Artifact(path, data) for path, data in sitemap.files((p.path for p in pages), config.base_url).items())
    yield Artifact("robots.txt", catalog.robots(config))
    yield Artifact(".nojekyll", b"")


def search_index(views: dict[str, dict], config: Config, cache: ParseCache | None, jobs: int) -> search.Indexer:
    """The search index of the articles in ``views`` (see search.Indexer)."""
    return search.Indexer(search.documents(views, config.language), config.language, cache, jobs)


def _card_store(cache: ParseCache | None, content_key: str, env) -> CardStore:
    """Where the cards are kept, named for what they are made from besides their views."""
    return CardStore(_cache_folder(cache, "cards"),
                     fingerprint.of(content_key, templating.sources_key(env, (templating.Cards.TEMPLATE,))))


def _jinja_dir(cache: ParseCache | None) -> Path | None:
    return _cache_folder(cache, "jinja")


def _cache_folder(cache: ParseCache | None, name: str) -> Path | None:
    """A folder of the parse cache, if the build has one on disk."""
    return cache.root / name if cache is not None and cache.root is not None else None


def render_site(site: Site, config: Config, jobs: int = 1, cache: ParseCache | None = None) -> dict[str, bytes]:
    """Every file of the site, in memory (for tests and the newsletter command)."""
    return {a.path: a.data for a in render(site, config, jobs, cache)}

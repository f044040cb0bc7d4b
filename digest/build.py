"""The pipeline, top to bottom: sources → normalize → classify → site → render → write.
Rendered files stream into the writer, which swaps the finished site in at once."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Callable

from digest import buildstate
from digest.archive import rolled_off
from digest.classify import unify_tag_spellings
from digest.config import Config
from digest.editorial import stale_picks
from digest.model import Site
from digest.normalize import normalize
from digest.parsecache import (DEFAULT_DIR, ParseCache, Progress, classify_all, default_jobs, prune, read_sources,
                               to_articles)
from digest.render import BUILTIN_STATIC, BUILTIN_TEMPLATES, iter_site
from digest.site import build_site
from digest.sources import read_cache, read_source
from digest.write import Previous, update_site


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

    @cached_property
    def site(self) -> Site:
        """The site model; after a no-change rebuild it is read from the parse cache on first use."""
        return self.load_site()

    def summary(self) -> str:
        return (f"{self.stories} stories from {self.sources} sources, "
                f"{self.files} files ({self.written} written, {self.unchanged} unchanged) "
                f"in {self.seconds:.2f} s")


def build_model(config: Config, environ=os.environ, parse_cache: ParseCache | None = None,
                jobs: int = 1, progress: Progress | None = None) -> Site:
    """The site model. With a ``parse_cache``, unchanged sources, items and articles are not
    read, cleaned or classified again; ``jobs`` > 1 spreads that work over processes."""
    cache = config.path(config.cache_dir)
    store = parse_cache or ParseCache(None)
    reports = read_cache(cache, lambda paths: read_sources(paths, store, jobs, read_source, progress))
    reports += rolled_off(cache, reports)  # stories that left a feed, from fetch's snapshots
    articles = normalize(reports, to_articles(reports, store, jobs, progress))
    articles = unify_tag_spellings(classify_all(articles, config, store, jobs, progress))
    slug_key = store.key("slugs")
    slugs = store.load("slugs", slug_key)
    slugs = slugs if isinstance(slugs, dict) else {}
    before = dict(slugs)
    site = build_site(articles, reports, config, environ, slugs)
    site = replace(site, problems=site.problems + stale_picks(site, config))  # warn, build without them
    store.digests.clear()  # it holds every raw item; the model no longer needs them
    if slugs != before:
        store.store("slugs", slug_key, slugs)
    return site


def build(config: Config, environ=os.environ, parse_cache: Path | None = None, jobs: int | None = None,
          progress: Progress | None = None) -> BuildResult:
    """Build the site. ``parse_cache`` defaults to ``.digest-cache/`` in the site folder;
    ``jobs`` to every core; ``progress(stage, done, total)`` is told how far it got."""
    started = time.perf_counter()
    tell = progress or (lambda stage, done, total: None)
    store = ParseCache(config.path(parse_cache if parse_cache is not None else DEFAULT_DIR))
    out_dir = config.path(config.out_dir)
    inputs = buildstate.fingerprint(config, environ, store, (BUILTIN_TEMPLATES, BUILTIN_STATIC))
    last = buildstate.load(store, out_dir)
    previous = Previous(out_dir, last.manifest if last else None)
    if last is not None and last.fingerprint == inputs and previous.untouched():
        # Nothing changed and dist/ is as we left it: it is already the answer.
        tell("done", 0, 0)
        snap = last.snapshot
        return BuildResult(files=snap.files, written=0, unchanged=snap.files, seconds=time.perf_counter() - started,
                           stories=snap.stories, sources=snap.sources, problems=snap.problems,
                           load_site=lambda: build_model(config, environ, store, 1))
    site = build_model(config, environ, store, jobs or default_jobs(), progress)
    tell("rendering", 0, 0)
    # Each file goes to the writer as soon as it is rendered and is then dropped (the parent
    # never holds the whole site); pages whose inputs did not change are not rendered at all.
    written = update_site(iter_site(site, config, jobs or default_jobs(), store, previous.fresh), out_dir, previous)
    stats = written.counts()
    snapshot = buildstate.Snapshot(files=stats["files"], stories=len(site.order), sources=len(site.sources),
                                   problems=site.problems)
    buildstate.save(store, inputs, out_dir, snapshot, written.manifest)
    prune(store, ("sources", "articles", "search", "slugs", "classified"))  # entries for files and code that are gone
    tell("done", 0, 0)
    return BuildResult(files=stats["files"], written=stats["written"], unchanged=stats["unchanged"],
                       seconds=time.perf_counter() - started, stories=len(site.order), sources=len(site.sources),
                       problems=site.problems, load_site=lambda: site)

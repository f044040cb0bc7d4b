"""The pipeline, top to bottom: sources → normalize → classify → site → render → write.
First gather everything, then write once."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from digest.archive import rolled_off
from digest.classify import classify, unify_tag_spellings
from digest.config import Config
from digest.model import Site
from digest.normalize import normalize
from digest.render import render_site
from digest.site import build_site
from digest.sources import read_cache
from digest.write import write_site


@dataclass(frozen=True)
class BuildResult:
    site: Site
    files: int
    written: int
    unchanged: int
    seconds: float

    @property
    def problems(self) -> tuple[str, ...]:
        return self.site.problems

    def summary(self) -> str:
        return (f"{len(self.site.order)} stories from {len(self.site.sources)} sources, "
                f"{self.files} files ({self.written} written, {self.unchanged} unchanged) "
                f"in {self.seconds:.2f} s")


def build_model(config: Config, environ=os.environ) -> Site:
    cache = config.path(config.cache_dir)
    reports = read_cache(cache)
    reports += rolled_off(cache, reports)  # stories that left a feed, from fetch's snapshots
    articles = unify_tag_spellings(classify(normalize(reports), config))
    return build_site(articles, reports, config, environ)


def build(config: Config, environ=os.environ) -> BuildResult:
    started = time.perf_counter()
    site = build_model(config, environ)
    files = render_site(site, config)
    stats = write_site(files, config.path(config.out_dir))
    return BuildResult(site=site, files=len(files), written=stats["written"], unchanged=stats["unchanged"],
                       seconds=time.perf_counter() - started)

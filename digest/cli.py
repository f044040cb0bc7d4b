"""The command line: thin click commands over the library."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from digest import __version__
from digest.build import build as run_build
from digest.config import ConfigError, load_config


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="digest")
def main() -> None:
    """digest: turn a cache of Central Asia news feeds into a static reading site.

    Every command works on the site in the current folder: its content_cache/,
    templates/, static/ and digest.toml (or [tool.digest] in pyproject.toml).
    """


@main.command()
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder of cached feeds and page scrapes.  [default: content_cache/]")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where the site is written (replaced atomically).  [default: dist/]")
@click.option("--base-url", help="Public URL of the site, for feeds, sitemap and canonical links.")
@click.option("--strict", is_flag=True, help="Exit with status 1 if any source or item was skipped.")
def build(cache_dir: Path | None, out_dir: Path | None, base_url: str | None, strict: bool) -> None:
    """Build the site from the cache.

    Example:  digest build --base-url https://me.github.io/digest/
    """
    try:
        config = load_config(Path("."), cache_dir=cache_dir, out_dir=out_dir,
                             base_url=_with_slash(base_url))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    result = run_build(config)
    for problem in result.problems:
        click.echo(f"warning: {problem}", err=True)
    click.echo(f"Built {config.path(config.out_dir)}: {result.summary()}", err=True)
    if strict and result.problems:
        click.echo(f"--strict: {len(result.problems)} warning(s)", err=True)
        sys.exit(1)


def _with_slash(url: str | None) -> str | None:
    return url if url is None or url.endswith("/") else url + "/"

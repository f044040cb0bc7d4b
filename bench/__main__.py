"""``python -m bench [--sizes 1000,10000] [--runs 3]``: run the benchmark, print the table and
write it into docs/BENCHMARKS.md. It measures; it asserts nothing about time."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench import harness, report


def parse_args(argv: list[str]) -> tuple[harness.Options, Path]:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--sizes", default="1000,10000,100000", help="comma-separated story counts")
    p.add_argument("--runs", type=int, default=3, help="runs per build below 100,000 stories (median)")
    p.add_argument("--big-runs", type=int, default=1, help="runs per build at 100,000 stories and above")
    p.add_argument("--peer-timeout", type=float, default=900, help="time box per Pelican/Hugo run, seconds")
    p.add_argument("--no-peers", action="store_true", help="time digest only")
    p.add_argument("--peers", default="Hugo,Pelican", help="which peers to time, e.g. --peers Hugo at 100,000 stories")
    p.add_argument("--work", type=Path, default=harness.REPO / ".bench", help="where corpora and sites go")
    p.add_argument("--bytes", action="store_true",
                   help="sizes only: one cold digest build and one Hugo build per size, no timing runs, no doc")
    p.add_argument("--set", action="append", default=[], metavar="LINE",
                   help="a digest.toml line for the bench site, e.g. --set 'full_text_weeks = 26' (repeatable)")
    p.add_argument("--ref", help="time digest as committed at this git ref, not the working tree")
    p.add_argument("--doc", type=Path, default=harness.REPO / "docs" / "BENCHMARKS.md",
                   help="Markdown file whose table is replaced ('-' to skip)")
    a = p.parse_args(argv)
    sizes = tuple(int(s.replace("_", "")) for s in a.sizes.split(",") if s.strip())
    if not sizes or any(s < 1 for s in sizes) or a.runs < 1 or a.big_runs < 1:
        p.error("sizes and run counts must be positive")
    peers = tuple(n.strip() for n in a.peers.split(",") if n.strip())
    if not set(peers) <= {"Hugo", "Pelican"}:
        p.error("--peers takes Hugo and/or Pelican")
    opts = harness.Options(sizes=sizes, runs=a.runs, big_runs=a.big_runs, peer_timeout=a.peer_timeout,
                           peers=not a.no_peers and bool(peers), work=a.work.resolve(), settings=tuple(a.set),
                           peer_names=peers)
    if a.bytes:
        from dataclasses import replace
        opts = replace(opts, runs=1, big_runs=1, scenarios=("cold",), peer_names=("Hugo",))
        a.doc = Path("-")
    if a.ref:
        from dataclasses import replace
        opts = replace(opts, source=harness.snapshot(a.ref, opts.work))
    return opts, a.doc


def main(argv: list[str] | None = None) -> int:
    opts, doc = parse_args(sys.argv[1:] if argv is None else argv)
    opts = harness.find_tools(opts)
    if opts.peers and not all((opts.pelican if n == "Pelican" else opts.hugo).exists() for n in opts.peer_names):
        print("Pelican/Hugo not found in .bench-venv; run `make bench` (it installs them) or pass --no-peers",
              file=sys.stderr)
        return 2
    versions = {"digest": report.tool_version([opts.python, "-m", "digest", "--version"]).split("version")[-1].strip()
                + (f" (at {opts.source.name[4:]})" if opts.source else " (working tree)")}
    if opts.peers:
        if "Pelican" in opts.peer_names:
            versions["Pelican"] = report.tool_version([str(opts.pelican), "--version"])
        versions["Hugo"] = report.tool_version([str(opts.hugo), "version"]).split("-")[0].removeprefix("hugo ")
    results = harness.run_all(opts, log=lambda m: print(m, file=sys.stderr, flush=True))
    corpora = []
    for size in opts.sizes:
        info = harness.prepare(size, opts.work).info
        corpora.append(f"{size:,} stories: {info['files']:,} cache files ({info['bytes'] / 2**20:,.0f} MiB; "
                       f"{info['feed_stories']:,} feed items, {info['scraped_stories']:,} scraped)")
    settings = f" digest settings: {'; '.join(opts.settings)}." if opts.settings else ""
    body = "\n".join([report.machine(versions), "", "Corpora: " + "; ".join(corpora) + "." + settings, "",
                      report.table(results), "", "Output size (digest: the cold build's `dist/`; MB = 10^6 bytes):", "",
                      report.size_table(results)])
    print(body)
    if str(doc) != "-":
        report.write_doc(doc, body)
        print(f"\nwrote {doc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

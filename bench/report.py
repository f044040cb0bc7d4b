"""The results as a Markdown table, printed and written into docs/BENCHMARKS.md between markers
(the prose around the markers is kept)."""

from __future__ import annotations

import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from bench.harness import Result
from bench.size import KINDS, mb, total

BEGIN = "<!-- bench:begin (written by `make bench`; edit outside these markers) -->"
END = "<!-- bench:end -->"


def _peer(results: list[Result], size: int, name: str) -> Result | None:
    return next((r for r in results if r.size == size and r.tool == name), None)


def _ratio(ours: float | None, peer: Result | None) -> str:
    """Our time as a multiple of the peer's (0.25× = four times faster)."""
    if ours is None or peer is None:
        return "–"
    if peer.median is None:
        return f"peer {peer.note}" if peer.note else "–"
    return f"{ours / peer.median:.2f}×"


def table(results: list[Result]) -> str:
    rows = ["| stories | build | median wall s | CPU s, user + system | runs | HTML pages | pages/s | peak MiB "
            "| vs Pelican | vs Hugo |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        med = r.median
        if med is None:
            rows.append(f"| {r.size:,} | {r.tool} | – ({r.note or 'no run'}) | – | {len(r.runs)} | – | – | – | – | – |")
            continue
        is_peer = not r.tool.startswith("digest")
        cpu = f"{r.cpu[0]:.1f} + {r.cpu[1]:.1f}" if r.cpu else "–"
        if r.tool.startswith("digest serve"):  # a step of a preview session, not a build
            rows.append(f"| {r.size:,} | {r.tool} ({r.note}) | {med:.2f} | – | {len(r.ok_runs)} | – | – | "
                        f"{r.peak_mib:,.0f} | – | – |")
            continue
        rows.append(
            f"| {r.size:,} | {r.tool} | {med:.2f} | {cpu} | {len(r.ok_runs)} | {r.pages:,} | {r.pages / med:,.0f} | "
            f"{r.peak_mib:,.0f} | {'–' if is_peer else _ratio(med, _peer(results, r.size, 'Pelican'))} | "
            f"{'–' if is_peer else _ratio(med, _peer(results, r.size, 'Hugo'))} |")
    return "\n".join(rows)


def size_table(results: list[Result]) -> str:
    """Bytes and files of each output (digest's cold build, the peers), by kind of file, with
    digest's total as a multiple of Hugo's. Bytes do not depend on the machine's load."""
    shown = [r for r in results if r.sizes is not None]
    if not shown:
        return ""
    rows = ["| stories | output | MB | files | vs Hugo | " + " | ".join(KINDS) + " |",
            "|---:|---|---:|---:|---:|" + "---:|" * len(KINDS)]
    for r in shown:
        whole = total(r.sizes)
        hugo = _peer(results, r.size, "Hugo")
        ratio = (f"{whole.bytes / total(hugo.sizes).bytes:.2f}×"
                 if r.tool.startswith("digest") and hugo is not None and hugo.sizes else "–")
        name = "digest" if r.tool.startswith("digest") else r.tool
        rows.append(f"| {r.size:,} | {name} | {mb(whole.bytes)} | {whole.files:,} | {ratio} | "
                    + " | ".join(mb(r.sizes[k].bytes) for k in KINDS) + " |")
    return "\n".join(rows)


def machine(versions: dict[str, str]) -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    tools = ", ".join(f"{k} {v}" for k, v in versions.items())
    return (f"Run {stamp} on {cpu or platform.processor()} ({os.cpu_count()} cores), "
            f"Python {platform.python_version()}; {tools}.")


def tool_version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "not installed"
    return out.splitlines()[0] if out else "unknown"


def write_doc(doc: Path, body: str) -> None:
    block = f"{BEGIN}\n{body}\n{END}"
    text = doc.read_text(encoding="utf-8") if doc.is_file() else "# Benchmarks\n\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text, encoding="utf-8")

"""The build process behind ``digest serve``: the same engine as ``digest build`` (parse cache,
render workers, page keys, the one writer), kept running between edits so the model stays in
memory and a template edit only re-renders.

It runs as its own process (``python -m digest.rebuilder ROOT``), not in a thread of the
server: the server has threads (HTTP, file watching), and render workers forked from a
process with threads can deadlock on a lock another thread held. The server sends one JSON
line per build request on stdin, ``{"first": [site paths]}``, and reads JSON lines back:

- ``{"event": "first", "changed": [...]}``: the pages open in a browser are rendered and in
  place; ``changed`` names those whose bytes changed;
- ``{"event": "done", "summary": "...", "written": N, "problems": [...]}``: the whole site is;
- ``{"event": "error", "message": "..."}``: the build failed; the last good site is untouched;
- ``{"event": "warm", "seconds": N}``: after a no-change start, the model is now in memory.

Closing stdin ends it; SIGTERM ends it cleanly (staging folders removed).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Callable, TextIO

from digest.build import Builder
from digest.config import load_config
from digest.write import patch_files


def describe(exc: BaseException, root: Path) -> str:
    """One or two lines an editor can act on: the file and line for template errors."""
    import jinja2

    if isinstance(exc, jinja2.TemplateSyntaxError):
        where = exc.filename or exc.name or "template"
        return f"{short_path(where, root)}:{exc.lineno}: {exc.message}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith((".html", ".txt", ".xml"))]
    where = f"{short_path(frames[-1].filename, root)}:{frames[-1].lineno}: " if frames else ""
    return f"{where}{type(exc).__name__}: {exc}"


def short_path(path: str, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(root.resolve()))
    except ValueError:
        return path


def _site_path(file: str) -> str:
    """'countries/index.html' → 'countries/' (how pages are named), other files as they are."""
    return file[: -len("index.html")] if file == "index.html" or file.endswith("/index.html") else file


class Rebuilder:
    """Builds on request; keeps its ``Builder`` (and so the model) while the config holds."""

    def __init__(self, root: Path, send: Callable[[dict], None], environ=None):
        self.root, self.send = root, send
        self.environ = os.environ if environ is None else environ
        self.builder: Builder | None = None
        self.config_repr = ""

    def run(self, first: list[str]) -> None:
        try:
            config = load_config(Path("."))  # as `digest build` loads it (cwd is the site), so the keys agree
            if self.builder is None or repr(config) != self.config_repr:
                self.builder, self.config_repr = Builder(config, self.environ), repr(config)
            out = config.path(config.out_dir)

            def on_first(artifacts) -> None:
                changed = patch_files(artifacts, out)
                self.send({"event": "first", "changed": sorted(_site_path(p) for p in changed)})

            result = self.builder.build(first=first, on_first=on_first)
        except Exception as exc:  # whatever the editor broke, the server stays up
            self.send({"event": "error", "message": describe(exc, self.root)})
            return
        self.send({"event": "done", "summary": result.summary(), "written": result.written,
                   "problems": list(result.problems)})
        if not self.builder.has_model:
            started = time.perf_counter()
            try:
                self.builder.warm()  # a no-change start left no model in memory; the next edit needs it
            except Exception:  # the next build reports whatever is wrong
                return
            self.send({"event": "warm", "seconds": round(time.perf_counter() - started, 2)})


def main(argv: list[str] | None = None, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    argv = sys.argv[1:] if argv is None else argv
    root = Path(argv[0] if argv else ".").resolve()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle; it closes our stdin
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # unwinds: staging folders cleaned up

    def send(message: dict) -> None:
        stdout.write(json.dumps(message) + "\n")
        stdout.flush()

    os.chdir(root)
    rebuilder = Rebuilder(root, send)
    for line in stdin:
        if line.strip():
            rebuilder.run(list(json.loads(line).get("first", [])))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""One Pagefind run: the ``pagefind`` binary (from the ``pagefind[bin]`` wheel) indexing some
pages written to a scratch folder of its own, as a process of its own (search.py schedules
the runs of a site's shards).

A process run, not Pagefind's Python service API: that API answers one message per 0.1 s poll,
i.e. seconds per hundred pages. Output goes to a file, not a pipe: nobody reads a pipe while the
build renders, and a full pipe would stall Pagefind.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

BUNDLE = "pagefind"
# Files of the Pagefind bundle we do not load (their UI widgets): ~400 kB we would only ship.
UNUSED = ("pagefind-ui.", "pagefind-component-ui.", "pagefind-modular-ui.", "pagefind-highlight.")


class SearchIndexError(RuntimeError):
    """Pagefind is missing or failed; the message says which and how to fix it."""


class PagefindRun:
    """One Pagefind process indexing some pages in a scratch folder of its own."""

    def __init__(self, pages: dict[str, bytes], language: str):
        """The pages written out; ``start()`` starts Pagefind on them."""
        self._exe = executable()
        self._tmp = tempfile.mkdtemp(prefix="digest-search-")
        self._site, self._out = Path(self._tmp, "site"), Path(self._tmp, "out")
        self._language = language
        self.count = len(pages)
        self._proc: subprocess.Popen | None = None
        self._log = None
        for path, data in sorted(pages.items()):
            target = self._site.joinpath(*path.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)

    def start(self) -> "PagefindRun":
        # Output to a file, not a pipe: nobody reads a pipe while the build renders, and a full
        # pipe would stall Pagefind.
        self._log = open(Path(self._tmp, "log"), "w+b")
        self._proc = subprocess.Popen(
            [str(self._exe), "--site", str(self._site), "--output-path", str(self._out), "--keep-index-url",
             "--force-language", self._language, "--silent"],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        return self

    def done(self) -> bool:
        return self._proc is not None and self._proc.poll() is not None

    def wait(self, seconds: float) -> None:
        """Wait until the run is done, or ``seconds`` at most."""
        try:
            self._proc.wait(seconds)
        except subprocess.TimeoutExpired:
            pass

    def result(self) -> dict[str, bytes]:
        """Wait for the run; its bundle, site path → bytes. Raises SearchIndexError if it failed."""
        try:
            code = self._proc.wait()
            if code != 0:
                self._log.seek(0)
                said = self._log.read().decode("utf-8", "replace").strip()
                raise SearchIndexError(f"pagefind failed (exit {code}): {said[:500]}")
            files = {}
            for path in sorted(self._out.rglob("*")):
                rel = path.relative_to(self._out).as_posix()
                if path.is_file() and not rel.startswith(UNUSED):
                    files[f"{BUNDLE}/{rel}"] = path.read_bytes()
        finally:
            self._cleanup()
        if f"{BUNDLE}/pagefind.js" not in files:
            raise SearchIndexError("pagefind wrote no pagefind.js; is the pagefind[bin] package complete?")
        return files

    def kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._cleanup()

    def _cleanup(self) -> None:
        if self._log is not None:
            self._log.close()
        shutil.rmtree(self._tmp, ignore_errors=True)


def start_run(pages: dict[str, bytes], language: str = "en") -> PagefindRun:
    """Start indexing ``pages`` (site path → HTML) in one Pagefind run."""
    return PagefindRun(pages, language).start()


def index_files(pages: dict[str, bytes], language: str = "en") -> dict[str, bytes]:
    """Site path → bytes of one Pagefind bundle for the given HTML pages (site path → bytes),
    in one Pagefind run.

    Pages opt in with ``data-pagefind-body``; pages without it are not indexed. With no such
    page (an empty cache) there is nothing to search and no bundle."""
    pages = {path: data for path, data in pages.items() if b"data-pagefind-body" in data}
    return start_run(pages, language).result() if pages else {}


def executable() -> Path:
    try:
        from pagefind.service import get_executable
    except ImportError as exc:  # the Python package is a declared dependency
        raise SearchIndexError("the pagefind package is not installed: pip install 'pagefind[bin]'") from exc
    exe = get_executable()
    if exe is None or not Path(exe).exists():
        raise SearchIndexError("no pagefind binary found: pip install 'pagefind[bin]' (or set PAGEFIND_BINARY_PATH)")
    return Path(exe)

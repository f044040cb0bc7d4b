"""Full-text search: a Pagefind index of every article page, built with the rest of the site.

Pagefind splits its index into small chunks that the browser fetches on demand, so a phone
downloads a few tens of kilobytes for a query instead of the whole corpus, and the site
stays fully static. The index is built from the rendered pages, in memory, like every other
file: the article pages are copied into a scratch folder, the ``pagefind`` binary (from the
``pagefind[bin]`` wheel) indexes that folder in one run, and its bundle is read back into the
file map that ``write`` writes once. One process run instead of the Python service API,
because that API answers one message per 0.1 s poll, i.e. seconds per hundred pages.

No ``data-pagefind-filter``: Pagefind 1.5 writes filter chunks in a different order on each
run, which would break the byte-identical build (tests/test_site_search.py catches it).

Only the parts our own ``static/search.js`` loads are kept (the Pagefind JS API, its worker,
the WebAssembly and the index); the optional Pagefind UI bundles are dropped.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

BUNDLE = "pagefind"
# Files of the Pagefind bundle we do not load (their UI widgets): ~400 kB we would only ship.
UNUSED = ("pagefind-ui.", "pagefind-component-ui.", "pagefind-modular-ui.", "pagefind-highlight.")


class SearchIndexError(RuntimeError):
    """Pagefind is missing or failed; the message says which and how to fix it."""


def index_files(pages: dict[str, bytes], language: str = "en") -> dict[str, bytes]:
    """Site path → bytes of the Pagefind bundle for the given HTML pages (site path → bytes).

    Pages opt in with ``data-pagefind-body``; pages without it are not indexed. With no such
    page (an empty cache) there is nothing to search and no bundle."""
    pages = {path: data for path, data in pages.items() if b"data-pagefind-body" in data}
    if not pages:
        return {}
    exe = _executable()
    with tempfile.TemporaryDirectory(prefix="digest-search-") as tmp:
        site, out = Path(tmp, "site"), Path(tmp, "out")
        for path, data in sorted(pages.items()):
            target = site.joinpath(*path.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        run = subprocess.run(
            [str(exe), "--site", str(site), "--output-path", str(out), "--keep-index-url",
             "--force-language", language, "--silent"],
            capture_output=True, text=True, check=False,
        )
        if run.returncode != 0:
            raise SearchIndexError(f"pagefind failed (exit {run.returncode}): {(run.stderr or run.stdout).strip()[:500]}")
        files = {}
        for path in sorted(out.rglob("*")):
            rel = path.relative_to(out).as_posix()
            if path.is_file() and not rel.startswith(UNUSED):
                files[f"{BUNDLE}/{rel}"] = path.read_bytes()
    if f"{BUNDLE}/pagefind.js" not in files:
        raise SearchIndexError("pagefind wrote no pagefind.js; is the pagefind[bin] package complete?")
    return files


def _executable() -> Path:
    try:
        from pagefind.service import get_executable
    except ImportError as exc:  # the Python package is a declared dependency
        raise SearchIndexError("the pagefind package is not installed: pip install 'pagefind[bin]'") from exc
    exe = get_executable()
    if exe is None or not Path(exe).exists():
        raise SearchIndexError("no pagefind binary found: pip install 'pagefind[bin]' (or set PAGEFIND_BINARY_PATH)")
    return Path(exe)

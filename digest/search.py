"""Full-text search: a Pagefind index of every article, built with the rest of the site.

Pagefind splits its index into small chunks that the browser fetches on demand, so a phone
downloads a few tens of kilobytes for a query instead of the whole corpus, and the site
stays fully static. What is indexed is each article's title and body, marked up exactly as
``article.html`` marks them (``data-pagefind-body``, title and date meta), one small document
per article at the article page's own path. Indexing these documents rather than the rendered
pages means Pagefind can start before any page is rendered (it runs beside the renderers) and
its input does not depend on the templates, so its bundle is cached by the documents' hash and
a template edit never re-indexes. The ``pagefind`` binary (from the ``pagefind[bin]`` wheel)
indexes a scratch folder in one run and its bundle is read back into the file map that
``write`` writes once. One process run instead of the Python service API, because that API
answers one message per 0.1 s poll, i.e. seconds per hundred pages.

No ``data-pagefind-filter``: Pagefind 1.5 writes filter chunks in a different order on each
run, which would break the byte-identical build (tests/test_site_search.py catches it).

Only the parts our own ``static/search.js`` loads are kept (the Pagefind JS API, its worker,
the WebAssembly and the index); the optional Pagefind UI bundles are dropped.
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
from pathlib import Path

from markupsafe import escape

BUNDLE = "pagefind"
# Files of the Pagefind bundle we do not load (their UI widgets): ~400 kB we would only ship.
UNUSED = ("pagefind-ui.", "pagefind-component-ui.", "pagefind-modular-ui.", "pagefind-highlight.")


class SearchIndexError(RuntimeError):
    """Pagefind is missing or failed; the message says which and how to fix it."""


def documents(views: dict[str, dict], language: str = "en") -> dict[str, bytes]:
    """Site path of each article page → the part of it that search indexes (see above)."""
    out = {}
    for view in views.values():
        out[view["path"] + "index.html"] = (
            f'<!doctype html><html lang="{escape(language)}"><head><meta charset="utf-8">'
            f"<title>{escape(view['title'])}</title></head><body>"
            f'<h1 data-pagefind-body data-pagefind-meta="title">{escape(view["title"])}</h1>'
            f'<div data-pagefind-body data-pagefind-meta="date:{escape(view["date_label"])}">'
            f'<div class="story-body">{view["body_html"]}</div></div></body></html>'
        ).encode("utf-8")
    return out


def cached_index(docs: dict[str, bytes], language: str, cache=None) -> dict[str, bytes]:
    """``index_files`` through the parse cache: the same documents, language and Pagefind
    binary give the same bundle, so it is built once."""
    if cache is None or cache.root is None:
        return index_files(docs, language)
    h = hashlib.sha256(language.encode())
    exe = _executable()
    stat = exe.stat()
    h.update(f"{exe}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    for path in sorted(docs):
        h.update(path.encode() + b"\0" + hashlib.sha256(docs[path]).digest())
    key = cache.key("search", h.hexdigest())
    bundle = cache.load("search", key)
    if bundle is None:
        bundle = index_files(docs, language)
        cache.store("search", key, bundle)
    return bundle


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

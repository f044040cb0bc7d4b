"""Full-text search: a Pagefind index of every article, built with the rest of the site, in shards.

Pagefind splits its index into small chunks that the browser fetches on demand, so a phone
downloads a few tens of kilobytes for a query instead of the whole corpus, and the site
stays fully static. What is indexed is each article's title and body, marked up exactly as
``article.html`` marks them (``data-pagefind-body``, title and date meta), one small document
per article at the article page's own path. Indexing these documents rather than the rendered
pages means Pagefind can start before any page is rendered (it runs beside the renderers) and
its input does not depend on the templates, so a template edit never re-indexes. Each run
of the ``pagefind`` binary is one process (pagefind_run.py); this module decides what each
run indexes and when.

**Shards.** One Pagefind run over the whole archive needs about 0.3 MiB of memory and 2 ms per
document (measured with Pagefind 1.5.2 on the 10,000-story benchmark's articles: 500 docs
1.1 s / 130 MiB, 1,000 docs 2.0 s / 284 MiB, 2,000 docs 4.1 s / 616 MiB peak RSS), so 10,000
stories took a 3 GiB process and 100,000 would not fit in memory, and one new story re-indexed
everything. So the documents are cut into shards, indexed in runs whose documents together
never outnumber the largest shard's (see ``Indexer``: the peak is one shard's), and each
shard's bundle is cached in the parse cache under the hash of its own documents, the language
and the binary's identity. A new feed re-indexes only the shards whose documents changed.

Shards are cut in archive order, oldest first (``documents`` returns them in that order), at
content-defined boundaries: a shard ends after a document whose path hash is 0 modulo ``C``,
or at ``CAP × C`` documents; after the last such boundary (the newest documents) also after a
path hash of 0 modulo ``C / 8``, so the shard a new feed lands in is small (~C / 16 documents
on average: a fraction of a second of Pagefind instead of one or two seconds), and these pieces
merge into one shard when a boundary of ``C`` arrives. A story inserted in the middle changes the shard it lands in (and
the next one only when that shard was cut at the cap); the newest stories, appended at the end,
change only the last shard or add new ones. ``C`` is 512 (a shard averages ~400 documents,
~140 MiB and 1–2 s of Pagefind; the cap, 768 documents, bounds a run at ~270 MiB: Pagefind 1.5
took 184 MiB for 512 of the benchmark's documents, 270 for 768 and 359 for 1,024) and doubles
whenever the archive would have more than 32 shards of the current size, so the browser merges
at most ~32 indexes: 1,000 stories → C 512, 2–4 shards; 10,000 → C 512, 25–30 shards; 100,000 →
C 4,096, ~30 shards (a Pagefind run of ~1.1 GiB on average, at most 6,144 documents ≈ 2 GiB). Crossing a doubling re-indexes
everything once (the new boundaries are a subset of the old ones, so shards merge pairwise).
``DIGEST_SEARCH_SHARD_SIZE=N`` forces ``C`` (tests use it to build a many-shard seed site; it
is a knob for experiments, not an input the no-change rebuild sees).

**Layout.** The oldest shard is the primary bundle at ``pagefind/`` with the Pagefind JS API,
its worker and WebAssembly (so a one-shard site, like the seed, is exactly one plain Pagefind
bundle). Every other shard lives in ``pagefind/shard/<id>/`` (``id``: a hash of its documents,
so an unchanged shard keeps its path and bytes) and holds only what a merged index fetches:
``pagefind-entry.json``, its ``.pf_meta``, ``index/`` and ``fragment/`` — Pagefind loads the
WebAssembly once, for the primary index, and searches merged indexes with it.
``pagefind/shards.json`` lists those folders, relative to ``pagefind/``; ``static/search.js``
fetches it with the API on the first query and calls ``mergeIndex`` for each, so one query
searches every shard and Pagefind ranks the results together. One catch: Pagefind searches
each merged index on its own, and an index with no word starting with a query word falls back to
its longest word that starts the query word ("a" for "almaty"), which in a merged search floods
the results with other shards' near-misses. So on a sharded site ``search.js`` tags each shard
with a synthetic filter (``mergeFilter``, ``shard``: its number) and, per query word, looks at
which shards match it and how: an index either extends the word (its results hold words starting
with it) or falls back (they all hold one shorter word), which one result's data shows (the
length bonus Pagefind gives the word's own length, or a matched word that starts with the query
word; one fragment per shard that matched, usually one that is shown anyway). It then searches
only the shards that extend every query word, so prefixes ("alma" finds Almaty) and whole words
find the same stories as on a one-shard site; when no shard extends a word, it keeps the shards
with the longest fallback word, and a word no shard holds at all is left out of the query, as
one index would do.

**Languages.** Each document carries its story's language (``<html lang>``), and the documents
of each language are sharded and indexed on their own (``--force-language``), so Pagefind
stems each with its own stemmer (Russian: a query for "засухи" finds "засуха"). The browser
stems a query with the WebAssembly its Pagefind API loaded, one per API module, and a merged
index is searched with the merging API's (pagefind.js 1.5: ``mergeIndex`` loads no WebAssembly
of its own). So the indexes are merged per *engine*: the indexes whose languages share a
WebAssembly build (Pagefind's ``wasm`` in ``pagefind-entry.json``: ``en``, ``ru``, …, or
``unknown`` for languages it has no stemmer for, such as Kazakh) are merged into one API, loaded
from the first of them, which keeps the API, worker and WebAssembly; ``search.js`` imports one
API per engine, searches them all and ranks the results by Pagefind's score. ``shards.json``
lists every index with its language and engine. The documents of the site's language come
first: a one-language site is exactly the bundle described above.

No ``data-pagefind-filter``: Pagefind 1.5 writes filter chunks in a different order on each
run, which would break the byte-identical build (tests/test_site_search.py catches it).

Only the parts our own ``static/search.js`` loads are kept; the optional Pagefind UI bundles
are dropped.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import deque
from collections.abc import Callable, Iterator, Mapping

from markupsafe import escape

from digest import pagefind_run
from digest.artifact import Artifact, Output, Unchanged
from digest.pagefind_run import BUNDLE, PagefindRun, SearchIndexError

MANIFEST = f"{BUNDLE}/shards.json"
SHARDS = f"{BUNDLE}/shard"
# What only the primary bundle needs: a merged index is searched with the primary's API,
# worker and WebAssembly.
RUNTIME = ("pagefind.js", "pagefind-worker.js", "wasm.")

SHARD_DOCS = 512  # C: a shard ends after a document whose path hash is 0 modulo C …
CAP = 1.5  # … or at CAP × C documents (see ``cap``)
MAX_SHARDS = 32  # C doubles while the archive would make more shards than this
TAIL_SPLIT = 8  # after the last boundary, shards end at hash 0 modulo C / 8
BESIDE_RENDERERS = 0.75  # a shard of at most this × C documents is indexed while pages render
SHARD_ENV = "DIGEST_SEARCH_SHARD_SIZE"
_LANG = re.compile(rb'<html lang="([^"]+)"')


def documents(views: dict[str, dict], language: str = "en") -> "Documents":
    """Site path of each article page → the part of it that search indexes (see above), oldest
    first (``views`` is in site order, newest first): the order shards are cut in. Each
    document is made when it is asked for, so the whole archive's never sits in memory."""
    return Documents(views, language)


class Documents(Mapping):
    """``documents``: a read-only mapping that renders each document on access."""

    def __init__(self, views: dict[str, dict], language: str):
        self._by_path = {view["path"] + "index.html": view for view in reversed(list(views.values()))}
        self.language = language

    def __getitem__(self, path: str) -> bytes:
        view = self._by_path[path]
        lang = escape(view.get("language") or self.language)
        # The language is also a meta value: a result's data does not say which language it is
        # in, and search.js marks each result's title and excerpt with it.
        return (
            f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            f"<title>{escape(view['title'])}</title></head><body>"
            f'<h1 data-pagefind-body data-pagefind-meta="title">{escape(view["title"])}</h1>'
            f'<div data-pagefind-body data-pagefind-meta="date:{escape(view["date_label"])}">'
            f'<span data-pagefind-meta="lang:{lang}"></span>'
            f'<div class="story-body">{view["body_html"]}</div></div></body></html>'
        ).encode("utf-8")

    def __iter__(self):
        return iter(self._by_path)

    def __len__(self) -> int:
        return len(self._by_path)

    def language_of(self, path: str) -> str:
        return self._by_path[path].get("language") or self.language

    def digest_of(self, path: str) -> bytes:
        """A hash that changes when the document does, without making it: a body kept in the
        body store counts by its key (a hash of the body), so keying 10,000 unchanged
        documents reads no body."""
        view = self._by_path[path]
        body = view["body_html"]
        stored = getattr(body, "key", None)  # views.StoredHtml
        body_id = stored.encode() if stored else hashlib.sha256(str(body).encode("utf-8", "surrogatepass")).digest()
        h = hashlib.sha256(b"document 1\0")
        for part in (self.language_of(path), view["title"], view["date_label"]):
            h.update(part.encode("utf-8", "surrogatepass") + b"\0")
        h.update(body_id)
        return h.digest()


def shard_size(count: int) -> int:
    """C for an archive of ``count`` documents: ``SHARD_DOCS``, doubled while that would make
    more than ``MAX_SHARDS`` shards; ``DIGEST_SEARCH_SHARD_SIZE`` overrides it."""
    forced = os.environ.get(SHARD_ENV, "").strip()
    if forced:
        try:
            size = int(forced)
        except ValueError:
            size = 0
        if size < 1:
            raise SearchIndexError(f"{SHARD_ENV} must be a positive number of documents, not {forced!r}")
        return size
    size = SHARD_DOCS
    while count > size * MAX_SHARDS:
        size *= 2
    return size


def shards(paths: list[str], size: int) -> list[list[str]]:
    """``paths`` (oldest first) cut into shards at content-defined boundaries (see above)."""
    out: list[list[str]] = []
    current: list[str] = []
    for path in paths:
        current.append(path)
        if _path_hash(path) % size == 0 or len(current) >= cap(size):
            out.append(current)
            current = []
    if current and (not out or size < 8 * TAIL_SPLIT):  # a small site: one shard, one plain bundle
        return out + [current]
    # The open end (the newest documents, after the last boundary) is cut finer, again at
    # content-defined points, so the next new feed re-indexes a small shard, not ~C documents.
    piece: list[str] = []
    step = max(1, size // TAIL_SPLIT)
    for path in current:
        piece.append(path)
        if _path_hash(path) % step == 0:
            out.append(piece)
            piece = []
    if piece:
        out.append(piece)
    return out


def cap(size: int) -> int:
    """The most documents a shard of ``C`` = ``size`` holds."""
    return int(CAP * size)


def _path_hash(path: str) -> int:
    return int.from_bytes(hashlib.sha256(path.encode("utf-8")).digest()[:8], "big")


class Indexer:
    """The search bundle of ``docs`` (site path → document, oldest first, as ``documents``
    returns them), built shard by shard while the rest of the site renders. Each shard goes
    through the parse cache (when given): the same documents, language and Pagefind binary give
    the same bundle, so it is built once, and this process does not hold it meanwhile.

    No thread: each shard is a Pagefind process started from this one. ``poll()``, called
    between batches of pages, collects a finished run and starts the next; ``outputs()`` waits
    for the rest. Render workers therefore fork from a process with one thread (a child forked
    while another thread holds a lock can deadlock on it).

    Pagefind's memory follows the documents it indexes (about 0.35 MiB each, see above), so
    runs are scheduled by their documents:

    - beside the renderers (``poll``), one run at a time and only of a shard of at most
      ``BESIDE_RENDERERS`` × C documents, so the renderers and Pagefind together stay small;
    - after them (``outputs``), up to ``jobs`` runs at once of at most as many documents
      together as the largest shard has: the peak stays that of one run of the largest shard,
      and the cores the renderers left are used."""

    def __init__(self, docs: Mapping[str, bytes], language: str, cache=None, jobs: int = 1):
        # Only the shards being indexed hold their documents, and only while Pagefind runs.
        if not isinstance(docs, Documents):  # ours always opt in; other pages may not
            docs = {path: data for path, data in docs.items() if b"data-pagefind-body" in data}
        self._docs = docs
        self.language = language
        self.cache = cache if cache is not None and cache.root is not None else None
        self._binary = b""
        if self.cache is not None and docs:
            exe = pagefind_run.executable()
            stat = exe.stat()
            self._binary = f"{exe}:{stat.st_size}:{stat.st_mtime_ns}".encode()
        # shard number → (content, its WebAssembly build, its files' paths); the files themselves
        # are read from the cache only when dist/ does not already have them (``outputs``)
        self._shards: dict[int, tuple[str, str, tuple[str, ...]]] = {}
        self._bundles: dict[int, dict[str, bytes]] = {}  # indexed in this build, not in the cache
        self._hold: set[int] = set()  # shards whose bundle is kept here all the same
        self._todo: deque[tuple[int, str, list[str]]] = deque()
        self._running: list[tuple[int, str, PagefindRun, int]] = []  # (…, its documents)
        self._ready: tuple[tuple[int, str, list[str]], PagefindRun] | None = None  # written out, not started
        self.jobs = max(1, jobs)
        self._small = 0  # the most documents of a run beside the renderers
        self._languages: list[str] = []  # of each shard
        self._paths: list[list[str]] = []  # the documents of each shard
        for lang, paths_of_lang in _by_language(docs, language):
            size = shard_size(len(paths_of_lang))
            self._small = max(self._small, int(size * BESIDE_RENDERERS))
            for paths in shards(paths_of_lang, size):
                number = len(self._languages)
                self._languages.append(lang)
                self._paths.append(paths)
                h = hashlib.sha256(lang.encode() + b"\0")
                for path in paths:
                    digest = docs.digest_of(path) if isinstance(docs, Documents) else hashlib.sha256(docs[path]).digest()
                    h.update(path.encode() + b"\0" + digest)
                content = h.hexdigest()
                meta = self._meta(content)
                if meta is None:
                    self._todo.append((number, content, paths))
                else:
                    self._shards[number] = (content, *meta)
        self._count = len(self._languages)
        self.poll()

    def __enter__(self) -> "Indexer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _key(self, content: str) -> str:
        return self.cache.key("search", self._binary, content)

    def _meta(self, content: str) -> tuple[str, tuple[str, ...]] | None:
        """(WebAssembly build, file paths) of the cached bundle of ``content``; None if not cached."""
        key = self._key(content) if self.cache is not None else ""
        if not key or not self.cache.has("search", key):
            return None
        meta = self.cache.load("search", key + "-meta")
        if isinstance(meta, tuple) and len(meta) == 2:
            return meta
        bundle = self.cache.load("search", key)  # cached before the meta was
        if not isinstance(bundle, dict):
            return None
        meta = (_wasm_of(bundle), tuple(bundle))
        self.cache.store("search", key + "-meta", meta)
        return meta

    def _bundle(self, number: int) -> dict[str, bytes]:
        bundle = self._bundles.pop(number, None)
        content, _, paths = self._shards[number]
        if bundle is None and self.cache is not None:
            bundle = self.cache.load("search", self._key(content))
        if not isinstance(bundle, dict) or tuple(bundle) != paths:
            # Its cache entry went bad since the build began: index the shard again, kept here.
            self._hold.add(number)
            self._todo.append((number, content, self._paths[number]))
            self._run_all()
            bundle = self._bundles.pop(number)
        return bundle

    def poll(self) -> None:
        """Collect finished runs; start a small shard's if none is running (see the class)."""
        self._take(self._finished(wait=False))
        if not self._running:
            small = next((t for t in self._todo if len(t[2]) <= self._small), None)
            if small is not None:
                self._todo.remove(small)
                self._start(small, self._prepare(small))

    def _prepare(self, shard: tuple[int, str, list[str]]) -> "PagefindRun":
        """The shard's run, its documents written out, not started."""
        number, _, paths = shard
        return PagefindRun({path: self._docs[path] for path in paths}, self._languages[number])

    def _start(self, shard: tuple[int, str, list[str]], run: "PagefindRun") -> None:
        run.start()
        self._running.append((shard[0], shard[1], run, len(shard[2])))

    def _run_all(self) -> None:
        """Index every shard still to do, up to ``jobs`` at once within the documents budget.
        The next shard's documents are written out while runs go on, and a finished run's
        slot is filled before its output is read, so Pagefind never waits for this process."""
        budget = max([len(t[2]) for t in self._todo] + [r[3] for r in self._running], default=0)
        while True:
            self._fill(budget)
            if self._ready is None and self._todo:
                shard = self._todo.popleft()
                self._ready = (shard, self._prepare(shard))
            if not self._running:  # nothing left: _fill starts anything when nothing runs
                break
            done = self._finished(wait=True)
            self._fill(budget)
            self._take(done)

    def _fill(self, budget: int) -> None:
        """Start runs while fewer than ``jobs`` go and the next one fits the budget."""
        busy = sum(r[3] for r in self._running)
        while len(self._running) < self.jobs:
            waiting = ([self._ready[0]] if self._ready else []) + list(self._todo)
            shard = next((t for t in waiting if not self._running or busy + len(t[2]) <= budget), None)
            if shard is None:
                return
            if self._ready and shard is self._ready[0]:
                run, self._ready = self._ready[1], None
            else:
                self._todo.remove(shard)
                run = self._prepare(shard)
            self._start(shard, run)
            busy += len(shard[2])

    def _finished(self, wait: bool) -> list:
        """The runs that are done, taken off the running list (with ``wait``, at least one)."""
        done: list = []
        while self._running:
            done = [r for r in self._running if r[2].done()]
            if done or not wait:
                break
            self._running[0][2].wait(0.05)
        self._running = [r for r in self._running if r not in done]
        return done

    def _take(self, done: list) -> None:
        """Read finished runs' bundles into the parse cache (or memory, when it cannot hold them)."""
        for number, content, run, _ in done:
            bundle = run.result()
            meta = (_wasm_of(bundle), tuple(bundle))
            kept = self.cache is not None and self.cache.store("search", self._key(content), bundle)
            if kept:
                self.cache.store("search", self._key(content) + "-meta", meta)
            if not kept or number in self._hold:  # nowhere to read it back from
                self._bundles[number] = bundle
            self._shards[number] = (content, *meta)

    def files(self) -> dict[str, bytes]:
        """Every file of the search bundle, once all shards are indexed."""
        return {a.path: a.data for a in self.outputs()}

    def outputs(self, fresh: Callable[[str, str], bool] | None = None) -> Iterator[Output]:
        """Every file of the search bundle, in path order, once all shards are indexed. A file
        is keyed by its shard's cache key; one that ``fresh(path, key)`` says
        ``dist/`` already has comes as ``Unchanged``, and a shard none of whose files changed
        is not even read from the cache (after a new feed: ~10,000 files of 10,000 stories)."""
        self._run_all()
        if not self._count:
            return
        wanted: dict[str, tuple[int, str, str | None]] = {}  # site path → (shard, path in its bundle, key)
        folders = []
        indexes = []
        engines: dict[str, str] = {}  # WebAssembly build → the folder of the index that brings it
        for number in range(self._count):
            content, wasm, paths = self._shards[number]
            # The shard's cache key names its bytes; the output path names the file within it.
            key = self._key(content) if self.cache is not None else None
            folder = "" if number == 0 else f"shard/{content[:12]}/"
            engine = engines.setdefault(wasm, folder)
            indexes.append({"path": folder, "language": self._languages[number], "engine": engine})
            if number:
                folders.append(folder)
            for path in paths:
                rel = path.removeprefix(f"{BUNDLE}/")
                if number == 0:  # the primary bundle, with the API and WebAssembly
                    out = path
                elif engine == folder or not rel.startswith(RUNTIME):
                    out = f"{BUNDLE}/{folder}{rel}"
                else:
                    continue
                wanted[out] = (number, path, key)
        manifest = (json.dumps({"shards": folders, "indexes": indexes}, indent=1, ensure_ascii=False) + "\n").encode()
        wanted[MANIFEST] = (-1, "", None)
        stale = {number for out, (number, _, key) in wanted.items()
                 if number >= 0 and not (fresh and key and fresh(out, key))}
        bundles = {number: self._bundle(number) for number in sorted(stale)}
        self._bundles.clear()
        for out in sorted(wanted):
            number, path, key = wanted[out]
            if number < 0:
                yield Artifact(out, manifest)
            elif number in bundles:
                yield Artifact(out, bundles[number][path], key)
            else:
                yield Unchanged(out, key)

    def close(self) -> None:
        """Stop the runs still going (the build failed or was interrupted) and drop their scratch folders."""
        for _, _, run, _ in self._running:
            run.kill()
        if self._ready is not None:
            self._ready[1].kill()
        self._running.clear()
        self._ready = None
        self._todo.clear()


def _by_language(docs: dict[str, bytes], site_language: str) -> list[tuple[str, list[str]]]:
    """The documents' paths per language (in document order): the site's language first, then
    the others by code."""
    groups: dict[str, list[str]] = {}
    if isinstance(docs, Documents):  # known from the views, without making the documents
        for path in docs:
            groups.setdefault(docs.language_of(path), []).append(path)
        return sorted(groups.items(), key=lambda item: (item[0] != site_language, item[0]))
    for path, data in docs.items():
        found = _LANG.search(data[:200])
        groups.setdefault(found.group(1).decode() if found else site_language, []).append(path)
    return sorted(groups.items(), key=lambda item: (item[0] != site_language, item[0]))


def _wasm_of(bundle: dict[str, bytes]) -> str:
    """The WebAssembly build a one-language bundle is searched with ('en', 'ru', 'unknown')."""
    try:
        languages = json.loads(bundle[f"{BUNDLE}/pagefind-entry.json"])["languages"]
        return next(iter(languages.values())).get("wasm") or "unknown"
    except (KeyError, ValueError, StopIteration, AttributeError):
        return "unknown"


def cached_index(docs: dict[str, bytes], language: str, cache=None) -> dict[str, bytes]:
    """The whole search bundle of ``docs`` at once (see ``Indexer``)."""
    with Indexer(docs, language, cache) as indexer:
        return indexer.files()

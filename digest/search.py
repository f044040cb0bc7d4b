"""Full-text search: an index of every article, built with the rest of the site, in shards.

The index is our own (fulltext.py writes a shard's files, ``static/search.js`` searches them):
static files the browser fetches a few at a time, so a phone downloads a few tens of kilobytes
for a query instead of the whole archive, and the site stays fully static. What is indexed is
each article's title and the plain text of its body, as the article page shows them; the index
does not depend on the templates, so a template edit never re-indexes.

**Shards.** The articles are cut into shards (oldest first, ``documents`` gives them in that
order) at content-defined boundaries, and each shard is indexed on its own and kept in the
parse cache under the hash of its documents, so a new feed re-indexes only the shard or two its
stories land in, and a story inserted in the middle only its own. A shard ends after a
document whose path hash is 0 modulo ``C``, or at ``CAP × C`` documents; after the last such
boundary (the newest documents) also after a path hash of 0 modulo ``C / TAIL_SPLIT``, so the
shard a new feed lands in is small (~C / 16 documents on average), and these pieces merge into
one shard when a boundary of ``C`` arrives. ``C`` is 2,048 and doubles whenever the archive
would have more than ``MAX_SHARDS`` shards, so a query fetches from at most ~32 shards per
word: 1,000 stories make one shard, 10,000 about 20 (the benchmark's: 22), 100,000 about 30. Crossing a
doubling re-indexes everything once (the new boundaries are a subset of the old ones).
``DIGEST_SEARCH_SHARD_SIZE=N`` forces ``C`` (tests use it to build a many-shard seed site; it
is a knob for experiments, not an input the no-change rebuild sees).

**Languages.** Each story is indexed with its own language's stemmer, and the stories of each
language are sharded on their own, so each shard has one language and the search page's
language choice picks shards.

**Layout.** ``search-index/index.json`` is the manifest: the number of stories and, per shard,
its folder (``search-index/<hash of its documents>/``, so an unchanged shard keeps its path and
bytes), language, stories and the first stem of each term chunk. The shards' files are
described in fulltext.py.

**Where the work runs.** Shards are indexed after the pages, by forked workers when there are
several to do (``workers.iter_ranges``), each shard's files going to the parse cache as they
come back; the writer then reads only the shards whose files ``dist/`` does not already have.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping

from digest import fulltext, urls, workers
from digest.artifact import Artifact, Output, Unchanged
from digest.store import body_key
from digest.text import plain

FOLDER = "search-index"
MANIFEST = f"{FOLDER}/index.json"

SHARD_DOCS = 2048  # C: a shard ends after a document whose path hash is 0 modulo C …
CAP = 1.5  # … or at CAP × C documents (see ``cap``)
MAX_SHARDS = 32  # C doubles while the archive would make more shards than this
TAIL_SPLIT = 16  # after the last boundary, shards end at hash 0 modulo C / 16
SHARD_ENV = "DIGEST_SEARCH_SHARD_SIZE"


class SearchIndexError(RuntimeError):
    """The search index cannot be built as configured (one line for the command line)."""


def documents(views: dict[str, dict], language: str = "en") -> "Documents":
    """Site path of each article page → what search indexes of it (a ``fulltext.Doc``), oldest
    first (``views`` is in site order, newest first): the order shards are cut in. Each
    document is made when it is asked for, so the whole archive's never sits in memory."""
    return Documents(views, language)


class Documents(Mapping):
    """``documents``: a read-only mapping that makes each document on access."""

    def __init__(self, views: dict[str, dict], language: str):
        self._by_path = {view["path"]: view for view in reversed(list(views.values()))}
        self.language = language

    def __getitem__(self, path: str) -> fulltext.Doc:
        view = self._by_path[path]
        return fulltext.Doc(urls.page_file(path), view["title"], view["date_label"], self.language_of(path),
                            plain(str(view["body_html"])))

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
        # The same id either way (the store's key is body_key of the body), so a build whose body
        # store is locked (bodies kept in memory) makes the same shards, at the same paths.
        body_id = (stored or body_key(str(body))).encode()
        h = hashlib.sha256(b"document 2\0")
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
    if current and (not out or size < 64):  # a small C (tests): the open end stays whole
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
    """The search index of ``docs`` (a ``Documents``, oldest first). Shards already in the parse
    cache (the same documents, language and engine) are not indexed again; ``outputs()``
    indexes the rest and yields every file of the index."""

    def __init__(self, docs: Documents, language: str, cache=None, jobs: int = 1):
        self._docs = docs
        self.language = language
        self.cache = cache if cache is not None and cache.root is not None else None
        self.jobs = max(1, jobs)
        self._shards: list[tuple[str, str, list[str]]] = []  # (content hash, language, paths)
        self._made: dict[int, fulltext.Shard] = {}  # indexed in this build, not in the cache
        for lang, paths_of_lang in _by_language(docs, language):
            for paths in shards(paths_of_lang, shard_size(len(paths_of_lang))):
                h = hashlib.sha256(f"{fulltext.ENGINE}\0{lang}\0".encode())
                for path in paths:
                    h.update(path.encode() + b"\0" + docs.digest_of(path))
                self._shards.append((h.hexdigest(), lang, paths))

    def _key(self, content: str) -> str:
        return self.cache.key("search", content)

    def _meta(self, number: int) -> tuple[int, tuple[str, ...], tuple[str, ...]] | None:
        """(stories, first stems of its chunks, file names) of a cached shard; None if not cached."""
        key = self._key(self._shards[number][0]) if self.cache is not None else ""
        if not key or not self.cache.has("search", key):  # has(): kept by the cache's pruning, unread
            return None
        meta = self.cache.load("search", key + "-meta")
        return meta if isinstance(meta, tuple) and len(meta) == 3 else None

    def _index(self, numbers: list[int]) -> None:
        """Index the shards ``numbers``: by forked workers when there are several, each shard's
        files kept in the parse cache as it comes back (or here, when there is no cache)."""
        jobs = self.jobs if len(numbers) > 1 else 1
        numbers = sorted(numbers, key=lambda n: -len(self._shards[n][2]))  # the largest first: the workers end together
        for made in workers.iter_ranges(_index_range, (self, numbers), len(numbers), jobs, chunks_per_job=1,
                                        batch=1):
            for number, shard in made:
                content = self._shards[number][0]
                meta = (shard.docs, shard.chunks, tuple(shard.files))
                if self.cache is not None and self.cache.store("search", self._key(content), shard.files):
                    self.cache.store("search", self._key(content) + "-meta", meta)
                else:
                    self._made[number] = shard

    def _files(self, number: int) -> dict[str, bytes]:
        made = self._made.pop(number, None)
        if made is not None:
            return made.files
        files = self.cache.load("search", self._key(self._shards[number][0])) if self.cache is not None else None
        if not isinstance(files, dict):  # its cache entry went bad since the build began
            self._index_here(number)
            files = self._made.pop(number).files
        return files

    def _index_here(self, number: int) -> None:
        for n, shard in _index_range(self, [number], 0, 1):
            self._made[n] = shard

    def files(self) -> dict[str, bytes]:
        """Every file of the index."""
        return {a.path: a.data for a in self.outputs()}

    def outputs(self, fresh: Callable[[str, str], bool] | None = None) -> Iterator[Output]:
        """Every file of the index, in path order. A shard's file is keyed by the shard's cache
        key; one that ``fresh(path, key)`` says ``dist/`` already has comes as ``Unchanged``,
        and a shard none of whose files changed is not even read from the cache (after a new
        feed: ~10,000 files of 10,000 stories)."""
        if not self._shards:
            return
        metas = {n: self._meta(n) for n in range(len(self._shards))}
        self._index([n for n, meta in metas.items() if meta is None and n not in self._made])
        listed = []
        wanted: dict[str, tuple[int, str, str | None]] = {}  # site path → (shard, file name, key)
        for number, (content, lang, paths) in enumerate(self._shards):
            made = self._made.get(number)
            docs, chunks, names = (made.docs, made.chunks, tuple(made.files)) if made else self._meta(number)
            folder = f"{content[:16]}/"
            listed.append({"path": folder, "language": lang, "docs": docs, "chunks": list(chunks)})
            key = self._key(content) if self.cache is not None else None
            for name in names:
                wanted[f"{FOLDER}/{folder}{name}"] = (number, name, key)
        manifest = {"engine": fulltext.ENGINE, "docs": sum(s["docs"] for s in listed), "shards": listed}
        yield Artifact(MANIFEST, (json.dumps(manifest, ensure_ascii=False, separators=(",", ":")) + "\n").encode())
        stale = sorted({number for out, (number, _, key) in wanted.items() if not (fresh and key and fresh(out, key))})
        for number in range(len(self._shards)):
            files = self._files(number) if number in stale else None
            for out in sorted(o for o, w in wanted.items() if w[0] == number):
                _, name, key = wanted[out]
                yield Artifact(out, files[name], key) if files is not None else Unchanged(out, key)


def _index_range(indexer: Indexer, numbers: list[int], start: int, end: int) -> list[tuple[int, fulltext.Shard]]:
    """Index shards ``numbers[start:end]`` (in a worker: the documents came by fork)."""
    out = []
    lexicons: dict[str, fulltext.Lexicon] = {}
    for number in numbers[start:end]:
        _, lang, paths = indexer._shards[number]
        lexicon = lexicons.setdefault(lang, fulltext.Lexicon(lang))
        out.append((number, fulltext.index_shard((indexer._docs[path] for path in paths), lexicon)))
    return out


def _by_language(docs: Documents, site_language: str) -> list[tuple[str, list[str]]]:
    """The documents' paths per language (in document order): the site's language first, then
    the others by code."""
    groups: dict[str, list[str]] = {}
    for path in docs:
        groups.setdefault(docs.language_of(path), []).append(path)
    return sorted(groups.items(), key=lambda item: (item[0] != site_language, item[0]))


def cached_index(docs: Documents, language: str, cache=None, jobs: int = 1) -> dict[str, bytes]:
    """The whole search index of ``docs`` at once (see ``Indexer``)."""
    return Indexer(docs, language, cache, jobs).files()

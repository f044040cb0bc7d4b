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
word: 1,000 stories make one shard, the benchmark's 10,000 make 22 and its 100,000 make 29.
Crossing a doubling re-indexes everything once (the new boundaries are a subset of the old
ones).
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
several to do (``workers.iter_ranges``, the largest first). Each worker keeps its shard's files
in the parse cache and writes them into the writer's staging folder itself, so only receipts
come back to the build's process; files of a cached shard that ``dist/`` already has are not
even read.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping

from digest import fulltext, urls, workers
from digest.artifact import Artifact, Output, Unchanged
from digest.stage import Stage
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
        self.cache = cache if cache is not None and cache.root is not None else None
        self.jobs = max(1, jobs)
        self._shards: list[tuple[str, str, list[str]]] = []  # (content hash, language, paths)
        for lang, paths_of_lang in _by_language(docs, language):
            for paths in shards(paths_of_lang, shard_size(len(paths_of_lang))):
                h = hashlib.sha256(f"{fulltext.FORMAT}\0{lang}\0".encode())
                for path in paths:
                    h.update(path.encode() + b"\0" + docs.digest_of(path))
                self._shards.append((h.hexdigest(), lang, paths))

    def _key(self, number: int) -> str | None:
        """The shard's cache key, which also keys its files in ``dist/``; None without a cache."""
        return self.cache.key("search", self._shards[number][0]) if self.cache is not None else None

    def _folder(self, number: int) -> str:
        return f"{FOLDER}/{self._shards[number][0][:16]}/"

    def _meta(self, number: int) -> tuple[int, tuple[str, ...], tuple[str, ...]] | None:
        """(stories, first stems of its chunks, file names) of a cached shard; None if not cached."""
        key = self._key(number)
        if key is None or not self.cache.has("search", key):  # has(): kept by the cache's pruning, unread
            return None
        meta = self.cache.load("search", key + "-meta")
        return meta if isinstance(meta, tuple) and len(meta) == 3 else None

    def outputs(self, fresh: Callable[[str, str], bool] | None = None, stage: Stage | None = None) -> Iterator[Output]:
        """Every file of the index. A shard's file is keyed by the shard's cache key; one that
        ``fresh(path, key)`` says ``dist/`` already has comes as ``Unchanged``, and a shard none
        of whose files changed is not even read from the cache (after a new feed: ~12,000 files
        of 10,000 stories). Shards not in the cache are indexed by forked workers when there
        are several (the largest first, so the workers end together); with ``stage`` the
        workers write their files into it themselves and only receipts come back."""
        if not self._shards:
            return
        metas = {n: self._meta(n) for n in range(len(self._shards))}
        todo = sorted((n for n, meta in metas.items() if meta is None), key=lambda n: -len(self._shards[n][2]))
        made: dict[int, list[Output]] = {}
        jobs = self.jobs if len(todo) > 1 else 1
        for done in workers.iter_ranges(_index_range, (self, todo, stage), len(todo), jobs, chunks_per_job=1, batch=1):
            for number, meta, outs in done:
                metas[number], made[number] = meta, outs
                if self.cache is not None:  # stored by the worker: marked used here, kept by pruning
                    self.cache.has("search", self._key(number))
                    self.cache.has("search", self._key(number) + "-meta")
        listed = []
        for number, (_, lang, _) in enumerate(self._shards):
            docs, chunks, _ = metas[number]
            listed.append({"path": self._folder(number).removeprefix(f"{FOLDER}/"), "language": lang,
                           "docs": docs, "chunks": list(chunks)})
        manifest = {"engine": fulltext.ENGINE, "docs": sum(s["docs"] for s in listed), "shards": listed}
        yield Artifact(MANIFEST, (json.dumps(manifest, ensure_ascii=False, separators=(",", ":")) + "\n").encode())
        for number in range(len(self._shards)):
            if number in made:
                yield from made.pop(number)
                continue
            key, folder, names = self._key(number), self._folder(number), metas[number][2]
            if fresh and key and all(fresh(folder + name, key) for name in names):
                yield from (Unchanged(folder + name, key) for name in names)
                continue
            files = self.cache.load("search", key) if self.cache is not None else None
            if not isinstance(files, dict) or tuple(files) != tuple(names):  # the entry went bad since the build began
                (_, _, outs), = _index_range(self, [number], None, 0, 1)
                yield from outs
                continue
            yield from (Artifact(folder + name, files[name], key) for name in names)


def _index_range(indexer: Indexer, numbers: list[int], stage: Stage | None, start: int,
                 end: int) -> list[tuple[int, tuple, list[Output]]]:
    """Index shards ``numbers[start:end]`` (in a worker: the documents came by fork): each
    shard's (number, meta, outputs), its files kept in the parse cache and, with ``stage``,
    written into it here (the outputs are then receipts, not bytes)."""
    out = []
    lexicons: dict[str, fulltext.Lexicon] = {}
    for number in numbers[start:end]:
        _, lang, paths = indexer._shards[number]
        lexicon = lexicons.setdefault(lang, fulltext.Lexicon(lang))
        shard = fulltext.index_shard((indexer._docs[path] for path in paths), lexicon)
        meta = (shard.docs, shard.chunks, tuple(shard.files))
        key, folder = indexer._key(number), indexer._folder(number)
        if key is not None and indexer.cache.store("search", key, shard.files):
            indexer.cache.store("search", key + "-meta", meta)
        if stage is not None:
            outs = [stage.put(folder + name, data, key) for name, data in shard.files.items()]
        else:
            outs = [Artifact(folder + name, data, key) for name, data in shard.files.items()]
        out.append((number, meta, outs))
    return out


def _by_language(docs: Documents, site_language: str) -> list[tuple[str, list[str]]]:
    """The documents' paths per language (in document order): the site's language first, then
    the others by code."""
    groups: dict[str, list[str]] = {}
    for path in docs:
        groups.setdefault(docs.language_of(path), []).append(path)
    return sorted(groups.items(), key=lambda item: (item[0] != site_language, item[0]))

"""The parse cache: what reading, cleaning and classifying produced last time, so unchanged
inputs are never processed twice. It is only a cache: deleting it never changes the output.

One folder (default ``.digest-cache/``) holds pickles under keys that name everything the
result depends on:

- ``sources/<key>``: a file's ``SourceReport`` as its reader returned it, without its items'
  raw bodies (each item keeps its body's hash); the key hashes the code version, the file
  name, its bytes and its metadata sidecar's bytes;
- ``sources/<stat-memo key>``: the stat of each file (and sidecar) when its key was made, so
  an unchanged file is not read again just to find its key (``source_keys``);
- ``articles/<key>``: the ``Article`` of each item of one (audited) report, without its body,
  which is in ``bodies.sqlite`` (store.py); the key hashes the code version and the items;
- ``classified``: countries, reasons, tags and authors per article, keyed by the code version,
  the classifying parts of the config and the article;
- ``assembly``: the last build's articles as assembled from all reports (assembly.py), which
  a build whose only news is new stories grows instead of assembling the archive again;
- ``search``: each search shard's files, and what the manifest says of it, keyed by its documents.

The code version is ``digest.__version__`` plus a hash of every module of the package, so any
code change starts from an empty cache. An entry that is missing, truncated, corrupt or from
another key is simply recomputed (and rewritten). Writes are atomic (temporary file, rename),
so an interrupted build leaves no half entry behind. After a build, ``prune`` removes the
entries it did not use, so the folder does not grow with every edit or code change.

Misses are computed in worker processes over all cores (``jobs``); the parent keeps the order.
A file that is read is cleaned in the same worker, and classifying workers read bodies from the
store themselves, so the build's own process never holds the archive's raw or cleaned bodies
(at 10,000 stories 250 and 190 MB, which the workers forked later would share and copy).
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cached_property, partial
from pathlib import Path
from typing import Callable, Iterator, Sequence

import digest
from digest.model import Article, SourceReport
from digest.sources import meta
from digest.store import Bodies, body_key, without_bodies
from digest.workers import trim_heap

DEFAULT_DIR = Path(".digest-cache")
_MAGIC = b"digest-parse-cache 1\n"
_PACKAGE = Path(digest.__file__).resolve().parent


def code_version() -> str:
    """``__version__`` plus a hash of every module of the package."""
    h = hashlib.sha256(digest.__version__.encode())
    for path in sorted(_PACKAGE.rglob("*.py")):
        h.update(path.relative_to(_PACKAGE).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


@dataclass
class Stats:
    hits: int = 0
    misses: int = 0
    corrupt: int = 0


@dataclass(frozen=True)
class ParseCache:
    """``root=None`` is a cache that stores nothing (every lookup misses)."""

    root: Path | None
    version: str = field(default_factory=code_version)
    stats: Stats = field(default_factory=Stats, compare=False)
    used: set = field(default_factory=set, compare=False)  # (kind, key) of this build, for prune()
    # Digests of pickled items and articles met in this build, by identity (the object is kept
    # with its digest, so an id is never reused): keys without pickling 150 MB again.
    digests: dict = field(default_factory=dict, compare=False)
    # The stories of the files read in this build, cleaned by the process that read them (their
    # bodies already in the store), by the digest of the file's items, until ``to_articles``.
    cleaned: dict = field(default_factory=dict, compare=False)
    bodies_used: set = field(default_factory=set, compare=False)  # body keys of this build, for prune_bodies()
    problems: list = field(default_factory=list, compare=False)  # "file: what went wrong" lines for the build

    @cached_property
    def bodies(self) -> Bodies:
        """The cleaned bodies (store.py), beside the pickles; opened on first use."""
        return Bodies(self.root)

    def digest(self, obj) -> bytes:
        """sha256 of ``obj`` pickled; for a tuple of items, by the identity of its elements."""
        if isinstance(obj, tuple) and obj:
            hit = self.digests.get(id(obj[0]))
            if hit and isinstance(hit[0], tuple) and len(hit[0]) == len(obj) and all(a is b for a, b in zip(hit[0], obj)):
                return hit[1]
        else:
            hit = self.digests.get(id(obj))
            if hit and hit[0] is obj:
                return hit[1]
        value = hashlib.sha256(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)).digest()
        self.remember(obj, value)
        return value

    def remember(self, obj, value: bytes) -> None:
        self.digests[id(obj[0]) if isinstance(obj, tuple) and obj else id(obj)] = (obj, value)

    def key(self, *parts: bytes | str) -> str:
        h = hashlib.sha256(self.version.encode())
        for part in parts:
            data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
            h.update(len(data).to_bytes(8, "little"))
            h.update(data)
        return h.hexdigest()

    def _path(self, kind: str, key: str) -> Path:
        return self.root / kind / key[:2] / key

    def load(self, kind: str, key: str):
        """The stored value, or None when missing, unreadable or not this key's."""
        if self.root is None:
            return None
        self.used.add((kind, key))
        path = self._path(kind, key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        head = _MAGIC + key.encode() + b"\n"
        try:
            if not data.startswith(head):
                raise ValueError("wrong header")
            return pickle.loads(data[len(head):])
        except Exception:  # a corrupt entry is recomputed, never trusted
            self.stats.corrupt += 1
            path.unlink(missing_ok=True)
            return None

    def has(self, kind: str, key: str) -> bool:
        """An entry is there (not read: it may still turn out corrupt); it counts as used."""
        if self.root is None:
            return False
        self.used.add((kind, key))
        return self._path(kind, key).is_file()

    def store(self, kind: str, key: str, value) -> bool:
        """Keep ``value`` under ``key``; False when it could not be (no cache, or a disk error)."""
        if self.root is None:
            return False
        self.used.add((kind, key))
        path = self._path(kind, key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(_MAGIC + key.encode() + b"\n")
                pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
            return True
        except OSError:  # a read-only or full disk makes the cache useless, not the build
            try:
                os.unlink(tmp)
            except (OSError, UnboundLocalError):
                pass
            return False


def prune(cache: ParseCache, kinds: tuple[str, ...] = ("sources", "articles")) -> int:
    """Remove the entries of ``kinds`` this build did not use (old file versions, old code), so
    the folder holds one build's worth instead of growing with every edit. Returns how many."""
    if cache.root is None:
        return 0
    removed = 0
    for kind in kinds:
        for path in (cache.root / kind).glob("*/*"):
            if (kind, path.name) not in cache.used:
                try:
                    path.unlink()
                    removed += 1
                except OSError:
                    pass
    return removed


def source_key(cache: ParseCache, path: Path) -> str | None:
    """Key of a cache file from its name and bytes and its sidecar's; None if unreadable."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        sidecar = meta.path_for(path).read_bytes()
    except OSError:
        sidecar = b"-"
    return cache.key("source", path.name, data, sidecar)


def source_keys(cache: ParseCache, paths: Sequence[Path]) -> list[str | None]:
    """``source_key`` of each path; a file whose stat (size, times, inode; its sidecar's too) is
    the one recorded when its key was last computed keeps that key unread: at 10,000 stories
    112 MB are not read and hashed on every build, at 100,000 1.2 GB. As git does, a stat
    within ``RACY_NS`` of its reading is not recorded (a write in the same clock tick would
    leave the times unchanged)."""
    if cache.root is None:
        return [None] * len(paths)
    memo_key = cache.key(STAT_MEMO)
    memo = cache.load("sources", memo_key)
    memo = memo if isinstance(memo, dict) else {}
    now = time.time_ns()  # decides only what the cache trusts, never what the site says
    seen: dict[str, tuple] = {}
    keys = []
    for path in paths:
        stamp = _stamp(path)
        hit = memo.get(path.name)
        key = hit[1] if stamp is not None and hit is not None and hit[0] == stamp else source_key(cache, path)
        if stamp is not None and key is not None and now - max(stamp[1:3] + stamp[5:7]) > RACY_NS:
            seen[path.name] = (stamp, key)
        keys.append(key)
    if seen != memo:
        cache.store("sources", memo_key, seen)
    return keys


def _stamp(path: Path) -> tuple | None:
    """(size, mtime, ctime, inode) of a file and of its sidecar (zeros when it has none)."""
    try:
        st = path.stat()
    except OSError:
        return None
    try:
        side = meta.path_for(path).stat()
        side_stamp = (side.st_size, side.st_mtime_ns, side.st_ctime_ns, side.st_ino)
    except OSError:
        side_stamp = (0, 0, 0, 0)
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, *side_stamp)


STAT_MEMO = "stat-memo"
RACY_NS = 2_000_000_000
MIN_PARALLEL = 8  # below this many files a process pool costs more than it saves
MIN_PARALLEL_CLASSIFY = 500  # … and below this many stories to classify


Progress = Callable[[str, int, int], None]  # (stage, done, total)


def _map(fn: Callable, items: Sequence, jobs: int, progress: Progress | None = None, stage: str = "") -> list:
    """``[fn(x) for x in items]``, across processes when there is enough work for it."""
    return list(_imap(fn, items, jobs, progress, stage))


def _imap(fn: Callable, items: Sequence, jobs: int, progress: Progress | None = None,
          stage: str = "") -> Iterator:
    """``_map`` as a stream: each result as soon as it (and those before it) are back, so the
    caller can store it and let it go."""
    if jobs <= 1 or len(items) < MIN_PARALLEL:
        for done, item in enumerate(items, 1):
            yield fn(item)
            if progress:
                progress(stage, done, len(items))
        return
    # gc.enable: the build's own process does not collect while it makes the model
    # (workers.no_collections); these workers make garbage with cycles and must.
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(items)), initializer=gc.enable)
    try:
        for done, result in enumerate(pool.map(fn, items, chunksize=max(1, len(items) // (jobs * 8))), 1):
            yield result
            if progress:
                progress(stage, done, len(items))
    finally:
        pool.shutdown(cancel_futures=True)


def read_sources(paths: Sequence[Path], cache: ParseCache, jobs: int,
                 read: Callable[[Path], SourceReport], progress: Progress | None = None) -> tuple[SourceReport, ...]:
    """``read(p)`` for every path, from the cache where the file has not changed."""
    keys = source_keys(cache, paths)
    out: list[SourceReport | None] = [None] * len(paths)
    for i, k in enumerate(keys):
        entry = cache.load("sources", k) if k else None
        if isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], SourceReport):
            out[i] = entry[0]
            cache.remember(entry[0].items, entry[1])
    missing = [i for i, r in enumerate(out) if r is None]
    cache.stats.hits += len(paths) - len(missing)
    cache.stats.misses += len(missing)
    # A file is read and its stories cleaned in one go, in the worker that parsed it: the raw
    # bodies (250 MB at 10,000 stories) never reach this process, only the cleaned ones, which
    # go straight to the store.
    for i, (light, items_digest, (articles, rows)) in zip(
            missing, _imap(partial(_read_and_clean, read), [paths[i] for i in missing], jobs, progress,
                           "reading sources")):
        cache.remember(light.items, items_digest)  # the light items answer to the full items' digest
        cache.bodies.put_many(rows)
        cache.cleaned[items_digest] = articles
        out[i] = light
        if keys[i]:
            cache.store("sources", keys[i], (light, items_digest))
    if missing:
        # Every cleaned body came through this process on its way to the store: the heap they
        # freed goes back now, before the classifying workers fork (10,000 stories: 362 → 88 MB).
        trim_heap()
    return tuple(out)


def _read_and_clean(read: Callable[[Path], SourceReport], path: Path) -> tuple:
    """``read(path)`` without its raw bodies, the digest of its full items, and its stories as
    ``to_articles`` cleans them: light, plus the ``(key, body)`` rows for the store."""
    report = read(path)
    digest = hashlib.sha256(pickle.dumps(report.items, protocol=pickle.HIGHEST_PROTOCOL)).digest()
    return without_bodies(report), digest, _clean(report)


def _clean(report: SourceReport) -> tuple[tuple[Article, ...], list[tuple[str, str]]]:
    """The report's stories without their bodies, and the bodies as store rows."""
    from digest.normalize import to_article
    articles = [to_article(item) for item in report.items]
    return tuple(replace(a, body_html="") for a in articles), [(a.body_key, a.body_html) for a in articles]


def _with_bodies(report: SourceReport, full: SourceReport | None) -> SourceReport | None:
    """``report`` (light, and perhaps changed by the cache-wide audit) with the raw bodies of
    ``full``, the same file read in full; None when they are not the same items."""
    if full is None or len(full.items) != len(report.items):
        return None
    items = []
    for light, item in zip(report.items, full.items):
        if light.content_digest:
            if body_key(item.content_html) != light.content_digest:
                return None
            light = replace(light, content_html=item.content_html, content_digest="")
        items.append(light)
    return replace(report, items=tuple(items))


def to_articles(reports: Sequence[SourceReport], cache: ParseCache, jobs: int,
                progress: Progress | None = None,
                reread: Callable[[str], SourceReport | None] | None = None) -> list[Article]:
    """``to_article`` of every item of every report, in order, cached per report. The articles
    come without their bodies, which go to ``cache.bodies``; a cached report whose bodies the
    store no longer has is cleaned again. ``reread(file)`` reads a light report's file again,
    for its raw bodies, when this build did not clean its items as read (the cache-wide audit
    changed them, or they come from the cache)."""
    digests = [cache.digest(r.items) for r in reports]
    keys = [cache.key("articles", d) if cache.root else "" for d in digests]
    out: list = [None] * len(reports)
    stored = cache.bodies.keys() if cache.root else set()
    for i, k in enumerate(keys):
        cleaned = cache.cleaned.get(digests[i])
        if cleaned is not None and len(cleaned) == len(reports[i].items):
            out[i] = cleaned
            if k:
                _store_articles(cache, k, cleaned)
            continue
        entry = cache.load("articles", k) if k else None
        if (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], tuple)
                and len(entry[0]) == len(reports[i].items) == len(entry[1])
                and all(a.body_key in stored for a in entry[0])):
            out[i] = entry[0]
            for article, value in zip(*entry):
                cache.remember(article, value)
    cache.cleaned.clear()  # files whose items the audit changed: cleaned again below
    missing = [i for i, a in enumerate(out) if a is None]
    full = [_full(reports[i], cache, reread) for i in missing]
    for i, report, (articles, rows) in zip(missing, full, _map(_clean, full, jobs, progress, "cleaning bodies")):
        cache.bodies.put_many(rows)
        out[i] = articles
        if cache.root and not any(item.content_digest for item in report.items):
            _store_articles(cache, keys[i], articles)
    cache.bodies_used.update(a.body_key for articles in out for a in articles)
    return [a for articles in out for a in articles]


def _store_articles(cache: ParseCache, key: str, articles: tuple[Article, ...]) -> None:
    """A report's light articles with their digests (the next build's classification keys)."""
    cache.store("articles", key, (articles, tuple(cache.digest(a) for a in articles)))


def _full(report: SourceReport, cache: ParseCache, reread) -> SourceReport:
    """The report with its raw bodies, read again from its file."""
    if not any(i.content_digest for i in report.items):
        return report
    full = _with_bodies(report, reread(report.file)) if reread is not None else None
    if full is None:  # the file changed under the build: its stories go without text, uncached
        cache.problems.append(f"{report.file}: changed while the build read it; its stories are shown "
                              "without their text until the next build")
        return report
    return full


def prune_bodies(cache: ParseCache) -> int:
    """Remove the bodies no article of this build has (call after a build that read them all)."""
    return cache.bodies.keep_only(cache.bodies_used) if cache.root else 0


_CLASSIFY_FIELDS = ("countries", "country_reasons", "tags", "authors")


def _classify_chunk(args) -> list[tuple]:
    articles, bodies, countries, tag_aliases, author_aliases = args
    from digest.classify import Classifier
    classifier = Classifier(countries, tag_aliases, author_aliases)
    if bodies is not None:
        articles = (_with_body(a, bodies) for a in articles)
    return [tuple(getattr(c, f) for f in _CLASSIFY_FIELDS) for c in map(classifier.classify, articles)]


def _with_body(article: Article, bodies: Bodies) -> Article:
    return article if article.body_html or not article.body_key else replace(article, body_html=bodies.get(article.body_key))


def classify_all(articles: list[Article], config, cache: ParseCache, jobs: int,
                 progress: Progress | None = None, only_some: bool = False) -> list[Article]:
    """``classify(articles, config)``, with each article's result remembered. The table of
    results keeps only these articles' unless ``only_some`` (they are not all of the site's)."""
    setting = (config.countries, dict(config.tag_aliases), dict(config.author_aliases))
    fixed = pickle.dumps(setting, protocol=pickle.HIGHEST_PROTOCOL)
    keys = [cache.key("classify", fixed, cache.digest(a)) if cache.root else str(i) for i, a in enumerate(articles)]
    table_key = cache.key("classified-table")
    table = cache.load("classified", table_key)
    if not isinstance(table, dict):
        table = {}
    results = [table.get(k) for k in keys]
    missing = [i for i, r in enumerate(results) if r is None]
    if missing:
        jobs = jobs if len(missing) > MIN_PARALLEL_CLASSIFY else 1
        # One chunk per process when there is one: each chunk compiles the country patterns
        # again (0.1 s each), which a new feed's hundred stories paid eight times.
        step = max(1, -(-len(missing) // (jobs * 4))) if jobs > 1 else len(missing)
        # Countries are also named in the body: the stories to classify get theirs back, read
        # one at a time by the process that classifies them when the store has them all in its
        # file (else here): the parent never holds the archive's bodies (190 MB at 10,000).
        bodies = cache.bodies if cache.bodies.all_in_file else None
        chunks = [([articles[i] if bodies else _with_body(articles[i], cache.bodies) for i in missing[s:s + step]],
                   bodies, *setting) for s in range(0, len(missing), step)]
        flat = [r for chunk in _map(_classify_chunk, chunks, jobs, progress, "classifying") for r in chunk]
        for i, r in zip(missing, flat):
            results[i] = r
    fresh = dict(zip(keys, results))
    if only_some:
        fresh = table | fresh
    if cache.root and (missing or len(fresh) != len(table)):  # keep only this build's articles: the table never grows stale
        cache.store("classified", table_key, fresh)
    return [replace(a, **dict(zip(_CLASSIFY_FIELDS, r))) for a, r in zip(articles, results)]


"""The no-change rebuild: when no input changed since the last build and ``dist/`` is exactly as
that build left it, the site on disk is already the answer (builds are deterministic).

Inputs are everything a build reads: the code (``parsecache.code_version``), the config,
``SOURCE_DATE_EPOCH``, and every file of the site folder (content cache, templates, static
files, newsletter picks, config files; not hidden files and folders, which the readers ignore
too, nor the output and the parse cache), the cache, template and static folders wherever
they are, and the built-in templates and static files. Files are compared by name, size and modification time in nanoseconds, as ``make`` and
rsync do; any difference, or any doubt (an unreadable state file, a touched ``dist/`` file),
means a full build.

The state lives in the parse cache folder: ``last-build`` holds the fingerprint, the writer's
manifest of ``dist/`` (size, mtime, inode, hash and render key of every file, see write.py)
and the last report (counts, warnings). The same manifest lets a build that does have work
skip every page whose inputs did not change. The model is not stored: a caller that asks for
it after a no-change build gets it from the parse cache (pickling it cost seconds at 10,000).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from collections.abc import Collection, Mapping
from pathlib import Path

from digest.config import Config
from digest.editorial import EDITOR_DIR
from digest.parsecache import ParseCache
from digest import previous
from digest.previous import Entry, Manifest

_SKIP_DIRS = {"__pycache__", "node_modules"}
STATE_KIND = "state"


class Recorded(Mapping):
    """The writer's manifest as it is stored: one column per field rather than an ``Entry`` per
    file. At 100,000 stories (286,000 files) the dict of entries took 1.2 s to unpickle, a fifth
    of a no-change build, and the columns take 0.1 s; ``stats()`` is all a no-change build
    reads, and a build that renders makes the entry of a file when it asks for it (making all
    29,000 of them up front was 0.16 s of every build that renders at 10,000 stories)."""

    def __init__(self, paths: list[str], sizes: list[int], mtimes: list[int], inodes: list[int],
                 digests: bytes, keys: list[str | None]):
        self._columns = (paths, sizes, mtimes, inodes, digests, keys)
        self._index: dict[str, int] | None = None

    @classmethod
    def of(cls, manifest: Manifest) -> "Recorded":
        entries = manifest.values()
        return cls(list(manifest), [e.size for e in entries], [e.mtime_ns for e in entries],
                   [e.ino for e in entries], b"".join(e.digest for e in entries), [e.key for e in entries])

    def __reduce__(self):
        return (Recorded, self._columns)

    def stats(self) -> dict[str, tuple[int, int, int]]:
        paths, sizes, mtimes, inodes = self._columns[:4]
        return dict(zip(paths, zip(sizes, mtimes, inodes)))

    def index(self) -> dict[str, int]:
        """Each path's row (made once; a build makes it before its workers fork)."""
        if self._index is None:
            self._index = dict(zip(self._columns[0], range(len(self._columns[0]))))
        return self._index

    def _entry(self, i: int) -> Entry:
        paths, sizes, mtimes, inodes, digests, keys = self._columns
        size = len(digests) // len(paths)
        return Entry(sizes[i], mtimes[i], inodes[i], digests[i * size:(i + 1) * size], keys[i])

    def __getitem__(self, path: str) -> Entry:
        return self._entry(self.index()[path])

    def get(self, path: str, default=None):
        # Asked once per file of the site by a build that renders: one lookup, not two.
        i = (self._index if self._index is not None else self.index()).get(path)
        return default if i is None else self._entry(i)

    def __contains__(self, path) -> bool:
        return path in self.index()

    def __iter__(self):
        return iter(self._columns[0])

    def __len__(self) -> int:
        return len(self._columns[0])


@dataclass(frozen=True)
class State:
    fingerprint: str
    out_dir: str
    snapshot: "Snapshot"
    manifest: Recorded  # every file of dist/ as the writer left it
    folders: Mapping[str, int] | None = None  # and the modification time of its folders


@dataclass(frozen=True)
class Snapshot:
    """What the last build reported."""

    files: int
    stories: int
    sources: int
    problems: tuple[str, ...]
    bytes: int = 0  # of dist/ (the build summary and the size_limit warning)


def _listing(folder: Path, skip: set[Path]) -> list[tuple[str, int, int]]:
    out = []
    if not folder.is_dir():
        return out
    for top, dirs, names in os.walk(folder):
        top_path = Path(top)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS
                         and (top_path / d).resolve() not in skip)
        for name in sorted(n for n in names if not n.startswith(".")):  # hidden files are not read
            try:
                st = (top_path / name).stat()
            except OSError:
                continue
            out.append(((top_path / name).as_posix(), st.st_size, st.st_mtime_ns))
    return out


def fingerprint(config: Config, environ, cache: ParseCache, extra_dirs: tuple[Path, ...] = ()) -> str:
    """A hash of everything the build reads (see the module docstring)."""
    skip = {config.path(config.out_dir).resolve()}
    if cache.root is not None:
        skip.add(cache.root.resolve())
    h = hashlib.sha256()
    h.update(cache.version.encode())
    h.update(repr(config).encode())
    h.update(repr(environ.get("SOURCE_DATE_EPOCH")).encode())
    folders = [config.root, config.path(config.cache_dir), config.path(config.templates_dir),
               config.path(config.static_dir), *extra_dirs]
    for folder in dict.fromkeys(f.resolve() for f in folders):
        h.update(repr(_listing(folder, skip)).encode())
    return h.hexdigest()


def content_fingerprint(config: Config, environ, cache: ParseCache) -> str:
    """A hash of what the model is made from: the code, the config, ``SOURCE_DATE_EPOCH``, the
    content cache and the newsletter notes (their stale picks are the model's warnings); not
    templates or static files, which only render."""
    h = hashlib.sha256()
    h.update(cache.version.encode())
    h.update(repr(config).encode())
    h.update(repr(environ.get("SOURCE_DATE_EPOCH")).encode())
    h.update(repr(_listing(config.path(config.cache_dir).resolve(), set())).encode())
    h.update(repr(_listing(config.path(EDITOR_DIR).resolve(), set())).encode())
    return h.hexdigest()


def load(cache: ParseCache, out_dir: Path) -> State | None:
    """What the last build into ``out_dir`` left: its input fingerprint, report and manifest."""
    state = cache.load(STATE_KIND, "last-build")
    if not isinstance(state, State) or state.out_dir != str(out_dir.resolve()):
        return None
    return state


def untouched(state: State, out_dir: Path) -> bool:
    """``dist/`` is as the build of ``state`` left it, by one stat of each of its files and
    folders (previous.untouched); False may only mean "look closer" (previous.Previous)."""
    stats = getattr(state.manifest, "stats", None)
    return bool(stats and state.folders) and previous.untouched(out_dir, stats(), state.folders)


def previous_site(state: State | None, out_dir: Path) -> previous.Previous:
    """``dist/`` as this build finds it, against what the build of ``state`` left: by a stat of
    each recorded file and folder when nothing moved (at 10,000 stories 0.1 s instead of the
    0.3 s of listing it), else compared in full."""
    if state is None:
        return previous.Previous(out_dir, None)
    if untouched(state, out_dir):
        return previous.Previous(out_dir, state.manifest, on_disk=state.manifest.stats())
    return previous.Previous(out_dir, state.manifest)


def save(cache: ParseCache, key: str, out_dir: Path, snapshot: Snapshot, manifest: Manifest,
         known: Mapping[str, int] | None = None, touched: Collection[str] = ()) -> None:
    """Record the build that just wrote ``out_dir`` (call it once the writer is done).
    ``known``, ``touched``: see previous.folder_stamps."""
    folders = previous.folder_stamps(out_dir, manifest, known, touched)
    cache.store(STATE_KIND, "last-build", State(key, str(out_dir.resolve()), snapshot, Recorded.of(manifest), folders))

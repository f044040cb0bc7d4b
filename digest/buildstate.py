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
from pathlib import Path

from digest.config import Config
from digest.editorial import EDITOR_DIR
from digest.parsecache import ParseCache
from digest.write import Manifest

_SKIP_DIRS = {"__pycache__", "node_modules"}
STATE_KIND = "state"


@dataclass(frozen=True)
class State:
    fingerprint: str
    out_dir: str
    snapshot: "Snapshot"
    manifest: Manifest  # every file of dist/ as the writer left it


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


def save(cache: ParseCache, key: str, out_dir: Path, snapshot: Snapshot, manifest: Manifest) -> None:
    cache.store(STATE_KIND, "last-build", State(key, str(out_dir.resolve()), snapshot, manifest))

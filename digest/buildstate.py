"""The no-change rebuild: when no input changed since the last build and ``dist/`` is exactly as
that build left it, the site on disk is already the answer (builds are deterministic).

Inputs are everything a build reads: the code (``parsecache.code_version``), the config,
``SOURCE_DATE_EPOCH``, and every file of the site folder (content cache, templates, static
files, newsletter picks, config files; not hidden files and folders, which the readers ignore
too, nor the output and the parse cache), the cache, template and static folders wherever
they are, and the built-in templates and static files. Files are compared by name, size and modification time in nanoseconds, as ``make`` and
rsync do; any difference, or any doubt (an unreadable state file, a touched ``dist/`` file),
means a full build.

The state lives in the parse cache folder: ``last-build`` holds the fingerprint, the manifest
of ``dist/`` (name, size, mtime, inode of every file) and the last report (counts, warnings);
``last-site`` the pickled site model, read only if the caller asks for the model.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from digest.config import Config
from digest.model import Site
from digest.parsecache import ParseCache

_SKIP_DIRS = {"__pycache__", "node_modules"}
STATE_KIND = "state"


@dataclass(frozen=True)
class Snapshot:
    """What the last build reported; its model stays on disk until asked for (``load_site``)."""

    files: int
    stories: int
    sources: int
    problems: tuple[str, ...]


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


def manifest(out_dir: Path) -> dict[str, tuple[int, int, int]]:
    out = {}
    for top, _, names in os.walk(out_dir):
        for name in names:
            path = os.path.join(top, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            out[os.path.relpath(path, out_dir)] = (st.st_size, st.st_mtime_ns, st.st_ino)
    return out


def load(cache: ParseCache, key: str, out_dir: Path) -> Snapshot | None:
    """The last build's report, when its inputs hashed to ``key`` and ``out_dir`` is untouched."""
    state = cache.load(STATE_KIND, "last-build")
    if not isinstance(state, dict) or state.get("fingerprint") != key:
        return None
    if state.get("out_dir") != str(out_dir.resolve()) or manifest(out_dir) != state.get("manifest"):
        return None
    snapshot = state.get("snapshot")
    return snapshot if isinstance(snapshot, Snapshot) else None


def load_site(cache: ParseCache) -> Site | None:
    site = cache.load(STATE_KIND, "last-site")
    return site if isinstance(site, Site) else None


def save(cache: ParseCache, key: str, out_dir: Path, site: Site, files: int) -> None:
    # The model first: a state that points to it is only written once it is there.
    cache.store(STATE_KIND, "last-site", site)
    snapshot = Snapshot(files=files, stories=len(site.order), sources=len(site.sources), problems=site.problems)
    cache.store(STATE_KIND, "last-build", {
        "fingerprint": key, "out_dir": str(out_dir.resolve()), "manifest": manifest(out_dir), "snapshot": snapshot,
    })

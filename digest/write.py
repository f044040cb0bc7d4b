"""The only writer. A build never leaves a half-written site behind: everything that changed is
first written into a staging folder next to ``dist/``, and only when the whole site has been
produced does it go live. The first build renames the finished folder into place; later builds
move each changed file into place (one rename each) and delete what the site no longer has.
Files whose bytes did not change are never touched, so they keep their mtimes (rsync, Pages),
and a rebuild after a small change costs the size of the change, not of the site (at 10,000
stories, copying the tree as hard links and removing the old one took 7 s).

The writer remembers what it wrote (``Manifest``: size, mtime, inode, hash and the renderer's
key of every file). A file still on disk exactly as written (same size, mtime and inode) is
*trusted*, and so is one whose bytes still hash to what was written (a site restored from a
CI cache has new inodes and mtimes): the renderer may skip a page whose key is unchanged (``Unchanged``), and the writer
compares new bytes with the recorded hash instead of reading the old file. Anything else in
``dist/`` (edited by hand, replaced, unknown) is compared by its bytes, or removed.
"""

from __future__ import annotations

import itertools
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Iterable, Mapping

from digest.artifact import Artifact, Output, Staged, Unchanged
from digest.mover import Mover
from digest.previous import Entry, Manifest, Previous, digest_of, folders_of, same_bytes

class UnsafePath(ValueError):
    """A generated path that would land outside the output folder."""


def safe_relpath(path: str) -> str:
    """``path`` as the site path it names (``a//b/`` is ``a/b``); ``UnsafePath`` if it would
    land outside the output folder. A path already in that form, as ours are, is returned as
    it is without building a ``PurePosixPath`` (30,000 of them per build)."""
    if path and "\\" not in path and "\x00" not in path and "//" not in path and path[0] != "/" and path[-1] != "/":
        parts = path.split("/")
        if "." not in parts and ".." not in parts:
            return path
    rel = PurePosixPath(path)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts or "\\" in path or "\x00" in path:
        raise UnsafePath(f"refusing to write {path!r} outside the output folder")
    return str(rel)


@dataclass
class Written:
    files: int
    written: int
    unchanged: int
    manifest: Manifest
    removed: int = 0  # files of the previous site it no longer has
    touched: frozenset[str] | None = None  # the folders it may have changed ("" the top); None: any

    def counts(self) -> dict[str, int]:
        return {"files": self.files, "written": self.written, "unchanged": self.unchanged}


def write_site(files: Mapping[str, bytes] | Iterable[tuple[str, bytes]], out_dir: Path) -> dict[str, int]:
    """Write ``files`` (site path → bytes, or ``(path, bytes)`` pairs as they are produced) as
    the new ``out_dir``. A path given twice keeps its last bytes. Returns counts."""
    return update_site(files, out_dir).counts()


def update_site(files: Mapping[str, bytes] | Iterable[Output | tuple[str, bytes]], out_dir: Path,
                previous: Previous | None = None, staged_in: Path | None = None) -> Written:
    """``write_site`` for a stream of artifacts (or ``(path, bytes)`` pairs); ``Unchanged`` is
    only valid for a path ``previous.fresh`` approved, ``Staged`` for a file in the folder
    ``staged_in`` (stage.py). Returns counts and the new manifest."""
    out_dir = out_dir.absolute()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    in_place = out_dir.is_dir() and not out_dir.is_symlink()
    if previous is None:
        previous = Previous(out_dir, None)
    _clear_abandoned(out_dir)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-new-{os.getpid()}-", dir=out_dir.parent))
    site = _InPlace(out_dir, tmp, previous) if in_place else _Fresh(tmp)
    pairs = sorted(files.items()) if isinstance(files, Mapping) else files
    try:
        for item in pairs:
            if isinstance(item, Unchanged):
                site.keep(safe_relpath(item.path), item.key)
            elif isinstance(item, Staged):
                if staged_in is None:
                    raise ValueError(f"{item.path}: staged, but no staging folder was given")
                site.take(safe_relpath(item.path), item, staged_in)
            else:
                item = item if isinstance(item, Artifact) else Artifact(*item)
                if not isinstance(item.data, bytes):
                    raise TypeError(f"{item.path}: expected bytes, got {type(item.data).__name__} (use Unchanged to keep a file)")
                site.add(safe_relpath(item.path), item.data, item.key)
        result = site.finish(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return result


def _clear_abandoned(out_dir: Path) -> None:
    """Remove the staging folders of builds that were killed (their process is gone); a build
    still running beside this one keeps its own."""
    for folder in out_dir.parent.glob(f".{out_dir.name}-new-*"):
        pid = folder.name[len(f".{out_dir.name}-new-"):].split("-", 1)[0]
        if not pid.isdigit():
            continue  # not one of ours (or from before pids were in the name): left alone
        try:
            os.kill(int(pid), 0)
            continue  # that build is still running
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:
            continue  # another user's live process


class _Fresh:
    """No site yet: write the tree into the staging folder and rename it into place."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.made: set[Path] = {tmp}
        self.files: dict[str, tuple[bytes, str | None]] = {}

    def keep(self, rel: str, key: str) -> None:
        raise ValueError(f"{rel}: nothing to keep, there is no previous site")

    def add(self, rel: str, data: bytes, key: str | None) -> None:
        target = self.tmp / rel
        if target.parent not in self.made:
            target.parent.mkdir(parents=True, exist_ok=True)
            self.made.add(target.parent)
        target.write_bytes(data)
        self.files[rel] = (digest_of(data), key)

    def take(self, rel: str, item: Staged, folder: Path) -> None:
        if item.name is None:
            raise ValueError(f"{rel}: kept, but there is no previous site")
        target = self.tmp / rel
        if target.parent not in self.made:
            target.parent.mkdir(parents=True, exist_ok=True)
            self.made.add(target.parent)
        os.replace(folder / item.name, target)
        self.files[rel] = (item.digest, item.key)

    def finish(self, out_dir: Path) -> Written:
        if out_dir.is_symlink() or out_dir.exists():  # a symlink or file where the site goes
            out_dir.unlink()
        self.tmp.rename(out_dir)
        os.chmod(out_dir, 0o755)
        manifest = {}
        for rel, (dig, key) in self.files.items():
            st = os.stat(out_dir / rel)
            manifest[rel] = Entry(st.st_size, st.st_mtime_ns, st.st_ino, dig, key)
        return Written(len(manifest), len(manifest), 0, manifest)


class _InPlace:
    """A site is there: stage what changed, then move it in and remove what is gone."""

    def __init__(self, out_dir: Path, tmp: Path, previous: Previous):
        self.out_dir, self.tmp, self.previous = out_dir, tmp, previous
        self.kept: dict[str, Entry] = {}
        # rel → (staged file, digest, key, its (size, mtime_ns, inode) if known)
        self.staged: dict[str, tuple[Path, bytes, str | None, tuple | None]] = {}
        self.names = itertools.count()

    def _replace(self, rel: str) -> None:
        self.kept.pop(rel, None)  # a later copy wins
        old = self.staged.pop(rel, None)
        if old:
            os.unlink(old[0])

    def keep(self, rel: str, key: str) -> None:
        self._replace(rel)
        trusted = self.previous.trusted.get(rel)
        if trusted is None or trusted.key != key:
            raise ValueError(f"{rel}: kept, but the file in the output folder is not the one the last build wrote")
        self.kept[rel] = trusted

    def add(self, rel: str, data: bytes, key: str | None) -> None:
        self._replace(rel)
        dig = digest_of(data)
        entry = self.previous.holding(rel, data, dig, key)
        if entry is not None:
            self.kept[rel] = entry
            return
        staged = self.tmp / str(next(self.names))
        staged.write_bytes(data)
        self.staged[rel] = (staged, dig, key, None)

    def take(self, rel: str, item: Staged, folder: Path) -> None:
        self._replace(rel)
        if item.name is not None:
            self.staged[rel] = (folder / item.name, item.digest, item.key, item.stat)
            return
        # The worker found these bytes in dist/ (Previous.holding): still the file it compared?
        if item.stat is None or self.previous.on_disk.get(rel) != tuple(item.stat):
            raise ValueError(f"{rel}: kept, but the file in the output folder is not the one the worker compared")
        self.kept[rel] = Entry(*item.stat, item.digest, item.key)

    def finish(self, out_dir: Path) -> Written:
        # Everything is rendered: from here on only renames and deletions. The folders of the
        # files found in dist/ were real folders, not links, when it was checked (previous.py):
        # only new ones are looked at (an lstat per folder was a fifth of moving 16,000 pages).
        made = folders_of(self.previous.on_disk)
        manifest = dict(self.kept)
        root, aside = str(out_dir), f"{self.tmp}/old-"
        on_disk = self.previous.on_disk
        with Mover() as mover:  # the old files are removed beside the renames (mover.py)
            for n, (rel, (staged, dig, key, known)) in enumerate(self.staged.items()):
                target = f"{root}/{rel}"
                if rel.rpartition("/")[0] not in made:
                    _safe_parent(out_dir, rel, made)
                if rel in on_disk:
                    mover.replace(str(staged), target, f"{aside}{n}")
                else:
                    mover.move(staged, target)
                if known is None:
                    st = os.stat(target)
                    known = (st.st_size, st.st_mtime_ns, st.st_ino)
                manifest[rel] = Entry(*known, dig, key)
            gone = sorted(set(on_disk) - set(manifest), reverse=True)
            for rel in gone:
                mover.remove(f"{root}/{rel}")
        for folder in sorted({str(PurePosixPath(rel).parent) for rel in gone} - {"."}, key=len, reverse=True):
            for parent in [PurePosixPath(folder), *PurePosixPath(folder).parents][:-1]:
                try:
                    os.rmdir(out_dir / parent)  # only if now empty
                except OSError:
                    break
        shutil.rmtree(self.tmp, ignore_errors=True)
        # A folder changes when a file moves in or out of it, or a folder in it is made or removed:
        # every such folder holds, or is above, a file that was moved in or removed.
        touched = frozenset(folders_of(itertools.chain(self.staged, gone)))
        return Written(len(manifest), len(self.staged), len(self.kept), manifest, len(gone), touched)


def _safe_parent(out_dir: Path, rel: str, made: set[str]) -> None:
    """Make the folders of ``rel`` inside ``out_dir``, replacing any symlink or file in the way,
    so a write can never follow a link out of the site."""
    parts = PurePosixPath(rel).parts[:-1]
    for i in range(1, len(parts) + 1):
        sub = "/".join(parts[:i])
        if sub in made:
            continue
        path = out_dir / sub
        try:
            st = os.lstat(path)
            if not stat.S_ISDIR(st.st_mode):
                os.unlink(path)
                os.mkdir(path)
        except FileNotFoundError:
            os.mkdir(path)
        made.add(sub)


def patch_files(files: Iterable[Artifact], out_dir: Path) -> list[str]:
    """Replace a few files of a built site at once, each atomically (written beside it, then
    renamed), leaving everything else alone: ``digest serve`` puts the pages open in a browser
    in place this way before the rest of the build has caught up (the build's writer then
    finds the same bytes and keeps them). Returns the paths of the files that changed."""
    out_dir = out_dir.absolute()
    made: set[str] = set()
    changed = []
    for artifact in files:
        rel = safe_relpath(artifact.path)
        target = out_dir / rel
        if same_bytes(target, artifact.data):
            continue
        _safe_parent(out_dir, rel, made)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".patch-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(artifact.data)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        changed.append(rel)
    return changed

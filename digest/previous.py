"""``dist/`` as the last build left it: the writer's manifest (size, mtime, inode, hash and the
renderer's key of every file) and what is on disk now, compared. A build that finds nothing
changed stops there (``untouched``); one that renders asks which files it may keep unrendered
(``Previous.fresh``) and the writer which bytes it need not write.

Checking ``dist/`` is most of a no-change build at 100,000 stories (286,000 files in 110,000
folders). Listing every folder took 1.3 s there and stat-ing every file 0.8 s, so the first
check (``untouched``) lists nothing: it stats each recorded folder and file. A file added,
removed or renamed anywhere changes the modification time of the folder that holds it, and a
file edited in place changes its own; any difference means the full comparison (``Previous``),
which also trusts a file whose bytes are still the recorded ones under a new inode (a site
restored from a CI cache).
"""

from __future__ import annotations

import hashlib
import os
import stat
from functools import cached_property
from pathlib import Path
from typing import Collection, Iterable, Mapping, NamedTuple


class Entry(NamedTuple):
    """One file of ``dist/`` as the writer left it."""

    size: int
    mtime_ns: int
    ino: int
    digest: bytes
    key: str | None  # the renderer's key for the file's inputs, when it gave one


Manifest = dict[str, Entry]


def digest_of(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def _digest_of_file(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, lambda: hashlib.blake2b(digest_size=16)).digest()
    except OSError:
        return None


def same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.is_file() and not path.is_symlink() and path.read_bytes() == data
    except OSError:
        return False


def scan(out_dir: Path) -> dict[str, tuple[int, int, int]]:
    """Every file (and symlink) under ``out_dir``: site path → (size, mtime_ns, inode). Symlinks
    are listed with an impossible size so they are never trusted, and never followed."""
    out: dict[str, tuple[int, int, int]] = {}
    stack = [("", str(out_dir))]
    while stack:
        prefix, folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for e in entries:
            rel = prefix + e.name
            if e.is_dir(follow_symlinks=False):
                stack.append((rel + "/", e.path))
                continue
            try:
                st = e.stat(follow_symlinks=False)
            except OSError:
                continue
            out[rel] = (st.st_size if stat.S_ISREG(st.st_mode) else -1, st.st_mtime_ns, st.st_ino)
    return out


class Previous:
    """``dist/`` before this build, checked against the last build's manifest. ``manifest`` is
    any mapping of path to ``Entry``; one with a ``stats()`` method (buildstate's stored form)
    gives the (size, mtime_ns, inode) of every file without making 100,000 entries."""

    def __init__(self, out_dir: Path, manifest: Mapping[str, Entry] | None,
                 on_disk: dict[str, tuple[int, int, int]] | None = None):
        """``on_disk``: what ``untouched`` just found, the manifest's own ``stats()``; then
        ``dist/`` is not listed again."""
        self.out_dir = out_dir
        self.manifest = manifest or {}
        self.expected = len(self.manifest)
        self.listed = on_disk is None  # dist/ was listed: the quick check found a difference
        if on_disk is not None:
            self.on_disk, self.exact = on_disk, self.expected > 0
            return
        self.on_disk = scan(out_dir) if out_dir.is_dir() and not out_dir.is_symlink() else {}
        stats = getattr(self.manifest, "stats", None)
        # The usual case, compared at C speed.
        self.exact = self.expected > 0 and self.on_disk == (
            stats() if stats else {path: tuple(entry[:3]) for path, entry in self.manifest.items()})
        if not self.exact:
            self.trusted  # hashes what moved now, in this process, before any worker forks

    @cached_property
    def trusted(self) -> Mapping[str, Entry]:
        """The files of the manifest still on disk as written. Made when first needed, so a
        no-change build does not make them; a build that renders asks for them (stage.Stage)
        before its workers fork."""
        if self.exact:
            # Every entry as recorded: the manifest itself, when it makes each entry as it is
            # asked for (buildstate.Recorded).
            index = getattr(self.manifest, "index", None)
            if index is not None:
                index()  # once, here, not in each worker after the fork
                return self.manifest
            return dict(self.manifest)
        trusted: Manifest = {}
        for path, entry in self.manifest.items():
            seen = self.on_disk.get(path)
            if seen == (entry.size, entry.mtime_ns, entry.ino):
                trusted[path] = entry
            elif seen is not None and seen[0] == entry.size and _digest_of_file(self.out_dir / path) == entry.digest:
                # The same bytes under a new inode or mtime: a site restored from a CI cache or
                # copied back. Hashing it (about 1 s per GB) beats rendering it again.
                trusted[path] = entry._replace(mtime_ns=seen[1], ino=seen[2])
        return trusted

    def untouched(self) -> bool:
        """``dist/`` holds exactly the files of the last build, each as it was written."""
        return self.exact or len(self.trusted) == len(self.on_disk) == self.expected > 0

    def holding(self, rel: str, data: bytes, digest: bytes, key: str | None) -> Entry | None:
        """The entry of the file at ``rel`` if ``dist/`` already has exactly ``data`` there
        (the recorded hash of a trusted file, else the bytes of a file of the same size), so
        the writer keeps it instead of writing it; ``None`` if it must be written."""
        trusted = self.trusted.get(rel)
        if trusted is not None:
            return trusted._replace(key=key) if trusted.digest == digest else None
        seen = self.on_disk.get(rel)
        if seen is not None and seen[0] == len(data) and same_bytes(self.out_dir / rel, data):
            return Entry(*seen, digest, key)
        return None

    def fresh(self, path: str, key: str | None) -> bool:
        """The file is on disk as the last build wrote it from inputs with this ``key``."""
        entry = self.trusted.get(path)
        return key is not None and entry is not None and entry.key == key


def folder_stamps(out_dir: Path, paths: Iterable[str], known: Mapping[str, int] | None = None,
                  touched: Collection[str] = ()) -> dict[str, int]:
    """The modification time of every folder holding one of ``paths`` (site paths in
    ``out_dir``), and of the folders above it up to ``out_dir`` itself (""). Read after the
    writer is done, for ``untouched``. ``known``: the times found at the start of the build
    (``untouched`` checked them), which hold for every folder the writer did not touch, so
    only the ``touched`` ones are read again (a new feed: 1,400 folders, not 17,700)."""
    root = str(out_dir)
    out = {}
    for f in sorted(folders_of(paths)):
        stamp = known.get(f) if known is not None and f not in touched else None
        out[f] = stamp if stamp is not None else os.lstat(f"{root}/{f}" if f else root).st_mtime_ns
    return out


def folders_of(paths: Iterable[str]) -> set[str]:
    """Every folder holding one of ``paths`` and every folder above it, with "" for the top."""
    folders = {""}
    for path in paths:
        cut = path.rfind("/")
        while cut > 0:
            folder = path[:cut]
            if folder in folders:
                break  # and so are the folders above it
            folders.add(folder)
            cut = folder.rfind("/")
    return folders


def untouched(out_dir: Path, files: Mapping[str, tuple[int, int, int]], folders: Mapping[str, int]) -> bool:
    """``dist/`` holds exactly ``files`` (site path → size, mtime, inode, as ``scan`` gives
    them), going by one stat of each recorded folder and file: nothing is listed. False at the
    first difference or doubt; then compare in full (``Previous``)."""
    if not files or "" not in folders:
        return False
    root = str(out_dir)
    try:
        for folder, mtime in folders.items():
            st = os.lstat(f"{root}/{folder}" if folder else root)
            if st.st_mtime_ns != mtime or not stat.S_ISDIR(st.st_mode):
                return False
        for path, seen in files.items():
            st = os.lstat(f"{root}/{path}")
            if (st.st_size if stat.S_ISREG(st.st_mode) else -1, st.st_mtime_ns, st.st_ino) != seen:
                return False
    except OSError:
        return False
    return True

"""The only writer: the whole site goes into a fresh folder next to ``dist/`` and is then
swapped in, so a failed build leaves the previous site untouched. Files whose bytes did not
change are hard-linked from the previous build, which keeps their mtimes (rsync, Pages)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import Iterable, Mapping


class UnsafePath(ValueError):
    """A generated path that would land outside the output folder."""


def safe_relpath(path: str) -> PurePosixPath:
    rel = PurePosixPath(path)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts or "\\" in path or "\x00" in path:
        raise UnsafePath(f"refusing to write {path!r} outside the output folder")
    return rel


def write_site(files: Mapping[str, bytes] | Iterable[tuple[str, bytes]], out_dir: Path) -> dict[str, int]:
    """Write ``files`` as the new ``out_dir``: a mapping (site path → bytes) or an iterable of
    ``(path, bytes)`` pairs, each written into the staging folder as it arrives, so a caller
    can stream a big site through without holding it. A path given twice keeps its last bytes
    (as ``dict.update`` would). The swap happens only after the last file. Returns counts."""
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-new-", dir=out_dir.parent))
    written = kept = 0
    seen: dict[PurePosixPath, bool] = {}  # path → was it hard-linked from the previous build
    made: set[Path] = {tmp}
    pairs = sorted(files.items()) if isinstance(files, Mapping) else files
    try:
        for path, data in pairs:
            rel = safe_relpath(path)
            target = tmp.joinpath(*rel.parts)
            if rel in seen:  # a later copy wins; never write through a link into the old tree
                linked = seen.pop(rel)
                kept, written = kept - linked, written - (not linked)
                target.unlink()
            if target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            previous = out_dir.joinpath(*rel.parts)
            if _same(previous, data):
                try:
                    os.link(previous, target)
                    kept += 1
                    seen[rel] = True
                    continue
                except OSError:
                    pass
            target.write_bytes(data)
            written += 1
            seen[rel] = False
        _swap(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {"files": written + kept, "written": written, "unchanged": kept}


def _same(path: Path, data: bytes) -> bool:
    try:
        return path.is_file() and not path.is_symlink() and path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def _swap(new: Path, out_dir: Path) -> None:
    old = None
    if out_dir.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-old-", dir=out_dir.parent))
        old.rmdir()
        out_dir.rename(old)
    new.rename(out_dir)
    os.chmod(out_dir, 0o755)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)

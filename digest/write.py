"""The only writer: the whole site goes into a fresh folder next to ``dist/`` and is then
swapped in, so a failed build leaves the previous site untouched. Files whose bytes did not
change are hard-linked from the previous build, which keeps their mtimes (rsync, Pages)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath


class UnsafePath(ValueError):
    """A generated path that would land outside the output folder."""


def safe_relpath(path: str) -> PurePosixPath:
    rel = PurePosixPath(path)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts or "\\" in path or "\x00" in path:
        raise UnsafePath(f"refusing to write {path!r} outside the output folder")
    return rel


def write_site(files: dict[str, bytes], out_dir: Path) -> dict[str, int]:
    """Write ``files`` (site path → bytes) as the new ``out_dir``. Returns counts."""
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-new-", dir=out_dir.parent))
    written = kept = 0
    try:
        for path in sorted(files):
            data = files[path]
            rel = safe_relpath(path)
            target = tmp.joinpath(*rel.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            previous = out_dir.joinpath(*rel.parts)
            if _same(previous, data):
                try:
                    os.link(previous, target)
                    kept += 1
                    continue
                except OSError:
                    pass
            target.write_bytes(data)
            written += 1
        _swap(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {"written": written, "unchanged": kept}


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

"""The writer's staging folder, shared with the render workers. A worker writes each page it
renders straight into it and hands the writer a ``Staged`` receipt (path, staged name, hash,
key) instead of the bytes: the pages never cross a pipe to the writer's process, and writing
them, a third of a template edit's time at 10,000 stories when the writer did it alone, is
spread over the workers. Only the writer moves a staged file into ``dist/`` (write.py), and
only after the whole site is made, so a killed build still leaves ``dist/`` as it was."""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from pathlib import Path

from digest.artifact import Staged
from digest.previous import Previous, digest_of
from digest.write import safe_relpath


class Stage:
    """A staging folder beside ``out_dir`` (removed by the next build if this one is killed);
    ``put`` may be called from any process forked after it was made."""

    def __init__(self, out_dir: Path, previous: Previous):
        out_dir = out_dir.absolute()
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-new-{os.getpid()}-", dir=out_dir.parent))
        self.previous = previous
        previous.trusted  # made here, once, not in each worker after the fork
        self._names = itertools.count()

    def put(self, path: str, data: bytes, key: str | None) -> Staged:
        """Stage ``data`` for site path ``path``, unless ``dist/`` already has these bytes there."""
        rel = safe_relpath(path)
        digest = digest_of(data)
        kept = self.previous.holding(rel, data, digest, key)
        if kept is not None:
            return Staged(rel, None, digest, key, tuple(kept[:3]))
        name = f"{os.getpid()}-{next(self._names)}"  # workers share the folder: the pid keeps names apart
        fd = os.open(self.dir / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # as write_bytes: the umask decides
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            st = os.fstat(fd)
        finally:
            os.close(fd)
        return Staged(rel, name, digest, key, (st.st_size, st.st_mtime_ns, st.st_ino))

    def discard(self) -> None:
        """Remove the folder and whatever the writer did not move out of it."""
        shutil.rmtree(self.dir, ignore_errors=True)

"""What rendering hands the writer: one output file at a time, typed, so that "keep the file
that is there" can never be mistaken for a stray ``None``."""

from __future__ import annotations

from typing import NamedTuple


class Artifact(NamedTuple):
    """A file of the site: its path under ``dist/``, its bytes, and the key of the inputs it
    was made from (see fingerprint.py; ``None`` for files that are not keyed)."""

    path: str
    data: bytes
    key: str | None = None


class Unchanged(NamedTuple):
    """A file whose inputs have the key the last build wrote it from: the writer keeps the
    file in ``dist/`` and nothing was rendered (only valid where ``Previous.fresh`` said so)."""

    path: str
    key: str


class Staged(NamedTuple):
    """A file a render worker wrote into the writer's staging folder itself (stage.py): what
    the writer needs to move it into ``dist/``, without its bytes. ``name`` is the staged
    file's name in that folder; ``None`` when the bytes are those of the file ``dist/``
    already has (then ``stat`` is that file's)."""

    path: str
    name: str | None
    digest: bytes
    key: str | None
    stat: tuple[int, int, int] | None  # size, mtime_ns, inode: a rename keeps them


Output = Artifact | Unchanged | Staged

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


Output = Artifact | Unchanged

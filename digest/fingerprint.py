"""Keys for rendered files: a hash of everything a file is made from, so a rebuild can skip
every page, feed and newsletter whose inputs did not change (see write.Previous.fresh).

A key must change whenever the output could; a spurious change only costs a re-render.
Values are hashed by type and content (never by ``repr`` of an object address), and article
views, which appear on many pages, are hashed once and then stand in by their digest.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from pathlib import Path
from typing import Iterable


def _feed(h, obj, memo: dict[int, bytes]) -> None:
    # Each value is tagged with its type and, for sized values, its length, so two different
    # values can never feed the same bytes.
    if isinstance(obj, str):
        data = obj.encode("utf-8", "surrogatepass")
        h.update(b"s%d:" % len(data))
        h.update(data)
    elif obj is None or isinstance(obj, (bool, int, float)):
        h.update(b"v" + repr(obj).encode() + b";")
    elif isinstance(obj, dict):
        known = memo.get(id(obj))
        if known is not None:
            h.update(b"m" + known)
            return
        h.update(b"d%d:" % len(obj))
        for k, v in obj.items():
            _feed(h, k, memo)
            _feed(h, v, memo)
    elif isinstance(obj, (list, tuple)):
        h.update(b"l%d:" % len(obj))
        for v in obj:
            _feed(h, v, memo)
    elif isinstance(obj, (datetime, date)):
        h.update(b"t" + obj.isoformat().encode() + b";")
    elif isinstance(obj, bytes):
        h.update(b"b%d:" % len(obj))
        h.update(obj)
    else:  # anything else by type and value; a dataclass repr lists its fields
        _feed(h, f"{type(obj).__qualname__}:{obj!r}", memo)


def of(*parts, memo: dict[int, bytes] | None = None) -> str:
    """The key of ``parts``: plain values, containers, and dicts already in ``memo``."""
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        _feed(h, part, memo or {})
    return h.hexdigest()


def memo_of(views: Iterable[dict]) -> dict[int, bytes]:
    """Each view's digest, by identity, for ``of(..., memo=)``. The views must stay alive (and
    unchanged) while the memo is used, which they do for the length of one render."""
    out = {}
    for view in views:
        h = hashlib.blake2b(digest_size=16)
        _feed(h, view, {})
        out[id(view)] = h.digest()
    return out


def of_files(folders: Iterable[Path]) -> str:
    """The key of every file in ``folders`` (name and bytes), e.g. the templates."""
    h = hashlib.blake2b(digest_size=16)
    for folder in folders:
        h.update(str(folder).encode() + b"\0")
        if folder.is_dir():
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                h.update(path.relative_to(folder).as_posix().encode() + b"\0")
                h.update(hashlib.blake2b(path.read_bytes(), digest_size=16).digest())
    return h.hexdigest()

"""Keys for rendered files: a hash of everything a file is made from, so a rebuild can skip
every page, feed and newsletter whose inputs did not change (see previous.Previous.fresh).

A key must change whenever the output could; a spurious change only costs a re-render.
Values are hashed through pickle (lossless, and C-fast), and article views, which appear on
many pages, are hashed once (as JSON, see ``memo_of``) and then stand in by their digest.
"""

from __future__ import annotations

import hashlib
import pickle
from datetime import datetime
from pathlib import Path
from typing import Iterable

import orjson


_CONTAINERS = (dict, list, tuple)


def _swap(obj, memo: dict[int, bytes]):
    """``obj`` with every dict of ``memo`` replaced by its digest; only containers are visited,
    so a page's context costs a few calls however long its strings are."""
    if type(obj) is dict:
        known = memo.get(id(obj))
        if known is not None:
            return known
        return {k: (_swap(v, memo) if type(v) in _CONTAINERS else v) for k, v in obj.items()}
    return [(_swap(v, memo) if type(v) in _CONTAINERS else v) for v in obj]


def of(*parts, memo: dict[int, bytes] | None = None) -> str:
    """The key of ``parts`` (plain values and containers; dicts found in ``memo`` count by their
    digest). Hashed through pickle, which is lossless, so different values never share a key;
    equal values built differently may differ (shared objects), which only costs a render."""
    swapped = [(_swap(p, memo) if memo and type(p) in _CONTAINERS else p) for p in parts]
    return hashlib.blake2b(pickle.dumps(swapped, protocol=5), digest_size=16).hexdigest()


def memo_of(views: Iterable[dict]) -> dict[int, bytes]:
    """Each view's digest, by identity, for ``of(..., memo=)``. The views must stay alive (and
    unchanged) while the memo is used, which they do for the length of one render.

    Views are hashed as JSON (orjson): a third of pickle's time (0.19 → 0.065 s for 10,000
    views). JSON names fewer types than pickle, so nothing it would blur is left to it: a
    ``str`` subclass (``Markup``), a datetime and an object with ``__fingerprint__`` (a body,
    views.py) are written with their class's name, and anything else it cannot write exactly
    (a dataclass, a non-string key, a lone surrogate) sends the view to pickle. Only a tuple
    and a list with the same items share a digest, and no template tells them apart."""
    return {id(v): _view_digest(v) for v in views}


_JSON = orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME


def _view_digest(view: dict) -> bytes:
    try:
        data = b"j" + orjson.dumps(view, default=_tagged, option=_JSON)
    except (orjson.JSONEncodeError, TypeError):
        data = b"p" + pickle.dumps(view, protocol=5)
    return hashlib.blake2b(data, digest_size=16).digest()


def _tagged(obj):
    tag = getattr(type(obj), "__fingerprint__", None)
    if tag is not None:
        return [type(obj).__qualname__, tag(obj)]
    if isinstance(obj, str):
        return [type(obj).__qualname__, str.__str__(obj)]
    if type(obj) is datetime:
        return ["datetime", obj.isoformat()]
    raise TypeError(type(obj).__qualname__)


def of_files(folders: Iterable[Path]) -> str:
    """The key of every file in ``folders`` (name and bytes), e.g. the templates. A folder counts
    by its place in the list, not its path: the same files elsewhere (digest installed in
    another place) have the same key."""
    h = hashlib.blake2b(digest_size=16)
    for place, folder in enumerate(folders):
        h.update(f"{place}\0".encode())
        if folder.is_dir():
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                h.update(path.relative_to(folder).as_posix().encode() + b"\0")
                h.update(hashlib.blake2b(path.read_bytes(), digest_size=16).digest())
    return h.hexdigest()

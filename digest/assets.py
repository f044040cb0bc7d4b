"""The built-in templates and static files, and the site's static files with their version."""

from __future__ import annotations

import hashlib

from digest.config import Config
from digest.resources import BUILTIN_STATIC, BUILTIN_TEMPLATES  # noqa: F401 (re-exported) package data or the checkout


def static_files(config: Config) -> dict[str, bytes]:
    """Built-in static files, overlaid by the site's own ``static/``, under ``static/``."""
    out: dict[str, bytes] = {}
    for folder in (BUILTIN_STATIC, config.path(config.static_dir)):
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not path.name.startswith("."):
                    out["static/" + path.relative_to(folder).as_posix()] = path.read_bytes()
    return out


def asset_version(static: dict[str, bytes]) -> str:
    """A content hash for cache-busting the stylesheet: changes only when static files do."""
    digest = hashlib.sha1()
    for path in sorted(static):
        digest.update(path.encode())
        digest.update(static[path])
    return digest.hexdigest()[:10]

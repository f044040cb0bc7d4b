"""Where the built-in templates, static files and the ``digest init`` starter live.

The design card's top-level ``templates/`` and ``static/`` (and the repository's
``.github/workflows/``) are the one source. A wheel (and so an sdist, which builds one)
carries them inside the package as ``digest/templates/``, ``digest/static/`` and
``digest/workflows/`` (``pyproject.toml`` maps them there); a source checkout or an editable
install has them beside the package. Looking in the package first means an installed copy
never reads a stray folder next to site-packages.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

# importlib.resources, not __file__: the package's own folder, wherever it was installed.
# pip always unpacks wheels, so this is a real folder that Jinja's loader can read.
PACKAGE = Path(str(resources.files("digest")))


def builtin(name: str, in_checkout: str | None = None) -> Path:
    """``PACKAGE/name`` when the package carries it (a wheel), else the checkout's folder."""
    inside = PACKAGE / name
    return inside if inside.is_dir() else PACKAGE.parent / (in_checkout or name)


BUILTIN_TEMPLATES = builtin("templates")
BUILTIN_STATIC = builtin("static")
# The repository's own workflows are the ones `digest init` writes: one copy, no drift.
WORKFLOWS = builtin("workflows", ".github/workflows")
STARTER = PACKAGE / "starter"  # the rest of what `digest init` writes; always in the package

"""``digest init``: start a new site folder that builds at once and publishes itself.

It writes the starter files kept in the package (``digest/starter/``) and this repository's
own GitHub workflows (``resources.WORKFLOWS``), so a new site gets the same Pages deployment
and daily refresh as this one. The one line that differs is ``DIGEST_PIP``, what the
workflows install: here the repository's own code, there the digest that ran ``init``.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from digest.config import Config
from digest.resources import STARTER, WORKFLOWS

# Where digest is published; "digest" on PyPI is another project, so a site installs from here.
SOURCE = "git+https://github.com/central-asia-digest/digest"
PIP_LINE = 'DIGEST_PIP: "."'  # the line of each workflow that init rewrites

# (file in the package, file in the new site); None: an empty file (keeps the folder in git).
FILES: tuple[tuple[Path | None, str], ...] = (
    (STARTER / "digest.toml", "digest.toml"),
    (STARTER / "README.md", "README.md"),
    (STARTER / "gitignore", ".gitignore"),
    (STARTER / "newsletter-example.toml", "newsletter/example.toml"),
    (None, "content_cache/.gitkeep"),
    (WORKFLOWS / "pages.yml", ".github/workflows/pages.yml"),
    (WORKFLOWS / "refresh.yml", ".github/workflows/refresh.yml"),
)


class SiteExists(Exception):
    """The folder already holds a site (or files init would overwrite)."""


@dataclass(frozen=True)
class Started:
    root: Path
    files: tuple[str, ...]
    pip: str


def pip_spec() -> str:
    """What the new site's workflows install: the exact commit this digest came from when it
    was installed from git (pipx records it), otherwise the project's repository."""
    try:
        raw = metadata.distribution("digest").read_text("direct_url.json")
        info = json.loads(raw or "{}")
    except (metadata.PackageNotFoundError, ValueError):
        info = {}
    vcs = info.get("vcs_info") or {}
    if vcs.get("vcs") == "git" and vcs.get("commit_id") and info.get("url", "").startswith("https://"):
        return f"digest @ git+{info['url']}@{vcs['commit_id']}"
    return f"digest @ {SOURCE}"


def _has_digest_table(path: Path) -> bool:
    try:
        return "digest" in tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return path.exists()  # unreadable: treat it as a site rather than risk writing beside it


def init_site(root: Path, title: str | None = None, pip: str | None = None) -> Started:
    """Write a new site into ``root`` (created if missing); never overwrites anything."""
    clashes = [name for _, name in FILES if (root / name).exists() or (root / name).is_symlink()]
    if (root / "content_cache").exists():
        clashes.append("content_cache/")
    if _has_digest_table(root / "pyproject.toml"):
        clashes.append("[tool.digest] in pyproject.toml")
    if clashes:
        raise SiteExists(f"{root}: already has {', '.join(sorted(clashes))}; "
                         "digest init never overwrites a site (choose a new or empty folder)")
    pip = pip or pip_spec()
    title = title or Config.title
    values = {
        "@TITLE@": json.dumps(title, ensure_ascii=False),  # a TOML basic string
        "@NAME@": title,
        PIP_LINE: f"DIGEST_PIP: {json.dumps(pip)}",  # a YAML double-quoted string
    }
    for source, name in FILES:
        text = source.read_text(encoding="utf-8") if source else ""
        if name.startswith(".github/") and PIP_LINE not in text:
            raise RuntimeError(f"{source}: no line {PIP_LINE!r} to point at this digest")  # a packaging bug
        for token, value in values.items():
            text = text.replace(token, value)
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "x", encoding="utf-8", newline="\n") as fh:  # "x": never clobber a racing write
            fh.write(text)
    return Started(root=root, files=tuple(name for _, name in FILES), pip=pip)

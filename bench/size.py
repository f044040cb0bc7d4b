"""Bytes and files of a built site, in all and by kind of file, so a size change can be traced to
the pages that made it. Bytes do not depend on the machine's load, so this is measured once per
build, beside the timings."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# Kinds in the order the breakdown prints them; the first rule that matches a path wins.
KINDS = ("article pages", "feeds", "search index", "week pages", "newsletters", "listings", "sitemaps", "other")


@dataclass(frozen=True)
class Size:
    bytes: int = 0
    files: int = 0

    def __add__(self, other: "Size") -> "Size":
        return Size(self.bytes + other.bytes, self.files + other.files)


def kind(rel: str) -> str:
    """The kind of a file by its path in the output (digest's layout; Hugo's and Pelican's use
    the same folders for articles and listings, and ``index.xml``/``feed.xml`` for feeds)."""
    name = rel.rsplit("/", 1)[-1]
    if name in ("feed.xml", "feed.json", "index.xml") or rel.endswith(".atom.xml"):
        return "feeds"
    if rel.startswith(("search-index/", "pagefind/")):  # ours; Pagefind's on Hugo + Pagefind
        return "search index"
    if rel.startswith(("articles/", "posts/")):
        return "article pages"
    if rel.startswith("weeks/"):
        return "newsletters" if name.startswith("newsletter.") else "week pages"
    if rel.startswith(("countries/", "tags/", "authors/", "categories/", "category/", "tag/", "author/")):
        return "listings"
    if name.startswith("sitemap") and name.endswith(".xml"):
        return "sitemaps"
    return "other"


def breakdown(out: Path) -> dict[str, Size]:
    """Bytes and files under ``out`` by kind (every kind present, zero when none)."""
    sizes = {k: Size() for k in KINDS}
    for folder, _, names in os.walk(out):
        for name in names:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, out).replace(os.sep, "/")
            sizes[kind(rel)] += Size(os.lstat(path).st_size, 1)
    return sizes


def total(sizes: dict[str, Size]) -> Size:
    out = Size()
    for s in sizes.values():
        out += s
    return out


def mb(n: int) -> str:
    return f"{n / 1e6:,.1f}"

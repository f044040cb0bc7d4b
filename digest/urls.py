"""Site paths and the links between them. Every internal link is relative, so the site works
at a domain root, under a GitHub project sub-path, and straight from disk."""

from __future__ import annotations

import posixpath
import re
from typing import Callable
from urllib.parse import quote

# The URL scheme, in one place: every other module asks here for the path of a page.
SECTIONS = {"country": "countries", "tag": "tags", "author": "authors", "week": "weeks", "language": "languages"}


def article(slug: str) -> str:
    return f"articles/{slug}/"


def group(kind: str, slug: str) -> str:
    """The page of a country, tag, author or week: 'countries/kazakhstan/'."""
    return f"{SECTIONS[kind]}/{slug}/"


def section(kind: str) -> str:
    """The index of every group of a kind: 'countries/'."""
    return f"{SECTIONS[kind]}/"


def listing_page(base: str, number: int) -> str:
    """Archive page ``number`` of the listing at ``base`` (numbered from the oldest)."""
    return f"{base}page/{number}/"


def feed_files(base: str) -> tuple[str, str]:
    """The Atom and JSON feeds of the page at ``base``."""
    return f"{base}feed.xml", f"{base}feed.json"


def newsletter_file(week_slug: str, ext: str) -> str:
    return f"weeks/{week_slug}/newsletter.{ext}"


def page_file(path: str) -> str:
    """'countries/kazakhstan/' → 'countries/kazakhstan/index.html'; files stay as they are."""
    if path == "" or path.endswith("/"):
        return path + "index.html"
    return path


def relative(from_path: str, to_path: str, pretty: bool = False) -> str:
    """Relative href from the page at ``from_path`` to ``to_path`` (both site paths).
    Directory pages link to their index.html unless ``pretty`` (then to the folder)."""
    target = to_path if pretty else page_file(to_path)
    from_dir = posixpath.dirname(page_file(from_path))
    rel = _relpath(target or ".", from_dir or ".")
    if pretty and (to_path.endswith("/") or to_path == ""):
        rel = rel.rstrip("/") + "/" if rel != "." else "./"
    return quote(rel, safe="/#?=&.-_~%")


def _relpath(path: str, start: str) -> str:
    """``posixpath.relpath`` for site paths, without its two ``getcwd`` calls per link (a site
    has millions of links). Paths that leave the site root take the library's way."""
    p, s = posixpath.normpath(path), posixpath.normpath(start)
    if p.startswith(("/", "..")) or s.startswith(("/", "..")):
        return posixpath.relpath(path, start)
    p_parts = [x for x in p.split("/") if x and x != "."]
    s_parts = [x for x in s.split("/") if x and x != "."]
    i = 0
    for a, b in zip(p_parts, s_parts):
        if a != b:
            break
        i += 1
    parts = [".."] * (len(s_parts) - i) + p_parts[i:]
    return "/".join(parts) if parts else "."


def absolute(base_url: str, path: str) -> str:
    """The public URL of a site path, for feeds, sitemaps and canonical links."""
    return base_url.rstrip("/") + "/" + quote(path, safe="/#?=&.-_~%")



_AS_QUOTED = re.compile(r"[A-Za-z0-9/#?=&.\-_~%]*\Z")  # what ``quote(…, safe=…)`` leaves as it is


def relative_from(from_path: str, shared: dict | None = None) -> Callable[[str], str]:
    """``relative(from_path, ·)`` for the many links of one page: its folder is split once and
    each target's link is remembered. Rendering 16,000 pages makes a million links; this is
    a fifth of the render time saved. Unusual paths take ``relative``'s general way.

    ``shared`` (a dict the caller keeps for a batch of pages) holds the links that are the same
    from every page at this depth under the same first folder: those to another first folder
    ('tags/x/' from any 'articles/<slug>/' is '../../tags/x/index.html'), most of a page's."""
    from_dir = posixpath.dirname(page_file(from_path))
    parts = [p for p in from_dir.split("/") if p and p != "."]
    general = from_dir.startswith("/") or ".." in parts
    memo: dict[str, str] = {}
    common = None if shared is None or general else shared.setdefault((parts[0] if parts else "", len(parts)), {})

    def link(to_path: str) -> str:
        hit = memo.get(to_path)
        if hit is not None:
            return hit
        if common is not None:
            hit = common.get(to_path)
            if hit is not None:
                return hit
        target = page_file(to_path)
        names = target.split("/")
        if general or "" in names or "." in names or ".." in names:
            rel = relative(from_path, to_path)
        else:
            i, common_len = 0, min(len(parts), len(names))
            while i < common_len and parts[i] == names[i]:
                i += 1
            rel = "/".join([".."] * (len(parts) - i) + names[i:]) or "."
            if not _AS_QUOTED.match(rel):
                rel = quote(rel, safe="/#?=&.-_~%")
            if i == 0 and common is not None:  # another first folder: the same from every such page
                common[to_path] = rel
        memo[to_path] = rel
        return rel

    return link

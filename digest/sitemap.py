"""The sitemap, by the protocol (sitemaps.org): one ``sitemap.xml`` while the site has at most
50,000 URLs and the file stays under 50 MB; past either limit, ``sitemap.xml`` becomes a sitemap
index of ``sitemap-1.xml``, ``sitemap-2.xml``, … each within both limits. The index keeps the
name search engines and robots.txt already know, and the parts sit at the site root because a
sitemap may only list URLs under its own folder."""

from __future__ import annotations

from typing import Iterable

from digest import urls

MAX_URLS = 50_000
MAX_BYTES = 52_428_800  # the protocol's 50 MB, uncompressed
NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
HEAD = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{NS}">\n'.encode()
TAIL = b"</urlset>\n"


def _loc(base_url: str, path: str) -> str:
    return urls.absolute(base_url, path).replace("&", "&amp;")


def files(paths: Iterable[str], base_url: str, max_urls: int | None = None,
          max_bytes: int | None = None) -> dict[str, bytes]:
    """Site path → bytes of every sitemap file for the pages at ``paths`` (sorted, 404 left out).
    The limits default to the protocol's (read at call time, so a test can lower them)."""
    max_urls, max_bytes = max_urls or MAX_URLS, max_bytes or MAX_BYTES
    lines = [f"  <url><loc>{_loc(base_url, p)}</loc></url>\n".encode() for p in sorted(paths) if p != "404.html"]
    parts: list[list[bytes]] = [[]]
    size = len(HEAD) + len(TAIL)
    for line in lines:
        if parts[-1] and (len(parts[-1]) >= max_urls or size + len(line) > max_bytes):
            parts.append([])
            size = len(HEAD) + len(TAIL)
        parts[-1].append(line)
        size += len(line)
    if len(parts) == 1:
        return {"sitemap.xml": HEAD + b"".join(parts[0]) + TAIL}
    out = {f"sitemap-{i}.xml": HEAD + b"".join(part) + TAIL for i, part in enumerate(parts, 1)}
    index = [f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{NS}">\n'.encode()]
    index += [f"  <sitemap><loc>{_loc(base_url, name)}</loc></sitemap>\n".encode() for name in out]
    index.append(b"</sitemapindex>\n")
    return {"sitemap.xml": b"".join(index), **out}

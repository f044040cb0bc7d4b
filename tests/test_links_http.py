"""A link checker: crawl the built seed site over HTTP, served under a sub-path like a GitHub
project page, following every internal link, stylesheet, script, image and feed link."""

from html.parser import HTMLParser
from urllib.error import HTTPError
from urllib.parse import urldefrag, urljoin, urlsplit
from urllib.request import urlopen

from tests.conftest import SUB_PATH


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        for name in ("href", "src", "action", "data-index"):
            if attrs.get(name):
                self.links.append(attrs[name])
        if attrs.get("srcset"):
            self.links += [part.split()[0] for part in attrs["srcset"].split(",") if part.strip()]


def _fetch(url):
    try:
        with urlopen(url, timeout=10) as response:
            return response.status, response.headers.get_content_type(), response.read()
    except HTTPError as exc:
        return exc.code, exc.headers.get_content_type(), exc.read()


def crawl(start: str):
    """Every internal URL reachable from ``start``: (status by URL, broken links, missing anchors)."""
    origin = urlsplit(start)
    status, parsed, broken, anchors = {}, {}, [], []
    queue, seen = [start], {start}
    while queue:
        url = queue.pop()
        code, kind, body = _fetch(url)
        status[url] = code
        if code != 200 or kind != "text/html":
            continue
        page = _Page()
        page.feed(body.decode("utf-8"))
        parsed[url] = page
        for link in page.links:
            target = urljoin(url, link)
            parts = urlsplit(target)
            if parts.scheme not in ("http", "https") or parts.netloc != origin.netloc:
                continue  # external: not ours to check (and no network in tests)
            if not parts.path.startswith(SUB_PATH):
                broken.append((url, link, "leaves the sub-path"))
                continue
            clean, fragment = urldefrag(target)
            if fragment:
                anchors.append((url, link, clean, fragment))
            if clean not in seen:
                seen.add(clean)
                queue.append(clean)
    for url, code in status.items():
        if code != 200:
            broken.append((url, "", f"HTTP {code}"))
    missing = [(page, link) for page, link, clean, fragment in anchors
               if clean in parsed and fragment not in parsed[clean].ids]
    return status, broken, missing


def test_crawl_from_a_sub_path_finds_no_broken_link(served_site, seed_build):
    out, _ = seed_build
    status, broken, missing_anchors = crawl(served_site)
    assert not broken, broken[:10]
    assert not missing_anchors, missing_anchors[:10]
    # The crawl really walked the site: every page and feed the build wrote was reached
    # through links (nothing orphaned), and the search index was found from the search page.
    reached = {urlsplit(u).path[len(SUB_PATH):] for u in status}
    reached |= {p + "index.html" for p in reached if p.endswith("/") or p == ""}
    pages = {p.relative_to(out).as_posix() for p in out.rglob("*.html")} - {"404.html"}
    assert pages - reached == set(), sorted(pages - reached)[:10]
    feeds = {p.relative_to(out).as_posix() for p in out.rglob("feed.xml")}
    assert feeds - reached == set(), sorted(feeds - reached)[:10]
    assert "search-index/index.json" in reached
    assert len(status) > len(pages)


def test_server_answers_like_github_pages(served_site):
    """The fixture itself: missing paths get the 404 page with status 404, folders their index."""
    code, kind, body = _fetch(served_site + "no/such/page/")
    assert code == 404
    assert _fetch(served_site + "countries/")[0] == 200
    assert _fetch(served_site.replace(SUB_PATH, "/") + "index.html")[0] == 404


def test_the_404_page_works_at_any_depth_under_the_sub_path(tmp_path, seed_config):
    """GitHub Pages answers every missing URL with 404.html, at whatever depth was asked for,
    so its links are absolute paths from base_url: they must all resolve under /repo/."""
    import functools
    import http.server
    import threading
    from dataclasses import replace

    from digest.build import build
    from tests.conftest import _PagesHandler

    out = tmp_path / "dist"
    build(replace(seed_config, out_dir=out, base_url="https://user.github.io/repo/"), environ={})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_PagesHandler, directory=str(out)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        root = f"http://127.0.0.1:{server.server_address[1]}{SUB_PATH}"
        for missing in ("nope", "articles/gone/", "a/b/c/d/e.html"):
            code, _, body = _fetch(root + missing)
            assert code == 404 and b"Page not found" in body
            page = _Page()
            page.feed(body.decode("utf-8"))
            for link in page.links:
                if link.startswith("#"):
                    continue  # an anchor in the 404 page itself
                target = urljoin(root + missing, link)
                if urlsplit(target).netloc == urlsplit(root).netloc:
                    assert _fetch(urldefrag(target)[0])[0] == 200, (missing, link)
    finally:
        server.shutdown()
        server.server_close()

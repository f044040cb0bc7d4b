"""Invariants, checked with Hypothesis."""

import posixpath
import re

import pytest

from hypothesis import given, settings, strategies as st

from digest.normalize import canonical_url
from digest.site import group_slugs
from digest.text import slugify
from digest.urls import relative

SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@given(st.text(max_size=200))
def test_slugs_are_url_safe_and_never_paths(text):
    slug = slugify(text)
    assert SLUG.match(slug), slug
    assert "/" not in slug and ".." not in slug


@given(st.lists(st.text(min_size=1, max_size=30), max_size=30))
def test_group_slugs_are_unique_and_stable(names):
    slugs = group_slugs(names)
    assert len(set(slugs.values())) == len(slugs)
    # adding names never renames the ones already there unless they collide
    more = group_slugs(names + ["zzz extra"])
    for name in slugs:
        assert more[name] == slugs[name] or slugify(name) == slugify("zzz extra")


@given(st.sampled_from(["http", "https", "HTTP"]), st.sampled_from(["Example.ORG", "example.org", "example.org:443"]),
       st.sampled_from(["/a/b/", "/a/b", "/a/b?utm_source=x", "/a/b/#frag"]))
def test_canonical_url_spellings_agree(scheme, host, path):
    url = canonical_url(f"{scheme}://{host}{path}")
    if scheme.lower() == "https" or ":443" not in host:
        assert url.endswith("example.org/a/b")
    assert canonical_url(url) == url


segment = st.from_regex(r"[a-z0-9-]{1,8}", fullmatch=True)


@given(st.lists(segment, max_size=4), st.lists(segment, max_size=4))
def test_relative_links_resolve_to_their_target(src, dst):
    src_path = "/".join(src) + "/" if src else ""
    dst_path = "/".join(dst) + "/" if dst else ""
    rel = relative(src_path, dst_path)
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(src_path + "index.html"), rel))
    assert resolved == posixpath.normpath(dst_path + "index.html")


_SEGMENT = st.sampled_from(["articles", "countries", "kazakhstan", "page", "2", "x y", "ö", "index.html",
                            "feed.xml", ".", "..", "", "static", "style.css?v=1", "a#b"])


@settings(deadline=None)
@given(st.lists(_SEGMENT, max_size=4), st.lists(_SEGMENT, max_size=4), st.booleans(), st.booleans())
def test_a_pages_links_are_what_relative_gives(frm, to, frm_dir, to_dir):
    """The per-page link maker (fast path) agrees with the general ``relative`` everywhere."""
    from digest import urls

    from_path = "/".join(frm) + ("/" if frm_dir and frm else "")
    to_path = "/".join(to) + ("/" if to_dir and to else "")
    link = urls.relative_from(from_path)
    assert link(to_path) == urls.relative(from_path, to_path)
    assert link(to_path) == urls.relative(from_path, to_path)  # remembered, the same
    for odd in (".", "./a/", "a/./b", "../x", "/abs/", "a//b"):
        assert link(odd) == urls.relative(from_path, odd)


# Few names, so pages often share a first folder and a depth, and link into each other's folders.
_PAGE = st.lists(st.one_of(st.sampled_from(["articles", "tags", "a", "b"]), _SEGMENT), max_size=3).map(
    lambda segments: "/".join(segments) + ("/" if segments else ""))


@settings(deadline=None, max_examples=300)
@given(st.lists(_PAGE, max_size=6), st.lists(_PAGE, max_size=6))
def test_links_shared_between_pages_are_what_relative_gives(pages, targets):
    """Pages rendered one after another with one ``shared`` dict, each linking to the same
    targets: every link still agrees with ``relative``, whatever the pages before remembered."""
    from digest import urls

    shared: dict = {}
    for from_path in pages:
        link = urls.relative_from(from_path, shared)
        for to_path in targets + targets:
            assert link(to_path) == urls.relative(from_path, to_path), (from_path, to_path)


def _slow_relpath(path: str) -> str | None:
    """The writer's path check spelled out with PurePosixPath: the reference for its shortcut."""
    from pathlib import PurePosixPath
    rel = PurePosixPath(path)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts or "\\" in path or "\x00" in path:
        return None
    return str(rel)


@given(st.lists(st.sampled_from(["a", "b.html", ".", "..", "", "x y", "\\", "\x00", "é"]), max_size=5).map("/".join)
       | st.text(max_size=12))
def test_the_writers_path_shortcut_agrees_with_purepath(path):
    from digest.write import UnsafePath, safe_relpath
    expected = _slow_relpath(path)
    if expected is None:
        with pytest.raises(UnsafePath):
            safe_relpath(path)
    else:
        assert safe_relpath(path) == expected


@given(st.text(alphabet=st.characters(max_codepoint=127)) | st.text(max_size=30))
def test_fold_of_ascii_text_takes_the_short_way_to_the_same_key(text):
    import unicodedata

    from digest.text import fold

    decomposed = unicodedata.normalize("NFKD", text.casefold())
    assert fold(text) == "".join(ch for ch in decomposed if not unicodedata.combining(ch)).strip()

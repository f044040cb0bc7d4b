"""The views' digests (fingerprint.memo_of): two views share a digest exactly when they hold the
same values of the same types, so a page whose views changed is always rendered again."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings, strategies as st
from markupsafe import Markup

from digest import fingerprint
from digest.views import Html, StoredHtml


def _typed(value):
    """What a view holds, with every type spelled out (a tuple is a list: views hold lists)."""
    if isinstance(value, dict):
        return ("dict", tuple((k, _typed(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return ("list", tuple(_typed(v) for v in value))
    if isinstance(value, datetime):
        return ("datetime", value.isoformat())
    if isinstance(value, Html):
        return ("Html", value.text)
    if isinstance(value, StoredHtml):
        return ("StoredHtml", value.key)
    return (type(value).__qualname__, value)


def _digest(view: dict) -> bytes:
    return fingerprint.memo_of([view])[id(view)]


_leaves = st.one_of(
    st.text(max_size=8), st.integers(-3, 3), st.booleans(), st.none(),
    st.text(max_size=8).map(Markup),
    st.text(max_size=8).map(Html),
    st.text("ab", max_size=4).map(lambda key: StoredHtml(key, None)),
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 1, 3),
                 timezones=st.sampled_from([None, timezone.utc, timezone(timedelta(hours=5))])),
)
_values = st.recursive(_leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["a", "b", "c"]), inner, max_size=3), max_leaves=8)
_views = st.dictionaries(st.sampled_from(["title", "path", "body_html", "published", "tags", "also"]),
                         _values, max_size=4)


def _others(value):
    """Values near ``value``: the same text as another type, or one small change."""
    if isinstance(value, dict):
        for key in value:
            yield {k: v for k, v in value.items() if k != key}
            for other in _others(value[key]):
                yield {**value, key: other}
        yield {**value, "z": None}
    elif isinstance(value, list):
        yield value + [None]
        yield tuple(value)  # the same to every template: may share the digest
        for i, item in enumerate(value):
            for other in _others(item):
                yield value[:i] + [other] + value[i + 1:]
    elif isinstance(value, datetime):
        yield value + timedelta(microseconds=1)
        yield value.replace(tzinfo=None if value.tzinfo else timezone.utc)
        yield value.isoformat()
    elif isinstance(value, (Html, StoredHtml)):
        text = value.text if isinstance(value, Html) else value.key
        yield from (text, Markup(text), Html(text + "x"), StoredHtml(text, None), Html(text))
    elif isinstance(value, str):
        yield from (str(value), Markup(value), Html(value), StoredHtml(value, None), value + "x")
    elif value is None or isinstance(value, (bool, int)):
        yield from (None, False, 0, 1, "", str(value), [])


@settings(max_examples=300, deadline=None)
@given(_views)
def test_a_view_and_any_view_near_it_share_a_digest_exactly_when_they_hold_the_same_typed_values(view):
    for other in _others(view):
        assert (_digest(view) == _digest(other)) == (_typed(view) == _typed(other)), (view, other)


def test_a_view_json_cannot_hold_is_hashed_another_way_and_still_told_apart():
    lone = {"title": "\ud800"}  # a lone surrogate: orjson refuses it
    other = {"title": "\udc00"}
    numbered = {1: "a"}  # a key that is not a string
    assert len({_digest(lone), _digest(other), _digest(numbered), _digest({"1": "a"})}) == 4
    assert _digest(lone) == _digest({"title": "\ud800"})


def test_the_digests_of_equal_views_made_apart_are_equal():
    def made():
        return {"title": "Almaty", "body_html": StoredHtml("k1", None), "published": datetime(2026, 6, 1, tzinfo=timezone.utc),
                "tags": [{"name": "Energy", "path": "tags/energy/"}], "excerpt": Markup("<b>x</b>")}
    first, second = made(), made()
    memo = fingerprint.memo_of([first, second])
    assert memo[id(first)] == memo[id(second)]
    assert memo[id(first)] != _digest({**made(), "body_html": StoredHtml("k2", None)})

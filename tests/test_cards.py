"""Cards rendered once per build: the same bytes as the ``card`` macro on every page."""

from dataclasses import replace

import pytest
from markupsafe import escape

from digest.templating import Cards, linker as _linker, make_env
from digest.views import article_views

PATHS = ["", "articles/x/", "countries/kazakhstan/", "countries/kazakhstan/page/2/", "tags/a-b/page/3/",
         "weeks/2026-w01/", "search/", "404.html"]
VARIANTS = [("h2", True), ("h3", True), ("h4", True), ("h3", False)]


@pytest.fixture(scope="module")
def views(seed_build):
    _, result = seed_build
    return list(article_views(result.site).values())


def test_cached_card_equals_the_macro_on_every_page(seed_config, views):
    env = make_env(seed_config)
    macro = env.from_string('{% from "_macros.html" import card with context %}{{ card(a, h, e) }}')
    cached = env.from_string("{{ card_html(a, h, e) }}")
    cards = Cards(env)
    odd = dict(views[0], path="articles/a&b <c>/", title='Tom & "Jerry" <b>',
               authors=[{"name": "A & B", "path": "authors/a&b/"}])
    for path in PATHS:
        link = _linker(path, seed_config.base_url)
        for a in views + [odd]:
            for h, e in VARIANTS:
                assert cached.render(a=a, h=h, e=e, card_html=cards.for_page(link)[0]) == \
                    macro.render(a=a, h=h, e=e, url=link), (path, a["path"], h, e)
    # Each article and variant went through the macro once, whatever the number of pages.
    assert len(cards._done) == (len(views) + 1) * len(VARIANTS)


def test_cached_row_equals_the_macro_on_every_page(seed_config, views):
    """An archived story's row in a listing (full_text_weeks), cached like the cards."""
    env = make_env(seed_config)
    macro = env.from_string('{% from "_macros.html" import row with context %}{{ row(a) }}')
    cached = env.from_string("{{ row_html(a) }}")
    cards = Cards(env)
    archived = [dict(v, archived=True) for v in views]
    for path in PATHS:
        link = _linker(path, seed_config.base_url)
        for a in archived:
            html = cached.render(a=a, row_html=cards.for_page(link)[1])
            assert html == macro.render(a=a, url=link), (path, a["path"])
            assert html.startswith("<li><a href=") and a["date_label"] in html and "excerpt" not in html
    assert len(cards._done) == len(views)


def test_a_site_override_of_the_card_macro_is_used(tmp_path, seed_config, views):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "_macros.html").write_text(
        '{% macro card(a, heading="h3", excerpt=true) %}<x href="{{ url(a.path) }}">{{ a.title }}</x>{% endmacro %}')
    config = replace(seed_config, root=tmp_path, templates_dir=tmp_path / "templates")
    cards = Cards(make_env(config))
    html = cards.for_page(_linker("countries/kazakhstan/", config.base_url))[0](views[0])
    assert html == f'<x href="../../{views[0]["path"]}index.html">{escape(views[0]["title"])}</x>'


# Cards kept between builds (cardstore.py): a card is rendered only when its view or the
# macros changed, and the site is always what a build from nothing gives.

def _site(tmp_path):
    from .conftest import SEEDS, make_site
    site = make_site(tmp_path / "site", {p.name: p.read_bytes() for p in SEEDS.iterdir() if p.is_file()})
    (site / "templates").mkdir(exist_ok=True)
    return site


def _tree(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _build_counting(site, monkeypatch, tmp_path=None):
    """Build ``site`` (or a copy of it from nothing, into tmp_path); the cards it rendered."""
    from digest.build import build
    from digest.config import load_config
    rendered = []
    real = Cards._module

    def counting(self):
        rendered.append(1)
        return real(self)

    monkeypatch.setattr(Cards, "_module", counting)
    config = load_config(site)
    if tmp_path is None:
        build(config, environ={})
    else:
        build(replace(config, out_dir=tmp_path / "fresh"), environ={}, parse_cache=tmp_path / "fresh-cache")
    monkeypatch.undo()
    return len(rendered)


def test_a_template_edit_renders_no_card_and_a_macro_edit_all_of_them(tmp_path, monkeypatch):
    from digest.assets import BUILTIN_TEMPLATES
    site = _site(tmp_path)
    assert _build_counting(site, monkeypatch) > 40  # the first build renders every card
    (site / "templates" / "base.html").write_text(
        (BUILTIN_TEMPLATES / "base.html").read_text(encoding="utf-8") + "<!-- edited -->\n", encoding="utf-8")
    assert _build_counting(site, monkeypatch) == 0
    macros = (BUILTIN_TEMPLATES / "_macros.html").read_text(encoding="utf-8")
    (site / "templates" / "_macros.html").write_text(macros.replace('<article class="card">', '<article class="card x">'),
                                                      encoding="utf-8")
    assert _build_counting(site, monkeypatch) > 40
    assert 'class="card x"' in (site / "dist" / "index.html").read_text(encoding="utf-8")
    assert _tree(site / "dist") == _tree(_fresh(site, tmp_path, monkeypatch))
    assert len(list((site / ".digest-cache" / "cards").iterdir())) == 1  # the old macros' cards are gone


def _fresh(site, tmp_path, monkeypatch):
    _build_counting(site, monkeypatch, tmp_path)
    return tmp_path / "fresh"


def test_a_new_story_renders_only_the_cards_whose_views_changed(tmp_path, monkeypatch):
    site = _site(tmp_path)
    first = _build_counting(site, monkeypatch)
    feed = ('<?xml version="1.0"?><rss version="2.0"><channel><title>Extra</title><link>https://x.example.org/</link>'
            '<description>x</description><item><title>Astana opens a metro line</title><link>https://x.example.org/1</link>'
            '<pubDate>Mon, 29 Jun 2026 09:00:00 +0000</pubDate><description>&lt;p&gt;Astana, Kazakhstan.&lt;/p&gt;'
            '</description></item></channel></rss>')
    (site / "content_cache" / "extra.xml").write_text(feed, encoding="utf-8")
    again = _build_counting(site, monkeypatch)
    assert 0 < again < first / 4
    assert _tree(site / "dist") == _tree(_fresh(site, tmp_path, monkeypatch))


def test_damaged_kept_cards_are_rendered_again(tmp_path, monkeypatch):
    from digest.assets import BUILTIN_TEMPLATES
    site = _site(tmp_path)
    _build_counting(site, monkeypatch)
    [kept] = (site / ".digest-cache" / "cards").iterdir()
    kept.write_bytes(b"\x80\x05not a pickle")
    (site / "templates" / "base.html").write_text(
        (BUILTIN_TEMPLATES / "base.html").read_text(encoding="utf-8") + "<!-- edited -->\n", encoding="utf-8")
    assert _build_counting(site, monkeypatch) > 40
    assert _tree(site / "dist") == _tree(_fresh(site, tmp_path, monkeypatch))
    # ... and kept again, whole: the next template edit renders none.
    (site / "templates" / "base.html").write_text(
        (BUILTIN_TEMPLATES / "base.html").read_text(encoding="utf-8") + "<!-- again -->\n", encoding="utf-8")
    assert _build_counting(site, monkeypatch) == 0


def test_the_kept_cards_grow_by_additions_and_are_written_whole_when_a_quarter_is_gone(tmp_path):
    from digest.cardstore import MAX_ADDED, CardStore
    store = CardStore(tmp_path / "cards", "ns")
    digests = [bytes([i]) * 16 for i in range(8)]

    def build(live, new):
        kept = store.load()
        store.add([((d, "h2", True), f"card {d.hex()}") for d in new])
        store.fold(kept, live)
        return sorted(p.name for p in (tmp_path / "cards").iterdir())

    assert build(digests, digests) == ["ns.pickle"]
    whole = (tmp_path / "cards" / "ns.pickle").read_bytes()
    assert build(digests + [b"n" * 16], [b"n" * 16]) == ["ns-1.add", "ns.pickle"]  # a new story: added
    assert (tmp_path / "cards" / "ns.pickle").read_bytes() == whole
    assert len(store.load()) == 9
    assert build(digests + [b"n" * 16], []) == ["ns-1.add", "ns.pickle"]  # nothing new: nothing written
    assert build(digests[:6] + [b"n" * 16], []) == ["ns-1.add", "ns.pickle"]  # two of nine gone: kept
    assert build(digests[:4] + [b"n" * 16], []) == ["ns.pickle"]  # four of nine gone: written whole
    assert set(k[0] for k in store.load()) == set(digests[:4] + [b"n" * 16])
    live = list(digests[:4] + [b"n" * 16])
    for i in range(MAX_ADDED):
        live.append(bytes([200 + i]) * 16)
        assert build(live, live[-1:]) == sorted(["ns.pickle"] + [f"ns-{n}.add" for n in range(1, i + 2)])
    assert build(live + [b"z" * 16], [b"z" * 16]) == ["ns.pickle"]  # too many additions: written whole
    assert len(store.load()) == len(live) + 1
    CardStore(tmp_path / "cards", "other").fold({}, live)  # the macros changed: the old cards go
    assert sorted(p.name for p in (tmp_path / "cards").iterdir()) == ["other.pickle"]

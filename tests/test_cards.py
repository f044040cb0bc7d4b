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

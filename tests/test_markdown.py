"""The newsletter's Markdown template (newsletter/edition.md with the md filters) writes exactly
what markdownify makes of the same edition written in HTML (the template it replaced, kept
as tests/fixtures/html-edition/newsletter/edition.html), and a site that still has its own
edition.html gets that converted."""

from __future__ import annotations

import shutil
from pathlib import Path

import jinja2
from hypothesis import given, settings
from hypothesis import strategies as st

from digest import markdown
from digest.config import load_config
from digest.newsletter import HTML_MARKDOWN, TEMPLATES, _href, render_edition, template_names
from digest.templating import make_env

ROOT = Path(__file__).resolve().parent.parent
HTML_EDITION = Path(__file__).resolve().parent / "fixtures" / "html-edition"

# Markdown's special characters, list and heading starts, whitespace of every kind markdownify
# treats apart (tabs, newlines, no-break space), quotes and letters.
_HOSTILE = list("ab []()*_`#<>&\\!|~-+=.)1 2") + ["  ", "\t", "\xa0", "«", "é", "“", "'", '"']
block_text = st.lists(st.sampled_from(_HOSTILE + ["\n", "\r\n", "\n\n"]), max_size=30).map("".join)
# Titles, names and dates are one line in an edition (clean_line, squash), with the spaces
# and tabs kept here all the same.
line_text = st.lists(st.sampled_from(_HOSTILE), max_size=20).map("".join)
url = st.text(alphabet=st.sampled_from(list("ab()_ %é-.")), min_size=1, max_size=10).map(
    lambda path: _href("https://example.org/" + path))


def story(image: bool):
    return st.fixed_dictionaries({
        "title": line_text, "url": url, "source_url": st.one_of(st.none(), url), "publisher": line_text,
        "excerpt": block_text, "date_label": line_text, "authors": st.lists(line_text, max_size=2),
        "countries": st.just([]), "lang": st.sampled_from(["", "ru"]),
        "image": st.one_of(st.none(), st.fixed_dictionaries({"src": url, "alt": line_text, "width": st.just(560),
                                                             "height": st.just(300)})) if image else st.none(),
        "also": st.lists(st.fixed_dictionaries({"title": line_text, "publisher": line_text, "date_label": line_text,
                                                "url": url}), max_size=2),
    })


editions = st.fixed_dictionaries({
    "week": st.just("2026-W22"), "label": line_text, "site_title": line_text, "site_url": url, "week_url": url,
    "subject": st.just("S"), "intro": st.lists(block_text, max_size=2),
    "top": st.lists(story(image=True), max_size=2),
    "sections": st.lists(st.fixed_dictionaries({"name": block_text, "stories": st.lists(story(image=False), min_size=1,
                                                                                         max_size=2)}), max_size=2),
    "count": st.integers(1, 3), "events": st.integers(1, 3),
})


def _html_env(config):
    env = make_env(config)
    env.loader = jinja2.FileSystemLoader([str(HTML_EDITION)] + list(env.loader.searchpath))
    return env


@settings(max_examples=300, deadline=None)
@given(edition=editions)
def test_the_markdown_template_writes_what_markdownify_makes_of_the_html_edition(edition):
    config = load_config(ROOT)
    html_env = _html_env(config)
    assert template_names(html_env)["markdown"] == HTML_MARKDOWN
    assert render_edition(edition, make_env(config), "markdown") == render_edition(edition, html_env, "markdown")


def test_the_seed_weeks_match_markdownify_too():
    from digest.build import build_model
    from digest.newsletter import make_edition
    from digest.views import article_views

    config = load_config(ROOT)
    site = build_model(config, environ={})
    views = article_views(site)
    env, html_env = make_env(config), _html_env(config)
    for week in site.weeks:
        edition = make_edition(site, config, week, views)
        assert render_edition(edition, env, "markdown") == render_edition(edition, html_env, "markdown"), week.name


def test_a_site_with_its_own_edition_html_still_gets_it_converted(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(HTML_EDITION, site / "templates")
    html = site / "templates" / HTML_MARKDOWN
    html.write_text(html.read_text().replace("<hr>", "<p>Sent by the desk.</p>\n<hr>"))
    (site / "digest.toml").write_text('title = "T"\n')
    config = load_config(site)
    assert template_names(make_env(config))["markdown"] == HTML_MARKDOWN
    edition = {"week": "2026-W22", "label": "Week 22", "site_title": "T", "site_url": "https://s.example/",
               "week_url": "https://s.example/w/", "subject": "S", "intro": ["Hello *all*"], "top": [], "sections": [],
               "count": 1, "events": 1}
    text = render_edition(edition, make_env(config), "markdown")
    assert "Sent by the desk." in text and "Hello \\*all\\*" in text
    # Its own edition.md wins over its old edition.html.
    (site / "templates" / TEMPLATES["markdown"]).write_text("{{ edition.label | md }}\n")
    assert template_names(make_env(config))["markdown"] == TEMPLATES["markdown"]
    assert render_edition(edition, make_env(config), "markdown") == "Week 22\n"


def test_the_md_filters_escape_and_trim_as_markdownify_does():
    assert markdown.text(" a*b_c ", first=True) == "a\\*b\\_c "
    assert markdown.text("a\n\n  b\t\tc", last=True) == "a\nb c"
    assert markdown.link(" Read ", "https://x.example/") == " [Read](https://x.example/) "
    assert markdown.link("https://x.example/a_b", "https://x.example/a_b") == "<https://x.example/a_b>"
    assert markdown.link("  ", "https://x.example/") == ""
    assert markdown.emphasis("P · 1 June") == "*P · 1 June*"
    assert markdown.heading("  # x\n y ", 9) == "###### # x y"

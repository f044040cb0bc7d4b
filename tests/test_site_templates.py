"""Template and static overrides, as the README documents them: a same-named file in the
site's own templates/ or static/ wins; everything else stays built in."""

from digest.build import build
from digest.config import load_config
from digest.assets import BUILTIN_TEMPLATES
from tests.conftest import make_site

RSS = """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>T</title>
<link>https://example.org/</link><description>d</description>
<item><title>Bishkek opens a new school</title><link>https://example.org/a/</link>
<pubDate>Mon, 01 Jun 2026 10:00:00 +0000</pubDate><description>In Bishkek, Kyrgyzstan, a school opened.</description></item>
</channel></rss>"""


def test_a_copied_template_overrides_only_its_own_pages(tmp_path):
    site = make_site(tmp_path, {"feed.xml": RSS})
    (site / "templates").mkdir()
    copy = (BUILTIN_TEMPLATES / "article.html").read_text().replace("<h1", '<h1 class="mine"', 1)
    (site / "templates" / "article.html").write_text(copy)
    (site / "static").mkdir()
    (site / "static" / "style.css").write_text("body { color: rebeccapurple; }\n")
    (site / "static" / "extra.txt").write_text("added\n")
    build(load_config(site), environ={})
    out = site / "dist"
    article = (out / "articles" / "bishkek-opens-a-new-school" / "index.html").read_text()
    assert '<h1 class="mine"' in article
    assert 'class="mine"' not in (out / "index.html").read_text()  # other pages: built-in templates
    assert (out / "static" / "style.css").read_text() == "body { color: rebeccapurple; }\n"
    assert (out / "static" / "extra.txt").is_file() and (out / "static" / "favicon.svg").is_file()


def test_the_stylesheet_link_changes_when_the_stylesheet_does(tmp_path):
    site = make_site(tmp_path, {"feed.xml": RSS})
    build(load_config(site), environ={})
    before = (site / "dist" / "index.html").read_text()
    (site / "static").mkdir()
    (site / "static" / "style.css").write_text("body { margin: 0; }\n")
    build(load_config(site), environ={})
    after = (site / "dist" / "index.html").read_text()
    version = lambda html: html.split("style.css?v=")[1].split('"')[0]
    assert version(before) != version(after)


def test_a_template_edit_renders_again_only_what_uses_that_template(tmp_path, monkeypatch):
    """Outputs are keyed by the templates they reach (templating.sources_key): an edit to the
    newsletter's email template renders no page, an edit to group.html no article page, and an
    edit to base.html no newsletter."""
    from digest import newsletter, pages
    from digest.artifact import Unchanged

    site = make_site(tmp_path, {"feed.xml": RSS.replace("</channel>", """<item><title>Almaty builds a tram</title>
<link>https://example.org/b/</link><pubDate>Tue, 02 Jun 2026 10:00:00 +0000</pubDate>
<description>In Almaty, Kazakhstan, a tram line.</description><category>Transport</category></item></channel>""")})
    (site / "templates" / "newsletter").mkdir(parents=True)
    build(load_config(site), environ={})
    made: list[str] = []
    real_pages, real_editions = pages._render_range, newsletter._edition_range

    def pages_rendered(todo, *args):
        out = real_pages(todo, *args)
        made.extend(p.template for p, a in zip(todo[args[-2]:args[-1]], out) if type(a) is not Unchanged)
        return out

    def editions_rendered(todo, *args):
        made.extend("edition" for _ in todo[args[-2]:args[-1]])
        return real_editions(todo, *args)

    monkeypatch.setattr(pages, "_render_range", pages_rendered)
    monkeypatch.setattr(newsletter, "_edition_range", editions_rendered)

    def edit(name: str, text: str) -> set[str]:
        made.clear()
        source = (BUILTIN_TEMPLATES / name).read_text(encoding="utf-8")
        (site / "templates" / name).write_text(source + text, encoding="utf-8")
        build(load_config(site), environ={})
        return set(made)

    assert edit("newsletter/email.html", "<!-- edited -->\n") == {"edition"}
    assert "newsletter weeks" not in (site / "dist" / "index.html").read_text()
    assert "edited" in next((site / "dist" / "weeks").rglob("newsletter.html")).read_text()
    assert edit("group.html", "{# edited #}\n") == {"group.html"}
    assert edit("_macros.html", "{# edited #}\n") == {"index.html", "article.html", "group.html", "groups.html",
                                                       "sources.html", "search.html", "404.html"}
    assert edit("base.html", "<!-- edited -->\n") == {"index.html", "article.html", "group.html", "groups.html",
                                                       "sources.html", "search.html", "404.html"}
    # A template that starts to include another is keyed on it from then on (the references
    # kept between builds are those of its new source).
    (site / "templates" / "_extra.html").write_text("<!-- one -->\n", encoding="utf-8")
    assert edit("article.html", "{# no include yet #}\n") == {"article.html"}
    assert edit("article.html", '{% include "_extra.html" %}\n') == {"article.html"}
    made.clear()
    (site / "templates" / "_extra.html").write_text("<!-- two -->\n", encoding="utf-8")
    build(load_config(site), environ={})
    assert set(made) == {"article.html"}


def test_a_template_named_at_render_time_is_keyed_on_every_template(tmp_path):
    """``{% include name %}`` with a name chosen at render time could reach any template, so the
    key is that of every template file: a change anywhere renders it again."""
    import jinja2

    from digest import fingerprint
    from digest.templating import sources_key

    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "page.html").write_text('{% extends "base.html" %}{% block b %}{% include part %}{% endblock %}')
    (folder / "base.html").write_text("{% block b %}{% endblock %}")
    (folder / "fixed.html").write_text('{% extends "base.html" %}{% from "m.html" import x %}')
    (folder / "m.html").write_text("{% macro x() %}{% endmacro %}")
    (folder / "other.html").write_text("one")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)))
    fixed, dynamic = sources_key(env, ["fixed.html"]), sources_key(env, ["page.html"])
    assert dynamic == fingerprint.of_files([folder])
    (folder / "other.html").write_text("two")
    assert sources_key(env, ["fixed.html"]) == fixed  # not reached from fixed.html
    assert sources_key(env, ["page.html"]) != dynamic
    (folder / "m.html").write_text("{% macro x() %}changed{% endmacro %}")
    assert sources_key(env, ["fixed.html"]) != fixed  # reached through {% from %}


def test_templates_read_a_views_keys_before_attributes(tmp_path):
    """templating.Environment looks a plain dict's key up first (fast), and still finds an
    object's attribute, a dict's method and an undefined name as Jinja does."""
    import jinja2
    import pytest

    from digest.config import load_config
    from digest.templating import make_env

    env = make_env(load_config(make_site(tmp_path, {})))
    render = lambda source, **ctx: env.from_string(source).render(**ctx)  # noqa: E731
    assert render("{{ a.title }}|{{ a['title'] }}", a={"title": "T"}) == "T|T"
    assert render("{{ a.items()|list|length }}", a={"x": 1, "y": 2}) == "2"  # a method, no such key
    assert render("{{ a.real }}", a=3) == "3"  # an attribute of an object
    with pytest.raises(jinja2.UndefinedError):
        render("{{ a.missing }}", a={"title": "T"})


def test_templates_call_functions_and_macros_as_jinja_does(tmp_path):
    """templating.Context calls a plain function or a macro straight away, and still hands the
    context, evaluation context or environment to the functions marked for them, drops what a
    call in a loop or block carries, and turns a StopIteration into an undefined value."""
    import jinja2
    import pytest

    from digest.config import load_config
    from digest.templating import Context, make_env

    env = make_env(load_config(make_site(tmp_path, {})))
    assert env.context_class is Context
    render = lambda source, **ctx: env.from_string(source).render(**ctx)  # noqa: E731

    def plain(x, sep="-"):
        return f"{x}{sep}"

    @jinja2.pass_context
    def with_context(context, x):
        return f"{context['who']}:{x}"

    @jinja2.pass_eval_context
    def with_eval(eval_ctx, x):
        return f"{eval_ctx.autoescape}:{x}"

    @jinja2.pass_environment
    def with_env(environment, x):
        return f"{environment is env}:{x}"

    def stops():
        raise StopIteration

    ctx = {"plain": plain, "with_context": with_context, "with_eval": with_eval, "with_env": with_env, "who": "W",
           "stops": stops}
    assert render("{{ plain(1) }}{{ plain(2, sep='+') }}", **ctx) == "1-2+"
    assert render("{% for i in [1, 2] %}{{ plain(i) }}{{ with_context(i) }}{% endfor %}", **ctx) == "1-W:12-W:2"
    assert render("{% for i in [1] %}{% set who = 'L' %}{{ with_context(i) }}{% endfor %}", **ctx) == "L:1"
    assert render("{{ with_eval(1) }} {{ with_env(2) }}", **ctx) == "True:1 True:2"
    assert render("{% macro m(x) %}<{{ x }}>{% endmacro %}{% macro w(x) %}[{{ x }}{{ caller() }}]{% endmacro %}"
                  "{% for i in [1] %}{{ m(i) }}{% call w(2) %}c{% endcall %}{% endfor %}", **ctx) == "<1>[2c]"
    assert render("{{ range(3)|list|length }} {{ dict(a=1).a }}", **ctx) == "3 1"
    with pytest.raises(jinja2.UndefinedError):
        render("{{ stops() }}", **ctx)  # undefined (StrictUndefined raises when printed)


def test_damaged_compiled_templates_are_compiled_again(tmp_path):
    """The compiled templates kept in the parse cache (templating.BytecodeCache) are a cache:
    damaged entries, or references that are not JSON, cost a compile, never the build."""
    from jinja2.bccache import bc_magic

    site = make_site(tmp_path, {"feed.xml": RSS})
    first = build(load_config(site), environ={})
    before = {p.relative_to(site / "dist"): p.read_bytes() for p in (site / "dist").rglob("*") if p.is_file()}
    kept = list((site / ".digest-cache" / "jinja").iterdir())
    assert any(p.name.startswith("__jinja2_") for p in kept) and any(p.name.startswith("refs-") for p in kept)
    for path in kept:
        if path.name.startswith("__jinja2_"):  # Jinja's header, then a checksum that is no pickle
            path.write_bytes(bc_magic + b"\x80\x04\x95garbage, not a pickle")
        else:
            path.write_bytes(b"{not json")
    (site / "templates").mkdir(exist_ok=True)
    (site / "templates" / "base.html").write_text((BUILTIN_TEMPLATES / "base.html").read_text(encoding="utf-8"),
                                                 encoding="utf-8")  # same bytes: the site must come out the same
    again = build(load_config(site), environ={})
    after = {p.relative_to(site / "dist"): p.read_bytes() for p in (site / "dist").rglob("*") if p.is_file()}
    assert after == before and again.stories == first.stories


def test_the_same_templates_in_another_place_have_the_same_keys(tmp_path):
    """digest installed elsewhere (a new Python on a CI runner, a copy of the code) keys its
    pages as before, so nothing is rendered again for it; a changed template still counts."""
    import shutil

    import jinja2

    from digest.assets import BUILTIN_TEMPLATES
    from digest.templating import sources_key

    def keys(folder):
        env = jinja2.Environment(loader=jinja2.FileSystemLoader([str(tmp_path / "site"), str(folder)]))
        return sources_key(env, ["article.html", "_macros.html"]), sources_key(env, ["dynamic.html"])

    (tmp_path / "site").mkdir()
    shutil.copytree(BUILTIN_TEMPLATES, tmp_path / "one")
    shutil.copytree(BUILTIN_TEMPLATES, tmp_path / "elsewhere" / "two")
    for folder in (tmp_path / "one", tmp_path / "elsewhere" / "two"):
        (folder / "dynamic.html").write_text("{% include name %}")  # keyed on every template file
    assert keys(tmp_path / "one") == keys(tmp_path / "elsewhere" / "two")
    before = keys(tmp_path / "one")
    (tmp_path / "one" / "_macros.html").write_text((tmp_path / "one" / "_macros.html").read_text() + "\n")
    after = keys(tmp_path / "one")
    assert after[0] != before[0] and after[1] != before[1]


def test_story_counts_are_written_with_thousands_separators(seed_config, seed_build):
    """10,000 stories read as "10,000", not "10000", on the search page and the home page."""
    from dataclasses import replace

    from digest import pages, templating
    from digest.build import prepare

    _, result = seed_build
    site = result.site
    prepared = prepare(site, seed_config)
    chosen = [replace(p, context={**p.context, "total": 12345}) for p in prepared.pages if p.path in ("search/", "")]
    env = templating.make_env(seed_config)
    html = {a.path: a.data.decode() for a in pages.iter_pages(chosen, site, seed_config, env, "v")}
    assert "all 12,345 stories" in html["search/index.html"]
    assert "12,345 stories in all" in html["index.html"]

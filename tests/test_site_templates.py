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
    copy = (BUILTIN_TEMPLATES / "article.html").read_text().replace("<h1 ", '<h1 class="mine" ')
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

"""The weekly newsletter: Markdown that renders back to the same links, email HTML with no
<style>/<script> and only absolute links, plain text, the editor's file, the CLI."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import html as lxml_html
from markdown_it import MarkdownIt

from digest.build import build_model
from digest.cli import main
from digest.config import load_config
from digest.editorial import stale_picks
from digest.newsletter import (EditionFileError, find_week, make_edition, newsletter, parse_week,
                               render_edition)
from digest.templating import make_env
from digest.views import article_views

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def seed():
    config = load_config(ROOT)
    site = build_model(config, environ={})
    return site, config, article_views(site)


def edition_links(edition: dict) -> list[str]:
    """Every link the edition should carry, in reading order."""
    links = []
    for story in edition["top"] + [s for section in edition["sections"] for s in section["stories"]]:
        links.append(story["url"])
        if story["source_url"]:
            links.append(story["source_url"])
        links += [o["url"] for o in story.get("also", [])]  # the other outlets of its event
    return links + [edition["week_url"], edition["site_url"]]


def markdown_links(text: str) -> list[tuple[str, str]]:
    md = MarkdownIt()
    out = []
    for token in md.parse(text):
        children = token.children or []
        for i, child in enumerate(children):
            if child.type == "link_open":
                label = []
                for inner in children[i + 1:]:
                    if inner.type == "link_close":
                        break
                    label.append(inner.content)
                out.append((child.attrs["href"], "".join(label)))
    return out


def test_markdown_renders_back_to_the_same_links_for_every_week(seed):
    site, config, views = seed
    env = make_env(config)
    for week in site.weeks:
        edition = make_edition(site, config, week, views)
        text = render_edition(edition, env, "markdown")
        links = markdown_links(text)
        assert [href for href, _ in links] == edition_links(edition), week.name
        stories = edition["top"] + [s for sec in edition["sections"] for s in sec["stories"]]
        titles = [label for href, label in links if href in {s["url"] for s in stories}]
        assert titles == [s["title"] for s in stories]
        assert "<" not in text.replace("<!--", ""), "markdownify left raw HTML behind"


def test_stories_are_grouped_by_country_with_title_source_excerpt_and_link(seed):
    site, config, views = seed
    week = find_week(site, "2026-W22")
    edition = make_edition(site, config, week, views)
    assert [s["name"] for s in edition["sections"]] == ["Kazakhstan", "Kyrgyzstan"]
    text = render_edition(edition, make_env(config), "markdown")
    assert text.index("## Kazakhstan") < text.index("## Kyrgyzstan")
    story = edition["sections"][0]["stories"][0]
    assert story["title"] and story["publisher"] == "Novastan English" and story["excerpt"]
    assert f"[{story['title']}]({story['url']})" in text
    assert story["excerpt"] in text
    plain = render_edition(edition, make_env(config), "text")
    assert "KAZAKHSTAN\n----------" in plain and f"Read: {story['url']}" in plain
    assert all(len(line) <= 72 or "://" in line for line in plain.splitlines())


def test_email_html_is_inlined_absolute_and_script_free(seed):
    site, config, views = seed
    for week in site.weeks:
        page = newsletter(site, config, week.name, "html")
        lowered = page.lower()
        assert "<style" not in lowered and "<script" not in lowered and "<link" not in lowered
        tree = lxml_html.document_fromstring(page)
        hrefs = [a.get("href") for a in tree.iter("a")]
        assert hrefs and all(urlsplit(h).scheme in ("http", "https") and urlsplit(h).netloc for h in hrefs)
        for img in tree.iter("img"):
            assert urlsplit(img.get("src")).scheme in ("http", "https")
            assert img.get("width") and img.get("alt")
        assert tree.xpath("//table[@width='600']"), "the email column is a 600 px table"
        assert 'style="' in page, "CSS was inlined"
        assert not tree.xpath("//@*[starts-with(name(), 'on')]")


def test_editor_file_gives_intro_and_top_stories(seed):
    site, config, views = seed
    edition = make_edition(site, config, find_week(site, None), views)
    assert edition["week"] == "2026-W25"  # the latest week with stories
    assert edition["subject"].startswith("The steppe as an archive")
    assert edition["intro"][0].startswith("This week Novastan talks to the artist")
    assert [s["title"][:16] for s in edition["top"]] == ["Almira Saifullin", "Heroines of the "]
    shown = [s["title"] for sec in edition["sections"] for s in sec["stories"]]
    assert not set(shown) & {s["title"] for s in edition["top"]}, "a top story is not repeated"
    image = edition["top"][0]["image"]
    assert image["width"] == 560 and image["height"] == 315 and image["alt"]


def _site_with_editor_file(tmp_path: Path, text: str):
    shutil.copytree(ROOT / "content_cache", tmp_path / "content_cache")
    (tmp_path / "newsletter").mkdir()
    (tmp_path / "newsletter" / "2026-w25.toml").write_text(text, encoding="utf-8")
    return load_config(tmp_path)


def test_an_unknown_pick_is_left_out_and_a_broken_file_names_the_file(tmp_path, seed):
    site, _, views = seed
    good = site.weeks[0].keys[0]
    config = _site_with_editor_file(tmp_path, f'top = ["no-such-story", "{good}"]\n')
    edition = make_edition(site, config, site.weeks[0], views)
    assert [s["title"] for s in edition["top"]] == [views[good]["title"]], "the stale pick is left out, the good one kept"
    assert stale_picks(site, config) == (
        f"{config.path(Path('newsletter'))}/2026-w25.toml: top story 'no-such-story' is not in week 2026-W25; "
        "left out of the edition (use an article id, its publisher link or its slug)",)
    config = _site_with_editor_file(tmp_path / "b", 'intro = "unterminated\n')
    with pytest.raises(EditionFileError, match=r"2026-w25\.toml"):
        make_edition(site, config, site.weeks[0], views)
    config = _site_with_editor_file(tmp_path / "c", 'intro = "Hi"\ntpo = []\n')
    with pytest.raises(EditionFileError, match="unknown key"):
        make_edition(site, config, site.weeks[0], views)


def test_parse_week():
    assert parse_week("2026-w5") == "2026-W05" == parse_week("2026W05")
    for bad in ("2026-54", "W25", "2026-W60", ""):
        with pytest.raises(ValueError):
            parse_week(bad)


markdown_hostile = st.text(alphabet=st.sampled_from(list("ab []()*_`#<>&\\!|~-+.1") + ["«", "é"]), min_size=1, max_size=30)


@settings(max_examples=60, deadline=None)
@given(title=markdown_hostile.filter(lambda t: t.strip()), excerpt=markdown_hostile,
       path=st.text(alphabet=st.sampled_from(list("ab()_ %é")), min_size=1, max_size=12))
def test_markdown_links_survive_any_title_and_url(title, excerpt, path):
    config = load_config(ROOT)
    from digest.newsletter import _href

    url = _href("https://example.org/" + path)
    story = {"title": " ".join(title.split()), "url": url, "source_url": _href("https://src.example/" + path),
             "publisher": "P", "excerpt": excerpt, "date_label": "1 June 2026", "authors": [], "countries": [],
             "image": None, "also": [{"title": " ".join(title.split()), "publisher": "Q", "date_label": "2 June 2026",
                                      "url": _href("https://example.org/also/" + path)}], "lang": ""}
    edition = {"week": "2026-W22", "label": "Week 22", "site_title": "T", "site_url": "https://s.example/",
               "week_url": "https://s.example/weeks/2026-w22/", "subject": "S", "intro": [excerpt or "x"],
               "top": [], "sections": [{"name": "Kazakhstan", "stories": [story]}], "count": 2, "events": 1}
    text = render_edition(edition, make_env(config), "markdown")
    links = markdown_links(text)
    assert [h for h, _ in links] == edition_links(edition)
    assert links[0][1] == story["title"]


def test_week_pages_link_and_copy_each_format(seed_build):
    out, _ = seed_build
    week = out / "weeks" / "2026-w25"
    for ext in ("md", "html", "txt"):
        assert (week / f"newsletter.{ext}").stat().st_size > 500
    page = (week / "index.html").read_text(encoding="utf-8")
    for ext in ("md", "html", "txt"):
        assert f'href="newsletter.{ext}" download' in page
    for label in ("Copy Markdown", "Copy HTML", "Copy text"):
        assert label in page
    assert '<p class="newsletter-copy" hidden>' in page, "copy buttons appear only with JavaScript"
    assert (out / "static" / "newsletter.js").is_file()
    assert "newsletter-tools" not in (out / "countries" / "kazakhstan" / "index.html").read_text(encoding="utf-8")


def _cli_site(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "content_cache", tmp_path / "content_cache")
    shutil.copytree(ROOT / "newsletter", tmp_path / "newsletter")
    shutil.copy(ROOT / "digest.toml", tmp_path / "digest.toml")
    return tmp_path


def test_cli_newsletter_defaults_to_the_latest_week_in_markdown(tmp_path, monkeypatch):
    monkeypatch.chdir(_cli_site(tmp_path))
    result = CliRunner().invoke(main, ["newsletter"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Central Asia Reading Digest: Week 25, 2026")
    assert "## Top stories" in result.stdout


def test_cli_newsletter_writes_html_and_text_files(tmp_path, monkeypatch):
    monkeypatch.chdir(_cli_site(tmp_path))
    result = CliRunner().invoke(main, ["newsletter", "--week", "2026-W22", "--format", "html", "-o", "issue.html"])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "issue.html").read_text(encoding="utf-8")
    assert "Week 22, 2026" in page and "<style" not in page
    result = CliRunner().invoke(main, ["newsletter", "--week", "2026-w22", "--format", "text"])
    assert result.exit_code == 0 and "KAZAKHSTAN" in result.stdout


def test_cli_newsletter_rejects_a_week_without_stories(tmp_path, monkeypatch):
    monkeypatch.chdir(_cli_site(tmp_path))
    result = CliRunner().invoke(main, ["newsletter", "--week", "2020-W01"])
    assert result.exit_code == 1
    assert "week 2020-W01 has no stories" in result.output
    result = CliRunner().invoke(main, ["newsletter", "--week", "last"])
    assert result.exit_code == 1 and "not an ISO week" in result.output


def test_newsletter_output_is_deterministic(seed):
    site, config, _ = seed
    again = build_model(config, environ={})
    for fmt in ("markdown", "html", "text"):
        assert newsletter(site, config, None, fmt) == newsletter(again, replace(config), None, fmt)


def test_readme_excerpts_are_real_output_from_the_seeds(seed):
    """The README's newsletter samples are cut from what digest makes of the seeds today."""
    site, config, _ = seed
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### What it looks like"):]
    for fence, fmt in (("```markdown\n", "markdown"), ("```text\n", "text"), ("```html\n", "html")):
        start = section.index(fence) + len(fence)
        block = section[start:section.index("\n```", start)]
        output = newsletter(site, config, None, fmt)
        lines = [line for line in block.splitlines() if line.strip() and line != "…"]
        assert len(lines) >= 5, fmt
        for line in lines:
            assert line in output, f"README {fmt} sample drifted: {line[:80]!r}"


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's Chromium")
def test_copy_buttons_put_each_format_on_the_clipboard(seed_build):
    """In a real browser: with JavaScript the buttons copy the file; without it they stay
    hidden and the download links remain."""
    import functools
    import http.server
    import threading

    from tests.test_serve import CHROMIUM, CHROMIUM_ARGS, in_own_thread

    out, _ = seed_build
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/weeks/2026-w25/"

    def drive() -> None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                context = browser.new_context()
                context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.split("/weeks")[0])
                page = context.new_page()
                page.goto(url)
                for label, ext in (("Copy text", "txt"), ("Copy Markdown", "md")):
                    page.get_by_role("button", name=label).click()
                    page.wait_for_function("document.querySelector('.newsletter-copy [role=status]').textContent"
                                           ".includes('copied')", timeout=10000)
                    copied = page.evaluate("navigator.clipboard.readText()")
                    assert copied == (out / "weeks" / "2026-w25" / f"newsletter.{ext}").read_text(encoding="utf-8")
                    page.evaluate("document.querySelector('.newsletter-copy [role=status]').textContent = ''")
                page.get_by_role("button", name="Copy HTML").click()
                page.wait_for_function("document.querySelector('.newsletter-copy [role=status]').textContent"
                                       ".includes('HTML copied')", timeout=10000)
                no_js = browser.new_context(java_script_enabled=False).new_page()
                no_js.goto(url)
                assert not no_js.get_by_role("button", name="Copy text").is_visible()
                assert no_js.get_by_role("link", name="Plain text").get_attribute("href") == "newsletter.txt"
            finally:
                browser.close()

    try:
        in_own_thread(drive)
    finally:
        server.shutdown()
        server.server_close()


def test_a_stale_pick_warns_builds_the_edition_without_it_and_fails_strict(tmp_path, monkeypatch):
    monkeypatch.chdir(_cli_site(tmp_path))
    for undated in (tmp_path / "content_cache").glob("timesca-author-aliya-haidar.txt*"):
        undated.unlink()  # the seed's one other warning: --strict must fail for the pick alone
    assert CliRunner().invoke(main, ["build", "--strict"]).exit_code == 0
    note = tmp_path / "newsletter" / "2026-w25.toml"
    note.write_text(note.read_text(encoding="utf-8").replace('top = [\n', 'top = [\n  "not-this-week",\n'), encoding="utf-8")
    result = CliRunner().invoke(main, ["build"])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert warnings == ["warning: newsletter/2026-w25.toml: top story 'not-this-week' is not in week 2026-W25; "
                        "left out of the edition (use an article id, its publisher link or its slug)"]
    edition = (tmp_path / "dist" / "weeks" / "2026-w25" / "newsletter.md").read_text(encoding="utf-8")
    assert "## Top stories" in edition and "Heroines of the Second World War" in edition, "the good picks stay"
    result = CliRunner().invoke(main, ["build", "--strict"])
    assert result.exit_code == 1 and "warning: newsletter/2026-w25.toml: top story 'not-this-week'" in result.output
    assert "Traceback" not in result.output


def test_a_pick_for_a_week_without_stories_warns(tmp_path, monkeypatch):
    monkeypatch.chdir(_cli_site(tmp_path))
    (tmp_path / "newsletter" / "2030-w01.toml").write_text('top = ["ahead-of-time"]\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["build"])
    assert result.exit_code == 0, result.output
    assert ("warning: newsletter/2030-w01.toml: top story 'ahead-of-time' is not in week 2030-W01, which has no "
            "stories; no edition uses it") in result.output


def test_a_broken_editor_file_fails_the_build_with_one_line_and_keeps_the_site(tmp_path, monkeypatch):
    monkeypatch.chdir(_cli_site(tmp_path))
    assert CliRunner().invoke(main, ["build"]).exit_code == 0
    before = (tmp_path / "dist" / "weeks" / "2026-w25" / "newsletter.md").read_bytes()
    (tmp_path / "newsletter" / "2026-w25.toml").write_text('top = "not a list"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["build"])
    assert result.exit_code == 1
    assert "2026-w25.toml: 'top' should be a list of strings" in result.output
    assert "Traceback" not in result.output
    assert (tmp_path / "dist" / "weeks" / "2026-w25" / "newsletter.md").read_bytes() == before

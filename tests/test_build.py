"""The build as a whole: determinism, atomic writes, sub-path links, bad input, the CLI."""

import json
import os
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from click.testing import CliRunner

from digest.build import build
from digest.cli import main
from digest.config import load_config
from tests.conftest import ROOT, make_site

RSS = """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>T</title>
<link>https://example.org/</link><description>d</description>
<item><title>Bishkek opens a new school</title><link>https://example.org/a/</link><guid>https://example.org/?p=1</guid>
<pubDate>Mon, 01 Jun 2026 10:00:00 +0000</pubDate><description>In Bishkek, Kyrgyzstan, a school opened.</description></item>
</channel></rss>"""


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_input_gives_byte_identical_output(tmp_path, seed_config, seed_build):
    out, _ = seed_build
    again = tmp_path / "again"
    build(replace(seed_config, out_dir=again), environ={})
    assert _tree(again) == _tree(out)


def test_no_wall_clock_in_output(tmp_path, seed_config):
    """SOURCE_DATE_EPOCH is the only outside notion of now; without it, now comes from the inputs."""
    a, b = tmp_path / "a", tmp_path / "b"
    build(replace(seed_config, out_dir=a), environ={"SOURCE_DATE_EPOCH": "1800000000"})
    build(replace(seed_config, out_dir=b), environ={})
    assert (a / "index.html").read_bytes() != (b / "index.html").read_bytes()
    assert "2027" in (a / "index.html").read_text()  # 1800000000 is January 2027


def test_unchanged_files_keep_their_inode_and_mtime(tmp_path, seed_config):
    out = tmp_path / "dist"
    build(replace(seed_config, out_dir=out), environ={})
    before = (out / "index.html").stat()
    result = build(replace(seed_config, out_dir=out), environ={})
    after = (out / "index.html").stat()
    assert result.written == 0 and result.unchanged == result.files
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)


def test_failed_build_leaves_previous_site(tmp_path, monkeypatch):
    site = make_site(tmp_path, {"feed.xml": RSS})
    config = load_config(site)
    build(config, environ={})
    before = _tree(site / "dist")

    def boom(*args, **kwargs):
        raise RuntimeError("template exploded")

    monkeypatch.setattr("digest.build.render", boom)
    (site / "content_cache" / "feed.xml").write_text(RSS.replace("a new school", "a newer school"))
    with pytest.raises(RuntimeError):  # an input changed, so this is a real build, not the no-change one
        build(config, environ={})
    assert _tree(site / "dist") == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".dist")] == []


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("href", "src"):
            if attrs.get(name) and tag in ("a", "link", "img", "script"):
                self.links.append(attrs[name])


def test_every_internal_link_resolves_from_a_sub_path(seed_build):
    """Served at https://user.github.io/repo/, every relative link must land on a built file."""
    out, _ = seed_build
    base = "https://user.github.io/repo/"
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    broken = []
    for page in sorted(out.rglob("*.html")):
        rel = page.relative_to(out).as_posix()
        if rel == "404.html":
            continue
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        for link in parser.links:
            target = urljoin(base + rel, link)
            if not target.startswith(base):
                continue
            path = urlsplit(target).path[len("/repo/"):]
            path = path + "index.html" if path.endswith("/") or path == "" else path
            if path not in files:
                broken.append((rel, link))
    assert not broken, broken[:10]


def test_group_pages_exist_with_counts(seed_build, catalog):
    out, _ = seed_build
    kz = (out / "countries" / "kazakhstan" / "index.html").read_text()
    count = sum("Kazakhstan" in a["countries"] for a in catalog.values())
    assert f"{count} stories" in kz
    index = (out / "countries" / "index.html").read_text()
    assert re.search(r"Kazakhstan</a> <span class=\"count\"[^>]*>%d<" % count, index)
    assert (out / "tags" / "index.html").is_file() and (out / "authors" / "index.html").is_file()


def test_group_pages_list_newest_first(seed_build, catalog):
    out, _ = seed_build
    html = (out / "authors" / "mathieu-lemoine" / "index.html").read_text()
    dates = re.findall(r'<time datetime="([^"]+)"', html)
    assert dates == sorted(dates, reverse=True) and len(dates) == 7


def test_catalog_is_compact_one_story_a_line(seed_build):
    """articles.json without indentation (whitespace was a tenth of it), a story a line."""
    out, _ = seed_build
    text = (out / "articles.json").read_text(encoding="utf-8")
    rows = json.loads(text)["articles"]
    lines = text.splitlines()
    assert lines[0] == '{"articles":[' and lines[-1] == "]}" and len(lines) == len(rows) + 2
    for line, row in zip(lines[1:-1], rows):
        assert line.removesuffix(",") == json.dumps(row, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize("text", ["Қазақстан “news” — ok", 'quote " back\\slash \u2028 line\nbreak \x01', "lone \ud800 half"])
def test_a_catalog_line_is_what_json_writes(text):
    """orjson writes each row; a row it refuses (a lone surrogate) still gets a line."""
    from digest.catalog import _line

    row = {"id": "x", "title": text, "authors": ("A", "Б"), "country_reasons": {"Kazakhstan": text}, "event": None}
    line = _line(row)
    if "\ud800" in text:
        assert json.loads(line)["id"] == "x"
    else:
        assert line == json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode()


def test_catalog_follows_the_contract(catalog, seed_build):
    out, _ = seed_build
    rows = json.loads((out / "articles.json").read_text())["articles"]
    keys = {"id", "title", "url", "source_url", "authors", "tags", "countries", "published", "date_precision", "sources"}
    for row in rows:
        assert keys <= set(row)
        assert row["date_precision"] in ("exact", "approximate", "unknown")
        assert (out / row["url"] / "index.html").is_file()
    dated = [r["published"] for r in rows if r["published"]]
    assert rows[: len(dated)] == [r for r in rows if r["published"]]  # undated last


def test_cli_build_and_strict(tmp_path, monkeypatch):
    site = make_site(tmp_path, {"good.xml": RSS, "empty.xml": b"", "picture.xml": b"\x89PNG\r\n\x1a\n" + b"\0" * 64})
    monkeypatch.chdir(site)
    runner = CliRunner()
    result = runner.invoke(main, ["build"])
    assert result.exit_code == 0, result.output
    assert "empty.xml: empty file" in result.output
    assert "picture.xml: binary file (a PNG image), not a feed" in result.output
    assert (site / "dist" / "articles" / "bishkek-opens-a-new-school" / "index.html").is_file()
    strict = runner.invoke(main, ["build", "--strict", "--out", "other"])
    assert strict.exit_code == 1
    assert (site / "other" / "index.html").is_file()  # strict still builds everything it can


def test_cli_help_lists_commands():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0 and "build" in result.output
    assert "Example:" in CliRunner().invoke(main, ["build", "--help"]).output


def test_base_url_sets_absolute_links(tmp_path, monkeypatch):
    site = make_site(tmp_path, {"good.xml": RSS})
    monkeypatch.chdir(site)
    result = CliRunner().invoke(main, ["build", "--base-url", "https://me.github.io/digest"])
    assert result.exit_code == 0, result.output
    feed = (site / "dist" / "feed.xml").read_text()
    assert "https://me.github.io/digest/articles/bishkek-opens-a-new-school/" in feed
    assert "https://me.github.io/digest/" in (site / "dist" / "sitemap.xml").read_text()
    assert 'href="/digest/index.html"' in (site / "dist" / "404.html").read_text()

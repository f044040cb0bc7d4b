"""A language per story (digest/language.py) and countries in every script, on items written
for the tests in the seven languages (tests/data/languages)."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace

import pytest

from digest import language
from digest.build import build
from digest.config import ConfigError, load_config
from digest.text import slugify
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "data" / "languages"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("languages")
    shutil.copytree(FIXTURES, folder / "content_cache")
    # per_page = 2: the four Russian stories make a language page with an archive page
    (folder / "digest.toml").write_text(
        'per_page = 2\n'
        '[[feeds]]\nname = "misdeclared.rss.xml"\nurl = "https://mis.example/feed/"\nlanguage = "ru"\n')
    out = folder / "dist"
    built = build(replace(load_config(folder), out_dir=out), environ={}, parse_cache=folder / "cache")
    assert built.problems == ()  # every code the fixtures declare is a known one
    rows = json.loads((out / "articles.json").read_text(encoding="utf-8"))["articles"]
    return out, {r["title"]: r for r in rows}


@pytest.mark.parametrize("title,lang,countries", [
    ("Главы МИД стран Центральной Азии встретились в Астане", "ru",
     ["Kazakhstan", "Kyrgyzstan", "Tajikistan", "Turkmenistan", "Uzbekistan"]),
    ("Засуха в Хатлоне: фермеры просят помощи", "ru", ["Tajikistan"]),
    ("Bishkekte jańa kópir ashyldy", "kk", ["Kyrgyzstan"]),
    ("Namanganda yangi shifoxona qurildi", "uz", ["Uzbekistan"]),
    ("Наманганда янги шифохона қурилди", "uz", ["Uzbekistan"]),
    ("Астанада жаңа мектеп ашылды", "kk", ["Kazakhstan"]),
    ("Ош шаарында суу тартыштыгы күчөдү", "ky", ["Kyrgyzstan"]),
    ("Дар Душанбе пули нав сохта шуд", "tg", ["Tajikistan"]),
    ("Aşgabatda täze köpri açyldy", "tk", ["Turkmenistan"]),
    ("New bridge opens in Bishkek", "en", ["Kyrgyzstan"]),
])
def test_wire_items_get_their_language_and_countries(site, title, lang, countries):
    _, rows = site
    assert rows[title]["language"] == lang
    assert rows[title]["countries"] == countries


def test_declared_languages_win_over_detection_and_the_config_over_both(site):
    _, rows = site
    assert rows["Ок"]["language"] == "ky"  # the entry's own xml:lang
    assert rows["Да"]["language"] == "ru"  # the feed's xml:lang="ru-RU"
    assert rows["Хабар"]["language"] == "tg" and rows["Habar"]["language"] == "tk"  # JSON Feed, feed and item
    assert rows["Кратко"]["language"] == "ru"  # the feed says en-US; digest.toml says ru


def test_pages_and_feeds_say_the_language(site):
    out, rows = site
    page = (out / rows["Дар Душанбе пули нав сохта шуд"]["url"] / "index.html").read_text(encoding="utf-8")
    assert '<html lang="tg">' in page
    assert '<header class="masthead" lang="en">' in page and '<footer class="site-footer" lang="en">' in page
    english = (out / rows["New bridge opens in Bishkek"]["url"] / "index.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in english and 'class="masthead" lang=' not in english
    feed = (out / "feed.xml").read_text(encoding="utf-8")
    assert '<entry xml:lang="tg">' in feed and '<entry xml:lang="ru">' in feed
    items = json.loads((out / "feed.json").read_text(encoding="utf-8"))["items"]
    assert {i["language"] for i in items} == {"ru", "kk", "ky", "uz", "tg", "tk", "en"}
    home = (out / "index.html").read_text(encoding="utf-8")
    # a card says lang where the story's language is not the site's, and only there
    assert re.search(r'<h[34] lang="kk"><a ', home) and re.search(r'<h[34]><a ', home)
    assert not re.search(r'<(?:h[234]|p class="excerpt") lang="en"', home)
    search = (out / "search" / "index.html").read_text(encoding="utf-8")
    assert '<option value="ru" lang="ru">Русский</option>' in search


@pytest.mark.parametrize("text", [
    "", "Ок.", "Да да", "Bishkek",  # too short to tell
    "The city council met today. Городской совет собрался сегодня, чтобы обсудить бюджет.",  # mixed
    "Almatyda jer silkinisi sezildi",  # Kazakh Latin without its own letters: CLD2 says Turkmen
])
def test_detection_says_nothing_rather_than_guess(text):
    assert language.detect(text) == ""


def test_an_unknown_language_in_the_config_names_the_file_and_key(tmp_path):
    (tmp_path / "digest.toml").write_text('[[feeds]]\nname = "a.xml"\nurl = "https://a/"\nlanguage = "klingon"\n')
    with pytest.raises(ConfigError, match=r"digest.toml: \[\[feeds\]\] 'a.xml': 'language'"):
        load_config(tmp_path)
    (tmp_path / "digest.toml").write_text('language = "xx"\n')
    with pytest.raises(ConfigError, match=r"digest.toml: language should be a language code"):
        load_config(tmp_path)
    (tmp_path / "digest.toml").write_text('language = "ru-RU"\n')
    assert load_config(tmp_path).language == "ru"


def test_tags_normalize():
    assert [language.normalize_tag(t) for t in ("ru-RU", "KK", "uz_Cyrl", "iw", "english", "", None)] == \
        ["ru", "kk", "uz", "he", "", "", ""]


def test_cyrillic_slugs_stay_readable():
    assert slugify("Қазақстан әуежайы") == "qazaqstan-auezhaiy"
    assert slugify("Көпүрө Ысык-Көлдө") == "kopuro-ysyk-koldo"
    assert slugify("Ҳукумати Тоҷикистон ғалла") == "hukumati-tojikiston-galla"
    assert slugify("Засуха: фермеры просят") == "zasukha-fermery-prosyat"


# --- Browsing by language ---------------------------------------------------------------------

def _read(out, path):
    return (out / path).read_text(encoding="utf-8")


def test_languages_are_named_in_themselves_and_in_english():
    assert [language.display_name(c) for c in ("ru", "kk", "uz", "ky", "tg", "tk", "en")] == [
        "Русский (Russian)", "Қазақша (Kazakh)", "Oʻzbekcha (Uzbek)", "Кыргызча (Kyrgyz)", "Тоҷикӣ (Tajik)",
        "Türkmençe (Turkmen)", "English"]


def test_the_languages_index_lists_each_language_with_its_count(site):
    out, rows = site
    index = _read(out, "languages/index.html")
    listed = re.findall(r'<li><a href="([a-z]+)/index.html"><span lang="\1">([^<]+)</span>( \([A-Za-z]+\))?</a> '
                        r'<span class="count">(\d+)<', index)
    # most stories first, then by code; the same counts as articles.json
    assert [(code, native + english, int(n)) for code, native, english, n in listed] == [
        ("ru", "Русский (Russian)", 4), ("kk", "Қазақша (Kazakh)", 2), ("ky", "Кыргызча (Kyrgyz)", 2),
        ("tg", "Тоҷикӣ (Tajik)", 2), ("tk", "Türkmençe (Turkmen)", 2), ("uz", "Oʻzbekcha (Uzbek)", 2),
        ("en", "English", 1)]
    assert sum(int(n) for *_, n in listed) == len(rows)
    # every page links the index from its navigation
    for path in ("index.html", "countries/index.html", rows["Habar"]["url"] + "index.html"):
        nav = _read(out, path).split('<nav aria-label="Sections">')[1].split("</nav>")[0]
        assert ">Languages</a>" in nav, path


def test_a_language_page_lists_its_stories_paginated_from_the_oldest(site):
    out, rows = site
    russian = sorted((r for r in rows.values() if r["language"] == "ru"), key=lambda r: r["published"])
    front, archive = _read(out, "languages/ru/index.html"), _read(out, "languages/ru/page/1/index.html")
    titles = lambda page: re.findall(r'<h2 lang="(\w+)"><a href="[^"]*">([^<]+)</a>', page)  # noqa: E731
    assert titles(archive) == [("ru", r["title"]) for r in reversed(russian[:2])]  # page 1: the oldest two
    assert titles(front) == [("ru", r["title"]) for r in reversed(russian[2:])]
    assert '<h1><span lang="ru">Русский</span> (Russian)</h1>' in front
    assert '<link rel="next" href="page/1/index.html">' in front
    assert not (out / "languages" / "kk" / "page").exists()  # two stories: one page
    sitemap = _read(out, "sitemap.xml")
    for path in ("languages/", "languages/ru/", "languages/ru/page/1/", "languages/en/"):
        assert f"/{path}</loc>" in sitemap, path


def test_each_language_has_its_own_feeds(site):
    out, rows = site
    for code in ("ru", "kk", "ky", "uz", "tg", "tk", "en"):
        items = json.loads(_read(out, f"languages/{code}/feed.json"))["items"]
        assert {i["language"] for i in items} == {code}
        assert len(items) == sum(r["language"] == code for r in rows.values())
        atom = _read(out, f"languages/{code}/feed.xml")
        assert atom.count("<entry ") == len(items) and atom.count(f'<entry xml:lang="{code}">') == len(items)
        page = _read(out, f"languages/{code}/index.html")
        assert '<link rel="alternate" type="application/atom+xml"' in page and 'href="feed.json"' in page


def test_the_newsletter_marks_stories_in_other_languages(site):
    out, rows = site
    email = _read(out, "weeks/2026-w25/newsletter.html")
    assert email.startswith("<!DOCTYPE html><html lang=\"en\">") or '<html lang="en">' in email
    for title, lang in (("Засуха в Хатлоне: фермеры просят помощи", "ru"), ("Aşgabatda täze köpri açyldy", "tk")):
        assert re.search(f'<p class="title" lang="{lang}"[^>]*><a [^>]*>{re.escape(title)}</a>', email), title
    assert re.search(r'<p class="title" style="[^"]*"><a [^>]*>New bridge opens in Bishkek</a>', email)
    assert email.count('class="excerpt" lang=') == sum(r["language"] != "en" for r in rows.values())


def test_an_unknown_language_code_in_a_feed_is_one_warning(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from digest.cli import main

    def feed(host: str, titles: tuple[str, ...]) -> str:
        items = "".join(
            f"<item><title>{t}</title><link>https://{host}/{i}</link><pubDate>Thu, 18 Jun 2026 0{i}:00:00 +0000"
            f"</pubDate><description>&lt;p&gt;{t}. Правительство обсудило бюджет на следующий год.&lt;/p&gt;"
            "</description></item>" for i, t in enumerate(titles))
        return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Bad</title>'
                f"<link>https://{host}/</link><language>xx-nonsense</language>{items}</channel></rss>")

    (tmp_path / "content_cache").mkdir()
    (tmp_path / "content_cache" / "bad.rss.xml").write_text(
        feed("bad.example", ("Бюджет утвержден в Астане", "Совет собрался в Бишкеке")), encoding="utf-8")
    # The same code in a feed whose language digest.toml sets is not used, so not warned about.
    (tmp_path / "content_cache" / "forced.rss.xml").write_text(
        feed("forced.example", ("Мектеп ашылды",)), encoding="utf-8")
    (tmp_path / "digest.toml").write_text(
        '[[feeds]]\nname = "forced.rss.xml"\nurl = "https://forced.example/feed/"\nlanguage = "kk"\n')
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["build", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and warnings[0].startswith("warning: bad.rss.xml: declares the language 'xx-nonsense'")
    rows = json.loads((tmp_path / "dist" / "articles.json").read_text(encoding="utf-8"))["articles"]
    assert sorted((r["sources"][0], r["language"]) for r in rows) == [
        ("bad.rss.xml", "ru"), ("bad.rss.xml", "ru"), ("forced.rss.xml", "kk")]  # bad: detected, as if undeclared


def test_detection_asks_cld2_from_exactly_the_minimum_of_letters(monkeypatch):
    # The letters are counted only up to MIN_LETTERS (a findall of them all was most of the
    # time): one fewer is too short to ask, exactly that many is enough.
    asked = []
    monkeypatch.setattr(language.pycld2, "detect", lambda text, **kw: asked.append(text) or (True, 0, ()))
    few, enough = "a1 " * (language.MIN_LETTERS - 1), "a1 " * language.MIN_LETTERS
    assert language.detect(few) == "" and not asked
    language.detect(enough)
    assert asked == [enough]

"""A language per story (digest/language.py) and countries in every script, on items written
for the tests in the seven languages (tests/data/languages)."""

from __future__ import annotations

import json
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
    (folder / "digest.toml").write_text(
        '[[feeds]]\nname = "misdeclared.rss.xml"\nurl = "https://mis.example/feed/"\nlanguage = "ru"\n')
    out = folder / "dist"
    build(replace(load_config(folder), out_dir=out), environ={}, parse_cache=folder / "cache")
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
    assert 'class="card-title" lang="kk"' in home
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

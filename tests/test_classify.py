"""Countries, tags, authors and slugs: unit tests, gold comparisons and properties."""

import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from digest.build import build
from digest.classify import Classifier
from digest.config import Config, ConfigError, load_config
from digest.model import Article
from digest.site import assign_slugs
from digest.text import slugify

CLASSIFIER = Classifier.from_config(Config())
COUNTRIES = {"Kazakhstan", "Kyrgyzstan", "Tajikistan", "Turkmenistan", "Uzbekistan"}


def article(title="A story", body="", categories=(), url=None, id="x", published=None):
    return Article(id=id, slug="", title=title, source_url=url, publisher="P", authors=(), tags=(),
                   countries=(), published=published, date_precision="unknown", date_note="",
                   body_html=body, excerpt="", sources=("f",), categories=tuple(categories))


@pytest.mark.parametrize("word,country", [
    ("Kazakhstan", "Kazakhstan"), ("Kazakh", "Kazakhstan"), ("Kazakhstani", "Kazakhstan"),
    ("Qazaqstan", "Kazakhstan"), ("Казахстан", "Kazakhstan"), ("казахстанский", "Kazakhstan"),
    ("Казахстана", "Kazakhstan"), ("Astana", "Kazakhstan"), ("Nur-Sultan", "Kazakhstan"),
    ("Almaty", "Kazakhstan"), ("Bishkek", "Kyrgyzstan"), ("Osh", "Kyrgyzstan"), ("Kyrgyz", "Kyrgyzstan"),
    ("Кыргызстан", "Kyrgyzstan"), ("Dushanbe", "Tajikistan"), ("Khujand", "Tajikistan"),
    ("Таджикистан", "Tajikistan"), ("Ashgabat", "Turkmenistan"), ("Turkmen", "Turkmenistan"),
    ("Tashkent", "Uzbekistan"), ("Samarkand", "Uzbekistan"), ("Oʻzbekiston", "Uzbekistan"),
    ("Ташкенте", "Uzbekistan"),
])
def test_aliases_in_a_title_file_the_story(word, country):
    countries, reasons = CLASSIFIER.countries_for(article(title=f"News from {word} today"))
    assert countries == (country,)
    assert "title" in reasons[0][1]


def test_words_inside_other_words_do_not_count():
    countries, _ = CLASSIFIER.countries_for(article(title="Oshkosh and Kazakhstanica", body="<p>Bishkekistan</p>"))
    assert countries == ()


def test_passing_mention_does_not_count_but_the_subject_does():
    body = "<p>Kazakhstan's parliament met. Kazakhstan voted. Astana agreed. Almaty protested.</p>" \
           "<p>A similar law exists in Kyrgyzstan.</p>"
    countries, _ = CLASSIFIER.countries_for(article(body=body))
    assert countries == ("Kazakhstan",)


def test_region_wide_story_gets_every_country():
    body = "<p>" + " ".join(f"{c} signed. {c} agreed. {c} ratified." for c in sorted(COUNTRIES)) + "</p>"
    countries, _ = CLASSIFIER.countries_for(article(body=body))
    assert set(countries) == COUNTRIES


def test_category_alone_is_not_enough_but_with_a_mention_it_is():
    assert CLASSIFIER.countries_for(article(categories=["Turkmenistan"], body="<p>Kyrgyzstan x Kyrgyzstan y Bishkek z</p>"))[0] == ("Kyrgyzstan",)
    assert "Turkmenistan" in CLASSIFIER.countries_for(article(categories=["Turkmenistan"], body="<p>In Ashgabat.</p><p>Kyrgyzstan x Kyrgyzstan y Bishkek z</p>"))[0]


def test_cross_links_do_not_count():
    body = "<p>Story about Dushanbe and Tajikistan, Tajik people.</p>" + \
           "<p>Read also on Novastan: Uzbekistan, Uzbekistan and Uzbekistan again</p>"
    assert CLASSIFIER.countries_for(article(body=body))[0] == ("Tajikistan",)


def test_url_section_counts():
    assert CLASSIFIER.countries_for(article(url="https://novastan.org/en/tajikistan/some-story/", body="<p>Rahmon spoke.</p>"))[0] == ("Tajikistan",)


def test_country_categories_are_countries_not_tags_but_cities_stay_tags():
    a = CLASSIFIER.classify(article(categories=["Kazakhstan", "Kazakh", "Almaty", "economics", "Média", "victory day"],
                                    body="<p>Almaty again.</p>"))
    assert a.tags == ("Almaty", "Economy", "Media", "Victory Day")
    assert a.countries == ("Kazakhstan",)


# Spelling variants documented in the README and configured by default (digest/config.py).
GOLD_TAG_MERGES = {
    "mobilisation": "Mobilization", "mobilization": "Mobilization", "Economics": "Economy",
    "World War II": "Second World War", "Migrants": "Migration", "Portait": "Portrait",
    "Média": "Media", "Lac Balkhach": "Lake Balkhash", "Soldiers": "Army", "army": "Army",
    "Central mosque": "Central Mosque", "children's day": "Children's Day",
}
GOLD_COUNTRY_LABELS = COUNTRIES | {"Kazakh"}


def _expected_tag(label: str) -> str:
    if label in GOLD_TAG_MERGES:
        return GOLD_TAG_MERGES[label]
    if label == label.lower():
        return " ".join(w[:1].upper() + w[1:] for w in label.split(" "))
    return label


def test_tags_match_gold_after_documented_normalization(catalog, gold):
    expected = Counter()
    for g in gold["articles"]:
        expected.update({_expected_tag(c) for c in g["categories"] if c not in GOLD_COUNTRY_LABELS})
    mine = Counter(t for a in catalog.values() for t in a["tags"])
    assert mine == expected


def test_authors_match_gold(catalog, gold):
    mine = Counter(a for row in catalog.values() for a in row["authors"])
    assert mine == Counter({r["author"]: r["articles"] for r in gold["authors"]})


def test_author_aliases_map_accounts_to_names():
    classifier = replace(CLASSIFIER, author_aliases={"jguyonvarch": "J. Guyonvarch"})
    a = classifier.classify(replace(article(), authors=("jguyonvarch", "Mari Paine")))
    assert a.authors == ("J. Guyonvarch", "Mari Paine")


def test_every_article_is_on_exactly_the_pages_of_its_groups(seed_build, catalog):
    out, _ = seed_build
    by_url = {row["url"]: row for row in catalog.values()}
    found: dict[str, set] = {row["id"]: set() for row in catalog.values()}
    for section, field in (("countries", "countries"), ("tags", "tags"), ("authors", "authors")):
        for page in (out / section).rglob("index.html"):
            rel = page.relative_to(out / section).parts
            if len(rel) == 1:
                continue  # the section index
            html = page.read_text()
            name = re.search(r"<h1>(.*?)</h1>", html).group(1)
            for href in re.findall(r'<h2[^>]*><a href="([^"]+)"', html):
                target = (page.parent / href).resolve().relative_to(out.resolve()).as_posix()
                row = by_url[target.removesuffix("index.html")]
                found[row["id"]].add((field, name.replace("&#39;", "'").replace("&amp;", "&")))
    for row in catalog.values():
        expected = {(f, n) for f in ("countries", "tags", "authors") for n in row[f]}
        assert found[row["id"]] == expected, row["id"]


def test_group_pages_paginate_from_the_oldest_with_prev_next(tmp_path, seed_config):
    out = tmp_path / "dist"
    build(replace(seed_config, out_dir=out, per_page=4), environ={})
    group = out / "countries" / "kazakhstan"
    front = (group / "index.html").read_text()
    # 35 stories: seven full pages of 4 from the oldest, and the newest 7 on the front page
    assert 'rel="next" href="page/7/index.html"' in front and "35 stories" in front
    assert front.count('class="card"') == 7
    newest_archive = (group / "page" / "7" / "index.html").read_text()
    assert 'rel="prev" href="../../index.html"' in newest_archive and 'rel="next" href="../6/index.html"' in newest_archive
    assert "35 stories" not in newest_archive  # an archive page never shows the running total
    oldest = (group / "page" / "1" / "index.html").read_text()
    assert 'rel="prev" href="../2/index.html"' in oldest and 'rel="next"' not in oldest
    pages = [group / "index.html"] + [group / "page" / str(k) / "index.html" for k in range(7, 0, -1)]
    titles = [re.findall(r'<h2[^>]*><a href="[^"]*">([^<]+)<', p.read_text()) for p in pages]
    assert sum(len(t) for t in titles) == 35 and len({x for t in titles for x in t}) == 35  # each story once
    assert not (group / "page" / "8").exists()


def test_author_page_shows_profile(seed_build, gold):
    out, _ = seed_build
    html = (out / "authors" / "aliya-haidar" / "index.html").read_text()
    profile = gold["author_profile"]
    assert profile["role"] in html
    assert profile["bio"].replace("'", "&#39;") in html


@pytest.mark.parametrize("text,slug", [
    ("Қазақстан Республикасы", "qazaqstan-respublikasy"),
    ("ә ғ қ ң ө ұ ү һ і ş ç ğ ñ", "a-g-q-n-o-u-u-h-i-s-c-g-n"),
    ("Oʻzbekiston", "ozbekiston"),
    ("Ташкент — столица", "tashkent-stolitsa"),
    ("Kazakhstan’s Film Industry", "kazakhstans-film-industry"),
    ("../../etc", "etc"),
    ("C", "c"), ("C++", "c-plus-plus"), ("C#", "c-sharp"),
])
def test_slugs_transliterate(text, slug):
    assert slugify(text) == slug


def test_slugs_do_not_depend_on_whether_unidecode_is_installed(monkeypatch):
    """python-slugify's "auto" backend prefers unidecode where it is installed; ours is named."""
    import sys
    import types

    before = slugify("Алматы: Қазақстан жаңалықтары")
    fake = types.ModuleType("unidecode")
    fake.unidecode = lambda text: "other"
    monkeypatch.setitem(sys.modules, "unidecode", fake)
    assert slugify("Алматы: Қазақстан жаңалықтары") == before == "almaty-qazaqstan-zhanalyqtary"


def test_article_slug_clash_keeps_the_older_story_plain():
    from datetime import datetime, timezone
    old = article(title="Same", id="a", published=datetime(2020, 1, 1, tzinfo=timezone.utc))
    new = article(title="Same", id="b", published=datetime(2026, 1, 1, tzinfo=timezone.utc))
    first = {a.id: a.slug for a in assign_slugs([old])}
    both = {a.id: a.slug for a in assign_slugs([new, old])}
    assert first["a"] == both["a"] == "same"
    assert both["b"].startswith("same-") and both["b"] != "same"


@given(st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=25, unique=True))
def test_article_slugs_unique_and_stable_when_stories_are_added(titles):
    from datetime import datetime, timedelta, timezone
    start = datetime(2020, 1, 1, tzinfo=timezone.utc)
    arts = [article(title=t, id=f"id{i}", published=start + timedelta(days=i)) for i, t in enumerate(titles)]
    slugs = {a.id: a.slug for a in assign_slugs(arts)}
    assert len(set(slugs.values())) == len(slugs)
    newer = arts + [article(title=titles[0], id="newest", published=start + timedelta(days=999))]
    again = {a.id: a.slug for a in assign_slugs(newer)}
    assert all(again[k] == v for k, v in slugs.items())


def test_config_file_extends_countries_and_aliases(tmp_path):
    (tmp_path / "digest.toml").write_text(
        'title = "My desk"\nper_page = 5\n'
        '[countries.Kazakhstan]\nplaces = ["Zhanaozen"]\n'
        '[countries.Mongolia]\naliases = ["Mongolian"]\nplaces = ["Ulaanbaatar"]\n'
        '[tag_aliases]\n"Econ" = "Economy"\n'
        '[author_aliases]\njguyonvarch = "J. Guyonvarch"\n', encoding="utf-8")
    config = load_config(tmp_path)
    assert config.title == "My desk" and config.per_page == 5
    assert config.country_names == ("Kazakhstan", "Mongolia")
    classifier = Classifier.from_config(config)
    assert classifier.countries_for(article(title="Zhanaozen strike"))[0] == ("Kazakhstan",)
    assert classifier.countries_for(article(title="Ulaanbaatar news"))[0] == ("Mongolia",)
    assert classifier.tag("econ") == "Economy" and classifier.tag("economics") == "Economy"
    assert classifier.author("jguyonvarch") == "J. Guyonvarch"


def test_pyproject_tool_table_is_read(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.digest]\ntitle = "From pyproject"\n', encoding="utf-8")
    assert load_config(tmp_path).title == "From pyproject"


@pytest.mark.parametrize("text,message", [
    ("nonsense = 1\n", "unknown key 'nonsense'"),
    ("per_page = 'ten'\n", "'per_page' should be int"),
    ("title = \n", "digest.toml"),
])
def test_bad_config_is_a_clear_error(tmp_path, text, message):
    (tmp_path / "digest.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(tmp_path)


_ALIASES = [(c.name, w.rstrip("*")) for c in Config().countries for w in c.aliases + c.places]
_filler = st.text(alphabet=st.sampled_from("abcdefghij klmnop,."), max_size=30)


@given(st.sampled_from(_ALIASES), _filler, _filler)
def test_any_alias_in_any_title_files_its_country(pair, before, after):
    country, word = pair
    title = f"{before} {word} {after}"
    countries, _ = CLASSIFIER.countries_for(article(title=title))
    assert country in countries


@given(st.sampled_from(_ALIASES), st.sampled_from(["x", "Q", "7"]))
def test_an_alias_glued_into_another_word_does_not_count(pair, glue):
    _, word = pair
    countries, _ = CLASSIFIER.countries_for(article(title=f"{glue}{word}"))
    assert countries == ()


_TAG_SOUP = st.lists(st.sampled_from(
    ["<p>", "</p>", "<p class='x'>", "<li>", "</li>", "<h2>", "</h2>", "</h7>", "<", ">", "a", " ", "\n", "</",
     "</P>", "<blockquote>", "</blockquote>", "</figcaption>", "<pre>", "<pa>", "</pa>", "<h1", "</li >", "<h6 id=1>"]),
    max_size=16).map("".join)


@given(_TAG_SOUP)
def test_the_paragraph_pattern_finds_what_the_lazy_pattern_finds(html):
    from digest.classify import _PARAGRAPH

    lazy = re.compile(r"<(?:p|h[1-6]|li|figcaption|blockquote)\b[^>]*>(.*?)</(?:p|h[1-6]|li|figcaption|blockquote)>", re.S)
    assert _PARAGRAPH.findall(html) == lazy.findall(html)

"""The language of each story, as a BCP 47 primary tag (ru, kk, ky, uz, tg, tk, en, …).

In order, the first that gives one wins:

1. the feed's ``language`` in ``digest.toml`` (``[[feeds]]``), an override: WordPress and
   similar engines declare one language for every item whatever the story is written in;
2. what the item declares (Atom ``xml:lang``, ``dc:language``, JSON Feed ``language``), else
   what its feed declares (RSS ``<language>``, Atom ``xml:lang``, JSON Feed ``language``);
3. detection from the title and text with CLD2 (pycld2), when it is sure (below);
4. the site's ``language``.

Detection answers only when the text says it clearly: CLD2 must find one language in at
least ``MIN_SHARE`` of the text it could place (a Russian story naming Kazakh places is still
Russian; half English, half Russian is neither), and the text must have ``MIN_LETTERS``
letters. Two corrections, measured on Wikipedia text and short news items (README "Languages"):
CLD2 has no model of Kazakh in Latin script (the 2018 acute alphabet and the 2021 one) and
calls it Turkmen, Tatar or Azerbaijani, so Latin text with letters only Kazakh uses among
these (ǵ, ń, ū) is Kazakh; and CLD2's Turkmen needs Turkmen's own letters (ä ň ý ž ş ç ö ü),
else it is too unsure to answer.
"""

from __future__ import annotations

import re
from dataclasses import replace
from itertools import islice
from typing import Iterable

import pycld2

from digest.model import Article, SourceReport

MIN_SHARE = 0.8  # of the text CLD2 could place, in one language
MIN_LETTERS = 12  # below this a text is too short to tell
SAMPLE = 2000  # characters of title and text looked at: enough, and bounded per story

# CLD2's old codes → BCP 47.
_RENAMED = {"iw": "he", "jw": "jv", "in": "id", "zh-hant": "zh", "zh-tw": "zh", "zh-cn": "zh", "mo": "ro"}
KNOWN: frozenset[str] = frozenset(
    _RENAMED.get(code.lower(), code.lower()).split("-")[0] for _, code in pycld2.LANGUAGES
    if code not in ("un", "xxx") and not code.startswith(("xx-", "zzb", "zzh", "zzp"))
) | {"kk", "ky", "uz", "tg", "tk", "ru", "en"}

# Names readers see, each in its own language; other languages take CLD2's English name.
NAMES = {
    "en": "English", "ru": "Русский", "kk": "Қазақша", "ky": "Кыргызча", "uz": "Oʻzbekcha",
    "tg": "Тоҷикӣ", "tk": "Türkmençe", "fr": "Français", "de": "Deutsch", "tr": "Türkçe",
    "zh": "中文", "fa": "فارسی", "uk": "Українська",
}
_CLD2_NAMES = {_RENAMED.get(code.lower(), code.lower()): name for name, code in pycld2.LANGUAGES}

_TAG = re.compile(r"^([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*$")
_KAZAKH_LATIN = re.compile("[ǵǴńŃūŪ]")
_TURKMEN_LETTERS = re.compile("[äÄňŇýÝžŽşŞçÇöÖüÜ]")
_LETTER = re.compile(r"[^\W\d_]")
_SNAPSHOT = re.compile(r"^\d{8}T\d{6}Z-(?:\d+-)?")  # archive/<name>/<stamp>-<name> (archive.py)
_LATIN_TURKIC = {"tk", "tt", "az", "tr", "uz", "ug", "ba", "un"}


def normalize_tag(value: object) -> str:
    """'ru-RU', 'RU', 'kk_Latn', 'iw' → 'ru', 'ru', 'kk', 'he'; '' for what is no known language."""
    if not isinstance(value, str):
        return ""
    value = value.strip()
    match = _TAG.match(value)
    if not match:
        return ""
    whole = value.lower().replace("_", "-")
    primary = _RENAMED.get(whole, _RENAMED.get(match.group(1).lower(), match.group(1).lower()))
    return primary if primary in KNOWN else ""


def name_of(code: str) -> str:
    return NAMES.get(code) or _CLD2_NAMES.get(code, code).title()


def label(code: str) -> dict:
    """A language's name in itself and in English (empty when the two are the same), for the
    pages that browse by language: {"lang": "ru", "native": "Русский", "english": "Russian"}."""
    english = _CLD2_NAMES.get(code, code).title()
    native = name_of(code)
    return {"lang": code, "native": native, "english": "" if english == native else english}


def display_name(code: str) -> str:
    """'Русский (Russian)', 'English': how a language is named on its own page and in feeds."""
    names = label(code)
    return f"{names['native']} ({names['english']})" if names["english"] else names["native"]


def undeclarable(reports: Iterable[SourceReport], overrides: dict[str, str]) -> list[SourceReport]:
    """The reports, each with one problem per language code its items declare that is no known
    language ('xx-nonsense'). Those stories fall back to detection, then the feed's configured or
    the site's language (normalize.py, ``assign``); a feed whose language ``digest.toml`` sets
    is not warned about, as what it declares is not used."""
    out = []
    for report in reports:
        bad = [] if report.file in overrides else sorted(
            {i.language for i in report.items if i.language and not normalize_tag(i.language)})
        out.append(replace(report, problems=report.problems + tuple(
            f"declares the language {code[:40]!r}, which is no known language code; its stories' language is "
            "detected instead (else the site's)" for code in bad)) if bad else report)
    return out


def detect(text: str) -> str:
    """The language ``text`` is written in, or '' when it is too short or too mixed to tell."""
    text = text[:SAMPLE]
    if next(islice(_LETTER.finditer(text), MIN_LETTERS - 1, None), None) is None:
        return ""  # fewer than MIN_LETTERS letters (counted only that far: findall of them all was 60 % of this)
    try:
        reliable, _, details = pycld2.detect(text, isPlainText=True)
    except pycld2.error:  # invalid UTF-8 (lone surrogates) in a text we could not clean
        return ""
    placed = [(code, percent) for _, code, percent, _ in details if code != "un" and percent > 0]
    top = _RENAMED.get(placed[0][0].lower(), placed[0][0]) if placed else "un"
    if top in _LATIN_TURKIC and _KAZAKH_LATIN.search(text):
        return "kk"  # CLD2 has no Kazakh Latin model; these letters are Kazakh's alone here
    if not placed:
        return ""
    if top == "tk" and not _TURKMEN_LETTERS.search(text):
        return ""  # CLD2's guess for any Turkic Latin text it cannot place
    if placed[0][1] < MIN_SHARE * sum(p for _, p in placed):
        return ""  # too mixed to tell
    if not reliable and placed[0][1] < 25:
        return ""  # CLD2 placed too little of the text to go by
    code = top.split("-")[0]
    return code if code in KNOWN else ""


def assign(articles: Iterable[Article], overrides: dict[str, str], site_language: str) -> list[Article]:
    """Each article with its final language: the first of its sources' configured languages,
    else what it declared or was detected as (``to_article``), else the site's."""
    out = []
    for article in articles:
        names = (_SNAPSHOT.sub("", s) for s in article.sources)  # a snapshot is its feed's
        forced = next((overrides[n] for n in names if n in overrides), "")
        language = forced or article.language or site_language
        out.append(article if language == article.language else replace(article, language=language))
    return out


def choices(articles: Iterable[Article]) -> list[dict]:
    """The language filter of the search page: code and name of each language, none for a
    site in one language."""
    codes = languages_of(articles)
    return [{"code": c, "name": name_of(c)} for c in codes] if len(codes) > 1 else []


def languages_of(articles: Iterable[Article]) -> list[str]:
    """The site's languages, most stories first, then by code (deterministic)."""
    counts: dict[str, int] = {}
    for article in articles:
        counts[article.language] = counts.get(article.language, 0) + 1
    return sorted(counts, key=lambda c: (-counts[c], c))

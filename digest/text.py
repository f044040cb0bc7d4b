"""Small text helpers shared by several stages (folding, slugs, plain text)."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata

from slugify import slugify as _slugify

# Central Asian Latin and Cyrillic letters that python-slugify's unidecode would drop or mangle.
SLUG_REPLACEMENTS = [
    ["ә", "a"], ["Ә", "A"], ["ғ", "g"], ["Ғ", "G"], ["қ", "q"], ["Қ", "Q"], ["ң", "n"], ["Ң", "N"],
    ["ө", "o"], ["Ө", "O"], ["ұ", "u"], ["Ұ", "U"], ["ү", "u"], ["Ү", "U"], ["һ", "h"], ["Һ", "H"],
    ["і", "i"], ["І", "I"], ["ı", "i"], ["ş", "s"], ["Ş", "S"], ["ç", "c"], ["Ç", "C"], ["ğ", "g"],
    ["Ğ", "G"], ["ñ", "n"], ["Ñ", "N"], ["ҷ", "j"], ["Ҷ", "J"], ["ӣ", "i"], ["Ӣ", "I"], ["ӯ", "u"], ["Ӯ", "U"], ["ҳ", "h"], ["Ҳ", "H"],
    ["я", "ya"], ["Я", "Ya"], ["ю", "yu"], ["Ю", "Yu"], ["ё", "yo"], ["Ё", "Yo"],  # not unidecode's ia, iu, e
    ["+", " plus "], ["#", " sharp "], ["&", " and "],
]

_APOSTROPHES = re.compile("['’‘ʻʼ`]")
_TAGS = re.compile(r"<[^>]*>")
_SCRIPTS = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.I | re.S)
_SPACE = re.compile(r"\s+")
_BLOCK_ENDS = re.compile(r"(?i)</(p|div|h[1-6]|li|figcaption|blockquote|tr)>|<br\s*/?>")


def fold(text: str) -> str:
    """Case- and accent-insensitive key: 'Média' and 'media' fold the same."""
    if text.isascii():
        return text.lower().strip()  # what the rest gives for ASCII (nothing to decompose), faster
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).strip()


def squash(text: str) -> str:
    """Collapse every run of whitespace (including NBSP) to one space and trim."""
    # str.split() splits on exactly the characters the regex \s matches in a str (NBSP among
    # them), so this is ``re.sub(r"\s+", " ", text).strip()``, several times faster.
    return " ".join(text.split())


def plain(fragment: str) -> str:
    """Plain text of an HTML fragment. Tags become nothing (not spaces) so 'par</b>ade' stays a word;
    block ends get a space first so paragraphs do not run together."""
    if "<" in fragment:
        fragment = _SCRIPTS.sub("", fragment)
        fragment = _BLOCK_ENDS.sub(" ", fragment)
        fragment = _TAGS.sub("", fragment)
    return squash(html.unescape(fragment))


_TAG_LIKE = re.compile(r"<[A-Za-z!/?][^<>]*(?:>|$)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


def clean_line(text: str, limit: int = 300) -> str:
    """A one-line plain-text field (title, author, category) safe for any consumer: no control
    characters, nothing tag-shaped even after the HTML layer decoded it, at most ``limit``
    characters (cut on a word, with an ellipsis). Entities are *not* decoded again."""
    text = squash(_CONTROL.sub("", _TAG_LIKE.sub("", _SCRIPTS.sub("", text))))
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit * 0.6 else cut).rstrip(",;:–- ") + "…"


def slugify(text: str, max_length: int = 80) -> str:
    """URL-safe ASCII slug with Central Asian transliteration; never empty, never a path."""
    slug = _slugify(
        _APOSTROPHES.sub("", text),
        max_length=max_length,
        word_boundary=True,
        replacements=SLUG_REPLACEMENTS,
        # Named, not "auto": auto prefers unidecode where it happens to be installed (other
        # slugs, so another site), and looks for it again for every slug (30 µs each).
        backend="text-unidecode",
    )
    return slug or "untitled"


def short_hash(text: str, n: int = 6) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:n]


EXCERPT_LIMIT = 280


def excerpt(text: str, limit: int = EXCERPT_LIMIT) -> str:
    """First sentences of plain text up to ``limit`` characters, cut on a word with an ellipsis."""
    text = squash(text)
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind("? "), cut.rfind("! "))
    if end > limit * 0.6:
        return cut[: end + 1]
    return cut[: cut.rfind(" ")].rstrip(",;:–-") + "…"


_IMG_SRC = re.compile(r'<img\b[^>]*?\ssrc="(https?://[^"]+)"')


def first_image(body_html: str) -> str | None:
    """The first absolute http(s) image in a (sanitized) body, for link previews."""
    match = _IMG_SRC.search(body_html)
    return html.unescape(match.group(1)) if match else None


def opening(body_html: str, chars: int) -> str:
    """The plain text of about the first ``chars`` characters of a body (its markup not counted
    beyond three times that), without reading the rest."""
    start = body_html[:chars * 3]
    if start.rfind("<") > start.rfind(">"):
        start = start[:start.rfind("<")]  # a tag cut in half is not text
    return plain(start)[:chars]

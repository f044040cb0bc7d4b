"""The full-text index of one shard of articles, as the files ``static/search.js`` searches.

Each word of a title or body is lower-cased, stemmed with the Snowball stemmer of the story's
language (PyStemmer; languages without one, such as Kazakh, are not stemmed) and folded
(diacritics dropped), so "ALMATY" and "almaty" meet, "Café" and "cafe" too, and "засухи" finds
"засуха". A word is a run of letters and digits (an apostrophe ends it: "Almaty's" is "almaty"
and "s"). Scripts that write vowels as combining signs (Devanagari, Tamil) are cut at those
signs, by the index and the browser alike, so such text is still found, less precisely; their
stemmers are not used. Words are stemmed before they are folded (Russian "й" is a letter to its
stemmer), so "résumé" and "resume" may stem apart; both are still found through their forms.
The browser never stems: the index lists each stem with the surface forms it was seen in, and
``search.js`` matches a query word against those forms (the word itself, or words it begins),
then takes every story holding that stem. A query word no story uses is matched to a stem it
begins with, at most ``STEM_SLACK`` letters shorter ("засухой" → "засух").

**Files of a shard** (paths relative to its folder; every file gzip-compressed JSON, unpacked
by the browser, so it is stored and served at a third of its size):

- ``t<i>.gz``: the i-th chunk of the terms, sorted by stem (UTF-16 order, as JavaScript
  compares strings): ``[[stem, [forms], [doc, weight, doc step, weight, …]], …]``, about
  ``CHUNK_BYTES`` of JSON each. ``doc`` is the story's number in the shard (steps between them after
  the first); ``weight`` is BM25's term-frequency part (k1 = 1.2, b = 0.75, the title counting
  ``TITLE_WEIGHT`` times, the story's length against its shard's average), × 100 and rounded.
  The browser multiplies it by the stem's inverse document frequency over all shards, so the
  results of every shard are ranked together.
- ``d<n>.gz``: story n: ``{"u": page path, "t": title, "d": date, "l": language, "x": text}``;
  only the results shown are fetched, and the excerpt around the first hit is cut from ``x``.

``Shard.chunks`` (the first stem of each term chunk) goes into the index's manifest, so a query
fetches, per shard, only the chunk or two whose stems can match each word.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, NamedTuple

import orjson
import Stemmer

try:  # ISA-L's gzip: as small as zlib's level 3 on our stories, in a quarter of its time
    import isal
    from isal import igzip as _compressor

    GZIP, LEVEL = f"isal {isal.__version__}", 2
except ImportError:  # a platform without an isal wheel: the standard library's, slower
    import gzip as _compressor

    GZIP, LEVEL = "zlib", 3

ENGINE = 1  # the files' format: search.js reads this version (the manifest says which)
CHUNK_BYTES = 12_000  # of a term chunk's JSON, before compression
TITLE_WEIGHT = 3
K1, B = 1.2, 0.75
STEM_SLACK = 3  # also in search.js
TEXT_LIMIT = 100_000  # characters of a story's text kept for excerpts
# Everything above that shapes a shard's bytes: part of its folder's name, so a browser that
# cached a shard's files never mixes them with another format's (and the parse cache keys it too).
# A change to how words are cut or folded must bump ENGINE.
FORMAT = (f"{ENGINE}:{CHUNK_BYTES}:{TITLE_WEIGHT}:{K1}:{B}:{STEM_SLACK}:{TEXT_LIMIT}:{GZIP}:{LEVEL}"
          f":{Stemmer.version()}")

_WORD = re.compile(r"[^\W_]+")

# BCP 47 primary tag → Snowball algorithm (PyStemmer's names).
STEMMERS = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "cs": "czech", "da": "danish",
    "nl": "dutch", "en": "english", "eo": "esperanto", "et": "estonian", "fi": "finnish", "fr": "french",
    "de": "german", "el": "greek", "hu": "hungarian", "id": "indonesian", "ga": "irish",
    "it": "italian", "lt": "lithuanian", "no": "norwegian", "nb": "norwegian",
    "nn": "norwegian", "fa": "persian", "pl": "polish", "pt": "portuguese", "ro": "romanian",
    "ru": "russian", "sr": "serbian", "es": "spanish", "sv": "swedish", "tr": "turkish",
    "yi": "yiddish",
}


class Doc(NamedTuple):
    """What the index keeps of one story."""

    url: str  # the article page's site path
    title: str
    date: str  # as the page shows it
    language: str
    text: str  # plain text of the body


@dataclass(frozen=True)
class Shard:
    """One shard's files and what the manifest says of it."""

    files: dict[str, bytes]  # name in the shard's folder → bytes
    docs: int
    chunks: tuple[str, ...]  # the first stem of each term chunk, in chunk order


def fold(word: str) -> str:
    """Diacritics off (the browser does the same: NFD, marks dropped); the word is lower case."""
    if word.isascii():
        return word
    return "".join(ch for ch in unicodedata.normalize("NFD", word) if unicodedata.category(ch)[0] != "M")


class Lexicon:
    """Word → (folded form, folded stem) in one language, each word worked out once (a shard of
    2,000 stories has ~3 million words and ~60,000 distinct ones). Words are cut from the text
    as it is and lower-cased one by one, as search.js cuts a query ("İ" lower-cased gains a mark)."""

    def __init__(self, language: str):
        algorithm = STEMMERS.get(language)
        self._stem = Stemmer.Stemmer(algorithm).stemWord if algorithm else None
        self._known: dict[str, tuple[str, str]] = {}

    def words(self, text: str) -> Counter:
        """Each word of ``text`` as it is written → how often."""
        return Counter(_WORD.findall(unicodedata.normalize("NFC", text)))

    def term(self, word: str) -> tuple[str, str]:
        """(form, stem) of a word as ``words`` cuts it."""
        term = self._known.get(word)
        if term is None:
            lower = word.lower()
            stem = self._stem(lower) if self._stem else lower
            term = self._known[word] = (fold(lower), fold(stem) or fold(lower))
        return term

    def terms(self, text: str) -> Counter:
        """(form, stem) → how often in ``text``."""
        out: Counter = Counter()
        for word, n in self.words(text).items():
            out[self.term(word)] += n
        return out


def index_shard(docs: Iterable[Doc], lexicon: Lexicon) -> Shard:
    """The files of one shard of stories (see the module)."""
    # The hot loops run once per distinct word of each story (~700,000 times for 2,000 stories),
    # so they keep to dictionary lookups; forms are collected once per distinct word of the shard.
    term = lexicon.term
    stem_of: dict[str, str] = {}  # each word seen → its stem, without a method call per word
    tfs: list[dict[str, int]] = []
    lengths: list[int] = []
    files: dict[str, bytes] = {}
    for n, doc in enumerate(docs):
        tf: dict[str, int] = {}
        length = 0
        for weight, text in ((1, doc.text), (TITLE_WEIGHT, doc.title)):
            counts = lexicon.words(text)
            length += sum(counts.values())
            for word, count in counts.items():
                stem = stem_of.get(word)
                if stem is None:
                    stem = stem_of[word] = term(word)[1]
                tf[stem] = tf.get(stem, 0) + weight * count
        tfs.append(tf)
        lengths.append(length)
        files[f"d{n}.gz"] = _pack({"u": doc.url, "t": doc.title, "d": doc.date, "l": doc.language,
                                   "x": doc.text[:TEXT_LIMIT]})
    forms: dict[str, set[str]] = {}
    for word in stem_of:
        form, stem = term(word)
        forms.setdefault(stem, set()).add(form)
    average = (sum(lengths) / len(lengths)) if lengths else 1.0
    postings: dict[str, list[int]] = {stem: [0] for stem in forms}  # [last doc, doc step, weight, …]
    for n, tf in enumerate(tfs):
        norm = K1 * (1 - B + B * lengths[n] / (average or 1.0))
        table = [_weight(f, norm) for f in range(16)]  # most counts are small
        for stem, f in tf.items():
            out = postings[stem]
            out.append(n - out[0])
            out.append(table[f] if f < 16 else _weight(f, norm))
            out[0] = n
    chunks: list[str] = []
    entries: list[bytes] = []
    size = 0
    for stem in sorted(postings, key=_utf16):
        entry = _json([stem, sorted(forms[stem], key=_utf16), postings[stem][1:]])
        if entries and size + len(entry) > CHUNK_BYTES:
            files[f"t{len(chunks) - 1}.gz"] = _pack_entries(entries)
            entries, size = [], 0
        if not entries:
            chunks.append(stem)
        entries.append(entry)
        size += len(entry) + 1
    if entries:
        files[f"t{len(chunks) - 1}.gz"] = _pack_entries(entries)
    return Shard(files, len(tfs), tuple(chunks))


def _weight(f: int, norm: float) -> int:
    """BM25's term-frequency part, × 100, at least 1."""
    return max(1, round(100 * f * (K1 + 1) / (f + norm)))


def _utf16(text: str) -> bytes:
    """The order JavaScript compares strings in (UTF-16 code units), which search.js relies on."""
    return text.encode("utf-16-be")


def _pack_entries(entries: list[bytes]) -> bytes:
    return _gzip(b"[" + b",".join(entries) + b"]")


def _pack(value) -> bytes:
    return _gzip(_json(value))


def _json(value) -> bytes:
    """Compact UTF-8 JSON (orjson: a third of the standard library's time here); text with a
    lone surrogate, which orjson refuses, goes through the standard library, replaced."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "replace")


def _gzip(data: bytes) -> bytes:
    # mtime=0: the same input gives the same bytes (a byte-identical dist/).
    return _compressor.compress(data, compresslevel=LEVEL, mtime=0)

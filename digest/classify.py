"""Countries, tags and authors for each article, with the reason each country was chosen.

Feed categories alone are not trusted for countries (a Xinjiang story can carry
"Kazakhstan"; a story about Tajikistan can lack it), so every piece of evidence is weighed:

    link section /en/<country>/   4     title mention   4
    category naming the country   3     body mention    1 each, at most 6

With a title, URL or category among its evidence a country needs a score of 4 (a category
backed by one mention in the text, say). On the text alone it needs three mentions and at
least a quarter as many as the story's most-mentioned country, so a passing mention, or a
neighbour named in a story about another, does not count. When a story names only one
republic at all, two points are enough: in a Central Asia digest it is the subject.

Short wire stories (at most ``SHORT_WORDS`` words) say things once: there one mention in the
text is enough for the only republic a story names, and a story that names every republic is
about all of them (a neighbour named once beside the subject still does not count). Names match with the
short endings the region's languages attach (Almatyda, Астанада, Qyrǵyzstannyń, see
placenames.py), and every apostrophe form is one (O'zbekiston, Oʻzbekiston, O‘zbekiston).
Cross-links to other stories ("Read also on …") and credit lines are left out of the count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Iterable, Mapping

from digest.config import Config, Country
from digest.model import Article
from digest.text import fold, plain, squash

_SMALL_WORDS = {"a", "an", "and", "at", "by", "for", "in", "of", "on", "or", "the", "to", "with"}
THRESHOLD = 4
SOLE_THRESHOLD = 2
BODY_ONLY_MIN = 3
BODY_SHARE = 0.25
BODY_CAP = 6
SHORT_WORDS = 150
# The case endings Kazakh, Kyrgyz, Uzbek, Turkmen and Tajik attach to a name (locative,
# ablative, dative, genitive, accusative, "of/in", "from"), in Latin and Cyrillic script.
# Russian inflection is in the aliases (``Казахстан*``). A closed list, not "any letters":
# "Bishkekistan" and "Kazakhstanica" are not the names.
_ENDINGS = (
    "da de ta te dan den tan ten nan nen ga ge ka ke qa ǵa ğa na ne a e u ü "
    "nyń niń dyń diń tyń tiń nyñ niñ dyñ diñ tyñ tiñ nyng ning nyň niň yň iň nyn nin dyn din "
    "ni ny di dy ti ty y i ı dagi daǵy dağı daky däki dagy degi tagy tegi lik lyk lyq liq ly li "
    "да де та те дө тө нда нде дан ден тан тен нан нен дөн төн нөн ға ге қа ке га ка го гө ко кө на не а е "
    "ның нің дың дің тың тің нын нин дын дин тын тин дун дүн тун түн нун нүн нинг "
    "ны ні ды ді ты ті ни ди ти ду дү ту тү ну нү н ы і и у ро "
    "дағы дегі тағы тегі дагы деги тагы теги даги дакы лық лік лык лик лик"
).split()
SUFFIX = "(?:" + "|".join(sorted(set(_ENDINGS), key=lambda e: (-len(e), e))) + ")?"
_APOSTROPHES = re.compile("[’‘ʻʼ`]")
_CROSS_LINK = re.compile(r"^(also read|read also|read more|see also|lire aussi|à lire aussi|lesen sie auch)\b", re.I)
_CREDIT = re.compile(r"^(credits?\s*:|written by|translated|edited by|originally written|proofread)", re.I)
# A paragraph-like element's content: what ``<(?:p|…)\b[^>]*>(.*?)</(?:p|…)>`` (re.S) finds, up to
# the first closing tag of any of them, written as runs of non-"<" text: the lazy ``.*?`` tried
# the closing tags after every character (85 → 23 µs a story; tests/test_classify.py compares).
_ELEMENTS = "(?:p|h[1-6]|li|figcaption|blockquote)"
_PARAGRAPH = re.compile(rf"<{_ELEMENTS}\b[^>]*>([^<]*(?:<(?!/{_ELEMENTS}>)[^<]*)*)</{_ELEMENTS}>")


@dataclass(frozen=True)
class Classifier:
    countries: tuple[Country, ...]
    tag_aliases: Mapping[str, str]
    author_aliases: Mapping[str, str]

    @classmethod
    def from_config(cls, config: Config) -> "Classifier":
        return cls(config.countries, config.tag_aliases, config.author_aliases)

    @cached_property
    def _patterns(self) -> dict[str, re.Pattern]:
        out = {}
        for country in self.countries:
            words = sorted(set(country.aliases + country.places) | {country.name}, key=len, reverse=True)
            out[country.name] = re.compile(_names_pattern([_APOSTROPHES.sub("'", w) for w in words]))
        return out

    @cached_property
    def _name_patterns(self) -> dict[str, re.Pattern]:
        return {
            c.name: re.compile("(?:" + "|".join(_word(w) for w in (c.name,) + c.aliases) + ")$", re.I)
            for c in self.countries
        }

    @cached_property
    def _place_patterns(self) -> dict[str, re.Pattern]:
        return {
            c.name: re.compile(r"(?<![\w-])(?:" + "|".join(_word(w) for w in c.places) + r")(?![\w-])", re.I)
            for c in self.countries if c.places
        }

    @cached_property
    def _named_by(self) -> dict[str, str | None]:
        return {}  # label → country_named_by(label): the same labels come back on many articles

    @cached_property
    def _of_label(self) -> dict[str, str | None]:
        return {}

    def country_named_by(self, label: str) -> str | None:
        """The country a label *names* ('Kazakh', 'Qazaqstan', 'Казахстан'), if any."""
        try:
            return self._named_by[label]
        except KeyError:
            stripped = label.strip()
            found = next((n for n, p in self._name_patterns.items() if p.match(stripped)), None)
            self._named_by[label] = found
            return found

    def country_of_label(self, label: str) -> str | None:
        """The country a label names or lies in ('Kazakh' and 'Almaty' both give Kazakhstan)."""
        try:
            return self._of_label[label]
        except KeyError:
            stripped = label.strip()
            found = self.country_named_by(stripped) or next(
                (n for n, p in self._place_patterns.items() if p.search(stripped)), None)
            self._of_label[label] = found
            return found

    def countries_for(self, article: Article) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
        section = _url_section(article.source_url)
        body = _APOSTROPHES.sub("'", _evidence_text(article.body_html))
        title = _APOSTROPHES.sub("'", article.title)
        short = article.word_count <= SHORT_WORDS
        evidence = []
        for country in self.countries:
            pattern = self._patterns[country.name]
            reasons, score = [], 0
            if section and self.country_of_label(section.replace("-", " ")) == country.name:
                score += 4
                reasons.append(f"filed under /{section}/ at the source")
            if pattern.search(title):
                score += 4
                reasons.append("named in the title")
            labels = [c for c in article.categories if self.country_of_label(c) == country.name]
            if labels:
                score += 3
                reasons.append("category " + ", ".join(f"“{c}”" for c in labels))
            mentions = len(pattern.findall(body))
            if mentions:
                score += min(mentions, BODY_CAP)
                reasons.append(f"{mentions} mention{'s' if mentions > 1 else ''} in the text")
            if score:
                evidence.append((country.name, score, mentions, score > min(mentions, BODY_CAP), reasons))
        top_mentions = max((m for _, _, m, _, _ in evidence), default=0)
        every = short and len(self.countries) >= 3 and len(evidence) == len(self.countries)
        chosen: list[tuple[str, str]] = []
        for name, score, mentions, labelled, reasons in evidence:
            if every:
                keep = True  # a short story naming every republic is about the region
            elif len(evidence) == 1:
                keep = score >= (1 if short else SOLE_THRESHOLD)  # the only republic the story names at all
            elif labelled:
                keep = score >= THRESHOLD
            else:  # text alone: several mentions, and not dwarfed by the story's main country
                keep = mentions >= BODY_ONLY_MIN and mentions >= BODY_SHARE * top_mentions
            if keep:
                chosen.append((name, "; ".join(reasons)))
        return tuple(c for c, _ in chosen), tuple(chosen)

    def tag(self, label: str) -> str:
        """Display name of a tag: configured alias, else the label with a capital first letter."""
        key = fold(label)
        if key in self.tag_aliases:
            return self.tag_aliases[key]
        label = squash(label)
        if label == label.lower():  # all lower-case feed labels read better title-cased
            words = label.split(" ")
            return " ".join(w if i and w in _SMALL_WORDS else w[:1].upper() + w[1:] for i, w in enumerate(words))
        return label[:1].upper() + label[1:]

    def tags_for(self, article: Article) -> tuple[str, ...]:
        # A label that names a country is a country, not a tag; a city stays a tag as well.
        return tuple(dict.fromkeys(
            self.tag(c) for c in article.categories if not self.country_named_by(c)
        ))

    def author(self, name: str) -> str:
        return self.author_aliases.get(name, squash(name))

    def classify(self, article: Article) -> Article:
        countries, reasons = self.countries_for(article)
        return replace(
            article,
            countries=countries,
            country_reasons=reasons,
            tags=self.tags_for(article),
            authors=tuple(dict.fromkeys(self.author(a) for a in article.authors if a.strip())),
        )


def classify(articles: Iterable[Article], config: Config) -> list[Article]:
    classifier = Classifier.from_config(config)
    return [classifier.classify(a) for a in articles]


def unify_tag_spellings(articles: list[Article]) -> list[Article]:
    """Tags that differ only in case or accents become one, spelled as most articles spell it
    (ties: the spelling with more capitals, then alphabetical), so 'Central mosque' joins
    'Central Mosque'."""
    return spell_tags(articles, best_spellings(count_spellings(articles)))


Spellings = dict[str, dict[str, int]]  # fold(tag) → {spelling: articles using it}


def count_spellings(articles: Iterable[Article], counts: Spellings | None = None) -> Spellings:
    """How many articles use each spelling of each tag, added to ``counts`` when given."""
    counts = {} if counts is None else counts
    for article in articles:
        for tag in article.tags:
            spellings = counts.setdefault(fold(tag), {})
            spellings[tag] = spellings.get(tag, 0) + 1
    return counts


def best_spellings(counts: Spellings) -> dict[str, str]:
    return {key: sorted(spellings, key=lambda s: (-spellings[s], -sum(ch.isupper() for ch in s), s))[0]
            for key, spellings in counts.items()}


def spell_tags(articles: Iterable[Article], best: dict[str, str]) -> list[Article]:
    return [replace(a, tags=tuple(dict.fromkeys(best[fold(t)] for t in a.tags))) for a in articles]


def _word(alias: str) -> str:
    """Regex for one alias; a trailing ``*`` allows any word ending (Russian inflection)."""
    return re.escape(alias[:-1]) + r"\w*" if alias.endswith("*") else re.escape(alias)


def _names_pattern(words: list[str]) -> str:
    r"""One regex for any of ``words`` as a whole word, with a case ending (``SUFFIX``) after
    names of four letters or more ("Osh" must not match "Oshkosh"). The words are grouped by
    their first letter, each group a literal followed by the look-behind
    (``K(?<![\w-]K)(?:azakhstan…|azakh\w*)``): every branch starts with a literal, so the
    engine skips to the possible first letters instead of trying every position, and the
    endings are written once per letter, not once per name (compiling the five republics'
    patterns: 250 → 130 ms; matching 10,000 stories: 25 % faster; the same matches)."""
    by_first: dict[str, list[str]] = {}
    for word in words:
        by_first.setdefault(word[:1], []).append(word)
    branches = []
    for first, group in by_first.items():
        lead = re.escape(first)
        ending = [_word(w)[len(lead):] for w in group if not w.endswith("*") and len(w) >= 4]
        bare = [_word(w)[len(lead):] for w in group if w.endswith("*") or len(w) < 4]
        rest = ([f"(?:{'|'.join(ending)}){SUFFIX}"] if ending else []) + bare
        branches.append(lead + r"(?<![\w-]" + lead + ")(?:" + "|".join(rest) + ")")
    return "(?:" + "|".join(branches) + r")(?![\w-])"


def _url_section(url: str | None) -> str | None:
    """'kazakhstan' from https://novastan.org/en/kazakhstan/slug/ (first segment after a language code)."""
    if not url:
        return None
    path = [p for p in re.sub(r"^https?://[^/]+", "", url).split("/") if p]
    if path and re.fullmatch(r"[a-z]{2}", path[0]):
        path = path[1:]
    return path[0].lower() if len(path) > 1 else None


def _evidence_text(body_html: str) -> str:
    paragraphs = [plain(p) for p in _PARAGRAPH.findall(body_html)] or [plain(body_html)]
    return "\n".join(p for p in paragraphs if not _CROSS_LINK.match(p) and not _CREDIT.match(p))

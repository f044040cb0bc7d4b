"""Events: the same real-world happening reported by several outlets, joined into one.

Deduplication (normalize.py) joins copies of *one* story. This joins *different* stories of
different outlets (publishers; two feeds of one publisher are one outlet) about the same event.

How two stories are judged (``_same_event``), on the title and the opening of the body:

- both have exact dates at most ``WINDOW`` apart (an event is reported within a few days;
  the same body's next meeting, the next earthquake, a decision and its financing months
  later are other events, and an approximate date cannot say which is which);
- they share a country (or neither has one), and when both name places of the config's
  countries they name at least one in common (a deal in Tashkent is not the deal in Almaty);
- their words, weighted by rarity across the archive (TF-IDF over stems, numbers and names),
  have a cosine of at least ``THRESHOLD``, with at least ``ANCHORS`` names or
  numbers in common. Names spelled two ways (Tokayev / Tokaev, Kambar-Ata / Kambarata) match
  by rapidfuzz's normalized edit distance.

Pairs are only ever compared when they share one of each story's rarest words and fall in
the window (blocking), so the cost grows with the archive, not with its square. Events are
then formed greedily from the best pair down; an event holds one story per outlet and spans
at most ``WINDOW``, so a chain of look-alikes cannot snowball into a "topic".

The editor has the last word (``[events]`` in digest.toml): ``join`` lists make events (the
first named leads), ``split`` takes stories out of their event. Deterministic throughout.
"""

from __future__ import annotations

import bisect
import heapq
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from itertools import chain, islice
from typing import Iterable, Mapping

from rapidfuzz.distance import Indel

from digest.model import EXACT, Article
from digest.normalize import LEAD_CHARS  # how much of the body beyond the title and excerpt is read
from digest.text import fold, opening

WINDOW = timedelta(days=3)
THRESHOLD = 0.3
ANCHORS = 3  # names (capitalised words) or numbers both stories must share
BLOCK_KEYS = 8  # each story's rarest words used to find candidates
NAME_SIMILARITY = 0.88  # rapidfuzz normalized Indel similarity of two spellings of one name

_WORD = re.compile(r"[^\W\d_](?:[\w’'-]*\w)?|\d+(?:[.,]\d+)*")
STOP = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had
has have having he her here hers him his how i if in into is it its itself just me more most my
no nor not now of off on once only or other our out over own same she should so some such than
that the their them then there these they this those through to too under until up very was we
were what when where which while who whom why will with would you your said says say told
according year years week day days month months time times new one two three per cent percent
mr mrs ms dr government official officials people country countries region regional city
week's today yesterday tomorrow monday tuesday wednesday thursday friday saturday sunday
january february march april may june july august september october november december
""".split())


@dataclass(frozen=True)
class Event:
    """One event: its id (the id of its earliest story, so it stays put as coverage grows) and
    its stories, the lead first (the earliest, or the editor's pick), then the rest oldest first."""

    id: str
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Rules:
    """The editor's decisions, as written in ``[events]``: names are ids, links or slugs."""

    enabled: bool = True
    join: tuple[tuple[str, ...], ...] = ()
    split: tuple[tuple[str, ...], ...] = ()  # one name: alone; several: never together


def parse_rules(value: object, origin: str) -> Rules:
    """``[events]`` of the config; raises ValueError naming the key on a wrong shape."""
    if not isinstance(value, dict) or set(value) - {"enabled", "join", "split"}:
        raise ValueError(f"{origin}: [events] takes 'enabled', 'join' and 'split'")
    enabled = value.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ValueError(f"{origin}: events.enabled should be true or false")

    def names(key: str, single_ok: bool) -> tuple[tuple[str, ...], ...]:
        out = []
        for entry in value.get(key, []) if isinstance(value.get(key, []), list) else [None]:
            if isinstance(entry, str) and single_ok:
                entry = [entry]
            if not isinstance(entry, list) or not entry or not all(isinstance(n, str) for n in entry):
                want = "a list of names or lists of names" if single_ok else "a list of lists of names"
                raise ValueError(f"{origin}: events.{key} should be {want} (ids, links or slugs)")
            out.append(tuple(entry))
        return tuple(out)

    return Rules(enabled=enabled, join=names("join", False), split=names("split", True))


def group(articles: Iterable[Article], places: Mapping[str, Iterable[str]], rules: Rules = Rules(),
          origin: str = "digest.toml") -> tuple[dict[str, Event], tuple[str, ...]]:
    """Every story of a multi-outlet event → its ``Event``, and one warning per editor's name
    that matches no story. ``articles`` must carry their final slugs; ``places`` maps each
    country to its place names (the config's)."""
    arts = sorted(articles, key=lambda a: a.id)
    by_id = {a.id: a for a in arts}
    warnings: list[str] = []
    resolve = _resolver(arts)

    def find(names: tuple[str, ...], key: str) -> list[str]:
        found = []
        for name in names:
            hit = resolve(name)
            if hit is None:
                warnings.append(f"{origin}: events.{key} names no article: {name!r} (use an id, link or slug)")
            elif hit not in found:
                found.append(hit)
        return found

    joins = [found for j in rules.join if len(found := find(j, "join")) > 1]
    alone: set[str] = set()
    apart: set[tuple[str, str]] = set()
    for entry in rules.split:
        found = find(entry, "split")
        if len(entry) == 1:
            alone.update(found)
        apart.update((a, b) for a in found for b in found if a < b)

    sets = _Clusters(by_id)
    for found in joins:  # the editor's joins go first and ignore outlets and dates
        for other in found[1:]:
            sets.union(found[0], other, force=True)
    picks = [found[0] for found in joins]  # the first named story of a join leads its event
    if rules.enabled:
        for _, a, b in _pairs([x for x in arts if x.id not in alone], places):
            if not any(tuple(sorted((x, y))) in apart for x in sets.members(a) for y in sets.members(b)):
                sets.union(a, b)

    events: dict[str, Event] = {}
    for members in sets.groups().values():
        first = min(members, key=lambda k: _when(by_id[k]))
        head = next((p for p in picks if p in members), first)
        rest = sorted((k for k in members if k != head), key=lambda k: _when(by_id[k]))
        event = Event(id=first, keys=(head, *rest))
        for key in members:
            events[key] = event
    return events, tuple(dict.fromkeys(warnings))


def _when(article: Article) -> tuple:
    return (article.published is None, article.published.timestamp() if article.published else 0.0, article.id)


def _resolver(arts: list[Article]):
    index: dict[str, str] = {}
    for a in arts:
        for name in (a.id, a.source_url or "", a.slug, f"articles/{a.slug}"):
            if name:
                index.setdefault(name.rstrip("/"), a.id)
    return lambda name: index.get(name.strip().rstrip("/"))


class _Clusters:
    """Union-find that keeps each cluster's outlets and time span, so an automatic join never
    puts two stories of one outlet, or stories more than ``WINDOW`` apart, in one event."""

    def __init__(self, by_id: dict[str, Article]):
        self._by_id = by_id
        self._parent: dict[str, str] = {}
        self._members: dict[str, list[str]] = {}

    def find(self, key: str) -> str:
        parent = self._parent.setdefault(key, key)
        if parent != key:
            parent = self._parent[key] = self.find(parent)
        return parent

    def members(self, key: str) -> list[str]:
        root = self.find(key)
        return self._members.get(root, [root])

    def union(self, a: str, b: str, force: bool = False) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        ma, mb = self.members(ra), self.members(rb)
        if not force:
            outlets = [_outlet(self._by_id[k]) for k in ma + mb]
            dates = [self._by_id[k].published for k in ma + mb]
            if len(set(outlets)) < len(outlets) or None in dates or max(dates) - min(dates) > WINDOW:
                return
        root, other = min(ra, rb), max(ra, rb)  # by id, so the result does not depend on order
        self._parent[other] = root
        self._members[root] = ma + mb
        self._members.pop(other, None)

    def groups(self) -> dict[str, list[str]]:
        return {root: sorted(members) for root, members in self._members.items() if len(members) > 1}


def _outlet(article: Article) -> str:
    return _folded_outlet(article.publisher)


_folded_outlet = lru_cache(maxsize=1024)(fold)  # a few outlets, asked for 10,000 stories at a time


@dataclass
class _Doc:
    article: Article
    outlet: str
    words: frozenset[str]
    names: frozenset[str]  # capitalised words and numbers: the anchors
    spelled: dict[str, str]  # a name's stem -> the name as written (lower case), for fuzzy matching
    places: frozenset[str]
    norm: float | None = None  # length of its TF-IDF vector, once needed


def _pairs(arts: list[Article], places: Mapping[str, Iterable[str]]) -> list[tuple[float, str, str]]:
    """Candidate pairs that read as one event, best first (ties by ids)."""
    place_index = _place_index(places)
    memo: dict = {}
    docs = [_doc(a, place_index, memo) for a in _with_company(arts)]
    if len(docs) < 2:
        return []
    df = Counter(chain.from_iterable(d.words for d in docs))
    idf = _Idf(df, len(docs))
    docs.sort(key=lambda d: (d.article.published, d.article.id))
    times = [d.article.published for d in docs]
    # Blocking: each story's rarest words; a pair is compared only if it shares one of them
    # and falls within the window.
    postings: dict[str, list[int]] = defaultdict(list)
    out = []
    for i, d in enumerate(docs):
        # A word no other story has cannot find a partner, so the keys are the rarest shared ones.
        keys = heapq.nsmallest(BLOCK_KEYS, ((df[w], w) for w in d.words if df[w] > 1))
        earliest = bisect.bisect_left(times, times[i] - WINDOW)
        seen: set[int] = set()
        for _, w in keys:
            post = postings[w]
            for j in post[bisect.bisect_left(post, earliest):]:
                if j in seen:
                    continue
                seen.add(j)
                score = _same_event(docs[j], d, idf)
                if score:
                    a, b = sorted((docs[j].article.id, d.article.id))
                    out.append((score, a, b))
        for _, w in keys:  # blocking is symmetric: a pair must share a key of each
            postings[w].append(i)
    out.sort(key=lambda p: (-p[0], p[1], p[2]))
    return out


def _with_company(arts: list[Article]) -> list[Article]:
    """The exactly dated stories that have a story of another outlet within the window: only
    they can be in an event, and only they are read (an archive of one outlet costs nothing)."""
    dated = sorted((a for a in arts if a.published is not None and a.date_precision == EXACT),
                   key=lambda a: (a.published, a.id))
    outlets = [_outlet(a) for a in dated]
    keep = [False] * len(dated)
    for order in (range(len(dated)), range(len(dated) - 1, -1, -1)):  # a partner before, then after
        nearest: dict[str, int] = {}  # outlet -> its story nearest to the current one so far
        for i in order:
            for outlet, j in nearest.items():
                if outlet != outlets[i] and abs(dated[i].published - dated[j].published) <= WINDOW:
                    keep[i] = True
                    break
            nearest[outlets[i]] = i
    return [a for a, k in zip(dated, keep) if k]


class _Idf(dict):
    """Inverse document frequency, computed for the words that are looked up (few of the
    archive's half a million)."""

    def __init__(self, df: Counter, n: int):
        super().__init__()
        self._df, self._n = df, n

    def __missing__(self, word: str) -> float:
        value = self[word] = math.log((1 + self._n) / (1 + self._df[word])) + 1.0
        return value


def _same_event(x: _Doc, y: _Doc, idf: dict[str, float]) -> float:
    """The pair's similarity when it reads as one event, else 0."""
    a, b = x.article, y.article
    if x.outlet == y.outlet or abs(a.published - b.published) > WINDOW:
        return 0.0
    if (a.countries or b.countries) and not set(a.countries) & set(b.countries):
        return 0.0
    if x.places and y.places and not x.places & y.places:
        return 0.0
    shared = x.words & y.words
    bonus = _fuzzy_names(x.names - shared, y.names - shared, x.spelled, y.spelled)
    anchors = len(x.names & y.names) + len(bonus)
    if anchors < ANCHORS:
        return 0.0
    dot = sum(idf[w] ** 2 for w in shared) + sum(min(idf[u], idf[v]) ** 2 for u, v in bonus)
    for d in (x, y):
        if d.norm is None:
            d.norm = math.sqrt(sum(idf[w] ** 2 for w in d.words))
    score = dot / (x.norm * y.norm) if x.norm and y.norm else 0.0
    return round(score, 9) if score >= THRESHOLD else 0.0


def _fuzzy_names(xs: frozenset[str], ys: frozenset[str], xf: dict[str, str],
                 yf: dict[str, str]) -> list[tuple[str, str]]:
    """Pairs of names that are one name spelled two ways, compared as written (each used once):
    long enough to tell apart, the same first two letters, at most a letter or two apart."""
    out, used = [], set()
    for u in sorted(xs):
        a = xf.get(u, "")
        if len(a) < 6:
            continue
        for v in sorted(ys):
            b = yf.get(v, "")
            if v not in used and len(b) >= 6 and a[:2] == b[:2] \
                    and Indel.normalized_similarity(a, b) >= NAME_SIMILARITY:
                out.append((u, v))
                used.add(v)
                break
    return out


def _place_index(places: Mapping[str, Iterable[str]]) -> dict[str, list[tuple[str, str]]]:
    """Each place's first word → (the place as written, folded). Looking places up by the
    story's words is much faster than one regular expression of 300 names over every story."""
    index: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for name in sorted({p for ps in places.values() for p in ps if p and not p.endswith("*")}):
        first = _WORD.match(name)
        if first:
            index[first.group()].append((name, fold(name)))
    return dict(index)


def _doc(article: Article, place_index: dict[str, list[tuple[str, str]]], memo: dict) -> _Doc:
    """The story's words, names and places, from its title, excerpt and the start of its body.
    ``memo`` holds what each distinct token gives, so a 10,000-story archive's million tokens
    cost a dictionary lookup each."""
    # The excerpt is the story's opening or its summary; the body adds words only to a short one.
    lead = "" if len(article.excerpt) >= LEAD_CHARS // 2 else (
        opening(article.body_html, LEAD_CHARS) if article.body_html else article.lead)
    text = " ".join((article.title, article.excerpt, lead))
    words, names, spelled, found = set(), set(), {}, set()
    for token in dict.fromkeys(_WORD.findall(text)):  # in text order, so names are spelled the same each run
        if token in place_index:
            found.update(folded for name, folded in place_index[token] if name == token or _has(text, name))
        info = memo.get(token)
        if info is None:
            info = memo[token] = _token(token)
        stem, is_name, low = info
        if stem is None:
            continue
        words.add(stem)
        if is_name:
            names.add(stem)
            spelled.setdefault(stem, low)
    return _Doc(article, _outlet(article), frozenset(words), frozenset(names), spelled, frozenset(found))


def _has(text: str, name: str) -> bool:
    """Whether ``name`` (of several words) is in ``text`` as whole words."""
    return re.search(r"(?<!\w)" + re.escape(name) + r"(?!\w)", text) is not None


def _token(token: str) -> tuple[str | None, bool, str]:
    """(stem or None when the token carries no meaning, whether it is a name or number, lower case)."""
    if token[0].isdigit():
        number = token.replace(",", "").rstrip(".")
        return number, True, number
    low = token.casefold().replace("’", "'")
    if low in STOP or len(low) < 3:
        return None, False, low
    return _stem(low), token[0].isupper(), low


def _stem(word: str) -> str:
    """A crude English stem: enough to make 'quakes'/'quake' and 'switched'/'switches' agree."""
    word = word.removesuffix("'s")
    for suffix, repl in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4 and not word.endswith("ss"):
            word = word[: len(word) - len(suffix)] + repl
            break
    return word[:7]


def others(events: Mapping[str, Event], articles: Mapping[str, Article], key: str) -> list[dict]:
    """The other stories of ``key``'s event, lead first, as plain values for a view ("Also
    covered by"); empty for a story no other outlet covered."""
    event = events.get(key)
    if event is None:
        return []
    out = []
    for k in event.keys:
        if k != key:
            a = articles[k]
            out.append({"id": a.id, "title": a.title, "publisher": a.publisher, "path": f"articles/{a.slug}/",
                        "published": a.published, "iso": a.published.isoformat() if a.published else "",
                        "date_precision": a.date_precision})
    return out


def collapse(keys: Iterable[str], events: Mapping[str, Event], prefer: Iterable[str] = (),
             skip: Iterable[str] = ()) -> list[str]:
    """``keys`` (in their order) with each event once, at the place of the story that stands
    for it: a ``prefer``red story (an editor's top pick), else the event's lead, else its
    earliest story among ``keys``. Events whose id is in ``skip`` (shown elsewhere) are left out."""
    keys = list(keys)
    preferred = set(prefer)
    present: dict[str, list[str]] = defaultdict(list)
    for k in keys:
        if k in events:
            present[events[k].id].append(k)
    skipped = set(skip)
    chosen: dict[str, str] = {}
    for eid, members in present.items():
        lead = events[members[0]].keys[0]
        picked = [k for k in members if k in preferred]
        chosen[eid] = picked[0] if picked else lead if lead in members else min(members, key=lambda k: events[k].keys.index(k))
    return [k for k in keys if k not in events or (chosen[events[k].id] == k and events[k].id not in skipped)]


def latest(order: Iterable[str], events: Mapping[str, Event], exclude: set[str], count: int) -> list[str]:
    """The first ``count`` of ``order`` not in ``exclude`` (the edition); an event appears once,
    where its lead is, and not at all when ``exclude`` already shows it."""
    shown = {events[k].id for k in exclude if k in events}
    keep = (k for k in order if k not in exclude and (
        k not in events or (events[k].keys[0] == k and events[k].id not in shown)))
    return list(islice(keep, count))

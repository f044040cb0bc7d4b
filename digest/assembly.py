"""The site's articles assembled from every source report: each story once (normalize), with
its language, classified, tags spelled one way. The assembly is kept between builds (in the
parse cache, and in serve's build process) so that a build whose only news is new stories
adds them to it instead of assembling the archive again.

Growing is exact, not approximate: it is taken only when the result is provably the one a full
assembly gives, else the archive is assembled again. That holds when

- the code and the config are the ones the assembly was made with;
- every report it was made from is still there, with the same items (a feed that dropped or
  changed an item may change a story that was merged from it);
- no new story answers to a key of an old one (``normalize.dedupe_keys``): it would have
  joined it, and which copy comes first depends on the order of the files;
- no tag's preferred spelling changes (``classify.best_spellings``): old stories would be
  spelled again;
- the body store still has every old story's body.

The order of the stories differs from a full assembly's (new ones come last), which nothing
downstream sees: the site sorts by date and id, and slug clashes go by age (site.py).

**Stored in growths.** Pickling the whole assembly after every new feed cost 0.11 s at 10,000
stories and 1.9 s at 100,000, to add a hundred. So the cache keeps the assembly whole as it was
last assembled or compacted (``KIND``) plus, beside it, what each build since then added
(``GROWN``: one ``Growth`` per build, at most ``MAX_GROWTHS``, then the whole is stored again);
reading applies them in order. The growths name the whole they apply to (``Assembly.base``), so
a whole written by another build never gets growths that were not made on it; without its
growths, a whole is an older assembly, which the next build grows again (exactly, as above).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Callable, Sequence

from digest import language
from digest.classify import best_spellings, count_spellings, spell_tags
from digest.model import Article, SourceReport
from digest.normalize import normalize
from digest.parsecache import ParseCache, Progress, classify_all, to_articles

KIND = "assembly"
GROWN = "assembly-grown"
MAX_GROWTHS = 16  # then the whole assembly is stored again (reading 16 growths is ~2 ms a story)


@dataclass(frozen=True)
class Growth:
    """What one build added to an assembly: its new stories, keys and used entries and bodies,
    and the assembly's parts and spellings after it (both small)."""

    parts: tuple[tuple[str, bytes], ...]
    articles: tuple[Article, ...]
    keys: frozenset[str]
    spellings: dict[str, dict[str, int]]
    entries: frozenset[tuple[str, str]]
    bodies: frozenset[str]


@dataclass(frozen=True)
class Assembly:
    setting: str  # the code version and config it was made under
    parts: tuple[tuple[str, bytes], ...]  # (file, digest of its items) of every report it holds
    articles: tuple[Article, ...]  # light (bodies are in the store), before slugs
    keys: frozenset[str]  # every key its stories answer to (normalize)
    spellings: dict[str, dict[str, int]]  # tag spellings before unifying, counted
    entries: frozenset[tuple[str, str]]  # the parse-cache entries it was made from: prune keeps them
    bodies: frozenset[str]  # the body of every item, merged away or not: prune_bodies keeps them
    # How it is stored (see above): the stored whole it grew from, and the growths since.
    base: str = field(default="", compare=False)
    growths: tuple[Growth, ...] = field(default=(), compare=False)

    def grown_by(self, growth: Growth) -> "Assembly":
        return Assembly(self.setting, growth.parts, self.articles + growth.articles, self.keys | growth.keys,
                        growth.spellings, self.entries | growth.entries, self.bodies | growth.bodies,
                        self.base, self.growths + (growth,))


def assemble(reports: Sequence[SourceReport], cache: ParseCache, config, jobs: int,
             progress: Progress | None = None, reread: Callable[[str], SourceReport | None] | None = None,
             previous: Assembly | None = None) -> tuple[Assembly, bool]:
    """The assembly of ``reports``, and whether it was grown from ``previous`` (else from the
    one in ``cache``) rather than made from all of them. It is saved in ``cache`` for the next
    build unless a file changed while it was read."""
    setting = cache.key(KIND, repr(config))
    if cache.root is None:  # nothing to keep it in: a build from nothing
        return _assemble(reports, (), setting, cache, config, jobs, progress, reread), False
    parts = tuple((r.file, cache.digest(r.items)) for r in reports)
    if previous is None or previous.setting != setting:
        previous = load(cache, setting)
    problems = len(cache.problems)
    grown = _grow(previous, reports, parts, cache, config, jobs, progress, reread) if previous else None
    made = grown or _assemble(reports, parts, setting, cache, config, jobs, progress, reread)
    if made is not previous and len(cache.problems) == problems:
        made = save(cache, made)
    else:  # kept as it is stored: pruning after this build must not remove it
        cache.used.update({(KIND, cache.key(KIND)), (GROWN, cache.key(KIND))})
    return made, grown is not None


def save(cache: ParseCache, made: Assembly) -> Assembly:
    """Store ``made``: its growths when the whole they apply to is the stored one, else the
    whole (as a new base). Returns it as stored (a new whole has a new base and no growths)."""
    key = cache.key(KIND)
    if made.base and 0 < len(made.growths) <= MAX_GROWTHS and cache.has(KIND, key):
        # Parts and spellings are whole in each growth: only the last one's are kept.
        kept = tuple(replace(g, parts=(), spellings={}) for g in made.growths[:-1]) + made.growths[-1:]
        if cache.store(GROWN, key, (made.base, kept)):
            return made
    whole = replace(made, base=_base_id(made), growths=())
    if cache.store(KIND, key, whole):
        cache.store(GROWN, key, (whole.base, ()))  # no growths yet: older ones were not made on it
    return whole


def load(cache: ParseCache, setting: str) -> Assembly | None:
    """The stored assembly with its growths applied (a whole without growths that fit it is
    returned as it is: an older assembly, which the build grows again)."""
    key = cache.key(KIND)
    found = cache.load(KIND, key)
    if not isinstance(found, Assembly) or found.setting != setting:
        return None
    stored = cache.load(GROWN, key)
    if isinstance(stored, tuple) and len(stored) == 2 and stored[0] == found.base and found.base \
            and isinstance(stored[1], tuple):
        for growth in stored[1]:
            if not isinstance(growth, Growth):
                return found
            found = found.grown_by(growth)
    return found


def _base_id(made: Assembly) -> str:
    h = hashlib.sha256(made.setting.encode())
    for file, digest in made.parts:
        h.update(file.encode("utf-8", "surrogatepass") + b"\0" + digest)
    h.update(len(made.articles).to_bytes(8, "little"))
    return h.hexdigest()[:32]


def _assemble(reports, parts, setting, cache: ParseCache, config, jobs, progress, reread) -> Assembly:
    keys: set[str] = set()
    articles = normalize(reports, to_articles(reports, cache, jobs, progress, reread), keys)
    articles = language.assign(articles, config.feed_languages, config.language)
    articles = classify_all(articles, config, cache, jobs, progress)
    spellings = count_spellings(articles)
    return Assembly(setting, parts, tuple(spell_tags(articles, best_spellings(spellings))), frozenset(keys),
                    spellings, _entries(cache), frozenset(cache.bodies_used))


def _grow(previous: Assembly, reports, parts, cache: ParseCache, config, jobs, progress, reread) -> Assembly | None:
    """``previous`` with the stories of the reports it does not hold; None when that would not
    be what ``_assemble`` gives (see the module's docstring)."""
    added = Counter(parts)
    added.subtract(previous.parts)
    if any(n < 0 for n in added.values()) or not previous.bodies <= cache.bodies.keys():
        return None  # a report it was made from changed or went, or bodies are missing
    if not +added:
        _keep(previous, cache)
        return previous
    new = []
    for report, part in zip(reports, parts):
        if added[part] > 0:
            added[part] -= 1
            new.append(report)
    keys: set[str] = set()
    articles = normalize(new, to_articles(new, cache, jobs, progress, reread), keys)
    if not keys.isdisjoint(previous.keys):
        return None
    articles = language.assign(articles, config.feed_languages, config.language)
    articles = classify_all(articles, config, cache, jobs, progress, only_some=True)
    spellings = {k: dict(v) for k, v in previous.spellings.items()}
    touched = count_spellings(articles)
    count_spellings(articles, spellings)
    best = best_spellings({k: spellings[k] for k in touched})
    before = best_spellings({k: previous.spellings[k] for k in touched if k in previous.spellings})
    if any(best[k] != spelled for k, spelled in before.items()):
        return None
    _keep(previous, cache)
    return previous.grown_by(Growth(parts, tuple(spell_tags(articles, best)), frozenset(keys), spellings,
                                    _entries(cache) - previous.entries,
                                    frozenset(cache.bodies_used) - previous.bodies))


def _entries(cache: ParseCache) -> frozenset[tuple[str, str]]:
    return frozenset(u for u in cache.used if u[0] in ("articles", "classified"))


def _keep(previous: Assembly, cache: ParseCache) -> None:
    """What ``previous`` was made from is this build's too: pruning after it must keep it."""
    cache.used.update(previous.entries)
    cache.bodies_used.update(previous.bodies)

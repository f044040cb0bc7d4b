"""A synthetic archive made from the real seed items, written three ways from one list of stories:
a digest cache (RSS files of 100 items plus Times of Central Asia listing scrapes), Pelican
content files and Hugo content files, so every generator builds the very same stories.

Deterministic: the same size and seed give byte-identical files.
"""

from __future__ import annotations

import html
import math
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import feedparser

COUNTRIES = ("Kazakhstan", "Kyrgyzstan", "Tajikistan", "Turkmenistan", "Uzbekistan")
CITIES = {
    "Kazakhstan": ("Almaty", "Astana", "Shymkent", "Karaganda", "Aktobe"),
    "Kyrgyzstan": ("Bishkek", "Osh", "Karakol", "Naryn", "Talas"),
    "Tajikistan": ("Dushanbe", "Khujand", "Khorog", "Kulob", "Bokhtar"),
    "Turkmenistan": ("Ashgabat", "Turkmenabat", "Dashoguz", "Balkanabat", "Turkmenbashi"),
    "Uzbekistan": ("Tashkent", "Samarkand", "Bukhara", "Khiva", "Namangan"),
}
TOPICS = ("Water", "Energy", "Cinema", "Migration", "Railways", "Cotton", "Elections", "Media", "Mining",
          "Climate", "Schools", "Football", "Trade", "Banking", "Theatre", "Wildlife", "Museums", "Music",
          "Health", "Farming", "Roads", "Tourism", "Literature", "Architecture", "Courts")
FIRST = ("Aliya", "Timur", "Dina", "Rustam", "Madina", "Bakyt", "Zarina", "Erlan", "Nigora", "Farrukh",
         "Gulnara", "Azamat", "Saule", "Daniyar", "Malika", "Jamshid", "Aida", "Nurlan", "Kamila", "Ruslan")
LAST = ("Haidar", "Abenov", "Karimova", "Saidov", "Tokhtarova", "Usmanov", "Beisenova", "Rakhimov",
        "Juraeva", "Omarov", "Nazarova", "Ismoilov", "Kassymova", "Yusupov", "Alieva", "Temirov")
FEED_ITEMS = 100
SCRAPE_SHARE = 50  # one story in 50 comes from a listing-page scrape, not a feed
SCRAPE_ITEMS = 20
END = datetime(2026, 6, 20, 12, 0, tzinfo=timezone.utc)
SPAN_DAYS = 730
TICKER = "".join(f"  • {pair} = {rate} 0%\n" for pair, rate in (
    ("KGS/USD", "0.01143"), ("KZT/USD", "0.00198"), ("TJS/USD", "0.10899"), ("UZS/USD", "0.00008"),
    ("TMT/USD", "0.28490")))


@dataclass(frozen=True)
class Seed:
    title: str
    body: str  # content:encoded HTML
    summary: str


@dataclass(frozen=True)
class Story:
    number: int
    title: str
    slug: str
    link: str
    published: datetime
    country: str
    author: str | None  # None for scraped stories: listing pages name nobody
    tags: tuple[str, ...]
    body: str  # HTML
    summary: str
    scraped: bool


def load_seeds(seed_dir: Path) -> list[Seed]:
    seeds = []
    for path in sorted(seed_dir.glob("*.xml")):
        for entry in feedparser.parse(path.read_bytes(), sanitize_html=False, resolve_relative_uris=False).entries:
            body = entry.content[0].value if entry.get("content") else entry.get("summary", "")
            seeds.append(Seed(entry.title, body, entry.get("summary", "")))
    if not seeds:
        raise SystemExit(f"no seed feeds found in {seed_dir}")
    return seeds


def tag_names(count: int) -> list[str]:
    """``count`` distinct, readable tag names ("Water in Osh", "Energy 3")."""
    places = [c for cities in CITIES.values() for c in cities]
    names = [f"{t} in {p}" for p in places for t in TOPICS]
    names = list(TOPICS) + names
    i = 2
    while len(names) < count:
        names += [f"{t} {i}" for t in TOPICS]
        i += 1
    return names[:count]


def author_names(count: int) -> list[str]:
    names = [f"{f} {l}" for l in LAST for f in FIRST]
    i = 2
    while len(names) < count:
        names += [f"{f} {l}-{i}" for l in LAST for f in FIRST]
        i += 1
    return names[:count]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


_TEXT = re.compile(r"<[^>]*>|&#?\w+;|[A-Za-z]{3,}")
_CREDIT = "<p>The post "  # WordPress's last paragraph names the publisher: kept as it is


class Rewriter:
    """Makes each story's words its own, so that no two stories read as the same event (the
    30 seed bodies repeated would read as 30 huge events). Story ``n`` replaces every word of
    its seed by the word ``shift(n)`` places further in the seeds' sorted vocabulary: markup,
    lengths and word frequencies stay those of real stories, and two stories of one seed share
    no word in the same place. Countries and cities are kept, so stories are still filed by
    their text as well as their categories."""

    def __init__(self, seeds: list[Seed]):
        keep = {w.lower() for w in COUNTRIES} | {c.lower() for cs in CITIES.values() for c in cs}
        found = set()
        for seed in seeds:
            for text in (seed.title, seed.body, seed.summary):
                found.update(m.lower() for m in _TEXT.findall(text) if m[0] not in "<&")
        self.words = sorted(found - keep)
        self.index = {w: i for i, w in enumerate(self.words)}
        self.step = next(p for p in (7919, 7907, 7901, 7883) if math.gcd(p, len(self.words) - 1) == 1)

    def shift(self, n: int, seeds: int) -> int:
        # The stories of one seed (n, n + seeds, …) get distinct shifts, never 0 (the seed itself).
        return 1 + (n // seeds * self.step) % (len(self.words) - 1)

    def text(self, html_: str, shift: int) -> str:
        words, index, size = self.words, self.index, len(self.words)

        def swap(m: re.Match) -> str:
            token = m.group()
            i = index.get(token.lower()) if token[0] not in "<&" else None
            if i is None:
                return token
            word = words[(i + shift) % size]
            return word.capitalize() if token[0].isupper() else word

        head, credit, tail = html_.partition(_CREDIT)
        return _TEXT.sub(swap, head) + credit + tail


def stories(size: int, seeds: list[Seed], *, start: int = 0, rng_seed: int = 7) -> list[Story]:
    """``size`` stories numbered from ``start``: about size/20 tags, size/50 authors, all five
    countries, dates spread over two years; each story's words its own (``Rewriter``)."""
    rng = random.Random(f"{rng_seed}:{size}:{start}")
    rewrite = Rewriter(seeds)
    total = max(size, 1) if start == 0 else max(start, 1)
    tags = tag_names(max(5, total // 20))
    authors = author_names(max(2, total // 50))
    out = []
    for n in range(start, start + size):
        seed = seeds[n % len(seeds)]
        country = COUNTRIES[n % len(COUNTRIES)]
        city = rng.choice(CITIES[country])
        published = END - timedelta(seconds=rng.randrange(SPAN_DAYS * 86400)) if start == 0 \
            else END + timedelta(hours=1 + n - start)
        shift = rewrite.shift(n, len(seeds))
        title = f"{rewrite.text(seed.title, shift).rstrip('.')} — {city}, {country} (no. {n + 1})"
        slug = _slug(title)
        body = rewrite.text(seed.body, shift).replace(html.escape(seed.title, quote=False),
                                                     html.escape(title, quote=False), 1)
        scraped = n % SCRAPE_SHARE == SCRAPE_SHARE - 1
        out.append(Story(
            number=n, title=title, slug=slug,
            link=f"https://novastan.org/en/{country.lower()}/{slug}/",
            published=published.replace(microsecond=0), country=country,
            author=None if scraped else rng.choice(authors),
            tags=() if scraped else tuple(sorted(set(rng.sample(tags, k=min(len(tags), rng.randint(2, 4)))))),
            body=body, scraped=scraped,
            # the credit line names the story, as WordPress's does, not the seed it came from
            summary=rewrite.text(seed.summary, shift).replace(html.escape(seed.title, quote=False),
                                                              html.escape(title, quote=False)),
        ))
    return out


# --- the digest cache -------------------------------------------------------------------------

def rss(stories_: list[Story], number: int) -> str:
    items = []
    for s in stories_:
        cats = "".join(f"\t\t<category><![CDATA[{t}]]></category>\n" for t in (s.country,) + s.tags)
        items.append(
            "\t<item>\n"
            f"\t\t<title>{html.escape(s.title, quote=False)}</title>\n"
            f"\t\t<link>{s.link}</link>\n"
            f"\t\t<dc:creator><![CDATA[{s.author}]]></dc:creator>\n"
            f"\t\t<pubDate>{s.published:%a, %d %b %Y %H:%M:%S} +0000</pubDate>\n"
            f"{cats}"
            f"\t\t<guid isPermaLink=\"false\">https://novastan.org/en/?p={s.number + 100000}</guid>\n"
            f"\t\t<description><![CDATA[{_cdata(s.summary)}]]></description>\n"
            f"\t\t<content:encoded><![CDATA[{_cdata(s.body)}]]></content:encoded>\n"
            "\t</item>\n"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"\n'
        '\txmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
        '\txmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        '\txmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n'
        f"\t<title>Novastan English, part {number}</title>\n"
        "\t<link>https://novastan.org/en/</link>\n"
        "\t<description>Synthetic benchmark feed made from the seed items</description>\n"
        "\t<language>en-GB</language>\n"
        + "".join(items) + "</channel>\n</rss>\n"
    )


def _cdata(text: str) -> str:
    return text.replace("]]>", "]]]]><![CDATA[>")


def listing(stories_: list[Story], page_date: datetime, first: int, total: int) -> str:
    lines = [TICKER, f"{page_date.day:02d} {page_date:%B %Y}", "",
             f"Viewing results {first} - {first + len(stories_) - 1} of {total}", ""]
    for s in stories_:
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.unescape(s.summary))).strip()
        lines += [s.title, "", text[:400] + "...", ""]
    return "\n".join(lines) + "\n"


def write_cache(all_stories: list[Story], cache: Path) -> dict[str, int]:
    """RSS files of 100 items plus listing scrapes; returns counts and bytes."""
    cache.mkdir(parents=True, exist_ok=True)
    fed = [s for s in all_stories if not s.scraped]
    scraped = sorted((s for s in all_stories if s.scraped), key=lambda s: s.published, reverse=True)
    size = 0
    files = 0
    for i in range(0, len(fed), FEED_ITEMS):
        data = rss(fed[i:i + FEED_ITEMS], i // FEED_ITEMS + 1).encode("utf-8")
        (cache / f"feed-{i // FEED_ITEMS + 1:05d}.rss.xml").write_bytes(data)
        size += len(data)
        files += 1
    for i in range(0, len(scraped), SCRAPE_ITEMS):
        page = scraped[i:i + SCRAPE_ITEMS]
        # A listing page is dated by its newest story, as the real site's pages are.
        data = listing(page, page[0].published, i + 1, len(scraped)).encode("utf-8")
        (cache / f"timesca-listing-{i // SCRAPE_ITEMS + 1:05d}.txt").write_bytes(data)
        size += len(data)
        files += 1
    return {"files": files, "bytes": size, "feed_stories": len(fed), "scraped_stories": len(scraped)}


# --- Pelican and Hugo content ------------------------------------------------------------------

def _listing_dates(all_stories: list[Story]) -> dict[int, datetime]:
    scraped = sorted((s for s in all_stories if s.scraped), key=lambda s: s.published, reverse=True)
    out = {}
    for i in range(0, len(scraped), SCRAPE_ITEMS):
        d = scraped[i].published
        for s in scraped[i:i + SCRAPE_ITEMS]:
            out[s.number] = datetime(d.year, d.month, d.day, tzinfo=timezone.utc)
    return out


def _peer_body(story: Story) -> str:
    if not story.scraped:
        return story.body
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.unescape(story.summary))).strip()
    return f"<p>{html.escape(text[:400])}…</p>"


def write_pelican(all_stories: list[Story], content: Path) -> int:
    """Pelican HTML content files (``<meta>`` tags carry the metadata); country = category."""
    content.mkdir(parents=True, exist_ok=True)
    dates = _listing_dates(all_stories)
    for s in all_stories:
        when = dates.get(s.number, s.published)
        metas = [("date", f"{when:%Y-%m-%d %H:%M}"), ("slug", s.slug), ("category", s.country),
                 ("summary", html.escape(_peer_summary(s)))]
        if s.author:
            metas.append(("authors", s.author))
        if s.tags:
            metas.append(("tags", ", ".join(s.tags)))
        head = "".join(f'<meta name="{k}" content="{html.escape(v) if k != "summary" else v}" />\n'
                       for k, v in metas)
        (content / f"{s.slug}.html").write_text(
            f"<html>\n<head>\n<title>{html.escape(s.title)}</title>\n{head}</head>\n"
            f"<body>\n{_peer_body(s)}\n</body>\n</html>\n", encoding="utf-8")
    return len(all_stories)


def _peer_summary(story: Story) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.unescape(story.summary))).strip()[:300]


def _yaml(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_hugo(all_stories: list[Story], content: Path) -> int:
    """Hugo HTML content files with YAML front matter; countries, tags and authors are taxonomies."""
    posts = content / "posts"
    posts.mkdir(parents=True, exist_ok=True)
    dates = _listing_dates(all_stories)
    for s in all_stories:
        when = dates.get(s.number, s.published)
        front = [f"title: {_yaml(s.title)}", f"date: {when.isoformat()}", f"slug: {s.slug}",
                 f"summary: {_yaml(_peer_summary(s))}", f"countries: [{_yaml(s.country)}]"]
        if s.author:
            front.append(f"authors: [{_yaml(s.author)}]")
        if s.tags:
            front.append("tags: [" + ", ".join(_yaml(t) for t in s.tags) + "]")
        (posts / f"{s.slug}.html").write_text("---\n" + "\n".join(front) + "\n---\n" + _peer_body(s) + "\n",
                                              encoding="utf-8")
    return len(all_stories)

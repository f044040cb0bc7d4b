"""One frozen ``Config``. Defaults build the shipped site with no config file at all.

A site may override any of it in ``digest.toml`` or in ``[tool.digest]`` of its
``pyproject.toml`` (the first found wins); see README "Configuration".
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from digest.placenames import with_national_names
from digest.events import Rules, parse_rules
from digest.text import fold as _fold


@dataclass(frozen=True)
class Country:
    """A country and the words that point to it, matched case-sensitively on word boundaries.

    ``aliases`` *name* the country: spellings old and new, English and Russian, Latin and
    Cyrillic, demonyms and adjectives. A feed category equal to one of them files the story
    under the country and is not kept as a tag. ``places`` are in the country (capitals,
    cities, regions, landmarks): evidence for it, but a category naming one stays a tag too.
    A word ending in ``*`` matches any ending, for inflected forms (``Казахстан*``).
    """

    name: str
    aliases: tuple[str, ...] = ()
    places: tuple[str, ...] = ()


DEFAULT_COUNTRIES: tuple[Country, ...] = (
    Country(
        "Kazakhstan",
        aliases=(
            "Kazakhstan", "Kazakhstani", "Kazakhstanis", "Kazakh", "Kazakhs", "Kazakstan", "Qazaqstan",
            "Qazaq", "Kasachstan", "Казахстан*", "казахстан*", "Казах*", "казах*", "Қазақстан*", "қазақ*",
        ),
        places=(
            "Astana", "Nur-Sultan", "Akmola", "Tselinograd", "Almaty", "Alma-Ata", "Shymkent", "Karaganda",
            "Karagandy", "Aktobe", "Atyrau", "Aktau", "Kostanay", "Pavlodar", "Semey", "Semipalatinsk",
            "Oskemen", "Ust-Kamenogorsk", "Taraz", "Kyzylorda", "Aralsk", "Baikonur", "Burabay", "Borovoe",
            "Balkhash", "Mangystau", "Zhezkazgan", "Ekibastuz", "Karlag", "Altyn-Emel", "Saryozek",
            "Астана", "Алматы", "Алма-Ата", "Шымкент", "Караганд*",
        ),
    ),
    Country(
        "Kyrgyzstan",
        aliases=(
            "Kyrgyzstan", "Kyrgyz", "Kyrgyzstani", "Kyrgyz Republic", "Kirghizia", "Kirgizia", "Kirghiz",
            "Kirgistan", "Кыргызстан*", "кыргызстан*", "Киргизи*", "киргиз*", "Кыргыз*", "кыргыз*",
        ),
        places=(
            "Bishkek", "Frunze", "Osh", "Jalal-Abad", "Karakol", "Naryn", "Issyk-Kul", "Issyk Kul",
            "Balykchy", "Talas", "Batken", "Tokmok", "Cholpon-Ata", "Бишкек*", "Ош",
        ),
    ),
    Country(
        "Tajikistan",
        aliases=(
            "Tajikistan", "Tajik", "Tajiks", "Tajikistani", "Tadjikistan", "Tadzhikistan", "Tadschikistan",
            "tadschikische", "Таджикистан*", "таджикистан*", "Таджик*", "таджик*", "Тоҷикистон*", "тоҷик*",
        ),
        places=(
            "Dushanbe", "Stalinabad", "Khujand", "Leninabad", "Khorog", "Kulob", "Kulyab", "Bokhtar",
            "Qurghonteppa", "Kurgan-Tyube", "Gorno-Badakhshan", "GBAO", "Istaravshan", "Penjikent",
            "Душанбе", "Худжанд*",
        ),
    ),
    Country(
        "Turkmenistan",
        aliases=(
            "Turkmenistan", "Turkmen", "Turkmens", "Turkmenia", "Turkmenistani", "Туркменистан*",
            "туркменистан*", "Туркмени*", "Туркмен*", "туркмен*",
        ),
        places=(
            "Ashgabat", "Ashkhabad", "Turkmenabat", "Dashoguz", "Turkmenbashi", "Balkanabat", "Darvaza",
            "Ашхабад*",
        ),
    ),
    Country(
        "Uzbekistan",
        aliases=(
            "Uzbekistan", "Uzbek", "Uzbeks", "Uzbekistani", "O'zbekiston", "Oʻzbekiston", "O‘zbekiston",
            "Usbekistan", "Узбекистан*", "узбекистан*", "Узбек*", "узбек*", "Ўзбекистон*",
        ),
        places=(
            "Tashkent", "Samarkand", "Samarqand", "Bukhara", "Buxoro", "Khiva", "Fergana", "Ferghana",
            "Namangan", "Andijan", "Nukus", "Karakalpakstan", "Termez", "Navoi", "Qarshi", "Ташкент*",
            "Самарканд*", "Бухар*",
        ),
    ),
)

DEFAULT_COUNTRIES = with_national_names(DEFAULT_COUNTRIES)  # the region's own languages (placenames.py)

# Feed categories that are spelling variants of one tag. Keys are matched after
# case-folding and accent-stripping, so only real variants need listing here.
DEFAULT_TAG_ALIASES: Mapping[str, str] = MappingProxyType({
    "mobilisation": "Mobilization",
    "economics": "Economy",
    "world war ii": "Second World War",
    "ww2": "Second World War",
    "migrants": "Migration",
    "portait": "Portrait",
    "media": "Media",
    "lac balkhach": "Lake Balkhash",
    "children's day": "Children's Day",
    "soldiers": "Army",
    "central mosque": "Central Mosque",
})

# Feed author accounts mapped to display names (empty by default: we do not guess people).
DEFAULT_AUTHOR_ALIASES: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class FeedSource:
    """A source that ``digest fetch`` keeps fresh in the cache."""

    name: str  # cache file name, e.g. "novastan-kazakhstan.rss.xml"
    url: str
    kind: str = "feed"  # "feed" (RSS/Atom/RDF/JSON Feed) or "page" (a text scrape)
    language: str = ""  # overrides what the feed declares and what is detected (digest/language.py)


@dataclass(frozen=True)
class Config:
    title: str = "Central Asia Reading Digest"
    description: str = (
        "News, analysis and photography from Kazakhstan, Kyrgyzstan, Tajikistan, "
        "Turkmenistan and Uzbekistan, gathered weekly."
    )
    base_url: str = "http://localhost:8000/"
    language: str = "en"
    per_page: int = 20
    feed_content: str = "summary"  # per-group feeds: "summary" (excerpt + link) or "full"; the site feed is full
    full_text_weeks: int = 0  # > 0: only the last N weeks' article pages keep their body (0: all do)
    size_limit: int = 1_000_000_000  # bytes of dist/ before the build warns (GitHub Pages: 1 GB)
    countries: tuple[Country, ...] = DEFAULT_COUNTRIES
    tag_aliases: Mapping[str, str] = field(default_factory=lambda: DEFAULT_TAG_ALIASES)
    author_aliases: Mapping[str, str] = field(default_factory=lambda: DEFAULT_AUTHOR_ALIASES)
    feeds: tuple[FeedSource, ...] = ()
    events: Rules = Rules()  # [events]: the editor's joins and splits (digest/events.py)
    root: Path = Path(".")  # the site folder; the paths below are relative to it
    cache_dir: Path = Path("content_cache")
    out_dir: Path = Path("dist")
    templates_dir: Path = Path("templates")
    static_dir: Path = Path("static")

    @property
    def feed_languages(self) -> dict[str, str]:
        """Cache file name → its configured language, for the feeds that set one."""
        return {f.name: f.language for f in self.feeds if f.language}

    @property
    def country_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.countries)

    def path(self, p: Path) -> Path:
        return p if p.is_absolute() else self.root / p


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file and the key."""


_SIMPLE = {f.name for f in fields(Config)} - {"countries", "tag_aliases", "author_aliases", "feeds", "events", "root"}


def load_config(root: Path | str = ".", **overrides: Any) -> Config:
    """Read ``digest.toml`` or ``[tool.digest]`` from ``root``; keyword overrides win."""
    root = Path(root)
    data, origin = _read_table(root)
    kwargs: dict[str, Any] = {"root": root}
    for key, value in data.items():
        if key in _SIMPLE:
            default = getattr(Config, key)
            if isinstance(default, Path):
                value = Path(value)
            elif not isinstance(value, type(default)):
                raise ConfigError(f"{origin}: '{key}' should be {type(default).__name__}, got {value!r}")
            kwargs[key] = value
        elif key == "countries":
            kwargs[key] = _countries(value, origin)
        elif key == "tag_aliases":
            kwargs[key] = MappingProxyType({**DEFAULT_TAG_ALIASES, **{_fold(k): str(v) for k, v in value.items()}})
        elif key == "author_aliases":
            kwargs[key] = MappingProxyType({str(k): str(v) for k, v in value.items()})
        elif key == "feeds":
            kwargs[key] = tuple(_feed(f, origin) for f in value)
        elif key == "events":
            try:
                kwargs[key] = parse_rules(value, origin)
            except ValueError as exc:
                raise ConfigError(str(exc)) from exc
        else:
            raise ConfigError(f"{origin}: unknown key '{key}'")
    if "language" in kwargs:
        kwargs["language"] = _language(kwargs["language"], origin, "language")
    config = Config(**kwargs)
    _check_budget(config, origin)
    clean = {k: v for k, v in overrides.items() if v is not None}
    return replace(config, **clean) if clean else config


def _check_budget(config: Config, origin: str) -> None:
    if config.feed_content not in ("summary", "full"):
        raise ConfigError(f"{origin}: 'feed_content' should be \"summary\" or \"full\", got {config.feed_content!r}")
    for key in ("full_text_weeks", "size_limit"):
        if getattr(config, key) < 0:
            raise ConfigError(f"{origin}: '{key}' should be 0 or more, got {getattr(config, key)}")


def _read_table(root: Path) -> tuple[dict[str, Any], str]:
    for name, pick in (("digest.toml", lambda d: d), ("pyproject.toml", lambda d: d.get("tool", {}).get("digest"))):
        path = root / name
        if not path.is_file():
            continue
        try:
            table = pick(tomllib.loads(path.read_text(encoding="utf-8")))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}") from exc
        if table is not None:
            return dict(table), str(path)
    return {}, "defaults"


def _countries(value: Any, origin: str) -> tuple[Country, ...]:
    """``[countries.NAME]`` with ``aliases`` and ``places`` lists adds to the defaults; a name not
    in the defaults adds a country. The listed countries, in order, replace the default five."""
    if not isinstance(value, dict):
        raise ConfigError(f"{origin}: 'countries' should be tables like [countries.Kazakhstan]")
    defaults = {c.name: c for c in DEFAULT_COUNTRIES}
    out = []
    for name, table in value.items():
        if isinstance(table, list):
            table = {"aliases": table}
        if not isinstance(table, dict) or set(table) - {"aliases", "places"}:
            raise ConfigError(f"{origin}: [countries.{name}] takes 'aliases' and 'places' lists")
        base = defaults.get(name, Country(name, (name,)))
        out.append(Country(
            name,
            aliases=tuple(dict.fromkeys(base.aliases + tuple(map(str, table.get("aliases", []))))),
            places=tuple(dict.fromkeys(base.places + tuple(map(str, table.get("places", []))))),
        ))
    return tuple(out)


def _feed(value: Any, origin: str) -> FeedSource:
    try:
        source = FeedSource(name=value["name"], url=value["url"], kind=value.get("kind", "feed"))
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"{origin}: each [[feeds]] needs name and url ({value!r})") from exc
    if "language" in value:
        key = f"[[feeds]] {source.name!r}: 'language'"
        source = replace(source, language=_language(value["language"], origin, key))
    return source


def _language(value: Any, origin: str, key: str) -> str:
    """A BCP 47 language tag ('ru', 'kk-Latn') as its primary tag; anything else is an error."""
    from digest.language import normalize_tag  # pycld2 loads only when a config names a language
    code = normalize_tag(value)
    if not code:
        raise ConfigError(f"{origin}: {key} should be a language code such as 'en', 'ru' or 'kk', got {value!r}")
    return code

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

from digest.text import fold as _fold


@dataclass(frozen=True)
class Country:
    name: str
    # Words that name the country, case-sensitive, matched on word boundaries:
    # English/Russian, Latin/Cyrillic, old and new spellings, demonyms, capitals, cities.
    aliases: tuple[str, ...] = ()


DEFAULT_COUNTRIES: tuple[Country, ...] = (
    Country(
        "Kazakhstan",
        (
            "Kazakhstan", "Kazakhstani", "Kazakhstanis", "Kazakh", "Kazakhs", "Qazaqstan", "Qazaq",
            "Kazakstan", "Astana", "Nur-Sultan", "Almaty", "Alma-Ata", "Shymkent", "Karaganda",
            "Karagandy", "Aktobe", "Atyrau", "Aktau", "Kostanay", "Pavlodar", "Semey", "Oskemen",
            "Ust-Kamenogorsk", "Taraz", "Turkestan", "Kyzylorda", "Aralsk", "Baikonur", "Burabay",
            "Balkhash", "Karlag", "KazMunayGas", "KazMunaiGaz", "Tokayev", "Nazarbayev",
            "Казахстан", "Казахстана", "Казахстане", "казахстанский", "казахстанская", "казахский",
            "Қазақстан", "Астана", "Алматы",
        ),
    ),
    Country(
        "Kyrgyzstan",
        (
            "Kyrgyzstan", "Kyrgyz", "Kyrgyzstani", "Kirghizia", "Kirgizia", "Kyrgyz Republic",
            "Bishkek", "Frunze", "Osh", "Jalal-Abad", "Karakol", "Naryn", "Issyk-Kul", "Issyk Kul",
            "Balykchy", "Talas", "Batken", "Japarov", "Zhaparov",
            "Кыргызстан", "Кыргызстана", "Киргизия", "кыргызский", "Бишкек",
        ),
    ),
    Country(
        "Tajikistan",
        (
            "Tajikistan", "Tajik", "Tajiks", "Tadjikistan", "Tadzhikistan", "Dushanbe", "Khujand",
            "Khorog", "Kulob", "Kulyab", "Bokhtar", "Pamir", "Pamirs", "Gorno-Badakhshan", "GBAO",
            "Rahmon", "Rakhmon", "tadschikische", "Tadschikistan",
            "Таджикистан", "Таджикистана", "таджикский", "Тоҷикистон", "Душанбе",
        ),
    ),
    Country(
        "Turkmenistan",
        (
            "Turkmenistan", "Turkmen", "Turkmens", "Ashgabat", "Ashkhabad", "Turkmenabat", "Mary",
            "Dashoguz", "Turkmenbashi", "Balkanabat", "Berdimuhamedov", "Berdymukhamedov",
            "Туркменистан", "Туркмения", "туркменский", "Ашхабад",
        ),
    ),
    Country(
        "Uzbekistan",
        (
            "Uzbekistan", "Uzbek", "Uzbeks", "Uzbekistani", "O'zbekiston", "Oʻzbekiston", "Tashkent",
            "Samarkand", "Bukhara", "Khiva", "Fergana", "Ferghana", "Namangan", "Andijan",
            "Nukus", "Karakalpakstan", "Termez", "Mirziyoyev",
            "Узбекистан", "Узбекистана", "узбекский", "Ташкент", "Самарканд",
        ),
    ),
)

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
})

# Feed author accounts mapped to display names (empty by default: we do not guess people).
DEFAULT_AUTHOR_ALIASES: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class FeedSource:
    """A source that ``digest fetch`` keeps fresh in the cache."""

    name: str  # cache file name, e.g. "novastan-kazakhstan.rss.xml"
    url: str
    kind: str = "feed"  # "feed" (RSS/Atom/RDF/JSON Feed) or "page" (a text scrape)


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
    countries: tuple[Country, ...] = DEFAULT_COUNTRIES
    tag_aliases: Mapping[str, str] = field(default_factory=lambda: DEFAULT_TAG_ALIASES)
    author_aliases: Mapping[str, str] = field(default_factory=lambda: DEFAULT_AUTHOR_ALIASES)
    feeds: tuple[FeedSource, ...] = ()
    root: Path = Path(".")  # the site folder; the paths below are relative to it
    cache_dir: Path = Path("content_cache")
    out_dir: Path = Path("dist")
    templates_dir: Path = Path("templates")
    static_dir: Path = Path("static")

    @property
    def country_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.countries)

    def path(self, p: Path) -> Path:
        return p if p.is_absolute() else self.root / p


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file and the key."""


_SIMPLE = {f.name for f in fields(Config)} - {"countries", "tag_aliases", "author_aliases", "feeds", "root"}


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
        else:
            raise ConfigError(f"{origin}: unknown key '{key}'")
    config = Config(**kwargs)
    clean = {k: v for k, v in overrides.items() if v is not None}
    return replace(config, **clean) if clean else config


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
    """``[countries]`` maps a name to extra aliases; a name not in the defaults adds a country."""
    if not isinstance(value, dict):
        raise ConfigError(f"{origin}: 'countries' should be a table of name = [aliases]")
    defaults = {c.name: c for c in DEFAULT_COUNTRIES}
    out = []
    for name, aliases in value.items():
        base = defaults.get(name, Country(name, (name,)))
        out.append(Country(name, tuple(dict.fromkeys(base.aliases + tuple(aliases)))))
    return tuple(out)


def _feed(value: Any, origin: str) -> FeedSource:
    try:
        return FeedSource(name=value["name"], url=value["url"], kind=value.get("kind", "feed"))
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"{origin}: each [[feeds]] needs name and url ({value!r})") from exc

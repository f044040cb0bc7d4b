"""Events: stories of different outlets about one event, joined; look-alikes kept apart.

The fixture outlets in tests/data/events/ were written for this: four outlets (Steppe Herald
in two feeds, Pamir Wire as a JSON Feed, Caspian Post, Fergana Daily), four events each told
in several outlets' own words, and decoys of every kind the feature must not join."""

import html
import json
import random
import shutil
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from digest import events
from digest.build import build, build_model
from digest.cli import main
from digest.config import ConfigError, load_config
from digest.model import EXACT, Article

from .test_incremental import _fresh_build, _tree

FIXTURES = Path(__file__).parent / "data" / "events"

SH = "https://steppeherald.example/"
PW = "https://pamirwire.example/2026/"
CP = "https://caspianpost.example/a/"
FD = "https://ferganadaily.example/"

EVENTS = {
    "a dam switched on": [SH + "news/kambarata-first-unit", PW + "03/11/kambarata-power"],
    "an earthquake": [SH + "news/rasht-quake", PW + "03/12/quake-gharm"],
    "a summit": [SH + "news/astana-summit", CP + "xi-astana-treaty", FD + "astana-summit-signed"],
    "a metro line opened": [CP + "sergeli-metro", FD + "sergeli-stations"],
}

DECOYS = {  # pairs of look-alikes that are different events
    "the same organisation's other meeting, a fortnight before": (SH + "news/astana-summit",
                                                                  PW + "03/02/ministers-almaty"),
    "another earthquake in the same valley a fortnight earlier": (SH + "news/rasht-quake", PW + "02/26/rasht-earlier"),
    "another earthquake the same day, in another country": (SH + "news/rasht-quake", FD + "jalal-abad-quake"),
    "the same company's deal in another country": (SH + "business/byd-kostanay", CP + "byd-jizzakh"),
    "a policy decision and its financing months apart": (SH + "news/uzbek-nuclear-decision", CP + "nuclear-loan"),
    "the same outlet's two stories of one event": (SH + "news/almaty-marathon", SH + "news/almaty-marathon-last"),
    "the same outlet's second story of a joined event": (SH + "news/kambarata-first-unit",
                                                        SH + "business/kambarata-winters"),
}


def _site(tmp_path, toml: str = "") -> Path:
    root = tmp_path / "site"
    shutil.copytree(FIXTURES, root / "content_cache")
    if toml:
        (root / "digest.toml").write_text(toml)
    return root


def _events_of(root: Path) -> tuple[dict[str, str | None], tuple[str, ...]]:
    site = build_model(load_config(root), environ={})
    return {k: (site.events[k].id if k in site.events else None) for k in site.order}, site.problems


@pytest.fixture(scope="module")
def fixture_build(tmp_path_factory):
    root = _site(tmp_path_factory.mktemp("events"))
    result = build(load_config(root), environ={})
    catalog = json.loads((root / "dist" / "articles.json").read_text())
    return root, result, {a["id"]: a for a in catalog["articles"]}


def test_each_event_told_in_several_outlets_words_is_joined_under_its_earliest_story(fixture_build):
    _, result, catalog = fixture_build
    assert not result.problems
    joined = {i for ids in EVENTS.values() for i in ids}
    for what, ids in EVENTS.items():
        earliest = min(ids, key=lambda i: catalog[i]["published"])
        assert {catalog[i]["event"] for i in ids} == {earliest}, what
        # and nothing else is in it
        assert {i for i, a in catalog.items() if a["event"] == earliest} == set(ids), what
    assert all(a["event"] is None for i, a in catalog.items() if i not in joined)


@pytest.mark.parametrize("kind", DECOYS)
def test_look_alikes_are_never_joined(fixture_build, kind):
    _, _, catalog = fixture_build
    a, b = DECOYS[kind]
    assert catalog[a]["event"] is None or catalog[a]["event"] != catalog[b]["event"], kind


def test_the_result_does_not_depend_on_the_order_of_the_stories(tmp_path):
    site = build_model(load_config(_site(tmp_path)), environ={})
    places = {c.name: c.places for c in load_config(tmp_path).countries}
    stories = list(site.articles.values())
    expected, _ = events.group(stories, places)
    for seed in range(3):
        random.Random(seed).shuffle(stories)
        assert events.group(stories, places)[0] == expected


def test_the_article_page_lists_the_other_outlets_with_links(fixture_build):
    root, _, catalog = fixture_build
    page = (root / "dist" / catalog[CP + "xi-astana-treaty"]["url"] / "index.html").read_text()
    also = page.split("Also covered by</h2>")[1].split("</ul>")[0]
    assert 'Steppe Herald: <a href="../tokayev-hosts-central-asia-china-summit-in-astana/index.html">' in also
    assert "Fergana Daily: <a href=\"../summit-in-astana-what-central-asia-signed-with-china/index.html\">" in also
    assert "16 March 2026" in also and "17 March 2026" in also
    alone = (root / "dist" / catalog[SH + "news/almaty-marathon"]["url"] / "index.html").read_text()
    assert "Also covered by</h2>" not in alone


def test_the_home_edition_shows_each_event_once_and_counts_honestly(fixture_build):
    root, _, catalog = fixture_build
    home = (root / "dist" / "index.html").read_text()
    edition = home.split('id="edition-h"')[1].split('id="latest-h"')[0]
    # Week 12 (16–22 March): the summit in three outlets, nothing else.
    assert "3 stories about 1 events" in edition
    assert edition.count('<article class="card">') == 1
    assert "Tokayev hosts Central Asia–China summit in Astana" in edition  # the earliest leads
    assert 'Also covered by <a href="articles/xi-' in edition and ">Fergana Daily</a>" in edition
    latest = html.unescape(home.split('id="latest-h"')[1])
    titles = [catalog[i]["title"] for i in EVENTS["an earthquake"] + EVENTS["a metro line opened"]]
    # each event once in the latest stories, under its earliest story
    assert sum(t in latest for t in titles[:2]) == 1 and sum(t in latest for t in titles[2:]) == 1
    assert "Xi and five presidents" not in latest  # the edition has that event already


def test_the_newsletter_lists_an_event_once_with_its_other_outlets(fixture_build):
    root, _, catalog = fixture_build
    text = (root / "dist" / "weeks" / "2026-w11" / "newsletter.txt").read_text()
    assert "14 stories from Central Asia this week, about 11 events." in text
    assert text.count("Sergeli") >= 2 and text.count("* Tashkent opens Sergeli metro extension") == 1
    assert "* Sergeli gets its metro" not in text
    assert "Also covered by:\n  - Fergana Daily, Sergeli gets its metro: four stations open in\n    Tashkent (13 March 2026)" \
        in text
    md = (root / "dist" / "weeks" / "2026-w11" / "newsletter.md").read_text()
    assert "Also covered by: [Pamir Wire, “Kambarata-1 starts generating power”]" in md
    email = (root / "dist" / "weeks" / "2026-w11" / "newsletter.html").read_text()
    assert "14 stories about 11 events this week" in email


def test_an_editors_top_pick_leads_its_event_in_the_newsletter(tmp_path):
    root = _site(tmp_path)
    (root / "newsletter").mkdir()
    (root / "newsletter" / "2026-w11.toml").write_text(f'top = ["{FD}sergeli-stations"]\n')
    build(load_config(root), environ={})
    text = (root / "dist" / "weeks" / "2026-w11" / "newsletter.txt").read_text()
    top, rest = text.split("TOP STORIES")[1].split("KAZAKHSTAN")
    assert "* Sergeli gets its metro" in top and "Caspian Post, Tashkent opens Sergeli" in top
    assert "Sergeli" not in rest


def test_the_editor_joins_and_splits_stories(tmp_path):
    byd_kz, byd_uz = DECOYS["the same company's deal in another country"]
    toml = (f'[events]\njoin = [["{byd_uz}", "byd-signs-deal-for-an-assembly-plant-in-kostanay"]]\n'
            f'split = ["{CP}sergeli-metro", ["{SH}news/astana-summit", "articles/xi-and-five-presidents-sign-'
            'good-neighbourliness-treaty/"]]\n')
    found, problems = _events_of(_site(tmp_path, toml))
    assert not problems
    # joined by the editor (two outlets, a day apart) although the text says otherwise; the
    # event id is still its earliest story's
    assert found[byd_kz] == found[byd_uz] == byd_uz
    # a story split out stands alone, and so does the one it was joined with
    assert found[CP + "sergeli-metro"] is None and found[FD + "sergeli-stations"] is None
    # two stories split apart are in no event together (Fergana Daily's goes with one of them)
    summit = EVENTS["a summit"]
    assert found[summit[0]] != found[summit[1]]
    assert found[summit[2]] in (found[summit[0]], found[summit[1]]) and found[summit[2]] is not None
    # the other events are untouched
    assert found[SH + "news/rasht-quake"] == found[PW + "03/12/quake-gharm"] is not None


def test_the_first_story_an_editor_names_in_a_join_leads(tmp_path):
    toml = f'[events]\njoin = [["{FD}sergeli-stations", "{CP}sergeli-metro"]]\n'
    site = build_model(load_config(_site(tmp_path, toml)), environ={})
    event = site.events[CP + "sergeli-metro"]
    assert event.keys[0] == FD + "sergeli-stations" and event.id == CP + "sergeli-metro"


def test_a_name_matching_no_story_is_one_warning_not_a_failure(tmp_path):
    root = _site(tmp_path, '[events]\njoin = [["no-such-story", "sergeli-gets-its-metro-four-stations-open-in-tashkent"]]\n'
                           'split = ["https://nowhere.example/x"]\n')
    found, problems = _events_of(root)
    assert [p for p in problems if "no-such-story" in p] == [
        "digest.toml: events.join names no article: 'no-such-story' (use an id, link or slug)"]
    assert any("https://nowhere.example/x" in p for p in problems)
    assert found[CP + "sergeli-metro"] is not None  # the rest still works


def test_the_cli_prints_the_warning_and_builds(tmp_path, monkeypatch):
    root = _site(tmp_path, '[events]\nsplit = ["no-such-story"]\n')
    monkeypatch.chdir(root)
    result = CliRunner().invoke(main, ["build"])
    assert result.exit_code == 0, result.output
    assert "warning: digest.toml: events.split names no article: 'no-such-story'" in result.output
    assert (root / "dist" / "articles.json").is_file()


@pytest.mark.parametrize("table", ['[events]\njoin = ["a", "b"]\n', "[events]\nsplit = [1]\n",
                                   '[events]\nenabled = "no"\n', "[events]\nmerge = []\n"])
def test_a_malformed_events_table_names_the_file_and_key(tmp_path, table):
    (tmp_path / "digest.toml").write_text(table)
    with pytest.raises(ConfigError, match=r"digest\.toml: .*events"):
        load_config(tmp_path)


def test_grouping_can_be_turned_off(tmp_path):
    found, _ = _events_of(_site(tmp_path, "[events]\nenabled = false\n"))
    assert set(found.values()) == {None}


def test_an_incremental_build_follows_an_event_as_it_grows_and_shrinks(tmp_path):
    root = _site(tmp_path)
    config = load_config(root)
    build(config, environ={})
    extra = root / "content_cache" / "zz-another-outlet.rss.xml"
    extra.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Dushanbe Today</title>'
        "<link>https://dushanbe.example/</link><description>d</description><item>"
        "<title>Gharm counts the damage after the 5.7 quake</title><link>https://dushanbe.example/gharm</link>"
        "<guid>https://dushanbe.example/gharm</guid><pubDate>Thu, 12 Mar 2026 16:00:00 +0000</pubDate>"
        "<category>Tajikistan</category><description>&lt;p&gt;Two people died and about 150 houses were damaged in "
        "the Rasht valley when a magnitude 5.7 earthquake struck near Gharm, the Committee of Emergency "
        "Situations said; the epicentre was 20 km away, 10 km deep.&lt;/p&gt;</description></item></channel></rss>")
    build(config, environ={})
    catalog = {a["id"]: a for a in json.loads((root / "dist" / "articles.json").read_text())["articles"]}
    assert catalog["https://dushanbe.example/gharm"]["event"] == SH + "news/rasht-quake"
    page = (root / "dist" / catalog[SH + "news/rasht-quake"]["url"] / "index.html").read_text()
    assert "Dushanbe Today: <a" in page  # the existing story's page was rendered again
    assert _tree(root / "dist") == _fresh_build(config, tmp_path, "grown")
    extra.unlink()
    build(config, environ={})
    assert _tree(root / "dist") == _fresh_build(config, tmp_path, "shrunk")


def _word(rng: random.Random) -> str:
    """A made-up rare word, like a name only one story has."""
    return "".join(rng.choice("bcdfghjklmnprstvz") + rng.choice("aeiou") for _ in range(4)).capitalize()


def _story(n: int, outlet: str, when: datetime, words: str, countries=("Kazakhstan",)) -> Article:
    return Article(id=f"s{n}", slug=f"s{n}", title=words, source_url=None, publisher=outlet, authors=(), tags=(),
                   countries=countries, published=when, date_precision=EXACT, date_note="", body_html="",
                   excerpt="", sources=())


def test_only_stories_close_in_time_that_share_rare_words_are_compared(monkeypatch):
    """Blocking: 3,000 stories over a year from 3 outlets, each with its own rare words and a
    few common ones; comparing all pairs would be 4.5 million calls."""
    rng = random.Random(1)
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    common = ["Astana", "government", "ministry", "budget", "Almaty", "reform"]
    stories = [_story(n, f"Outlet {n % 3}", start + timedelta(hours=3 * n),
                      " ".join(rng.sample(common, 3) + [_word(rng) for _ in range(6)]))
               for n in range(3000)]
    calls = 0
    real = events._same_event

    def counting(*args):
        nonlocal calls
        calls += 1
        return real(*args)

    monkeypatch.setattr(events, "_same_event", counting)
    found, _ = events.group(stories, {})
    assert found == {}
    assert 0 < calls < 3000 * 60  # within the window (24 stories a side), never all pairs


QUAKE = "Magnitude 5.2 earthquake near {place} damages 40 houses, Emergency Committee says"


@pytest.mark.parametrize("countries, places, joined", [
    ((("Kyrgyzstan",), ("Kyrgyzstan",)), ("Osh", "Osh"), True),
    ((("Kyrgyzstan",), ("Tajikistan",)), ("Osh", "Osh"), False),  # the same words, another country
    ((("Kyrgyzstan",), ("Kyrgyzstan",)), ("Osh", "Naryn"), False),  # the same words, another place
])
def test_country_and_place_keep_the_same_words_apart(countries, places, joined):
    when = datetime(2026, 3, 12, 6, tzinfo=timezone.utc)
    pair = [_story(0, "Outlet A", when, QUAKE.format(place=places[0]), countries[0]),
            _story(1, "Outlet B", when + timedelta(hours=5), QUAKE.format(place=places[1]), countries[1])]
    found, _ = events.group(pair, {"Kyrgyzstan": ("Osh", "Naryn"), "Tajikistan": ()})
    assert (found.get("s1") == found.get("s0") is not None) is joined


def test_a_chain_of_look_alikes_never_puts_one_outlets_two_stories_in_an_event():
    when = datetime(2026, 3, 12, 6, tzinfo=timezone.utc)
    text = "Kambarata turbine 465 megawatts Naryn Japarov Toktogul switched on"
    stories = [_story(0, "Outlet A", when, text, ("Kyrgyzstan",)),
               _story(1, "Outlet B", when + timedelta(hours=2), text, ("Kyrgyzstan",)),
               _story(2, "Outlet A", when + timedelta(hours=4), text, ("Kyrgyzstan",))]
    found, _ = events.group(stories, {})
    assert set(found) == {"s0", "s1"} and found["s0"].keys == ("s0", "s1")


def test_stories_with_no_other_outlet_nearby_are_not_even_read(monkeypatch):
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    text = "Kambarata turbine 465 megawatts Naryn Japarov Toktogul switched on"
    stories = [_story(n, "Outlet A", start + timedelta(hours=n), text) for n in range(500)]
    stories.append(_story(500, "Outlet B", start + timedelta(hours=250), text))  # one other outlet, mid-way
    read = []
    real = events._doc
    monkeypatch.setattr(events, "_doc", lambda a, *rest: read.append(a.id) or real(a, *rest))
    found, _ = events.group(stories, {})
    # Outlet B's story and Outlet A's within three days of it, and no others
    assert len(read) == 1 + 2 * 72 + 1 and "s500" in read and "s0" not in read
    assert found["s500"].keys[0] in read

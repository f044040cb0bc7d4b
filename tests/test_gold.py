"""The shipped seed cache against the hand-labelled gold file (tests/data/gold.json, a copy
of shared/seeds/gold.json)."""

from datetime import datetime


def test_every_unique_article_exactly_once(catalog, gold):
    assert len(catalog) == gold["totals"]["unique_articles"] == 40
    assert set(catalog) == {a["id"] for a in gold["articles"]}


def test_titles_are_exact(catalog, gold):
    for g in gold["articles"]:
        assert catalog[g["id"]]["title"] == g["title"]


def test_rss_dates_are_exact(catalog, gold):
    for g in gold["articles"]:
        mine = catalog[g["id"]]
        if g["guid"]:
            assert datetime.fromisoformat(mine["published"]) == datetime.fromisoformat(g["published"])
            assert mine["published"] == g["published"]
            assert mine["date_precision"] == "exact"


def test_text_pages_never_get_an_invented_exact_date(catalog, gold):
    for g in gold["articles"]:
        if g["guid"] is None:
            assert catalog[g["id"]]["date_precision"] in ("approximate", "unknown")


def test_listing_items_are_dated_on_or_before_the_page_date(catalog, gold):
    page_date = gold["listing_page"]["page_date"]
    for g in gold["articles"]:
        if g["source_files"] == ["timesca-listing-2025-12-07.txt"]:
            mine = catalog[g["id"]]
            assert mine["published"].startswith(page_date)
            assert mine["date_precision"] == "approximate"
            assert "on or before" in mine["date_note"]


def test_authors_present(catalog, gold):
    for g in gold["articles"]:
        if g["author"]:
            assert g["author"] in catalog[g["id"]]["authors"]


def test_duplicate_keeps_both_sources(catalog, gold):
    for dup in gold["duplicates"]:
        assert catalog[dup["guid"]]["sources"] == sorted(dup["files"]) or set(catalog[dup["guid"]]["sources"]) == set(dup["files"])


def test_countries_within_lenient_bounds(catalog, gold):
    good = []
    for g in gold["articles"]:
        required = set(g["countries"]) - set(g["countries_borderline"])
        allowed = set(g["countries"]) | set(g["countries_borderline"])
        mine = set(catalog[g["id"]]["countries"])
        good.append(required <= mine <= allowed)
    assert sum(good) >= 39, [g["id"] for g, ok in zip(gold["articles"], good) if not ok]

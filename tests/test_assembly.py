"""The assembly of the articles grows by new stories only when that gives exactly what
assembling everything again gives (assembly.py); every other change assembles again."""

import os
import shutil

import pytest

from digest import assembly
from digest.build import Builder, make_model
from digest.config import load_config
from digest.parsecache import ParseCache

from .conftest import SEEDS, make_site
from .test_incremental import NEW, _feed


@pytest.fixture
def site(tmp_path):
    return make_site(tmp_path / "site", {p.name: p.read_bytes() for p in SEEDS.iterdir() if p.is_file()})


def _model(site, cache_dir=None):
    config = load_config(site)
    return make_model(config, {}, ParseCache(cache_dir or site / ".digest-cache"), 1)


def _from_nothing(site, tmp_path):
    """The model of the same inputs with an empty parse cache: assembled from every report."""
    cache = tmp_path / "from-nothing"
    shutil.rmtree(cache, ignore_errors=True)
    model, _, grown = _model(site, cache)
    assert not grown
    return model


def test_a_new_feed_grows_the_assembly_into_the_model_a_full_assembly_gives(site, tmp_path):
    before, old, grown = _model(site)
    assert not grown
    (site / "content_cache" / "new.xml").write_text(NEW)
    after, new, grown = _model(site)
    assert grown
    assert len(new.articles) == len(old.articles) + 2
    assert new.articles[:len(old.articles)] == old.articles  # the archive was not assembled again
    assert after == _from_nothing(site, tmp_path)
    assert {a.title for a in after.articles.values()} >= {"Astana opens a new metro line"}


def test_a_story_seen_before_is_assembled_again(site, tmp_path):
    (site / "content_cache" / "extra.xml").write_text(NEW)
    _model(site)
    # The same two stories from another file: they join the old ones, so order matters.
    (site / "content_cache" / "again.xml").write_text(NEW.replace("<title>Extra</title>", "<title>Again</title>"))
    model, _, grown = _model(site)
    assert not grown
    assert model == _from_nothing(site, tmp_path)


def test_a_changed_or_removed_feed_is_assembled_again(site, tmp_path):
    extra = site / "content_cache" / "extra.xml"
    extra.write_text(NEW)
    _model(site)
    extra.write_text(NEW.replace("new metro line", "second metro line"))
    model, _, grown = _model(site)
    assert not grown and model == _from_nothing(site, tmp_path)
    extra.unlink()
    model, _, grown = _model(site)
    assert not grown and model == _from_nothing(site, tmp_path)


def test_a_new_majority_spelling_of_a_tag_is_assembled_again(site, tmp_path):
    days = ["Mon, 29 Jun 2026 09:00:00 +0000", "Tue, 30 Jun 2026 09:00:00 +0000"]
    (site / "content_cache" / "one.xml").write_text(_feed([("Rail one", days[0], "Rail freight")], outlet="One"))
    _model(site)
    # Two new stories spell it 'Rail FREIGHT': that spelling now wins for the old story too.
    (site / "content_cache" / "two.xml").write_text(
        _feed([("Rail two", days[0], "Rail FREIGHT"), ("Rail three", days[1], "Rail FREIGHT")], outlet="Two"))
    model, _, grown = _model(site)
    assert not grown
    assert model == _from_nothing(site, tmp_path)
    spelled = {t for a in model.articles.values() for t in a.tags if t.casefold() == "rail freight"}
    assert spelled == {"Rail FREIGHT"}


def test_the_assembly_is_not_trusted_after_a_config_change(site, tmp_path):
    _, held, _ = _model(site)
    (site / "content_cache" / "new.xml").write_text(NEW)
    (site / "digest.toml").write_text('[tag_aliases]\n"kazakhstan" = "Qazaqstan"\n')
    model, _, grown = _model(site)  # the stored one
    assert not grown and model == _from_nothing(site, tmp_path)
    shutil.rmtree(site / ".digest-cache" / assembly.KIND)
    config = load_config(site)
    model, _, grown = make_model(config, {}, ParseCache(site / ".digest-cache"), 1, previous=held)  # one in memory
    assert not grown and model == _from_nothing(site, tmp_path)


def test_a_build_that_grew_keeps_the_archive_cached_for_the_next_full_assembly(site, tmp_path, monkeypatch):
    config = load_config(site)
    Builder(config, {}).build()
    (site / "content_cache" / "new.xml").write_text(NEW)
    Builder(config, {}).build()  # grows; its prune must keep the entries and bodies of the archive
    cleaned = []
    from digest import parsecache
    real = parsecache._clean
    monkeypatch.setattr(parsecache, "_clean", lambda report: cleaned.append(report.file) or real(report))
    (site / "content_cache" / "new.xml").unlink()  # a removed feed: a full assembly, from the cache
    Builder(config, {}).build()
    assert cleaned == []


def test_serve_grows_the_assembly_it_holds_without_reading_the_stored_one(site, monkeypatch):
    builder = Builder(load_config(site), {}, jobs=1)
    builder.build()
    monkeypatch.setattr(assembly, "load", lambda cache, setting: pytest.fail("read the stored assembly"))
    (site / "content_cache" / "new.xml").write_text(NEW)
    result = builder.build()
    assert result.stories == len(result.site.articles) and "Astana opens a new metro line" in {
        a.title for a in result.site.articles.values()}
    assert os.path.isdir(site / "dist")


def _extra_feed(i: int) -> str:
    """A feed of another outlet with a story no other feed has."""
    return _feed([(f"Tram line {i} opens in Almaty", "Wed, 01 Jul 2026 08:00:00 +0000", "Kazakhstan")],
                 outlet=f"Outlet{i}")


def test_a_grown_assembly_is_stored_as_its_growths_and_read_back_whole(site, tmp_path, monkeypatch):
    """After a new feed the cache holds the whole as it was plus what the feed added; reading
    them back gives the grown assembly, and the next feed grows from it (not from nothing)."""
    _model(site)
    cache = ParseCache(site / ".digest-cache")
    whole = cache.load(assembly.KIND, cache.key(assembly.KIND))
    assert whole.base and whole.growths == ()
    (site / "content_cache" / "new.xml").write_text(NEW)
    after, grown_one, grown = _model(site)
    assert grown and len(grown_one.growths) == 1
    assert cache.load(assembly.KIND, cache.key(assembly.KIND)) == whole  # the whole was not written again
    base, growths = cache.load(assembly.GROWN, cache.key(assembly.KIND))
    assert base == whole.base and [len(g.articles) for g in growths] == [2]
    read = assembly.load(cache, whole.setting)
    assert read == grown_one and read.articles == grown_one.articles and read.entries == grown_one.entries
    assert after == _from_nothing(site, tmp_path)


def test_growths_are_folded_into_a_new_whole_after_max_growths(site, tmp_path, monkeypatch):
    monkeypatch.setattr(assembly, "MAX_GROWTHS", 2)
    _model(site)
    cache = ParseCache(site / ".digest-cache")
    bases = []
    for i in range(4):
        (site / "content_cache" / f"extra-{i}.xml").write_text(_extra_feed(i))
        model, held, grown = _model(site)
        assert grown
        bases.append((held.base, len(held.growths)))
    # Two growths on the first whole, then a new whole (no growths), then one growth on it.
    assert [n for _, n in bases] == [1, 2, 0, 1] and bases[0][0] == bases[1][0] != bases[2][0] == bases[3][0]
    assert model == _from_nothing(site, tmp_path)


@pytest.mark.parametrize("damage", ["corrupt", "other-base", "removed"])
def test_growths_that_do_not_fit_the_stored_whole_are_not_applied(site, tmp_path, damage):
    """A growths entry that is damaged, made on another whole or gone leaves an older assembly,
    which the next build grows again: the model is still the one of every report."""
    _model(site)
    (site / "content_cache" / "new.xml").write_text(NEW)
    _model(site)
    cache = ParseCache(site / ".digest-cache")
    path = next((site / ".digest-cache" / assembly.GROWN).rglob("*"))
    path = path if path.is_file() else next(p for p in path.rglob("*") if p.is_file())
    if damage == "corrupt":
        path.write_bytes(path.read_bytes()[:-20])
    elif damage == "other-base":
        base, growths = cache.load(assembly.GROWN, cache.key(assembly.KIND))
        cache.store(assembly.GROWN, cache.key(assembly.KIND), ("another whole", growths))
    else:
        path.unlink()
    read = assembly.load(cache, cache.load(assembly.KIND, cache.key(assembly.KIND)).setting)
    assert len(read.growths) == 0  # the whole, as stored before the new feed
    (site / "content_cache" / "more.xml").write_text(_extra_feed(7))
    model, _, grown = _model(site)
    assert grown and model == _from_nothing(site, tmp_path)

"""The body store (digest/store.py): bodies live in one SQLite file of the parse cache, the model
holds keys. A store that is corrupt, from another version, locked or gone is never trusted and
never crashes a build: the site comes out the same as a build from nothing, with one warning."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from digest.build import build
from digest.cli import main
from digest.config import load_config
from digest.parsecache import ParseCache
from digest.store import FILE, Bodies, Corrupt, body_key

from .conftest import SEEDS, make_site


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def seed_site(tmp_path_factory):
    """The seed site built once from nothing: its dist/ is what every repaired build must equal."""
    tmp = tmp_path_factory.mktemp("store")
    site = make_site(tmp / "site", {p.name: p.read_bytes() for p in SEEDS.iterdir() if p.is_file()})
    build(load_config(site), environ={})
    return site, _tree(site / "dist")


@pytest.fixture
def site(seed_site, tmp_path):
    """A copy of the built seed site, parse cache and store included."""
    import shutil
    src, _ = seed_site
    dest = tmp_path / "site"
    shutil.copytree(src, dest, symlinks=True)
    return dest


def _rebuild(site: Path):
    """A build that must do the work (dist/ removed), with the parse cache as it is."""
    import shutil
    shutil.rmtree(site / "dist")
    return build(load_config(site), environ={})


def test_bodies_round_trip_and_prune(tmp_path):
    store = Bodies(tmp_path)
    store.put_many((body_key(b), b) for b in ["<p>one</p>", "<p>two</p>", "<p>one</p>"])
    assert store.get(body_key("<p>two</p>")) == "<p>two</p>"
    with pytest.raises(Corrupt):  # never '' for a body it should have: a page would lose its text
        store.get(body_key("<p>never stored</p>"))
    assert store.keys() == {body_key("<p>one</p>"), body_key("<p>two</p>")}
    assert store.keep_only({body_key("<p>one</p>")}) == 1
    store.close()
    again = Bodies(tmp_path)  # from the file, in a new connection
    assert again.keys() == {body_key("<p>one</p>")} and again.problem is None


def test_the_model_holds_keys_and_the_store_the_bodies(seed_site):
    site, _ = seed_site
    model = build(load_config(site), environ={}).site
    assert model.articles and all(a.body_html == "" and a.body_key for a in model.articles.values())
    stored = Bodies(site / ".digest-cache")
    assert all(stored.get(a.body_key) == model.body(a.id) != "" for a in model.articles.values()
               if a.body_size)


def test_a_corrupt_store_is_rebuilt_with_one_warning(site, seed_site):
    path = site / ".digest-cache" / FILE
    path.write_bytes(b"SQLite format 3\x00" + os.urandom(4096))  # a header, then garbage
    result = _rebuild(site)
    warnings = [p for p in result.problems if "body store" in p]
    assert len(warnings) == 1 and "corrupt" in warnings[0] and FILE in warnings[0]
    assert _tree(site / "dist") == seed_site[1]
    assert [p for p in _rebuild(site).problems if "body store" in p] == []  # repaired for good


def test_a_store_of_another_version_is_rebuilt(site, seed_site):
    conn = sqlite3.connect(site / ".digest-cache" / FILE)
    conn.execute("PRAGMA user_version=99")
    conn.commit()
    conn.close()
    result = _rebuild(site)
    assert any("another version" in p for p in result.problems)
    assert _tree(site / "dist") == seed_site[1]


def test_a_deleted_store_means_cleaning_again_not_a_wrong_site(site, seed_site):
    (site / ".digest-cache" / FILE).unlink()
    result = _rebuild(site)
    assert result.problems == build(load_config(site), environ={}).problems  # nothing to warn about
    assert _tree(site / "dist") == seed_site[1]


def test_a_body_missing_from_the_store_cleans_its_story_again(site, seed_site):
    conn = sqlite3.connect(site / ".digest-cache" / FILE)
    assert conn.execute("DELETE FROM bodies WHERE key IN (SELECT key FROM bodies LIMIT 3)").rowcount == 3
    conn.commit()
    conn.close()
    _rebuild(site)
    assert _tree(site / "dist") == seed_site[1]


def test_a_locked_store_keeps_bodies_in_memory_for_the_build(site, seed_site):
    path = site / ".digest-cache" / FILE
    path.unlink()  # a new store has to be created, and another build holds the lock
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = _rebuild(site)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    warnings = [p for p in result.problems if "body store" in p]
    assert len(warnings) == 1 and "locked" in warnings[0]
    assert _tree(site / "dist") == seed_site[1]


def test_strict_fails_on_a_rebuilt_store_and_names_it(site):
    (site / ".digest-cache" / FILE).write_bytes(b"not a database at all")
    (site / "dist" / "index.html").unlink()  # so the build has work to do
    old = Path.cwd()
    os.chdir(site)
    try:
        result = CliRunner().invoke(main, ["build", "--strict"])
    finally:
        os.chdir(old)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if "body store" in line]
    assert len(lines) == 1 and lines[0].startswith("warning:") and FILE in lines[0]


def test_no_parse_cache_keeps_bodies_in_memory(seed_site, tmp_path):
    src, expected = seed_site
    config = replace(load_config(src), out_dir=tmp_path / "out")
    from digest.build import build_model
    model = build_model(config, environ={}, parse_cache=ParseCache(None))
    assert model.bodies.in_memory and any(model.body(k) for k in model.order)


def _started(site: Path, stage: str) -> bool:
    if stage == "store":  # a new store has been made; its bodies are being written
        return (site / ".digest-cache" / FILE).exists()
    return any(p.name.startswith(".dist-new-") for p in site.iterdir())  # the writer is staging


@pytest.mark.parametrize("stage", ["store", "writer"])
def test_a_build_killed_mid_write_leaves_the_old_site_and_the_next_build_repairs(site, stage):
    """SIGKILL while bodies go into the store, or while the new site is being written: dist/ is
    still the last complete site (the writer stages everything first; the store commits whole
    transactions), and the next build gives what a build from nothing gives."""
    (site / "content_cache" / "extra.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Extra</title><link>https://x.example.org/</link>'
        '<description>x</description>' + "".join(
            f'<item><title>Dushanbe story {i}</title><link>https://x.example.org/{i}</link>'
            f'<pubDate>Mon, 29 Jun 2026 0{i % 10}:00:00 +0000</pubDate>'
            f'<description>&lt;p&gt;Tajikistan news {i}.&lt;/p&gt;</description></item>' for i in range(30))
        + "</channel></rss>")
    if stage == "store":  # a build from an empty parse cache, so every body is written
        import shutil
        shutil.rmtree(site / ".digest-cache")
    before = _tree(site / "dist")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen([sys.executable, "-m", "digest", "build", "-j", "1"], cwd=site, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    try:
        while not _started(site, stage):
            assert proc.poll() is None, "the build finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.002)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert _tree(site / "dist") == before  # not half written
    build(load_config(site), environ={})
    fresh = site.parent / "fresh"
    build(replace(load_config(site), out_dir=fresh), environ={}, parse_cache=site.parent / "fresh-cache")
    assert _tree(site / "dist") == _tree(fresh)
    assert not any(p.name.startswith(".dist-new-") for p in site.iterdir())  # the staging folder was cleared


def test_a_body_damaged_inside_the_store_is_caught_and_the_site_rebuilt(site, seed_site):
    """Bytes changed under a key (no SQLite error to see): reading it back fails its hash, the
    build starts over without the store, and says so once."""
    conn = sqlite3.connect(site / ".digest-cache" / FILE)
    key = conn.execute("SELECT key FROM bodies WHERE length(html) > 100 LIMIT 1").fetchone()[0]
    conn.execute("UPDATE bodies SET html = '<p>not this story</p>' WHERE key = ?", (key,))
    conn.commit()
    conn.close()
    result = _rebuild(site)
    warnings = [p for p in result.problems if "body store" in p]
    assert len(warnings) == 1 and "damaged" in warnings[0], result.problems
    assert _tree(site / "dist") == seed_site[1]
    assert b"not this story" not in b"".join(_tree(site / "dist").values())


def test_a_store_damaged_on_disk_is_caught_when_read(site, seed_site):
    """Pages of the file overwritten in the middle (an integrity check at open would read the
    whole file every build; a read that meets the damage raises, and the build starts over)."""
    path = site / ".digest-cache" / FILE
    data = bytearray(path.read_bytes())
    page = 4096
    for start in range(2 * page, len(data) - page, 3 * page):
        data[start:start + page] = os.urandom(page)
    path.write_bytes(bytes(data))
    result = _rebuild(site)
    assert any("body store" in p for p in result.problems), result.problems
    assert _tree(site / "dist") == seed_site[1]

"""Weekly editions: a page per ISO week with stories, an archive by year, and week-to-week links."""

import re


def test_every_dated_week_has_a_page_and_the_archive_lists_them_by_year(seed_build, catalog):
    from datetime import datetime
    out, _ = seed_build
    weeks = set()
    for a in catalog.values():
        if a["published"] and a["date_precision"] != "unknown":
            year, week, _ = datetime.fromisoformat(a["published"]).isocalendar()
            weeks.add(f"{year}-w{week:02d}")
    assert weeks == {p.name for p in (out / "weeks").iterdir() if p.is_dir()}
    archive = (out / "weeks" / "index.html").read_text()
    years = re.findall(r'<h2 id="year-(\d{4})">', archive)
    assert years == sorted({w[:4] for w in weeks}, reverse=True)
    assert sorted(re.findall(r'<li><a href="(\d{4}-w\d{2})/index.html">', archive)) == sorted(weeks)


def test_week_pages_link_to_the_next_older_and_newer_week(seed_build):
    out, _ = seed_build
    names = sorted(p.name for p in (out / "weeks").iterdir() if p.is_dir())
    for older, week, newer in zip(names, names[1:], names[2:]):
        nav = (out / "weeks" / week / "index.html").read_text().split('aria-label="Other weeks"')[1]
        assert f'href="../{older}/index.html"' in nav and f'href="../{newer}/index.html"' in nav
    newest = (out / "weeks" / names[-1] / "index.html").read_text().split('aria-label="Other weeks"')[1]
    assert "→</a>" not in newest.split("</nav>")[0]

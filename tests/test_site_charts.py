"""Build-time SVG charts: honest proportions, every number in the text equivalent."""

import re
from xml.etree import ElementTree as ET

from hypothesis import given, strategies as st

from digest.charts import Bar, bar_chart, column_chart, week_bars

SVG = "{http://www.w3.org/2000/svg}"


def _bar_widths(svg: str) -> list[float]:
    return [float(w) for w in re.findall(r'class="chart-bar" x="[^"]+" y="[^"]+" width="([^"]+)"', svg)]


@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=8))
def test_bar_chart_is_valid_svg_proportional_and_described(values):
    bars = [Bar(f"C{i} <&>", v) for i, v in enumerate(values)]
    svg = str(bar_chart(bars, chart_id="c", title="Stories per country"))
    root = ET.fromstring(svg)  # well-formed, labels escaped
    assert root.get("role") == "img" and root.get("aria-labelledby") == "c-t c-d"
    desc = root.find(f"{SVG}desc").text
    for bar in bars:
        assert f"{bar.label}: {bar.value}" in desc
    widths = _bar_widths(svg)
    most = max(values)
    for value, width in zip(values, widths):
        if value == 0:
            assert width == 0
        elif value == most:
            assert width == max(widths)
        else:
            assert width <= max(widths)


def test_week_bars_fill_empty_weeks_across_a_year_boundary():
    bars = week_bars({"2026-W02": 3, "2025-W51": 1}, "2026-W02", 4)
    assert [b.label for b in bars] == ["W51", "W52", "W1", "W2"]
    assert [b.value for b in bars] == [1, 0, 0, 3]
    assert bars[0].note.startswith("week 51 of 2025")


def test_column_chart_labels_the_latest_week_and_marks_the_peak():
    bars = week_bars({"2026-W25": 3, "2026-W22": 6}, "2026-W25", 12)
    svg = str(column_chart(bars, chart_id="w", title="Stories per week", tick_every=3))
    ET.fromstring(svg)
    assert ">W25</text>" in svg and ">6</text>" in svg
    assert "week 22 of 2026 (from 25 May 2026): 6" in svg


def test_home_and_index_pages_show_the_charts(seed_build, catalog):
    out, _ = seed_build
    home = (out / "index.html").read_text()
    kz = sum("Kazakhstan" in a["countries"] for a in catalog.values())
    assert f"Kazakhstan: {kz}" in home and 'aria-labelledby="home-countries-t home-countries-d"' in home
    assert 'aria-labelledby="home-weeks-t home-weeks-d"' in home
    assert "<svg" in (out / "weeks" / "index.html").read_text()
    assert "<svg" in (out / "countries" / "index.html").read_text()
    assert 'style="' not in home  # no inline styles: bars are SVG

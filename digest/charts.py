"""SVG charts drawn at build time: no chart library, no script, nothing to download.

Each chart is inline SVG with ``role="img"``, a ``<title>`` and a ``<desc>`` that states every
number in words, so a screen reader hears the data; pages also show the same numbers as a
table. Colours come from CSS classes, so the charts follow the light and dark themes.
Output is a pure function of the input numbers (deterministic, no ids from counters).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

from markupsafe import Markup


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    note: str = ""  # a longer label for the text equivalent (e.g. the week's dates)


def bar_chart(bars: list[Bar], *, chart_id: str, title: str, unit: str = "stories", width: int = 320) -> Markup:
    """Horizontal bars, one row per label: for a handful of categories such as countries."""
    row, gap, label_w, value_w = 26, 8, 108, 34
    height = max(1, len(bars)) * (row + gap) - gap
    most = max((b.value for b in bars), default=0) or 1
    track = width - label_w - value_w
    parts = []
    for i, bar in enumerate(bars):
        y = i * (row + gap)
        length = 0 if bar.value == 0 else max(2.0, track * bar.value / most)
        mid = y + row / 2
        parts.append(
            f'<text class="chart-label" x="0" y="{mid:.1f}" dy="0.35em">{escape(bar.label)}</text>'
            f'<rect class="chart-track" x="{label_w}" y="{y + 6}" width="{track}" height="{row - 12}" rx="4"/>'
            f'<rect class="chart-bar" x="{label_w}" y="{y + 6}" width="{length:.1f}" height="{row - 12}" rx="4"/>'
            f'<text class="chart-value" x="{width}" y="{mid:.1f}" dy="0.35em" text-anchor="end">{bar.value}</text>'
        )
    return _svg(chart_id, title, _describe(bars, unit), width, height, "".join(parts))


def column_chart(bars: list[Bar], *, chart_id: str, title: str, unit: str = "stories",
                 width: int = 640, height: int = 180, tick_every: int = 4) -> Markup:
    """Vertical columns in time order (weeks), with every ``tick_every``-th label under the axis."""
    axis_h, top = 22, 16
    plot_h = height - axis_h - top
    most = max((b.value for b in bars), default=0) or 1
    n = max(1, len(bars))
    slot = width / n
    bar_w = max(1.0, slot * 0.72)
    parts = [f'<line class="chart-axis" x1="0" y1="{top + plot_h}" x2="{width}" y2="{top + plot_h}"/>']
    for i, bar in enumerate(bars):
        x = i * slot + (slot - bar_w) / 2
        h = 0 if bar.value == 0 else max(2.0, plot_h * bar.value / most)
        parts.append(f'<rect class="chart-bar" x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" rx="2"/>')
        if bar.value == most:
            parts.append(f'<text class="chart-value" x="{x + bar_w / 2:.1f}" y="{top + plot_h - h - 4:.1f}" '
                         f'text-anchor="middle">{bar.value}</text>')
        if (n - 1 - i) % tick_every == 0:
            parts.append(f'<text class="chart-tick" x="{x + bar_w / 2:.1f}" y="{height - 4}" '
                         f'text-anchor="middle">{escape(bar.label)}</text>')
    return _svg(chart_id, title, _describe(bars, unit), width, height, "".join(parts))


def week_bars(counts: dict[str, int], latest: str, weeks: int) -> list[Bar]:
    """``weeks`` consecutive ISO weeks ending at ``latest`` ("2026-W25"), empty weeks included:
    a gap in the news is information, so it is drawn as a gap."""
    year, number = latest.split("-W")
    end = date.fromisocalendar(int(year), int(number), 1)
    bars = []
    for back in range(weeks - 1, -1, -1):
        monday = end - timedelta(weeks=back)
        y, w, _ = monday.isocalendar()
        name = f"{y}-W{w:02d}"
        bars.append(Bar(label=f"W{w}", value=counts.get(name, 0),
                        note=f"week {w} of {y} (from {monday.day} {monday:%b %Y})"))
    return bars


def _describe(bars: list[Bar], unit: str) -> str:
    if not bars:
        return f"No {unit}."
    return "; ".join(f"{b.note or b.label}: {b.value}" for b in bars) + "."


def _svg(chart_id: str, title: str, desc: str, width: int, height: int, body: str) -> Markup:
    return Markup(
        f'<svg class="chart" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>'
        f'{body}</svg>'
    )

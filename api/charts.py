"""Daily bar charts as inline SVG, drawn on the server (no JavaScript, no external files).

A chart is a ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that
states the total and the busiest day, so a screen reader gets the gist; every
bar segment has its own ``<title>`` (a native tooltip); the page puts the same
numbers in a table under the chart for anyone who wants them all.

Responsive without scaling the text: the outer SVG has no viewBox and places
labels in percentages of its width and pixels of its fixed height; the bars
live in a nested SVG whose viewBox (one unit per bucket) is stretched to the
full width (``preserveAspectRatio="none"``). The x labels are marked major and
minor so the style sheet can drop the minor ones on narrow screens.

Buckets are the report's days (UTC days, or calendar days in the page's zone); a
range longer than ``MAX_BARS`` days is drawn by month
(and one longer than ``MAX_BARS`` months by year), said in the title, so a
chart never has thousands of hair-thin bars.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from markupsafe import Markup, escape

MAX_BARS = 400
HEIGHT = 240
TOP = 14
BOTTOM = 30  # room for the x labels
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM
LEFT_INSET = 0.09  # share of the width kept free for the y labels
MAX_X_LABELS = 8
MAX_SERIES = 8
MIN_SLOTS = 14

# Distinguishable, colour-blind-aware hues (after Okabe-Ito and Tableau 10), then grey for "Other".
# Every colour at least 3:1 against the white plot (WCAG 1.4.11), and dark and light by turns, so
# stacked neighbours differ in lightness too and stay apart in greyscale, not by hue alone.
PALETTE = ("#1f56b3", "#d17a00", "#5a2e9e", "#1a9e77", "#8a1c2b", "#3d8fd6", "#2e5e1e", "#c2569b")
# Up to this many bars a chart also parts the stacked parts of each with a white line (thinner
# bars would turn white).
PARTED_BARS = 93
OTHER_COLOR = "#8a94a6"

Number = Decimal | int


@dataclass(frozen=True)
class Bucket:
    start: date
    end: date
    label: str  # short, for the axis: "3 Mar", "Mar 2024", "2024"
    long_label: str  # for titles and tables: "Sun 3 Mar 2024"
    key: str  # ISO date (day), "YYYY-MM" (month) or "YYYY" (year)


@dataclass(frozen=True)
class Series:
    name: str
    color: str
    values: tuple[Number, ...]

    @property
    def total(self) -> Number:
        return sum(self.values, Decimal(0))


@dataclass(frozen=True)
class Chart:
    chart_id: str
    title: str
    unit: str
    granularity: str  # "day", "month" or "year"
    buckets: tuple[Bucket, ...]
    series: tuple[Series, ...]
    format_value: Callable[[Number], str] = field(repr=False)

    @property
    def totals(self) -> tuple[Number, ...]:
        return tuple(sum(values, Decimal(0)) for values in zip(*(s.values for s in self.series), strict=True))

    @property
    def is_empty(self) -> bool:
        return not self.series or not any(self.totals)

    @property
    def peak(self) -> tuple[Bucket, Number] | None:
        if self.is_empty:
            return None
        totals = self.totals
        index = max(range(len(totals)), key=lambda i: (totals[i], -i))
        return self.buckets[index], totals[index]

    def table_rows(self) -> list[tuple[Bucket, tuple[Number, ...], Number]]:
        """Every bucket with activity: its values per series and its total."""
        rows = []
        for index, bucket in enumerate(self.buckets):
            values = tuple(series.values[index] for series in self.series)
            total = sum(values, Decimal(0))
            if total:
                rows.append((bucket, values, total))
        return rows

    def svg(self, range_text: str) -> Markup:
        return render_svg(self, range_text)


# --- buckets ------------------------------------------------------------------


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def buckets_for(start: date, end: date) -> tuple[str, tuple[Bucket, ...]]:
    """Day buckets from ``start`` to ``end`` (inclusive), or months, or years for long ranges."""
    days = (end - start).days + 1
    if days <= MAX_BARS:
        return "day", tuple(
            Bucket(
                day,
                day,
                f"{day.day} {day:%b}",
                f"{day:%a} {day.day} {day:%b %Y}",
                day.isoformat(),
            )
            for day in (start + timedelta(days=offset) for offset in range(days))
        )
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    if months <= MAX_BARS:
        result = []
        first = start.replace(day=1)
        for _ in range(months):
            result.append(
                Bucket(
                    max(first, start),
                    min(_month_end(first), end),
                    f"{first:%b %Y}",
                    f"{first:%B %Y}",
                    f"{first:%Y-%m}",
                )
            )
            if (first.year, first.month) < (9999, 12):
                first = _month_end(first) + timedelta(days=1)
        return "month", tuple(result)
    return "year", tuple(
        Bucket(
            max(date(year, 1, 1), start),
            min(date(year, 12, 31), end),
            str(year),
            str(year),
            f"{year:04d}",
        )
        for year in range(start.year, end.year + 1)
    )


def bucket_key(granularity: str, day: date) -> str:
    if granularity == "day":
        return day.isoformat()
    if granularity == "month":
        return f"{day:%Y-%m}"
    return f"{day.year:04d}"


def series_by_bucket(
    granularity: str,
    buckets: Sequence[Bucket],
    points: Iterable[tuple[date, str, Number]],
    *,
    order: Sequence[str] | None = None,
    colors: dict[str, str] | None = None,
) -> tuple[Series, ...]:
    """Sum ``(day, series name, value)`` points into one series per name, aligned with ``buckets``.

    Series come in ``order`` (else by total, largest first, then name); past
    ``MAX_SERIES`` the smallest are summed into "Other".
    """
    position = {bucket.key: index for index, bucket in enumerate(buckets)}
    day_index: dict[date, int] = {}  # a bucket's key is formatted once per day, not once per point
    sums: dict[str, list[Number]] = {}
    for day, name, value in points:
        values = sums.setdefault(name, [Decimal(0)] * len(buckets))
        index = day_index.get(day)
        if index is None:
            index = day_index[day] = position[bucket_key(granularity, day)]
        values[index] += value
    names = list(order) if order is not None else sorted(sums, key=lambda n: (-sum(sums[n]), n))
    names = [name for name in names if name in sums]
    folded = len(names) > MAX_SERIES
    if folded:
        kept, rest = names[: MAX_SERIES - 1], names[MAX_SERIES - 1 :]
        other = [sum(column, Decimal(0)) for column in zip(*(sums[name] for name in rest), strict=True)]
        sums = {**{name: sums[name] for name in kept}, "Other": other}
        names = [*kept, "Other"]
    result = []
    for index, name in enumerate(names):
        color = (colors or {}).get(name) or (
            OTHER_COLOR if folded and index == len(names) - 1 else PALETTE[index % len(PALETTE)]
        )
        result.append(Series(name, color, tuple(sums[name])))
    return tuple(result)


# --- drawing --------------------------------------------------------------------


# The finest step an axis takes: the finest unit any report has (a millionth of a credit), so
# no two ticks read the same when labels show at most six decimals.
MIN_STEP = 1e-6


def nice_step(maximum: float, ticks: int = 4) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving about ``ticks`` grid lines,
    never finer than ``MIN_STEP``."""
    if maximum <= 0:
        return 1.0
    raw = max(maximum / ticks, MIN_STEP)
    power = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        if raw <= multiple * power * (1 + 1e-9):
            return multiple * power
    return 10 * power


# An axis's unit, from its top tick: thousands from 10,000 on (below, "5,000" reads better than "5k").
AXIS_UNITS = ((1e9, 1e9, "B"), (1e6, 1e6, "M"), (1e4, 1e3, "k"))


def axis_label(value: float, step: float, top: float) -> str:
    """Compact axis numbers, every tick of an axis in the unit its ``top`` tick needs, with the
    decimals its ``step`` needs: 0, 2.5, 1,500; 0, 20k, 40k; 0, 2.5M, 5.0M."""
    if value == 0:
        return "0"
    divisor, suffix = next(
        ((divisor, suffix) for threshold, divisor, suffix in AXIS_UNITS if abs(top) >= threshold), (1.0, "")
    )
    exponent = Decimal(repr(round(step / divisor, 12))).normalize().as_tuple().exponent
    decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return f"{value / divisor:,.{min(decimals, 6)}f}{suffix}"


def _pct(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".") + "%"


def _num(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"


def describe(chart: Chart, range_text: str) -> str:
    if chart.is_empty:
        return f"{chart.title}, {range_text}: no activity."
    total = sum(chart.totals, Decimal(0))
    peak = chart.peak
    assert peak is not None
    parts = [f"{chart.title}, {range_text}. Total {chart.format_value(total)} {chart.unit}."]
    parts.append(
        f"Highest {chart.granularity}: {peak[0].long_label}, {chart.format_value(peak[1])} {chart.unit}."
    )
    if len(chart.series) > 1:
        shares = ", ".join(f"{s.name} {chart.format_value(s.total)}" for s in chart.series)
        parts.append(f"By series: {shares}.")
    return " ".join(parts)


def render_svg(chart: Chart, range_text: str = "") -> Markup:
    count = len(chart.buckets)
    totals = [float(total) for total in chart.totals]
    maximum = max(totals, default=0.0)
    step = nice_step(maximum)
    top_value = max(step, math.ceil(maximum / step - 1e-9) * step)
    # A short range keeps bars of a sensible width, centred, as if there were MIN_SLOTS of them.
    slots = max(count, MIN_SLOTS)
    inset_units = slots * LEFT_INSET / (1 - LEFT_INSET) + (slots - count) / 2
    width_units = inset_units + count + (slots - count) / 2
    title_id, desc_id = f"{chart.chart_id}-title", f"{chart.chart_id}-desc"

    def y_of(value: float) -> float:
        return PLOT_HEIGHT - value / top_value * PLOT_HEIGHT

    out: list[str] = [
        f'<svg class="chart-svg" role="img" aria-labelledby="{title_id}" aria-describedby="{desc_id}" '
        f'width="100%" height="{HEIGHT}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{title_id}">{escape(chart.title)}</title>',
        f'<desc id="{desc_id}">{escape(describe(chart, range_text))}</desc>',
        '<g class="chart-grid" aria-hidden="true">',
    ]
    ticks = [index * step for index in range(round(top_value / step) + 1)]
    for tick in ticks:
        y = TOP + y_of(tick)
        out.append(f'<line x1="0" x2="100%" y1="{_num(y)}" y2="{_num(y)}"/>')
    out.append("</g>")

    # Bars: one unit of width per bucket, stretched to the plot's width.
    out.append(
        f'<svg class="chart-bars" x="0" y="{TOP}" width="100%" height="{PLOT_HEIGHT}" '
        f'viewBox="{_num(-inset_units)} 0 {_num(width_units)} {PLOT_HEIGHT}" preserveAspectRatio="none">'
    )
    gap = 0.18 if count > 1 else 0.35
    # stacked parts of bars wide enough for it are parted by a thin white line
    parted = (
        ' stroke="#fff" stroke-width="1" vector-effect="non-scaling-stroke"'
        if (len(chart.series) > 1 and count <= PARTED_BARS)
        else ""
    )
    for index, bucket in enumerate(chart.buckets):
        base = 0.0
        for series in chart.series:
            amount = float(series.values[index])
            if amount <= 0:
                continue
            y_top, y_bottom = y_of(base + amount), y_of(base)
            base += amount
            tooltip = (
                f"{bucket.long_label}, {series.name}: {chart.format_value(series.values[index])} {chart.unit}"
            )
            out.append(
                f'<rect x="{_num(index + gap / 2)}" width="{_num(1 - gap)}" y="{_num(y_top)}" '
                f'height="{_num(max(y_bottom - y_top, 0.5))}" fill="{series.color}"{parted}>'
                f"<title>{escape(tooltip)}</title></rect>"
            )
    out.append("</svg>")

    out.append('<g class="chart-y-labels" aria-hidden="true">')
    for tick in ticks:
        y = TOP + y_of(tick) - 4
        out.append(f'<text x="2" y="{_num(y)}">{escape(axis_label(tick, step, top_value))}</text>')
    out.append("</g>")

    out.append('<g class="chart-x-labels" aria-hidden="true">')
    every = max(1, math.ceil(count / MAX_X_LABELS))
    for index in range(0, count, every):
        centre = (inset_units + index + 0.5) / width_units * 100
        kind = "major" if (index // every) % 2 == 0 else "minor"
        out.append(
            f'<text class="{kind}" x="{_pct(centre)}" y="{HEIGHT - 10}" text-anchor="middle">'
            f"{escape(chart.buckets[index].label)}</text>"
        )
    out.append("</g></svg>")
    return Markup("".join(out))

"""The waste report's stacked bar chart as geometry (bars, ticks, legend) for an SVG template."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from app.schemas import (
    WasteReport,
)

PALETTE = ["#1f6feb", "#e8710a", "#188038", "#a142f4", "#d93025", "#12b5cb", "#9aa0a6", "#f9ab00"]


OTHER = "Other"


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass
class Chart:
    """Stacked bars of waste value per month, one colour per product, as coordinates for an SVG."""

    width: int
    height: int
    left: int
    top: int
    plot_width: float
    plot_height: float
    bars: list[Bar] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    months: list[tuple[float, str]] = field(default_factory=list)
    totals: list[tuple[float, float, str]] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)
    empty: bool = True


def _nice_step(top: Decimal, ticks: int = 4) -> Decimal:
    raw = float(top) / ticks
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * power:
            return Decimal(str(m * power))
    return Decimal(str(10 * power))


def waste_chart(report: WasteReport, *, width: int = 760, height: int = 280, series: int = 7) -> Chart:
    """Geometry of the chart: bars by month stacked by product (the largest `series`, the rest as Other)."""
    left, right, top, bottom = 64, 12, 16, 34
    chart = Chart(width=width, height=height, left=left, top=top, plot_width=width - left - right,
                  plot_height=height - top - bottom)
    totals_by_sku: dict[str, Decimal] = {}
    for r in report.by_month_product:
        totals_by_sku[r.sku] = totals_by_sku.get(r.sku, Decimal(0)) + r.value
    ranked = sorted(totals_by_sku, key=lambda s: (-totals_by_sku[s], s))
    # An Other bucket holding a single product would only hide its name.
    shown = ranked if len(ranked) <= series + 1 else ranked[:series]
    colour = {sku: PALETTE[i % len(PALETTE)] for i, sku in enumerate(shown)}
    if len(ranked) > len(shown):
        colour[OTHER] = PALETTE[-1]
    chart.legend = list(colour.items())
    stacks: dict[str, list[tuple[str, Decimal]]] = {m: [] for m in report.months}
    for r in report.by_month_product:
        key = r.sku if r.sku in shown else OTHER
        items = stacks[r.month]
        for i, (k, v) in enumerate(items):
            if k == key:
                items[i] = (k, v + r.value)
                break
        else:
            items.append((key, r.value))
    month_totals = {m: sum((v for _k, v in items), Decimal(0)) for m, items in stacks.items()}
    peak = max(month_totals.values(), default=Decimal(0))
    chart.empty = peak <= 0
    step = _nice_step(peak) if peak > 0 else Decimal(1)
    axis_top = step * math.ceil(peak / step) if peak > 0 else step * 4
    scale = chart.plot_height / float(axis_top)
    value = Decimal(0)
    while value <= axis_top:
        chart.ticks.append(Tick(y=top + chart.plot_height - float(value) * scale, label=f"{value:,.0f}"))
        value += step
    slot = chart.plot_width / max(1, len(report.months))
    bar_width = min(64.0, slot * 0.62)
    order = {k: i for i, k in enumerate(colour)}
    for i, month in enumerate(report.months):
        x = left + slot * i + (slot - bar_width) / 2
        chart.months.append((left + slot * i + slot / 2, month))
        y = top + chart.plot_height
        for key, v in sorted(stacks[month], key=lambda kv: order[kv[0]]):
            h = float(v) * scale
            y -= h
            chart.bars.append(Bar(x=x, y=y, width=bar_width, height=h, colour=colour[key],
                                  title=f"{month} · {key}: {v:,.2f}"))
        if month_totals[month] > 0:
            chart.totals.append((x + bar_width / 2, y - 4, f"{month_totals[month]:,.0f}"))
    return chart

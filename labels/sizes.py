"""Label sizes, sheet layouts and printer resolutions the renderers support."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from labels.gs1 import LabelDataError

MM_PER_INCH = 25.4
ZPL_DPIS = (203, 300)
"""Thermal printer resolutions (8 and 12 dots/mm)."""
PDF_DPI = 300
"""PDF geometry is laid out on a 1/300 in grid: it divides evenly into the 300, 600 and 1200 dpi
of office printers, so every bar and module is a whole number of printer dots."""

Template = Literal["tall", "wide", "small"]


class LabelSizeError(LabelDataError):
    """An unknown label size, sheet or printer resolution was asked for."""


class LabelFitError(LabelSizeError):
    """The lot's data cannot be printed readably on the chosen label size."""


@dataclass(frozen=True)
class LabelSize:
    """One label: its printed size, how its content is arranged and where it can be printed."""

    name: str
    title: str
    """How the size is named on the label itself, e.g. '4×2 in'."""
    width_in: float
    height_in: float
    template: Template
    thermal: bool
    """Offered as ZPL for thermal printers (otherwise PDF, SVG and PNG only)."""
    rotated: bool = False
    """Laid out landscape and turned a quarter turn onto a portrait page (continuous rolls)."""

    @property
    def frame_in(self) -> tuple[float, float]:
        """Width and height of the area the content is laid out in, before any rotation."""
        if self.rotated:
            return self.height_in, self.width_in
        return self.width_in, self.height_in


@dataclass(frozen=True)
class Sheet:
    """A sheet of office labels, filled left to right, top to bottom."""

    name: str
    page_in: tuple[float, float]
    label: LabelSize
    columns: int
    rows: int
    left_in: float
    top_in: float
    pitch_x_in: float
    pitch_y_in: float

    @property
    def per_page(self) -> int:
        """Labels on one sheet."""
        return self.columns * self.rows


def _mm(value: float) -> float:
    return value / MM_PER_INCH


SIZES: dict[str, LabelSize] = {
    s.name: s
    for s in (
        LabelSize("4x6", "4×6 in", 4.0, 6.0, "tall", thermal=True),
        LabelSize("4x2", "4×2 in", 4.0, 2.0, "wide", thermal=True),
        LabelSize("2x1", "2×1 in", 2.0, 1.0, "small", thermal=True),
        LabelSize("100x50mm", "100×50 mm", _mm(100), _mm(50), "wide", thermal=True),
        # Continuous 62 mm rolls: cut at 100 mm; the content runs along the roll so the
        # GS1-128 gets the 100 mm length instead of the 62 mm width.
        LabelSize("62mm", "62×100 mm", _mm(62), _mm(100), "wide", thermal=False, rotated=True),
    )
}

SHEETS: dict[str, Sheet] = {
    # Avery 5160 / 8160 layout: 3 × 10 labels of 2⅝ × 1 in on US Letter.
    "letter-30": Sheet(
        "letter-30",
        (8.5, 11.0),
        LabelSize("letter-30", "2.625×1 in", 2.625, 1.0, "small", thermal=False),
        columns=3,
        rows=10,
        left_in=0.1875,
        top_in=0.5,
        pitch_x_in=2.75,
        pitch_y_in=1.0,
    ),
    # Avery L7160 layout: 3 × 7 labels of 63.5 × 38.1 mm on A4.
    "a4-21": Sheet(
        "a4-21",
        (_mm(210), _mm(297)),
        LabelSize("a4-21", "63.5×38.1 mm", _mm(63.5), _mm(38.1), "small", thermal=False),
        columns=3,
        rows=7,
        left_in=_mm(7.25),
        top_in=_mm(15.15),
        pitch_x_in=_mm(66.04),
        pitch_y_in=_mm(38.1),
    ),
}


def label_size(name: str) -> LabelSize:
    """The single-label size called `name`, or LabelSizeError listing the known ones."""
    try:
        return SIZES[name]
    except KeyError:
        raise LabelSizeError(f"unknown label size {name!r}; choose one of {', '.join(SIZES)}") from None


def thermal_size(name: str, dpi: int) -> LabelSize:
    """A size a thermal printer takes at `dpi`, or LabelSizeError."""
    size = label_size(name)
    if not size.thermal:
        thermal = ", ".join(n for n, s in SIZES.items() if s.thermal)
        raise LabelSizeError(f"{name} is not a thermal label size; ZPL sizes are {thermal}")
    check_dpi(dpi)
    return size


def check_dpi(dpi: int) -> None:
    """LabelSizeError unless `dpi` is a supported printer resolution."""
    if dpi not in ZPL_DPIS:
        raise LabelSizeError(f"unsupported resolution {dpi} dpi; choose {' or '.join(map(str, ZPL_DPIS))}")


def sheet_layout(name: str) -> Sheet:
    """The sheet called `name`, or LabelSizeError listing the known ones."""
    try:
        return SHEETS[name]
    except KeyError:
        raise LabelSizeError(f"unknown sheet {name!r}; choose one of {', '.join(SHEETS)}") from None

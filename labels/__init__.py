"""Lot labels: one LotLabel rendered as ZPL, PDF, SVG or PNG, each with GS1 barcodes that decode."""

from labels.gs1 import (
    GS,
    LabelDataError,
    LotBarcodeData,
    digital_link,
    element_string,
    human_readable,
)
from labels.model import LotLabel
from labels.pdf import to_pdf
from labels.png import to_png
from labels.sizes import (
    SHEETS,
    SIZES,
    ZPL_DPIS,
    LabelFitError,
    LabelSize,
    LabelSizeError,
    Sheet,
)
from labels.svg import to_svg
from labels.zpl import to_zpl

__all__ = [
    "GS",
    "SHEETS",
    "SIZES",
    "ZPL_DPIS",
    "LabelDataError",
    "LabelFitError",
    "LabelSize",
    "LabelSizeError",
    "LotBarcodeData",
    "LotLabel",
    "Sheet",
    "digital_link",
    "element_string",
    "human_readable",
    "to_pdf",
    "to_png",
    "to_svg",
    "to_zpl",
]

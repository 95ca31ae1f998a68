"""Lot labels: one LotLabel rendered as ZPL, PDF, SVG or PNG, each with barcodes that decode.

GS1 barcodes for a product with a GTIN, plain ones (no GS1 marker) without; see labels.gs1.
"""

from labels.gs1 import (
    GS,
    LabelDataError,
    LotBarcodeData,
    barcode_text,
    digital_link,
    element_string,
    human_readable,
    label_url,
    plain_text,
    plain_url,
    read_plain,
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
    "barcode_text",
    "digital_link",
    "element_string",
    "human_readable",
    "label_url",
    "plain_text",
    "plain_url",
    "read_plain",
    "to_pdf",
    "to_png",
    "to_svg",
    "to_zpl",
]

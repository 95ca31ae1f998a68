"""Lot labels as tests check them: sample labels, what their barcodes say, ZPL barcodes drawn at printer dots."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import numpy as np
import zxingcpp
from barcode.charsets import code128

from labels import LotLabel

GS = "\x1d"
CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
THERMAL = ["4x6", "4x2", "2x1", "100x50mm"]
GTIN = "09506000134352"


def jam(**changes: Any) -> LotLabel:
    """A typical finished-goods label; keyword arguments replace fields."""
    label = LotLabel(
        company="Hillside Preserves Ltd",
        product_name="Raspberry Jam 340 g",
        sku="RJ-340",
        lot_code="261030-A",
        base_url="https://lots.example.com",
        gtin=GTIN,
        expiry=date(2026, 12, 31),
        production_date=date(2026, 6, 30),
        quantity=Decimal("12.500"),
        unit="jars",
        free_text="Contains: none of the 14 allergens.",
    )
    return dataclasses.replace(label, **changes)


def sku_only(**changes: Any) -> LotLabel:
    """A label for a product without a GTIN, with GS1 punctuation in sku and lot."""
    return jam(**{"gtin": None, "sku": "CB-BASE_2", "lot_code": "B(7)>x_1", **changes})


# --- what a scanner should read, built here from the label's fields, not from labels.gs1 ------


def expected_fields(label: LotLabel) -> dict[str, str]:
    fields = {"01": label.gtin} if label.gtin else {"240": label.sku}
    if label.expiry:
        fields["17"] = label.expiry.strftime("%y%m%d")
    fields["10"] = label.lot_code
    return fields


def expected_element_string(label: LotLabel) -> str:
    head = f"01{label.gtin}" if label.gtin else f"240{label.sku}{GS}"
    expiry = f"17{label.expiry:%y%m%d}" if label.expiry else ""
    return f"{head}{expiry}10{label.lot_code}"


def expected_url(label: LotLabel) -> str:
    key = f"01/{label.gtin}" if label.gtin else f"240/{quote(label.sku, safe='')}"
    url = f"{label.base_url.rstrip('/')}/{key}/10/{quote(label.lot_code, safe='')}"
    return url + (f"?17={label.expiry:%y%m%d}" if label.expiry else "")


def parse_gs1(text: str) -> dict[str, str]:
    """Split a decoded element string (GS separators) into {AI: value} for the AIs labels use."""
    fixed = {"01": 14, "17": 6}
    fields: dict[str, str] = {}
    i = 0
    while i < len(text):
        ai = next(a for a in ("01", "17", "10", "240") if text.startswith(a, i))
        i += len(ai)
        if ai in fixed:
            fields[ai] = text[i : i + fixed[ai]]
            i += fixed[ai]
        else:
            end = text.find(GS, i)
            end = len(text) if end < 0 else end
            fields[ai] = text[i:end]
            i = end + 1
    return fields


def read(image: object) -> list[zxingcpp.Barcode]:
    return zxingcpp.read_barcodes(image, text_mode=zxingcpp.TextMode.Plain)


def assert_gs1(result: zxingcpp.Barcode, label: LotLabel) -> None:
    assert result.content_type == zxingcpp.ContentType.GS1
    assert result.text == expected_element_string(label)
    assert parse_gs1(result.text) == expected_fields(label)


def by_format(results: list[zxingcpp.Barcode]) -> dict[str, list[zxingcpp.Barcode]]:
    found: dict[str, list[zxingcpp.Barcode]] = {}
    for r in results:
        found.setdefault(str(r.format), []).append(r)
    return found


def raster(rows: list[str], module: int, height: int | None = None) -> np.ndarray:
    """A white-margined greyscale image of module rows ('1' dark), each module `module` px."""
    grid = np.array([[c == "1" for c in row] for row in rows], dtype=bool)
    if height is not None:  # a 1D symbol: one row stretched to the bar height
        grid = np.repeat(grid, max(1, height // module), axis=0)
    image = np.where(np.kron(grid, np.ones((module, module), dtype=bool)), 0, 255)
    return np.pad(image.astype(np.uint8), 4 * module, constant_values=255)


# --- ZPL parsing, written from the Zebra manual -----------------------------------------------


def found(pattern: str, text: str) -> str:
    """Group 1 of the first match of `pattern` in `text`, which must match."""
    match = re.search(pattern, text, flags=re.S)
    assert match is not None, f"{pattern!r} not in {text!r}"
    return match.group(1)


def zpl_fields(zpl: str) -> list[str]:
    return re.findall(r"\^FO.*?\^FS", zpl, flags=re.S)


def unhex(text: str) -> str:
    return re.sub(r"\\([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), text)


def code128_values(fd: str) -> list[int]:
    """Interpret ^BC mode-N field data (invocation codes) as Code 128 symbol values."""
    starts = {">9": ("A", 103), ">:": ("B", 104), ">;": ("C", 105)}
    subset, start = starts[fd[:2]]
    values = [start]
    i = 2
    while i < len(fd):
        if fd[i] == ">":
            code = fd[i + 1]
            i += 2
            if code in "0<=":  # literal >, ^, ~ in subsets A/B
                values.append({"0": 30, "<": 62, "=": 94}[code])
            elif code == "8":
                values.append(102)
            elif code == "5":
                values.append(99)
                subset = "C"
            elif code == "6":
                values.append(100)
                subset = "B" if subset in "AC" else subset
            elif code == "7":
                values.append(101)
                subset = "A" if subset in "BC" else subset
            else:
                raise AssertionError(f"unexpected invocation >{code}")
        elif subset == "C":
            assert fd[i : i + 2].isdigit(), f"subset C needs digit pairs at {fd[i:]!r}"
            values.append(int(fd[i : i + 2]))
            i += 2
        else:
            values.append(ord(fd[i]) - 32)
            i += 1
    return values


def code128_modules(values: list[int]) -> str:
    check = (values[0] + sum(i * v for i, v in enumerate(values) if i)) % 103
    bars: list[str] = [code128.CODES[v] for v in [*values, check]]
    return "".join(bars) + str(code128.STOP) + "11"


def datamatrix_text(fd: str) -> str:
    """Interpret ^BX field data with escape '_': returns the data with FNC1 shown as GS."""
    assert fd.startswith("_1"), "GS1 DataMatrix must start with FNC1"
    out, i = [], 2
    while i < len(fd):
        if fd[i] == "_":
            assert fd[i + 1] in "1_", f"unexpected escape {fd[i : i + 2]!r}"
            out.append(GS if fd[i + 1] == "1" else "_")
            i += 2
        else:
            out.append(fd[i])
            i += 1
    return "".join(out)


def bracketed(label: LotLabel) -> str:
    return "".join(f"[{ai}]{value}" for ai, value in expected_fields(label).items())

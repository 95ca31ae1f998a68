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
    """A label for a product without a GTIN (plain barcodes), with punctuation in sku and lot."""
    return jam(**{"gtin": None, "sku": "CB-BASE_2", "lot_code": "B(7)>x_1", **changes})


# --- what a scanner should read, built here from the label's fields, not from labels.gs1 ------


def expected_fields(label: LotLabel) -> dict[str, str]:
    assert label.gtin, "only labels with a GTIN carry GS1 fields"
    fields = {"01": label.gtin}
    if label.expiry:
        fields["17"] = label.expiry.strftime("%y%m%d")
    fields["10"] = label.lot_code
    return fields


def expected_element_string(label: LotLabel) -> str:
    assert label.gtin, "only labels with a GTIN carry a GS1 element string"
    expiry = f"17{label.expiry:%y%m%d}" if label.expiry else ""
    return f"01{label.gtin}{expiry}10{label.lot_code}"


def expected_plain(label: LotLabel) -> str:
    """What a plain label's Code 128 and DataMatrix say: the sku, a space and the lot code."""
    return f"{label.sku} {label.lot_code}"


def expected_text(label: LotLabel) -> str:
    """What the label's Code 128 and DataMatrix say."""
    return expected_element_string(label) if label.gtin else expected_plain(label)


def expected_url(label: LotLabel) -> str:
    base = label.base_url.rstrip("/")
    if not label.gtin:
        return f"{base}/lots/find?sku={quote(label.sku, safe='')}&code={quote(label.lot_code, safe='')}"
    url = f"{base}/01/{label.gtin}/10/{quote(label.lot_code, safe='')}"
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


def assert_reads(result: zxingcpp.Barcode, label: LotLabel) -> None:
    """A Code 128 or DataMatrix of the label: GS1 with a GTIN, plain text (no GS1 marker) without."""
    if label.gtin:
        assert_gs1(result, label)
    else:
        assert result.content_type == zxingcpp.ContentType.Text, "a label without a GTIN carries no GS1 marker"
        assert result.text == expected_plain(label)


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
    """Interpret ^BC mode-N field data (^FH hex escapes, then invocation codes) as Code 128 symbol values.

    Written from the ZPL II manual's ^BC table; only what a renderer reads alike is accepted: no >5.
    """
    fd = unhex(fd)
    starts = {">:": ("B", 104), ">;": ("C", 105)}
    subset, start = starts[fd[:2]]
    values = [start]
    i = 2
    while i < len(fd):
        if fd[i] == ">":
            code = fd[i + 1]
            i += 2
            if code == "0" and subset == "B":  # a literal > in subset B
                values.append(30)
            elif code == "8":
                values.append(102)
            elif code == "6" and subset == "C":
                values.append(100)
                subset = "B"
            elif code == "7" and subset in "BC":
                values.append(101)
                subset = "A"
            else:
                raise AssertionError(f"invocation >{code} in subset {subset} is not read alike by every renderer")
        elif subset in "AC":
            assert fd[i : i + 2].isdigit(), f"subset {subset} needs digit pairs at {fd[i:]!r}"
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


def datamatrix_text(fd: str, escape: str = "_") -> str:
    """Interpret ^BX field data (^FH hex escapes) with its escape character: FNC1 shown as GS.

    GS1 data starts with FNC1; the escape character appears nowhere else except as FNC1.
    """
    fd = unhex(fd)
    out, i = [], 0
    while i < len(fd):
        if fd[i] == escape:
            assert fd[i + 1] == "1", f"unexpected escape {fd[i : i + 2]!r}"
            out.append(GS)
            i += 2
        else:
            out.append(fd[i])
            i += 1
    text = "".join(out)
    return text[1:] if text.startswith(GS) else text


def datamatrix_is_gs1(fd: str, escape: str) -> bool:
    return unhex(fd).startswith(escape + "1")


def bracketed(label: LotLabel) -> str:
    return "".join(f"[{ai}]{value}" for ai, value in expected_fields(label).items())

"""Lot labels: data checks, ZPL field data, and every ZPL barcode decoding back at printer dots."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import numpy as np
import pytest
import segno
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st

from labels import (
    SIZES,
    LabelDataError,
    LabelFitError,
    LabelSizeError,
    LotLabel,
    to_pdf,
    to_png,
    to_svg,
    to_zpl,
)
from labels.symbols import (
    ZplSymbolError,
    datamatrix_matrix,
    datamatrix_size_upper,
    linear_codes,
    zpl_code128_field,
    zpl_datamatrix_field,
)
from tests.helpers.labels import (
    CSET82,
    GTIN,
    THERMAL,
    assert_reads,
    bracketed,
    code128_modules,
    code128_values,
    datamatrix_is_gs1,
    datamatrix_text,
    expected_plain,
    expected_text,
    expected_url,
    found,
    jam,
    raster,
    read,
    sku_only,
    unhex,
    zpl_fields,
)

# --- the label's data ------------------------------------------------------------------------


@pytest.mark.parametrize("lot", ["26 1030", "lot-é", "", "A" * 21, "LOT#1"])
def test_lot_codes_gs1_cannot_carry_are_refused(lot: str) -> None:
    with pytest.raises(LabelDataError, match="lot code"):
        jam(lot_code=lot)


@pytest.mark.parametrize("sku", ["S" * 31, "RJ 340", "crème"])
def test_skus_a_barcode_cannot_carry_are_refused_when_there_is_no_gtin(sku: str) -> None:
    with pytest.raises(LabelDataError, match="sku"):
        jam(gtin=None, sku=sku)


@pytest.mark.parametrize("lot", ["lot-é", "", "A" * 41, "A\x1dB", " A"])
def test_lot_codes_a_plain_barcode_cannot_carry_are_refused(lot: str) -> None:
    with pytest.raises(LabelDataError, match="lot code"):
        sku_only(lot_code=lot)


def test_a_plain_label_takes_lot_codes_gs1_would_refuse() -> None:
    label = sku_only(lot_code="A^B~C\\D 1#")
    assert label.url == "https://lots.example.com/lots/find?sku=CB-BASE_2&code=A%5EB~C%5CD%201%23"


def test_other_bad_label_data_is_refused() -> None:
    with pytest.raises(LabelDataError, match="check digit"):
        jam(gtin="09506000134353")
    with pytest.raises(LabelDataError, match="base URL"):
        jam(base_url="lots.example.com")
    with pytest.raises(LabelDataError, match="control characters"):
        jam(product_name="Jam\x1d")
    with pytest.raises(LabelDataError, match="product name"):
        jam(product_name=" ")


def test_quantity_is_printed_without_trailing_zeros_or_exponent() -> None:
    assert jam().quantity_text == "12.5 jars"
    assert jam(quantity=Decimal("1E+2"), unit="kg").quantity_text == "100 kg"
    assert jam(quantity=None).quantity_text == ""


def test_the_digital_link_comes_from_the_label() -> None:
    assert jam().url == "https://lots.example.com/01/09506000134352/10/261030-A?17=261231"
    assert sku_only().url == expected_url(sku_only())


# --- ZPL -------------------------------------------------------------------------------------


@pytest.mark.parametrize("dpi", [203, 300])
@pytest.mark.parametrize("size", THERMAL)
@pytest.mark.parametrize("make", [jam, sku_only], ids=["gtin", "sku"])
def test_zpl_barcodes_decode_back_at_printer_dots(make: Callable[[], LotLabel], size: str, dpi: int) -> None:
    label = make()
    zpl = to_zpl(label, size, dpi)
    assert zpl.startswith("^XA") and zpl.rstrip().endswith("^XZ")
    width = int(found(r"\^PW(\d+)", zpl))
    assert width == round(SIZES[size].width_in * dpi)
    fields = zpl_fields(zpl)
    smallest = {203: {"BC": 2, "BX": 3, "BQ": 3}, 300: {"BC": 3, "BX": 4, "BQ": 4}}[dpi]
    seen = set()
    for field in fields:
        x = int(found(r"\^FO(\d+),", field))
        if "^BC" in field:
            seen.add("BC")
            module = int(found(r"\^BY(\d+)\^", field))
            height = int(found(r"\^BCN,(\d+),N,N,N,N\^FH\\\^FD", field))
            assert module >= smallest["BC"]
            fd = found(r"\^FD(.*)\^FS", field)
            values = code128_values(fd)
            if label.gtin:
                assert values[:2] == [105, 102], "start C then FNC1"
            else:
                assert 102 not in values, "no FNC1: a plain Code 128"
            modules = code128_modules(values)
            # Quiet zones of 10 modules fit inside the label.
            assert x >= 10 * module and x + (len(modules) + 10) * module <= width
            [result] = read(raster([modules], module, height))
            assert result.format == zxingcpp.BarcodeFormat.Code128
            assert_reads(result, label)
        elif "^BX" in field:
            seen.add("BX")
            module, escape = found(r"\^BXN,(\d+,200,,,,.)\^FH\\\^FD", field).split(",200,,,,")
            assert int(module) >= smallest["BX"]
            fd = found(r"\^FD(.*)\^FS", field)
            assert datamatrix_is_gs1(fd, escape) == bool(label.gtin)
            assert datamatrix_text(fd, escape) == expected_text(label)
            symbol = zxingcpp.create_barcode(
                bracketed(label) if label.gtin else expected_plain(label), zxingcpp.BarcodeFormat.DataMatrix,
                gs1=bool(label.gtin), force_square=True
            )
            image = np.asarray(symbol.to_image(scale=int(module), add_quiet_zones=True))
            [result] = read(image)
            assert_reads(result, label)
        elif "^BQ" in field:
            seen.add("BQ")
            module = int(found(r"\^BQN,2,(\d+)\^FH", field))
            assert smallest["BQ"] <= module <= 10
            fd = unhex(found(r"\^FD(.*)\^FS", field))
            assert fd == "MA," + expected_url(label)
            qr = segno.make(fd[3:], error="m", boost_error=False)
            rows = ["".join("1" if v else "0" for v in row) for row in qr.matrix]
            [result] = read(raster(rows, module))
            assert result.text == expected_url(label)
    assert "BX" in seen, "every label carries a DataMatrix"
    if size == "2x1":
        assert seen == {"BX"}, "a 2×1 in label holds the DataMatrix and text only"
    else:
        assert "BC" in seen


@pytest.mark.parametrize("size", THERMAL)
def test_zpl_text_carries_what_people_read(size: str) -> None:
    zpl = to_zpl(jam(), size)
    for text in ("Raspberry Jam 340 g", "LOT 261030-A", "EXP 2026-12-31"):
        assert f"^FD{text}^FS" in zpl
    if size != "2x1":
        assert "^FD(01)09506000134352(17)261231(10)261030-A^FS" in zpl
        assert "QTY 12.5 jars" in zpl
    assert "^FDNo expiry^FS" in to_zpl(jam(expiry=None), size)


def test_zpl_escapes_characters_that_would_start_commands() -> None:
    zpl = to_zpl(jam(company="A^B~C\\D", product_name="Crème brûlée"), "4x6")
    assert "^CI28" in zpl  # UTF-8 text
    assert "A\\5EB\\7EC\\5CD" in zpl
    assert "Crème brûlée" in zpl
    for field in zpl_fields(zpl):
        data = found(r"\^FD(.*)\^FS", field)
        assert "^" not in data and "~" not in data


def test_zpl_field_data_uses_only_codes_every_renderer_reads_alike() -> None:
    data = jam().barcode_data
    # Start C + FNC1, the digits in pairs, then subset B once for the lot's letters; never back to C.
    assert zpl_code128_field(linear_codes(data)) == ">;>801095060001343521726123110261030>6-A"
    assert zpl_datamatrix_field(data) == ("_", "_101095060001343521726123110261030-A")
    # A one-character lot: the last digit pair of (10) goes to subset B with it, so it never directly
    # follows the switch (a renderer drops such a last character).
    one = jam(lot_code="x").barcode_data
    assert zpl_code128_field(linear_codes(one)) == ">;>8010950600013435217261231>610x"
    plain = sku_only(lot_code="B(7)>x_1^~\\").barcode_data
    assert zpl_code128_field(linear_codes(plain)) == ">:CB-BASE_2 B(7)>0x_1\\5E\\7E\\5C"
    # The DataMatrix escape character is one the data does not hold; a plain DataMatrix has no FNC1.
    assert zpl_datamatrix_field(plain) == ("`", "CB-BASE_2 B(7)>x_1\\5E\\7E\\5C")
    # A last character after '>' goes in subset A as a digit pair; a lower-case one cannot.
    assert zpl_code128_field(linear_codes(sku_only(lot_code="A>B").barcode_data)).endswith("A>0>734")
    with pytest.raises(ZplSymbolError):
        zpl_code128_field(linear_codes(sku_only(lot_code="a>b").barcode_data))


def test_a_code128_no_renderer_draws_alike_is_left_off_the_zpl_label_and_the_label_says_so() -> None:
    label = sku_only(lot_code="a>b")
    zpl = to_zpl(label, "4x6")
    assert "^BC" not in zpl
    assert "Code 128 barcode left off" in zpl
    escape, fd = found(r"\^BXN,\d+,200,,,,(.\^FH\\\^FD.*?)\^FS", zpl).split("^FH\\^FD")
    assert escape == "`" and datamatrix_text(fd, escape) == "CB-BASE_2 a>b"


# --- any lot round-trips through the linear symbol and the ZPL field data ---------------------


gs1_text = st.text(alphabet=CSET82, min_size=1)
printable = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=40).map(
    str.strip).filter(bool)


@settings(max_examples=60, deadline=None)
@given(
    lot=gs1_text.filter(lambda s: len(s) <= 20) | printable,
    sku=gs1_text.filter(lambda s: len(s) <= 30),
    use_gtin=st.booleans(),
    expiry=st.none() | st.dates(date(2000, 1, 1), date(2049, 12, 31)),
)
def test_any_lot_round_trips(lot: str, sku: str, use_gtin: bool, expiry: date | None) -> None:
    use_gtin = use_gtin and bool(re.fullmatch(f"[{re.escape(CSET82)}]{{1,20}}", lot))
    label = jam(lot_code=lot, sku=sku, gtin=GTIN if use_gtin else None, expiry=expiry)
    codes = linear_codes(label.barcode_data)
    try:
        field = zpl_code128_field(codes)
    except ZplSymbolError:
        assert re.search(r">[`a-z{|}~]$", lot), lot
    else:
        assert code128_values(field) == list(codes)
    escape, fd = zpl_datamatrix_field(label.barcode_data)
    assert datamatrix_text(fd, escape) == expected_text(label)
    [result] = read(raster([code128_modules(list(codes))], 2, 40))
    assert_reads(result, label)
    matrix = datamatrix_matrix(label.barcode_data)
    # Room kept on a ZPL label is enough for whatever DataMatrix the printer makes.
    assert len(matrix) <= datamatrix_size_upper(label.barcode_data)
    [result] = read(raster(["".join("1" if v else "0" for v in row) for row in matrix], 3))
    assert_reads(result, label)


# --- sizes and data that do not fit ----------------------------------------------------------


def test_unknown_sizes_sheets_and_resolutions_are_refused() -> None:
    label = jam()
    with pytest.raises(LabelSizeError, match="unknown label size"):
        to_zpl(label, "5x5")
    with pytest.raises(LabelSizeError, match="not a thermal label size"):
        to_zpl(label, "62mm")
    with pytest.raises(LabelSizeError, match="600 dpi"):
        to_zpl(label, "4x6", 600)
    with pytest.raises(LabelSizeError, match="600 dpi"):
        to_png(label, "4x6", 600)
    with pytest.raises(LabelSizeError, match="unknown label size"):
        to_pdf([label], "A7")
    with pytest.raises(LabelSizeError, match="unknown sheet"):
        to_pdf([label], sheet="letter-99")
    with pytest.raises(LabelSizeError, match="not both"):
        to_pdf([label], "4x2", sheet="letter-30")
    with pytest.raises(LabelSizeError, match="unknown label size"):
        to_svg(label, "4x8")
    with pytest.raises(LabelDataError, match="no labels"):
        to_pdf([])


def test_a_lot_code_too_wide_for_2x1_is_an_error_not_a_cut_or_shrunk_label() -> None:
    label = jam(lot_code="W" * 20)
    for render in (
        lambda: to_zpl(label, "2x1"),
        lambda: to_zpl(label, "2x1", 300),
        lambda: to_pdf([label], "2x1"),
        lambda: to_png(label, "2x1"),
        lambda: to_svg(label, "2x1"),
    ):
        with pytest.raises(LabelFitError, match=r"too long to print in full on a 2.*label"):
            render()
    assert issubclass(LabelFitError, LabelDataError)
    assert "LOT WWWWWWWWWWWWWWWWWWWW" in to_zpl(label, "4x2")


@pytest.mark.parametrize("dpi", [203, 300])
def test_a_code128_too_long_for_the_label_is_left_off_and_the_label_says_so(dpi: int) -> None:
    label = jam(gtin=None, sku="abcdefghijklmnopqrstuvwxyz-_()", lot_code="LOT_2026/12/31-li(7)")
    zpl = to_zpl(label, "4x2", dpi)
    assert "^BC" not in zpl
    text = " ".join(re.findall(r"\^FH\\\^FD(.*?)\^FS", zpl))
    assert "Code 128 barcode does not fit on 4×2 in; print a larger label" in text
    # The DataMatrix still carries everything, at a module no smaller than scans.
    module = int(found(r"\^BXN,(\d+),", zpl))
    assert module >= {203: 3, 300: 4}[dpi]
    escape, fd = found(r"\^BXN,\d+,200,,,,(.\^FH\\\^FD.*?)\^FS", zpl).split("^FH\\^FD")
    assert datamatrix_text(fd, escape) == expected_plain(label)


def test_gs1_data_refuses_a_trailing_newline_and_non_ascii_digits() -> None:
    import pytest

    from labels.gs1 import LabelDataError, LotBarcodeData

    with pytest.raises(LabelDataError):
        LotBarcodeData(lot="ABC\n", gtin="09501101530003")
    with pytest.raises(LabelDataError):
        LotBarcodeData(lot="ABC", sku="SKU\n")
    with pytest.raises(LabelDataError):
        LotBarcodeData(lot="ABC", gtin="0950110153000\u0663")
    with pytest.raises(LabelDataError):
        LotBarcodeData(lot="ABC", gtin="0950110153000\u00b2")

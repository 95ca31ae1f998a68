"""PDF, PNG and SVG lot labels: rasterised and decoded back, on every size, sheet and resolution."""

from __future__ import annotations

import dataclasses
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
import segno
import zxingcpp
from PIL import Image

from labels import SIZES, LotLabel, to_pdf, to_png, to_svg
from tests.helpers.labels import (
    assert_gs1,
    assert_reads,
    bracketed,
    by_format,
    expected_plain,
    expected_url,
    jam,
    parse_gs1,
    read,
    sku_only,
)

SINGLE = list(SIZES)
CODE128, DATAMATRIX, QR = "Code 128", "Data Matrix", "QR Code"
# What each size holds for the sample labels (the QR only where there is room for it).
EXPECTED = {
    "4x6": {CODE128, DATAMATRIX, QR},
    "4x2": {CODE128, DATAMATRIX, QR},
    "2x1": {DATAMATRIX},
    "100x50mm": {CODE128, DATAMATRIX, QR},
    "62mm": {CODE128, DATAMATRIX, QR},
}
SVG_NS = {"svg": "http://www.w3.org/2000/svg"}


def pdf_pages(pdf: bytes, dpi: int = 300) -> list[Image.Image]:
    document = pdfium.PdfDocument(pdf)
    # pdfium keeps page sizes as 32-bit floats and pypdfium2 rounds the bitmap size up, then
    # stretches the page to fill it; a hair under the nominal scale keeps one pixel per dot.
    scale = dpi / 72 * (1 - 1e-6)
    return [page.render(scale=scale).to_pil().convert("L") for page in document]


def pdf_text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    return "\n".join(page.get_textpage().get_text_range() for page in document)


def assert_label_decodes(results: list[zxingcpp.Barcode], label: LotLabel, expected: set[str]) -> None:
    found = by_format(results)
    assert set(found) == expected
    for name in (CODE128, DATAMATRIX):
        for result in found.get(name, []):
            assert_reads(result, label)
    for result in found.get(QR, []):
        assert result.text == expected_url(label)


def runs(row: np.ndarray) -> list[int]:
    """Lengths of the dark and light runs across a scanline, margins excluded."""
    dark = row < 128
    edges = np.flatnonzero(np.diff(dark.astype(np.int8))) + 1
    return [int(w) for w in np.diff(edges)]


def assert_whole_modules(image: Image.Image, result: zxingcpp.Barcode, smallest: int) -> None:
    """Every bar and space across the middle of a 1D symbol is a whole number of modules."""
    y = (result.position.top_left.y + result.position.bottom_left.y) // 2
    widths = runs(np.asarray(image)[y])
    module = min(widths)
    assert module >= smallest
    assert all(w % module == 0 for w in widths), widths


@pytest.mark.parametrize("make", [jam, sku_only], ids=["gtin", "sku"])
@pytest.mark.parametrize("size", SINGLE)
def test_pdf_label_decodes_back(make: Callable[[], LotLabel], size: str) -> None:
    label = make()
    pdf = to_pdf([label], size)
    [page] = pdf_pages(pdf)
    spec = SIZES[size]
    assert page.size == pytest.approx((spec.width_in * 300, spec.height_in * 300), abs=2)
    results = read(page)
    assert_label_decodes(results, label, EXPECTED[size])
    for result in by_format(results).get(CODE128, []):
        if not spec.rotated:
            # 3 dots of 1/300 in = 0.254 mm, GS1's minimum X-dimension.
            assert_whole_modules(page, result, 3)
    text = pdf_text(pdf)
    for words in ("LOT", label.lot_code, "EXP 2026-12-31"):
        assert words in text


@pytest.mark.parametrize("dpi", [203, 300])
@pytest.mark.parametrize("size", SINGLE)
def test_png_label_decodes_back(size: str, dpi: int) -> None:
    label = jam()
    image = Image.open(io.BytesIO(to_png(label, size, dpi)))
    spec = SIZES[size]
    assert image.size == (round(spec.width_in * dpi), round(spec.height_in * dpi))
    assert image.info["dpi"] == pytest.approx((dpi, dpi), abs=0.01)
    results = read(image)
    assert_label_decodes(results, label, EXPECTED[size])
    for result in by_format(results).get(CODE128, []):
        if not spec.rotated:
            assert_whole_modules(image, result, {203: 2, 300: 3}[dpi])


def svg_raster(svg: str) -> np.ndarray:
    """Rasterise the barcode rectangles of one of our SVGs (viewBox units = pixels)."""
    root = ET.fromstring(svg)
    _, _, width, height = (int(v) for v in root.attrib["viewBox"].split())
    image = np.full((height, width), 255, np.uint8)
    label = root.find("svg:g[@id='label']", SVG_NS)
    assert label is not None
    assert "transform" not in label.attrib, "only unrotated sizes are rasterised here"
    for group in label.findall("svg:g", SVG_NS):
        if group.attrib["id"] == "text":
            continue
        for rect in group.findall("svg:rect", SVG_NS):
            x, y, w, h = (int(rect.attrib[k]) for k in ("x", "y", "width", "height"))
            image[y : y + h, x : x + w] = 0
    return np.pad(image, 20, constant_values=255)


@pytest.mark.parametrize("make", [jam, sku_only], ids=["gtin", "sku"])
@pytest.mark.parametrize("size", SINGLE)
def test_svg_is_well_formed_with_every_bar_and_module(make: Callable[[], LotLabel], size: str) -> None:
    label = make()
    svg = to_svg(label, size)
    root = ET.fromstring(svg)
    spec = SIZES[size]
    assert float(root.attrib["width"].removesuffix("in")) == pytest.approx(spec.width_in, abs=0.01)
    assert float(root.attrib["height"].removesuffix("in")) == pytest.approx(spec.height_in, abs=0.01)
    groups = {g.attrib["id"]: g for g in root.iter("{http://www.w3.org/2000/svg}g")}
    texts = "".join(t.text or "" for t in groups["text"])
    assert f"LOT {label.lot_code}" in texts and "EXP 2026-12-31" in texts

    if CODE128 in EXPECTED[size]:
        bars = groups["gs1-128" if label.gtin else "code-128"]
        module = int(bars.attrib["data-module"])
        characters = (int(bars.attrib["data-modules"]) - 13) // 11
        rects = bars.findall("svg:rect", SVG_NS)
        # Three bars per symbol character (start to check), four in stop + termination bar.
        assert len(rects) == 3 * characters + 4
        assert all(int(r.attrib["width"]) % module == 0 for r in rects)
        assert module >= 3
    dm = groups["gs1-datamatrix" if label.gtin else "datamatrix"]
    symbol = zxingcpp.create_barcode(bracketed(label) if label.gtin else expected_plain(label),
                                     zxingcpp.BarcodeFormat.DataMatrix, gs1=bool(label.gtin), force_square=True)
    dark = int((np.asarray(symbol.to_image(scale=1, add_quiet_zones=False)) == 0).sum())
    assert len(dm.findall("svg:rect", SVG_NS)) == dark
    assert int(dm.attrib["data-module"]) >= 4  # 0.339 mm
    if QR in EXPECTED[size]:
        qr = segno.make(expected_url(label), error="m", boost_error=False)
        dark = sum(sum(row) for row in qr.matrix)
        assert len(groups["qr"].findall("svg:rect", SVG_NS)) == dark

    if not spec.rotated:
        assert_label_decodes(read(svg_raster(svg)), label, EXPECTED[size])


def test_svg_escapes_text() -> None:
    svg = to_svg(jam(product_name="Fish & <Chips>"), "4x2")
    root = ET.fromstring(svg)
    assert any(t.text and "Fish & <Chips>" in t.text for t in root.iter("{http://www.w3.org/2000/svg}text"))


@pytest.mark.parametrize(("sheet", "per_page"), [("letter-30", 30), ("a4-21", 21)])
def test_sheets_fill_in_order_and_every_label_decodes(sheet: str, per_page: int) -> None:
    labels = [jam(lot_code=f"L{i:03d}-{sheet[:2].upper()}") for i in range(per_page + 2)]
    pages = pdf_pages(to_pdf(labels, sheet=sheet))
    assert len(pages) == 2
    first = [r for r in read(pages[0]) if r.format == zxingcpp.BarcodeFormat.DataMatrix]
    assert len(first) == per_page
    for result in first:
        assert result.content_type == zxingcpp.ContentType.GS1
    lots = {parse_gs1(r.text)["10"]: r for r in first}
    assert set(lots) == {label.lot_code for label in labels[:per_page]}
    for label in labels[:per_page]:
        assert_gs1(lots[label.lot_code], label)
    # Filled left to right, top to bottom: rows of three, each read left to right.
    by_y = sorted(first, key=lambda r: r.position.top_left.y)
    rows = [by_y[i : i + 3] for i in range(0, per_page, 3)]
    order = [r for row in rows for r in sorted(row, key=lambda r: r.position.top_left.x)]
    assert [parse_gs1(r.text)["10"] for r in order] == [x.lot_code for x in labels[:per_page]]
    second = read(pages[1])
    assert sorted(r.text for r in second) == sorted(
        f"01095060001343521726123110{label.lot_code}" for label in labels[per_page:]
    )


def test_thirty_distinct_lots_on_a_letter_sheet() -> None:
    labels = [dataclasses.replace(sku_only(), lot_code=f"B{i}>x_{i}", sku=f"SKU-{i % 7}") for i in range(30)]
    [page] = pdf_pages(to_pdf(labels, sheet="letter-30"))
    results = [r for r in read(page) if r.format == zxingcpp.BarcodeFormat.DataMatrix]
    assert len({r.text for r in results}) == 30
    texts = {r.text for r in results}
    assert texts == {f"{label.sku} {label.lot_code}" for label in labels}
    assert all(r.content_type == zxingcpp.ContentType.Text for r in results), "no GS1 marker without a GTIN"


def test_a_phone_photo_of_a_printed_4x2_label_decodes() -> None:
    label = jam()
    [page] = pdf_pages(to_pdf([label], "4x2"), dpi=150)
    paper = np.pad(np.asarray(page), 60, constant_values=255)
    # The label lying on a grey table, seen slightly from the side, a little out of focus.
    h, w = paper.shape
    scene = np.full((h + 200, w + 200), 90, np.uint8)
    scene[100 : 100 + h, 100 : 100 + w] = paper
    height, width = scene.shape
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    seen = np.array(
        [[width * 0.04, height * 0.06], [width * 0.97, 0], [width, height * 0.95], [0, height]],
        np.float32,
    )
    photo = cv2.warpPerspective(scene, cv2.getPerspectiveTransform(corners, seen), (width, height), borderValue=90)
    photo = cv2.GaussianBlur(photo, (0, 0), 1.0)
    noise = np.random.default_rng(7).normal(0, 4, photo.shape)
    photo = np.clip(photo + noise, 0, 255).astype(np.uint8)
    found = by_format(read(photo))
    [datamatrix] = found[DATAMATRIX]
    assert_gs1(datamatrix, label)


def test_the_62mm_roll_label_is_portrait_with_the_content_along_the_roll() -> None:
    label = jam()
    [page] = pdf_pages(to_pdf([label], "62mm"))
    width, height = page.size
    assert width < height
    results = by_format(read(page))
    [bars] = results[CODE128]
    assert abs(bars.orientation) == 90
    image = Image.open(io.BytesIO(to_png(label, "62mm", 300)))
    assert image.size == (round(62 / 25.4 * 300), round(100 / 25.4 * 300))
    assert re.search(r'transform="translate\(0,\d+\) rotate\(-90\)"', to_svg(label, "62mm"))


@pytest.mark.parametrize("size", SINGLE)
def test_long_texts_are_cut_short_never_the_barcodes_or_the_lot(size: str) -> None:
    label = jam(
        company="The Very Long Name of a Family Preserves Company Limited " * 2,
        product_name="Raspberry and Rose Petal Jam with Madagascan Vanilla, Reduced Sugar " * 2,
        free_text="Allergens: none. " * 40,
        lot_code="2026-10-30-LINE3-B07",
    )
    pdf = to_pdf([label], size)
    [page] = pdf_pages(pdf)
    images = [page] + [Image.open(io.BytesIO(to_png(label, size, dpi))) for dpi in (203, 300)]
    for image in images:
        found = by_format(read(image))
        # A 20-character lot makes the GS1-128 longer than any of these labels is wide at
        # GS1's smallest X-dimension; the DataMatrix carries it, and the QR where it fits.
        assert CODE128 not in found
        [datamatrix] = found[DATAMATRIX]
        assert_gs1(datamatrix, label)
        assert all(qr.text == expected_url(label) for qr in found.get(QR, []))
    text = pdf_text(pdf)
    assert "LOT 2026-10-30-LINE3-B07" in text
    assert "…" in text
    if size != "2x1":
        assert "GS1-128 barcode does not fit on" in text

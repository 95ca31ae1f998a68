"""Every label the demo company prints passes GS1's syntax rules, or carries no GS1 marker at all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Lot
from app.queries.labels import LabelSite, lot_label
from labels import LotLabel, to_pdf
from labels.gs1 import barcode_text
from labels.symbols import ZplSymbolError, linear_codes, zpl_code128_field, zpl_datamatrix_field
from tests.helpers.api import make_app
from tests.helpers.databases import clone, drop_database
from tests.helpers.gs1_rules import GS, digital_link_problems, element_string_problems, hri, problems
from tests.helpers.labels import code128_values, datamatrix_is_gs1, datamatrix_text


@pytest.fixture(scope="module")
def demo_labels(demo_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[LotLabel]]:
    """The label of every lot of the demo company, as the label pages and the API make them."""
    folder: Path = tmp_path_factory.mktemp("demo-labels")
    url = clone(demo_template, folder)
    app: Flask = make_app(url, folder)
    site = LabelSite.from_config(app.config)
    with app.extensions["lotwise.sessions"]() as s:
        session: Session = s
        labels = [lot_label(lot, site) for lot in session.scalars(select(Lot).order_by(Lot.id))]
    yield labels
    app.extensions["lotwise.engine"].dispose()
    drop_database(url)


def code128_text(values: list[int]) -> tuple[bool, str]:
    """(starts with FNC1, the data with later FNC1s as GS) of Code 128 values read from ZPL."""
    out, subset, gs1 = [], {103: "A", 104: "B", 105: "C"}[values[0]], False
    for i, v in enumerate(values[1:]):
        if v == 102:
            if i == 0:
                gs1 = True
            else:
                out.append(GS)
        elif v == 100:
            subset = "B"
        elif v == 101:
            subset = "A"
        elif subset == "C":
            out.append(f"{v:02d}")
        else:
            out.append(chr(v + 32))
    return gs1, "".join(out)


def test_every_demo_label_in_every_format_passes_gs1_rules_or_is_plain(demo_labels: list[LotLabel]) -> None:
    assert len(demo_labels) > 100
    kinds = {"gs1": 0, "plain": 0}
    for label in demo_labels:
        data = label.barcode_data
        gs1 = bool(label.gtin)
        kinds["gs1" if gs1 else "plain"] += 1
        # What the ZPL asks a printer to encode, read back as every renderer reads it.
        try:
            values = code128_values(zpl_code128_field(linear_codes(data)))
        except ZplSymbolError:
            values = None  # left off the thermal label, which says so; the DataMatrix carries the lot
        escape, fd = zpl_datamatrix_field(data)
        carried = [datamatrix_text(fd, escape)]
        assert datamatrix_is_gs1(fd, escape) == gs1, label.lot_code
        if values is not None:
            fnc1, text = code128_text(values)
            assert fnc1 == gs1, label.lot_code
            carried.append(text)
        if gs1:
            for text in carried:
                assert element_string_problems(text) == [], (label.sku, label.lot_code, text)
            assert problems(hri(barcode_text(data))) == []
            assert digital_link_problems(label.url) == [], label.url
        else:
            for text in carried:
                assert GS not in text and text == f"{label.sku} {label.lot_code}"
            assert digital_link_problems(label.url) == ["No GS1 DL keys found in path info"]
    assert kinds["gs1"] and kinds["plain"], kinds


def test_the_pdf_of_one_lot_per_product_reads_as_gs1_that_passes_or_as_plain_text(
        demo_labels: list[LotLabel]) -> None:
    one_each = list({label.sku: label for label in demo_labels}.values())
    pdf = pdfium.PdfDocument(to_pdf(one_each, "4x6"))
    for label, page in zip(one_each, pdf, strict=True):
        image = page.render(scale=300 / 72 * (1 - 1e-6)).to_pil().convert("L")
        results = zxingcpp.read_barcodes(image, text_mode=zxingcpp.TextMode.Plain)
        assert {str(r.format) for r in results} == {"Code 128", "Data Matrix", "QR Code"}, label.sku
        for r in results:
            if r.format == zxingcpp.BarcodeFormat.QRCode:
                continue
            if label.gtin:
                assert r.content_type == zxingcpp.ContentType.GS1
                assert element_string_problems(r.text) == [], (label.sku, r.text)
            else:
                assert r.content_type == zxingcpp.ContentType.Text and r.text == f"{label.sku} {label.lot_code}"

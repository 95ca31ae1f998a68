"""Label files from the API: every format decodes back to its lot; bad data and sizes are refused by name."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
import zxingcpp
from flask import Flask
from PIL import Image
from sqlalchemy.orm import Session

from app.errors import Invalid, NotFound
from app.models import Role
from app.queries.labels import LabelSite, labels_for_lots
from tests.helpers.api import Api
from tests.helpers.label_files import (
    digital_link,
    expected,
    formats,
    gs1_reads,
    pdf_pages,
    pdf_text,
    read,
    read_out,
    receive_two,
    zpl_reads,
)

GS = "\x1d"
CODE128 = zxingcpp.BarcodeFormat.Code128
DATAMATRIX = zxingcpp.BarcodeFormat.DataMatrix
QR = zxingcpp.BarcodeFormat.QRCode


# --- PDF ---------------------------------------------------------------------------------------


def test_a_receipts_pdf_opens_inline_and_every_label_decodes_back_to_its_lot(api: Api, site: dict, app: Flask) -> None:
    receipt = receive_two(api, site)
    r = api.get(f"/labels/receipts/{receipt['id']}.pdf?size=4x6")
    assert r.status_code == 200
    assert r.content_type == "application/pdf"
    assert r.headers["Content-Disposition"] == f'inline; filename="labels-{receipt["number"]}.pdf"'
    pages = pdf_pages(r.data)
    texts = pdf_text(r.data)
    assert len(pages) == 2, "one 4×6 label per page, one per receipt line"
    for page, text, line in zip(pages, texts, receipt["lines"], strict=True):
        fields = expected(api, line["lot_id"])
        results = read(page)
        assert {res.format for res in results} == {CODE128, DATAMATRIX, QR}
        assert gs1_reads(results) == [fields, fields]
        [qr] = [res for res in results if res.format == QR]
        assert qr.text == digital_link(app, fields)
        # The quantity comes from the receipt line.
        assert f"QTY {Decimal(line['quantity']).normalize():f}" in text
        assert f"LOT {line['lot_code']}" in text


def test_a_sheet_pdf_holds_every_copy_and_each_decodes(api: Api, site: dict) -> None:
    receipt = receive_two(api, site)
    r = api.get(f"/labels/receipts/{receipt['id']}.pdf?size=a4-21&copies=3")
    assert r.status_code == 200
    [page] = pdf_pages(r.data)
    reads = [read_out(res.content_type, res.text) for res in read(page) if res.format == DATAMATRIX]
    assert len(reads) == 6
    wanted = [expected(api, line["lot_id"]) for line in receipt["lines"]]
    assert sorted(map(str, reads)) == sorted(map(str, [w for w in wanted for _ in range(3)]))


def test_a_production_runs_pdf_carries_the_output_lot_its_quantity_and_date(api: Api, site: dict) -> None:
    receipt = receive_two(api, site)
    rasp = receipt["lines"][0]["lot_id"]
    r = api.post("/production-runs", {"sku": "JAM-RASP", "quantity": "400", "location": "KITCHEN", "lot_code": "J2",
                                      "inputs": [{"lot_id": rasp, "quantity": "60"}]})
    assert r.status_code == 201, r.json
    run = r.json
    r = api.get(f"/labels/production-runs/{run['id']}.pdf?size=4x2")
    assert r.status_code == 200 and r.content_type == "application/pdf"
    [page] = pdf_pages(r.data)
    [text] = pdf_text(r.data)
    fields = expected(api, run["output_lot_id"])
    assert fields["10"] == "J2"
    assert all(read_ == fields for read_ in gs1_reads(read(page)))
    assert gs1_reads(read(page))
    assert "QTY 400 ea" in text
    assert f"PROD {run['produced_on']}" in text


def test_one_lots_pdf_png_and_svg_decode_back(api: Api, site: dict) -> None:
    receipt = receive_two(api, site)
    lot_id = receipt["lines"][1]["lot_id"]
    fields = expected(api, lot_id)
    r = api.get(f"/labels/lots/{lot_id}.pdf?size=100x50mm&copies=2")
    assert r.status_code == 200
    pages = pdf_pages(r.data)
    assert len(pages) == 2
    for page in pages:
        assert fields in gs1_reads(read(page))
    r = api.get(f"/labels/lots/{lot_id}.png?size=4x2&dpi=203")
    assert r.status_code == 200 and r.content_type == "image/png"
    assert r.headers["Content-Disposition"].startswith("inline;")
    image = Image.open(io.BytesIO(r.data))
    assert image.size == (812, 406), "4×2 in at 203 dpi, one pixel per printer dot"
    assert gs1_reads(read(np.asarray(image.convert("L")))) == [fields, fields]
    r = api.get(f"/labels/lots/{lot_id}.svg?size=4x2")
    assert r.status_code == 200 and r.content_type.startswith("image/svg+xml")
    svg = r.get_data(as_text=True)
    assert svg.startswith("<?xml") and "<title>Lot J1</title>" in svg
    assert 'id="gs1-datamatrix"' in svg and 'id="gs1-128"' in svg


def test_the_site_default_size_applies_when_none_is_asked_for(api: Api, site: dict) -> None:
    receipt = receive_two(api, site)
    lot_id = receipt["lines"][1]["lot_id"]
    assert api.patch("/label-settings", {"pdf_size": "letter-30", "zpl_size": "4x2", "zpl_dpi": 300}).status_code == 200
    [page] = pdf_pages(api.get(f"/labels/lots/{lot_id}.pdf").data)
    assert page.size == (2550, 3300), "a US Letter sheet at 300 dpi"
    zpl = api.get(f"/labels/lots/{lot_id}.zpl").get_data(as_text=True)
    assert "^PW1200" in zpl, "4 in at 300 dpi"
    png = Image.open(io.BytesIO(api.get(f"/labels/lots/{lot_id}.png").data))
    assert png.size == (1200, 600), "previews take the ZPL size when the PDF default is a sheet"


# --- ZPL ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "dpi", "width"), [("4x6", 203, 812), ("4x2", 300, 1200), ("100x50mm", 203, 799)])
def test_a_zpl_download_holds_each_copy_of_each_lot_and_its_barcodes_say_the_lot(
        api: Api, site: dict, app: Flask, size: str, dpi: int, width: int) -> None:
    receipt = receive_two(api, site)
    r = api.get(f"/labels/receipts/{receipt['id']}.zpl?size={size}&dpi={dpi}&copies=2")
    assert r.status_code == 200
    assert r.content_type == "application/vnd.zebra-zpl"
    assert r.headers["Content-Disposition"] == (
        f'attachment; filename="labels-{receipt["number"]}-{size}-{dpi}dpi.zpl"')
    zpl = r.get_data(as_text=True)
    labels = formats(zpl)
    assert "".join(labels) == zpl, "nothing but label formats"
    assert len(labels) == 4
    assert labels[0] == labels[1] and labels[2] == labels[3], "copies of a lot come out together"
    for label, line in zip(labels[::2], receipt["lines"], strict=True):
        fields = expected(api, line["lot_id"])
        assert f"^PW{width}" in label
        assert f"LOT {line['lot_code']}" in label
        reads = zpl_reads(label)
        kinds = [x.pop("kind") for x in reads]
        assert "datamatrix" in kinds and "qr" in kinds
        for kind, got in zip(kinds, reads, strict=True):
            assert got == ({"url": digital_link(app, fields)} if kind == "qr" else fields), kind


# --- refusals ----------------------------------------------------------------------------------


def test_a_lot_code_gs1_cannot_carry_is_refused_naming_the_lot(api: Api, site: dict) -> None:
    r = api.post("/receipts", {"supplier_id": site["supplier"], "lines": [
        {"sku": "JAM-RASP", "quantity": "5", "location": "COLD-01", "lot_code": "LOT 7"}]})
    assert r.status_code == 201, "the receipt schema allows a space in a lot code"
    receipt = r.json
    lot_id = receipt["lines"][0]["lot_id"]
    for path in (f"/labels/lots/{lot_id}.pdf", f"/labels/lots/{lot_id}.zpl", f"/labels/lots/{lot_id}.png",
                 f"/labels/receipts/{receipt['id']}.pdf", f"/labels/receipts/{receipt['id']}.zpl"):
        r = api.get(path)
        assert r.status_code == 422, path
        message = r.json["error"]["message"]
        assert "'LOT 7'" in message and "RASP" in message and "AI 10" in message, message


def test_a_lot_code_too_long_for_the_size_is_refused_naming_it(api: Api, site: dict) -> None:
    r = api.post("/receipts", {"supplier_id": site["supplier"], "lines": [
        {"sku": "JAM-RASP", "quantity": "5", "location": "COLD-01", "lot_code": "WWWWWWWWWWWWWWWWWWWW"}]})
    receipt = r.json
    r = api.get(f"/labels/receipts/{receipt['id']}.pdf?size=2x1")
    assert r.status_code == 422
    assert r.json["error"]["field"] == "size"
    assert "WWWWWWWWWWWWWWWWWWWW" in r.json["error"]["message"]
    assert "larger label" in r.json["error"]["message"]
    assert api.get(f"/labels/receipts/{receipt['id']}.pdf?size=4x6").status_code == 200


@pytest.mark.parametrize(("query", "field", "words"), [
    ("size=5x7", "size", "'5x7' is not a thermal label size; choose one of 4x6, 4x2, 2x1, 100x50mm"),
    ("size=62mm", "size", "'62mm' is not a thermal label size"),
    ("size=letter-30", "size", "'letter-30' is not a thermal label size"),
    ("dpi=250", "dpi", "203 or 300"),
    ("copies=0", "copies", "greater than or equal to 1"),
    ("copies=101", "copies", "less than or equal to 100"),
    ("colour=red", "colour", "Extra inputs"),
])
def test_bad_zpl_options_are_refused_by_name(api: Api, site: dict, query: str, field: str, words: str) -> None:
    lot_id = receive_two(api, site)["lines"][0]["lot_id"]
    r = api.get(f"/labels/lots/{lot_id}.zpl?{query}")
    assert r.status_code == 422, r.json
    assert r.json["error"]["field"] == field
    assert words in r.json["error"]["message"]


def test_an_unknown_pdf_or_preview_size_is_refused_naming_the_choices(api: Api, site: dict) -> None:
    lot_id = receive_two(api, site)["lines"][0]["lot_id"]
    r = api.get(f"/labels/lots/{lot_id}.pdf?size=A4")
    assert r.status_code == 422 and r.json["error"]["field"] == "size"
    assert "'A4' is not a label size or sheet; choose one of 4x6, 4x2, 2x1, 100x50mm, 62mm, letter-30, a4-21" in (
        r.json["error"]["message"])
    r = api.get(f"/labels/lots/{lot_id}.png?size=letter-30")
    assert r.status_code == 422 and "'letter-30' is not a label size" in r.json["error"]["message"]


def test_too_many_labels_at_once_are_refused(api: Api, site: dict) -> None:
    receipt = receive_two(api, site)
    r = api.get(f"/labels/receipts/{receipt['id']}.zpl?copies=100")
    assert r.status_code == 200
    lines = [{"sku": "RASP", "quantity": "1", "location": "COLD-01", "lot_code": f"M{i}"} for i in range(11)]
    big = api.post("/receipts", {"supplier_id": site["supplier"], "lines": lines}).json
    r = api.get(f"/labels/receipts/{big['id']}.pdf?copies=100")
    assert r.status_code == 422
    assert r.json["error"] == {"code": "invalid", "field": "copies",
                               "message": "that is 1100 labels (11 × 100 copies); print at most 1000 at a time"}


def test_unknown_documents_are_404(api: Api, site: dict) -> None:
    for path, words in (("/labels/lots/999.pdf", "lot 999"), ("/labels/receipts/999.zpl", "receipt 999"),
                        ("/labels/production-runs/999.pdf", "production run 999")):
        r = api.get(path)
        assert r.status_code == 404, path
        assert words in r.json["error"]["message"]


def test_operators_print_label_files_and_viewers_only_preview(api: Api, api_as: Any, site: dict) -> None:
    receipt = receive_two(api, site)
    lot_id = receipt["lines"][0]["lot_id"]
    viewer, operator = api_as(Role.VIEWER), api_as(Role.OPERATOR)
    for path in (f"/labels/lots/{lot_id}.pdf", f"/labels/lots/{lot_id}.zpl", f"/labels/receipts/{receipt['id']}.pdf",
                 f"/labels/receipts/{receipt['id']}.zpl"):
        r = viewer.get(path)
        assert r.status_code == 403 and "operator" in r.json["error"]["message"], path
        assert operator.get(path).status_code == 200, path
    assert viewer.get(f"/labels/lots/{lot_id}.png").status_code == 200
    assert viewer.get(f"/labels/lots/{lot_id}.svg").status_code == 200
    assert api.client.get(f"/api/v1/labels/lots/{lot_id}.pdf").status_code == 401


# --- for pick lists ----------------------------------------------------------------------------


def test_labels_for_lots_keeps_the_order_repeats_and_quantities_of_a_pick_list(
        api: Api, site: dict, session: Session, app: Flask) -> None:
    receipt = receive_two(api, site)
    rasp, jam = (line["lot_id"] for line in receipt["lines"])
    labels_site = LabelSite.from_config(app.config)
    batch = labels_for_lots(session, [jam, rasp, jam], [Decimal(12), None, Decimal("2.5")], site=labels_site)
    assert [(x.lot_code, x.quantity) for x in batch.labels] == [("J1", 12), ("R-7/A", None), ("J1", Decimal("2.5"))]
    assert batch.lot_ids == [jam, rasp, jam]
    assert batch.labels[0].company == app.config["COMPANY_NAME"]
    assert batch.labels[0].base_url == app.config["BASE_URL"]
    assert batch.labels[1].free_text == f"Received {receipt['received_on']} from Berry Farm, their lot RB-7731"
    assert batch.subject == "2 lots"
    with pytest.raises(Invalid, match="2 quantities for 3 lots"):
        labels_for_lots(session, [jam, rasp, jam], [Decimal(1), Decimal(2)], site=labels_site)
    with pytest.raises(NotFound, match="lot 999 does not exist"):
        labels_for_lots(session, [jam, 999], site=labels_site)


# --- the OpenAPI document ----------------------------------------------------------------------


def test_label_files_are_documented_as_binary_responses(api: Api) -> None:
    doc = api.client.get("/api/openapi.json", headers=api.headers).json
    paths = doc["paths"]
    for path, media in (("/api/v1/labels/lots/{lot_id}.pdf", "application/pdf"),
                        ("/api/v1/labels/lots/{lot_id}.zpl", "application/vnd.zebra-zpl"),
                        ("/api/v1/labels/lots/{lot_id}.png", "image/png"),
                        ("/api/v1/labels/lots/{lot_id}.svg", "image/svg+xml"),
                        ("/api/v1/labels/receipts/{receipt_id}.pdf", "application/pdf"),
                        ("/api/v1/labels/receipts/{receipt_id}.zpl", "application/vnd.zebra-zpl"),
                        ("/api/v1/labels/production-runs/{run_id}.pdf", "application/pdf"),
                        ("/api/v1/labels/production-runs/{run_id}.zpl", "application/vnd.zebra-zpl")):
        op = paths[path]["get"]
        assert op["responses"]["200"]["content"] == {media: {"schema": {"type": "string", "format": "binary"}}}
        assert {"401", "403", "404", "422"} <= set(op["responses"]), path
        assert "size" in {p["name"] for p in op["parameters"] if p["in"] == "query"}
    printing = paths["/api/v1/labels/print"]["post"]
    assert {"201", "404", "409", "422", "502", "504"} <= set(printing["responses"])
    assert "Idempotency-Key" in {p["name"] for p in printing["parameters"]}
    assert set(paths["/api/v1/printers"]) == {"get", "post"}
    assert set(paths["/api/v1/printers/{printer_id}"]) == {"get", "patch"}
    assert set(paths["/api/v1/label-settings"]) == {"get", "patch"}

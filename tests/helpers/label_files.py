"""Label files from the API as tests read them: two received lots, what their barcodes must say, and decoding."""

from __future__ import annotations

import re
from typing import Any

import pypdfium2 as pdfium
import zxingcpp
from flask import Flask
from PIL import Image

from tests.helpers.api import Api
from tests.helpers.labels import code128_modules, code128_values, datamatrix_text, found, raster, unhex, zpl_fields

GS = "\x1d"
CODE128 = zxingcpp.BarcodeFormat.Code128
DATAMATRIX = zxingcpp.BarcodeFormat.DataMatrix


# --- what each lot's barcodes must say, from the lot as the API reports it ----------------------


def receive_two(api: Api, site: dict[str, Any]) -> dict[str, Any]:
    """A receipt of raspberries (no GTIN: AI 240) and jam (GTIN), with lot codes GS1 allows."""
    r = api.post("/receipts", {"supplier_id": site["supplier"], "reference": "DN-77", "lines": [
        {"sku": "RASP", "quantity": "100", "location": "COLD-01", "lot_code": "R-7/A",
         "supplier_lot_code": "RB-7731", "expiry": "2027-01-31"},
        {"sku": "JAM-RASP", "quantity": "24", "location": "DRY-01", "lot_code": "J1", "expiry": "2027-06-30"}]})
    assert r.status_code == 201, r.json
    return r.json  # type: ignore[no-any-return]


def expected(api: Api, lot_id: int) -> dict[str, str]:
    """{AI: value} a scanner must read from the lot's GS1 barcodes."""
    lot = api.get(f"/lots/{lot_id}").json
    product = next(p for p in api.get("/products").json if p["sku"] == lot["sku"])
    fields = {"01": product["gtin"]} if product["gtin"] else {"240": lot["sku"]}
    if lot["expiry"]:
        fields["17"] = lot["expiry"][2:4] + lot["expiry"][5:7] + lot["expiry"][8:10]
    fields["10"] = lot["code"]
    return fields


def parse_gs1(text: str) -> dict[str, str]:
    """A decoded element string (GS separators) as {AI: value} for the AIs lot labels carry."""
    fixed = {"01": 14, "17": 6}
    out: dict[str, str] = {}
    i = 0
    while i < len(text):
        ai = next(a for a in ("01", "17", "10", "240") if text.startswith(a, i))
        i += len(ai)
        if ai in fixed:
            out[ai] = text[i: i + fixed[ai]]
            i += fixed[ai]
        else:
            end = text.find(GS, i)
            end = len(text) if end < 0 else end
            out[ai] = text[i:end]
            i = end + 1
    return out


def read(image: Any) -> list[zxingcpp.Barcode]:
    return zxingcpp.read_barcodes(image, text_mode=zxingcpp.TextMode.Plain)


def pdf_pages(pdf: bytes, dpi: int = 300) -> list[Image.Image]:
    document = pdfium.PdfDocument(pdf)
    # A hair under the nominal scale keeps one pixel per layout dot (pdfium rounds page sizes up).
    return [page.render(scale=dpi / 72 * (1 - 1e-6)).to_pil().convert("L") for page in document]


def pdf_text(pdf: bytes) -> list[str]:
    return [page.get_textpage().get_text_range() for page in pdfium.PdfDocument(pdf)]


def gs1_reads(results: list[zxingcpp.Barcode]) -> list[dict[str, str]]:
    """What the GS1 barcodes (GS1-128 and GS1 DataMatrix) of one label say."""
    reads = []
    for r in results:
        if r.format in (CODE128, DATAMATRIX):
            assert r.content_type == zxingcpp.ContentType.GS1, r.text
            reads.append(parse_gs1(r.text))
    return reads


def digital_link(app: Flask, fields: dict[str, str]) -> str:
    key = f"01/{fields['01']}" if "01" in fields else f"240/{fields['240']}"
    lot = fields["10"].replace("/", "%2F")
    return f"{app.config['BASE_URL']}/{key}/10/{lot}" + (f"?17={fields['17']}" if "17" in fields else "")


def zpl_reads(zpl: str) -> list[dict[str, str]]:
    """Decode one ZPL label's GS1-128 (drawn at printer dots) and read its DataMatrix and QR data."""
    out: list[dict[str, str]] = []
    for field in zpl_fields(zpl):
        if "^BC" in field:
            module = int(found(r"\^BY(\d+)\^", field))
            modules = code128_modules(code128_values(found(r"\^FD(.*)\^FS", field)))
            [result] = read(raster([modules], module, 60))
            assert result.content_type == zxingcpp.ContentType.GS1
            out.append({"kind": "gs1-128", **parse_gs1(result.text)})
        elif "^BX" in field:
            out.append({"kind": "datamatrix", **parse_gs1(datamatrix_text(found(r"\^FD(.*)\^FS", field)))})
        elif "^BQ" in field:
            out.append({"kind": "qr", "url": unhex(found(r"\^FD(.*)\^FS", field)).removeprefix("MA,")})
    return out


def formats(zpl: str) -> list[str]:
    """The label formats (^XA … ^XZ) in a ZPL stream."""
    return re.findall(r"\^XA.*?\^XZ\n", zpl, flags=re.S)

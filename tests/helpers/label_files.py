"""Label files from the API as tests read them: two received lots, what their barcodes must say, and decoding."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pypdfium2 as pdfium
import zxingcpp
from flask import Flask
from PIL import Image

from tests.helpers.api import Api
from tests.helpers.labels import (
    code128_modules,
    code128_values,
    datamatrix_is_gs1,
    datamatrix_text,
    found,
    raster,
    unhex,
    zpl_fields,
)

GS = "\x1d"
CODE128 = zxingcpp.BarcodeFormat.Code128
DATAMATRIX = zxingcpp.BarcodeFormat.DataMatrix


# --- what each lot's barcodes must say, from the lot as the API reports it ----------------------


def receive_two(api: Api, site: dict[str, Any]) -> dict[str, Any]:
    """A receipt of raspberries (no GTIN: plain barcodes) and jam (GTIN: GS1), with lot codes GS1 allows."""
    r = api.post("/receipts", {"supplier_id": site["supplier"], "reference": "DN-77", "lines": [
        {"sku": "RASP", "quantity": "100", "location": "COLD-01", "lot_code": "R-7/A",
         "supplier_lot_code": "RB-7731", "expiry": "2027-01-31"},
        {"sku": "JAM-RASP", "quantity": "24", "location": "DRY-01", "lot_code": "J1", "expiry": "2027-06-30"}]})
    assert r.status_code == 201, r.json
    return r.json  # type: ignore[no-any-return]


def expected(api: Api, lot_id: int) -> dict[str, str]:
    """{AI: value} a scanner must read from the lot's GS1 barcodes, or {"plain": "SKU LOT"} without a GTIN."""
    lot = api.get(f"/lots/{lot_id}").json
    product = next(p for p in api.get("/products").json if p["sku"] == lot["sku"])
    if not product["gtin"]:
        return {"plain": f"{lot['sku']} {lot['code']}"}
    fields = {"01": product["gtin"]}
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


def read_out(content_type: zxingcpp.ContentType, text: str) -> dict[str, str]:
    """A Code 128 or DataMatrix read: GS1 fields, or {"plain": text} for a barcode without a GS1 marker."""
    if content_type == zxingcpp.ContentType.GS1:
        return parse_gs1(text)
    assert content_type == zxingcpp.ContentType.Text, text
    return {"plain": text}


def gs1_reads(results: list[zxingcpp.Barcode]) -> list[dict[str, str]]:
    """What the Code 128 and DataMatrix of one label say (GS1 fields, or plain text without a GTIN)."""
    return [read_out(r.content_type, r.text) for r in results if r.format in (CODE128, DATAMATRIX)]


def digital_link(app: Flask, fields: dict[str, str]) -> str:
    """The QR code's URL: the GS1 Digital Link, or the lot finder of a plain label."""
    base = app.config["BASE_URL"]
    if "plain" in fields:
        sku, lot = fields["plain"].split(" ", 1)
        return f"{base}/lots/find?sku={quote(sku, safe='')}&code={quote(lot, safe='')}"
    lot = fields["10"].replace("/", "%2F")
    return f"{base}/01/{fields['01']}/10/{lot}" + (f"?17={fields['17']}" if "17" in fields else "")


def zpl_reads(zpl: str) -> list[dict[str, str]]:
    """Decode one ZPL label's Code 128 (drawn at printer dots) and read its DataMatrix and QR data."""
    out: list[dict[str, str]] = []
    for field in zpl_fields(zpl):
        if "^BC" in field:
            module = int(found(r"\^BY(\d+)\^", field))
            modules = code128_modules(code128_values(found(r"\^FD(.*)\^FS", field)))
            [result] = read(raster([modules], module, 60))
            out.append({"kind": "code-128", **read_out(result.content_type, result.text)})
        elif "^BX" in field:
            escape = found(r"\^BXN,\d+,200,,,,(.)\^FH", field)
            fd = found(r"\^FD(.*)\^FS", field)
            kind = zxingcpp.ContentType.GS1 if datamatrix_is_gs1(fd, escape) else zxingcpp.ContentType.Text
            out.append({"kind": "datamatrix", **read_out(kind, datamatrix_text(fd, escape))})
        elif "^BQ" in field:
            out.append({"kind": "qr", "url": unhex(found(r"\^FD(.*)\^FS", field)).removeprefix("MA,")})
    return out


def formats(zpl: str) -> list[str]:
    """The label formats (^XA … ^XZ) in a ZPL stream."""
    return re.findall(r"\^XA.*?\^XZ\n", zpl, flags=re.S)

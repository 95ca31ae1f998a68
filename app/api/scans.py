"""API for scans: parse what a scanner typed or decode a photo, and say what product, lot or order it names."""

from __future__ import annotations

from flask import current_app

from app.api import endpoint, upload_endpoint
from app.db import get_or_404
from app.errors import Conflict, Invalid, LotwiseError
from app.models import Product, Role, User
from app.schemas import DecodeIn, DecodeOut, GtinIn, PhotoHintOut, ProductOut, ReadOut, ScanIn, ScanOut
from app.services import scans
from app.services.masterdata import set_product_gtin
from app.web import db, gs1_separator, today
from scanning import ImageTooLarge, PairingError, ScanError, advise, decode, parse


class TooLarge(LotwiseError):
    status = 413
    code = "too_large"


def _parse(raw: str, station: str | None, user: User) -> ScanOut:
    """Parse and log one scan; an unreadable one is logged too, then refused with the parser's words."""
    separator = gs1_separator()
    try:
        scan = parse(raw, separator=separator, today=today())
    except PairingError as exc:
        # The label breaks a GS1 pairing rule, but what it says is still worth having: the answer
        # keeps every field read and says in `missing` what it leaves unknown.
        return scans.look_up(db(), exc.scan, raw=raw, outcome="incomplete", message=str(exc), station=station,
                             user=user, today=today(), pairing=str(exc))
    except ScanError as exc:
        scans.record_scan(db(), raw=raw, parsed=None, outcome="error", message=str(exc), station=station, user=user)
        raise Invalid(str(exc), "raw") from None
    return scans.look_up(db(), scan, raw=raw, outcome="ok", message=None, station=station, user=user, today=today())


@endpoint("/scans/parse", "POST", summary="Parse a scan and look up the product, lot or order it names",
          tag="scans", body=ScanIn, response=ScanOut, errors=(422,), statement_by_statement=True)
def parse_scan(user: User, body: ScanIn) -> ScanOut:
    return _parse(body.raw, body.station or None, user)


@upload_endpoint("/scans/decode", summary="Decode the barcodes in a photo, each parsed and looked up",
                 tag="scans", form=DecodeIn, response=DecodeOut, errors=(413, 422))
def decode_photo(user: User, body: DecodeIn) -> DecodeOut:
    station = body.station or None
    limit = int(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024
    try:
        found = decode(body.image, max_bytes=limit)
    except ScanError as exc:
        scans.record_scan(db(), raw="", parsed=None, outcome="error", message=f"photo: {exc}", station=station,
                          user=user)
        if isinstance(exc, ImageTooLarge):
            raise TooLarge(str(exc), "image") from None
        raise Invalid(str(exc), "image") from None
    reads: list[ReadOut] = []
    for d in found:
        try:
            reads.append(ReadOut(format=d.format, is_gs1=d.is_gs1, text=d.text, scan=_parse(d.text, station, user),
                                 error=None))
        except Invalid as exc:
            reads.append(ReadOut(format=d.format, is_gs1=d.is_gs1, text=d.text, scan=None, error=exc.message))
    if not reads:
        if not body.frame:
            scans.record_scan(db(), raw="", parsed=None, outcome="error", message="photo: no barcode found",
                              station=station, user=user)
        advice = advise(body.image)
        return DecodeOut(reads=[], message="No barcode found in the photo; hold the label flat, closer, in good light",
                         hint=PhotoHintOut(reason=advice.reason, message=advice.message))
    usable = sum(1 for r in reads if r.scan is not None)
    return DecodeOut(reads=reads, message=f"{len(reads)} barcode(s) read, {usable} usable", hint=None)


@endpoint("/scans/remember-gtin", "POST", summary="Remember a scanned GTIN for a product that has none",
          tag="scans", role=Role.OPERATOR, body=GtinIn, response=ProductOut, errors=(404, 409, 422))
def remember_gtin(user: User, body: GtinIn) -> ProductOut:
    product = get_or_404(db(), Product, body.product_id, "product_id", "product")
    if product.gtin and product.gtin != body.gtin.zfill(14):
        # Receiving may teach a GTIN, not change one: that is master data for a manager.
        raise Conflict(f"{product.sku} already has GTIN {product.gtin}", "gtin")
    return ProductOut.model_validate(set_product_gtin(db(), product.id, body.gtin))

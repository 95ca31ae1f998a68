"""Scans: what a scanner or photo sent, and what Lotwise understood of it."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, StringConstraints

from app.schemas.common import Amount, Id, gtin_value
from app.schemas.stock import LotOut, StockOut


class ScanProductOut(BaseModel):
    id: int
    sku: str
    name: str
    gtin: str | None
    unit: str
    shelf_life_days: int | None


class ScanPackagingOut(BaseModel):
    id: int
    level: str
    gtin: str
    content: Amount = Field(description="how much of the product one pack holds, in the product's unit")


class ScanLotOut(LotOut):
    stock: list[StockOut]
    expired: bool
    problem: str | None = Field(description="why the lot may not be used (held, recalled, expired), if so")
    problem_title: str | None = Field(None, description="the first reason in a few words (\"Lot on hold\")")
    inputs: int = Field(description="how many lots went into it")
    outputs: int = Field(description="how many lots were made from it")
    shipments: int = Field(description="how many shipments it went out on")


class ScanOrderOut(BaseModel):
    id: int
    number: str
    status: str


class LotCandidateOut(BaseModel):
    """One of the lots a lot code shared by several products may mean."""

    lot_id: int
    sku: str
    product_name: str
    code: str
    expiry: date | None
    on_hand: Amount
    unit: str
    status: str


class ScanOut(BaseModel):
    """One scan parsed, with what it names in the database where that is known."""

    event_id: int
    raw: str
    kind: str
    symbology: str | None
    gtin: str | None
    sku: str | None
    lot: str | None
    expiry: date | None
    best_before: date | None
    production_date: date | None
    serial: str | None
    quantity: Amount | None
    net_weight_kg: Amount | None
    sscc: str | None
    text: str | None
    elements: list[tuple[str, str]]
    product: ScanProductOut | None
    packaging: ScanPackagingOut | None = Field(
        description="the case or pallet of the product that the scanned GTIN names, when it names one")
    receive_quantity: Amount | None = Field(
        description="what the label's count comes to in the product's unit (cases × content), when it says")
    conversion: str | None = Field(description='how the count was converted, e.g. "2 cases × 12 jar = 24 jar"')
    missing: str | None = Field(
        description="what this scan leaves unknown before it can be booked, in one line; what it did read is kept")
    found_lot: ScanLotOut | None = Field(description="the lot the label names: by lot code, else supplier lot code")
    order: ScanOrderOut | None = Field(description="the order whose number was scanned")
    candidates: list[LotCandidateOut] = Field(
        default_factory=list, description="a typed or plain code several lots share (our lot code on several "
                                          "products, or a supplier's lot code): every such lot, none chosen; "
                                          "`found_lot` is then null")
    message: str


Station = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)]


def _form_flag(v: Any) -> Any:
    # A multipart form carries text: only the two words a JSON boolean is written as.
    if isinstance(v, str) and v not in ("true", "false"):
        raise ValueError("must be true or false")
    return v


FormFlag = Annotated[bool, BeforeValidator(_form_flag)]


class ScanIn(BaseModel):
    raw: Annotated[str, Field(max_length=4000, description=(
        "what the scanner sent; GS as ASCII 29 or the configured substitute. A scan that cannot be read "
        "(nothing but whitespace, a malformed GS1 element string, unprintable characters) is a 422 naming it"))]
    station: Station | None = None


class DecodeIn(BaseModel):
    image: bytes = Field(description="the photo or camera frame (JPEG, PNG, WebP, ...)")
    station: Station | None = None
    frame: FormFlag = Field(False, description="a live-camera frame: a frame with no barcode is not logged")


class ReadOut(BaseModel):
    format: str
    is_gs1: bool
    text: str
    scan: ScanOut | None = Field(description="the read parsed, when it parses")
    error: str | None = Field(description="why the read cannot be used, when it does not parse")


class PhotoHintOut(BaseModel):
    reason: Literal["dark", "glare", "blurred", "small", "unclear"] = Field(
        description="what most likely kept the photo from being read, judged from the image: too dark, glare "
                    "over part of it, blurred, the barcode too small in the frame, or none of these")
    message: str = Field(description="what to do for the next photo, in words for the person holding the phone")


class DecodeOut(BaseModel):
    reads: list[ReadOut]
    message: str
    hint: PhotoHintOut | None = Field(
        None, description="when nothing was read: why, judged from the image, and what to do about it; "
                          "null when something was read")


class GtinIn(BaseModel):
    product_id: Id
    gtin: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^([0-9]{8}|[0-9]{12,14})$"),
                    AfterValidator(gtin_value)]

"""EPCIS 2.0 JSON-LD: receiving, production, shipping, write-off and recall events of a date range."""

from __future__ import annotations

import functools
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Invalid
from app.models import (
    Customer,
    Location,
    Lot,
    LotLink,
    Movement,
    MovementKind,
    Product,
    ProductionRun,
    Recall,
    RecallLot,
    Receipt,
    ReceiptLine,
    Shipment,
    ShipmentLine,
    Supplier,
)
from labels.gs1 import LabelDataError, LotBarcodeData, digital_link

CONTEXT = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
GS1_RESOLVER = "https://id.gs1.org"

# UN/CEFACT Recommendation 20 codes for the units products are kept in; a unit not listed here is
# a count of items, which EPCIS writes as a quantity without a unit of measure.
UOM = {"kg": "KGM", "g": "GRM", "mg": "MGM", "t": "TNE", "l": "LTR", "ml": "MLT", "m": "MTR", "lb": "LBR",
       "oz": "ONZ", "gal": "GLL"}


Event = tuple[datetime, dict[str, Any]]


@dataclass(frozen=True)
class Site:
    """Who and where we are, for identifiers and time zone offsets."""

    base_url: str
    company: str
    timezone: str = "UTC"


@dataclass(frozen=True)
class Item:
    """What identifies a lot's product in EPCIS: its GTIN if it has one, else its sku; and its unit."""

    gtin: str | None
    sku: str
    unit: str


def lot_class(site: Site, item: Item, code: str) -> str:
    """The lot's class-level identifier: a GS1 Digital Link with the GTIN, else a URI of our own."""
    return _lot_class(site.base_url, item.gtin, item.sku, code)


@functools.lru_cache(maxsize=65_536)
def _lot_class(base_url: str, gtin: str | None, sku: str, code: str) -> str:
    # Cached: a month's shipments name the same few hundred lots tens of thousands of times.
    try:
        if gtin:
            return digital_link(LotBarcodeData(lot=code, gtin=gtin), GS1_RESOLVER)
        return digital_link(LotBarcodeData(lot=code, sku=sku), base_url)
    except LabelDataError:
        # Codes that cannot go in a barcode (too long, odd characters) still get a stable URI.
        base = f"{GS1_RESOLVER}/01/{gtin}" if gtin else f"{base_url.rstrip('/')}/240/{quote(sku, safe='')}"
        return f"{base}/10/{quote(code, safe='')}"


def _uri(site: Site, kind: str, key: str | int) -> str:
    return f"{site.base_url.rstrip('/')}/id/{kind}/{quote(str(key), safe='')}"


def _party(site: Site, kind: str, party_id: int, gln: str | None) -> str:
    return f"{GS1_RESOLVER}/417/{gln}" if gln else _uri(site, kind, party_id)


def _location(site: Site, code: str) -> dict[str, str]:
    return {"id": _uri(site, "location", code)}


def _qty(site: Site, item: Item, code: str, quantity: Decimal | None) -> dict[str, Any]:
    out: dict[str, Any] = {"epcClass": lot_class(site, item, code)}
    if quantity is not None:
        q = quantity.normalize()
        out["quantity"] = int(q) if q == q.to_integral_value() else float(q)
        uom = UOM.get(item.unit.lower())
        if uom:
            out["uom"] = uom
    return out


def _offset(site: Site, when: datetime) -> str:
    raw = when.astimezone(ZoneInfo(site.timezone)).strftime("%z") or "+0000"
    return f"{raw[:3]}:{raw[3:]}"


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _event(site: Site, kind: str, key: str | int, when: datetime, **fields: Any) -> dict[str, Any]:
    # Stable event ids: exporting the same range twice gives the same ids, so a receiver can dedupe.
    event_id = uuid.uuid5(uuid.NAMESPACE_URL, _uri(site, kind, key))
    return {"type": fields.pop("type"), "eventID": f"urn:uuid:{event_id}", "eventTime": _stamp(when),
            "eventTimeZoneOffset": _offset(site, when), **fields}


def _business_time(day: date, recorded: datetime) -> datetime:
    """The event time: when it was recorded, unless that was on another day than the business date."""
    if recorded.astimezone(UTC).date() == day:
        return recorded
    return datetime.combine(day, time(12, 0), tzinfo=UTC)


# Rows are read as plain columns, not ORM objects: a month of a busy site is tens of thousands of lines.
_ITEM = (Product.gtin, Product.sku, Product.unit)


def _receiving(session: Session, date_from: date, date_to: date, site: Site, us: str) -> list[Event]:
    lines: dict[int, list[dict[str, Any]]] = defaultdict(list)
    heads: dict[int, Any] = {}
    for r in session.execute(
        select(Receipt.id, Receipt.number, Receipt.received_on, Receipt.created_at, Supplier.id.label("sid"),
               Supplier.gln, Location.code.label("location"), Lot.code, ReceiptLine.quantity, *_ITEM)
        .join(Receipt, ReceiptLine.receipt_id == Receipt.id).join(Supplier, Receipt.supplier_id == Supplier.id)
        .join(Lot, ReceiptLine.lot_id == Lot.id).join(Product, Lot.product_id == Product.id)
        .join(Location, ReceiptLine.location_id == Location.id)
        .where(Receipt.received_on.between(date_from, date_to)).order_by(ReceiptLine.id)
    ):
        lines[r.id].append(_qty(site, Item(r.gtin, r.sku, r.unit), r.code, r.quantity))
        heads.setdefault(r.id, r)
    out = []
    for rid, quantities in lines.items():
        h = heads[rid]
        when = _business_time(h.received_on, h.created_at)
        out.append((when, _event(
            site, "receipt", h.number, when, type="ObjectEvent", action="OBSERVE", bizStep="receiving",
            disposition="in_progress", quantityList=quantities, readPoint=_location(site, h.location),
            bizLocation=_location(site, h.location),
            bizTransactionList=[{"type": "recadv", "bizTransaction": _uri(site, "receipt", h.number)}],
            sourceList=[{"type": "owning_party", "source": _party(site, "supplier", h.sid, h.gln)}],
            destinationList=[{"type": "owning_party", "destination": us}],
        )))
    return out


def _production(session: Session, date_from: date, date_to: date, site: Site) -> list[Event]:
    in_range = ProductionRun.produced_on.between(date_from, date_to)
    inputs: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for i in session.execute(
        select(LotLink.run_id, LotLink.quantity, Lot.code, *_ITEM)
        .join(ProductionRun, LotLink.run_id == ProductionRun.id)
        .join(Lot, LotLink.input_lot_id == Lot.id).join(Product, Lot.product_id == Product.id)
        .where(in_range).order_by(LotLink.id)
    ):
        inputs[i.run_id].append(_qty(site, Item(i.gtin, i.sku, i.unit), i.code, i.quantity))
    out = []
    for r in session.execute(
        select(ProductionRun.id, ProductionRun.number, ProductionRun.produced_on, ProductionRun.created_at,
               ProductionRun.output_quantity, Lot.code, Lot.expiry, Location.code.label("location"), *_ITEM)
        .join(Lot, ProductionRun.output_lot_id == Lot.id).join(Product, ProductionRun.product_id == Product.id)
        .join(Location, ProductionRun.location_id == Location.id).where(in_range).order_by(ProductionRun.id)
    ):
        when = _business_time(r.produced_on, r.created_at)
        ilmd: dict[str, Any] = {"cbvmda:lotNumber": r.code}
        if r.expiry:
            ilmd["cbvmda:itemExpirationDate"] = r.expiry.isoformat()
        fields: dict[str, Any] = {
            "type": "TransformationEvent",
            "outputQuantityList": [_qty(site, Item(r.gtin, r.sku, r.unit), r.code, r.output_quantity)],
            "transformationID": _uri(site, "production-run", r.number),
            "bizStep": "commissioning", "disposition": "active",
            "readPoint": _location(site, r.location), "bizLocation": _location(site, r.location),
            "ilmd": ilmd,
        }
        if inputs.get(r.id):
            fields["inputQuantityList"] = inputs[r.id]
        out.append((when, _event(site, "production-run", r.number, when, **fields)))
    return out


def _shipping(session: Session, date_from: date, date_to: date, site: Site, us: str) -> list[Event]:
    lines: dict[int, list[dict[str, Any]]] = defaultdict(list)
    heads: dict[int, Any] = {}
    for r in session.execute(
        select(Shipment.id, Shipment.number, Shipment.shipped_on, Shipment.created_at, Customer.id.label("cid"),
               Customer.gln, Location.code.label("location"), Lot.code, ShipmentLine.quantity, *_ITEM)
        .join(Shipment, ShipmentLine.shipment_id == Shipment.id).join(Customer, Shipment.customer_id == Customer.id)
        .join(Lot, ShipmentLine.lot_id == Lot.id).join(Product, Lot.product_id == Product.id)
        .join(Location, ShipmentLine.location_id == Location.id)
        .where(Shipment.shipped_on.between(date_from, date_to)).order_by(ShipmentLine.id)
    ):
        lines[r.id].append(_qty(site, Item(r.gtin, r.sku, r.unit), r.code, r.quantity))
        heads.setdefault(r.id, r)
    out = []
    for sid, quantities in lines.items():
        h = heads[sid]
        when = _business_time(h.shipped_on, h.created_at)
        out.append((when, _event(
            site, "shipment", h.number, when, type="ObjectEvent", action="OBSERVE", bizStep="shipping",
            disposition="in_transit", quantityList=quantities, readPoint=_location(site, h.location),
            bizLocation=_location(site, h.location),
            bizTransactionList=[{"type": "desadv", "bizTransaction": _uri(site, "shipment", h.number)}],
            sourceList=[{"type": "owning_party", "source": us}],
            destinationList=[{"type": "owning_party", "destination": _party(site, "customer", h.cid, h.gln)}],
        )))
    return out


def _write_offs(session: Session, date_from: date, date_to: date, site: Site) -> list[Event]:
    out = []
    for r in session.execute(
        select(Movement.id, Movement.quantity, Movement.booked_on, Movement.created_at, Lot.code,
               Location.code.label("location"), *_ITEM)
        .join(Lot, Movement.lot_id == Lot.id).join(Product, Lot.product_id == Product.id)
        .join(Location, Movement.location_id == Location.id)
        .where(Movement.kind == MovementKind.WRITE_OFF, Movement.booked_on.between(date_from, date_to))
        .order_by(Movement.id)
    ):
        when = _business_time(r.booked_on, r.created_at)
        out.append((when, _event(
            site, "write-off", r.id, when, type="ObjectEvent", action="DELETE", bizStep="destroying",
            disposition="destroyed", quantityList=[_qty(site, Item(r.gtin, r.sku, r.unit), r.code, -r.quantity)],
            readPoint=_location(site, r.location), bizLocation=_location(site, r.location),
        )))
    return out


def _recalls(session: Session, date_from: date, date_to: date, site: Site) -> list[Event]:
    start = datetime.combine(date_from, time.min, tzinfo=ZoneInfo(site.timezone))
    end = datetime.combine(date_to, time.max, tzinfo=ZoneInfo(site.timezone))
    out = []
    for recall in session.scalars(select(Recall).where(Recall.opened_at.between(start, end))):
        classes = [_qty(site, Item(r.gtin, r.sku, r.unit), r.code, None) for r in session.execute(
            select(Lot.code, *_ITEM).join(RecallLot, RecallLot.lot_id == Lot.id)
            .join(Product, Lot.product_id == Product.id).where(RecallLot.recall_id == recall.id)
            .order_by(Product.sku, Lot.code))]
        out.append((recall.opened_at, _event(
            site, "recall", recall.number, recall.opened_at, type="ObjectEvent", action="OBSERVE",
            bizStep="holding", disposition="recalled", quantityList=classes,
            persistentDisposition={"set": ["recalled"]},
            bizTransactionList=[{"type": _uri(site, "business-transaction-type", "recall"),
                                 "bizTransaction": _uri(site, "recall", recall.number)}],
        )))
    return out


def events(session: Session, date_from: date, date_to: date, site: Site) -> list[dict[str, Any]]:
    """Every event in the range (business dates, both ends included), in time order."""
    if date_from > date_to:
        raise Invalid(f"the range runs backwards: from {date_from} is after to {date_to}", "from")
    us = _uri(site, "party", "self")
    out = (_receiving(session, date_from, date_to, site, us) + _production(session, date_from, date_to, site)
           + _shipping(session, date_from, date_to, site, us) + _write_offs(session, date_from, date_to, site)
           + _recalls(session, date_from, date_to, site))
    out.sort(key=lambda e: (e[0], e[1]["eventID"]))
    return [e for _, e in out]


def document(session: Session, date_from: date, date_to: date, site: Site,
             now: datetime | None = None) -> dict[str, Any]:
    """The EPCISDocument for the range."""
    return {
        "@context": [CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": _stamp(now or datetime.now(UTC)),
        "epcisBody": {"eventList": events(session, date_from, date_to, site)},
    }


def to_json(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8")

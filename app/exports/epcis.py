"""EPCIS 2.0 JSON-LD: receiving, production, shipping, write-off and recall events of a date range."""

from __future__ import annotations

import functools
import heapq
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from itertools import groupby
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from app import clock
from app.schemas import EpcisEvents, EpcisLot
from labels.gs1 import LabelDataError, LotBarcodeData, digital_link, plain_url

CONTEXT = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
# GS1's context does not declare the CBV master data prefix the ILMD attributes (lot number, expiry) use: the
# document declares it, with the namespace CBV gives those attributes, so they expand to CBV's own names.
CBVMDA = {"cbvmda": "urn:epcglobal:cbv:mda#"}
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


def lot_class(site: Site, lot: EpcisLot) -> str:
    """The lot's class-level identifier: a GS1 Digital Link with the GTIN, else a URI of our own."""
    return _lot_class(site.base_url, lot.gtin, lot.sku, lot.code)


@functools.lru_cache(maxsize=65_536)
def _lot_class(base_url: str, gtin: str | None, sku: str, code: str) -> str:
    # Cached: a month's shipments name the same few hundred lots tens of thousands of times.
    try:
        if gtin:
            return digital_link(LotBarcodeData(lot=code, gtin=gtin), GS1_RESOLVER)
        # Without a GTIN no GS1 key names the lot: the site's own lot finder does (as on the plain label).
        return plain_url(LotBarcodeData(lot=code, sku=sku), base_url)
    except LabelDataError:
        # Codes that cannot go in a barcode (too long, odd characters) still get a stable URI.
        if not gtin:
            return f"{base_url.rstrip('/')}/lots/find?sku={quote(sku, safe='')}&code={quote(code, safe='')}"
        return f"{GS1_RESOLVER}/01/{gtin}/10/{quote(code, safe='')}"


@functools.lru_cache(maxsize=65_536)  # locations, parties and documents recur across a year of events
def _uri(site: Site, kind: str, key: str | int) -> str:
    return f"{site.base_url.rstrip('/')}/id/{kind}/{quote(str(key), safe='')}"


def _party(site: Site, kind: str, party_id: int, gln: str | None) -> str:
    return f"{GS1_RESOLVER}/417/{gln}" if gln else _uri(site, kind, party_id)


def _location(site: Site, code: str) -> dict[str, str]:
    return {"id": _uri(site, "location", code)}


def _qty(site: Site, lot: EpcisLot) -> dict[str, Any]:
    out: dict[str, Any] = {"epcClass": lot_class(site, lot)}
    if lot.quantity is not None:
        q = lot.quantity.normalize()
        out["quantity"] = int(q) if q == q.to_integral_value() else float(q)
        uom = UOM.get(lot.unit.lower())
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


def _receiving(data: EpcisEvents, site: Site, us: str) -> Iterator[Event]:
    for e in data.receiving:
        when = _business_time(e.received_on, e.recorded_at)
        yield when, _event(
            site, "receipt", e.number, when, type="ObjectEvent", action="OBSERVE", bizStep="receiving",
            disposition="in_progress", quantityList=[_qty(site, lot) for lot in e.lots],
            readPoint=_location(site, e.location), bizLocation=_location(site, e.location),
            bizTransactionList=[{"type": "recadv", "bizTransaction": _uri(site, "receipt", e.number)}],
            sourceList=[{"type": "owning_party", "source": _party(site, "supplier", e.supplier_id, e.supplier_gln)}],
            destinationList=[{"type": "owning_party", "destination": us}],
        )


def _production(data: EpcisEvents, site: Site) -> Iterator[Event]:
    for e in data.production:
        when = _business_time(e.produced_on, e.recorded_at)
        ilmd: dict[str, Any] = {"cbvmda:lotNumber": e.output.code}
        if e.expiry:
            ilmd["cbvmda:itemExpirationDate"] = e.expiry.isoformat()
        fields: dict[str, Any] = {
            "type": "TransformationEvent",
            "outputQuantityList": [_qty(site, e.output)],
            "transformationID": _uri(site, "production-run", e.number),
            "bizStep": "commissioning", "disposition": "active",
            "readPoint": _location(site, e.location), "bizLocation": _location(site, e.location),
            "ilmd": ilmd,
        }
        if e.inputs:
            fields["inputQuantityList"] = [_qty(site, lot) for lot in e.inputs]
        yield when, _event(site, "production-run", e.number, when, **fields)


def _shipping(data: EpcisEvents, site: Site, us: str) -> Iterator[Event]:
    for e in data.shipping:
        when = _business_time(e.shipped_on, e.recorded_at)
        yield when, _event(
            site, "shipment", e.number, when, type="ObjectEvent", action="OBSERVE", bizStep="shipping",
            disposition="in_transit", quantityList=[_qty(site, lot) for lot in e.lots],
            readPoint=_location(site, e.location), bizLocation=_location(site, e.location),
            bizTransactionList=[{"type": "desadv", "bizTransaction": _uri(site, "shipment", e.number)}],
            sourceList=[{"type": "owning_party", "source": us}],
            destinationList=[{"type": "owning_party",
                              "destination": _party(site, "customer", e.customer_id, e.customer_gln)}],
        )


def _write_offs(data: EpcisEvents, site: Site) -> Iterator[Event]:
    for e in data.write_offs:
        when = _business_time(e.booked_on, e.recorded_at)
        yield when, _event(
            site, "write-off", e.movement_id, when, type="ObjectEvent", action="DELETE", bizStep="destroying",
            disposition="destroyed", quantityList=[_qty(site, e.lot)],
            readPoint=_location(site, e.location), bizLocation=_location(site, e.location),
        )


def _recalls(data: EpcisEvents, site: Site) -> Iterator[Event]:
    for e in sorted(data.recalls, key=lambda r: r.opened_at):  # a few: sorted here, not by the query
        yield e.opened_at, _event(
            site, "recall", e.number, e.opened_at, type="ObjectEvent", action="OBSERVE",
            bizStep="holding", disposition="recalled", quantityList=[_qty(site, lot) for lot in e.lots],
            persistentDisposition={"set": ["recalled"]},
            bizTransactionList=[{"type": _uri(site, "business-transaction-type", "recall"),
                                 "bizTransaction": _uri(site, "recall", e.number)}],
        )


def _day(event: Event) -> date:
    return event[0].astimezone(UTC).date()


def iter_events(data: EpcisEvents, site: Site) -> Iterator[dict[str, Any]]:
    """Every event as EPCIS 2.0 JSON-LD, in time order (ties by event id), one UTC day at a time: each kind comes
    in order of its business date and an event's time falls on that date (UTC), so merging the kinds by day and
    sorting within the day gives the order of the whole, with only a day's events in memory."""
    us = _uri(site, "party", "self")
    kinds = heapq.merge(_receiving(data, site, us), _production(data, site), _shipping(data, site, us),
                        _write_offs(data, site), _recalls(data, site), key=_day)
    for _, day in groupby(kinds, key=_day):
        for _, event in sorted(day, key=lambda e: (e[0], e[1]["eventID"])):
            yield event


def events(data: EpcisEvents, site: Site) -> list[dict[str, Any]]:
    """Every event as EPCIS 2.0 JSON-LD, in time order (ties by event id)."""
    return list(iter_events(data, site))


def _header(now: datetime | None) -> dict[str, Any]:
    return {
        "@context": [CONTEXT, CBVMDA],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": _stamp(now or clock.now()),
    }


def document(data: EpcisEvents, site: Site, now: datetime | None = None) -> dict[str, Any]:
    """The EPCISDocument of the events (from `app.queries.regulatory.epcis_events`), in memory: for small
    selections and tests; files are written by `json_chunks`."""
    return {**_header(now), "epcisBody": {"eventList": events(data, site)}}


def to_json(doc: dict[str, Any]) -> bytes:
    return b"".join(_chunks(doc, doc["epcisBody"]["eventList"]))


CHUNK = 64 * 1024


def json_chunks(data: EpcisEvents, site: Site, now: datetime | None = None) -> Iterator[bytes]:
    """The EPCISDocument written as it is made: the header, the events one by one as the queries yield them,
    the closing brackets. Memory stays that of a day's events however long the range."""
    return _chunks({**_header(now), "epcisBody": {"eventList": []}}, iter_events(data, site))


def _chunks(doc: dict[str, Any], events: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    # One event a line, each written by json's C encoder (an indented dump runs in Python, several times slower).
    head = {k: v for k, v in doc.items() if k != "epcisBody"}
    opening = json.dumps(head, ensure_ascii=False)[:-1] + ', "epcisBody": {"eventList": ['
    out, size, sep = [opening], len(opening), "\n"
    encode = json.JSONEncoder(ensure_ascii=False).encode
    for event in events:
        text = encode(event)
        out.append(sep + text)
        size += len(text) + 2
        sep = ",\n"
        if size >= CHUNK:
            yield "".join(out).encode("utf-8")
            out, size = [], 0
    out.append("\n]}}\n")
    yield "".join(out).encode("utf-8")

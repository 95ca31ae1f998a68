"""FSMA 204 electronic sortable spreadsheet: one row per critical tracking event per traceability lot.

The columns hold the key data elements (KDEs) of 21 CFR 1.1325-1.1350 that Lotwise records: receiving
(1.1345), transformation (1.1350) and shipping (1.1340) events, and, on receiving rows, the harvesting,
cooling, initial packing and landing details the supplier sent (1.1325, 1.1330, 1.1335). Every location
description is the business name, phone number and address (21 CFR 1.1310). Rows are produced and written
as a stream: the queries hand them over in date order, and nothing holds a whole export in memory but the
XLSX writer's own temporary file.
"""

from __future__ import annotations

import functools
import heapq
import operator
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal

from app.exports.sheets import csv_stream, xlsx_stream
from app.models import LotOrigin
from app.schemas import (
    FsmaEvents,
    FsmaLot,
    FsmaOrigin,
    FsmaPlace,
    FsmaProduct,
    FsmaReceiving,
    FsmaShipping,
    FsmaTransformation,
)

NO_PHONE = "phone not on file"
"""Written where a party's phone is missing, so the gap shows in the cell instead of passing unnoticed."""


@dataclass(slots=True)  # not frozen: a frozen dataclass sets each of its 27 fields through object.__setattr__,
class Row:                # seven times the cost of a year of rows
    """The key data elements of one critical tracking event for one traceability lot."""

    event: str
    event_date: date
    tlc: str
    tlc_source: str
    tlc_source_reference: str
    product: str
    quantity: Decimal
    unit: str
    ship_from: str
    ship_to: str
    input_tlc: str = ""
    input_product: str = ""
    input_quantity: Decimal | None = None
    input_unit: str = ""
    document_type: str = ""
    document_number: str = ""
    harvested_on: date | None = None
    harvest_location: str = ""
    harvester: str = ""
    cooled_on: date | None = None
    cooling_location: str = ""
    packed_on: date | None = None
    packing_location: str = ""
    landed_on: date | None = None
    sku: str = ""
    gtin: str = ""
    internal_lot: str = ""


GLOSSARY = [
    ("Critical Tracking Event", "Receiving, Transformation or Shipping (21 CFR 1.1345, 1.1350, 1.1340)."),
    ("Event Date", "Date the food was received, the transformation was completed, or the food was shipped."),
    ("Traceability Lot Code", "The lot code that identifies the traceability lot: the supplier's lot code for "
                              "food received, our own lot code for food we made."),
    ("Traceability Lot Code Source", "Location description (business name, phone, address) of where the "
                                     "traceability lot code was assigned: the initial packer where the "
                                     "supplier names one, else the supplier, or our site for our own codes."),
    ("Traceability Lot Code Source Reference", "Another way to find the lot code source: its GLN, or our web "
                                               "address for lot codes we assigned."),
    ("Product Description", "Product name and SKU as traded."),
    ("Quantity", "Quantity of the traceability lot in this event."),
    ("Unit of Measure", "Unit of the quantity (kg, ea, case ...)."),
    ("Ship-From Location", "Shipping: where the food was shipped from. Receiving: the immediate previous "
                           "source. Location descriptions: business name, phone, address."),
    ("Ship-To or Receiving Location", "Shipping: the immediate subsequent recipient. Receiving: where the food "
                                      "was received. Transformation: where it was transformed."),
    ("Input Traceability Lot Code", "Transformation only: one row per input lot used; its traceability lot code."),
    ("Input Product Description", "Transformation only: the input food."),
    ("Input Quantity", "Transformation only: quantity of the input lot used."),
    ("Input Unit of Measure", "Transformation only: unit of the input quantity."),
    ("Reference Document Type", "Receipt, production record, or shipment (bill of lading / despatch note)."),
    ("Reference Document Number", "Number of that document."),
    ("Harvest Date", "Receiving, where the supplier sent it: date of harvesting (21 CFR 1.1325, 1.1330)."),
    ("Harvest Location", "Receiving, where the supplier sent it: the farm (business name, phone, address) and "
                         "field or growing area."),
    ("Harvester", "Receiving, where the supplier sent it: business name and phone of the harvester."),
    ("Cooling Date", "Receiving, where the supplier sent it: date of cooling before initial packing."),
    ("Cooling Location", "Receiving, where the supplier sent it: location description of the cooler."),
    ("Initial Packing Date", "Receiving, where the supplier sent it: date of initial packing (21 CFR 1.1330)."),
    ("Initial Packing Location", "Receiving, where the supplier sent it: location description of the initial "
                                 "packer."),
    ("Landing Date", "Receiving food from a fishing vessel: date the catch was landed (21 CFR 1.1335)."),
    ("SKU", "Our product code."),
    ("GTIN", "GS1 Global Trade Item Number, where the product has one."),
    ("Internal Lot Code", "Our lot code (the same as the traceability lot code for food we made)."),
]
HEADERS = [name for name, _ in GLOSSARY]
assert len(HEADERS) == len(fields(Row))
# A row's values in column order (dataclasses.astuple deep-copies each value: far slower on a year of rows).
_values = operator.attrgetter(*(f.name for f in fields(Row)))

# Column widths of the streamed sheet (it cannot measure rows it has not seen yet).
_WIDTHS = {"Critical Tracking Event": 16, "Event Date": 12, "Quantity": 10, "Unit of Measure": 8,
           "Input Quantity": 10, "Input Unit of Measure": 8, "Harvest Date": 12, "Cooling Date": 12,
           "Initial Packing Date": 12, "Landing Date": 12, "SKU": 14, "GTIN": 16}


def tlc(lot: FsmaLot) -> str:
    """Traceability lot code: a received lot keeps its supplier's code; a lot we made has ours."""
    if lot.origin is LotOrigin.RECEIPT and lot.supplier_lot_code:
        return lot.supplier_lot_code
    return lot.code


def _lines(text: str | None) -> str:
    return ", ".join(p.strip() for p in (text or "").splitlines() if p.strip())


@functools.lru_cache(maxsize=8192)  # a year names the same few thousand places hundreds of thousands of times
def describe(place: FsmaPlace, company: str = "") -> str:
    """A location description (21 CFR 1.1310): business name, phone and address. One of our warehouses is
    named by the business operating it, with the warehouse's own name after it."""
    name = place.name if place.business is None and not company else (
        f"{place.business or company} ({place.name})")
    phone = f"phone {place.phone}" if place.phone else NO_PHONE
    return ", ".join(p for p in (name, phone, _lines(place.address)) if p)


def _gln(place: FsmaPlace | None) -> str:
    return f"GLN {place.gln}" if place is not None and place.gln else ""


@functools.lru_cache(maxsize=8192)
def _product(p: FsmaProduct) -> str:
    return f"{p.name} ({p.sku})"


@dataclass(frozen=True)
class Ours:
    """Who we are in the spreadsheet: the company name for sites without a business name of their own, and
    the web address given as the source reference of lot codes we assign."""

    company: str
    web: str = ""


def rows(events: FsmaEvents, *, company: str, web: str = "") -> Iterator[Row]:
    """The spreadsheet rows of the events, by date, then event (receiving, transformation, shipping), then in
    the order each kind came (document, lot code, input lot code). A stream: read it once."""
    us = Ours(company, web)
    return heapq.merge(_receiving(events.receiving, us), _transformation(events.transformation, us),
                       _shipping(events.shipping, us), key=lambda r: r.event_date)


def _receiving(events: Iterable[FsmaReceiving], us: Ours) -> Iterator[Row]:
    """The supplier is the immediate previous source; the lot code's source is the initial packer where the
    supplier names one, else the supplier itself (or our site when we had to assign the code)."""
    for e in events:
        supplier = describe(e.supplier)
        origin: FsmaOrigin = e.origin
        lot, product = e.lot, e.product
        if not lot.supplier_lot_code:
            source, reference = describe(e.warehouse, us.company), us.web
        elif origin.packing_location:
            source, reference = _lines(origin.packing_location), ""
        else:
            source, reference = supplier, _gln(e.supplier)
        yield Row("Receiving", e.received_on, tlc(lot), source, reference, _product(product), e.quantity,
                  product.unit, supplier, describe(e.warehouse, us.company) + f" ({e.location})",
                  document_type="Receipt" + (f" (supplier ref. {e.supplier_reference})" if e.supplier_reference
                                             else ""),
                  document_number=e.receipt_number, harvested_on=origin.harvested_on,
                  harvest_location=_lines(origin.harvest_location), harvester=_lines(origin.harvester),
                  cooled_on=origin.cooled_on, cooling_location=_lines(origin.cooling_location),
                  packed_on=origin.packed_on, packing_location=_lines(origin.packing_location),
                  landed_on=origin.landed_on, sku=product.sku, gtin=product.gtin or "", internal_lot=lot.code)


def _transformation(events: Iterable[FsmaTransformation], us: Ours) -> Iterator[Row]:
    """One row per input lot of each production run; we assign the new lot code where we transform."""
    for e in events:
        oprod, iprod = e.output_product, e.input_product
        here = describe(e.warehouse, us.company)
        yield Row("Transformation", e.produced_on, tlc(e.output_lot), here, us.web, _product(oprod),
                  e.output_quantity, oprod.unit, "", here + f" ({e.location})", tlc(e.input_lot), _product(iprod),
                  e.input_quantity, iprod.unit, "Production record", e.run_number, sku=oprod.sku,
                  gtin=oprod.gtin or "", internal_lot=e.output_lot.code)


def _shipping(events: Iterable[FsmaShipping], us: Ours) -> Iterator[Row]:
    """Lines of the same lot on one shipment added up; we ship from the shipment's warehouse."""
    for e in events:
        ours = describe(e.warehouse, us.company)
        lot, product = e.lot, e.product
        if lot.origin is LotOrigin.RECEIPT and lot.supplier_lot_code and e.lot_supplier:
            source, reference = describe(e.lot_supplier), _gln(e.lot_supplier)
        else:
            source, reference = ours, us.web
        yield Row("Shipping", e.shipped_on, tlc(lot), source, reference, _product(product), e.quantity, product.unit,
                  ours, describe(e.customer),
                  document_type="Shipment" + (f" (carrier ref. {e.carrier_reference})" if e.carrier_reference
                                              else ""),
                  document_number=e.shipment_number, sku=product.sku, gtin=product.gtin or "",
                  internal_lot=lot.code)


def xlsx_chunks(data: Iterable[Row]) -> Iterator[bytes]:
    """The sortable spreadsheet: a data sheet (filterable, header frozen) and a glossary sheet, handed out in
    pieces as the rows are written."""
    widths = [_WIDTHS.get(h, 40) for h in HEADERS]
    return xlsx_stream([("Traceability records", HEADERS, (_values(r) for r in data), widths),
                        ("Glossary", ["Column", "Meaning"], GLOSSARY, [34, 100])])


def to_xlsx(data: Iterable[Row]) -> bytes:
    return b"".join(xlsx_chunks(data))


def csv_chunks(data: Iterable[Row]) -> Iterator[bytes]:
    """The CSV file in pieces of a few hundred rows, UTF-8 with a byte order mark (Excel reads it right)."""
    yield "\ufeff".encode()
    for text in csv_stream(HEADERS, (_values(r) for r in data)):
        yield text.encode("utf-8")


def to_csv(data: Iterable[Row]) -> bytes:
    return b"".join(csv_chunks(data))


# --- the key data elements of each critical tracking event, and the columns that hold them ---------------

_QTY = ("Quantity", "Unit of Measure")
_DOC = ("Reference Document Type", "Reference Document Number")
_SOURCE = ("Traceability Lot Code Source",)

KDE_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    # Farms harvest and cool, initial packers pack, first land-based receivers land fish: their KDEs reach
    # us with the food, and receiving rows carry them where the supplier sent them.
    "harvesting": {
        "location description of the immediate subsequent recipient": ("Initial Packing Location",),
        "commodity and variety": ("Product Description",),
        "quantity and unit of measure": _QTY,
        "location description of the farm where harvested": ("Harvest Location",),
        "field or growing area name (produce)": ("Harvest Location",),
        "container name (aquaculture)": ("Harvest Location",),
        "date of harvesting": ("Harvest Date",),
        "reference document type and number": _DOC,
    },
    "cooling": {
        "location description of the immediate subsequent recipient": ("Initial Packing Location",),
        "commodity and variety": ("Product Description",),
        "quantity and unit of measure": _QTY,
        "location description of where cooled": ("Cooling Location",),
        "date of cooling": ("Cooling Date",),
        "location description of the farm where harvested": ("Harvest Location",),
        "reference document type and number": _DOC,
    },
    "initial packing": {
        "commodity and variety received": ("Product Description",),
        "date received": ("Event Date",),
        "quantity and unit of measure received": _QTY,
        "location description of the farm where harvested": ("Harvest Location",),
        "field or growing area name (produce)": ("Harvest Location",),
        "container name (aquaculture)": ("Harvest Location",),
        "business name and phone of the harvester": ("Harvester",),
        "date of harvesting": ("Harvest Date",),
        "location description of where cooled": ("Cooling Location",),
        "date of cooling": ("Cooling Date",),
        "traceability lot code assigned": ("Traceability Lot Code",),
        "product description of the packed food": ("Product Description",),
        "quantity and unit of measure of the packed food": _QTY,
        "location description of where initially packed (traceability lot code source) and source reference":
            ("Initial Packing Location", "Traceability Lot Code Source"),
        "date of initial packing": ("Initial Packing Date",),
        "reference document type and number": _DOC,
    },
    "first land-based receiving": {
        "traceability lot code assigned": ("Traceability Lot Code",),
        "species and product description": ("Product Description",),
        "quantity and unit of measure": _QTY,
        "harvest date range and locations of the trip": ("Harvest Date", "Harvest Location"),
        "location description of the first land-based receiver (traceability lot code source) and source "
        "reference": _SOURCE,
        "date of landing": ("Landing Date",),
        "reference document type and number": _DOC,
    },
    "shipping": {
        "traceability lot code": ("Traceability Lot Code",),
        "quantity and unit of measure": _QTY,
        "product description": ("Product Description",),
        "location description of the immediate subsequent recipient": ("Ship-To or Receiving Location",),
        "location description of where shipped from": ("Ship-From Location",),
        "date shipped": ("Event Date",),
        "location description of the traceability lot code source or source reference": _SOURCE,
        "reference document type and number": _DOC,
    },
    "receiving": {
        "traceability lot code": ("Traceability Lot Code",),
        "quantity and unit of measure": _QTY,
        "product description": ("Product Description",),
        "location description of the immediate previous source": ("Ship-From Location",),
        "location description of where received": ("Ship-To or Receiving Location",),
        "date received": ("Event Date",),
        "location description of the traceability lot code source or source reference": _SOURCE,
        "reference document type and number": _DOC,
    },
    "transformation": {
        "traceability lot code of each input": ("Input Traceability Lot Code",),
        "product description of each input": ("Input Product Description",),
        "quantity and unit of measure of each input": ("Input Quantity", "Input Unit of Measure"),
        "new traceability lot code": ("Traceability Lot Code",),
        "location description of where transformed (traceability lot code source) and source reference":
            ("Ship-To or Receiving Location", "Traceability Lot Code Source", "Traceability Lot Code Source Reference"),
        "date transformation completed": ("Event Date",),
        "product description of the new food": ("Product Description",),
        "quantity and unit of measure of the new food": _QTY,
        "reference document type and number": _DOC,
    },
}
"""For each critical tracking event of 21 CFR 1.1325-1.1350, each key data element and the columns holding it."""

CTE_ROWS: dict[str, tuple[str, str | None]] = {
    "receiving": ("Receiving", None), "shipping": ("Shipping", None), "transformation": ("Transformation", None),
    "harvesting": ("Receiving", "Harvest Date"), "cooling": ("Receiving", "Cooling Date"),
    "initial packing": ("Receiving", "Initial Packing Date"),
    "first land-based receiving": ("Receiving", "Landing Date"),
}
"""The rows that carry a CTE's key data elements: every row of our own events; for events before us, the receiving
rows where the supplier sent that event's date (the column named second)."""

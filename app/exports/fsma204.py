"""FSMA 204 electronic sortable spreadsheet: one row per critical tracking event per traceability lot."""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields
from datetime import date
from decimal import Decimal

from openpyxl import Workbook

from app.exports.sheets import add_sheet, csv_text, workbook_bytes
from app.models import LotOrigin
from app.schemas import FsmaEvents, FsmaLot, FsmaPlace, FsmaProduct


@dataclass(frozen=True)
class Row:
    """The key data elements of one critical tracking event for one traceability lot."""

    event: str
    event_date: date
    tlc: str
    product: str
    quantity: Decimal
    unit: str
    tlc_source: str
    ship_from: str
    ship_to: str
    input_tlc: str
    input_product: str
    input_quantity: Decimal | None
    input_unit: str
    document_type: str
    document_number: str
    sku: str
    gtin: str
    internal_lot: str


HEADERS = [
    "Critical Tracking Event", "Event Date", "Traceability Lot Code", "Product Description", "Quantity",
    "Unit of Measure", "Traceability Lot Code Source", "Ship-From Location", "Ship-To or Receiving Location",
    "Input Traceability Lot Code", "Input Product Description", "Input Quantity", "Input Unit of Measure",
    "Reference Document Type", "Reference Document Number", "SKU", "GTIN", "Internal Lot Code",
]
assert len(HEADERS) == len(fields(Row))

GLOSSARY = [
    ("Critical Tracking Event", "Receiving, Transformation or Shipping (21 CFR 1.1345, 1.1350, 1.1340)."),
    ("Event Date", "Date the food was received, the transformation was completed, or the food was shipped."),
    ("Traceability Lot Code", "The lot code that identifies the traceability lot: the supplier's lot code for "
                              "food received, our own lot code for food we made."),
    ("Product Description", "Product name and SKU as traded."),
    ("Quantity", "Quantity of the traceability lot in this event."),
    ("Unit of Measure", "Unit of the quantity (kg, ea, case ...)."),
    ("Traceability Lot Code Source", "Place where the traceability lot code was assigned (name and address)."),
    ("Ship-From Location", "Location description of where the food was shipped from."),
    ("Ship-To or Receiving Location", "Where the food was shipped to, received, or transformed."),
    ("Input Traceability Lot Code", "Transformation only: one row per input lot used; its traceability lot code."),
    ("Input Product Description", "Transformation only: the input food."),
    ("Input Quantity", "Transformation only: quantity of the input lot used."),
    ("Input Unit of Measure", "Transformation only: unit of the input quantity."),
    ("Reference Document Type", "Receipt, production record, or shipment (bill of lading / despatch note)."),
    ("Reference Document Number", "Number of that document."),
    ("SKU", "Our product code."),
    ("GTIN", "GS1 Global Trade Item Number, where the product has one."),
    ("Internal Lot Code", "Our lot code (the same as the traceability lot code for food we made)."),
]

_EVENT_ORDER = {"Receiving": 0, "Transformation": 1, "Shipping": 2}


def tlc(lot: FsmaLot) -> str:
    """Traceability lot code: a received lot keeps its supplier's code; a lot we made has ours."""
    if lot.origin is LotOrigin.RECEIPT and lot.supplier_lot_code:
        return lot.supplier_lot_code
    return lot.code


def _place(name: str, *parts: str | None) -> str:
    return ", ".join([name, *[p.replace("\n", ", ") for p in parts if p]])


def _site(company: str, wh: FsmaPlace, *parts: str | None) -> str:
    return _place(company, wh.name, wh.address, *parts)


def _party(p: FsmaPlace) -> str:
    return _place(p.name, p.address)


def _product(p: FsmaProduct) -> str:
    return f"{p.name} ({p.sku})"


def rows(events: FsmaEvents, *, company: str) -> list[Row]:
    """The spreadsheet rows of the events, by date, event (receiving, transformation, shipping), document,
    lot and input lot."""
    out = _receiving(events, company) + _transformation(events, company) + _shipping(events, company)
    out.sort(key=lambda r: (r.event_date, _EVENT_ORDER[r.event], r.document_number, r.tlc, r.input_tlc))
    return out


def _receiving(events: FsmaEvents, company: str) -> list[Row]:
    """The supplier is the ship-from and, for its own lot codes, the lot code source; we receive."""
    out: list[Row] = []
    for e in events.receiving:
        supplier_place = _party(e.supplier)
        lot, product = e.lot, e.product
        out.append(Row("Receiving", e.received_on, tlc(lot), _product(product), e.quantity, product.unit,
                       supplier_place if lot.supplier_lot_code else _site(company, e.warehouse),
                       supplier_place, _site(company, e.warehouse, e.location), "", "", None, "",
                       "Receipt" + (f" (supplier ref. {e.supplier_reference})" if e.supplier_reference else ""),
                       e.receipt_number, product.sku, product.gtin or "", lot.code))
    return out


def _transformation(events: FsmaEvents, company: str) -> list[Row]:
    """One row per input lot of each production run."""
    out: list[Row] = []
    for e in events.transformation:
        oprod, iprod = e.output_product, e.input_product
        out.append(Row("Transformation", e.produced_on, tlc(e.output_lot), _product(oprod), e.output_quantity,
                       oprod.unit, _site(company, e.warehouse), "", _site(company, e.warehouse, e.location),
                       tlc(e.input_lot), _product(iprod), e.input_quantity, iprod.unit, "Production record",
                       e.run_number, oprod.sku, oprod.gtin or "", e.output_lot.code))
    return out


def _shipping(events: FsmaEvents, company: str) -> list[Row]:
    """Lines of the same lot on one shipment added up; we ship from the shipment's warehouse."""
    out: list[Row] = []
    for e in events.shipping:
        ours = _site(company, e.warehouse)
        lot, product = e.lot, e.product
        source = (_party(e.lot_supplier)
                  if lot.origin is LotOrigin.RECEIPT and lot.supplier_lot_code and e.lot_supplier else ours)
        out.append(Row("Shipping", e.shipped_on, tlc(lot), _product(product), e.quantity, product.unit, source,
                       ours, _party(e.customer), "", "", None, "",
                       "Shipment" + (f" (carrier ref. {e.carrier_reference})" if e.carrier_reference else ""),
                       e.shipment_number, product.sku, product.gtin or "", lot.code))
    return out


def to_xlsx(data: list[Row]) -> bytes:
    """The sortable spreadsheet: a data sheet (filterable, header frozen) and a glossary sheet."""
    wb = Workbook()
    add_sheet(wb, "Traceability records", HEADERS, [astuple(r) for r in data], first=True)
    add_sheet(wb, "Glossary", ["Column", "Meaning"], GLOSSARY)
    return workbook_bytes(wb)


def to_csv(data: list[Row]) -> bytes:
    return ("\ufeff" + csv_text([(None, HEADERS, [astuple(r) for r in data])])).encode("utf-8")

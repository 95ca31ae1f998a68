"""FSMA 204 electronic sortable spreadsheet: one row per critical tracking event per traceability lot."""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, aliased

from app.errors import Invalid, NotFound
from app.exports.sheets import add_sheet, csv_text, workbook_bytes
from app.models import (
    Customer,
    Location,
    Lot,
    LotLink,
    LotOrigin,
    Product,
    ProductionRun,
    Receipt,
    ReceiptLine,
    Shipment,
    ShipmentLine,
    Supplier,
    Warehouse,
)


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


@dataclass(frozen=True)
class Selection:
    date_from: date
    date_to: date
    skus: tuple[str, ...] = ()
    lot_ids: tuple[int, ...] = ()


def tlc(lot: Lot) -> str:
    """Traceability lot code: a received lot keeps its supplier's code; a lot we made has ours."""
    if lot.origin is LotOrigin.RECEIPT and lot.supplier_lot_code:
        return lot.supplier_lot_code
    return lot.code


def _place(name: str, *parts: str | None) -> str:
    return ", ".join([name, *[p.replace("\n", ", ") for p in parts if p]])


def _product(p: Product) -> str:
    return f"{p.name} ({p.sku})"


def _filter(q: Any, lot_cols: list[Any], product_cols: list[Any], sel: Selection, product_ids: list[int]) -> Any:
    """Events touching any chosen product or lot (an empty choice means every product)."""
    conds: list[ColumnElement[bool]] = []
    if product_ids:
        conds.extend(col.in_(product_ids) for col in product_cols)
    if sel.lot_ids:
        conds.extend(col.in_(sel.lot_ids) for col in lot_cols)
    return q.where(or_(*conds)) if conds else q


def rows(session: Session, sel: Selection, *, company: str) -> list[Row]:
    """Receiving, transformation and shipping events in the range, for the chosen products or lots."""
    if sel.date_from > sel.date_to:
        raise Invalid(f"the range runs backwards: from {sel.date_from} is after to {sel.date_to}", "from")
    product_ids: list[int] = []
    for sku in sel.skus:
        pid = session.scalar(select(Product.id).where(Product.sku == sku))
        if pid is None:
            raise NotFound(f"no product with sku {sku!r}", "sku")
        product_ids.append(pid)
    if sel.lot_ids:
        known = set(session.scalars(select(Lot.id).where(Lot.id.in_(sel.lot_ids))))
        missing = [i for i in sel.lot_ids if i not in known]
        if missing:
            raise NotFound(f"lot {missing[0]} does not exist", "lot_id")
    out = _receiving(session, sel, product_ids, company)
    out += _transformation(session, sel, product_ids, company)
    out += _shipping(session, sel, product_ids, company)
    out.sort(key=lambda r: (r.event_date, _EVENT_ORDER[r.event], r.document_number, r.tlc, r.input_tlc))
    return out


def _receiving(session: Session, sel: Selection, product_ids: list[int], company: str) -> list[Row]:
    """The supplier is the ship-from and, for its own lot codes, the lot code source; we receive."""
    out: list[Row] = []
    q = (select(ReceiptLine, Receipt, Supplier, Lot, Product, Location, Warehouse)
         .join(Receipt, ReceiptLine.receipt_id == Receipt.id).join(Supplier, Receipt.supplier_id == Supplier.id)
         .join(Lot, ReceiptLine.lot_id == Lot.id).join(Product, Lot.product_id == Product.id)
         .join(Location, ReceiptLine.location_id == Location.id).join(Warehouse, Location.warehouse_id == Warehouse.id)
         .where(Receipt.received_on.between(sel.date_from, sel.date_to)))
    q = _filter(q, [ReceiptLine.lot_id], [Lot.product_id], sel, product_ids)
    for line, receipt, supplier, lot, product, location, wh in session.execute(q):
        supplier_place = _place(supplier.name, supplier.address)
        out.append(Row("Receiving", receipt.received_on, tlc(lot), _product(product), line.quantity, product.unit,
                       supplier_place if lot.supplier_lot_code else _place(company, wh.name, wh.address),
                       supplier_place, _place(company, wh.name, wh.address, location.name), "", "", None, "",
                       "Receipt" + (f" (supplier ref. {receipt.reference})" if receipt.reference else ""),
                       receipt.number, product.sku, product.gtin or "", lot.code))
    return out


def _transformation(session: Session, sel: Selection, product_ids: list[int], company: str) -> list[Row]:
    """One row per input lot of each production run."""
    out: list[Row] = []
    out_lot, in_lot = aliased(Lot), aliased(Lot)
    out_product, in_product = aliased(Product), aliased(Product)
    q = (select(LotLink, ProductionRun, out_lot, out_product, in_lot, in_product, Location, Warehouse)
         .join(ProductionRun, LotLink.run_id == ProductionRun.id)
         .join(out_lot, LotLink.output_lot_id == out_lot.id).join(out_product, out_lot.product_id == out_product.id)
         .join(in_lot, LotLink.input_lot_id == in_lot.id).join(in_product, in_lot.product_id == in_product.id)
         .join(Location, ProductionRun.location_id == Location.id)
         .join(Warehouse, Location.warehouse_id == Warehouse.id)
         .where(ProductionRun.produced_on.between(sel.date_from, sel.date_to)))
    q = _filter(q, [LotLink.output_lot_id, LotLink.input_lot_id], [out_lot.product_id, in_lot.product_id], sel,
                product_ids)
    for link, run, olot, oprod, ilot, iprod, location, wh in session.execute(q):
        here = _place(company, wh.name, wh.address)
        out.append(Row("Transformation", run.produced_on, tlc(olot), _product(oprod), run.output_quantity,
                       oprod.unit, here, "", _place(company, wh.name, wh.address, location.name), tlc(ilot),
                       _product(iprod), link.quantity, iprod.unit, "Production record", run.number, oprod.sku,
                       oprod.gtin or "", olot.code))
    return out


def _shipping(session: Session, sel: Selection, product_ids: list[int], company: str) -> list[Row]:
    """Lines of the same lot on one shipment added up; we ship from the shipment's warehouse."""
    out: list[Row] = []
    agg = (select(ShipmentLine.shipment_id, ShipmentLine.lot_id, func.sum(ShipmentLine.quantity).label("qty"))
           .join(Lot, ShipmentLine.lot_id == Lot.id).join(Shipment, ShipmentLine.shipment_id == Shipment.id)
           .where(Shipment.shipped_on.between(sel.date_from, sel.date_to)))
    agg = _filter(agg, [ShipmentLine.lot_id], [Lot.product_id], sel, product_ids)
    sums = agg.group_by(ShipmentLine.shipment_id, ShipmentLine.lot_id).subquery()
    q = (select(sums.c.qty, Shipment, Customer, Warehouse, Lot, Product, Supplier)
         .join(Shipment, sums.c.shipment_id == Shipment.id).join(Customer, Shipment.customer_id == Customer.id)
         .join(Warehouse, Shipment.warehouse_id == Warehouse.id).join(Lot, sums.c.lot_id == Lot.id)
         .join(Product, Lot.product_id == Product.id).outerjoin(Supplier, Lot.supplier_id == Supplier.id))
    for qty, s, customer, wh, lot, product, supplier in session.execute(q):
        ours = _place(company, wh.name, wh.address)
        source = (_place(supplier.name, supplier.address)
                  if lot.origin is LotOrigin.RECEIPT and lot.supplier_lot_code and supplier else ours)
        out.append(Row("Shipping", s.shipped_on, tlc(lot), _product(product), qty, product.unit, source, ours,
                       _place(customer.name, customer.address), "", "", None, "",
                       "Shipment" + (f" (carrier ref. {s.carrier_reference})" if s.carrier_reference else ""),
                       s.number, product.sku, product.gtin or "", lot.code))
    return out


def to_xlsx(data: list[Row]) -> bytes:
    """The sortable spreadsheet: a data sheet (filterable, header frozen) and a glossary sheet."""
    wb = Workbook()
    add_sheet(wb, "Traceability records", HEADERS, [astuple(r) for r in data], first=True)
    add_sheet(wb, "Glossary", ["Column", "Meaning"], GLOSSARY)
    return workbook_bytes(wb)


def to_csv(data: list[Row]) -> bytes:
    return ("\ufeff" + csv_text([(None, HEADERS, [astuple(r) for r in data])])).encode("utf-8")

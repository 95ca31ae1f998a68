"""The events the regulatory exports report: FSMA 204 critical tracking events and EPCIS events.

Rows are read as plain columns, not ORM objects (a month of a busy site is tens of thousands of lines);
`app.exports.fsma204` and `app.exports.epcis` format them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, aliased

from app.errors import Invalid, NotFound
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
    Warehouse,
)
from app.schemas import (
    EpcisEvents,
    EpcisLot,
    EpcisProduction,
    EpcisRecall,
    EpcisReceiving,
    EpcisShipping,
    EpcisWriteOff,
    FsmaEvents,
    FsmaLot,
    FsmaPlace,
    FsmaProduct,
    FsmaReceiving,
    FsmaSelection,
    FsmaShipping,
    FsmaTransformation,
)


def _check_range(date_from: date, date_to: date) -> None:
    if date_from > date_to:
        raise Invalid(f"the range runs backwards: from {date_from} is after to {date_to}", "from")


# --- FSMA 204 ----------------------------------------------------------------------------------


def fsma204_events(session: Session, sel: FsmaSelection) -> FsmaEvents:
    """Receiving, transformation and shipping events in the range, for the chosen products or lots."""
    _check_range(sel.date_from, sel.date_to)
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
    return FsmaEvents(receiving=_fsma_receiving(session, sel, product_ids),
                      transformation=_fsma_transformation(session, sel, product_ids),
                      shipping=_fsma_shipping(session, sel, product_ids))


def _filter(q: Any, lot_cols: Sequence[Any], product_cols: Sequence[Any], sel: FsmaSelection,
            product_ids: list[int]) -> Any:
    """Events touching any chosen product or lot (an empty choice means every product)."""
    conds: list[ColumnElement[bool]] = []
    if product_ids:
        conds.extend(col.in_(product_ids) for col in product_cols)
    if sel.lot_ids:
        conds.extend(col.in_(sel.lot_ids) for col in lot_cols)
    return q.where(or_(*conds)) if conds else q


def _lot_cols(lot: Any) -> tuple[Any, ...]:
    return lot.code, lot.origin, lot.supplier_lot_code


def _product_cols(product: Any) -> tuple[Any, ...]:
    return product.sku, product.name, product.unit, product.gtin


_WAREHOUSE = (Warehouse.name, Warehouse.address)


def _fsma_receiving(session: Session, sel: FsmaSelection, product_ids: list[int]) -> list[FsmaReceiving]:
    q = (select(Receipt.received_on, Receipt.number, Receipt.reference, Supplier.name, Supplier.address,
                *_lot_cols(Lot), *_product_cols(Product), ReceiptLine.quantity, *_WAREHOUSE, Location.name)
         .select_from(ReceiptLine)
         .join(Receipt, ReceiptLine.receipt_id == Receipt.id).join(Supplier, Receipt.supplier_id == Supplier.id)
         .join(Lot, ReceiptLine.lot_id == Lot.id).join(Product, Lot.product_id == Product.id)
         .join(Location, ReceiptLine.location_id == Location.id).join(Warehouse, Location.warehouse_id == Warehouse.id)
         .where(Receipt.received_on.between(sel.date_from, sel.date_to)))
    q = _filter(q, [ReceiptLine.lot_id], [Lot.product_id], sel, product_ids)
    return [FsmaReceiving(r[0], r[1], r[2], FsmaPlace(r[3], r[4]), FsmaLot(r[5], r[6], r[7]),
                          FsmaProduct(r[8], r[9], r[10], r[11]), r[12], FsmaPlace(r[13], r[14]), r[15])
            for r in session.execute(q)]


def _fsma_transformation(session: Session, sel: FsmaSelection, product_ids: list[int]) -> list[FsmaTransformation]:
    """One row per input lot of each production run."""
    out_lot, in_lot = aliased(Lot), aliased(Lot)
    out_product, in_product = aliased(Product), aliased(Product)
    q = (select(ProductionRun.produced_on, ProductionRun.number, *_lot_cols(out_lot), *_product_cols(out_product),
                ProductionRun.output_quantity, *_lot_cols(in_lot), *_product_cols(in_product), LotLink.quantity,
                *_WAREHOUSE, Location.name)
         .select_from(LotLink)
         .join(ProductionRun, LotLink.run_id == ProductionRun.id)
         .join(out_lot, LotLink.output_lot_id == out_lot.id).join(out_product, out_lot.product_id == out_product.id)
         .join(in_lot, LotLink.input_lot_id == in_lot.id).join(in_product, in_lot.product_id == in_product.id)
         .join(Location, ProductionRun.location_id == Location.id)
         .join(Warehouse, Location.warehouse_id == Warehouse.id)
         .where(ProductionRun.produced_on.between(sel.date_from, sel.date_to)))
    q = _filter(q, [LotLink.output_lot_id, LotLink.input_lot_id], [out_lot.product_id, in_lot.product_id], sel,
                product_ids)
    return [FsmaTransformation(r[0], r[1], FsmaLot(r[2], r[3], r[4]), FsmaProduct(r[5], r[6], r[7], r[8]), r[9],
                               FsmaLot(r[10], r[11], r[12]), FsmaProduct(r[13], r[14], r[15], r[16]), r[17],
                               FsmaPlace(r[18], r[19]), r[20])
            for r in session.execute(q)]


def _fsma_shipping(session: Session, sel: FsmaSelection, product_ids: list[int]) -> list[FsmaShipping]:
    """Lines of the same lot on one shipment added up; we ship from the shipment's warehouse."""
    agg = (select(ShipmentLine.shipment_id, ShipmentLine.lot_id, func.sum(ShipmentLine.quantity).label("qty"))
           .join(Lot, ShipmentLine.lot_id == Lot.id).join(Shipment, ShipmentLine.shipment_id == Shipment.id)
           .where(Shipment.shipped_on.between(sel.date_from, sel.date_to)))
    agg = _filter(agg, [ShipmentLine.lot_id], [Lot.product_id], sel, product_ids)
    sums = agg.group_by(ShipmentLine.shipment_id, ShipmentLine.lot_id).subquery()
    q = (select(Shipment.shipped_on, Shipment.number, Shipment.carrier_reference, Customer.name, Customer.address,
                *_WAREHOUSE, *_lot_cols(Lot), *_product_cols(Product), Supplier.id, Supplier.name, Supplier.address,
                sums.c.qty)
         .select_from(sums)
         .join(Shipment, sums.c.shipment_id == Shipment.id).join(Customer, Shipment.customer_id == Customer.id)
         .join(Warehouse, Shipment.warehouse_id == Warehouse.id).join(Lot, sums.c.lot_id == Lot.id)
         .join(Product, Lot.product_id == Product.id).outerjoin(Supplier, Lot.supplier_id == Supplier.id))
    return [FsmaShipping(r[0], r[1], r[2], FsmaPlace(r[3], r[4]), FsmaPlace(r[5], r[6]), FsmaLot(r[7], r[8], r[9]),
                         FsmaProduct(r[10], r[11], r[12], r[13]),
                         FsmaPlace(r[15], r[16]) if r[14] is not None else None, r[17])
            for r in session.execute(q)]


# --- EPCIS -------------------------------------------------------------------------------------

_ITEM = (Product.gtin, Product.sku, Product.unit)


def _lot(r: Any, quantity: Any) -> EpcisLot:
    return EpcisLot(r.gtin, r.sku, r.unit, r.code, quantity)


def epcis_events(session: Session, date_from: date, date_to: date, timezone: str) -> EpcisEvents:
    """Every event in the range: business dates, both ends included; a recall counts on the day it was
    opened in the site's time zone."""
    _check_range(date_from, date_to)
    return EpcisEvents(receiving=_epcis_receiving(session, date_from, date_to),
                       production=_epcis_production(session, date_from, date_to),
                       shipping=_epcis_shipping(session, date_from, date_to),
                       write_offs=_epcis_write_offs(session, date_from, date_to),
                       recalls=_epcis_recalls(session, date_from, date_to, ZoneInfo(timezone)))


def _epcis_receiving(session: Session, date_from: date, date_to: date) -> list[EpcisReceiving]:
    lines: dict[int, list[EpcisLot]] = defaultdict(list)
    heads: dict[int, Any] = {}
    for r in session.execute(
        select(Receipt.id, Receipt.number, Receipt.received_on, Receipt.created_at, Supplier.id.label("sid"),
               Supplier.gln, Location.code.label("location"), Lot.code, ReceiptLine.quantity, *_ITEM)
        .join(Receipt, ReceiptLine.receipt_id == Receipt.id).join(Supplier, Receipt.supplier_id == Supplier.id)
        .join(Lot, ReceiptLine.lot_id == Lot.id).join(Product, Lot.product_id == Product.id)
        .join(Location, ReceiptLine.location_id == Location.id)
        .where(Receipt.received_on.between(date_from, date_to)).order_by(ReceiptLine.id)
    ):
        lines[r.id].append(_lot(r, r.quantity))
        heads.setdefault(r.id, r)
    return [EpcisReceiving(h.number, h.received_on, h.created_at, h.sid, h.gln, h.location, tuple(lines[rid]))
            for rid, h in heads.items()]


def _epcis_production(session: Session, date_from: date, date_to: date) -> list[EpcisProduction]:
    in_range = ProductionRun.produced_on.between(date_from, date_to)
    inputs: dict[int, list[EpcisLot]] = defaultdict(list)
    for i in session.execute(
        select(LotLink.run_id, LotLink.quantity, Lot.code, *_ITEM)
        .join(ProductionRun, LotLink.run_id == ProductionRun.id)
        .join(Lot, LotLink.input_lot_id == Lot.id).join(Product, Lot.product_id == Product.id)
        .where(in_range).order_by(LotLink.id)
    ):
        inputs[i.run_id].append(_lot(i, i.quantity))
    return [
        EpcisProduction(r.number, r.produced_on, r.created_at, r.location, _lot(r, r.output_quantity), r.expiry,
                        tuple(inputs.get(r.id, ())))
        for r in session.execute(
            select(ProductionRun.id, ProductionRun.number, ProductionRun.produced_on, ProductionRun.created_at,
                   ProductionRun.output_quantity, Lot.code, Lot.expiry, Location.code.label("location"), *_ITEM)
            .join(Lot, ProductionRun.output_lot_id == Lot.id).join(Product, ProductionRun.product_id == Product.id)
            .join(Location, ProductionRun.location_id == Location.id).where(in_range).order_by(ProductionRun.id))
    ]


def _epcis_shipping(session: Session, date_from: date, date_to: date) -> list[EpcisShipping]:
    lines: dict[int, list[EpcisLot]] = defaultdict(list)
    heads: dict[int, Any] = {}
    for r in session.execute(
        select(Shipment.id, Shipment.number, Shipment.shipped_on, Shipment.created_at, Customer.id.label("cid"),
               Customer.gln, Location.code.label("location"), Lot.code, ShipmentLine.quantity, *_ITEM)
        .join(Shipment, ShipmentLine.shipment_id == Shipment.id).join(Customer, Shipment.customer_id == Customer.id)
        .join(Lot, ShipmentLine.lot_id == Lot.id).join(Product, Lot.product_id == Product.id)
        .join(Location, ShipmentLine.location_id == Location.id)
        .where(Shipment.shipped_on.between(date_from, date_to)).order_by(ShipmentLine.id)
    ):
        lines[r.id].append(_lot(r, r.quantity))
        heads.setdefault(r.id, r)
    return [EpcisShipping(h.number, h.shipped_on, h.created_at, h.cid, h.gln, h.location, tuple(lines[sid]))
            for sid, h in heads.items()]


def _epcis_write_offs(session: Session, date_from: date, date_to: date) -> list[EpcisWriteOff]:
    return [
        EpcisWriteOff(r.id, r.booked_on, r.created_at, r.location, _lot(r, -r.quantity))
        for r in session.execute(
            select(Movement.id, Movement.quantity, Movement.booked_on, Movement.created_at, Lot.code,
                   Location.code.label("location"), *_ITEM)
            .join(Lot, Movement.lot_id == Lot.id).join(Product, Lot.product_id == Product.id)
            .join(Location, Movement.location_id == Location.id)
            .where(Movement.kind == MovementKind.WRITE_OFF, Movement.booked_on.between(date_from, date_to))
            .order_by(Movement.id))
    ]


def _epcis_recalls(session: Session, date_from: date, date_to: date, zone: ZoneInfo) -> list[EpcisRecall]:
    start = datetime.combine(date_from, time.min, tzinfo=zone)
    end = datetime.combine(date_to, time.max, tzinfo=zone)
    recalls = session.execute(select(Recall.id, Recall.number, Recall.opened_at)
                              .where(Recall.opened_at.between(start, end)).order_by(Recall.id)).all()
    lots: dict[int, list[EpcisLot]] = defaultdict(list)
    if recalls:
        for r in session.execute(
            select(RecallLot.recall_id, Lot.code, *_ITEM).join(Lot, RecallLot.lot_id == Lot.id)
            .join(Product, Lot.product_id == Product.id).where(RecallLot.recall_id.in_([c.id for c in recalls]))
            .order_by(RecallLot.recall_id, Product.sku, Lot.code)
        ):
            lots[r.recall_id].append(_lot(r, None))
    return [EpcisRecall(c.number, c.opened_at, tuple(lots[c.id])) for c in recalls]

"""The events the regulatory exports report: FSMA 204 critical tracking events and EPCIS events.

Rows are read as plain columns, not ORM objects (a month of a busy site is tens of thousands of lines);
`app.exports.fsma204` and `app.exports.epcis` format them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from itertools import groupby
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from app.errors import Invalid, NotFound
from app.models import (
    Customer,
    Location,
    Lot,
    LotLink,
    LotOrigin,
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
from app.queries.traceability import walk
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
    FsmaOrigin,
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

# Rows are fetched from the database in batches of this many, never all at once.
BATCH = 2000


@dataclass(frozen=True, slots=True)
class _Scope:
    """A selection resolved to ids: products whose events count, lots whose events count (None: no lot
    filter), and whether lots narrow transformations to the runs that made them (a trace or a recall)."""

    product_ids: tuple[int, ...]
    lot_ids: tuple[int, ...] | None
    by_output: bool


def selection_lots(session: Session, sel: FsmaSelection) -> tuple[int, ...] | None:
    """The lots a recall or a lot's trace covers (none: the selection names neither). Unknown recall or
    lot: NotFound naming the field."""
    if sel.recall_id is not None:
        if session.get(Recall, sel.recall_id) is None:
            raise NotFound(f"recall {sel.recall_id} does not exist", "recall")
        return tuple(session.scalars(select(RecallLot.lot_id).where(RecallLot.recall_id == sel.recall_id)
                                     .order_by(RecallLot.lot_id)))
    if sel.lot_id is not None:
        if session.get(Lot, sel.lot_id) is None:
            raise NotFound(f"lot {sel.lot_id} does not exist", "lot")
        found = {sel.lot_id}
        for way in ("backward", "forward"):
            found.update(walk(session, [sel.lot_id], way).reached)
        return tuple(sorted(found))
    return None


def _scope(session: Session, sel: FsmaSelection) -> _Scope:
    if sel.date_from and sel.date_to:
        _check_range(sel.date_from, sel.date_to)
    product_ids: list[int] = []
    for sku in sel.skus:
        pid = session.scalar(select(Product.id).where(Product.sku == sku))
        if pid is None:
            raise NotFound(f"no product with sku {sku!r}", "sku")
        product_ids.append(pid)
    if sel.product_id is not None:
        if session.get(Product, sel.product_id) is None:
            raise NotFound(f"product {sel.product_id} does not exist", "product")
        product_ids.append(sel.product_id)
    if sel.lot_ids:
        known = set(session.scalars(select(Lot.id).where(Lot.id.in_(sel.lot_ids))))
        missing = [i for i in sel.lot_ids if i not in known]
        if missing:
            raise NotFound(f"lot {missing[0]} does not exist", "lot_id")
    traced = selection_lots(session, sel)
    if traced is not None:
        return _Scope(tuple(product_ids), traced, True)
    return _Scope(tuple(product_ids), sel.lot_ids or None, False)


def fsma204_events(session: Session, sel: FsmaSelection) -> FsmaEvents:
    """Receiving, transformation and shipping events of the selection. The selection is checked at once
    (NotFound / Invalid naming the field); the events are streamed as they are read."""
    scope = _scope(session, sel)
    return FsmaEvents(receiving=_fsma_receiving(session, sel, scope),
                      transformation=_fsma_transformation(session, sel, scope),
                      shipping=_fsma_shipping(session, sel, scope))


def _dates(q: Any, col: Any, sel: FsmaSelection) -> Any:
    if sel.date_from is not None:
        q = q.where(col >= sel.date_from)
    if sel.date_to is not None:
        q = q.where(col <= sel.date_to)
    return q


def _filter(q: Any, lot_cols: Sequence[Any], product_cols: Sequence[Any], scope: _Scope) -> Any:
    """Events touching any chosen product or lot (an empty choice means every product)."""
    conds: list[ColumnElement[bool]] = []
    if scope.product_ids:
        conds.extend(col.in_(scope.product_ids) for col in product_cols)
    if scope.lot_ids is not None:
        if not scope.lot_ids:
            return q.where(false())
        conds.extend(col.in_(scope.lot_ids) for col in lot_cols)
    return q.where(or_(*conds)) if conds else q


def _stream(session: Session, q: Any) -> Iterator[Any]:
    # Batches through a server-side cursor where the database has one: memory stays flat over years of rows.
    # Run on the session's connection (Core): these are plain columns, and the ORM's row loading only adds cost.
    yield from session.connection().execute(q, execution_options={"yield_per": BATCH})


def _lot_cols(lot: Any) -> tuple[Any, ...]:
    return lot.code, lot.origin, lot.supplier_lot_code


def _tlc_col(lot: Any) -> Any:
    """The traceability lot code in SQL, to order rows by it (`app.exports.fsma204.tlc`)."""
    return case((and_(lot.origin == LotOrigin.RECEIPT, lot.supplier_lot_code.is_not(None)), lot.supplier_lot_code),
                else_=lot.code)


def _product_cols(product: Any) -> tuple[Any, ...]:
    return product.sku, product.name, product.unit, product.gtin


_WAREHOUSE = (Warehouse.name, Warehouse.address, Warehouse.phone, Warehouse.business_name)


def _site(r: Any, i: int) -> FsmaPlace:
    return FsmaPlace(r[i], r[i + 1], r[i + 2], r[i + 3])


def _fsma_receiving(session: Session, sel: FsmaSelection, scope: _Scope) -> Iterator[FsmaReceiving]:
    q = (select(Receipt.received_on, Receipt.number, Receipt.reference, Supplier.name, Supplier.address,
                Supplier.phone, Supplier.gln, *_lot_cols(Lot), *_product_cols(Product), ReceiptLine.quantity,
                *_WAREHOUSE, Location.name, Receipt.harvested_on, Receipt.harvest_location, Receipt.harvester,
                Receipt.cooled_on, Receipt.cooling_location, Receipt.packed_on, Receipt.packing_location,
                Receipt.landed_on)
         .select_from(ReceiptLine)
         .join(Receipt, ReceiptLine.receipt_id == Receipt.id).join(Supplier, Receipt.supplier_id == Supplier.id)
         .join(Lot, ReceiptLine.lot_id == Lot.id).join(Product, Lot.product_id == Product.id)
         .join(Location, ReceiptLine.location_id == Location.id).join(Warehouse, Location.warehouse_id == Warehouse.id))
    q = _filter(_dates(q, Receipt.received_on, sel), [ReceiptLine.lot_id], [Lot.product_id], scope)
    q = q.order_by(Receipt.received_on, Receipt.number, _tlc_col(Lot), ReceiptLine.id)
    for r in _stream(session, q):
        yield FsmaReceiving(r[0], r[1], r[2], FsmaPlace(r[3], r[4], r[5], gln=r[6]), FsmaLot(r[7], r[8], r[9]),
                            FsmaProduct(r[10], r[11], r[12], r[13]), r[14], _site(r, 15), r[19],
                            FsmaOrigin(*r[20:28]))


def _fsma_transformation(session: Session, sel: FsmaSelection, scope: _Scope) -> Iterator[FsmaTransformation]:
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
         .join(Warehouse, Location.warehouse_id == Warehouse.id))
    # A traced lot or a recall lists the runs that made its lots, each with all of its inputs; chosen lots
    # also list the runs that used them.
    lot_cols = [LotLink.output_lot_id] if scope.by_output else [LotLink.output_lot_id, LotLink.input_lot_id]
    q = _filter(_dates(q, ProductionRun.produced_on, sel), lot_cols, [out_lot.product_id, in_lot.product_id], scope)
    q = q.order_by(ProductionRun.produced_on, ProductionRun.number, _tlc_col(out_lot), _tlc_col(in_lot), LotLink.id)
    for r in _stream(session, q):
        yield FsmaTransformation(r[0], r[1], FsmaLot(r[2], r[3], r[4]), FsmaProduct(r[5], r[6], r[7], r[8]), r[9],
                                 FsmaLot(r[10], r[11], r[12]), FsmaProduct(r[13], r[14], r[15], r[16]), r[17],
                                 _site(r, 18), r[22])


def _fsma_shipping(session: Session, sel: FsmaSelection, scope: _Scope) -> Iterator[FsmaShipping]:
    """Lines of the same lot on one shipment added up; we ship from the shipment's warehouse."""
    agg = (select(ShipmentLine.shipment_id, ShipmentLine.lot_id, func.sum(ShipmentLine.quantity).label("qty"))
           .join(Lot, ShipmentLine.lot_id == Lot.id).join(Shipment, ShipmentLine.shipment_id == Shipment.id))
    agg = _filter(_dates(agg, Shipment.shipped_on, sel), [ShipmentLine.lot_id], [Lot.product_id], scope)
    sums = agg.group_by(ShipmentLine.shipment_id, ShipmentLine.lot_id).subquery()
    q = (select(Shipment.shipped_on, Shipment.number, Shipment.carrier_reference, Customer.name, Customer.address,
                Customer.phone, Customer.gln, *_WAREHOUSE, *_lot_cols(Lot), *_product_cols(Product), Supplier.id,
                Supplier.name, Supplier.address, Supplier.phone, Supplier.gln, sums.c.qty)
         .select_from(sums)
         .join(Shipment, sums.c.shipment_id == Shipment.id).join(Customer, Shipment.customer_id == Customer.id)
         .join(Warehouse, Shipment.warehouse_id == Warehouse.id).join(Lot, sums.c.lot_id == Lot.id)
         .join(Product, Lot.product_id == Product.id).outerjoin(Supplier, Lot.supplier_id == Supplier.id)
         .order_by(Shipment.shipped_on, Shipment.number, _tlc_col(Lot), Lot.id))
    for r in _stream(session, q):
        yield FsmaShipping(r[0], r[1], r[2], FsmaPlace(r[3], r[4], r[5], gln=r[6]), _site(r, 7),
                           FsmaLot(r[11], r[12], r[13]), FsmaProduct(r[14], r[15], r[16], r[17]),
                           FsmaPlace(r[19], r[20], r[21], gln=r[22]) if r[18] is not None else None, r[23])


# --- EPCIS -------------------------------------------------------------------------------------

_ITEM = (Product.gtin, Product.sku, Product.unit)


def _lot(r: Any, quantity: Any) -> EpcisLot:
    return EpcisLot(r.gtin, r.sku, r.unit, r.code, quantity)


def epcis_events(session: Session, date_from: date | None, date_to: date | None, timezone: str,
                 sel: FsmaSelection | None = None) -> EpcisEvents:
    """Every event of the selection (by default, of the range): business dates, both ends included; a recall
    counts on the day it was opened in the site's time zone. A recall, a lot (with its trace) or a product
    narrows the events to those lots' receipts, production runs, shipments, write-offs and recalls."""
    sel = sel or FsmaSelection(date_from, date_to)
    scope = _scope(session, sel)
    return EpcisEvents(receiving=_epcis_receiving(session, sel, scope),
                       production=_epcis_production(session, sel, scope),
                       shipping=_epcis_shipping(session, sel, scope),
                       write_offs=_epcis_write_offs(session, sel, scope),
                       recalls=_epcis_recalls(session, sel, scope, ZoneInfo(timezone)))


def _epcis_receiving(session: Session, sel: FsmaSelection, scope: _Scope) -> Iterator[EpcisReceiving]:
    q = (select(Receipt.id, Receipt.number, Receipt.received_on, Receipt.created_at, Supplier.id.label("sid"),
                Supplier.gln, Location.code.label("location"), Lot.code, ReceiptLine.quantity, *_ITEM)
         .join(Receipt, ReceiptLine.receipt_id == Receipt.id).join(Supplier, Receipt.supplier_id == Supplier.id)
         .join(Lot, ReceiptLine.lot_id == Lot.id).join(Product, Lot.product_id == Product.id)
         .join(Location, ReceiptLine.location_id == Location.id))
    q = _filter(_dates(q, Receipt.received_on, sel), [ReceiptLine.lot_id], [Lot.product_id], scope)
    q = q.order_by(Receipt.received_on, Receipt.id, ReceiptLine.id)
    # Lines come in order of business date and receipt: each receipt's lines are together, one at a time in memory.
    return (EpcisReceiving(h.number, h.received_on, h.created_at, h.sid, h.gln, h.location,
                           tuple(_lot(r, r.quantity) for r in rows))
            for rows in _grouped(_stream(session, q)) for h in rows[:1])


def _grouped(rows: Iterator[Any]) -> Iterator[list[Any]]:
    """Consecutive rows of the same `id` (a receipt's or shipment's lines) as lists."""
    for _, group in groupby(rows, key=attrgetter("id")):
        yield list(group)


def _epcis_production(session: Session, sel: FsmaSelection, scope: _Scope) -> Iterator[EpcisProduction]:
    runs = _dates(select(ProductionRun.id).join(Lot, ProductionRun.output_lot_id == Lot.id),
                  ProductionRun.produced_on, sel)
    if scope.by_output:
        runs = _filter(runs, [ProductionRun.output_lot_id], [Lot.product_id], scope)
    elif scope.product_ids or scope.lot_ids is not None:
        in_lot = aliased(Lot)
        runs = _filter(runs.outerjoin(LotLink, LotLink.run_id == ProductionRun.id)
                       .outerjoin(in_lot, LotLink.input_lot_id == in_lot.id),
                       [ProductionRun.output_lot_id, LotLink.input_lot_id], [Lot.product_id, in_lot.product_id], scope)
    chosen = runs.distinct().subquery()
    # Runs and their inputs both in order of (business date, run): read side by side, a run's inputs next to it.
    inputs_q = (select(LotLink.run_id, LotLink.quantity, Lot.code, *_ITEM)
                .join(Lot, LotLink.input_lot_id == Lot.id).join(Product, Lot.product_id == Product.id)
                .join(ProductionRun, LotLink.run_id == ProductionRun.id)
                .where(LotLink.run_id.in_(select(chosen.c.id)))
                .order_by(ProductionRun.produced_on, LotLink.run_id, LotLink.id))
    runs_q = (select(ProductionRun.id, ProductionRun.number, ProductionRun.produced_on, ProductionRun.created_at,
                     ProductionRun.output_quantity, Lot.code, Lot.expiry, Location.code.label("location"), *_ITEM)
              .join(Lot, ProductionRun.output_lot_id == Lot.id).join(Product, ProductionRun.product_id == Product.id)
              .join(Location, ProductionRun.location_id == Location.id)
              .where(ProductionRun.id.in_(select(chosen.c.id))).order_by(ProductionRun.produced_on, ProductionRun.id))

    def made() -> Iterator[EpcisProduction]:
        inputs = groupby(_stream(session, inputs_q), key=attrgetter("run_id"))
        pending = next(inputs, None)
        for r in _stream(session, runs_q):
            lots: tuple[EpcisLot, ...] = ()
            if pending is not None and pending[0] == r.id:
                lots = tuple(_lot(i, i.quantity) for i in pending[1])
                pending = next(inputs, None)
            yield EpcisProduction(r.number, r.produced_on, r.created_at, r.location, _lot(r, r.output_quantity),
                                  r.expiry, lots)

    return made()


def _epcis_shipping(session: Session, sel: FsmaSelection, scope: _Scope) -> Iterator[EpcisShipping]:
    q = (select(Shipment.id, Shipment.number, Shipment.shipped_on, Shipment.created_at, Customer.id.label("cid"),
                Customer.gln, Location.code.label("location"), Lot.code, ShipmentLine.quantity, *_ITEM)
         .join(Shipment, ShipmentLine.shipment_id == Shipment.id).join(Customer, Shipment.customer_id == Customer.id)
         .join(Lot, ShipmentLine.lot_id == Lot.id).join(Product, Lot.product_id == Product.id)
         .join(Location, ShipmentLine.location_id == Location.id))
    q = _filter(_dates(q, Shipment.shipped_on, sel), [ShipmentLine.lot_id], [Lot.product_id], scope)
    q = q.order_by(Shipment.shipped_on, Shipment.id, ShipmentLine.id)
    return (EpcisShipping(h.number, h.shipped_on, h.created_at, h.cid, h.gln, h.location,
                          tuple(_lot(r, r.quantity) for r in rows))
            for rows in _grouped(_stream(session, q)) for h in rows[:1])


def _epcis_write_offs(session: Session, sel: FsmaSelection, scope: _Scope) -> Iterator[EpcisWriteOff]:
    q = (select(Movement.id, Movement.quantity, Movement.booked_on, Movement.created_at, Lot.code,
                Location.code.label("location"), *_ITEM)
         .join(Lot, Movement.lot_id == Lot.id).join(Product, Lot.product_id == Product.id)
         .join(Location, Movement.location_id == Location.id)
         .where(Movement.kind == MovementKind.WRITE_OFF))
    q = _filter(_dates(q, Movement.booked_on, sel), [Movement.lot_id], [Lot.product_id], scope)
    return (EpcisWriteOff(r.id, r.booked_on, r.created_at, r.location, _lot(r, -r.quantity))
            for r in _stream(session, q.order_by(Movement.booked_on, Movement.id)))


def _epcis_recalls(session: Session, sel: FsmaSelection, scope: _Scope, zone: ZoneInfo) -> list[EpcisRecall]:
    q = select(Recall.id, Recall.number, Recall.opened_at)
    if sel.date_from is not None:
        q = q.where(Recall.opened_at >= datetime.combine(sel.date_from, time.min, tzinfo=zone))
    if sel.date_to is not None:
        q = q.where(Recall.opened_at <= datetime.combine(sel.date_to, time.max, tzinfo=zone))
    if sel.recall_id is not None:
        q = q.where(Recall.id == sel.recall_id)
    elif scope.product_ids or scope.lot_ids is not None:
        touched = _filter(select(RecallLot.recall_id).join(Lot, RecallLot.lot_id == Lot.id), [RecallLot.lot_id],
                          [Lot.product_id], scope)
        q = q.where(Recall.id.in_(touched))
    recalls = session.execute(q.order_by(Recall.id)).all()
    lots: dict[int, list[EpcisLot]] = defaultdict(list)
    if recalls:
        # The quantity a recall event names is each lot's whole quantity, as received or produced.
        made = (select(Movement.lot_id, func.sum(Movement.quantity).label("qty"))
                .where(Movement.kind.in_([MovementKind.RECEIVE, MovementKind.PRODUCE]),
                       Movement.lot_id.in_(select(RecallLot.lot_id)
                                           .where(RecallLot.recall_id.in_([c.id for c in recalls]))))
                .group_by(Movement.lot_id).subquery())
        for r in session.execute(
            select(RecallLot.recall_id, Lot.code, func.coalesce(made.c.qty, 0).label("qty"), *_ITEM)
            .join(Lot, RecallLot.lot_id == Lot.id).join(Product, Lot.product_id == Product.id)
            .outerjoin(made, made.c.lot_id == Lot.id)
            .where(RecallLot.recall_id.in_([c.id for c in recalls]))
            .order_by(RecallLot.recall_id, Product.sku, Lot.code)
        ):
            lots[r.recall_id].append(_lot(r, Decimal(r.qty)))
    return [EpcisRecall(c.number, c.opened_at, tuple(lots[c.id])) for c in recalls]

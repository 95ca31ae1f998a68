"""Scans: what a scanned label names (product, lot, order) and the scan event log of every read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, and_, bindparam, case, func, insert, or_, select
from sqlalchemy.orm import Session

from allocation.usability import is_expired
from app.db import Prepared, utcnow
from app.models import (
    Balance,
    Lot,
    LotOrigin,
    LotStatus,
    Order,
    OrderStatus,
    PackagingLevel,
    Product,
    ScanEvent,
    Supplier,
    User,
)
from app.queries.lots import (
    STOCK_PLACE_COLUMNS,
    STOCK_PLACES,
    genealogy_columns,
    genealogy_counts,
    stock_of,
    stock_out,
)
from app.rules.gate import lot_problems, problem_of
from app.schemas import (
    LotCandidateOut,
    ScanLotOut,
    ScanOrderOut,
    ScanOut,
    ScanPackagingOut,
    ScanProductOut,
    StockOut,
)
from app.services.base import one_statement
from app.services.lookups import lot_by_label
from scanning import Counted, Scan


def scan_fields(scan: Scan) -> dict[str, Any]:
    """The parsed fields of a scan as JSON-ready values (what the scan event stores)."""
    return {
        "kind": scan.kind, "symbology": scan.symbology, "gtin": scan.gtin, "sku": scan.sku, "lot": scan.lot,
        "expiry": scan.expiry, "best_before": scan.best_before, "production_date": scan.production_date,
        "serial": scan.serial, "quantity": scan.quantity, "net_weight_kg": scan.net_weight_kg,
        "sscc": scan.sscc, "text": scan.text, "elements": [list(e) for e in scan.elements],
    }


def _json(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else str(v) if isinstance(v, Decimal) else v)
            for k, v in fields.items()}


def look_up(session: Session, scan: Scan, *, raw: str, outcome: str, message: str | None, station: str | None,
            user: User | None, today: date, pairing: str | None = None) -> ScanOut:
    """What a parsed scan names, with the scan recorded: the reads first, then the event, one commit.

    On PostgreSQL the scan API runs the reads and the insert each on its own (`base.statement_at_a_time`: a
    handheld's scan is three round trips); elsewhere they share the request's transaction. On SQLite the write
    lock is taken only for the insert. A look-up that fails
    (a lost connection, a bug) still leaves its scan in the log, marked as an error, before the failure
    goes on to the caller.
    """
    try:
        answer = resolve(session, scan, event_id=0, today=today, pairing=pairing)
    except Exception as exc:
        session.rollback()
        record_scan(session, raw=raw, parsed=scan_fields(scan), outcome="error",
                    message=f"look-up failed: {type(exc).__name__}", station=station, user=user)
        raise
    event_id = record_scan(session, raw=raw, parsed=scan_fields(scan), outcome=outcome, message=message,
                           station=station, user=user)
    return answer.model_copy(update={"event_id": event_id})


@one_statement
def record_scan(session: Session, *, raw: str, parsed: dict[str, Any] | None, outcome: str, message: str | None,
                station: str | None, user: User | None) -> int:
    """Log one scan or photo read (outcome "ok" or "error") and return the event's id."""
    [(event_id,)] = _INSERT_EVENT.rows(session, {
        # PostgreSQL text cannot hold NUL, which a misconfigured scanner can send.
        "raw": raw.replace("\x00", ""), "parsed": _json(parsed) if parsed is not None else None, "outcome": outcome,
        "message": message, "station": station, "user_id": user.id if user else None, "created_at": utcnow()})
    return int(event_id)


# Every scan is logged: one INSERT … RETURNING id, run straight through the driver (`Prepared`), as are the
# look-ups below; through the ORM's bulk insert the same statement cost over half the CPU of logging a scan.
_SCAN_EVENT = cast(Table, ScanEvent.__table__)
_INSERT_EVENT = Prepared(insert(_SCAN_EVENT).values(
    {name: bindparam(name) for name in ("raw", "parsed", "outcome", "message", "station", "user_id", "created_at")})
    .returning(_SCAN_EVENT.c.id))


class ProductRow(NamedTuple):
    """What a scan's answer shows of a product: `ScanProductOut`'s fields, as read."""

    id: int
    sku: str
    name: str
    gtin: str | None
    unit: str
    shelf_life_days: int | None


class PackRow(NamedTuple):
    """A case or pallet of a product, named by its own GTIN."""

    id: int
    product_id: int
    level: str
    gtin: str
    content: Decimal


class LotRow(NamedTuple):
    """What a scan's answer shows of a lot, with its product and its supplier's name: what the gate judges too."""

    id: int
    code: str
    origin: LotOrigin
    supplier_id: int | None
    supplier_lot_code: str | None
    made_on: date
    expiry: date | None
    unit_cost: Decimal
    status: LotStatus
    hold_reason: str | None
    supplier_name: str | None
    product: ProductRow


class OrderRow(NamedTuple):
    id: int
    number: str
    status: OrderStatus


# The scan path runs on every read of every handheld: its statements are built once, read only the columns the
# answer shows, and run straight through the driver (`Prepared`): rows of plain values, no ORM objects.
_PRODUCT_COLUMNS = (Product.id, Product.sku, Product.name, Product.gtin, Product.unit, Product.shelf_life_days)
_LOT_COLUMNS = (Lot.id, Lot.code, Lot.origin, Lot.supplier_id, Lot.supplier_lot_code, Lot.made_on, Lot.expiry,
                Lot.unit_cost, Lot.status, Lot.hold_reason, Supplier.name)
_P, _L = len(_PRODUCT_COLUMNS), len(_LOT_COLUMNS)
_PRODUCT_BY_GTIN = Prepared(select(*_PRODUCT_COLUMNS).where(Product.gtin == bindparam("gtin")))
_PRODUCT_BY_ID = Prepared(select(*_PRODUCT_COLUMNS).where(Product.id == bindparam("id")))
_PRODUCT_BY_SKU = Prepared(select(*_PRODUCT_COLUMNS).where(Product.sku == bindparam("sku")))
_PACK_BY_GTIN = Prepared(select(PackagingLevel.id, PackagingLevel.product_id, PackagingLevel.level,
                                PackagingLevel.gtin, PackagingLevel.content)
                         .where(PackagingLevel.gtin == bindparam("gtin")))
# A label's product by GTIN with its lot by our lot code, the lot's supplier and genealogy counts, and one row per
# place the lot is on hand.
_LABELLED_LOT = Prepared(
    select(*_PRODUCT_COLUMNS, *_LOT_COLUMNS, *genealogy_columns(Lot.id), *STOCK_PLACE_COLUMNS)
    .select_from(Product)
    .outerjoin(Lot, and_(Lot.product_id == Product.id, Lot.code == bindparam("lot")))
    .outerjoin(Supplier, Supplier.id == Lot.supplier_id)
    .outerjoin(STOCK_PLACES, STOCK_PLACES.c.lot_id == Lot.id)
    .where(Product.gtin == bindparam("gtin"))
    .order_by(STOCK_PLACES.c.location))


def _product_row(row: tuple[Any, ...]) -> ProductRow:
    return ProductRow(*row[:_P])


def _lot_row(values: tuple[Any, ...], product: ProductRow) -> LotRow:
    return LotRow._make((*values, product))


def _lot_row_of(lot: Lot) -> LotRow:
    """A lot loaded by the ORM (a rare look-up's), as the scan path's row."""
    p = lot.product
    return LotRow(lot.id, lot.code, lot.origin, lot.supplier_id, lot.supplier_lot_code, lot.made_on, lot.expiry,
                  lot.unit_cost, lot.status, lot.hold_reason, lot.supplier.name if lot.supplier else None,
                  ProductRow(p.id, p.sku, p.name, p.gtin, p.unit, p.shelf_life_days))


def _product(session: Session, scan: Scan) -> tuple[ProductRow | None, PackRow | None]:
    """The product the label names, and the case or pallet of it when the GTIN is a pack's."""
    if scan.gtin:
        row = _PRODUCT_BY_GTIN.first(session, {"gtin": scan.gtin})
        if row is not None:
            return ProductRow(*row), None
        pack = _PACK_BY_GTIN.first(session, {"gtin": scan.gtin})
        if pack is None:
            return None, None
        product = _PRODUCT_BY_ID.first(session, {"id": pack[1]})
        return (ProductRow(*product) if product else None), PackRow(*pack)
    key = scan.sku or (scan.text if scan.kind == "text" else None)
    if key:
        row = _PRODUCT_BY_SKU.first(session, {"sku": key})
        return (ProductRow(*row) if row else None), None
    return None, None


Counts = tuple[int, int, int]


@dataclass(frozen=True)
class _Known:
    """What the query that found a lot already read about it: its genealogy counts and its stock."""

    counts: Counts
    stock: list[StockOut]


def _labelled_lot(session: Session, scan: Scan) -> tuple[ProductRow | None, LotRow | None, _Known | None]:
    """A label's product by GTIN with its lot by our lot code, the lot's supplier, how many lots went into it, were
    made from it and shipments carried it, and where it is on hand, in one query.

    Most scans are of our own lot labels, (01) and (10): this answers them in one round trip. What it does not find
    (a pack's GTIN, a supplier's lot code) the separate look-ups after it still try.
    """
    if not (scan.gtin and scan.lot):
        return None, None, None
    rows = _LABELLED_LOT.rows(session, {"gtin": scan.gtin, "lot": scan.lot})
    if not rows:
        return None, None, None
    first = rows[0]
    product = _product_row(first)
    if first[_P] is None:
        return product, None, None
    lot = _lot_row(first[_P:_P + _L], product)
    inputs, outputs, shipments = first[_P + _L:_P + _L + 3]
    stock = [stock_out(*row[_P + _L + 3:]) for row in rows if row[_P + _L + 3] is not None]
    return product, lot, _Known((int(inputs), int(outputs), int(shipments)), stock)


def _first(scan: Scan, ais: tuple[str, ...]) -> str | None:
    return next((ai for ai, _ in scan.elements if ai in ais), None)


def _counted(scan: Scan, product: ProductRow, pack: PackRow | None) -> Counted | str | None:
    """What the label's count comes to in the product's unit, or why it cannot be known."""
    if scan.quantity is None:
        if pack is not None and _first(scan, ("02",)) is None:
            # A pack's own GTIN without a count (its ITF-14, or (01) on the case) names one pack.
            return Counted(count=Decimal(1), content=pack.content, unit=product.unit, level=pack.level)
        return None
    key, count = _first(scan, ("01", "02")), _first(scan, ("37", "30"))
    if key == "01" and count == "30":
        # (30) is the variable count of items inside the trade item (01) itself.
        return Counted(count=scan.quantity, content=Decimal(1), unit=product.unit)
    if key == "01" and pack is None:
        # GS1 pairs a count of contained items (37) with the content GTIN (02) only: with the
        # product's own GTIN (01) the label does not say what was counted.
        return (f"The count ({count}) {scan.quantity} on this label goes with the product's own GTIN (01), "
                f"which GS1 does not allow: count the {product.name} and enter the quantity")
    # (02)+(37): that many of the trade item the GTIN names; a known case or pallet holds `content`
    # each. A case GTIN in (01) with (37) is read the same way: that many of those cases.
    if pack is None:
        return Counted(count=scan.quantity, content=Decimal(1), unit=product.unit)
    return Counted(count=scan.quantity, content=pack.content, unit=product.unit, level=pack.level)


def _unknown(scan: Scan) -> str | None:
    """What a label that names no known product leaves to the clerk, in one line."""
    if scan.gtin:
        if scan.gtin[0] != "0":
            # Indicator digits 1-8 mark a GTIN-14 of a pack (case, pallet) of some trade item.
            return (f"Case GTIN {scan.gtin} is not known: add it as a packaging level of a product, "
                    "or choose the product")
        return (f"GTIN {scan.gtin} is not known: choose its product (it will be remembered), "
                "or add it as a packaging level of a product")
    if scan.sku:
        return f"No product has sku {scan.sku}: choose the product"
    return None


# More lots than this sharing one code are not listed one by one on a phone.
MAX_CANDIDATES = 50


# A lot by code, with its product and its supplier's name.
_LOTS = (select(*_LOT_COLUMNS, *_PRODUCT_COLUMNS).join(Product, Product.id == Lot.product_id)
         .outerjoin(Supplier, Supplier.id == Lot.supplier_id))
_LOT_BY_CODE = Prepared(_LOTS.where(Lot.product_id == bindparam("product_id"), Lot.code == bindparam("code")))
_LOT_BY_SUPPLIER_CODE = Prepared(_LOTS.where(Lot.product_id == bindparam("product_id"),
                                             Lot.supplier_lot_code == bindparam("code"))
                                 .order_by(Lot.made_on.desc(), Lot.id.desc()).limit(1))
# A typed code: the lots with it as our lot code, then those with it as the supplier's, each with its total on hand
# (what a person choosing among several needs).
_ON_HAND = select(func.sum(Balance.on_hand)).where(Balance.lot_id == Lot.id).correlate(Lot).scalar_subquery()
# Both in one query, ours first: only when no lot has it as our code do the supplier's codes count.
_OURS = Lot.code == bindparam("code")
_LOTS_BY_TYPED_CODE = Prepared(_LOTS.add_columns(_ON_HAND, _OURS)
                               .where(or_(_OURS, Lot.supplier_lot_code == bindparam("code")))
                               .order_by(case((_OURS, 0), else_=1), Lot.id).limit(MAX_CANDIDATES))


def _lots(rows: list[tuple[Any, ...]]) -> list[LotRow]:
    return [_lot_row(row[:_L], ProductRow(*row[_L:_L + _P])) for row in rows]


def _candidates(rows: list[tuple[Any, ...]]) -> list[LotCandidateOut]:
    """The lots a shared code may mean, by product: what a person needs to choose one."""
    return sorted((LotCandidateOut(lot_id=lot.id, sku=lot.product.sku, product_name=lot.product.name, code=lot.code,
                                   expiry=lot.expiry, on_hand=row[-2] or Decimal(0), unit=lot.product.unit,
                                   status=lot.status.value)
                   for lot, row in zip(_lots(rows), rows, strict=True)), key=lambda c: (c.sku, c.lot_id))


def _lot(session: Session, scan: Scan, product: ProductRow | None) -> tuple[LotRow | None, list[LotCandidateOut]]:
    """The lot the scan names, or, when a bare code fits several lots, none and those lots to choose from."""
    if product is not None and scan.lot:
        found = _lots(_LOT_BY_CODE.rows(session, {"product_id": product.id, "code": scan.lot}))
        if not found:
            # A supplier's case label carries the supplier's lot code, which receiving recorded.
            found = _lots(_LOT_BY_SUPPLIER_CODE.rows(session, {"product_id": product.id, "code": scan.lot}))
        return (found[0] if found else None), []
    if scan.kind == "text" and scan.text and product is None:
        # A typed or plain-barcode code names a lot only when no other lot has it: our lot code
        # first, then the supplier's lot code the clerk reads off a case or a complaint. A code
        # several lots share is never settled by guessing: the person chooses.
        rows = _LOTS_BY_TYPED_CODE.rows(session, {"code": scan.text})
        ours = [row for row in rows if row[-1]]
        rows = ours or rows
        if rows:
            return (_lots(rows)[0], []) if len(rows) == 1 else (None, _candidates(rows))
        plain = lot_by_label(session, scan.text)
        if plain is not None:
            return _lot_row_of(plain), []
    return None, []


def _lot_out(session: Session, lot: LotRow, today: date, known: _Known | None) -> ScanLotOut:
    """The lot as a scan answers it; what the query that found it already read (`known`) is not read again."""
    stock = known.stock if known is not None else stock_of(session, lot.id)
    inputs, outputs, shipments = known.counts if known is not None else genealogy_counts(session, lot.id)
    product = lot.product
    return ScanLotOut(
        id=lot.id, sku=product.sku, product_name=product.name, code=lot.code, origin=lot.origin,
        supplier_id=lot.supplier_id, supplier_name=lot.supplier_name,
        supplier_lot_code=lot.supplier_lot_code, made_on=lot.made_on, expiry=lot.expiry, unit_cost=lot.unit_cost,
        unit=product.unit, status=lot.status, hold_reason=lot.hold_reason,
        on_hand=sum((s.on_hand for s in stock), Decimal(0)), stock=stock,
        expired=is_expired(lot.expiry, today), problem=problem_of(lot, today),
        problem_title=next((p.title for p in lot_problems(lot, today)), None),
        inputs=inputs, outputs=outputs, shipments=shipments)


def _message(scan: Scan, product: ProductRow | None, lot: LotRow | None, order: OrderRow | None,
             candidates: list[LotCandidateOut]) -> str:
    if candidates:
        return f"{len(candidates)} lots are known as {scan.text!r}: choose the product"
    if order is not None:
        return f"order {order.number}"
    if lot is not None:
        return f"{lot.product.name}, lot {lot.code}"
    if product is not None:
        return f"{product.name}, lot {scan.lot} not known yet" if scan.lot else product.name
    if scan.gtin:
        return f"no product has GTIN {scan.gtin} yet"
    if scan.sku:
        return f"no product has sku {scan.sku}"
    if scan.kind == "text":
        return f"nothing is known as {scan.text!r}"
    return "read, but it names no product"


_ORDER_BY_NUMBER = Prepared(select(Order.id, Order.number, Order.status)
                            .where(func.upper(Order.number) == bindparam("number")))


def resolve(session: Session, scan: Scan, *, event_id: int, today: date, pairing: str | None = None) -> ScanOut:
    """The scan with the product, lot and order it names, as far as they exist.

    `pairing` is the parser's objection to a label that breaks a GS1 pairing rule: everything read
    is still answered, and `missing` says what the label leaves unknown. A bare code several lots
    share names none of them: the candidates are listed for the person to choose.
    """
    product, lot, known = _labelled_lot(session, scan)
    pack: PackRow | None = None
    if product is None:
        product, pack = _product(session, scan)
    candidates: list[LotCandidateOut] = []
    if lot is None:
        lot, candidates = _lot(session, scan, product)
    if lot is not None and product is None:
        product = lot.product
    order: OrderRow | None = None
    if scan.kind == "text" and scan.text and lot is None and product is None and not candidates:
        found = _ORDER_BY_NUMBER.first(session, {"number": scan.text.upper()})
        order = OrderRow(*found) if found else None
    counted = _counted(scan, product, pack) if product is not None else None
    missing: str | None = None
    if isinstance(counted, str):
        missing, counted = counted, None
    elif product is None and scan.kind != "text" and _unknown(scan):
        missing = _unknown(scan)
    elif pairing is not None and not (counted is not None and pack is not None and "37" in dict(scan.elements)):
        missing = pairing
    conversion = counted.text if counted is not None and counted.level is not None else None
    message = _message(scan, product, lot, order, candidates)
    if pairing is not None and missing is not None:
        message = missing
    elif conversion:
        message = f"{message}: {conversion}"
    fields = {k: v for k, v in scan_fields(scan).items() if k != "elements"}
    if lot is not None and scan.kind == "text" and scan.text not in (lot.code, lot.supplier_lot_code):
        # One of our plain labels: what it says is the sku and the lot, as a GS1 label's fields would.
        fields.update(sku=lot.product.sku, lot=lot.code)
    return ScanOut(
        event_id=event_id, raw=scan.raw, elements=list(scan.elements), **fields,
        product=ScanProductOut(**product._asdict()) if product else None,
        packaging=ScanPackagingOut(id=pack.id, level=pack.level, gtin=pack.gtin, content=pack.content)
        if pack else None,
        receive_quantity=counted.quantity if counted is not None else None, conversion=conversion, missing=missing,
        found_lot=_lot_out(session, lot, today, known) if lot else None,
        order=ScanOrderOut(id=order.id, number=order.number, status=order.status.value) if order else None,
        candidates=candidates, message=message)

"""Allocation use cases: FEFO allocation of orders and waves, releases on holds, pick confirmation, shipping picks."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session, contains_eager, joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.elements import ColumnElement

import allocation as fefo
from app.db import utcnow
from app.errors import Conflict, InsufficientStock, Invalid, LotBlocked
from app.formatting import qty
from app.models import (
    PICKABLE_KINDS,
    RESERVING,
    AllocationState,
    Balance,
    Customer,
    LineShortage,
    Location,
    Lot,
    LotStatus,
    Order,
    OrderAllocation,
    OrderLine,
    OrderStatus,
    Product,
    Shipment,
    User,
)
from app.queries.picklists import allocation_out
from app.rules.gate import (
    Purpose,
    Refusal,
    ShipTo,
    latest_shipped,
    lock_products,
    locking_products,
    refusals,
    refuse,
    short,
)
from app.rules.gate import customer_rule as _customer_rule
from app.schemas import (
    AllocationOut,
    AllocationRunOut,
    PickIn,
    PickResultOut,
    ReleaseOut,
    ShortageOut,
)
from app.services.allocation_ledger import reserving_of_line, split_off
from app.services.base import positive, transactional
from app.services.idempotency import IdempotencyKey, remember, remembered
from app.services.lookups import location_by_code, lot_by_ref, product_by_sku
from app.services.orders import ShipItem, _locked_order, _open, ship_items

ZERO = Decimal(0)
OPEN_ORDERS = (OrderStatus.OPEN, OrderStatus.PARTIAL)


# --- locking and reading stock ----------------------------------------------------------------


def _stock(session: Session, warehouse_id: int, product_ids: Sequence[int]) -> list[fefo.StockLot]:
    """Every lot on hand in the warehouse's pickable locations, less what open allocations hold.

    Lots on hold or recalled are included with their status: the allocator never takes them but
    names them in shortage reasons.
    """
    rows = session.execute(
        select(Balance.lot_id, Balance.location_id, Balance.on_hand, Lot.code, Lot.expiry, Lot.made_on,
               Lot.status, Product.sku, Product.unit, Location.code)
        .join(Location, Location.id == Balance.location_id)
        .join(Lot, Lot.id == Balance.lot_id)
        .join(Product, Product.id == Lot.product_id)
        .where(Location.warehouse_id == warehouse_id, Location.kind.in_(PICKABLE_KINDS), Location.active,
               Lot.product_id.in_(product_ids), Balance.on_hand > 0)
    ).all()
    held = dict(((lot_id, loc_id), qty) for lot_id, loc_id, qty in session.execute(
        select(OrderAllocation.lot_id, OrderAllocation.location_id, func.sum(OrderAllocation.quantity))
        .join(Location, Location.id == OrderAllocation.location_id)
        .join(Lot, Lot.id == OrderAllocation.lot_id)
        .where(OrderAllocation.state.in_(RESERVING), Location.warehouse_id == warehouse_id,
               Lot.product_id.in_(product_ids))
        .group_by(OrderAllocation.lot_id, OrderAllocation.location_id)
    ))
    return [
        fefo.StockLot(lot_id=lot_id, lot_code=code, sku=sku, expiry=expiry, made_on=made_on,
                      available=max(on_hand - (held.get((lot_id, loc_id)) or ZERO), ZERO),
                      location_id=loc_id, location_code=loc_code, status=status.value, unit=unit)
        for lot_id, loc_id, on_hand, code, expiry, made_on, status, sku, unit, loc_code in rows
    ]


# --- the allocation run ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Line:
    id: int
    order_id: int
    order_number: str
    line_no: int
    product_id: int
    sku: str
    customer_id: int
    warehouse_id: int
    ship_date: date
    priority: int
    need: Decimal


def _shortage_out(line: _Line, s: fefo.Shortage) -> ShortageOut:
    return ShortageOut(order_id=line.order_id, order_number=line.order_number, order_line_id=line.id,
                       line_no=line.line_no, sku=line.sku, missing=s.missing, reasons=list(s.reasons))


def _run(session: Session, where: Sequence[ColumnElement[bool]], *, today: date,
         ship_date: date | None = None) -> AllocationRunOut:
    """Allocate what the selected open order lines still need, FEFO under each customer's rule.

    `where` selects order lines (on OrderLine and Order). Each line is judged on its order's ship
    date, or today for a late order (goods leave no earlier than today), or on `ship_date` if given.
    """
    selected = (OrderLine.order_id == Order.id, Order.status.in_(OPEN_ORDERS), *where)
    product_ids = session.scalars(select(OrderLine.product_id).distinct().where(*selected)).all()
    lock_products(session, product_ids)
    allocated = dict(session.execute(
        select(OrderAllocation.order_line_id, func.sum(OrderAllocation.quantity))
        .join(OrderLine, OrderLine.id == OrderAllocation.order_line_id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderAllocation.state.in_(RESERVING), *selected)
        .group_by(OrderAllocation.order_line_id)
    ).all())
    raw = session.execute(
        select(OrderLine.id, OrderLine.order_id, Order.number, OrderLine.line_no, OrderLine.product_id,
               Product.sku, Order.customer_id, Order.warehouse_id, Order.ship_date, Order.priority,
               OrderLine.quantity - OrderLine.shipped_quantity)
        .join(Product, Product.id == OrderLine.product_id)
        .where(*selected)
        .order_by(OrderLine.id)
    ).all()
    considered = [r[0] for r in raw]
    lines = [
        _Line(lid, oid, num, no, pid, sku, cid, wid, ship_date or max(sd, today), prio,
              open_qty - (allocated.get(lid) or ZERO))
        for lid, oid, num, no, pid, sku, cid, wid, sd, prio, open_qty in raw
    ]
    lines = [x for x in lines if x.need > 0]
    customers = {c.id: c for c in session.scalars(
        select(Customer).where(Customer.id.in_({x.customer_id for x in lines})))} if lines else {}
    rules = {cid: _customer_rule(c) for cid, c in customers.items()}
    reversal = [x for x in lines if customers[x.customer_id].no_date_reversal]
    latest = latest_shipped(session, {x.customer_id for x in reversal}, {x.product_id for x in reversal})
    by_id = {x.id: x for x in lines}
    made: list[dict[str, Any]] = []
    outs: list[AllocationOut] = []
    shortages: list[ShortageOut] = []
    shortage_rows: list[dict[str, Any]] = []
    now = utcnow()
    by_warehouse: dict[int, list[_Line]] = defaultdict(list)
    for x in lines:
        by_warehouse[x.warehouse_id].append(x)
    for warehouse_id, group in by_warehouse.items():
        stock = _stock(session, warehouse_id, sorted({x.product_id for x in group}))
        expiry = {s.lot_id: s.expiry for s in stock}
        plan = fefo.allocate(
            (fefo.OrderLine(line_id=x.id, sku=x.sku, quantity=x.need, ship_date=x.ship_date,
                            rule=rules[x.customer_id], priority=x.priority, sequence=x.id,
                            latest_shipped_expiry=latest.get((x.customer_id, x.product_id)))
             for x in group),
            stock,
        )
        for a in plan.allocations:
            line = by_id[a.line_id]
            made.append({"order_line_id": a.line_id, "lot_id": a.lot_id, "location_id": a.location_id,
                         "quantity": a.quantity, "picked_quantity": ZERO, "state": AllocationState.OPEN,
                         "created_at": now})
            outs.append(AllocationOut.model_construct(
                id=0, order_id=line.order_id, order_number=line.order_number, order_line_id=line.id,
                line_no=line.line_no, sku=line.sku, lot_id=a.lot_id, lot_code=a.lot_code,
                expiry=expiry.get(a.lot_id), location=a.location_code, quantity=a.quantity,
                picked_quantity=ZERO, state=AllocationState.OPEN, reason=None, released_at=None))
        for s in plan.shortages:
            line = by_id[s.line_id]
            shortages.append(_shortage_out(line, s))
            shortage_rows.append({"order_line_id": s.line_id, "missing": s.missing, "reasons": list(s.reasons),
                                  "recorded_at": now})
    if made:
        ids = session.scalars(insert(OrderAllocation).returning(OrderAllocation.id, sort_by_parameter_order=True),
                              made).all()
        for out, new_id in zip(outs, ids, strict=True):
            out.id = new_id
    # The shortages of every line looked at are replaced: filled lines lose theirs.
    for chunk in _chunks(considered):
        session.execute(delete(LineShortage).where(LineShortage.order_line_id.in_(chunk)))
    if shortage_rows:
        session.execute(insert(LineShortage), shortage_rows)
    session.flush()
    return AllocationRunOut(orders=len({r[1] for r in raw}), lines=len(lines),
                            allocated=sum((o.quantity for o in outs), ZERO), allocations=outs,
                            shortages=shortages)


def _chunks(ids: Sequence[int], size: int = 5000) -> Iterable[Sequence[int]]:
    # Bounded IN lists stay under SQLite's host-parameter limit however large the wave.
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def _order(session: Session, order_id: int) -> Order:
    """The order, locked against concurrent shipping and cancelling, if it is still open."""
    return _open(_locked_order(session, order_id))


@transactional
def allocate_order(session: Session, order_id: int, *, today: date, ship_date: date | None = None,
                   user: User | None = None) -> AllocationRunOut:
    """Allocate what an open order still needs, first expiry first out under its customer's rule."""
    order = _order(session, order_id)
    if ship_date is not None and ship_date < today:
        raise Invalid(f"ship_date {ship_date} is in the past (today is {today})", "ship_date")
    return _run(session, [Order.id == order.id], today=today, ship_date=ship_date)


@transactional
def allocate_wave(session: Session, ship_by: date, sku: str | None = None, *, today: date,
                  user: User | None = None) -> AllocationRunOut:
    """Allocate every open order shipping on or before `ship_by` (only `sku` lines if given) in one wave."""
    if ship_by < today:
        raise Invalid(f"ship_by {ship_by} is in the past (today is {today})", "ship_by")
    where: list[ColumnElement[bool]] = [Order.ship_date <= ship_by]
    if sku is not None:
        where.append(OrderLine.product_id == product_by_sku(session, sku).id)
    return _run(session, where, today=today)


def _release(session: Session, allocations: Iterable[OrderAllocation], reason: str,
             *, keep_picked: bool) -> list[AllocationOut]:
    """Release the allocations (their unpicked part only, when `keep_picked`)."""
    released = []
    for a in allocations:
        take = a.unpicked if keep_picked else a.quantity
        if take <= 0:
            continue
        picked_take = ZERO if keep_picked else a.picked_quantity
        released.append(split_off(session, a, take, picked_take, AllocationState.RELEASED, reason))
    session.flush()
    return [allocation_out(a) for a in released]


def _order_reserving(session: Session, order: Order) -> list[OrderAllocation]:
    return list(session.scalars(
        select(OrderAllocation)
        .join(OrderLine, OrderLine.id == OrderAllocation.order_line_id)
        .where(OrderLine.order_id == order.id, OrderAllocation.state.in_(RESERVING))
        .order_by(OrderAllocation.id)
    ))


@transactional
def deallocate_order(session: Session, order_id: int, *, user: User | None = None,
                     reason: str = "deallocated") -> ReleaseOut:
    """Give back everything of an open order that is allocated and not yet picked."""
    order = _order(session, order_id)
    lock_products(session, [x.product_id for x in order.lines])
    released = _release(session, _order_reserving(session, order), reason, keep_picked=True)
    session.execute(delete(LineShortage).where(
        LineShortage.order_line_id.in_([x.id for x in order.lines])))
    return ReleaseOut(released=released, reallocated=[], shortages=[])


@transactional
def reallocate_order(session: Session, order_id: int, *, today: date, user: User | None = None) -> AllocationRunOut:
    """Give back an order's unpicked allocations and allocate it afresh (after stock or rules changed)."""
    order = _order(session, order_id)
    lock_products(session, [x.product_id for x in order.lines])
    _release(session, _order_reserving(session, order), "reallocated", keep_picked=True)
    return _run(session, [Order.id == order.id], today=today)


def release_lot_allocations(session: Session, lot_ids: Sequence[int], reason: str,
                            today: date | None = None) -> ReleaseOut:
    """Release every allocation of these lots not yet shipped, and re-allocate the lines that lost them.

    Runs inside the caller's transaction (a hold or a recall): picked goods of the lots are released
    too, since they may not ship. The report names what could not be re-allocated, and why.
    """
    if not lot_ids:
        return ReleaseOut(released=[], reallocated=[], shortages=[])
    lock_products(session, session.scalars(select(Lot.product_id).where(Lot.id.in_(lot_ids))).all())
    session.flush()  # the caller's status change must be visible to the re-allocation below
    held = list(session.scalars(
        select(OrderAllocation)
        .where(OrderAllocation.lot_id.in_(lot_ids), OrderAllocation.state.in_(RESERVING))
        .order_by(OrderAllocation.id)
        .execution_options(populate_existing=True)
    ))
    released = _release(session, held, reason, keep_picked=False)
    line_ids = sorted({a.order_line_id for a in held})
    if not line_ids:
        return ReleaseOut(released=released, reallocated=[], shortages=[])
    run = _run(session, [OrderLine.id.in_(line_ids)], today=today or utcnow().date())
    return ReleaseOut(released=released, reallocated=run.allocations, shortages=run.shortages)


def run_lines(session: Session, line_ids: Sequence[int], *, today: date) -> AllocationRunOut:
    """Allocate again what these open lines need, inside the caller's transaction."""
    return _run(session, [OrderLine.id.in_(line_ids)], today=today)


@transactional
def reallocate_shortages(session: Session, *, today: date, user: User | None = None) -> AllocationRunOut:
    """After new stock arrives: allocate again every open line the last allocation left short."""
    return _run(session, [OrderLine.id.in_(select(LineShortage.order_line_id))], today=today)


# --- picking ---------------------------------------------------------------------------------------------------


def _left_to_pick(session: Session, order: Order) -> Decimal:
    return sum((a.unpicked for a in _order_reserving(session, order)), ZERO)


def _where(allocs: Iterable[OrderAllocation]) -> str:
    return ", ".join(f"lot {a.lot.code} at {a.location.code} ({qty(a.unpicked)} {a.lot.product.unit})"
                     for a in allocs)


def _pick_result(session: Session, order: Order, a: OrderAllocation, substituted: bool,
                 message: str, left_to_pick: Decimal | None = None) -> PickResultOut:
    left = _left_to_pick(session, order) if left_to_pick is None else left_to_pick
    return PickResultOut(order_id=order.id, order_number=order.number, allocation=allocation_out(a),
                         substituted=substituted, message=message, left_to_pick=left)


# The pick's statements, built once (composing them anew cost more CPU than running them).
_HOLDS_LOT = (select(OrderAllocation.id).join(OrderLine, OrderLine.id == OrderAllocation.order_line_id)
              .where(OrderLine.order_id == Order.id, OrderAllocation.lot_id == bindparam("lot_id"),
                     OrderAllocation.state.in_(RESERVING), OrderAllocation.quantity > OrderAllocation.picked_quantity)
              .exists())
_ORDER_FOR_PICK = (select(Order, _HOLDS_LOT).where(Order.id == bindparam("order_id"))
                   .options(joinedload(Order.customer, innerjoin=True))
                   .with_for_update(of=Order).execution_options(populate_existing=True))
_LOT_AND_LOCATION = {shared: locking_products(
    select(Lot, Location).join(Lot.product).join(Location, Location.code == bindparam("code"))
    .where(Lot.id == bindparam("lot_id")).options(contains_eager(Lot.product)), shared=shared)
    for shared in (False, True)}
_RESERVING_WITH_LINES = (select(OrderAllocation)
                         .join(OrderLine, OrderLine.id == OrderAllocation.order_line_id)
                         .where(OrderLine.order_id == bindparam("order_id"), OrderAllocation.state.in_(RESERVING))
                         .order_by(OrderAllocation.id)
                         .options(joinedload(OrderAllocation.order_line)))
# What is on hand of a lot at a location and what open allocations have picked of it there, in one query.
_PICK_STOCK = select(
    select(Balance.on_hand).where(Balance.lot_id == bindparam("lot_id"),
                                  Balance.location_id == bindparam("location_id")).scalar_subquery(),
    select(func.sum(OrderAllocation.picked_quantity)).where(
        OrderAllocation.lot_id == bindparam("lot_id"), OrderAllocation.location_id == bindparam("location_id"),
        OrderAllocation.state.in_(RESERVING)).scalar_subquery(),
)
_ALLOCATION = cast(Table, OrderAllocation.__table__)
_PICKED = (update(_ALLOCATION).where(_ALLOCATION.c.id == bindparam("allocation_id"))
           .values(picked_quantity=bindparam("picked"), state=bindparam("state")))


def _order_for_pick(session: Session, order_id: int, lot_id: int | None) -> tuple[Order, bool]:
    """The order with its customer, locked like `_order`, if it is still open; and whether it holds stock of the lot.

    The second is a hint read before any product is locked, only to choose the product's lock (shared for a pick
    of the order's own stock, exclusive for a substitute); what is picked is decided on what is read after it.
    """
    row = session.execute(_ORDER_FOR_PICK, {"order_id": order_id, "lot_id": lot_id}).first()
    if row is None:
        return _order(session, order_id), False  # says that the order does not exist
    return _open(row[0]), bool(row[1]) and lot_id is not None


def _lot_and_location(session: Session, cmd: PickIn, shared: bool) -> tuple[Lot, Location]:
    """The lot and the location a pick names, its product locked (shared or not) before either is read.

    One statement where it can: the lot by id with its product, locked, and the location by code; anything missing
    or inconsistent is left to the look-ups, which say what is wrong.
    """
    if cmd.lot_id is not None and session.get_bind().dialect.name == "postgresql":
        row = session.execute(_LOT_AND_LOCATION[shared], {"lot_id": cmd.lot_id, "code": cmd.location}).first()
        if row is not None:
            lot = lot_by_ref(session, cmd)  # the lot just read: checks the sku and code the pick gives with its id
            location = row[1] if row[1].active else location_by_code(session, cmd.location)
            return lot, location
    lot = lot_by_ref(session, cmd)
    location = location_by_code(session, cmd.location)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(locking_products(select(Product.id).where(Product.id == lot.product_id), shared=shared))
    return lot, location


def _pick_allocated(session: Session, here: Sequence[OrderAllocation], quantity: Decimal) -> None:
    """Mark `quantity` picked on the allocations, in order: one UPDATE each, the objects kept as written."""
    rest = quantity
    for a in here:
        take = min(rest, a.unpicked)
        picked = a.picked_quantity + take
        state = AllocationState.PICKED if picked >= a.quantity else a.state
        session.execute(_PICKED, {"allocation_id": a.id, "picked": picked, "state": state})
        set_committed_value(a, "picked_quantity", picked)
        set_committed_value(a, "state", state)
        rest -= take
        if rest <= 0:
            break


@transactional
def confirm_pick(session: Session, order_id: int, cmd: PickIn, *, user: User | None, today: date,
                 allow_substitutes: bool = False, request_key: IdempotencyKey | None = None) -> PickResultOut:
    """Confirm that a picker took `quantity` of a lot from a location for an order.

    The lot allocated to the order is confirmed up to its allocated quantity. Another lot is refused
    with the reason when it may not go to this customer on this line; an eligible one is taken as a
    substitute only when substitutes are allowed, otherwise the picker is told which lot to take and
    where. Nothing moves in the ledger: stock leaves at the shipment.

    Picks of the order's own stock lock its product shared (`locking_products`), so pickers working on different
    orders of one product never wait for each other; a substitute locks it as every other taking of stock does.
    """
    if (earlier := remembered(session, request_key, "pick", user)) is not None:
        a = session.get_one(OrderAllocation, earlier)
        order = a.order_line.order
        return _pick_result(session, order, a, False, "already recorded")
    order, holds_lot = _order_for_pick(session, order_id, cmd.lot_id)
    quantity = positive(cmd.quantity, "quantity")
    lot, location = _lot_and_location(session, cmd, shared=holds_lot)
    unit = lot.product.unit
    reserving = list(session.scalars(_RESERVING_WITH_LINES, {"order_id": order.id}))
    mine = [a for a in reserving if a.lot_id == lot.id and a.unpicked > 0]
    if mine:
        here = [a for a in mine if a.location_id == location.id]
        if not here:
            raise Conflict(f"order {order.number} takes {_where(mine)}, not from {location.code}", "location",
                           title=short("wrong_location", location=mine[0].location.code))
        left = sum((a.unpicked for a in here), ZERO)
        if quantity > left:
            raise Conflict(f"order {order.number} has {qty(left)} {unit} of lot {lot.code} at {location.code} "
                           f"left to pick; {qty(quantity)} is too many", "quantity",
                           title=short("too_many", left=f"{qty(left)} {unit}"))
        refuse(_pick_refusals(session, order, here[0].order_line, lot, location, quantity, today))
        _pick_allocated(session, here, quantity)
        remember(session, request_key, "pick", here[0].id, user)
        return _pick_result(session, order, here[0], False,
                            f"picked {qty(quantity)} {unit} of lot {lot.code} for order {order.number}",
                            left_to_pick=sum((a.unpicked for a in reserving), ZERO))
    if holds_lot:
        # What the order held of the lot went meanwhile (a hold, or stock taken for another purpose): a substitute
        # needs the product's lock that every other taking of stock takes, and the lot as it is now.
        lock_products(session, [lot.product_id])
        session.refresh(lot)
    return _substitute(session, order, lot, location, quantity, user=user, today=today,
                       allow=allow_substitutes, request_key=request_key)


def _pick_refusals(session: Session, order: Order, line: OrderLine, lot: Lot, location: Location,
                   quantity: Decimal, today: date) -> list[Refusal]:
    """The gate for a pick: the lot usable and fit for the customer, and never more picked than on hand."""
    here, picked = session.execute(_PICK_STOCK, {"lot_id": lot.id, "location_id": location.id}).one()
    problems, _ = refusals(session, lot, location, quantity, Purpose.PICK, on=today,
                           ship_to=ShipTo(order, line, max(order.ship_date, today)), already=picked or ZERO,
                           here=here or ZERO)
    return problems


def _substitute(session: Session, order: Order, lot: Lot, location: Location, quantity: Decimal, *,
                user: User | None, today: date, allow: bool, request_key: IdempotencyKey | None) -> PickResultOut:
    """A lot not allocated to the order was scanned: refuse it with the reason, or take it instead."""
    unit = lot.product.unit
    lines = [x for x in order.lines if x.product_id == lot.product_id and x.open_quantity > 0]
    if not lines:
        raise Conflict(f"lot {lot.code} is {lot.product.sku}; order {order.number} has no open line for "
                       f"{lot.product.sku}", "lot_id", title=short("wrong_product"))
    expected_by_line = {x.id: [a for a in reserving_of_line(session, x.id) if a.unpicked > 0] for x in lines}
    line = max(lines, key=lambda x: sum((a.unpicked for a in expected_by_line[x.id]), ZERO))
    expected = expected_by_line[line.id]
    instead = f"; take {_where(expected)}" if expected else ""
    on_hand = session.scalar(select(Balance.on_hand).where(Balance.lot_id == lot.id,
                                                             Balance.location_id == location.id)) or ZERO
    reserved = session.scalar(select(func.sum(OrderAllocation.quantity)).where(
        OrderAllocation.lot_id == lot.id, OrderAllocation.location_id == location.id,
        OrderAllocation.state.in_(RESERVING))) or ZERO
    problems = _pick_refusals(session, order, line, lot, location, quantity, today)
    if any(p.rule != "on_hand" for p in problems):
        raise LotBlocked(f"lot {lot.code} may not go on order {order.number}: "
                         f"{'; '.join(p.message for p in problems)}{instead}", problems[0].field,
                         title=problems[0].title or None)
    if problems and expected and not allow:
        # Not enough of a lot the order does not take: what the picker needs is the lot it does take.
        raise InsufficientStock(f"{'; '.join(p.message for p in problems)}{instead}", problems[0].field,
                                title=short("wrong_lot", lot=expected[0].lot.code))
    refuse(problems)
    if location.warehouse_id != order.warehouse_id or location.kind not in PICKABLE_KINDS:
        raise Conflict(f"{location.code} is not a pick location of warehouse {order.warehouse.code}, which "
                       f"order {order.number} ships from{instead}", "location", title=short("not_pickable"))
    if not allow:
        elsewhere = session.scalars(
            select(Order.number).join(OrderLine, OrderLine.order_id == Order.id)
            .join(OrderAllocation, OrderAllocation.order_line_id == OrderLine.id)
            .where(OrderAllocation.lot_id == lot.id, OrderAllocation.state.in_(RESERVING), Order.id != order.id)
            .distinct()
        ).all()
        taken = f" (it is allocated to order {', '.join(sorted(elsewhere))})" if elsewhere else ""
        raise Conflict(f"lot {lot.code} is not allocated to order {order.number}{taken}{instead}", "lot_id",
                       title=short("wrong_lot", lot=expected[0].lot.code) if expected else short("wrong_product"))
    open_to_pick = sum((a.unpicked for a in expected), ZERO)
    if quantity > open_to_pick:
        raise Conflict(f"line {line.line_no} of order {order.number} has {qty(open_to_pick)} {unit} "
                       f"left to pick; {qty(quantity)} is too many", "quantity",
                       title=short("too_many", left=f"{qty(open_to_pick)} {unit}"))
    free = on_hand - reserved
    if quantity > free:
        raise InsufficientStock(f"only {qty(max(free, ZERO))} {unit} of lot {lot.code} at {location.code} are "
                                f"free (the rest is on hand for other orders)", "quantity", title=short("allocated"))
    # The substitute replaces the stock the picker would have taken first.
    rest = quantity
    for a in expected:
        take = min(rest, a.unpicked)
        split_off(session, a, take, ZERO, AllocationState.RELEASED, f"replaced by lot {lot.code} at pick")
        rest -= take
        if rest <= 0:
            break
    sub = OrderAllocation(order_line_id=line.id, lot_id=lot.id, location_id=location.id, quantity=quantity,
                          picked_quantity=quantity, state=AllocationState.PICKED, reason="substitute picked")
    session.add(sub)
    session.flush()
    remember(session, request_key, "pick", sub.id, user)
    return _pick_result(session, order, sub, True,
                        f"picked {qty(quantity)} {unit} of lot {lot.code} instead of the allocated lot "
                        f"for order {order.number}")


@transactional
def ship_picked(session: Session, order_id: int, *, user: User | None, today: date,
                carrier_reference: str | None = None, request_key: IdempotencyKey | None = None) -> Shipment:
    """Ship everything picked for an order: one shipment line per lot and location picked."""
    if (earlier := remembered(session, request_key, "shipment", user)) is not None:
        return session.get_one(Shipment, earlier)
    order = _order(session, order_id)
    lines = {x.id: x for x in order.lines}
    picked: dict[tuple[int, int, int], Decimal] = defaultdict(Decimal)
    allocs = [a for a in _order_reserving(session, order) if a.picked_quantity > 0]
    for a in allocs:
        picked[(a.order_line_id, a.lot_id, a.location_id)] += a.picked_quantity
    if not picked:
        raise Conflict(f"nothing is picked for order {order.number}{_why_unpicked(session, order)}", "order_id")
    first = {(a.order_line_id, a.lot_id, a.location_id): a for a in reversed(allocs)}
    items = []
    for i, (key, picked_qty) in enumerate(sorted(picked.items())):
        a = first[key]
        items.append(ShipItem(lines[a.order_line_id], a.lot, a.location, picked_qty, f"picks.{i}."))
    return ship_items(session, order, items, shipped_on=today, today=today, carrier_reference=carrier_reference,
                      user=user, request_key=request_key)


def _why_unpicked(session: Session, order: Order) -> str:
    """Why an order has nothing picked: picks a hold or recall released, else that none were confirmed."""
    lost = session.scalars(
        select(OrderAllocation).join(OrderLine, OrderLine.id == OrderAllocation.order_line_id)
        .join(Lot, Lot.id == OrderAllocation.lot_id)
        .where(OrderLine.order_id == order.id, OrderAllocation.state == AllocationState.RELEASED,
               OrderAllocation.picked_quantity > 0, Lot.status != LotStatus.RELEASED)
        .order_by(OrderAllocation.released_at.desc(), OrderAllocation.id.desc())
    ).all()
    if not lost:
        return "; confirm picks first"
    reasons = dict.fromkeys(f"{qty(a.picked_quantity)} {a.lot.product.unit} of lot {a.lot.code} picked at "
                            f"{a.location.code} were released ({a.reason})" for a in lost)
    return ": " + "; ".join(reasons) + "; pick the order again"

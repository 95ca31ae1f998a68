"""Order use cases: create and cancel customer orders, and ship them with explicit lots."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import get_or_404, utcnow
from app.errors import Conflict, Forbidden, Invalid
from app.formatting import qty
from app.models import (
    Customer,
    Location,
    Lot,
    MovementKind,
    Order,
    OrderLine,
    OrderStatus,
    Role,
    Shipment,
    ShipmentLine,
    User,
)
from app.rules.gate import Purpose, ShipTo, lock_products
from app.schemas import OrderIn, ShipmentIn
from app.services.allocation_ledger import release_order_allocations, ship_allocated, trim_allocations
from app.services.base import book, document_number, lock_lot, positive, transactional
from app.services.gate import Takings
from app.services.idempotency import IdempotencyKey, remember, remembered
from app.services.lookups import location_by_code, lot_by_ref, product_by_sku, warehouse_by_code
from app.services.stock import lot_existed, not_in_future


@transactional
def create_order(session: Session, cmd: OrderIn, *, user: User | None, today: date,
                 request_key: IdempotencyKey | None = None) -> Order:
    """Enter a customer order shipping from one warehouse on a given day."""
    if (earlier := remembered(session, request_key, "order", user)) is not None:
        return session.get_one(Order, earlier)
    customer = get_or_404(session, Customer, cmd.customer_id, "customer_id", "customer")
    warehouse = warehouse_by_code(session, cmd.warehouse)
    if cmd.ship_date < today:
        raise Invalid(f"ship_date {cmd.ship_date} is in the past (today is {today})", "ship_date")
    order = Order(number=document_number(session, "SO"), customer_id=customer.id,
                  warehouse_id=warehouse.id, ship_date=cmd.ship_date,
                  customer_reference=cmd.customer_reference, priority=cmd.priority, note=cmd.note,
                  status=OrderStatus.OPEN, user_id=user.id if user else None)
    session.add(order)
    session.flush()
    for i, line in enumerate(cmd.lines):
        product = product_by_sku(session, line.sku, f"lines.{i}.sku")
        session.add(OrderLine(order_id=order.id, line_no=i + 1, product_id=product.id,
                              quantity=positive(line.quantity, f"lines.{i}.quantity")))
    remember(session, request_key, "order", order.id, user)
    session.flush()
    return order


def _locked_order(session: Session, order_id: int) -> Order:
    """The order with fresh lines, locked until the booking ends: one shipment or cancel at a time."""
    order: Order = get_or_404(session, Order, order_id, "order_id", "order", lock=True)
    session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)
                    .execution_options(populate_existing=True)).all()
    return order


def _open(order: Order) -> Order:
    if order.status is OrderStatus.SHIPPED:
        raise Conflict(f"order {order.number} is already shipped", "order_id")
    if order.status is OrderStatus.CANCELLED:
        raise Conflict(f"order {order.number} is cancelled", "order_id")
    return order


@transactional
def cancel_order(session: Session, order_id: int, *, user: User | None) -> Order:
    """Cancel what is still open on an order; anything already shipped stays on record."""
    order = _open(_locked_order(session, order_id))
    order.status = OrderStatus.CANCELLED
    order.cancelled_at = utcnow()
    release_order_allocations(session, order.id, "order cancelled")
    return order


@dataclass(frozen=True)
class ShipItem:
    """One resolved shipment line: `quantity` of `lot` from `location` on order line `line`.

    `field` prefixes the request fields named in errors (e.g. "lines.2.").
    """

    line: OrderLine
    lot: Lot
    location: Location
    quantity: Decimal
    field: str = ""


def ship_items(session: Session, order: Order, items: Sequence[ShipItem], *, shipped_on: date, today: date,
               carrier_reference: str | None, user: User | None, request_key: IdempotencyKey | None,
               take_allocated: bool = False, override_reason: str | None = None) -> Shipment:
    """Book one shipment of resolved lines on a locked open order; the allocations follow the stock.

    Every line passes the stock gate: the lot is usable, meets the customer's rule (unless a
    manager overrides it with `override_reason`, recorded on the shipment), and is on hand and
    not allocated to another order (unless `take_allocated`: those orders are then re-allocated).
    Each line ships at most what is still open; stock of a lot allocated to the line at that
    location is taken from its allocations (picked first), and allocations a line no longer needs
    are released.
    """
    shipment = Shipment(number=document_number(session, "SH"), order_id=order.id,
                        customer_id=order.customer_id, warehouse_id=order.warehouse_id,
                        shipped_on=shipped_on, carrier_reference=carrier_reference,
                        user_id=user.id if user else None)
    session.add(shipment)
    session.flush()
    # Lots (in id order), then their products: the order a hold takes them in, so never crosswise.
    for lot in sorted({item.lot for item in items}, key=lambda x: x.id):
        lock_lot(session, lot)
    lock_products(session, {item.lot.product_id for item in items})
    takings = Takings(session, Purpose.SHIP, on=shipped_on, take_allocated=take_allocated,
                      label=f"shipment {shipment.number} of order {order.number}")
    lots_on_line: dict[int, set[int]] = defaultdict(set)  # the customer's lot limit is per delivery
    shipping: dict[int, Decimal] = defaultdict(Decimal)
    for item in items:
        f, line, quantity = item.field, item.line, item.quantity
        lot = lock_lot(session, item.lot)
        lot_existed(lot, shipped_on, "shipped_on")
        open_qty = line.open_quantity - shipping[line.id]
        if quantity > open_qty:
            raise Conflict(f"line {line.line_no} ({line.product.sku}) has {qty(open_qty)} "
                           f"{line.product.unit} left to ship; {qty(quantity)} is too many", f + "quantity")
        takings.check(lot, item.location, quantity,
                      ship_to=ShipTo(order, line, shipped_on, frozenset(lots_on_line[line.id])),
                      prefix=f, override=override_reason is not None)
        lots_on_line[line.id].add(lot.id)
        shipping[line.id] += quantity
        session.add(ShipmentLine(shipment_id=shipment.id, order_line_id=line.id, lot_id=lot.id,
                                 location_id=item.location.id, quantity=quantity))
        book(session, lot=lot, location=item.location, quantity=-quantity, kind=MovementKind.SHIP,
             ref_type="shipment", ref_id=shipment.id, booked_on=shipped_on, user=user,
             request_key=request_key, field=f + "quantity")
        ship_allocated(session, line.id, lot.id, item.location.id, quantity)
    if takings.overridden:
        shipment.override_reason = override_reason
        shipment.override_user_id = user.id if user else None
        shipment.override_at = utcnow()
        shipment.override_rules = "; ".join(dict.fromkeys(p.message for p in takings.overridden))
    for line in order.lines:
        line.shipped_quantity += shipping[line.id]
    order.status = (OrderStatus.SHIPPED if all(x.open_quantity <= 0 for x in order.lines)
                    else OrderStatus.PARTIAL)
    session.flush()
    trim_allocations(session, order.lines)
    setattr(shipment, "taken_from_orders", takings.finish(today))  # noqa: B010 - not a column
    remember(session, request_key, "shipment", shipment.id, user)
    session.flush()
    return shipment


def check_override(override: bool, reason: str | None, user: User | None) -> str | None:
    """The override reason, if a manager asks to override customer rules; 403/422 otherwise."""
    if not override:
        return None
    if user is None or not user.has_role(Role.MANAGER):
        raise Forbidden("only a manager may override a customer's shelf-life rule", "override")
    if not reason or not reason.strip():
        raise Invalid("an override needs a written reason (who agreed, and why)", "override_reason")
    return reason.strip()


@transactional
def ship(session: Session, cmd: ShipmentIn, *, user: User | None, today: date,
         request_key: IdempotencyKey | None = None) -> Shipment:
    """Ship named lots against an order's lines; each line ships at most what is still open."""
    if (earlier := remembered(session, request_key, "shipment", user)) is not None:
        return session.get_one(Shipment, earlier)
    override_reason = check_override(cmd.override, cmd.override_reason, user)
    order = _open(_locked_order(session, cmd.order_id))
    shipped_on = not_in_future(cmd.shipped_on or today, today, "shipped_on")
    lines_by_id = {line.id: line for line in order.lines}
    shipping: dict[int, Decimal] = defaultdict(Decimal)
    items: list[ShipItem] = []
    for i, item in enumerate(cmd.lines):
        f = f"lines.{i}."
        lot = lot_by_ref(session, item, f)
        lot_existed(lot, shipped_on, "shipped_on")
        quantity = positive(item.quantity, f + "quantity")
        location = location_by_code(session, item.location, f + "location")
        if location.warehouse_id != order.warehouse_id:
            raise Invalid(f"location {location.code} is not in warehouse {order.warehouse.code}, "
                          f"which order {order.number} ships from", f + "location")
        if item.order_line_id is not None:
            line = lines_by_id.get(item.order_line_id)
            if line is None:
                raise Invalid(f"line {item.order_line_id} is not on order {order.number}", f + "order_line_id")
            if line.product_id != lot.product_id:
                raise Invalid(f"line {line.line_no} is for {line.product.sku}, lot {lot.code} is "
                              f"{lot.product.sku}", f + "lot_id")
        else:
            candidates = [x for x in order.lines if x.product_id == lot.product_id
                          and x.open_quantity - shipping[x.id] > 0]
            if not candidates:
                raise Invalid(f"order {order.number} has no open line for {lot.product.sku}", f + "lot_id")
            line = candidates[0]
        shipping[line.id] += quantity
        items.append(ShipItem(line, lot, location, quantity, f))
    return ship_items(session, order, items, shipped_on=shipped_on, today=today,
                      carrier_reference=cmd.carrier_reference, user=user, request_key=request_key,
                      take_allocated=cmd.take_allocated, override_reason=override_reason)

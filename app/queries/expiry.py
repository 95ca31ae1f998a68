"""Stock close to or past its expiry, per lot and location, with the customers who could still take it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from allocation import CustomerRule, OrderLine, StockLot, is_eligible
from allocation import LotStatus as AllocStatus
from app.models import (
    Balance,
    Customer,
    Location,
    Lot,
    LotStatus,
    Order,
    Product,
    Shipment,
    ShipmentLine,
    Warehouse,
)
from app.models import OrderLine as OrderLineRow
from app.schemas import Amount, Out

_CENT = Decimal("0.000001")
_STATUS: dict[LotStatus, AllocStatus] = {LotStatus.RELEASED: "released", LotStatus.HOLD: "hold",
                                         LotStatus.RECALLED: "recalled"}


class CustomerOption(Out):
    """A customer whose shelf-life rule accepts the lot if it ships by `until`."""

    customer_id: int
    name: str
    until: date
    buys_it: bool


class ExpiringRow(Out):
    lot_id: int
    sku: str
    product_name: str
    unit: str
    lot_code: str
    made_on: date
    expiry: date
    days_left: int
    expired: bool
    alert_days: int
    status: LotStatus
    hold_reason: str | None
    location_id: int
    location: str
    warehouse: str
    on_hand: Amount
    unit_cost: Amount
    value: Amount
    customers: list[CustomerOption]
    more_customers: int


class ExpirySummary(Out):
    """The dashboard's view: how much is expired or about to, and the first rows of it."""

    expired_lots: int
    expired_value: Amount
    expiring_lots: int
    expiring_value: Amount
    rows: list[ExpiringRow]


class ExpiredRow(Out):
    lot_id: int
    sku: str
    product_name: str
    unit: str
    lot_code: str
    expiry: date
    status: LotStatus
    location_id: int
    location: str
    warehouse: str
    on_hand: Amount
    unit_cost: Amount
    value: Amount


class ExpiredPreview(Out):
    """Every expired lot still on hand, per location; `version` changes whenever any row does."""

    today: date
    version: str
    rows: list[ExpiredRow]
    total_value: Amount


def alert_days(product: Product, default: int) -> int:
    """The product's own alert window, or the site default when it has none."""
    return product.expiry_alert_days if product.expiry_alert_days is not None else default


def _stock(session: Session, horizon: date, warehouse: str | None,
           sku: str | None) -> list[tuple[Lot, Product, Location, Warehouse, Decimal]]:
    """Lot × location with stock on hand and an expiry on or before `horizon`."""
    q = (
        select(Lot, Product, Location, Warehouse, Balance.on_hand)
        .join(Balance, Balance.lot_id == Lot.id)
        .join(Product, Lot.product_id == Product.id)
        .join(Location, Balance.location_id == Location.id)
        .join(Warehouse, Location.warehouse_id == Warehouse.id)
        .where(Balance.on_hand > 0, Lot.expiry.is_not(None), Lot.expiry <= horizon)
        .order_by(Lot.expiry, Product.sku, Lot.code, Location.code)
    )
    if warehouse:
        q = q.where(Warehouse.code == warehouse)
    if sku:
        q = q.where(Product.sku == sku)
    return [(lot, product, location, wh, qty) for lot, product, location, wh, qty in session.execute(q)]


@dataclass(frozen=True)
class _Taker:
    customer: Customer
    rule: CustomerRule


def _takers(session: Session) -> list[_Taker]:
    customers = session.scalars(select(Customer).order_by(Customer.name)).all()
    return [
        _Taker(c, CustomerRule(customer_name=c.name, min_remaining_days=c.min_remaining_days,
                               min_remaining_pct=c.min_remaining_pct, transit_days=c.transit_days,
                               max_lots_per_line=c.max_lots_per_line, no_date_reversal=c.no_date_reversal))
        for c in customers
    ]


def _latest_shipped(session: Session, product_ids: Iterable[int]) -> dict[tuple[int, int], date]:
    """The latest expiry each customer already received of each product (for no-date-reversal)."""
    rows = session.execute(
        select(Shipment.customer_id, Lot.product_id, func.max(Lot.expiry))
        .join(ShipmentLine, ShipmentLine.shipment_id == Shipment.id)
        .join(Lot, ShipmentLine.lot_id == Lot.id)
        .where(Lot.product_id.in_(list(product_ids)), Lot.expiry.is_not(None))
        .group_by(Shipment.customer_id, Lot.product_id)
    )
    return {(customer_id, product_id): latest for customer_id, product_id, latest in rows if latest is not None}


def _buyers(session: Session, product_ids: Iterable[int]) -> set[tuple[int, int]]:
    """(customer, product) pairs where the customer has ever ordered the product."""
    rows = session.execute(
        select(Order.customer_id, OrderLineRow.product_id).join(OrderLineRow, OrderLineRow.order_id == Order.id)
        .where(OrderLineRow.product_id.in_(list(product_ids))).distinct()
    )
    return {(customer_id, product_id) for customer_id, product_id in rows}


def last_ship_date(lot: StockLot, line: OrderLine) -> date | None:
    """The last day the lot may ship on the line (shipping on `line.ship_date` or later), or None.

    Eligibility only gets harder as the ship date moves on (less life is left on arrival, the
    other conditions do not depend on the date), so the last eligible day is found by bisection
    with the allocation rule itself.
    """
    if not is_eligible(lot, line):
        return None
    if lot.expiry is None:
        return None
    lo, hi = line.ship_date.toordinal(), lot.expiry.toordinal()
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if is_eligible(lot, _shipping_on(line, date.fromordinal(mid))):
            lo = mid
        else:
            hi = mid - 1
    return date.fromordinal(lo)


def _shipping_on(line: OrderLine, day: date) -> OrderLine:
    return OrderLine(line_id=line.line_id, sku=line.sku, quantity=line.quantity, ship_date=day, rule=line.rule,
                     latest_shipped_expiry=line.latest_shipped_expiry)


def customers_for(lot: StockLot, product_id: int, takers: Sequence[_Taker], *, today: date,
                  latest: dict[tuple[int, int], date], buyers: set[tuple[int, int]],
                  limit: int) -> tuple[list[CustomerOption], int]:
    """The customers who could take the lot if it shipped today, with the last day each still could.

    Customers who already buy the product come first, then those who can wait longest. At most
    `limit` are returned, with the number of the others.
    """
    found: list[tuple[bool, int, str, int]] = []
    # Many customers share the same rule; the answer depends only on the rule's numbers.
    memo: dict[tuple[object, ...], date | None] = {}
    for t in takers:
        c = t.customer
        previous = latest.get((c.id, product_id))
        key = (t.rule.min_remaining_days, t.rule.min_remaining_pct, t.rule.transit_days,
               previous if t.rule.no_date_reversal else None)
        if key not in memo:
            line = OrderLine(line_id=0, sku=lot.sku, quantity=lot.available, ship_date=today, rule=t.rule,
                             latest_shipped_expiry=previous)
            memo[key] = last_ship_date(lot, line)
        until = memo[key]
        if until is not None:
            found.append(((c.id, product_id) not in buyers, -until.toordinal(), c.name, c.id))
    found.sort()
    options = [CustomerOption(customer_id=cid, name=name, until=date.fromordinal(-until), buys_it=not other)
               for other, until, name, cid in found[:limit]]
    return options, max(0, len(found) - limit)


def expiring_stock(
    session: Session,
    *,
    today: date,
    default_alert_days: int,
    warehouse: str | None = None,
    sku: str | None = None,
    expired_only: bool = False,
    with_customers: bool = True,
    max_customers: int = 20,
) -> list[ExpiringRow]:
    """Lots on hand, per location, that are expired or expire within their product's alert window.

    The window is the product's `expiry_alert_days`, or `default_alert_days` when it has none;
    a lot is listed when `expiry - today <= window`. Soonest expiry first. Each row names up to
    `max_customers` customers who could still take the lot (see `customers_for`).
    """
    longest = session.scalar(select(func.max(Product.expiry_alert_days))) or 0
    horizon = today - timedelta(days=1) if expired_only else today + timedelta(days=max(longest, default_alert_days))
    found = []
    for lot, product, location, wh, on_hand in _stock(session, horizon, warehouse, sku):
        assert lot.expiry is not None
        window = alert_days(product, default_alert_days)
        days_left = (lot.expiry - today).days
        if days_left <= window:
            found.append((lot, product, location, wh, on_hand, window, days_left))
    product_ids = {product.id for _l, product, *_rest in found}
    takers = _takers(session) if with_customers and found else []
    latest = _latest_shipped(session, product_ids) if takers else {}
    buyers = _buyers(session, product_ids) if takers else set()
    rows = []
    for lot, product, location, wh, on_hand, window, days_left in found:
        stock = StockLot(lot_id=lot.id, lot_code=lot.code, sku=product.sku, expiry=lot.expiry, made_on=lot.made_on,
                         available=on_hand, location_id=location.id, location_code=location.code,
                         status=_STATUS[lot.status], unit=product.unit)
        customers, more = (customers_for(stock, product.id, takers, today=today, latest=latest, buyers=buyers,
                                         limit=max_customers) if takers else ([], 0))
        assert lot.expiry is not None
        rows.append(ExpiringRow(
            lot_id=lot.id, sku=product.sku, product_name=product.name, unit=product.unit, lot_code=lot.code,
            made_on=lot.made_on, expiry=lot.expiry, days_left=days_left, expired=days_left < 0, alert_days=window,
            status=lot.status, hold_reason=lot.hold_reason, location_id=location.id, location=location.code,
            warehouse=wh.code, on_hand=on_hand, unit_cost=lot.unit_cost,
            value=(on_hand * lot.unit_cost).quantize(_CENT), customers=customers, more_customers=more,
        ))
    return rows


def expiry_summary(rows: Sequence[ExpiringRow], show: int = 8) -> ExpirySummary:
    """Counts and values of expired and expiring rows (lot × location), and the first `show` rows."""
    expired = [r for r in rows if r.expired]
    expiring = [r for r in rows if not r.expired]
    return ExpirySummary(expired_lots=len({r.lot_id for r in expired}),
                         expired_value=sum((r.value for r in expired), Decimal(0)),
                         expiring_lots=len({r.lot_id for r in expiring}),
                         expiring_value=sum((r.value for r in expiring), Decimal(0)), rows=list(rows[:show]))


def expired_stock(session: Session, *, today: date) -> ExpiredPreview:
    """What "write off all expired stock" would write off today: every lot past its expiry still on hand."""
    rows = []
    for lot, product, location, wh, on_hand in _stock(session, today - timedelta(days=1), None, None):
        assert lot.expiry is not None  # only dated lots expire
        rows.append(ExpiredRow(
            lot_id=lot.id, sku=product.sku, product_name=product.name, unit=product.unit, lot_code=lot.code,
            expiry=lot.expiry, status=lot.status, location_id=location.id, location=location.code,
            warehouse=wh.code, on_hand=on_hand, unit_cost=lot.unit_cost,
            value=(on_hand * lot.unit_cost).quantize(_CENT)))
    return ExpiredPreview(today=today, version=preview_version(rows), rows=rows,
                          total_value=sum((r.value for r in rows), Decimal(0)))


def preview_version(rows: Sequence[ExpiredRow]) -> str:
    """A fingerprint of the rows: any change of lot, location, quantity or cost gives another one."""
    key = sorted((r.lot_id, r.location_id, str(r.on_hand), str(r.unit_cost)) for r in rows)
    return hashlib.sha256(json.dumps(key).encode()).hexdigest()

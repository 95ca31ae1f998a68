"""Stock close to or past its expiry: totals per product and week, then pages of lot × location rows
with the customers who could still take each lot.

Everything is sorted by urgency (soonest expiry first) and aggregated in SQL; "who could still take
it" is worked out only for the rows asked for, per group of customers sharing a shelf-life rule
(`allocation.last_ship_day` gives each group's last ship day in closed form), never customer by lot.
"""

from __future__ import annotations

import hashlib
import heapq
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import islice
from typing import Any

from sqlalchemy import Date, String, and_, case, cast, distinct, func, literal_column, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from allocation import CustomerRule, OrderLine, StockLot, last_ship_day
from allocation import LotStatus as AllocStatus
from app.db import Exact
from app.models import (
    Balance,
    Customer,
    Location,
    Lot,
    LotStatus,
    Movement,
    Order,
    Product,
    Warehouse,
)
from app.models import OrderLine as OrderLineRow
from app.rules.gate import latest_shipped
from app.schemas import CustomerOption, ExpiredPreview, ExpiredRow, ExpiringRow, ExpiringWeek, ExpirySummary

_CENT = Decimal("0.000001")
_STATUS: dict[LotStatus, AllocStatus] = {LotStatus.RELEASED: "released", LotStatus.HOLD: "hold",
                                         LotStatus.RECALLED: "recalled"}


def alert_days(product: Product, default: int) -> int:
    """The product's own alert window, or the site default when it has none."""
    return product.expiry_alert_days if product.expiry_alert_days is not None else default


def _value(on_hand: Decimal, unit_cost: Decimal) -> Decimal:
    return (on_hand * unit_cost).quantize(_CENT, ROUND_HALF_UP)


@dataclass(frozen=True)
class Filters:
    """Which expiring stock to show: `today`, the site's alert window and the optional filters."""

    today: date
    default_alert_days: int
    warehouse: str | None = None
    sku: str | None = None
    expired_only: bool = False
    expiring_only: bool = False


def _stock(session: Session, f: Filters, *columns: Any, detail: bool = False) -> Any:
    """SELECT `columns` from stock on hand expired or expiring within its product's alert window.

    A product's window is its `expiry_alert_days` or the site default; each distinct window becomes
    one date bound, and when every product uses the same window the product table is left out of the
    query, as are locations unless a warehouse is asked for (an aggregate then reads balance and lot
    only). With `detail`, every table is joined, and on SQLite lots drive the join in expiry order
    so that a page stops as soon as it is full instead of sorting all the stock.
    """
    windows = {w for w in session.scalars(select(Product.expiry_alert_days).distinct()) if w is not None}
    longest = max([*windows, f.default_alert_days])
    where: list[ColumnElement[bool]] = [Balance.on_hand > 0, Lot.expiry <= f.today + timedelta(days=longest)]
    varies = bool(windows - {f.default_alert_days})
    if varies:
        within: list[ColumnElement[bool]] = [
            and_(Product.expiry_alert_days == w, Lot.expiry <= f.today + timedelta(days=w)) for w in sorted(windows)
        ]
        within.append(and_(Product.expiry_alert_days.is_(None),
                           Lot.expiry <= f.today + timedelta(days=f.default_alert_days)))
        where.append(or_(*within))
    if f.expired_only:
        where.append(Lot.expiry < f.today)
    if f.expiring_only:
        where.append(Lot.expiry >= f.today)
    if f.warehouse:
        where.append(Warehouse.code == f.warehouse)
    if f.sku:
        where.append(Product.sku == f.sku)
    lot_id: Any = Lot.id
    if detail and session.get_bind().dialect.name == "sqlite":
        lot_id = Lot.id + 0  # not a rowid lookup from balance: the planner then walks ix_lot_expiry
    q = select(*columns).select_from(Balance).join(Lot, lot_id == Balance.lot_id)
    if detail or varies or f.sku:
        q = q.join(Product, Lot.product_id == Product.id)
    if detail or f.warehouse:
        q = q.join(Location, Balance.location_id == Location.id).join(Warehouse, Location.warehouse_id == Warehouse.id)
    return q.where(*where)


# --- totals per product and week -----------------------------------------------------------


def _week(session: Session) -> ColumnElement[date]:
    """The Monday of the week of a lot's expiry."""
    if session.get_bind().dialect.name == "sqlite":
        return func.date(Lot.expiry, "weekday 0", "-6 days", type_=Date)
    return cast(func.date_trunc("week", Lot.expiry), Date)


def _value_sum(session: Session) -> ColumnElement[Decimal]:
    """Σ on hand × unit cost, each product rounded to 6 places (half up) as a row's value is, exactly."""
    if session.get_bind().dialect.name == "sqlite":
        # Both are integers scaled by 10^6: split the cost so that no product leaves 64 bits.
        return literal_column(
            "sum(balance.on_hand * (lot.unit_cost / 1000000)"
            " + (balance.on_hand * (lot.unit_cost % 1000000) + 500000) / 1000000)", Exact())
    return func.sum(func.round(Balance.on_hand * Lot.unit_cost, 6), type_=Exact())


def expiring_weeks(session: Session, filters: Filters) -> list[ExpiringWeek]:
    """Stock still expiring per product and week of expiry, and stock already expired per product, soonest first.

    One aggregate query; expired stock is one row per product (`week` is the week of its earliest
    expiry), since it is all equally urgent.
    """
    expired = case((Lot.expiry < filters.today, 1), else_=0).label("expired")
    week = case((Lot.expiry < filters.today, None), else_=_week(session)).label("week")
    # On SQLite, grouping by the bare column lures the planner into walking the product index.
    product = (Lot.product_id + 0).label("product") if session.get_bind().dialect.name == "sqlite" else Lot.product_id
    q = _stock(session, filters, product, expired, week, func.min(Lot.expiry), func.count(distinct(Lot.id)),
               func.sum(Balance.on_hand), _value_sum(session)).group_by(product, expired, week)
    found = session.execute(q).all()
    products = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_({r[0] for r in found})))}
    weeks = []
    for product_id, past, wk, first, lots, on_hand, value in found:
        p = products[product_id]
        weeks.append(ExpiringWeek(sku=p.sku, product_name=p.name, unit=p.unit, week=wk or _monday(first),
                                  expired=bool(past), first_expiry=first, lots=lots, on_hand=on_hand, value=value))
    weeks.sort(key=lambda w: (w.first_expiry, w.sku, w.week))
    return weeks


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _totals(session: Session, filters: Filters) -> dict[bool, tuple[int, Decimal]]:
    """Lots and value, expired (True) and expiring (False)."""
    expired = case((Lot.expiry < filters.today, 1), else_=0).label("expired")
    q = _stock(session, filters, expired, func.count(distinct(Lot.id)), _value_sum(session)).group_by(expired)
    return {bool(past): (lots, value) for past, lots, value in session.execute(q)}


def expiry_summary(session: Session, filters: Filters, *, show: int = 8, max_weeks: int = 100,
                   max_customers: int = 3) -> ExpirySummary:
    """Counts and values of expired and expiring lots, the first `max_weeks` product-weeks and `show` rows.

    With `max_weeks=0` only the totals are aggregated (the dashboard's tile).
    """
    if max_weeks:
        weeks = expiring_weeks(session, filters)
        totals = {past: (sum(w.lots for w in weeks if w.expired is past),
                         sum((w.value for w in weeks if w.expired is past), Decimal(0))) for past in (True, False)}
    else:
        weeks, totals = [], _totals(session, filters)
    rows = expiring_stock(session, today=filters.today, default_alert_days=filters.default_alert_days,
                          warehouse=filters.warehouse, sku=filters.sku, expired_only=filters.expired_only,
                          expiring_only=filters.expiring_only, max_customers=max_customers, limit=show) if show else []
    none = (0, Decimal(0))
    return ExpirySummary(expired_lots=totals.get(True, none)[0], expired_value=totals.get(True, none)[1],
                         expiring_lots=totals.get(False, none)[0], expiring_value=totals.get(False, none)[1],
                         weeks=weeks[:max_weeks], more_weeks=max(0, len(weeks) - max_weeks), rows=rows)


# --- who could still take a lot ------------------------------------------------------------


@dataclass
class _Group:
    """Customers sharing one rule (and, under no-date-reversal, the same latest expiry received)."""

    rule: CustomerRule
    latest: date | None
    members: list[tuple[str, int]] = field(default_factory=list)  # (name, id), sorted


def _keyed(key: int, members: Iterable[tuple[str, int]]) -> Iterator[tuple[int, str, int]]:
    return ((key, name, cid) for name, cid in members)


class Takers:
    """Who could take lots of the given products: customers grouped by rule, built once per request.

    For a lot, each group's rule gives the last day the lot may ship to it (one closed-form date per
    group, not one test per customer); the eligible groups' members, merged by that day and name,
    are the candidates, and whether a candidate already buys the product is asked of the database
    only for as many candidates as the answer shows.
    """

    def __init__(self, session: Session, product_ids: Iterable[int]) -> None:
        self._session = session
        products = sorted(set(product_ids))
        self._static: dict[tuple[Any, ...], _Group] = {}
        self._reversal: list[tuple[str, int, CustomerRule]] = []
        rows = session.execute(select(Customer.id, Customer.name, Customer.min_remaining_days,
                                      Customer.min_remaining_pct, Customer.transit_days, Customer.no_date_reversal)
                               .order_by(Customer.name, Customer.id))
        for cid, name, days, pct, transit, reversal in rows:
            rule = CustomerRule(customer_name="", min_remaining_days=days, min_remaining_pct=pct,
                                transit_days=transit, no_date_reversal=reversal)
            if reversal:
                self._reversal.append((name, cid, rule))
            else:
                self._static.setdefault((days, pct, transit), _Group(rule, None)).members.append((name, cid))
        self._latest = (latest_shipped(session, [cid for _n, cid, _r in self._reversal], products)
                        if self._reversal and products else {})
        self._groups: dict[int, list[_Group]] = {}
        self._buys: dict[int, dict[int, bool]] = defaultdict(dict)
        self._complete: set[int] = set()
        self._everyone = [cid for g in self._static.values() for _n, cid in g.members] + [
            cid for _n, cid, _r in self._reversal]

    def groups(self, product_id: int) -> list[_Group]:
        """The customer groups for lots of one product."""
        if product_id not in self._groups:
            groups = list(self._static.values())
            by_latest: dict[tuple[Any, ...], _Group] = {}
            for name, cid, rule in self._reversal:
                latest = self._latest.get((cid, product_id))
                key = (rule.min_remaining_days, rule.min_remaining_pct, rule.transit_days, latest)
                by_latest.setdefault(key, _Group(rule, latest)).members.append((name, cid))
            self._groups[product_id] = groups + list(by_latest.values())
        return self._groups[product_id]

    def prefetch(self, wanted: dict[int, set[int]]) -> None:
        """Learn in one query, through these customers' orders, which of them ever ordered which product."""
        customers = sorted({c for cids in wanted.values() for c in cids})
        if not customers:
            return
        line: Any = OrderLineRow.product_id
        if self._session.get_bind().dialect.name == "sqlite":
            line = line + 0  # through each customer's orders, not through every line of the products
        found = {(p, c) for p, c in self._session.execute(
            select(OrderLineRow.product_id, Order.customer_id).join(Order, OrderLineRow.order_id == Order.id)
            .where(Order.customer_id.in_(customers), line.in_(sorted(wanted))).distinct())}
        for product_id in wanted:
            self._buys[product_id].update((c, (product_id, c) in found) for c in customers)
        # A product nobody ever ordered (a raw material, say) has no buyers to look for later.
        ordered = select(OrderLineRow.id).where(OrderLineRow.product_id == Product.id).exists()
        for product_id in set(wanted) - set(self._session.scalars(
                select(Product.id).where(Product.id.in_(sorted(wanted)), ordered))):
            self._complete.add(product_id)
            self._buys[product_id].update((c, False) for c in self._everyone)

    def _buyers(self, product_id: int, customer_ids: list[int]) -> dict[int, bool]:
        """Whether each customer has ever ordered the product; all its buyers are read once when not known."""
        known = self._buys[product_id]
        if product_id not in self._complete and any(c not in known for c in customer_ids):
            found = set(self._session.scalars(
                select(Order.customer_id).join(OrderLineRow, OrderLineRow.order_id == Order.id)
                .where(OrderLineRow.product_id == product_id).distinct()))
            self._complete.add(product_id)
            known.update((c, c in found) for c in self._everyone)
        return known

    def plan(self, lot: StockLot, product_id: int, *, today: date) -> _Plan:
        """The customer groups whose rule accepts the lot if it shipped today, with the last day each could."""
        eligible: list[tuple[int, _Group]] = []
        for g in self.groups(product_id):
            line = OrderLine(line_id=0, sku=lot.sku, quantity=lot.available, ship_date=today, rule=g.rule,
                             latest_shipped_expiry=g.latest)
            until = last_ship_day(lot, line)
            if until is not None:
                eligible.append((until.toordinal(), g))
        return _Plan(product_id, eligible, sum(len(g.members) for _u, g in eligible))

    def options(self, plan: _Plan, limit: int) -> tuple[list[CustomerOption], int]:
        """Up to `limit` customers of the plan, with the number of the others.

        Customers who already buy the product come first, then those who can wait longest, then by
        name (the candidates come merged in that order from the groups, each sorted by name).
        """
        if not limit or not plan.total:
            return [], plan.total
        candidates = plan.candidates()
        buyers: list[tuple[int, str, int]] = []
        others: list[tuple[int, str, int]] = []
        batch = 2 * limit
        while len(buyers) < limit:
            chunk = list(islice(candidates, batch))
            if not chunk:
                break
            buys = self._buyers(plan.product_id, [cid for _k, _n, cid in chunk])
            for k in chunk:
                (buyers if buys[k[2]] else others).append(k)
            batch *= 4
        chosen = [(k, True) for k in buyers[:limit]] + [(k, False) for k in others[:max(0, limit - len(buyers))]]
        options = [CustomerOption(customer_id=cid, name=name, until=date.fromordinal(-key), buys_it=buys)
                   for (key, name, cid), buys in chosen]
        return options, plan.total - len(options)


@dataclass(frozen=True)
class _Plan:
    product_id: int
    eligible: list[tuple[int, _Group]]  # (last ship day as an ordinal, group)
    total: int

    def candidates(self) -> Iterator[tuple[int, str, int]]:
        """(-last ship day, name, id) of every customer who could take the lot, latest day first."""
        return heapq.merge(*(_keyed(-u, g.members) for u, g in self.eligible))

    def first(self, n: int) -> set[int]:
        return {cid for _k, _n, cid in islice(self.candidates(), n)}


# --- rows --------------------------------------------------------------------------------


def expiring_stock(
    session: Session,
    *,
    today: date,
    default_alert_days: int,
    warehouse: str | None = None,
    sku: str | None = None,
    expired_only: bool = False,
    expiring_only: bool = False,
    with_customers: bool = True,
    max_customers: int = 20,
    limit: int | None = None,
    offset: int = 0,
) -> list[ExpiringRow]:
    """Lots on hand, per location, that are expired or expire within their product's alert window.

    The window is the product's `expiry_alert_days`, or `default_alert_days` when it has none;
    a lot is listed when `expiry - today <= window`. Soonest expiry first, then sku, lot and
    location; `limit` rows from `offset`. Each row names up to `max_customers` customers who
    could still take the lot (see `Takers.options`).
    """
    filters = Filters(today, default_alert_days, warehouse, sku, expired_only, expiring_only)
    q = _stock(session, filters, Lot, Product, Location.id, Location.code, Warehouse.code, Balance.on_hand,
               detail=True)
    q = q.order_by(Lot.expiry, Product.sku, Lot.code, Location.code).offset(offset)
    if limit is not None:
        q = q.limit(limit)
    found = session.execute(q).all()
    # Only released lots not yet expired can go to anyone.
    sellable = {p.id for lot, p, *_r in found
                if lot.status == LotStatus.RELEASED and lot.expiry is not None and lot.expiry >= today}
    takers = Takers(session, sellable) if with_customers and sellable else None
    plans: dict[int, _Plan] = {}
    if takers is not None:
        for i, (lot, product, _lid, _loc, _wh, on_hand) in enumerate(found):
            if product.id in sellable:
                plans[i] = takers.plan(StockLot(lot_id=lot.id, lot_code=lot.code, sku=product.sku, expiry=lot.expiry,
                                                made_on=lot.made_on, available=on_hand, status=_STATUS[lot.status],
                                                unit=product.unit), product.id, today=today)
        wanted: dict[int, set[int]] = defaultdict(set)
        for plan in plans.values():
            wanted[plan.product_id] |= plan.first(2 * max_customers)
        takers.prefetch(wanted)
    rows = []
    for i, (lot, product, location_id, location, wh, on_hand) in enumerate(found):
        assert lot.expiry is not None
        days_left = (lot.expiry - today).days
        customers, more = takers.options(plans[i], max_customers) if takers and i in plans else ([], 0)
        rows.append(ExpiringRow(
            lot_id=lot.id, sku=product.sku, product_name=product.name, unit=product.unit, lot_code=lot.code,
            made_on=lot.made_on, expiry=lot.expiry, days_left=days_left, expired=days_left < 0,
            alert_days=alert_days(product, default_alert_days), status=lot.status, hold_reason=lot.hold_reason,
            location_id=location_id, location=location, warehouse=wh, on_hand=on_hand,
            unit_cost=lot.unit_cost, value=_value(on_hand, lot.unit_cost), customers=customers, more_customers=more,
        ))
    return rows


# --- what "write off all expired stock" would write off ----------------------------------------


def _fingerprint(session: Session, where: Sequence[ColumnElement[bool]]) -> tuple[str, int, Decimal]:
    """A digest of the expired stock, the number of its lot × location rows and its value, in one aggregate.

    Sums that move whenever a row appears, goes or changes: how many rows, which lots (Σ lot id),
    how much (Σ on hand), where (Σ on hand weighted by location, so that stock moved between two
    locations of a lot shows), at what cost (Σ unit cost and the value).
    """
    # On SQLite on hand is an integer scaled by 10^6; the remainder keeps the sum within 64 bits.
    scaled = "balance.on_hand" if session.get_bind().dialect.name == "sqlite" else "balance.on_hand * 1000000"
    located: ColumnElement[Any] = literal_column(f"sum((balance.location_id % 997 + 1) * (({scaled}) % 1000000007))")
    count, lots, on_hand, placed, costs, value = session.execute(
        select(func.count(), func.sum(Balance.lot_id), cast(func.sum(Balance.on_hand), String), cast(located, String),
               cast(func.sum(Lot.unit_cost), String), _value_sum(session))
        .select_from(Balance).join(Lot, Lot.id == Balance.lot_id).where(*where)).one()
    digest = hashlib.sha256(f"{count},{lots},{on_hand},{placed},{costs},{value}".encode()).hexdigest()
    return digest, count, value or Decimal(0)


def expired_stock(session: Session, *, today: date, limit: int | None = None) -> ExpiredPreview:
    """What "write off all expired stock" would write off today: every lot past its expiry still on hand.

    `version`, `total_rows` and `all_value` cover all of it, aggregated in SQL; `rows` and
    `total_value` are the oldest `limit` rows (all when None), the ones a confirmation may name.
    The version is the last movement booked when it was read (16 hex digits) and a digest of the
    expired stock (48); `still_current` tells whether a version still describes the stock.
    """
    where = (Balance.on_hand > 0, Lot.expiry.is_not(None), Lot.expiry < today)
    # The ledger's position first: whatever is booked while the rest is read counts as after it.
    last = session.scalar(select(func.max(Movement.id))) or 0
    digest, total_rows, all_value = _fingerprint(session, where)
    q = (select(Lot, Product, Location.id, Location.code, Warehouse.code, Balance.on_hand)
         .join(Balance, Balance.lot_id == Lot.id).join(Product, Lot.product_id == Product.id)
         .join(Location, Balance.location_id == Location.id).join(Warehouse, Location.warehouse_id == Warehouse.id)
         .where(*where).order_by(Lot.expiry, Product.sku, Lot.code, Location.code))
    if limit is not None:
        q = q.limit(limit)
    rows = []
    for lot, product, location_id, location, wh, on_hand in session.execute(q):
        assert lot.expiry is not None  # only dated lots expire
        rows.append(ExpiredRow(
            lot_id=lot.id, sku=product.sku, product_name=product.name, unit=product.unit, lot_code=lot.code,
            expiry=lot.expiry, status=lot.status, location_id=location_id, location=location, warehouse=wh,
            on_hand=on_hand, unit_cost=lot.unit_cost, value=_value(on_hand, lot.unit_cost)))
    version = f"{last:016x}{digest[:48]}"
    return ExpiredPreview(today=today, version=version, rows=rows, total_value=sum((r.value for r in rows), Decimal(0)),
                          total_rows=total_rows, all_value=all_value)


def still_current(session: Session, version: str, now: ExpiredPreview) -> bool:
    """Whether a preview of version `version` shows the expired stock `now` does (worked out on the same day).

    The digests must match, and no movement booked since that preview may touch a lot expired
    today: every change to a balance is a movement, so stock moved, added or taken out of an
    expired lot is caught even where the sums would happen to balance out. Movements of other
    stock do not matter.
    """
    if len(version) != 64 or version[16:] != now.version[16:]:
        return False
    since = int(version[:16], 16)
    # Read from the newest movements (a few since a preview), not from the expired lots (most of them).
    expired = select(Lot.id).where(Lot.id == Movement.lot_id, Lot.expiry.is_not(None), Lot.expiry < now.today)
    touched = session.scalar(select(Movement.id).where(Movement.id > since, expired.exists()).limit(1))
    return touched is None

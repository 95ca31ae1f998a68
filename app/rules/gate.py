"""The one gate for stock: every reason a lot at a location may not give `quantity` for a purpose."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Protocol, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

import allocation as fefo
from allocation.usability import unusable
from app.errors import Conflict, InsufficientStock, LotBlocked
from app.formatting import qty_unit
from app.models import (
    RESERVING,
    Balance,
    Customer,
    Location,
    Lot,
    LotStatus,
    Order,
    OrderAllocation,
    OrderLine,
    Product,
    Shipment,
    ShipmentLine,
)

ZERO = Decimal(0)
S = TypeVar("S", bound=Select)  # type: ignore[type-arg]  # any select statement
CUSTOMER_RULES = frozenset({"min_days", "min_pct", "transit_days", "date_reversal", "lots_per_line"})


class _Named(Protocol):
    @property
    def sku(self) -> str: ...


class LotFacts(Protocol):
    """What judging a lot's usability reads of it: a loaded `Lot`, or the plain row a scan reads."""

    @property
    def code(self) -> str: ...
    @property
    def status(self) -> LotStatus: ...
    @property
    def expiry(self) -> date | None: ...
    @property
    def hold_reason(self) -> str | None: ...
    @property
    def product(self) -> _Named: ...


class Purpose(enum.StrEnum):
    """What the stock is taken for; each purpose applies its own part of the rules."""

    SHIP = "ship"
    PICK = "pick"
    CONSUME = "consume"
    TRANSFER = "transfer"
    WRITE_OFF = "write_off"


# Hold, recall, quarantine and expiry stop stock from being used; moving it (to quarantine, say)
# and writing it off stay possible.
_USES = frozenset({Purpose.SHIP, Purpose.PICK, Purpose.CONSUME})


# The short line a handheld shows in bold for each rule, above the full message: written once here,
# every refusal of that rule carries it. A few words, naming what to do where one thing fixes it.
SHORT: dict[str, str] = {
    "hold": "Lot on hold",
    "recalled": "Lot recalled",
    "quarantine": "Lot in quarantine",
    "expired": "Lot expired",
    "min_days": "Too short-dated for {customer}",
    "min_pct": "Too short-dated for {customer}",
    "transit_days": "Expires before reaching {customer}",
    "date_reversal": "Older than {customer} already has",
    "lots_per_line": "Too many lots for {customer}",
    "on_hand": "Not enough at {location}",
    "allocated": "Held for another order",
    "wrong_lot": "Wrong lot: pick {lot}",
    "wrong_location": "Wrong place: go to {location}",
    "wrong_product": "Not on this order",
    "wrong_sku": "Not on this order",
    "too_many": "Too many: {left} left",
    "not_pickable": "Not a pick location",
}


def short(rule: str, **names: object) -> str:
    """The bold line for a refusal of `rule`, its names filled in."""
    return SHORT[rule].format(**names)


@dataclass(frozen=True)
class Refusal:
    """One reason stock may not be taken: the rule, words a picker understands, the field at fault,
    and the rule's short line (`SHORT`)."""

    rule: str
    message: str
    field: str
    title: str = ""

    @property
    def overridable(self) -> bool:
        """A customer's rule may be overridden by a manager with a written reason; nothing else may."""
        return self.rule in CUSTOMER_RULES


@dataclass(frozen=True)
class ShipTo:
    """The customer order line stock is taken for, and the day it leaves."""

    order: Order
    line: OrderLine
    ship_date: date
    # Lots already on this line in the same shipment (a lot limit is per delivery).
    lots_on_line: frozenset[int] = field(default_factory=frozenset)


def customer_rule(c: Customer) -> fefo.CustomerRule:
    return fefo.CustomerRule(customer_name=c.name, min_remaining_days=c.min_remaining_days,
                             min_remaining_pct=c.min_remaining_pct, transit_days=c.transit_days or 0,
                             max_lots_per_line=c.max_lots_per_line, no_date_reversal=c.no_date_reversal)


def latest_shipped(session: Session, customer_ids: Iterable[int],
                   product_ids: Iterable[int]) -> dict[tuple[int, int], date]:
    """The latest expiry each customer already received of each product (for no-date-reversal)."""
    customers, products = set(customer_ids), set(product_ids)
    if not customers or not products:
        return {}
    rows = session.execute(
        select(Shipment.customer_id, Lot.product_id, func.max(Lot.expiry))
        .join(ShipmentLine, ShipmentLine.shipment_id == Shipment.id)
        .join(Lot, Lot.id == ShipmentLine.lot_id)
        .where(Shipment.customer_id.in_(customers), Lot.product_id.in_(products), Lot.expiry.is_not(None))
        .group_by(Shipment.customer_id, Lot.product_id)
    )
    return {(c, p): e for c, p, e in rows if e is not None}


def lock_products(session: Session, product_ids: Iterable[int]) -> None:
    """Serialize allocation and taking of stock per product for the rest of the transaction.

    On PostgreSQL every allocation, release, pick and booking that judges free stock first locks
    the product rows it touches, in id order so that two bookings never wait on each other
    crosswise; stock and allocations are read only after that. SQLite already runs one writing
    transaction at a time (BEGIN IMMEDIATE).

    The lock is FOR NO KEY UPDATE: it excludes every other booking that locks the product, but not the
    key-share lock PostgreSQL takes on the product when a booking adds a lot of it (a batch's output
    lot). With FOR UPDATE, two batches of one product, each having added its output lot, would each
    wait for the other's key-share lock: a deadlock.
    """
    ids = sorted(set(product_ids))
    if ids and session.get_bind().dialect.name == "postgresql":
        session.execute(select(Product.id).where(Product.id.in_(ids)).order_by(Product.id)
                        .with_for_update(key_share=True))


def locking_products(stmt: S, *, shared: bool) -> S:
    """`stmt` taking the lock of `lock_products` on the product rows it reads, or with `shared` its shared form.

    A pick of stock allocated to its own order (its order row locked) changes nothing another order counts on, so
    picks of one product need not wait for each other: they take the product FOR SHARE, which still waits for, and
    holds off, every booking that takes the lock of `lock_products` (allocating, releasing, holding, taking stock).
    """
    return stmt.with_for_update(of=Product, read=shared, key_share=not shared)


def lot_problems(lot: LotFacts, on: date | None, location: Location | None = None,
                 prefix: str = "", *, name_product: bool = True) -> list[Refusal]:
    """Why stock of the lot (at `location`) may not be used on day `on`: hold, recall, quarantine, expiry."""
    what = f"lot {lot.code} of {lot.product.sku}" if name_product else f"lot {lot.code}"
    out = []
    kinds = unusable(lot.status.value, lot.expiry, on, location.kind.value if location is not None else None)
    for kind in kinds:
        if kind == "recalled":
            out.append(Refusal(kind, f"{what} is recalled", prefix + "lot_id", short(kind)))
        elif kind == "hold":
            why = f": {lot.hold_reason}" if lot.hold_reason else ""
            out.append(Refusal(kind, f"{what} is on hold{why}", prefix + "lot_id", short(kind)))
        elif kind == "quarantine":
            assert location is not None
            out.append(Refusal(kind, f"{what} is in quarantine at {location.code}; transfer it out of "
                                     f"quarantine before using it", prefix + "location", short(kind)))
        else:
            out.append(Refusal(kind, f"{what} expired on {lot.expiry}", prefix + "lot_id", short("expired")))
    return out


def problem_of(lot: LotFacts, on: date, location: Location | None = None) -> str | None:
    """Why the lot may not be used, in words (for a scan that already shows the product); None when it may."""
    problems = lot_problems(lot, on, location, name_product=False)
    return "; ".join(p.message for p in problems) if problems else None


Spot = tuple[int, int]  # (lot id, location id)


def allocated_elsewhere(session: Session, lot_id: int, location_id: int,
                        order_id: int | None = None) -> list[tuple[str, Decimal]]:
    """Open allocations of the lot at the location, per order number, except `order_id`'s."""
    return allocations_elsewhere(session, [(lot_id, location_id)], order_id).get((lot_id, location_id), [])


def allocations_elsewhere(session: Session, spots: Iterable[Spot],
                          order_id: int | None = None) -> dict[Spot, list[tuple[str, Decimal]]]:
    """`allocated_elsewhere` for many lots and locations in one query: {(lot, location): [(order, qty)]}."""
    wanted = set(spots)
    if not wanted:
        return {}
    q = (select(OrderAllocation.lot_id, OrderAllocation.location_id, Order.number, func.sum(OrderAllocation.quantity))
         .join(OrderLine, OrderLine.id == OrderAllocation.order_line_id)
         .join(Order, Order.id == OrderLine.order_id)
         .where(OrderAllocation.lot_id.in_({lot for lot, _ in wanted}),
                OrderAllocation.location_id.in_({loc for _, loc in wanted}),
                OrderAllocation.state.in_(RESERVING))
         .group_by(OrderAllocation.lot_id, OrderAllocation.location_id, Order.number).order_by(Order.number))
    if order_id is not None:
        q = q.where(Order.id != order_id)
    out: dict[Spot, list[tuple[str, Decimal]]] = defaultdict(list)
    for lot_id, location_id, number, total in session.execute(q):
        if (lot_id, location_id) in wanted:
            out[(lot_id, location_id)].append((number, total))
    return dict(out)


def on_hand(session: Session, lot_id: int, location_id: int) -> Decimal:
    return on_hands(session, [(lot_id, location_id)]).get((lot_id, location_id), ZERO)


def on_hands(session: Session, spots: Iterable[Spot]) -> dict[Spot, Decimal]:
    """What is on hand of each lot at each location, in one query (a spot without a balance is absent)."""
    wanted = set(spots)
    if not wanted:
        return {}
    rows = session.execute(select(Balance.lot_id, Balance.location_id, Balance.on_hand)
                           .where(Balance.lot_id.in_({lot for lot, _ in wanted}),
                                  Balance.location_id.in_({loc for _, loc in wanted})))
    return {(lot, loc): qty for lot, loc, qty in rows if (lot, loc) in wanted}


def _customer_problems(lot: Lot, quantity: Decimal, to: ShipTo, latest: date | None,
                       prefix: str) -> list[Refusal]:
    customer = to.order.customer
    line = fefo.OrderLine(line_id=to.line.id, sku=to.line.product.sku, quantity=to.line.quantity,
                          ship_date=to.ship_date, rule=customer_rule(customer), latest_shipped_expiry=latest)
    stock = fefo.StockLot(lot_id=lot.id, lot_code=lot.code, sku=lot.product.sku, expiry=lot.expiry,
                          made_on=lot.made_on, available=quantity, location_id=0, location_code="",
                          status=lot.status.value, unit=lot.product.unit)
    out: list[Refusal] = []
    why = fefo.ineligibility(stock, line)
    if why is not None and why.kind not in ("recalled", "hold"):
        # "expired" here means: before it arrives; expired on the ship day is the lot rule's.
        rule = "transit_days" if why.kind == "expired" else why.kind
        if not (rule == "transit_days" and lot.expiry is not None and lot.expiry < to.ship_date):
            out.append(Refusal(rule, f"{why.message} (order {to.order.number}, line {to.line.line_no})",
                               prefix + "lot_id", short(rule, customer=customer.name)))
    limit = customer.max_lots_per_line
    if limit and lot.id not in to.lots_on_line and len(to.lots_on_line) + 1 > limit:
        out.append(Refusal("lots_per_line",
                           f"{customer.name} takes at most {limit} lot{'s' if limit != 1 else ''} per line; "
                           f"line {to.line.line_no} of order {to.order.number} already has "
                           f"{len(to.lots_on_line)} in this shipment, so lot {lot.code} would be one too many",
                           prefix + "lot_id", short("lots_per_line", customer=customer.name)))
    return out


@dataclass(frozen=True)
class Shortfall:
    """Stock of the lot at the location other orders hold, which taking `quantity` would need."""

    need: Decimal
    holders: list[tuple[str, Decimal]]


@dataclass(frozen=True)
class Take:
    """`quantity` of `lot` asked of `location`, after `already` taken there by the same booking."""

    lot: Lot
    location: Location
    quantity: Decimal
    already: Decimal = ZERO


@dataclass(frozen=True)
class Verdict:
    """The gate's answer for one take, with the stock it judged by.

    `holders` are the other orders' open allocations of the lot at the location (not read for a
    pick, which takes what its own order holds).
    """

    refusals: list[Refusal]
    shortfall: Shortfall | None
    on_hand: Decimal
    holders: list[tuple[str, Decimal]]

    @property
    def allocated(self) -> Decimal:
        return sum((q for _, q in self.holders), ZERO)

    @property
    def free(self) -> Decimal:
        return max(self.on_hand - self.allocated, ZERO)


def refusals(session: Session, lot: Lot, location: Location, quantity: Decimal, purpose: Purpose, *,
             on: date, ship_to: ShipTo | None = None, already: Decimal = ZERO, prefix: str = "",
             take_allocated: bool = False, here: Decimal | None = None) -> tuple[list[Refusal], Shortfall | None]:
    """Every reason `quantity` of `lot` may not leave `location` for `purpose` on day `on`.

    `already` is what this same booking takes of the lot there before this line. Availability is
    on hand less the open allocations of other orders (of every order when the stock is not
    going to a customer); with `take_allocated` the allocated stock may be taken, and the
    shortfall returned says how much and from whom. Customer rules apply whenever `ship_to` is
    given, allocated or not. `here` is what is on hand of the lot at the location, if the caller has read it.
    """
    verdict = judge(session, [Take(lot, location, quantity, already)], purpose, on=on, ship_to=ship_to,
                    prefix=prefix, take_allocated=take_allocated,
                    stock={(lot.id, location.id): here} if here is not None else None)[0]
    return verdict.refusals, verdict.shortfall


def judge(session: Session, takes: Sequence[Take], purpose: Purpose, *, on: date, ship_to: ShipTo | None = None,
          prefix: str = "", take_allocated: bool = False, stock: dict[Spot, Decimal] | None = None) -> list[Verdict]:
    """`refusals` for many takes at once, one verdict each in the same order.

    The stock, the other orders' allocations and the customer's earlier shipments are read for all
    of them together, in a fixed number of queries however many takes there are. `stock` is what is on hand at
    the takes' spots when the caller has read it already (under the same locks).
    """
    spots = [(t.lot.id, t.location.id) for t in takes]
    here = stock if stock is not None else on_hands(session, spots)
    holders = (allocations_elsewhere(session, spots, ship_to.order.id if ship_to is not None else None)
               if purpose is not Purpose.PICK else {})
    latest: dict[tuple[int, int], date] = {}
    if ship_to is not None and ship_to.order.customer.no_date_reversal:
        latest = latest_shipped(session, [ship_to.order.customer_id], {t.lot.product_id for t in takes})
    return [_verdict(t, purpose, on=on, ship_to=ship_to, prefix=prefix, take_allocated=take_allocated,
                     here=here.get(spot, ZERO), holders=holders.get(spot, []),
                     latest=latest.get((ship_to.order.customer_id, t.lot.product_id)) if ship_to else None)
            for t, spot in zip(takes, spots, strict=True)]


def _verdict(take: Take, purpose: Purpose, *, on: date, ship_to: ShipTo | None, prefix: str, take_allocated: bool,
             here: Decimal, holders: list[tuple[str, Decimal]], latest: date | None) -> Verdict:
    """The rules themselves, over stock already read."""
    lot, location, quantity = take.lot, take.location, take.quantity
    unit = lot.product.unit
    out: list[Refusal] = []
    if purpose in _USES:
        out += lot_problems(lot, on, location, prefix)
    if ship_to is not None:
        out += _customer_problems(lot, quantity, ship_to, latest, prefix)
    wanted = take.already + quantity
    shortfall = None
    if wanted > here:
        out.append(Refusal("on_hand", f"lot {lot.code} has {qty_unit(here - take.already, unit)} at "
                                      f"{location.code}; {qty_unit(quantity, unit)} needed", prefix + "quantity",
                           short("on_hand", location=location.code)))
    elif purpose is not Purpose.PICK:
        held = sum((q for _, q in holders), ZERO)
        free = max(here - held, ZERO)
        if wanted > free:
            shortfall = Shortfall(wanted - free, holders)
            if not take_allocated:
                orders = ", ".join(f"order {n} ({qty_unit(q, unit)})" for n, q in holders)
                out.append(Refusal(
                    "allocated",
                    f"lot {lot.code} has {qty_unit(here, unit)} at {location.code}, of which "
                    f"{qty_unit(held, unit)} is allocated to {orders}; "
                    f"{qty_unit(max(free - take.already, ZERO), unit)} free, {qty_unit(quantity, unit)} requested "
                    f"— take the allocated stock explicitly (take_allocated) to release it from those orders",
                    prefix + "quantity", short("allocated")))
    return Verdict(out, shortfall, here, holders)


def refuse(problems: list[Refusal]) -> None:
    """Raise every reason at once: a 409 naming the first field at fault (nothing is written)."""
    if not problems:
        return
    message = "; ".join(p.message for p in problems)
    first = problems[0]
    title = first.title or None
    if all(p.rule in ("on_hand", "allocated") for p in problems):
        raise InsufficientStock(message, first.field, title=title)
    if any(p.rule in ("hold", "recalled", "quarantine", "expired") or p.overridable for p in problems):
        raise LotBlocked(message, first.field, title=title)
    raise Conflict(message, first.field, title=title)

"""Options for the pages' selects and datalists: products, parties, locations and lots in stock."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from app.formatting import qty as format_qty
from app.models import (
    Balance,
    Customer,
    Location,
    LocationKind,
    Lot,
    LotStatus,
    Order,
    Product,
    ProductKind,
    Supplier,
    Warehouse,
    WriteOffReason,
)
from app.queries.lots import lot_rows
from app.rules.gate import Purpose, ShipTo, Take, judge
from app.schemas import PDF_LAYOUTS, THERMAL_SIZES
from app.web import db, today
from labels import SIZES

Options = list[tuple[str, str]]
Groups = list[tuple[str, Options]]


def products() -> list[Product]:
    return list(db().scalars(select(Product).where(Product.active.is_(True)).order_by(Product.sku)))


def product_groups() -> Groups:
    """Active products as select groups: what we make first, then materials."""
    rows = products()
    return [(label, [(p.sku, f"{p.sku} · {p.name}") for p in rows if p.kind is kind])
            for label, kind in (("Products", ProductKind.PRODUCT), ("Materials", ProductKind.MATERIAL))
            if any(p.kind is kind for p in rows)]


def suppliers() -> Options:
    return [(str(s.id), s.name) for s in db().scalars(select(Supplier).order_by(Supplier.name))]


def customers() -> Options:
    return [(str(c.id), c.name) for c in db().scalars(select(Customer).order_by(Customer.name))]


def warehouses() -> Options:
    return [(w.code, f"{w.code} · {w.name}") for w in db().scalars(select(Warehouse).order_by(Warehouse.code))]


def write_off_reasons() -> Options:
    return [(r.value, r.value.capitalize()) for r in WriteOffReason]


def locations(kinds: tuple[LocationKind, ...] | None = None) -> Groups:
    """Active locations grouped by warehouse."""
    q = select(Location).join(Warehouse).where(Location.active.is_(True)).order_by(Warehouse.code, Location.code)
    if kinds:
        q = q.where(Location.kind.in_(kinds))
    groups: dict[str, Options] = {}
    for loc in db().scalars(q):
        groups.setdefault(loc.warehouse.code, []).append((loc.code, f"{loc.code} · {loc.kind.value}"))
    return list(groups.items())


def first_location(kind: LocationKind) -> str:
    """The default choice for a location select: the first active location of `kind`."""
    code = db().scalar(select(Location.code).where(Location.kind == kind, Location.active.is_(True))
                       .order_by(Location.code).limit(1))
    return code or ""


def stocked_lots(limit: int = 500) -> Options:
    """Released lots with stock, as "SKU / lot code" for a datalist, soonest expiry first."""
    rows = lot_rows(db(), status=LotStatus.RELEASED, in_stock=True, limit=limit)
    return [(f"{lot.sku} / {lot.code}", f"{lot.product_name} · {format_qty(lot.on_hand)} {lot.unit}"
             + (f" · exp {lot.expiry}" if lot.expiry else "")) for lot in rows]


@dataclass(frozen=True)
class Pick:
    """One lot at one location that could fill an order line.

    `usable`: it passes every rule and is free; `blocked`: the lot may not be used at all (hold,
    recall, quarantine, expiry), so it cannot be chosen. A lot failing only the customer's rule or
    allocated to another order can be chosen, for a manager's override or an explicit take.
    """

    value: str
    label: str
    on_hand: Decimal
    usable: bool
    blocked: bool = False
    free: Decimal = Decimal(0)


def picks(sku: str, warehouse: str, order_id: int | None = None) -> list[Pick]:
    """Stock of `sku` in `warehouse`, lot by lot and location by location, soonest expiry first.

    Each is judged by the stock gate as shipping it today on order `order_id` would be.
    """
    s = db()
    day = today()
    order = s.get(Order, order_id) if order_id is not None else None
    line = next((x for x in order.lines if x.product.sku == sku), None) if order is not None else None
    rows = s.execute(
        select(Balance.on_hand, Lot, Location)
        .join(Lot, Lot.id == Balance.lot_id).join(Product, Product.id == Lot.product_id)
        .join(Location, Location.id == Balance.location_id).join(Warehouse, Warehouse.id == Location.warehouse_id)
        .where(Product.sku == sku, Warehouse.code == warehouse, Balance.on_hand > 0)
        .order_by(Lot.expiry.is_(None), Lot.expiry, Lot.made_on, Lot.code, Location.code)
        .limit(200)
    ).all()
    ship_to = ShipTo(order, line, day) if order is not None and line is not None else None
    # Judged all at once: the gate reads stock and allocations for every row in a few queries.
    verdicts = judge(s, [Take(lot, location, Decimal(0)) for _, lot, location in rows], Purpose.SHIP, on=day,
                     ship_to=ship_to)
    out: list[Pick] = []
    for (on_hand, lot, location), verdict in zip(rows, verdicts, strict=True):
        problems = verdict.refusals
        free = max(on_hand - verdict.allocated, Decimal(0))
        blocked = any(not p.overridable for p in problems)
        notes = [p.rule.replace("_", " ").replace("hold", "on hold") for p in problems]
        if free < on_hand:
            notes.append(f"{format_qty(on_hand - free)} allocated to other orders")
        label = (f"{lot.code} · exp {lot.expiry or 'none'} · {location.code} · {format_qty(on_hand)} {lot.product.unit}"
                 + (f" ({'; '.join(notes)})" if notes else ""))
        out.append(Pick(value=f"{lot.id}@{location.code}", label=label, on_hand=on_hand,
                        usable=not problems and free > 0, blocked=blocked, free=free))
    out.sort(key=lambda p: (p.blocked, not p.usable))
    return out


def size_choices(names: tuple[str, ...]) -> list[tuple[str, str]]:
    out = []
    for name in names:
        size = SIZES.get(name)
        out.append((name, f"{size.title}" if size else f"{name} sheet"))
    return out


PDF_CHOICES = size_choices(PDF_LAYOUTS)
ZPL_CHOICES = size_choices(THERMAL_SIZES)
DPI_CHOICES = [("203", "203 dpi (8 dots/mm)"), ("300", "300 dpi (12 dots/mm)")]

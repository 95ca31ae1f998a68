"""Options for the pages' selects and datalists: products, parties, locations and lots in stock."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from app.formatting import qty as format_qty
from app.models import (
    Customer,
    Location,
    LocationKind,
    LotStatus,
    Product,
    ProductKind,
    Supplier,
    Warehouse,
    WriteOffReason,
)
from app.queries.lots import lot_rows, stock_of
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
    """One lot at one location that could fill an order line."""

    value: str
    label: str
    on_hand: Decimal
    usable: bool


def picks(sku: str, warehouse: str) -> list[Pick]:
    """Stock of `sku` in `warehouse`, lot by lot and location by location, soonest expiry first."""
    out: list[Pick] = []
    day = today()
    for lot in lot_rows(db(), sku=sku, in_stock=True, limit=200):
        problem = ""
        if lot.status is not LotStatus.RELEASED:
            problem = lot.status.value.replace("hold", "on hold")
        elif lot.expiry is not None and lot.expiry < day:
            problem = "expired"
        for s in stock_of(db(), lot.id):
            if s.warehouse != warehouse or s.on_hand <= 0:
                continue
            label = f"{lot.code} · exp {lot.expiry or 'none'} · {s.location} · {format_qty(s.on_hand)} {lot.unit}"
            out.append(Pick(value=f"{lot.id}@{s.location}", label=label + (f" ({problem})" if problem else ""),
                            on_hand=s.on_hand, usable=not problem))
    out.sort(key=lambda p: not p.usable)
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

"""The waste report: write-offs by month × product, reason and location, valued at the lots' own cost."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import get_or_404
from app.errors import Invalid
from app.models import (
    Location,
    Lot,
    Movement,
    MovementKind,
    Product,
    Warehouse,
    WriteOff,
    WriteOffBatch,
    WriteOffReason,
)
from app.schemas import (
    Change,
    LocationRow,
    MonthProductRow,
    MonthRow,
    ProductRow,
    ReasonRow,
    WasteReport,
    WriteOffBatchOut,
    WriteOffOut,
)

_PCT = Decimal("0.01")


# --- write-off documents ---------------------------------------------------------------------


def write_off_out(w: WriteOff) -> WriteOffOut:
    """A write-off as the API and pages show it."""
    return WriteOffOut(
        id=w.id, number=w.number, lot_id=w.lot_id, sku=w.lot.product.sku, product_name=w.lot.product.name,
        lot_code=w.lot.code, expiry=w.lot.expiry, location=w.location.code, quantity=w.quantity,
        unit=w.lot.product.unit, reason=w.reason, note=w.note, written_off_on=w.written_off_on,
        unit_cost=w.unit_cost, value=w.value, batch_number=w.batch.number if w.batch else None,
        user=w.user.username if w.user else None,
    )


def batch_out(b: WriteOffBatch) -> WriteOffBatchOut:
    """A bulk write-off with its write-offs and their total value."""
    rows = [write_off_out(w) for w in b.write_offs]
    return WriteOffBatchOut(id=b.id, number=b.number, written_off_on=b.written_off_on, note=b.note,
                            total_value=sum((w.value for w in rows), Decimal(0)), write_offs=rows)


def get_write_off(session: Session, write_off_id: int) -> WriteOff:
    """The write-off, or NotFound."""
    return get_or_404(session, WriteOff, write_off_id, "write_off_id", "write-off")


def write_off_rows(session: Session, *, date_from: date | None = None, date_to: date | None = None,
                   reason: WriteOffReason | None = None, lot_id: int | None = None, batch: str | None = None,
                   limit: int = 100, offset: int = 0) -> list[WriteOffOut]:
    """Write-offs, newest first; `batch` is the number of a bulk write-off of expired stock."""
    check_range(date_from, date_to)
    q = select(WriteOff)
    if date_from:
        q = q.where(WriteOff.written_off_on >= date_from)
    if date_to:
        q = q.where(WriteOff.written_off_on <= date_to)
    if reason:
        q = q.where(WriteOff.reason == reason)
    if lot_id:
        q = q.where(WriteOff.lot_id == lot_id)
    if batch:
        q = q.join(WriteOffBatch, WriteOff.batch_id == WriteOffBatch.id).where(WriteOffBatch.number == batch)
    q = q.order_by(WriteOff.written_off_on.desc(), WriteOff.id.desc()).limit(limit).offset(offset)
    return [write_off_out(w) for w in session.scalars(q)]


# --- the report ------------------------------------------------------------------------------


def check_range(date_from: date | None, date_to: date | None) -> None:
    """Refuse a range whose start is after its end."""
    if date_from and date_to and date_from > date_to:
        raise Invalid(f"the range is backwards: from {date_from} is after to {date_to}", "from")


def _month_end(d: date) -> date:
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _add_months(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def previous_period(date_from: date, date_to: date) -> tuple[date, date]:
    """The period just before: the same number of whole months when the range is whole months, else of days."""
    if date_from.day == 1 and date_to == _month_end(date_to):
        months = (date_to.year - date_from.year) * 12 + date_to.month - date_from.month + 1
        start = _add_months(date_from, -months)
        return start, date_from - timedelta(days=1)
    days = (date_to - date_from).days + 1
    return date_from - timedelta(days=days), date_from - timedelta(days=1)


def months_between(date_from: date, date_to: date) -> list[str]:
    """The months the range touches, as YYYY-MM."""
    out = []
    d = date_from.replace(day=1)
    while d <= date_to:
        out.append(f"{d:%Y-%m}")
        d = _add_months(d, 1)
    return out


def _pct(part: Decimal, whole: Decimal) -> Decimal | None:
    return (part * 100 / whole).quantize(_PCT) if whole else None


def _change(current: Decimal, previous: Decimal) -> Change:
    return Change(current=current, previous=previous, change=current - previous,
                  change_pct=_pct(current - previous, previous))


def _waste(session: Session, date_from: date, date_to: date) -> list[tuple[date, int, WriteOffReason, int, int,
                                                                              Decimal, Decimal]]:
    """Write-offs of the period summed per day, product, reason and location."""
    rows = session.execute(
        select(WriteOff.written_off_on, Lot.product_id, WriteOff.reason, WriteOff.location_id,
               func.count(WriteOff.id), func.sum(WriteOff.quantity), func.sum(WriteOff.value))
        .join(Lot, WriteOff.lot_id == Lot.id)
        .where(WriteOff.written_off_on >= date_from, WriteOff.written_off_on <= date_to)
        .group_by(WriteOff.written_off_on, Lot.product_id, WriteOff.reason, WriteOff.location_id)
    )
    return [(d, p, r, loc, n, q, v) for d, p, r, loc, n, q, v in rows]


def _intake(session: Session, date_from: date, date_to: date) -> list[tuple[date, int, Decimal, Decimal]]:
    """Received and produced stock of the period per day and product: quantity and value at lot cost."""
    rows = session.execute(
        select(Movement.booked_on, Lot.product_id, Lot.unit_cost, func.sum(Movement.quantity))
        .join(Lot, Movement.lot_id == Lot.id)
        .where(Movement.kind.in_([MovementKind.RECEIVE, MovementKind.PRODUCE]),
               Movement.booked_on >= date_from, Movement.booked_on <= date_to)
        .group_by(Movement.booked_on, Lot.product_id, Lot.id, Lot.unit_cost)
    )
    return [(d, p, q, q * cost) for d, p, cost, q in rows]


def waste_report(session: Session, *, date_from: date, date_to: date) -> WasteReport:
    """Waste in [date_from, date_to] by month × product, product, reason and location, against the period before."""
    check_range(date_from, date_to)
    prev_from, prev_to = previous_period(date_from, date_to)
    current = _waste(session, date_from, date_to)
    previous = _waste(session, prev_from, prev_to)
    intake = _intake(session, date_from, date_to)
    product_ids = {r[1] for r in current} | {r[1] for r in previous} | {r[1] for r in intake}
    products = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(product_ids)))}
    location_ids = {r[3] for r in current} | {r[3] for r in previous}
    locations = {loc.id: (loc.code, wh) for loc, wh in session.execute(
        select(Location, Warehouse.code).join(Warehouse, Location.warehouse_id == Warehouse.id)
        .where(Location.id.in_(location_ids)))}

    zero = Decimal(0)
    cell_q: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    cell_v: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    month_v: dict[str, Decimal] = defaultdict(Decimal)
    prod_q: dict[int, Decimal] = defaultdict(Decimal)
    prod_v: dict[int, Decimal] = defaultdict(Decimal)
    reason_n: dict[WriteOffReason, int] = defaultdict(int)
    reason_v: dict[WriteOffReason, Decimal] = defaultdict(Decimal)
    loc_n: dict[int, int] = defaultdict(int)
    loc_v: dict[int, Decimal] = defaultdict(Decimal)
    count = 0
    for day, product_id, reason, location_id, n, quantity, value in current:
        month = f"{day:%Y-%m}"
        cell_q[month, product_id] += quantity
        cell_v[month, product_id] += value
        month_v[month] += value
        prod_q[product_id] += quantity
        prod_v[product_id] += value
        reason_n[reason] += n
        reason_v[reason] += value
        loc_n[location_id] += n
        loc_v[location_id] += value
        count += n
    prev_prod_q: dict[int, Decimal] = defaultdict(Decimal)
    prev_prod_v: dict[int, Decimal] = defaultdict(Decimal)
    prev_reason_v: dict[WriteOffReason, Decimal] = defaultdict(Decimal)
    prev_loc_v: dict[int, Decimal] = defaultdict(Decimal)
    for _day, product_id, reason, location_id, _n, quantity, value in previous:
        prev_prod_q[product_id] += quantity
        prev_prod_v[product_id] += value
        prev_reason_v[reason] += value
        prev_loc_v[location_id] += value
    intake_q: dict[int, Decimal] = defaultdict(Decimal)
    intake_month_v: dict[str, Decimal] = defaultdict(Decimal)
    for day, product_id, quantity, value in intake:
        intake_q[product_id] += quantity
        intake_month_v[f"{day:%Y-%m}"] += value

    months = months_between(date_from, date_to)
    by_sku = sorted(products.values(), key=lambda p: p.sku)
    wasted = [p for p in by_sku if p.id in prod_v or p.id in prev_prod_v]
    total_intake = sum(intake_month_v.values(), zero)
    total = sum(month_v.values(), zero)
    return WasteReport(
        date_from=date_from, date_to=date_to, previous_from=prev_from, previous_to=prev_to, months=months,
        by_month_product=[
            MonthProductRow(month=m, sku=p.sku, product_name=p.name, unit=p.unit, quantity=cell_q[m, p.id],
                            value=cell_v[m, p.id])
            for m in months for p in by_sku if (m, p.id) in cell_v
        ],
        by_month=[MonthRow(month=m, value=month_v[m], intake_value=intake_month_v[m],
                           share_pct=_pct(month_v[m], intake_month_v[m])) for m in months],
        by_product=[
            ProductRow(sku=p.sku, product_name=p.name, unit=p.unit, quantity=prod_q[p.id], value=prod_v[p.id],
                       intake_quantity=intake_q[p.id], share_pct=_pct(prod_q[p.id], intake_q[p.id]),
                       previous_quantity=prev_prod_q[p.id], value_change=_change(prod_v[p.id], prev_prod_v[p.id]))
            for p in wasted
        ],
        by_reason=[
            ReasonRow(reason=r, write_offs=reason_n[r], value=reason_v[r],
                      value_change=_change(reason_v[r], prev_reason_v[r]))
            for r in WriteOffReason if r in reason_v or r in prev_reason_v
        ],
        by_location=[
            LocationRow(location=locations[i][0], warehouse=locations[i][1], write_offs=loc_n[i], value=loc_v[i],
                        value_change=_change(loc_v[i], prev_loc_v[i]))
            for i in sorted(location_ids, key=lambda i: locations[i])
        ],
        write_offs=count,
        total=_change(total, sum(prev_prod_v.values(), zero)),
        intake_value=total_intake,
        share_pct=_pct(total, total_intake),
    )


# --- exports ---------------------------------------------------------------------------------



"""Keeping allocations in step with shipments and cancellations, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import RESERVING, AllocationState, LineShortage, OrderAllocation, OrderLine


def release_order_allocations(session: Session, order_id: int, reason: str) -> None:
    """Give back everything still set aside for an order (it is cancelled), and forget its shortages."""
    lines = select(OrderLine.id).where(OrderLine.order_id == order_id).scalar_subquery()
    session.execute(
        update(OrderAllocation)
        .where(OrderAllocation.order_line_id.in_(lines), OrderAllocation.state.in_(RESERVING))
        .values(state=AllocationState.RELEASED, released_at=utcnow(), reason=reason)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(LineShortage).where(LineShortage.order_line_id.in_(lines))
    )


def split_off(session: Session, a: OrderAllocation, take: Decimal, picked_take: Decimal,
              state: AllocationState, reason: str | None = None) -> OrderAllocation:
    """Move `take` of allocation `a` (of which `picked_take` picked) into `state`; the rest stays as it was.

    The whole allocation changes state when `take` is all of it; otherwise a new row records the part.
    """
    if take >= a.quantity:
        a.state = state
        if state is AllocationState.RELEASED:
            a.released_at = utcnow()
        a.reason = reason or a.reason
        return a
    a.quantity -= take
    a.picked_quantity -= picked_take
    a.state = AllocationState.PICKED if a.picked_quantity >= a.quantity else AllocationState.OPEN
    part = OrderAllocation(order_line_id=a.order_line_id, lot_id=a.lot_id, location_id=a.location_id,
                           quantity=take, picked_quantity=picked_take, state=state, reason=reason,
                           released_at=utcnow() if state is AllocationState.RELEASED else None)
    session.add(part)
    return part


def reserving_of_line(session: Session, line_id: int) -> list[OrderAllocation]:
    """The line's allocations still holding stock, oldest first, fresh from the database."""
    return list(session.scalars(
        select(OrderAllocation)
        .where(OrderAllocation.order_line_id == line_id, OrderAllocation.state.in_(RESERVING))
        .order_by(OrderAllocation.id)
        .execution_options(populate_existing=True)
    ))


def ship_allocated(session: Session, line_id: int, lot_id: int, location_id: int, quantity: Decimal) -> None:
    """Mark up to `quantity` of the line's allocations of this lot at this location shipped, picked stock first."""
    matching = [a for a in reserving_of_line(session, line_id) if a.lot_id == lot_id and a.location_id == location_id]
    left = quantity
    for a in sorted(matching, key=lambda x: -x.picked_quantity):
        if left <= 0:
            break
        take = min(left, a.picked_quantity)
        if take > 0:
            split_off(session, a, take, take, AllocationState.SHIPPED)
            left -= take
    for a in matching:
        if left <= 0:
            break
        if a.state in RESERVING and a.unpicked > 0:
            take = min(left, a.unpicked)
            split_off(session, a, take, Decimal(0), AllocationState.SHIPPED)
            left -= take
    session.flush()


def trim_allocations(session: Session, lines: Iterable[OrderLine]) -> None:
    """Release what lines hold beyond their open quantity (stock shipped from other lots), unpicked first."""
    for line in lines:
        held = reserving_of_line(session, line.id)
        excess = sum((a.quantity for a in held), Decimal(0)) - max(line.open_quantity, Decimal(0))
        # The latest allocations go first: they are the ones a picker would reach last.
        for a in sorted(held, key=lambda x: (x.picked_quantity > 0, -x.id)):
            if excess <= 0:
                break
            take = min(excess, a.quantity)
            picked_take = max(Decimal(0), take - a.unpicked)
            split_off(session, a, take, picked_take, AllocationState.RELEASED, "no longer needed: line shipped")
            excess -= take
        if line.open_quantity <= 0:
            session.execute(delete(LineShortage).where(LineShortage.order_line_id == line.id))
    session.flush()

"""One booking's passage through the stock gate: refusals raised, allocated stock taken explicitly."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.formatting import qty_unit
from app.models import RESERVING, AllocationState, Location, Lot, OrderAllocation, OrderLine
from app.rules.gate import (
    Purpose,
    Refusal,
    ShipTo,
    allocated_elsewhere,
    lock_products,
    on_hand,
    refusals,
    refuse,
)
from app.schemas import TakenOut
from app.services.allocation_ledger import split_off

ZERO = Decimal(0)


class Takings:
    """Everything one booking takes out of stock, checked by the gate before each movement.

    `check` raises every reason a take is refused (nothing is written: the booking's
    transaction rolls back). With `take_allocated`, stock other orders hold is released from
    them; `finish` re-allocates those lines once the booking's movements are in and says which
    orders lost what.
    """

    def __init__(self, session: Session, purpose: Purpose, *, on: date, take_allocated: bool = False,
                 label: str = "") -> None:
        self.session = session
        self.purpose = purpose
        self.on = on
        self.take_allocated = take_allocated
        self.label = label
        self.taken: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
        self.lost: dict[tuple[int, int, int], Decimal] = defaultdict(Decimal)
        self.overridden: list[Refusal] = []

    def check(self, lot: Lot, location: Location, quantity: Decimal, *, ship_to: ShipTo | None = None,
              prefix: str = "", override: bool = False) -> None:
        """Refuse the take with every reason, or let it through (releasing allocated stock if asked)."""
        lock_products(self.session, [lot.product_id])
        key = (lot.id, location.id)
        problems, shortfall = refusals(self.session, lot, location, quantity, self.purpose, on=self.on,
                                       ship_to=ship_to, already=self.taken[key], prefix=prefix,
                                       take_allocated=self.take_allocated)
        if override:
            self.overridden += [p for p in problems if p.overridable]
            problems = [p for p in problems if not p.overridable]
        refuse(problems)
        if shortfall is not None and self.take_allocated:
            self._release(lot, location, shortfall.need, ship_to.order.id if ship_to is not None else None)
        self.taken[key] += quantity

    def release_excess(self, lot: Lot, location: Location) -> None:
        """After stock left without a take (a count correction), release what allocations hold beyond it."""
        lock_products(self.session, [lot.product_id])
        self.session.flush()
        held = sum((q for _, q in allocated_elsewhere(self.session, lot.id, location.id)), ZERO)
        excess = held - on_hand(self.session, lot.id, location.id)
        if excess > 0:
            self._release(lot, location, excess, None)

    def _release(self, lot: Lot, location: Location, need: Decimal, keep_order_id: int | None) -> None:
        q = (select(OrderAllocation).join(OrderLine, OrderLine.id == OrderAllocation.order_line_id)
             .where(OrderAllocation.lot_id == lot.id, OrderAllocation.location_id == location.id,
                    OrderAllocation.state.in_(RESERVING))
             .order_by(OrderAllocation.id.desc())
             .execution_options(populate_existing=True))
        if keep_order_id is not None:
            q = q.where(OrderLine.order_id != keep_order_id)
        held = list(self.session.scalars(q))
        # What a picker has not reached yet goes first, the latest allocations before older ones.
        held.sort(key=lambda a: a.picked_quantity > 0)
        reason = f"taken by {self.label}" if self.label else "taken for another purpose"
        for a in held:
            if need <= 0:
                break
            take = min(need, a.quantity)
            picked_take = max(ZERO, take - a.unpicked)
            self.lost[(a.order_line_id, lot.id, location.id)] += take
            split_off(self.session, a, take, picked_take, AllocationState.RELEASED, reason)
            need -= take
        self.session.flush()

    def finish(self, today: date) -> list[TakenOut]:
        """Re-allocate the lines that lost stock (after the booking's movements) and say what happened."""
        if not self.lost:
            return []
        from app.services.allocations import run_lines  # here: allocations imports the order services

        self.session.flush()
        line_ids = sorted({line_id for line_id, _, _ in self.lost})
        run = run_lines(self.session, line_ids, today=today)
        got: dict[int, Decimal] = defaultdict(Decimal)
        for a in run.allocations:
            got[a.order_line_id] += a.quantity
        short = {s.order_line_id: s.missing for s in run.shortages}
        out = []
        for (line_id, lot_id, location_id), lost in sorted(self.lost.items()):
            line = self.session.get_one(OrderLine, line_id)
            lot = self.session.get_one(Lot, lot_id)
            location = self.session.get_one(Location, location_id)
            unit = lot.product.unit
            back, missing = got.get(line_id, ZERO), short.get(line_id, ZERO)
            message = (f"order {line.order.number} line {line.line_no} lost {qty_unit(lost, unit)} of lot "
                       f"{lot.code} at {location.code}; re-allocated {qty_unit(back, unit)}")
            if missing > 0:
                message += f", {qty_unit(missing, unit)} short"
            out.append(TakenOut(order_id=line.order_id, order_number=line.order.number, order_line_id=line.id,
                                line_no=line.line_no, sku=lot.product.sku, lot_code=lot.code,
                                location=location.code, lost=lost, reallocated=back, short=missing,
                                message=message))
        return out

"""Ledger integrity: balances equal the sum of movements, lot links equal consumption, and open
allocations never exceed what is on hand."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.formatting import qty
from app.models import RESERVING, Balance, LotLink, Movement, MovementKind, OrderAllocation, ProductionRun


@dataclass(frozen=True)
class Problem:
    kind: str
    message: str


def check_ledger(session: Session) -> list[Problem]:
    """Every disagreement between the ledger and what is derived from it (empty when sound)."""
    problems: list[Problem] = []
    sums = {
        (lot_id, loc_id): qty
        for lot_id, loc_id, qty in session.execute(
            select(Movement.lot_id, Movement.location_id, func.sum(Movement.quantity))
            .group_by(Movement.lot_id, Movement.location_id)
        )
    }
    balances = {(b.lot_id, b.location_id): b.on_hand for b in session.scalars(select(Balance))}
    for key in sorted(sums.keys() | balances.keys()):
        moved = sums.get(key, Decimal(0))
        held = balances.get(key, Decimal(0))
        if moved != held:
            problems.append(Problem("balance", f"lot {key[0]} at location {key[1]}: balance {held}, "
                                               f"movements add up to {moved}"))
        if moved < 0:
            problems.append(Problem("negative", f"lot {key[0]} at location {key[1]} is negative: {moved}"))

    consumed = {
        (run_id, lot_id): -qty
        for run_id, lot_id, qty in session.execute(
            select(Movement.ref_id, Movement.lot_id, func.sum(Movement.quantity))
            .where(Movement.kind == MovementKind.CONSUME, Movement.ref_type == "production_run")
            .group_by(Movement.ref_id, Movement.lot_id)
        )
    }
    linked = {
        (run_id, lot_id): qty
        for run_id, lot_id, qty in session.execute(
            select(LotLink.run_id, LotLink.input_lot_id, func.sum(LotLink.quantity))
            .group_by(LotLink.run_id, LotLink.input_lot_id)
        )
    }
    for key in sorted(consumed.keys() | linked.keys()):
        if consumed.get(key, Decimal(0)) != linked.get(key, Decimal(0)):
            problems.append(Problem("link", f"run {key[0]}, input lot {key[1]}: consumed "
                                            f"{consumed.get(key, 0)}, linked {linked.get(key, 0)}"))

    produced = {
        run_id: qty
        for run_id, qty in session.execute(
            select(Movement.ref_id, func.sum(Movement.quantity))
            .where(Movement.kind == MovementKind.PRODUCE, Movement.ref_type == "production_run")
            .group_by(Movement.ref_id)
        )
    }
    for run in session.execute(select(ProductionRun.id, ProductionRun.output_quantity)):
        if produced.get(run.id) != run.output_quantity:
            problems.append(Problem("output", f"run {run.id}: output {run.output_quantity}, "
                                              f"produced movements {produced.get(run.id, 0)}"))
    for link in session.execute(
        select(LotLink.run_id, LotLink.output_lot_id, ProductionRun.output_lot_id)
        .join(ProductionRun, LotLink.run_id == ProductionRun.id)
        .where(LotLink.output_lot_id != ProductionRun.output_lot_id)
    ):
        problems.append(Problem("link", f"run {link.run_id} links to lot {link.output_lot_id}, "
                                        f"not its output lot"))
    allocated = session.execute(
        select(OrderAllocation.lot_id, OrderAllocation.location_id, func.sum(OrderAllocation.quantity))
        .where(OrderAllocation.state.in_(RESERVING))
        .group_by(OrderAllocation.lot_id, OrderAllocation.location_id)
    )
    for lot_id, loc_id, total in allocated:
        held = balances.get((lot_id, loc_id), Decimal(0))
        if total > held:
            problems.append(Problem("allocation", f"lot {lot_id} at location {loc_id}: open allocations "
                                                  f"{qty(total)}, on hand {qty(held)}"))
    return problems

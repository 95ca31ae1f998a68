"""Recall use cases: open a recall (holds every affected lot), record consignee contacts, close, drill."""

from __future__ import annotations

import time
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import get_or_404, utcnow
from app.errors import Conflict, Invalid
from app.models import (
    Customer,
    Lot,
    LotStatus,
    LotStatusChange,
    Product,
    Recall,
    RecallCloseOutcome,
    RecallDrill,
    RecallLot,
    RecallNotification,
    RecallStatus,
    Shipment,
    ShipmentLine,
    User,
)
from app.queries.recall import report, select_lots, start_lots
from app.queries.traceability import chunks
from app.schemas import DrillIn, NotificationIn, RecallCloseIn, RecallIn
from app.services import notices
from app.services.allocations import release_lot_allocations
from app.services.base import document_number, transactional


def _lots(session: Session, ids: set[int]) -> list[Lot]:
    out: list[Lot] = []
    for part in chunks(ids):
        out.extend(session.scalars(select(Lot).where(Lot.id.in_(part)).order_by(Lot.id)))
    return out


@transactional
def open_recall(session: Session, cmd: RecallIn, *, user: User | None, today: date, separator: str | None = None,
                now: datetime | None = None) -> Recall:
    """Open a recall: find every affected lot, mark each recalled and release its allocations.

    A lot already recalled by another open recall is listed but keeps that recall's status change.
    Lots on hold become recalled; closing with "release" puts them back on hold, not into stock.
    """
    starts = start_lots(session, cmd, separator=separator, today=today)
    for lot in _lots(session, set(starts)):
        if lot.status is LotStatus.RECALLED:
            raise Conflict(f"lot {lot.code} of {lot.product.sku} is already recalled", "lots")
    selection = select_lots(session, starts, cmd.scope, cmd.via)
    recall = Recall(number=document_number(session, "RC"), status=RecallStatus.OPEN, scope=cmd.scope,
                    reason=cmd.reason, opened_at=now or utcnow(), opened_by_id=user.id if user else None)
    session.add(recall)
    session.flush()
    why = f"recall {recall.number}: {cmd.reason}"
    blocked: list[int] = []
    for lot in _lots(session, set(selection.lots)):
        affected = selection.lots[lot.id]
        session.add(RecallLot(recall_id=recall.id, lot_id=lot.id, role=affected.role, depth=affected.depth,
                              previous_status=lot.status, previous_hold_reason=lot.hold_reason))
        if lot.status is not LotStatus.RECALLED:
            session.add(LotStatusChange(lot_id=lot.id, old_status=lot.status, new_status=LotStatus.RECALLED,
                                        reason=why, user_id=user.id if user else None))
            lot.status = LotStatus.RECALLED
            lot.hold_reason = why
            blocked.append(lot.id)
    # Open and picked allocations of the recalled lots are given back and their lines re-allocated
    # from other lots, in this same transaction.
    release_lot_allocations(session, blocked, why, today)
    # One notice per consignee, ready for a manager to review and send.
    notices.prepare(session, recall, set(selection.lots))
    session.flush()
    return recall


def _open(recall: Recall) -> Recall:
    if recall.status is not RecallStatus.OPEN:
        raise Conflict(f"recall {recall.number} is closed", "recall_id")
    return recall


@transactional
def record_notification(session: Session, recall_id: int, cmd: NotificationIn, *, user: User | None,
                        now: datetime | None = None) -> RecallNotification:
    """Record one contact with a consignee: when and how, their answer, what came back or was destroyed."""
    recall: Recall = _open(get_or_404(session, Recall, recall_id, "recall_id", "recall"))
    customer: Customer = get_or_404(session, Customer, cmd.customer_id, "customer_id", "customer")
    lot_ids = {rl.lot_id for rl in recall.lots}
    shipped: dict[str, Decimal] = {}
    for part in chunks(lot_ids):
        for unit, qty in session.execute(
            select(Product.unit, func.sum(ShipmentLine.quantity))
            .join(Shipment, ShipmentLine.shipment_id == Shipment.id)
            .join(Lot, ShipmentLine.lot_id == Lot.id).join(Product, Lot.product_id == Product.id)
            .where(ShipmentLine.lot_id.in_(part), Shipment.customer_id == customer.id)
            .group_by(Product.unit)
        ):
            shipped[unit] = shipped.get(unit, Decimal(0)) + qty
    if not shipped:
        raise Invalid(f"{customer.name} received none of the lots of recall {recall.number}", "customer_id")
    back = cmd.quantity_returned + cmd.quantity_destroyed
    if len(shipped) == 1:
        # Quantities are in the unit of what the consignee got; with mixed units no sum is meaningful.
        (unit, total), = shipped.items()
        earlier = sum((n.quantity_returned + n.quantity_destroyed for n in recall.notifications
                       if n.customer_id == customer.id), Decimal(0))
        if earlier + back > total:
            raise Conflict(f"{customer.name} received {total} {unit} of the recalled lots; {earlier} already "
                           f"reported back, so {back} more is too much", "quantity_returned")
    when = cmd.notified_at or now or utcnow()
    if when > (now or utcnow()):
        raise Invalid(f"notified_at {when.isoformat()} is in the future", "notified_at")
    note = RecallNotification(recall_id=recall.id, customer_id=customer.id, notified_at=when, method=cmd.method,
                              contact=cmd.contact, response=cmd.response, quantity_returned=cmd.quantity_returned,
                              quantity_destroyed=cmd.quantity_destroyed, user_id=user.id if user else None)
    session.add(note)
    session.flush()
    return note


@transactional
def close_recall(session: Session, recall_id: int, cmd: RecallCloseIn, *, user: User | None,
                 now: datetime | None = None) -> Recall:
    """Close a recall, keeping its lots recalled or releasing them to the status they had before."""
    recall: Recall = _open(get_or_404(session, Recall, recall_id, "recall_id", "recall"))
    recall.status = RecallStatus.CLOSED
    recall.closed_at = now or utcnow()
    recall.closed_by_id = user.id if user else None
    recall.outcome = cmd.outcome
    recall.close_reason = cmd.reason
    notices.stop_queued(session, recall.id)
    if cmd.outcome is RecallCloseOutcome.RELEASE:
        # A lot another open recall still covers stays recalled until that one closes too.
        still = set(session.scalars(
            select(RecallLot.lot_id).join(Recall, RecallLot.recall_id == Recall.id)
            .where(Recall.status == RecallStatus.OPEN, Recall.id != recall.id)))
        why = f"recall {recall.number} closed: {cmd.reason}"
        for rl in recall.lots:
            lot = rl.lot
            if lot.id in still or lot.status is not LotStatus.RECALLED or rl.previous_status is LotStatus.RECALLED:
                continue
            session.add(LotStatusChange(lot_id=lot.id, old_status=lot.status, new_status=rl.previous_status,
                                        reason=why, user_id=user.id if user else None))
            lot.status = rl.previous_status
            lot.hold_reason = rl.previous_hold_reason
    session.flush()
    return recall


@transactional
def run_drill(session: Session, cmd: DrillIn, *, user: User | None, today: date,
              separator: str | None = None) -> RecallDrill:
    """A mock recall: the whole report without holds, timed from request to finished report, kept."""
    started_at = utcnow()
    t0 = time.perf_counter()
    starts = start_lots(session, cmd, separator=separator, today=today)
    selection = select_lots(session, starts, cmd.scope, cmd.via)
    result = report(session, selection)
    elapsed_ms = round((time.perf_counter() - t0) * 1000)
    drill = RecallDrill(
        number=document_number(session, "MD"), scope=cmd.scope, reason=cmd.reason, started_at=started_at,
        finished_at=utcnow(), duration_ms=elapsed_ms, lot_count=result.totals.lots,
        consignee_count=result.totals.consignees, unbalanced_count=result.totals.unbalanced_lots,
        result=result.model_dump(mode="json"), user_id=user.id if user else None)
    session.add(drill)
    session.flush()
    return drill

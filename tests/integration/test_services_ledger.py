"""The ledger through the services: append-only movements, balances that equal them, and the check."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app.errors import Conflict, InsufficientStock, Invalid
from app.models import Balance, LotLink, Movement, User
from app.queries.check import check_ledger
from app.queries.lots import lot_detail
from app.schemas import (
    AdjustmentIn,
    OrderIn,
    ProductionRunIn,
    ReceiptIn,
    ReturnIn,
    ShipmentIn,
    TransferIn,
)
from app.services import orders, production, stock
from tests.helpers.bookings import TODAY

D = Decimal
PATTERN = "{date:%y%m%d}-{seq_alpha}"


def _ledger(session: Session) -> list[tuple[Any, ...]]:
    session.commit()
    return [tuple(r) for r in session.execute(
        select(Movement.id, Movement.lot_id, Movement.location_id, Movement.quantity, Movement.kind,
               Movement.ref_type, Movement.ref_id, Movement.booked_on, Movement.created_at, Movement.reason)
        .order_by(Movement.id))]


def _on_hand(session: Session, lot_id: int) -> dict[str, Decimal]:
    session.commit()
    return {s.location: s.on_hand for s in lot_detail(session, lot_id).stock}


def _receive(session: Session, site: dict[str, Any], user: User, sku: str, qty: str, location: str,
             code: str, **line: Any) -> int:
    receipt = stock.receive(session, ReceiptIn.model_validate({
        "supplier_id": site["supplier"], "lines": [{"sku": sku, "quantity": qty, "location": location,
                                                    "lot_code": code, **line}]}),
        user=user, today=TODAY, lot_code_pattern=PATTERN)
    return receipt.lines[0].lot_id


@pytest.fixture
def admin(session: Session, site: dict[str, Any]) -> User:
    return session.scalars(select(User).where(User.username == "admin")).one()


def test_a_full_day_keeps_the_ledger_sound_and_only_ever_appends(
        session: Session, site: dict[str, Any], admin: User) -> None:
    seen: list[tuple[Any, ...]] = []

    def appended(expected: int) -> None:
        nonlocal seen
        now = _ledger(session)
        assert now[:len(seen)] == seen, "earlier movements were changed or removed"
        assert len(now) - len(seen) == expected
        seen = now
        assert check_ledger(session) == []

    rasp = _receive(session, site, admin, "RASP", "100", "RCV", "R1", unit_cost="4.20")
    sugar = _receive(session, site, admin, "SUGAR", "500", "DRY-01", "S1", unit_cost="0.90")
    appended(2)
    stock.transfer(session, TransferIn(lot_id=rasp, from_location="RCV", to_location="COLD-01",
                                       quantity=D("100")), user=admin, today=TODAY)
    appended(2)
    run = production.produce(session, ProductionRunIn.model_validate({
        "sku": "JAM-RASP", "quantity": "400", "location": "KITCHEN", "lot_code": "J1",
        "inputs": [{"lot_id": rasp, "quantity": "60"}, {"lot_id": sugar, "quantity": "40"}]}),
        user=admin, today=TODAY, lot_code_pattern=PATTERN)
    jam = run.output_lot_id
    appended(3)
    order = orders.create_order(session, OrderIn.model_validate({
        "customer_id": site["deli"], "warehouse": "MAIN", "ship_date": TODAY.isoformat(),
        "lines": [{"sku": "JAM-RASP", "quantity": "24"}]}), user=admin, today=TODAY)
    appended(0)
    orders.ship(session, ShipmentIn.model_validate({"order_id": order.id, "lines": [
        {"lot_id": jam, "location": "KITCHEN", "quantity": "24"}]}), user=admin, today=TODAY)
    appended(1)
    back = stock.customer_return(session, ReturnIn(customer_id=site["deli"], lot_id=jam, quantity=D("4"),
                                                   reason="lids dented"), user=admin, today=TODAY)
    assert back.location.code == "QUAR"
    appended(1)
    with pytest.raises(Conflict) as too_many:
        stock.customer_return(session, ReturnIn(customer_id=site["deli"], lot_id=jam, quantity=D("21"),
                                                reason="more"), user=admin, today=TODAY)
    assert too_many.value.field == "quantity"
    appended(0)
    stock.adjust(session, AdjustmentIn(lot_id=rasp, location="COLD-01", quantity=D("-1.5"),
                                       reason="count short"), user=admin, today=TODAY)
    stock.adjust(session, AdjustmentIn(lot_id=sugar, location="DRY-01", quantity=D("0.25"),
                                       reason="found a bag end"), user=admin, today=TODAY)
    appended(2)
    with pytest.raises(ValueError, match="reason"):
        AdjustmentIn.model_validate({"lot_id": rasp, "location": "COLD-01", "quantity": "-1"})

    assert _on_hand(session, rasp) == {"COLD-01": D("38.5")}
    assert _on_hand(session, sugar) == {"DRY-01": D("460.25")}
    assert _on_hand(session, jam) == {"KITCHEN": D(376), "QUAR": D(4)}
    # Per lot, what came in equals what went out plus what is left.
    for lot_id in (rasp, sugar, jam):
        total = session.scalar(select(func.sum(Movement.quantity)).where(Movement.lot_id == lot_id))
        assert total == sum(_on_hand(session, lot_id).values())


def test_a_corrupted_balance_is_reported(session: Session, site: dict[str, Any], admin: User) -> None:
    lot = _receive(session, site, admin, "RASP", "10", "COLD-01", "R1")
    assert check_ledger(session) == []
    session.execute(update(Balance).where(Balance.lot_id == lot).values(on_hand=D("11")))
    session.commit()
    problems = check_ledger(session)
    assert [p.kind for p in problems] == ["balance"]
    assert "balance 11" in problems[0].message and "10" in problems[0].message


def test_a_deleted_movement_is_reported(session: Session, site: dict[str, Any], admin: User) -> None:
    lot = _receive(session, site, admin, "RASP", "10", "COLD-01", "R1")
    stock.adjust(session, AdjustmentIn(lot_id=lot, location="COLD-01", quantity=D("-3"), reason="spilt"),
                 user=admin, today=TODAY)
    session.execute(delete(Movement).where(Movement.kind == "adjust"))
    session.commit()
    assert [p.kind for p in check_ledger(session)] == ["balance"]


def test_a_tampered_lot_link_is_reported(session: Session, site: dict[str, Any], admin: User) -> None:
    rasp = _receive(session, site, admin, "RASP", "10", "COLD-01", "R1")
    production.produce(session, ProductionRunIn.model_validate({
        "sku": "JAM-RASP", "quantity": "20", "location": "KITCHEN",
        "inputs": [{"lot_id": rasp, "quantity": "5"}]}), user=admin, today=TODAY, lot_code_pattern=PATTERN)
    assert check_ledger(session) == []
    session.execute(update(LotLink).values(quantity=D("4")))
    session.commit()
    assert [p.kind for p in check_ledger(session)] == ["link"]


def test_a_mistake_is_corrected_by_a_compensating_movement(session: Session, site: dict[str, Any],
                                                           admin: User) -> None:
    lot = _receive(session, site, admin, "RASP", "100", "COLD-01", "R1")  # the delivery note said 10
    before = _ledger(session)
    stock.adjust(session, AdjustmentIn(lot_id=lot, location="COLD-01", quantity=D("-90"),
                                       reason="typed 100 for 10"), user=admin, today=TODAY)
    after = _ledger(session)
    assert after[:len(before)] == before
    assert [(m[3], m[4], m[9]) for m in after[len(before):]] == [(D(-90), "adjust", "typed 100 for 10")]
    assert _on_hand(session, lot) == {"COLD-01": D(10)}
    assert check_ledger(session) == []


def test_a_refused_booking_leaves_the_session_usable_and_books_nothing(
        session: Session, site: dict[str, Any], admin: User) -> None:
    lot = _receive(session, site, admin, "RASP", "10", "COLD-01", "R1")
    before = _ledger(session)
    with pytest.raises(InsufficientStock) as short:
        stock.transfer(session, TransferIn(lot_id=lot, from_location="COLD-01", to_location="DRY-01",
                                           quantity=D("10.5")), user=admin, today=TODAY)
    assert short.value.status == 409 and short.value.field == "quantity"
    with pytest.raises(Invalid):
        stock.adjust(session, AdjustmentIn(lot_id=lot, location="COLD-01", quantity=D(0), reason="x"),
                     user=admin, today=TODAY)
    assert _ledger(session) == before
    stock.transfer(session, TransferIn(lot_id=lot, from_location="COLD-01", to_location="DRY-01",
                                       quantity=D("10")), user=admin, today=TODAY)
    assert _on_hand(session, lot) == {"DRY-01": D(10)}


def test_quantities_stay_exact(session: Session, site: dict[str, Any], admin: User) -> None:
    lot = _receive(session, site, admin, "SUGAR", "0.1", "DRY-01", "S1")
    for _ in range(2):
        stock.receive(session, ReceiptIn.model_validate({"supplier_id": site["supplier"], "lines": [
            {"sku": "SUGAR", "quantity": "0.1", "location": "DRY-01", "lot_code": "S1", "top_up": True}]}),
            user=admin, today=TODAY, lot_code_pattern=PATTERN)
    stock.adjust(session, AdjustmentIn(lot_id=lot, location="DRY-01", quantity=D("-0.3"), reason="used"),
                 user=admin, today=TODAY)
    assert _on_hand(session, lot) == {}
    assert session.scalar(select(Balance.on_hand).where(Balance.lot_id == lot)) == D(0)
    stock.adjust(session, AdjustmentIn(lot_id=lot, location="DRY-01", quantity=D("123456789.123456"),
                                       reason="big"), user=admin, today=TODAY)
    assert _on_hand(session, lot) == {"DRY-01": D("123456789.123456")}
    assert check_ledger(session) == []

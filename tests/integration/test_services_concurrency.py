"""Bookings racing each other from separate connections never oversell, overship or lose an update."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_engine, make_session_factory
from app.errors import Conflict, InsufficientStock, LotBlocked, NotFound
from app.models import RESERVING, Balance, Lot, OrderAllocation, OrderLine, Receipt, User
from app.queries.check import check_ledger
from app.schemas import (
    HoldIn,
    OrderIn,
    PickIn,
    PickResultOut,
    ProductionRunIn,
    ReceiptIn,
    ReturnIn,
    ShipmentIn,
    TransferIn,
)
from app.services import allocations, orders, production, stock
from app.services.base import unit
from tests.helpers.api import Api
from tests.helpers.bookings import TODAY, receive, request_key
from tests.helpers.databases import PG_URL

D = Decimal
PATTERN = "{date:%y%m%d}-{seq_alpha}"


@pytest.fixture
def factories(database_url: str) -> Iterator[Callable[[], sessionmaker[Session]]]:
    """Session factories on engines of their own, as separate server processes would have."""
    engines = []

    def new() -> sessionmaker[Session]:
        engine = make_engine(database_url)
        engines.append(engine)
        return make_session_factory(engine)

    yield new
    for engine in engines:
        engine.dispose()


def race(factories: Callable[[], sessionmaker[Session]],
         bookings: list[Callable[[Session, User], Any]]) -> list[Any]:
    """Run each booking in its own thread and connection, all released at the same moment.

    Returns what each returned or raised.
    """
    barrier = threading.Barrier(len(bookings))
    results: list[Any] = [None] * len(bookings)

    def run(i: int, booking: Callable[[Session, User], Any], factory: sessionmaker[Session]) -> None:
        with factory() as s:
            user = s.scalars(select(User).where(User.username == "admin")).one()
            s.commit()
            barrier.wait()
            try:
                results[i] = booking(s, user)
            except Exception as exc:  # the outcome under test
                results[i] = exc

    threads = [threading.Thread(target=run, args=(i, b, factories())) for i, b in enumerate(bookings)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a booking hung"
    return results


def while_held(database_url: str, sql: str, params: dict[str, Any], start: Callable[[], list[Any]]) -> list[Any]:
    """Run `start` in a thread while another connection holds the lock `sql` takes; then commit `sql`.

    The bookings get as far as the lock and wait there together, so the race is certain to happen.
    """
    holder = make_engine(database_url)
    outcome: list[Any] = []
    try:
        with holder.connect() as conn:
            conn.execute(text(sql), params)
            thread = threading.Thread(target=lambda: outcome.extend(start()))
            thread.start()
            time.sleep(1.0)
            conn.commit()
            thread.join(timeout=60)
    finally:
        holder.dispose()
    return outcome


def _on_hand(session: Session, lot_id: int) -> list[Decimal]:
    session.commit()
    return sorted(session.scalars(select(Balance.on_hand).where(Balance.lot_id == lot_id)))


def _order(session: Session, site: dict[str, Any], qty: str) -> Any:
    return orders.create_order(session, OrderIn.model_validate({
        "customer_id": site["deli"], "warehouse": "MAIN", "ship_date": TODAY.isoformat(),
        "lines": [{"sku": "JAM-RASP", "quantity": qty}]}), user=None, today=TODAY)


def _ship(order_id: int, lot_id: int, qty: str) -> Callable[[Session, User], Any]:
    cmd = ShipmentIn.model_validate({"order_id": order_id, "lines": [
        {"lot_id": lot_id, "location": "COLD-01", "quantity": qty}]})
    return lambda s, u: orders.ship(s, cmd, user=u, today=TODAY)


def _consume(lot_id: int, qty: str) -> Callable[[Session, User], Any]:
    cmd = ProductionRunIn.model_validate({"sku": "JAM-RASP", "quantity": "10", "location": "KITCHEN",
                                          "inputs": [{"lot_id": lot_id, "quantity": qty}]})
    return lambda s, u: production.produce(s, cmd, user=u, today=TODAY, lot_code_pattern=PATTERN)


def test_two_shipments_of_60_from_a_lot_of_100_one_wins(
        api: Api, site: dict[str, Any], session: Session, factories: Any) -> None:
    lot = receive(api, site["supplier"], "JAM-RASP", "100", lot_code="J1")["lot_id"]
    first, second = _order(session, site, "60"), _order(session, site, "60")
    results = race(factories, [_ship(first.id, lot, "60"), _ship(second.id, lot, "60")])
    assert sorted(type(r).__name__ for r in results) == ["InsufficientStock", "Shipment"], results
    assert next(r for r in results if isinstance(r, InsufficientStock)).field == "lines.0.quantity"
    assert _on_hand(session, lot) == [D(40)]
    assert check_ledger(session) == []


def test_two_runs_consuming_60_of_100_one_wins(
        api: Api, site: dict[str, Any], session: Session, factories: Any) -> None:
    lot = receive(api, site["supplier"], "RASP", "100", lot_code="R1")["lot_id"]
    results = race(factories, [_consume(lot, "60"), _consume(lot, "60")])
    assert sorted(type(r).__name__ for r in results) == ["InsufficientStock", "ProductionRun"], results
    assert _on_hand(session, lot) == [D(40)]
    assert check_ledger(session) == []


def test_many_pickers_at_once_never_take_more_than_is_there(
        api: Api, site: dict[str, Any], session: Session, factories: Any) -> None:
    lot = receive(api, site["supplier"], "JAM-RASP", "100", lot_code="J1")["lot_id"]
    bookings = []
    for _ in range(4):
        bookings.append(_ship(_order(session, site, "15").id, lot, "15"))
        bookings.append(_consume(lot, "15"))
    results = race(factories, bookings)
    won = [r for r in results if not isinstance(r, Exception)]
    assert len(won) == 6, results
    assert all(isinstance(r, InsufficientStock) for r in results if isinstance(r, Exception)), results
    assert _on_hand(session, lot) == [D(10)]
    assert check_ledger(session) == []


def test_two_shipments_against_one_order_line_never_ship_more_than_ordered(
        api: Api, site: dict[str, Any], session: Session, factories: Any) -> None:
    lot = receive(api, site["supplier"], "JAM-RASP", "200", lot_code="J1")["lot_id"]
    order = _order(session, site, "100")
    results = race(factories, [_ship(order.id, lot, "60"), _ship(order.id, lot, "60")])
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Shipment"], results
    session.commit()
    assert session.scalar(select(OrderLine.shipped_quantity).where(OrderLine.order_id == order.id)) == D(60)
    assert _on_hand(session, lot) == [D(140)]
    assert check_ledger(session) == []


def test_an_order_cancelled_while_it_ships_is_either_shipped_or_cancelled(
        api: Api, site: dict[str, Any], session: Session, factories: Any, database_url: str) -> None:
    lot = receive(api, site["supplier"], "JAM-RASP", "100", lot_code="J1")["lot_id"]
    _ship(_order(session, site, "1").id, lot, "1")(session, None)  # type: ignore[arg-type]
    order = _order(session, site, "60")
    # The shipment reads the order, then waits for its number while the cancel goes ahead.
    results = while_held(database_url, "UPDATE counter SET value = value WHERE name = 'doc:SH'", {},
                         lambda: race(factories, [_ship(order.id, lot, "60"),
                                                  lambda s, u: orders.cancel_order(s, order.id, user=u)]))
    failed = [r for r in results if isinstance(r, Exception)]
    assert len(failed) == 1 and isinstance(failed[0], Conflict), results
    session.commit()
    status = session.scalar(text("SELECT status FROM sales_order WHERE id = :id"), {"id": order.id})
    assert _on_hand(session, lot) == ([D(39)] if status == "shipped" else [D(99)])
    assert check_ledger(session) == []


def test_the_first_documents_and_lot_codes_of_the_day_are_numbered_without_clashes(
        site: dict[str, Any], session: Session, factories: Any) -> None:
    cmd = ReceiptIn.model_validate({"supplier_id": site["supplier"], "lines": [
        {"sku": "RASP", "quantity": "1", "location": "COLD-01"}]})
    results = race(factories, [lambda s, u: stock.receive(s, cmd, user=u, today=TODAY,
                                                          lot_code_pattern=PATTERN)] * 6)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.number for r in results) == [f"R-00000{i}" for i in range(1, 7)]
    session.commit()
    codes = sorted(session.scalars(select(Lot.code)))
    assert codes == [f"{TODAY:%y%m%d}-{c}" for c in "ABCDEF"]
    assert check_ledger(session) == []


def test_stock_arriving_at_an_empty_location_from_two_sides_adds_up(
        api: Api, site: dict[str, Any], session: Session, factories: Any) -> None:
    lot = receive(api, site["supplier"], "RASP", "50", lot_code="R1")["lot_id"]
    receive(api, site["supplier"], "RASP", "50", location="RCV", lot_code="R1", top_up=True)

    def move(source: str, qty: str) -> Callable[[Session, User], Any]:
        cmd = TransferIn(lot_id=lot, from_location=source, to_location="DRY-01", quantity=D(qty))
        return lambda s, u: stock.transfer(s, cmd, user=u, today=TODAY)

    results = race(factories, [move("COLD-01", "30"), move("RCV", "20")])
    assert not [r for r in results if isinstance(r, Exception)], results
    session.commit()
    dry = session.scalar(text("SELECT id FROM location WHERE code = 'DRY-01'"))
    assert session.scalar(select(Balance.on_hand).where(Balance.lot_id == lot, Balance.location_id == dry)) == 50
    assert check_ledger(session) == []


def test_two_returns_never_take_back_more_than_was_shipped(
        api: Api, site: dict[str, Any], session: Session, factories: Any) -> None:
    lot = receive(api, site["supplier"], "JAM-RASP", "30", lot_code="J1")["lot_id"]
    orders.ship(session, ShipmentIn.model_validate({"order_id": _order(session, site, "30").id, "lines": [
        {"lot_id": lot, "location": "COLD-01", "quantity": "30"}]}), user=None, today=TODAY)
    cmd = ReturnIn(customer_id=site["deli"], lot_id=lot, quantity=D(20), reason="recalled by the shop")
    results = race(factories, [lambda s, u: stock.customer_return(s, cmd, user=u, today=TODAY)] * 2)
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "CustomerReturn"], results
    assert _on_hand(session, lot) == [D(0), D(20)]
    assert check_ledger(session) == []


def test_a_hold_committed_while_a_shipment_waits_stops_the_shipment(
        api: Api, site: dict[str, Any], session: Session, factories: Any, database_url: str) -> None:
    lot = receive(api, site["supplier"], "JAM-RASP", "100", lot_code="J1")["lot_id"]
    order = _order(session, site, "60")
    outcome = while_held(database_url, "UPDATE lot SET status = 'hold', hold_reason = 'lab alert' WHERE id = :id",
                         {"id": lot}, lambda: race(factories, [_ship(order.id, lot, "60")]))
    assert len(outcome) == 1 and isinstance(outcome[0], LotBlocked), outcome
    assert _on_hand(session, lot) == [D(100)]


def test_a_replay_racing_the_original_request_gets_the_same_booking(
        site: dict[str, Any], session: Session, factories: Any) -> None:
    cmd = ReceiptIn.model_validate({"supplier_id": site["supplier"], "lines": [
        {"sku": "RASP", "quantity": "7", "location": "COLD-01", "lot_code": "R1"}]})
    results = race(factories, [lambda s, u: stock.receive(s, cmd, user=u, today=TODAY, lot_code_pattern=PATTERN,
                                                          request_key=request_key("scan-42"))] * 3)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r.id for r in results}) == 1
    session.commit()
    assert session.scalars(select(Balance.on_hand)).all() == [D(7)]
    assert check_ledger(session) == []


@pytest.mark.skipif(not PG_URL, reason="bookings running side by side need PostgreSQL "
                                       "(set LOTWISE_TEST_DATABASE_URL)")
def test_postgresql_api_replays_arriving_while_the_first_request_books_wait_and_get_its_answer(
        app: Flask, api: Api, site: dict[str, Any], session: Session, database_url: str) -> None:
    """Three sends of one request with one key, the first held up mid-booking: one receipt, one answer."""
    receive(api, site["supplier"], "RASP", "1", lot_code="R0")  # the receipt counter's row exists to be held
    body = {"supplier_id": site["supplier"], "lines": [
        {"sku": "RASP", "quantity": "7", "location": "COLD-01", "lot_code": "R1"}]}
    headers = {**api.headers, "Idempotency-Key": "dock-7"}

    def send_three() -> list[Any]:
        barrier = threading.Barrier(3)
        answers: list[Any] = [None] * 3

        def send(i: int) -> None:
            client = app.test_client()
            barrier.wait()
            r = client.post("/api/v1/receipts", json=body, headers=headers)
            answers[i] = (r.status_code, r.get_json())

        threads = [threading.Thread(target=send, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        return answers

    answers = while_held(database_url, "SELECT value FROM counter WHERE name = 'doc:R' FOR UPDATE", {}, send_three)
    assert answers[0][0] == 201 and answers[0][1]["number"] == "R-000002", answers
    assert answers == [answers[0]] * 3
    session.commit()
    assert session.scalars(select(Receipt.number).order_by(Receipt.id)).all() == ["R-000001", "R-000002"]
    assert _on_hand(session, answers[0][1]["lines"][0]["lot_id"]) == [D(7)]
    assert check_ledger(session) == []


@pytest.mark.skipif(not PG_URL, reason="row locks under real concurrency need PostgreSQL "
                                       "(set LOTWISE_TEST_DATABASE_URL)")
def test_postgresql_bookings_wait_on_row_locks_not_on_the_whole_database(
        api: Api, site: dict[str, Any], session: Session, factories: Any, database_url: str) -> None:
    """A slow shipment of one lot holds up nobody booking another lot."""
    busy = receive(api, site["supplier"], "JAM-RASP", "100", lot_code="J1")["lot_id"]
    free = receive(api, site["supplier"], "RASP", "100", lot_code="R1")["lot_id"]
    holder = make_engine(database_url)
    try:
        with holder.connect() as conn:
            conn.execute(text("SELECT on_hand FROM balance WHERE lot_id = :id FOR UPDATE"), {"id": busy})
            started = time.monotonic()
            results = race(factories, [_consume(free, "10")])
            assert time.monotonic() - started < 5
            conn.rollback()
    finally:
        holder.dispose()
    assert type(results[0]).__name__ == "ProductionRun", results
    assert _on_hand(session, free) == [D(90)]


@pytest.mark.skipif(not PG_URL, reason="bookings running side by side need PostgreSQL; SQLite runs one booking at a "
                                       "time (set LOTWISE_TEST_DATABASE_URL)")
def test_postgresql_two_receipts_book_side_by_side_without_waiting_for_each_others_commit(
        site: dict[str, Any], session: Session, factories: Any) -> None:
    """Receipts draw numbers from the same counters (R-…, the product's lot codes of the day) yet never queue.

    The first receipt is booked and left uncommitted; the second, on another connection, must be booked in
    full before the first commits. Were the counters locked until commit, the second would wait for a commit
    that waits for it, and the thread would still be running when the first gives up waiting for it.
    """
    receive_one = ReceiptIn.model_validate({"supplier_id": site["supplier"], "lines": [
        {"sku": "RASP", "quantity": "5", "location": "COLD-01"}]})

    def book(s: Session, u: User) -> Receipt:
        return stock.receive(s, receive_one, user=u, today=TODAY, lot_code_pattern=PATTERN)

    second: list[Any] = []
    with factories()() as s:
        user = s.scalars(select(User).where(User.username == "admin")).one()
        with unit(s):
            first = book(s, user)
            other = threading.Thread(target=lambda: second.extend(race(factories, [book])))
            other.start()
            other.join(timeout=30)
            booked_while_first_open = not other.is_alive()
        # The first commits here; a second receipt that was waiting for it would now go on.
        other.join(timeout=60)
    assert booked_while_first_open, "the second receipt waited for the first one's commit"
    assert len(second) == 1 and isinstance(second[0], Receipt), second
    assert sorted([first.number, second[0].number]) == ["R-000001", "R-000002"]
    session.commit()
    assert sorted(session.scalars(select(Receipt.number))) == ["R-000001", "R-000002"]
    assert sorted(session.scalars(select(Lot.code))) == [f"{TODAY:%y%m%d}-A", f"{TODAY:%y%m%d}-B"]
    assert check_ledger(session) == []


def _allocated_order(session: Session, site: dict[str, Any], qty: str) -> int:
    order = _order(session, site, qty)
    allocations.allocate_order(session, order.id, today=TODAY)
    return int(order.id)


def _pick(order_id: int, lot_id: int, qty: str = "1") -> Callable[[Session, User], Any]:
    cmd = PickIn.model_validate({"lot_id": lot_id, "location": "COLD-01", "quantity": qty})
    return lambda s, u: allocations.confirm_pick(s, order_id, cmd, user=u, today=TODAY)


@pytest.mark.skipif(not PG_URL, reason="bookings running side by side need PostgreSQL; SQLite runs one booking at a "
                                       "time (set LOTWISE_TEST_DATABASE_URL)")
def test_postgresql_two_pickers_of_one_lot_on_different_orders_do_not_wait_for_each_others_commit(
        api: Api, site: dict[str, Any], session: Session, factories: Any) -> None:
    """Pickers work on different orders of the same product, even the same lot: none waits for another's commit.

    The first pick is confirmed and left uncommitted; the second, on another connection, must be confirmed in full
    before the first commits.
    """
    lot = receive(api, site["supplier"], "JAM-RASP", "100", lot_code="J1")["lot_id"]
    first_order, second_order = _allocated_order(session, site, "10"), _allocated_order(session, site, "10")
    session.commit()
    second: list[Any] = []
    with factories()() as s:
        user = s.scalars(select(User).where(User.username == "admin")).one()
        with unit(s):
            first = _pick(first_order, lot, "4")(s, user)
            other = threading.Thread(target=lambda: second.extend(race(factories, [_pick(second_order, lot, "3")])))
            other.start()
            other.join(timeout=30)
            picked_while_first_open = not other.is_alive()
        other.join(timeout=60)
    assert picked_while_first_open, "the second pick waited for the first one's commit"
    assert isinstance(second[0], PickResultOut), second
    assert (first.left_to_pick, second[0].left_to_pick) == (D(6), D(7))
    session.commit()
    picked = session.execute(select(OrderLine.order_id, OrderAllocation.picked_quantity)
                             .join(OrderLine, OrderLine.id == OrderAllocation.order_line_id)
                             .order_by(OrderLine.order_id)).all()
    assert picked == [(first_order, D(4)), (second_order, D(3))]
    assert check_ledger(session) == []


@pytest.mark.skipif(not PG_URL, reason="bookings running side by side need PostgreSQL; SQLite runs one booking at a "
                                       "time (set LOTWISE_TEST_DATABASE_URL)")
def test_postgresql_a_hold_waits_for_an_open_pick_and_then_releases_what_it_picked(
        api: Api, site: dict[str, Any], session: Session, factories: Any) -> None:
    """Picks of one product run side by side, but a hold of the lot still waits until a pick has ended."""
    lot = receive(api, site["supplier"], "JAM-RASP", "100", lot_code="J1")["lot_id"]
    order = _allocated_order(session, site, "10")
    session.commit()
    held: list[Any] = []
    with factories()() as s:
        user = s.scalars(select(User).where(User.username == "admin")).one()
        with unit(s):
            _pick(order, lot, "4")(s, user)
            other = threading.Thread(target=lambda: held.extend(race(factories, [
                lambda s2, u: stock.hold_lot(s2, lot, HoldIn(reason="mould found"), user=u)])))
            other.start()
            other.join(timeout=2)
            hold_waited = other.is_alive()
        other.join(timeout=60)
    assert hold_waited, "the hold went ahead while a pick of the lot was being booked"
    assert type(held[0]).__name__ == "Held", held
    assert [a.picked_quantity for a in held[0].allocations.released] == [D(4)]
    session.commit()
    assert session.scalar(select(func.count()).select_from(OrderAllocation)
                          .where(OrderAllocation.state.in_(RESERVING))) == 0
    assert check_ledger(session) == []


def test_a_refused_receipt_leaves_a_gap_in_the_numbers_only_on_postgresql(
        site: dict[str, Any], session: Session) -> None:
    """Numbers stay unique and in order; on PostgreSQL the one a refused booking drew is not used again."""
    def receipt(location: str) -> ReceiptIn:
        return ReceiptIn.model_validate({"supplier_id": site["supplier"], "lines": [
            {"sku": "RASP", "quantity": "5", "location": location}]})

    assert stock.receive(session, receipt("COLD-01"), user=None, today=TODAY, lot_code_pattern=PATTERN).number \
        == "R-000001"
    with pytest.raises(NotFound):
        stock.receive(session, receipt("NOWHERE"), user=None, today=TODAY, lot_code_pattern=PATTERN)
    third = stock.receive(session, receipt("COLD-01"), user=None, today=TODAY, lot_code_pattern=PATTERN)
    assert third.number == ("R-000003" if PG_URL else "R-000002")
    assert sorted(session.scalars(select(Receipt.number))) == ["R-000001", third.number]

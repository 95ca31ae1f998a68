"""Random sequences of receive/allocate/ship/pick/hold/consume/count never leave stock negative or over-allocated.

On hand stays ≥ 0 and open allocations never exceed what is on hand, per lot and location, whatever
the order of bookings, refusals included (`lotwise check` proves both). On PostgreSQL the same
sequences run from several processes at once.
"""

from __future__ import annotations

import multiprocessing
import random
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from tests.helpers.api import TODAY, Api
from tests.helpers.databases import PG_URL

PATTERN = "{date:%y%m%d}-{seq_alpha}"


class Shop:
    """Bookings through the services, the way the API and pages make them; refusals are expected."""

    def __init__(self, session: Session, supplier_id: int, customer_id: int, today: date) -> None:
        self.s = session
        self.supplier_id = supplier_id
        self.customer_id = customer_id
        self.today = today
        self.lots: list[int] = []
        self.orders: list[int] = []

    def _lot(self, i: int) -> int | None:
        return self.lots[i % len(self.lots)] if self.lots else None

    def _order(self, i: int) -> int | None:
        return self.orders[i % len(self.orders)] if self.orders else None

    def run(self, op: tuple[Any, ...]) -> None:
        from app.errors import LotwiseError

        try:
            getattr(self, op[0])(*op[1:])
        except LotwiseError:
            self.s.rollback()

    def receive(self, quantity: int) -> None:
        from app.schemas import ReceiptIn, ReceiptLineIn
        from app.services import stock

        receipt = stock.receive(self.s, ReceiptIn(supplier_id=self.supplier_id, lines=[ReceiptLineIn(
            sku="JAM-RASP", quantity=Decimal(quantity), location="COLD-01",
            expiry=self.today + timedelta(days=200))]), user=None, today=self.today, lot_code_pattern=PATTERN)
        self.lots.append(receipt.lines[0].lot_id)

    def order(self, quantity: int) -> None:
        from app.schemas import OrderIn, OrderLineIn
        from app.services import orders

        order = orders.create_order(self.s, OrderIn(customer_id=self.customer_id, warehouse="MAIN",
                                                    ship_date=self.today,
                                                    lines=[OrderLineIn(sku="JAM-RASP", quantity=Decimal(quantity))]),
                                    user=None, today=self.today)
        self.orders.append(order.id)

    def allocate(self, o: int) -> None:
        from app.services.allocations import allocate_order

        if (order := self._order(o)) is not None:
            allocate_order(self.s, order, today=self.today)

    def ship(self, o: int, lot_i: int, quantity: int, take_allocated: bool) -> None:
        from app.schemas import ShipLineIn, ShipmentIn
        from app.services import orders

        order, lot = self._order(o), self._lot(lot_i)
        if order is not None and lot is not None:
            orders.ship(self.s, ShipmentIn(order_id=order, take_allocated=take_allocated, lines=[
                ShipLineIn(lot_id=lot, location="COLD-01", quantity=Decimal(quantity))]), user=None, today=self.today)

    def pick(self, o: int, lot_i: int, quantity: int) -> None:
        from app.schemas import PickIn
        from app.services.allocations import confirm_pick

        order, lot = self._order(o), self._lot(lot_i)
        if order is not None and lot is not None:
            confirm_pick(self.s, order, PickIn(lot_id=lot, location="COLD-01", quantity=Decimal(quantity)),
                         user=None, today=self.today)

    def ship_picked(self, o: int) -> None:
        from app.services.allocations import ship_picked

        if (order := self._order(o)) is not None:
            ship_picked(self.s, order, user=None, today=self.today)

    def hold(self, lot_i: int) -> None:
        from app.schemas import HoldIn
        from app.services import stock

        if (lot := self._lot(lot_i)) is not None:
            stock.hold_lot(self.s, lot, HoldIn(reason="QA check"), user=None)

    def release(self, lot_i: int) -> None:
        from app.schemas import HoldIn
        from app.services import stock

        if (lot := self._lot(lot_i)) is not None:
            stock.release_lot(self.s, lot, HoldIn(reason="QA passed"), user=None)

    def count(self, lot_i: int, missing: int) -> None:
        from app.schemas import AdjustmentIn
        from app.services import stock

        if (lot := self._lot(lot_i)) is not None:
            stock.adjust(self.s, AdjustmentIn(lot_id=lot, location="COLD-01", quantity=Decimal(-missing),
                                              reason="count"), user=None, today=self.today)

    def consume(self, lot_i: int, quantity: int, take_allocated: bool) -> None:
        from app.schemas import ProductionRunIn, RunInputIn
        from app.services import production

        if (lot := self._lot(lot_i)) is not None:
            production.produce(self.s, ProductionRunIn(sku="GIFT", quantity=Decimal(1), location="KITCHEN",
                                                       take_allocated=take_allocated, inputs=[RunInputIn(
                                                           lot_id=lot, quantity=Decimal(quantity))]),
                               user=None, today=self.today, lot_code_pattern=PATTERN)


qty = st.integers(1, 40)
idx = st.integers(0, 3)
OPS = st.lists(st.one_of(
    st.tuples(st.just("receive"), qty),
    st.tuples(st.just("order"), qty),
    st.tuples(st.just("allocate"), idx),
    st.tuples(st.just("ship"), idx, idx, qty, st.booleans()),
    st.tuples(st.just("pick"), idx, idx, qty),
    st.tuples(st.just("ship_picked"), idx),
    st.tuples(st.just("hold"), idx),
    st.tuples(st.just("release"), idx),
    st.tuples(st.just("consume"), idx, qty, st.booleans()),
    st.tuples(st.just("count"), idx, st.integers(1, 10)),
), min_size=3, max_size=14)


def _sound(session: Session) -> None:
    from app.queries.check import check_ledger

    session.rollback()
    assert check_ledger(session) == []


@pytest.fixture
def shop_site(api: Api, site: dict[str, Any]) -> dict[str, Any]:
    assert api.post("/products", {"sku": "GIFT", "name": "Gift box", "kind": "product", "unit": "ea",
                                  "shelf_life_days": 400}).status_code == 201
    return site


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=OPS)
def test_random_bookings_keep_stock_non_negative_and_allocations_within_on_hand(
        ops: list[tuple[Any, ...]], shop_site: dict[str, Any], session: Session) -> None:
    # Each example books on its own lots and orders; the database only grows, and stays sound.
    shop = Shop(session, shop_site["supplier"], shop_site["deli"], TODAY)
    # A lot, and two orders competing for it, one already allocated: then anything may happen.
    for op in (("receive", 30), ("order", 20), ("order", 25), ("allocate", 0)):
        shop.run(op)
    for op in ops:
        shop.run(op)
        _sound(session)


# --- several processes at once (PostgreSQL) -----------------------------------------------------------------

WORKERS = 4
STEPS = 25


def _random_op(rng: random.Random) -> tuple[Any, ...]:
    kinds: list[Callable[[], tuple[Any, ...]]] = [
        lambda: ("allocate", rng.randrange(6)),
        lambda: ("ship", rng.randrange(6), rng.randrange(3), rng.randint(1, 30), rng.random() < 0.5),
        lambda: ("pick", rng.randrange(6), rng.randrange(3), rng.randint(1, 30)),
        lambda: ("ship_picked", rng.randrange(6)),
        lambda: ("hold", rng.randrange(3)),
        lambda: ("release", rng.randrange(3)),
        lambda: ("consume", rng.randrange(3), rng.randint(1, 30), rng.random() < 0.5),
        lambda: ("count", rng.randrange(3), rng.randint(1, 5)),
    ]
    return rng.choice(kinds)()


def _book_in_own_process(url: str, seed: int, ids: dict[str, Any], start: Any, out: Any) -> None:
    from app import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test-secret", "TIMEZONE": "UTC"})
    rng = random.Random(seed)
    with app.extensions["lotwise.sessions"]() as s:
        shop = Shop(s, ids["supplier"], ids["deli"], ids["today"])
        shop.lots, shop.orders = list(ids["lots"]), list(ids["orders"])
        start.wait()
        try:
            for _ in range(STEPS):
                shop.run(_random_op(rng))
            out.put((seed, "ok"))
        except Exception as exc:
            out.put((seed, f"{type(exc).__name__}: {exc}"))
    app.extensions["lotwise.engine"].dispose()


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (set LOTWISE_TEST_DATABASE_URL)")
def test_bookings_from_several_processes_keep_stock_and_allocations_sound(
        shop_site: dict[str, Any], session: Session) -> None:
    shop = Shop(session, shop_site["supplier"], shop_site["deli"], TODAY)
    for q in (40, 30, 20):
        shop.receive(q)
    for q in (25, 20, 15, 10, 30, 5):
        shop.order(q)
    ids = {"supplier": shop_site["supplier"], "deli": shop_site["deli"], "today": TODAY,
           "lots": shop.lots, "orders": shop.orders}
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(WORKERS)
    out = ctx.Queue()
    procs = [ctx.Process(target=_book_in_own_process, args=(PG_URL, seed, ids, start, out))
             for seed in range(WORKERS)]
    for p in procs:
        p.start()
    results = [out.get(timeout=180) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert all(r == "ok" for _, r in results), results
    _sound(session)

"""Allocation from separate processes at the same moment never sets aside more of a lot than is on hand."""

from __future__ import annotations

import multiprocessing
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.helpers.api import Api
from tests.helpers.bookings import TODAY, receive
from tests.helpers.databases import PG_URL

WORKERS = 8


def _allocate_in_own_process(url: str, order_id: int, today: date, start: Any, out: Any) -> None:
    """One server process: its own app, engine and connections; waits for the starting gun. It allocates on the
    run's `today`, which it is handed because a process of its own does not share the run's clock."""
    from app import create_app
    from app.errors import LotwiseError
    from app.services.allocations import allocate_order

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test-secret", "TIMEZONE": "UTC"})
    with app.extensions["lotwise.sessions"]() as s:
        start.wait()
        try:
            run = allocate_order(s, order_id, today=today)
            out.put((order_id, str(run.allocated)))
        except LotwiseError as exc:
            out.put((order_id, f"refused: {exc.message}"))
    app.extensions["lotwise.engine"].dispose()


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (set LOTWISE_TEST_DATABASE_URL)")
def test_concurrent_allocation_never_over_allocates_a_lot(api: Api, site: dict[str, Any], session: Session) -> None:
    from app.models import RESERVING, OrderAllocation

    lot_id = receive(api, site["supplier"], "JAM-RASP", "25", location="DRY-01", lot_code="SCARCE",
                     expiry=(TODAY + timedelta(days=200)).isoformat())["lot_id"]
    orders = []
    for _ in range(WORKERS):
        r = api.post("/orders", {"customer_id": site["deli"], "warehouse": "MAIN", "ship_date": TODAY.isoformat(),
                                 "lines": [{"sku": "JAM-RASP", "quantity": "7"}]})
        orders.append(r.json["id"])
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(WORKERS)
    out = ctx.Queue()
    procs = [ctx.Process(target=_allocate_in_own_process, args=(PG_URL, oid, TODAY, start, out)) for oid in orders]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    session.expire_all()
    total = session.scalar(select(func.sum(OrderAllocation.quantity)).where(
        OrderAllocation.lot_id == lot_id, OrderAllocation.state.in_(RESERVING)))
    # 25 on hand, 8 orders of 7: three filled, one partly (4), the rest short; never more than 25.
    assert total == Decimal(25), results
    assert sum(Decimal(q) for _, q in results) == Decimal(25), results

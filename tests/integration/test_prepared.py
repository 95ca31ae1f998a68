"""The scan path's database plumbing: `app.db.Prepared` gives what SQLAlchemy would, on both databases, and a session
that runs a statement at a time does so on the engine's twin."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy.exc
from flask import Flask
from sqlalchemy import bindparam, func, insert, select, text
from sqlalchemy.orm import Session

from app.db import Prepared, open_connections, statement_engine
from app.models import Balance, Lot, LotStatus, Product, ScanEvent
from app.services.base import statement_at_a_time, unit
from tests.helpers.bookings import receive
from tests.helpers.databases import PG_URL, statements

# A lot's exact quantities (scaled integers on SQLite), dates, an enum, a sum and a NULL, as the scan path reads them.
_LOTS = (select(Lot.id, Lot.code, Lot.made_on, Lot.expiry, Lot.unit_cost, Lot.status, Lot.hold_reason, Product.sku,
                select(func.sum(Balance.on_hand)).where(Balance.lot_id == Lot.id).correlate(Lot).scalar_subquery())
         .join(Product, Product.id == Lot.product_id)
         .where(Product.sku == bindparam("sku"))
         .order_by(Lot.id))
_EVENT = insert(ScanEvent).values({name: bindparam(name) for name in ("raw", "parsed", "outcome", "created_at")})


def test_rows_are_what_sqlalchemy_gives(site: dict[str, Any], session: Session, api: Any) -> None:
    receive(api, site["supplier"], "RASP", "12.5", unit_cost="4.125", expiry="2031-05-01")
    receive(api, site["supplier"], "RASP", "0.001", unit_cost="0")
    expected = [tuple(row) for row in session.execute(_LOTS, {"sku": "RASP"})]
    got = Prepared(_LOTS).rows(session, {"sku": "RASP"})
    assert got == expected and len(got) == 2
    # The values, not only their equality: a Decimal with its places, a date, the enum member.
    first = got[0]
    assert (type(first[4]), first[4], first[5], first[8]) == (Decimal, Decimal("4.125"), LotStatus.RELEASED,
                                                               Decimal("12.5"))
    assert Prepared(_LOTS).rows(session, {"sku": "NO-SUCH"}) == []
    assert Prepared(_LOTS).first(session, {"sku": "NO-SUCH"}) is None


def test_an_insert_stores_what_the_orm_would(site: dict[str, Any], session: Session) -> None:
    stamp = datetime(2026, 12, 6, 7, 30, 15, tzinfo=UTC)
    [(event_id,)] = Prepared(_EVENT.returning(ScanEvent.id)).rows(session, {
        "raw": "]C10105012345000114", "parsed": {"gtin": "05012345000114", "lot": None, "elements": [["01", "x"]]},
        "outcome": "ok", "created_at": stamp})
    session.commit()
    event = session.get(ScanEvent, event_id)
    assert event is not None
    assert (event.raw, event.parsed, event.outcome, event.created_at) == (
        "]C10105012345000114", {"gtin": "05012345000114", "lot": None, "elements": [["01", "x"]]}, "ok", stamp)


def test_statement_listeners_see_it(site: dict[str, Any], session: Session) -> None:
    engine = session.get_bind()
    with statements(engine) as seen:  # type: ignore[arg-type]
        Prepared(_LOTS).rows(session, {"sku": "RASP"})
    # (SQLite's BEGIN, which SQLAlchemy sends itself, is seen too.)
    assert [s.split()[0] for s in seen if s != "BEGIN"] == ["SELECT"]


def test_a_driver_error_is_sqlalchemys_and_the_session_goes_on(site: dict[str, Any], session: Session) -> None:
    with pytest.raises(sqlalchemy.exc.IntegrityError):
        # outcome is NOT NULL
        Prepared(_EVENT.returning(ScanEvent.id)).rows(session, {
            "raw": "x", "parsed": None, "outcome": None, "created_at": datetime.now(UTC)})
    session.rollback()
    assert Prepared(select(func.count(ScanEvent.id))).rows(session, {}) == [(0,)]


def test_statements_it_cannot_run_as_compiled_are_refused(session: Session) -> None:
    expanding = Prepared(select(Lot.id).where(Lot.id.in_(bindparam("ids", expanding=True))))
    with pytest.raises(ValueError, match="expanding IN"):
        expanding.rows(session, {"ids": [1, 2]})
    python_default = Prepared(insert(ScanEvent).values(raw=bindparam("raw"), outcome=bindparam("outcome")))
    with pytest.raises(ValueError, match="Python defaults"):
        python_default.rows(session, {"raw": "x", "outcome": "ok"})


@pytest.mark.skipif(not PG_URL, reason="the twin engine is PostgreSQL's (set LOTWISE_TEST_DATABASE_URL)")
def test_a_scan_s_statements_need_not_wait_for_the_disk_but_a_use_case_does(app: Flask) -> None:
    """A session that runs a statement at a time (a scan) commits its scan event without waiting for the WAL to
    reach the disk; a booking's session, and a use case such a session opens, wait as always."""
    factory = app.extensions["lotwise.sessions"]

    def durability(session: Session) -> str:
        return str(session.execute(text("SHOW synchronous_commit")).scalar_one())

    with factory() as booking:
        assert durability(booking) == "on"
    with factory() as scan:
        statement_at_a_time(scan)
        assert scan.get_bind() is statement_engine(app.extensions["lotwise.engine"])
        assert durability(scan) == "off"
        with unit(scan):
            assert durability(scan) == "on"
        assert durability(scan) == "off"
    with factory() as late:
        late.execute(text("SELECT 1"))
        with pytest.raises(RuntimeError, match="before the session's first statement"):
            statement_at_a_time(late)


def test_it_sees_what_the_session_has_pending(site: dict[str, Any], session: Session) -> None:
    """Like a query through the session, it runs after the session's pending changes are flushed."""
    session.add(ScanEvent(raw="pending", outcome="ok", created_at=datetime.now(UTC)))
    assert Prepared(select(ScanEvent.raw)).rows(session, {}) == [("pending",)]
    session.rollback()


@pytest.mark.skipif(not PG_URL, reason="the twin engine is PostgreSQL's (set LOTWISE_TEST_DATABASE_URL)")
def test_a_scan_s_statements_hold_one_connection_which_goes_back_when_the_session_closes(app: Flask) -> None:
    """A session that runs a statement at a time lends its prepared statements one connection of the twin's pool for
    as long as it has no transaction of its own, and hands it back when it closes: a request never keeps one."""
    twin = statement_engine(app.extensions["lotwise.engine"])
    assert twin is not None
    raw = Prepared(select(ScanEvent.id).where(ScanEvent.raw == bindparam("raw")))
    idle = twin.pool.checkedout()
    with app.extensions["lotwise.sessions"]() as scan:
        statement_at_a_time(scan)
        raw.rows(scan, {"raw": "nothing"})
        raw.rows(scan, {"raw": "nothing"})
        assert twin.pool.checkedout() == idle + 1
        assert not scan.in_transaction()
    assert twin.pool.checkedout() == idle


@pytest.mark.skipif(not PG_URL, reason="the twin engine is PostgreSQL's (set LOTWISE_TEST_DATABASE_URL)")
def test_in_a_scan_s_session_a_use_case_s_statements_stay_in_its_transaction(app: Flask) -> None:
    """Once the session has begun (what it has pending, flushed) prepared statements run on its connection and see
    that; inside a use case (its BEGIN) they see what it has not committed, and what it rolls back nobody saw."""
    read = Prepared(select(ScanEvent.raw).where(ScanEvent.raw == bindparam("raw")))
    factory = app.extensions["lotwise.sessions"]
    with factory() as scan:
        statement_at_a_time(scan)
        scan.add(ScanEvent(raw="pending in a scan", outcome="ok", created_at=datetime.now(UTC)))
        assert read.rows(scan, {"raw": "pending in a scan"}) == [("pending in a scan",)]
        scan.commit()
        with pytest.raises(RuntimeError), unit(scan):
            scan.execute(insert(ScanEvent).values(raw="in a use case", outcome="ok", created_at=datetime.now(UTC)))
            assert read.rows(scan, {"raw": "in a use case"}) == [("in a use case",)]
            with factory() as other:
                assert read.rows(other, {"raw": "in a use case"}) == []
            raise RuntimeError("the use case fails")
        assert read.rows(scan, {"raw": "in a use case"}) == []


@pytest.mark.skipif(not PG_URL, reason="the twin engine is PostgreSQL's (set LOTWISE_TEST_DATABASE_URL)")
def test_a_worker_opens_its_connections_in_both_pools_before_its_first_request(app: Flask) -> None:
    engine = app.extensions["lotwise.engine"]
    twin = statement_engine(engine)
    assert twin is not None
    engine.dispose()
    assert open_connections(engine, 3) == 6
    assert (engine.pool.checkedin(), twin.pool.checkedin()) == (3, 3)  # type: ignore[attr-defined]
    with engine.connect() as conn:  # one of the three, already open: the server has a backend for each
        backends = conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                    "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"))
    assert backends is not None and backends >= 5
    # No pool gets more than it keeps: more would be closed again on their way back.
    engine.dispose()
    assert open_connections(engine, 100) == engine.pool.size() + twin.pool.size()  # type: ignore[attr-defined]

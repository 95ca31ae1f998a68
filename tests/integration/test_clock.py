"""One clock: what the app stamps (a column default, a service's time) and the dates it works out (a receipt
without a date) all come from `app.clock.now`, so a run of the suite can hold them on its own day."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.models import Movement, Receipt
from tests.helpers.api import TODAY, Api
from tests.helpers.bookings import receive
from tests.helpers.clock import SuiteClock

MOMENT = datetime(2031, 3, 4, 22, 15, tzinfo=UTC)


def test_a_booking_is_dated_and_stamped_by_the_one_clock(api: Api, site: dict[str, Any], session: Session,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: MOMENT)
    receive(api, site["supplier"], "RASP", "10", expiry="2031-06-01")
    receipt = session.scalars(select(Receipt)).one()
    movement = session.scalars(select(Movement)).one()
    assert receipt.received_on == date(2031, 3, 4)
    assert receipt.created_at == MOMENT
    assert movement.created_at == MOMENT


def test_the_suite_holds_the_app_on_the_day_the_run_started() -> None:
    assert clock.now().date() == TODAY


def test_a_run_that_starts_late_in_the_day_stays_on_it_and_its_time_moves_on() -> None:
    seconds = iter([0.0, 60.0, 2 * 3600.0 + 59 * 60])
    run = SuiteClock(date(2026, 12, 5), real=lambda: datetime(2026, 12, 5, 23, 50, tzinfo=UTC),
                     elapsed=lambda: next(seconds))
    first, later = run(), run()
    assert first == datetime(2026, 12, 5, 21, 1, tzinfo=UTC)
    assert later == datetime(2026, 12, 5, 23, 59, tzinfo=UTC)


def test_a_run_that_starts_in_the_day_keeps_the_real_time() -> None:
    seconds = iter([0.0, 5.0])
    run = SuiteClock(date(2026, 12, 5), real=lambda: datetime(2026, 12, 5, 9, 30, tzinfo=UTC),
                     elapsed=lambda: next(seconds))
    assert run() == datetime(2026, 12, 5, 9, 30, 5, tzinfo=UTC)


def test_a_run_whose_day_ended_before_the_clock_was_made_starts_at_the_latest_start() -> None:
    run = SuiteClock(date(2026, 12, 5), real=lambda: datetime(2026, 12, 6, 0, 0, 1, tzinfo=UTC), elapsed=lambda: 0.0)
    assert run() == datetime(2026, 12, 5, 21, 0, tzinfo=UTC)

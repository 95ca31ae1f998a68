"""The suite's clock: the app's `clock.now` pinned to the day the run started.

Tests build their bookings on `TODAY` (a ship date of today, a write-off today). A run that starts before
midnight and ends after it would otherwise meet an app whose today has moved on, and every such booking would
be refused as "in the past". So the app's clock, for the whole run, starts at noon (UTC, the test site's time
zone) of the day the run started and advances with the real clock: times still move forward, so events keep
their order and lifetimes still expire, and a run shorter than twelve hours never leaves `TODAY`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time


class SuiteClock:
    """`now()` for the app under test: noon of `day`, plus the real time elapsed since the clock was made."""

    def __init__(self, day: date, elapsed: Callable[[], float] = time.monotonic) -> None:
        self._start = datetime.combine(day, clock_time(12), tzinfo=UTC)
        self._elapsed = elapsed
        self._origin = elapsed()

    def __call__(self) -> datetime:
        return self._start + timedelta(seconds=self._elapsed() - self._origin)

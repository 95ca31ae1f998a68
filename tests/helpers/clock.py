"""The suite's clock: the app's `clock.now` kept on the day the run started.

Tests build their bookings on `TODAY` (a ship date of today, a write-off today). A run that starts before
midnight and ends after it would otherwise meet an app whose today has moved on, and every such booking would
be refused as "in the past". So, for the whole run, the app's clock is the real clock, except that a run
starting late in the day (UTC, the test site's time zone) starts it at 21:00 instead: it advances with real
time, so events keep their order and lifetimes still expire, and a run shorter than three hours never leaves
`TODAY`. It stays within three hours of the real clock, which the browser in the browser tests keeps: a login
cookie that expires twelve hours after the app's now is still in the browser's future.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time

LATEST_START = clock_time(21)
"""The latest time of day the suite's clock starts at: three hours of run before midnight."""


class SuiteClock:
    """`now()` for the app under test: the real time, at most 21:00 of `day`, advancing with real time."""

    def __init__(self, day: date, real: Callable[[], datetime] = lambda: datetime.now(UTC),
                 elapsed: Callable[[], float] = time.monotonic) -> None:
        self._start = min(real(), datetime.combine(day, LATEST_START, tzinfo=UTC))
        self._elapsed = elapsed
        self._origin = elapsed()

    def __call__(self) -> datetime:
        return self._start + timedelta(seconds=self._elapsed() - self._origin)

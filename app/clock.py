"""The site's clock: what "today" and "now" are, in the site's time zone.

Business dates (receipt, production, ship and expiry dates) are local to the site; event times are
stored in UTC. Services, queries and the allocator take `today` as a parameter; this module is where
the edges (pages, API, CLI, digest) get it from, so no other code asks the web layer for a date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def zone(name: str) -> ZoneInfo:
    """The time zone named in the configuration (`LOTWISE_TIMEZONE`), e.g. `Europe/London`."""
    return ZoneInfo(name)


def now() -> datetime:
    """The current moment, timezone-aware UTC (how event times are stored)."""
    return datetime.now(UTC)


def today(zone_name: str) -> date:
    """Today's date at the site."""
    return now().astimezone(zone(zone_name)).date()


def local_text(moment: datetime | None, zone_name: str) -> str:
    """A stored UTC moment as the site's local time, to the minute; `""` for None."""
    if moment is None:
        return ""
    return moment.astimezone(zone(zone_name)).strftime("%Y-%m-%d %H:%M")

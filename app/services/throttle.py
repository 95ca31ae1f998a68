"""Throttling of failed credentials: counted per key in the database, shared by every worker and server.

A key is what failures are counted against: an account ("account:ann"), a client address on the login
form ("address:10.0.0.7") or a client address sending wrong API tokens ("token:10.0.0.7"). After
`max_failures` within `window`, the key is locked for `lockout`; each further lockout in a row lasts
twice as long, up to `max_lockout`. A key that has been quiet for a whole window after its last failure
or lockout starts again from nothing, and its row is pruned.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.models import SignInThrottle
from app.services.base import _insert, transactional

# 2**20 lockouts of even one second are 12 days: far beyond any sensible cap, and no overflow.
_MAX_DOUBLINGS = 20


@dataclass(frozen=True)
class Limit:
    max_failures: int
    window: timedelta
    lockout: timedelta
    max_lockout: timedelta

    def lockout_after(self, lockouts: int) -> timedelta:
        """How long the lockout after `lockouts` earlier ones in a row lasts."""
        longer: timedelta = self.lockout * (2 ** min(lockouts, _MAX_DOUBLINGS))
        return min(longer, self.max_lockout)


@dataclass(frozen=True)
class Policy:
    """The limits for one account and for one client address (`LOTWISE_LOGIN_*`)."""

    account: Limit
    address: Limit

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Policy:
        # Every API call asks for the policy (a wrong token counts against it): it is built once per set of values,
        # which are read afresh each time, so a setting changed at run time still takes effect.
        return _policy(*(config[key] for key in _SETTINGS))


# The settings a Policy is made of, in the order _policy takes them.
_SETTINGS = ("LOGIN_WINDOW_SECONDS", "LOGIN_LOCKOUT_SECONDS", "LOGIN_LOCKOUT_MAX_SECONDS", "LOGIN_MAX_FAILURES",
             "LOGIN_ADDRESS_MAX_FAILURES")


@functools.lru_cache(maxsize=16)
def _policy(window_seconds: Any, lockout_seconds: Any, max_lockout_seconds: Any, max_failures: Any,
            address_max_failures: Any) -> Policy:
    window = timedelta(seconds=int(window_seconds))
    lockout = timedelta(seconds=int(lockout_seconds))
    cap = max(lockout, timedelta(seconds=int(max_lockout_seconds)))
    return Policy(
        account=Limit(max(1, int(max_failures)), window, lockout, cap),
        address=Limit(max(1, int(address_max_failures)), window, lockout, cap),
    )


@dataclass(frozen=True)
class Counter:
    key: str
    limit: Limit


def account_key(username: str) -> str:
    # Case-folded so "Ann" and "ann" share one counter whatever the database's collation.
    return "account:" + username.strip().casefold()[:150]


def address_key(address: str | None) -> str:
    return "address:" + (address or "unknown")[:100]


def token_key(address: str | None) -> str:
    return "token:" + (address or "unknown")[:100]


def locked_until(session: Session, key: str, now: datetime) -> datetime | None:
    """When the lockout running on `key` ends, or None when the key is not locked."""
    until = session.scalar(select(SignInThrottle.locked_until).where(SignInThrottle.key == key))
    return until if until is not None and until > now else None


def retry_after(until: datetime, now: datetime) -> int:
    """Whole seconds until `until` (at least 1), for the Retry-After header."""
    return max(1, math.ceil((until - now).total_seconds()))


def wait_text(seconds: int) -> str:
    """'45 seconds', '1 minute', '4 minutes' — how long to wait, in words."""
    if seconds < 60:
        return f"{seconds} second{'' if seconds == 1 else 's'}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


@transactional
def record_failure(session: Session, counters: Sequence[Counter], now: datetime) -> dict[str, datetime]:
    """Count one failed attempt against each counter; the lockouts running afterwards, by key.

    Each counter is one row, created by an upsert and then updated under its row lock (PostgreSQL;
    SQLite's write lock), so failures arriving at the same moment in different workers all count.
    Callers pass the counters in one order (account before address), so two sign-ins never wait on
    each other's rows in a circle. A key already locked is not counted again: its attempts are
    refused before anything is checked.
    """
    # Rows another sign-in holds are skipped rather than waited for, so pruning never deadlocks.
    stale = (select(SignInThrottle.key).where(SignInThrottle.forget_at < now)
             .with_for_update(skip_locked=True).scalar_subquery())
    session.execute(delete(SignInThrottle).where(SignInThrottle.key.in_(stale)))
    locked: dict[str, datetime] = {}
    for counter in counters:
        limit = counter.limit
        session.execute(_insert(session, SignInThrottle).values(
            key=counter.key, failures=0, window_start=now, lockouts=0, locked_until=None,
            forget_at=now + limit.window).on_conflict_do_nothing(index_elements=[SignInThrottle.key]))
        row = session.scalars(select(SignInThrottle).where(SignInThrottle.key == counter.key)
                              .with_for_update().execution_options(populate_existing=True)).one()
        if row.locked_until is not None and row.locked_until > now:
            locked[row.key] = row.locked_until
            continue
        if now >= row.forget_at:
            row.lockouts = 0
        if now >= row.forget_at or now - row.window_start >= limit.window:
            row.failures, row.window_start = 0, now
        row.failures += 1
        if row.failures >= limit.max_failures:
            row.locked_until = now + limit.lockout_after(row.lockouts)
            row.lockouts += 1
            row.failures, row.window_start = 0, now
            locked[row.key] = row.locked_until
        row.forget_at = max(now, row.locked_until or now) + limit.window
    return locked


@transactional
def forget(session: Session, key: str) -> None:
    """Clear a key's failures and lockouts (a correct password for the account)."""
    session.execute(delete(SignInThrottle).where(SignInThrottle.key == key))

"""The one rule deciding whether stock of a lot may be used at all (any purpose, any customer)."""

from __future__ import annotations

from datetime import date
from typing import Literal

UnusableKind = Literal["recalled", "hold", "quarantine", "expired"]

QUARANTINE = "quarantine"


def unusable(
    status: str, expiry: date | None, on: date | None = None, location_kind: str | None = None
) -> list[UnusableKind]:
    """Every reason stock may not be consumed, picked or shipped on day `on`; empty when it may.

    A lot is usable when it is released (not on hold, not recalled), not expired on `on` (a lot
    may still be used on its expiry date), and not lying in a quarantine location. `on` or
    `location_kind` left out skips that part of the rule.
    """
    reasons: list[UnusableKind] = []
    if status == "recalled":
        reasons.append("recalled")
    elif status != "released":
        reasons.append("hold")
    if location_kind == QUARANTINE:
        reasons.append("quarantine")
    if on is not None and is_expired(expiry, on):
        reasons.append("expired")
    return reasons


def is_expired(expiry: date | None, on: date) -> bool:
    """Whether stock with this expiry may no longer be used on `on` (it may on its expiry date)."""
    return expiry is not None and expiry < on

"""The two orderings of a wave: FEFO order of stock and serving order of order lines."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from operator import attrgetter
from typing import cast

from allocation.model import OrderLine, StockLot

FefoKey = tuple[bool, date, date, str, str, int, int]
ServeKey = tuple[date, int, int, int]


def fefo_key(lot: StockLot) -> FefoKey:
    """First expiry first out: expiry (none last), made/received date, lot code, location.

    Lot and location ids close the key so that equal-looking stock still sorts the same way
    whatever order it was read in.
    """
    expiry = lot.expiry
    return (
        expiry is None,
        date.max if expiry is None else expiry,
        lot.made_on,
        lot.lot_code,
        lot.location_code,
        lot.lot_id,
        lot.location_id,
    )


# Lines are served by ship date, then priority (lower number first), then entry order. An
# attrgetter builds the key in C, which matters when a wave sorts a million lines.
serve_key = cast(Callable[[OrderLine], ServeKey], attrgetter("ship_date", "priority", "sequence", "line_id"))

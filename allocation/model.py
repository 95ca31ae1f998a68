"""Value objects the allocator reads and returns: rules, stock, order lines, plans."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from typing import Any, Literal

LotStatus = Literal["released", "hold", "recalled"]
_STATUSES = frozenset(("released", "hold", "recalled"))


@dataclass(frozen=True, slots=True)
class CustomerRule:
    """A customer's shelf-life demands; every limit is judged on the day the goods arrive.

    `min_remaining_pct` is a percentage (0..100) of the lot's whole life, from the day it was
    made or received to its expiry. `max_lots_per_line` counts distinct lots, not locations.
    `no_date_reversal` forbids shipping an expiry earlier than the customer already received
    for the same product (the order line carries that date).
    """

    customer_name: str = ""
    min_remaining_days: int | None = None
    min_remaining_pct: Decimal | None = None
    transit_days: int = 0
    max_lots_per_line: int | None = None
    no_date_reversal: bool = False

    def __post_init__(self) -> None:
        if self.min_remaining_days is not None and self.min_remaining_days < 0:
            raise ValueError("min_remaining_days must not be negative")
        if self.min_remaining_pct is not None and not 0 <= self.min_remaining_pct <= 100:
            raise ValueError("min_remaining_pct must be between 0 and 100")
        if self.transit_days < 0:
            raise ValueError("transit_days must not be negative")
        if self.max_lots_per_line is not None and self.max_lots_per_line < 1:
            raise ValueError("max_lots_per_line must be at least 1")

    @property
    def display_name(self) -> str:
        """The customer's name as a sentence subject in reasons."""
        return self.customer_name or "the customer"


@dataclass(frozen=True, slots=True)
class StockLot:
    """One lot at one pickable location, with the quantity still free to allocate.

    `available` is on hand minus open allocations. The same lot may appear once per location.
    """

    lot_id: int
    lot_code: str
    sku: str
    expiry: date | None
    made_on: date
    available: Decimal
    location_id: int = 0
    location_code: str = ""
    status: LotStatus = "released"
    unit: str = "ea"

    def __post_init__(self) -> None:
        if self.status not in _STATUSES:
            raise ValueError(f"unknown lot status {self.status!r}")


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One order line to fill from stock of `sku`.

    Lines are served in the order (ship_date, priority, sequence, line_id): earlier ship dates
    first, then the lower `priority` number (0 is the most urgent), then the order of entry.
    `latest_shipped_expiry` is the latest expiry this customer already received for this sku,
    used by the rule's `no_date_reversal`.
    """

    line_id: int
    sku: str
    quantity: Decimal
    ship_date: date
    rule: CustomerRule = field(default_factory=CustomerRule)
    priority: int = 0
    sequence: int = 0
    latest_shipped_expiry: date | None = None

    def __post_init__(self) -> None:
        if self.quantity < 0:
            raise ValueError("an order line's quantity must not be negative")


@dataclass(frozen=True, slots=True)
class Allocation:
    """A quantity of one lot at one location set aside for one order line."""

    line_id: int
    lot_id: int
    lot_code: str
    location_id: int
    location_code: str
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class Shortage:
    """What a line could not get, and why, in words a picker understands."""

    line_id: int
    sku: str
    requested: Decimal
    allocated: Decimal
    missing: Decimal
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    """The result of one allocation wave.

    Allocations are grouped by line in serving order and, within a line, in FEFO order;
    shortages are in serving order.
    """

    allocations: tuple[Allocation, ...]
    shortages: tuple[Shortage, ...]
    # Built on first lookup so that producing a plan costs nothing extra.
    _by_line: dict[int, tuple[Allocation, ...]] | None = field(
        default=None, init=False, repr=False, compare=False, hash=False
    )
    _short_by_line: dict[int, Shortage] | None = field(default=None, init=False, repr=False, compare=False, hash=False)

    def _index(self) -> dict[int, tuple[Allocation, ...]]:
        index = self._by_line
        if index is None:
            grouped: dict[int, list[Allocation]] = {}
            for a in self.allocations:
                grouped.setdefault(a.line_id, []).append(a)
            index = {k: tuple(v) for k, v in grouped.items()}
            object.__setattr__(self, "_by_line", index)
        return index

    def allocations_for(self, line_id: int) -> tuple[Allocation, ...]:
        """The line's allocations in FEFO order (empty if it got nothing)."""
        return self._index().get(line_id, ())

    def allocated_for(self, line_id: int) -> Decimal:
        """Total quantity allocated to the line."""
        return sum((a.quantity for a in self.allocations_for(line_id)), Decimal(0))

    def shortage_for(self, line_id: int) -> Shortage | None:
        """The line's shortage, or None if it is filled."""
        index = self._short_by_line
        if index is None:
            index = {s.line_id: s for s in self.shortages}
            object.__setattr__(self, "_short_by_line", index)
        return index.get(line_id)

    @property
    def total_allocated(self) -> Decimal:
        """Quantity allocated over the whole wave."""
        return sum((a.quantity for a in self.allocations), Decimal(0))

    @property
    def total_missing(self) -> Decimal:
        """Quantity the wave could not fill."""
        return sum((s.missing for s in self.shortages), Decimal(0))


def unfrozen_twin(cls: type, maker: Callable[..., Any]) -> type:
    """A class with the slots of the frozen, slotted dataclass `cls` but no frozen guard, for `maker`.

    `maker` makes `cls` objects quickly: it fills a twin with plain slot writes and gives it `cls` as its class
    (allowed between classes of one layout), where the dataclass's own __init__ sets each field through
    object.__setattr__, several times slower; a wave makes thousands. Refuses to run when `maker`'s parameters are
    not `cls`'s fields in order, or when `cls` checks its values (`__post_init__`), which `maker` would skip.
    """
    if [p.name for p in inspect.signature(maker).parameters.values()] != [f.name for f in fields(cls)] \
            or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} changed: update {maker.__module__}.{maker.__name__}")
    return type(f"_New{cls.__name__}", (), {"__slots__": vars(cls)["__slots__"]})

"""FEFO allocation of stock to order lines under customers' shelf-life rules (pure, stdlib only)."""

from allocation.allocator import allocate
from allocation.eligibility import (
    Ineligible,
    IneligibleKind,
    LineTerms,
    earliest_acceptable_expiry,
    ineligibility,
    is_eligible,
    last_ship_day,
    line_terms,
)
from allocation.fefo import fefo_key, serve_key
from allocation.model import (
    Allocation,
    CustomerRule,
    LotStatus,
    OrderLine,
    Plan,
    Shortage,
    StockLot,
)

__all__ = [
    "Allocation",
    "CustomerRule",
    "Ineligible",
    "IneligibleKind",
    "LineTerms",
    "LotStatus",
    "OrderLine",
    "Plan",
    "Shortage",
    "StockLot",
    "allocate",
    "earliest_acceptable_expiry",
    "fefo_key",
    "ineligibility",
    "is_eligible",
    "last_ship_day",
    "line_terms",
    "serve_key",
]

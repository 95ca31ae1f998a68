"""Output models of expiry control: expiring stock per lot and location, its weekly totals, expired stock."""

from __future__ import annotations

from datetime import date

from app.models import LotStatus
from app.schemas.common import Amount, Out


class CustomerOption(Out):
    """A customer whose shelf-life rule accepts the lot if it ships by `until`."""

    customer_id: int
    name: str
    until: date
    buys_it: bool


class LotStockRow(Out):
    """Stock of one lot at one location, valued at the lot's cost."""

    lot_id: int
    sku: str
    product_name: str
    unit: str
    lot_code: str
    expiry: date
    status: LotStatus
    location_id: int
    location: str
    warehouse: str
    on_hand: Amount
    unit_cost: Amount
    value: Amount


class ExpiringRow(LotStockRow):
    made_on: date
    days_left: int
    expired: bool
    alert_days: int
    hold_reason: str | None
    customers: list[CustomerOption]
    more_customers: int


class ExpiringWeek(Out):
    """Stock of one product expired, or expiring, in one week (Monday to Sunday) of expiry dates."""

    sku: str
    product_name: str
    unit: str
    week: date
    expired: bool
    first_expiry: date
    lots: int
    on_hand: Amount
    value: Amount


class ExpirySummary(Out):
    """How much is expired or about to, per product and week of expiry (soonest first), and the first rows."""

    expired_lots: int
    expired_value: Amount
    expiring_lots: int
    expiring_value: Amount
    weeks: list[ExpiringWeek]
    more_weeks: int
    rows: list[ExpiringRow]


class ExpiredRow(LotStockRow):
    """Expired stock of one lot at one location, as the bulk write-off preview lists it."""


class ExpiredPreview(Out):
    """Expired lots still on hand, per location, oldest first; `version` changes whenever any of them does.

    `rows` and `total_value` are the rows listed (a confirmation names some of them); `total_rows`
    and `all_value` count every expired row on hand.
    """

    today: date
    version: str
    rows: list[ExpiredRow]
    total_value: Amount
    total_rows: int
    all_value: Amount

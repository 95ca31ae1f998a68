"""The one rule deciding whether a lot may be shipped on an order line, and why not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from allocation.model import OrderLine, StockLot, unfrozen_twin
from allocation.text import number, plural, quantity
from allocation.usability import unusable

IneligibleKind = Literal["wrong_sku", "recalled", "hold", "expired", "min_days", "min_pct", "date_reversal"]


@dataclass(frozen=True, slots=True)
class Ineligible:
    """Why a lot may not go on a line.

    `earliest_expiry` is the earliest expiry the line would accept from a lot with this made date
    (None when the reason is not about dates, or when no expiry would do).
    """

    kind: IneligibleKind
    message: str
    lot_id: int
    lot_code: str
    earliest_expiry: date | None = None


@dataclass(frozen=True, slots=True)
class LineTerms:
    """A line's date demands as day ordinals, worked out once per line.

    `floor` is the earliest acceptable expiry before the percentage rule, which depends on each
    lot's own made date and is checked per lot with `meets_pct`. The percentage is held as the
    exact fraction `pct_num / pct_den`; `pct_num == 0` means no percentage rule.
    """

    ship: int
    arrival: int
    days_floor: int
    reversal_floor: int | None
    floor: int
    pct_num: int
    pct_den: int


def _new_terms(
    ship: int, arrival: int, days_floor: int, reversal_floor: int | None, floor: int, pct_num: int, pct_den: int
) -> LineTerms:
    """The same frozen object as `LineTerms(...)`, several times quicker (its generated __init__
    sets each field through object.__setattr__), and a wave works out terms thousands of times."""
    made = _NewLineTerms()  # calling the class: no argument tuple, as object.__new__ makes
    made.ship = ship
    made.arrival = arrival
    made.days_floor = days_floor
    made.reversal_floor = reversal_floor
    made.floor = floor
    made.pct_num = pct_num
    made.pct_den = pct_den
    made.__class__ = LineTerms
    return made  # type: ignore[no-any-return]  # a LineTerms now


# Should LineTerms gain a field or a check, _new_terms must learn it too: `unfrozen_twin` refuses to run until it has.
_NewLineTerms = unfrozen_twin(LineTerms, _new_terms)


def line_terms(line: OrderLine) -> LineTerms:
    """Translate a line's ship date and customer rule into the thresholds of the rule."""
    rule = line.rule
    ship = line.ship_date.toordinal()
    arrival = ship + rule.transit_days
    days_floor = arrival + (rule.min_remaining_days or 0)
    reversal: int | None = None
    if rule.no_date_reversal and line.latest_shipped_expiry is not None:
        reversal = line.latest_shipped_expiry.toordinal()
    floor = days_floor if reversal is None else max(days_floor, reversal)
    pct_num, pct_den = (0, 1)
    if rule.min_remaining_pct:
        pct_num, pct_den = rule.min_remaining_pct.as_integer_ratio()
    return _new_terms(ship, arrival, days_floor, reversal, floor, pct_num, pct_den)


def meets_pct(expiry: int, made: int, terms: LineTerms) -> bool:
    """Whether (expiry - arrival) / (expiry - made) >= pct / 100, in exact integer arithmetic.

    A lot whose expiry is not after its made date has no life to measure and never meets a
    percentage rule. Callers check `expiry >= arrival` first.
    """
    life = expiry - made
    return life > 0 and (expiry - terms.arrival) * 100 * terms.pct_den >= terms.pct_num * life


def pct_floor(made: int, terms: LineTerms) -> int | None:
    """The earliest expiry ordinal meeting the percentage rule for a lot made on `made`.

    Solves (E - A) * 100 * den >= num * (E - M) for the smallest E > M; None when no E can,
    which happens only at 100 % for a lot made before arrival. Without a percentage rule the
    floor is the arrival day.
    """
    if terms.pct_num == 0:
        return terms.arrival
    slope = 100 * terms.pct_den - terms.pct_num
    rhs = 100 * terms.pct_den * terms.arrival - terms.pct_num * made
    if slope == 0:
        return made + 1 if rhs <= 0 else None
    return max(-(-rhs // slope), made + 1)


def accepts_expiry(expiry: int | None, made: int, terms: LineTerms) -> bool:
    """The date part of the rule, on day ordinals: no expiry, or expiry >= floor and pct met.

    Equivalent to the checks `ineligibility` names one by one, because the floor is the
    latest of arrival, arrival + min days and the no-date-reversal bound.
    """
    if expiry is None:
        return True
    if expiry < terms.floor:
        return False
    return not terms.pct_num or meets_pct(expiry, made, terms)


def _failure(lot: StockLot, line: OrderLine, terms: LineTerms | None) -> IneligibleKind | None:
    if lot.sku != line.sku:
        return "wrong_sku"
    for kind in unusable(lot.status, None):
        if kind == "recalled" or kind == "hold":
            return kind
    if lot.expiry is None:
        return None
    t = terms or line_terms(line)
    expiry = lot.expiry.toordinal()
    if expiry < t.arrival:
        return "expired"
    if expiry < t.days_floor:
        return "min_days"
    if t.pct_num and not meets_pct(expiry, lot.made_on.toordinal(), t):
        return "min_pct"
    if t.reversal_floor is not None and expiry < t.reversal_floor:
        return "date_reversal"
    return None


def is_eligible(lot: StockLot, line: OrderLine, terms: LineTerms | None = None) -> bool:
    """True when the lot may be allocated, picked and shipped on the line.

    Released, of the line's sku, and if it has an expiry E, with arrival A = ship date +
    transit days: E >= A, E - A >= min days, (E - A) / (E - made) >= min pct, and under
    no-date-reversal E >= the latest expiry the customer already received. Lots without an
    expiry are always date-eligible. `terms` may be passed to skip recomputing them per lot.
    """
    if lot.sku != line.sku or unusable(lot.status, None):
        return False
    if lot.expiry is None:
        return True
    return accepts_expiry(lot.expiry.toordinal(), lot.made_on.toordinal(), terms or line_terms(line))


def earliest_acceptable_expiry(line: OrderLine, made_on: date) -> date | None:
    """The earliest expiry the line accepts from a lot made or received on `made_on`.

    None when no expiry would satisfy the line (a 100 % rule and a lot made before arrival).
    Reports use it to tell which customers could still take a lot.
    """
    return _earliest(line_terms(line), made_on.toordinal())


def _earliest(t: LineTerms, made: int) -> date | None:
    floor = t.floor
    if t.pct_num:
        by_pct = pct_floor(made, t)
        if by_pct is None:
            return None
        floor = max(floor, by_pct)
    return date.fromordinal(floor)


def last_ship_day(lot: StockLot, line: OrderLine) -> date | None:
    """The last day the lot may still ship on the line, shipping on `line.ship_date` or later.

    None when it may not ship even on `line.ship_date`, or when it has no expiry (then no date
    limits it). The rule only gets harder as the ship date S moves on: E >= S + transit + min days
    gives S <= E - transit - min days, and (E - A) * 100 * den >= num * life gives
    S <= E - transit - ceil(num * life / (100 * den)); the no-date-reversal bound does not move.
    """
    if lot.expiry is None or not is_eligible(lot, line):
        return None
    t = line_terms(line)
    expiry = lot.expiry.toordinal()
    last = expiry - (t.days_floor - t.ship)
    if t.pct_num:
        life = expiry - lot.made_on.toordinal()
        need = -(-(t.pct_num * life) // (100 * t.pct_den))
        last = min(last, expiry - (t.arrival - t.ship) - need)
    return date.fromordinal(last)


def ineligibility(lot: StockLot, line: OrderLine, terms: LineTerms | None = None) -> Ineligible | None:
    """Why the lot may not go on the line, or None when it may (same rule as `is_eligible`)."""
    t = terms or line_terms(line)
    kind = _failure(lot, line, t)
    if kind is None:
        return None
    message = _message(kind, lot, lot.available, line, t)
    if kind in ("wrong_sku", "recalled", "hold"):
        return Ineligible(kind, message, lot.lot_id, lot.lot_code)
    return Ineligible(kind, message, lot.lot_id, lot.lot_code, _earliest(t, lot.made_on.toordinal()))


def ineligibility_message(lot: StockLot, available: Decimal, line: OrderLine, terms: LineTerms) -> str | None:
    """`ineligibility(...).message`, naming `available` of the lot (a shortage names a lot's
    quantity summed over its locations), without building the Ineligible."""
    kind = _failure(lot, line, terms)
    return None if kind is None else _message(kind, lot, available, line, terms)


def _message(kind: IneligibleKind, lot: StockLot, available: Decimal, line: OrderLine, t: LineTerms) -> str:
    what = f"{quantity(available, lot.unit)} of lot {lot.lot_code}"
    customer = line.rule.display_name
    if kind == "wrong_sku":
        return f"lot {lot.lot_code} is {lot.sku}, not {line.sku}"
    if kind == "recalled":
        return f"{what} are recalled"
    if kind == "hold":
        return f"{what} are on hold"
    assert lot.expiry is not None  # only dated lots fail the date rules
    expires = f"{what} expire {lot.expiry.isoformat()}"
    arrival = date.fromordinal(t.arrival)
    if kind == "expired":
        if lot.expiry < line.ship_date:
            return f"{expires}, before the ship date {line.ship_date.isoformat()}"
        return f"{expires}, before they arrive at {customer} on {arrival.isoformat()}"
    if kind == "min_days":
        days = line.rule.min_remaining_days or 0
        return (
            f"{expires}; {customer} needs ≥ {plural(days, 'day')} on arrival "
            f"{arrival.isoformat()}, so expiry ≥ {date.fromordinal(t.days_floor).isoformat()}"
        )
    if kind == "min_pct":
        pct = number(line.rule.min_remaining_pct or 0)
        needs = (
            f"{expires}; {customer} needs ≥ {pct}% of the lot's life left on arrival "
            f"{arrival.isoformat()} (made {lot.made_on.isoformat()})"
        )
        by_pct = pct_floor(lot.made_on.toordinal(), t)
        if by_pct is None:
            return f"{needs}, which no lot made before arrival can have"
        return f"{needs}, so expiry ≥ {date.fromordinal(by_pct).isoformat()}"
    assert line.latest_shipped_expiry is not None
    return (
        f"{expires}; {customer} already received expiry "
        f"{line.latest_shipped_expiry.isoformat()} of this product; "
        "never ship an earlier date"
    )

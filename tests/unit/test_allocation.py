"""FEFO allocation and shelf-life eligibility, by example, as a planner or picker sees them."""

from __future__ import annotations

import ast
import sys
from dataclasses import FrozenInstanceError, dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from allocation import (
    Allocation,
    CustomerRule,
    LineTerms,
    OrderLine,
    Plan,
    StockLot,
    allocate,
    earliest_acceptable_expiry,
    fefo_key,
    ineligibility,
    is_eligible,
    line_terms,
)
from allocation.model import unfrozen_twin

SHIP = date(2026, 11, 23)
DELI = CustomerRule("Corner Deli", min_remaining_days=30)
BIG_BOX = CustomerRule("Big Box", min_remaining_days=90, transit_days=2)
NO_RULE = CustomerRule()


def day(offset: int) -> date:
    return SHIP + timedelta(days=offset)


def lot(
    lot_id: int,
    code: str,
    expires_in: int | None,
    qty: int | str,
    *,
    made_ago: int = 10,
    sku: str = "JAM",
    location: int = 1,
    status: str = "released",
    unit: str = "ea",
) -> StockLot:
    return StockLot(
        lot_id=lot_id,
        lot_code=code,
        sku=sku,
        expiry=None if expires_in is None else day(expires_in),
        made_on=day(-made_ago),
        available=Decimal(qty),
        location_id=location,
        location_code=f"A-{location:02d}",
        status=status,  # type: ignore[arg-type]
        unit=unit,
    )


def line(
    line_id: int,
    qty: int | str,
    rule: CustomerRule = NO_RULE,
    *,
    sku: str = "JAM",
    ship: date = SHIP,
    priority: int = 0,
    sequence: int = 0,
    latest: date | None = None,
) -> OrderLine:
    return OrderLine(
        line_id=line_id,
        sku=sku,
        quantity=Decimal(qty),
        ship_date=ship,
        rule=rule,
        priority=priority,
        sequence=sequence or line_id,
        latest_shipped_expiry=latest,
    )


def taken(plan: Plan, line_id: int) -> list[tuple[str, int]]:
    """(lot code, quantity) pairs a line got, in plan order."""
    return [(a.lot_code, int(a.quantity)) for a in plan.allocations_for(line_id)]


# --- who gets which lot -----------------------------------------------------------------------


@pytest.mark.parametrize("deli_first", [True, False])
def test_each_customer_gets_the_lot_its_rule_allows_whoever_ordered_first(
    deli_first: bool,
) -> None:
    stock = [lot(1, "SHORT-40", 40, 10), lot(2, "LONG-120", 120, 10)]
    deli = line(1, 10, DELI, sequence=1 if deli_first else 2)
    big = line(2, 10, BIG_BOX, sequence=2 if deli_first else 1)

    plan = allocate([deli, big], stock)

    assert taken(plan, 1) == [("SHORT-40", 10)]
    assert taken(plan, 2) == [("LONG-120", 10)]
    assert plan.shortages == ()


def test_an_urgent_strict_line_skips_lots_it_may_not_have_and_leaves_them_for_others() -> None:
    stock = [lot(1, "SHORT-40", 40, 10), lot(2, "LONG-120", 120, 10)]
    big = line(2, 10, BIG_BOX, priority=0)
    deli = line(1, 10, DELI, priority=5)

    plan = allocate([deli, big], stock)

    assert [a.line_id for a in plan.allocations] == [2, 1]  # Big Box served first
    assert taken(plan, 2) == [("LONG-120", 10)]
    assert taken(plan, 1) == [("SHORT-40", 10)]


def test_a_line_entered_first_does_not_starve_a_later_line_it_could_step_aside_for() -> None:
    # Big Box wants half the lot's life left. The fresh lot expires first but is young; the
    # old lot lasts longer but has used most of its life. First-come FEFO would give the fresh
    # lot to the deli and leave Big Box with nothing; the deli can take the old lot instead.
    half_life = CustomerRule("Big Box", min_remaining_pct=Decimal(50))
    stock = [
        lot(1, "FRESH", 40, 10, made_ago=5),
        lot(2, "OLD", 120, 10, made_ago=900),
    ]
    plan = allocate([line(1, 10, DELI), line(2, 10, half_life)], stock)

    assert taken(plan, 1) == [("OLD", 10)]
    assert taken(plan, 2) == [("FRESH", 10)]
    assert plan.shortages == ()


def test_a_line_takes_earliest_lots_first_and_splits_across_lots_and_locations() -> None:
    stock = [
        lot(3, "C", 90, 50),
        lot(1, "A", 30, 4, location=2),
        lot(1, "A", 30, 3, location=1),
        lot(2, "B", 60, 5),
    ]
    plan = allocate([line(1, 15)], stock)

    assert [(a.lot_code, a.location_code, int(a.quantity)) for a in plan.allocations] == [
        ("A", "A-01", 3),
        ("A", "A-02", 4),
        ("B", "A-01", 5),
        ("C", "A-01", 3),
    ]


def test_a_plans_allocations_are_ordinary_frozen_allocation_values() -> None:
    stock = [lot(1, "A", 30, 4, location=2), lot(2, "B", 60, 5)]
    plan = allocate([line(1, 6)], stock)

    first = plan.allocations[0]
    assert type(first) is Allocation
    assert first == Allocation(1, 1, "A", 2, "A-02", Decimal(4))
    assert hash(first) == hash(Allocation(1, 1, "A", 2, "A-02", Decimal(4)))
    assert repr(first) == repr(Allocation(1, 1, "A", 2, "A-02", Decimal(4)))
    with pytest.raises(FrozenInstanceError):
        first.quantity = Decimal(5)  # type: ignore[misc]


def test_a_lines_terms_are_ordinary_frozen_values() -> None:
    rule = CustomerRule(min_remaining_days=30, min_remaining_pct=Decimal("62.5"), transit_days=2)
    terms = line_terms(line(1, 6, rule))

    ship = SHIP.toordinal()
    expected = LineTerms(ship, ship + 2, ship + 32, None, ship + 32, 125, 2)
    assert type(terms) is LineTerms
    assert terms == expected
    assert hash(terms) == hash(expected)
    assert repr(terms) == repr(expected)
    with pytest.raises(FrozenInstanceError):
        terms.floor = 0  # type: ignore[misc]


def test_a_quick_maker_must_take_every_field_of_its_class_in_order_and_its_class_no_checks() -> None:
    """Should a frozen value gain a field or a check, the quick maker that skips its __init__ refuses to run."""

    @dataclass(frozen=True, slots=True)
    class Pair:
        left: int
        right: int

    @dataclass(frozen=True, slots=True)
    class Checked:
        value: int

        def __post_init__(self) -> None:
            if self.value < 0:
                raise ValueError("negative")

    def pair(left: int, right: int) -> Pair:
        made = twin()
        made.left, made.right = left, right
        made.__class__ = Pair
        return made  # type: ignore[no-any-return]

    twin = unfrozen_twin(Pair, pair)
    assert pair(1, 2) == Pair(1, 2) and type(pair(1, 2)) is Pair
    with pytest.raises(TypeError, match="Pair changed"):
        unfrozen_twin(Pair, lambda left: None)
    with pytest.raises(TypeError, match="Pair changed"):
        unfrozen_twin(Pair, lambda right, left: None)
    with pytest.raises(TypeError, match="Checked changed"):
        unfrozen_twin(Checked, lambda value: None)


def test_lines_share_a_wave_and_later_lines_get_what_is_left() -> None:
    stock = [lot(1, "A", 30, 10), lot(2, "B", 60, 10)]
    plan = allocate([line(1, 6), line(2, 6), line(3, 6)], stock)

    assert taken(plan, 1) == [("A", 6)]
    assert taken(plan, 2) == [("A", 4), ("B", 2)]
    assert taken(plan, 3) == [("B", 6)]
    assert plan.total_allocated == 18


def test_lines_are_served_by_ship_date_then_priority_then_entry_order() -> None:
    stock = [lot(1, "A", 100, 10)]
    lines = [
        line(1, 10, ship=day(1), priority=0, sequence=1),
        line(2, 10, ship=SHIP, priority=2, sequence=2),
        line(3, 10, ship=SHIP, priority=1, sequence=4),
        line(4, 10, ship=SHIP, priority=1, sequence=3),
    ]
    plan = allocate(lines, stock)

    assert taken(plan, 4) == [("A", 10)]
    assert [s.line_id for s in plan.shortages] == [3, 2, 1]


def test_lots_without_expiry_go_last_and_suit_every_rule() -> None:
    stock = [lot(1, "NO-DATE", None, 10), lot(2, "DATED", 200, 10)]
    plan = allocate([line(1, 15, BIG_BOX)], stock)

    assert taken(plan, 1) == [("DATED", 10), ("NO-DATE", 5)]


def test_held_and_recalled_lots_are_never_allocated() -> None:
    stock = [
        lot(1, "HELD", 100, 10, status="hold"),
        lot(2, "RECALLED", 100, 10, status="recalled"),
        lot(3, "GOOD", 200, 10),
    ]
    plan = allocate([line(1, 10)], stock)

    assert taken(plan, 1) == [("GOOD", 10)]


def test_no_date_reversal_never_ships_an_earlier_date_than_the_customer_already_has() -> None:
    rule = CustomerRule("Big Box", no_date_reversal=True)
    stock = [lot(1, "EARLY", 60, 10), lot(2, "LATE", 90, 10)]

    plan = allocate([line(1, 10, rule, latest=day(70))], stock)

    assert taken(plan, 1) == [("LATE", 10)]


def test_a_lot_that_would_arrive_expired_is_never_shipped_even_without_a_rule() -> None:
    stock = [lot(1, "GONE", 1, 10), lot(2, "OK", 3, 10)]
    plan = allocate([line(1, 5, CustomerRule("Far Away", transit_days=2))], stock)

    assert taken(plan, 1) == [("OK", 5)]


def test_a_lot_expiring_on_the_day_of_arrival_may_still_ship() -> None:
    assert is_eligible(lot(1, "LAST-DAY", 2, 10), line(1, 1, CustomerRule(transit_days=2)))


def test_quantities_are_exact_decimals() -> None:
    stock = [lot(1, "A", 30, "2.5", unit="kg"), lot(2, "B", 60, "0.75", unit="kg")]
    plan = allocate([line(1, "3.1")], stock)

    assert [a.quantity for a in plan.allocations] == [Decimal("2.5"), Decimal("0.6")]
    assert plan.allocated_for(1) == Decimal("3.1")


# --- lot-count limit --------------------------------------------------------------------------

TWO_LOTS = CustomerRule("Big Box", max_lots_per_line=2)


def test_a_lot_count_limit_takes_the_earliest_lots_when_they_cover_the_line() -> None:
    stock = [lot(1, "A", 10, 30), lot(2, "B", 20, 30), lot(3, "C", 30, 30)]
    plan = allocate([line(1, 50, TWO_LOTS)], stock)

    assert taken(plan, 1) == [("A", 30), ("B", 20)]


def test_a_lot_counts_once_however_many_locations_it_is_picked_from() -> None:
    stock = [
        lot(1, "A", 10, 10, location=1),
        lot(1, "A", 10, 10, location=2),
        lot(2, "B", 20, 10),
        lot(3, "C", 30, 10),
    ]
    plan = allocate([line(1, 30, TWO_LOTS)], stock)

    assert taken(plan, 1) == [("A", 10), ("A", 10), ("B", 10)]
    assert len({a.lot_id for a in plan.allocations}) == 2


def test_a_lot_count_limit_takes_the_earliest_set_of_lots_that_covers_the_line() -> None:
    # A + B hold only 20. The earliest covering pair starts with A (A + D = 55 would do), and
    # after A the earliest lot that completes it is C: A is used up first, as FEFO wants.
    stock = [lot(1, "A", 10, 10), lot(2, "B", 20, 10), lot(3, "C", 30, 45), lot(4, "D", 40, 45)]
    plan = allocate([line(1, 50, TWO_LOTS)], stock)

    assert taken(plan, 1) == [("A", 10), ("C", 40)]
    assert plan.shortages == ()


def test_a_lot_count_limit_that_no_lots_can_meet_takes_the_largest_and_says_why() -> None:
    stock = [lot(1, "A", 10, 15), lot(2, "B", 20, 25), lot(3, "C", 30, 15), lot(4, "D", 40, 10)]
    plan = allocate([line(7, 60, TWO_LOTS)], stock)

    assert taken(plan, 7) == [("A", 15), ("B", 25)]
    (shortage,) = plan.shortages
    assert (shortage.requested, shortage.allocated, shortage.missing) == (60, 40, 20)
    assert shortage.reasons == ("Big Box takes at most 2 lots per line; the 2 largest eligible lots hold 40 ea",)


def test_a_limit_of_one_lot_names_the_single_largest_lot() -> None:
    stock = [lot(1, "A", 10, 15), lot(2, "B", 20, 25)]
    plan = allocate([line(1, 30, replace(TWO_LOTS, max_lots_per_line=1))], stock)

    assert taken(plan, 1) == [("B", 25)]
    assert plan.shortages[0].reasons == ("Big Box takes at most 1 lot per line; the largest eligible lot holds 25 ea",)


def test_a_lot_count_limit_and_too_little_stock_are_both_reported() -> None:
    stock = [lot(1, "A", 10, 15), lot(2, "B", 20, 25), lot(3, "C", 30, 5)]
    plan = allocate([line(1, 60, TWO_LOTS)], stock)

    assert plan.shortages[0].reasons == (
        "Big Box takes at most 2 lots per line; the 2 largest eligible lots hold 40 ea",
        "not enough stock: 60 ea requested, 45 ea available",
    )


# --- what a shortage says ---------------------------------------------------------------------


def test_a_shortage_says_how_much_was_requested_and_available() -> None:
    plan = allocate([line(4, 30)], [lot(1, "261030-A", 40, 12)])

    (shortage,) = plan.shortages
    assert shortage.line_id == 4
    assert (shortage.requested, shortage.allocated, shortage.missing) == (30, 12, 18)
    assert shortage.reasons == ("not enough stock: 30 ea requested, 12 ea available",)


def test_a_shortage_names_each_lot_that_was_not_eligible_and_why() -> None:
    big_box = CustomerRule("Big Box", min_remaining_days=60, transit_days=2)
    stock = [
        StockLot(1, "261030-A", "JAM", date(2026, 12, 10), date(2026, 10, 30), Decimal(12)),
        lot(2, "HELD-1", 400, 5, status="hold"),
        lot(3, "RECALL-1", 400, 7, status="recalled"),
    ]
    plan = allocate([line(1, 30, big_box)], stock)

    assert plan.shortages[0].reasons == (
        "not enough eligible stock for Big Box: 30 ea requested, 0 ea available; 24 ea on hand may not go to them",
        "12 ea of lot 261030-A expire 2026-12-10; Big Box needs ≥ 60 days on arrival "
        "2026-11-25, so expiry ≥ 2027-01-24",
        "5 ea of lot HELD-1 are on hold",
        "7 ea of lot RECALL-1 are recalled",
    )


def test_a_shortage_sums_a_lot_over_its_locations() -> None:
    stock = [lot(1, "A", 10, 4, location=1), lot(1, "A", 10, 5, location=2)]
    plan = allocate([line(1, 5, DELI)], stock)

    assert plan.shortages[0].reasons[1] == (
        "9 ea of lot A expire 2026-12-03; Corner Deli needs ≥ 30 days on arrival 2026-11-23, so expiry ≥ 2026-12-23"
    )


def test_a_shortage_lists_at_most_five_lots_then_counts_the_rest() -> None:
    stock = [lot(n, f"L{n}", n, 1) for n in range(1, 9)]
    reasons = allocate([line(1, 5, DELI)], stock).shortages[0].reasons

    assert len(reasons) == 1 + 5 + 1
    assert reasons[1].startswith("1 ea of lot L1 expire 2026-11-24;")
    assert reasons[-1] == "and 3 more lots not eligible"


def test_a_line_for_a_product_with_no_stock_at_all_is_short_of_everything() -> None:
    plan = allocate([line(1, 30, sku="MARMALADE")], [lot(1, "A", 30, 10)])

    assert plan.shortages[0].reasons == ("not enough stock: 30 requested, none on hand",)
    assert plan.shortages[0].missing == 30


def test_messages_for_each_reason_a_lot_cannot_go() -> None:
    big_box = CustomerRule("Big Box", transit_days=2)
    jam = StockLot(1, "261030-A", "JAM", date(2026, 12, 10), date(2026, 10, 30), Decimal(12))

    def why(rule: CustomerRule, stock: StockLot = jam, **kw: object) -> str:
        found = ineligibility(stock, line(1, 1, rule, **kw))  # type: ignore[arg-type]
        assert found is not None
        return found.message

    assert why(replace(big_box, min_remaining_days=16)) == (
        "12 ea of lot 261030-A expire 2026-12-10; Big Box needs ≥ 16 days on arrival 2026-11-25, so expiry ≥ 2026-12-11"
    )
    assert why(replace(big_box, min_remaining_days=1, transit_days=17)) == (
        "12 ea of lot 261030-A expire 2026-12-10; Big Box needs ≥ 1 day on arrival 2026-12-10, so expiry ≥ 2026-12-11"
    )
    assert why(replace(big_box, min_remaining_pct=Decimal(50))) == (
        "12 ea of lot 261030-A expire 2026-12-10; Big Box needs ≥ 50% of the lot's life left "
        "on arrival 2026-11-25 (made 2026-10-30), so expiry ≥ 2026-12-21"
    )
    assert why(replace(big_box, min_remaining_pct=Decimal(100))) == (
        "12 ea of lot 261030-A expire 2026-12-10; Big Box needs ≥ 100% of the lot's life left "
        "on arrival 2026-11-25 (made 2026-10-30), which no lot made before arrival can have"
    )
    assert why(replace(big_box, no_date_reversal=True), latest=date(2027, 2, 1)) == (
        "12 ea of lot 261030-A expire 2026-12-10; Big Box already received expiry 2027-02-01 "
        "of this product; never ship an earlier date"
    )
    assert why(replace(big_box, transit_days=20)) == (
        "12 ea of lot 261030-A expire 2026-12-10, before they arrive at Big Box on 2026-12-13"
    )
    assert why(big_box, ship=date(2026, 12, 11)) == (
        "12 ea of lot 261030-A expire 2026-12-10, before the ship date 2026-12-11"
    )
    assert why(big_box, replace(jam, status="hold")) == "12 ea of lot 261030-A are on hold"
    assert why(big_box, replace(jam, status="recalled")) == "12 ea of lot 261030-A are recalled"
    assert why(big_box, replace(jam, sku="MARMALADE")) == "lot 261030-A is MARMALADE, not JAM"
    assert why(CustomerRule(min_remaining_days=30)) == (
        "12 ea of lot 261030-A expire 2026-12-10; the customer needs ≥ 30 days on arrival "
        "2026-11-23, so expiry ≥ 2026-12-23"
    )


def test_the_reason_carries_its_kind_and_the_earliest_expiry_that_would_do() -> None:
    rule = CustomerRule("Big Box", min_remaining_days=60, transit_days=2)
    jam = StockLot(1, "261030-A", "JAM", date(2026, 12, 10), date(2026, 10, 30), Decimal(12))
    found = ineligibility(jam, line(1, 1, rule))

    assert found is not None
    assert (found.kind, found.lot_id, found.lot_code) == ("min_days", 1, "261030-A")
    assert found.earliest_expiry == date(2027, 1, 24)
    assert ineligibility(replace(jam, expiry=date(2027, 1, 24)), line(1, 1, rule)) is None


# --- the shared rule, for reports -------------------------------------------------------------


def test_earliest_acceptable_expiry_combines_every_part_of_a_rule() -> None:
    made = date(2026, 11, 1)
    days = CustomerRule("Big Box", min_remaining_days=60, transit_days=2)
    assert earliest_acceptable_expiry(line(1, 1, days), made) == date(2027, 1, 24)
    # 75 % of life left on arrival 2026-11-25 for a lot made 2026-11-01: 24 days used may be at
    # most a quarter of the life, so the life must be ≥ 96 days: expiry ≥ 2027-02-05.
    pct = CustomerRule("Big Box", min_remaining_pct=Decimal(75), transit_days=2)
    assert earliest_acceptable_expiry(line(1, 1, pct), made) == date(2027, 2, 5)
    reversal = CustomerRule("Big Box", no_date_reversal=True)
    assert earliest_acceptable_expiry(line(1, 1, reversal, latest=date(2027, 3, 1)), made) == (date(2027, 3, 1))
    assert earliest_acceptable_expiry(line(1, 1), made) == SHIP
    whole = CustomerRule("Big Box", min_remaining_pct=Decimal(100))
    assert earliest_acceptable_expiry(line(1, 1, whole), made) is None


def test_reports_can_ask_which_customers_could_still_take_a_lot() -> None:
    jam = lot(1, "A", 45, 10)
    customers = {
        "Corner Deli": DELI,
        "Big Box": BIG_BOX,
        "Cafe": CustomerRule("Cafe", min_remaining_pct=Decimal(60)),
    }
    could = sorted(name for name, rule in customers.items() if is_eligible(jam, line(1, 1, rule)))

    assert could == ["Cafe", "Corner Deli"]


def test_fefo_order_is_expiry_then_made_date_then_code_with_undated_lots_last() -> None:
    stock = [
        lot(1, "NONE", None, 1),
        lot(2, "B", 10, 1, made_ago=5),
        lot(3, "A", 10, 1, made_ago=5),
        lot(4, "OLDER", 10, 1, made_ago=9),
        lot(5, "EARLY", 5, 1),
    ]
    assert [s.lot_code for s in sorted(stock, key=fefo_key)] == ["EARLY", "OLDER", "A", "B", "NONE"]


# --- plan and input handling ------------------------------------------------------------------


def test_the_same_wave_in_any_order_gives_the_same_plan() -> None:
    stock = [lot(n, f"L{n}", 10 * n, 7, location=1 + n % 2) for n in range(1, 7)]
    lines = [line(n, 5 + n, DELI if n % 2 else BIG_BOX, priority=n % 3) for n in range(1, 9)]

    assert allocate(lines, stock) == allocate(lines[::-1], stock[::-1])


def test_plan_helpers_answer_per_line() -> None:
    plan = allocate([line(1, 5), line(2, 10)], [lot(1, "A", 30, 8)])

    assert plan.allocated_for(1) == 5
    assert plan.allocated_for(2) == 3
    assert plan.allocated_for(99) == 0
    assert plan.shortage_for(1) is None
    shortage = plan.shortage_for(2)
    assert shortage is not None and shortage.missing == 7
    assert plan.total_allocated == 8
    assert plan.total_missing == 7


def test_a_zero_quantity_line_gets_nothing_and_is_not_short() -> None:
    plan = allocate([line(1, 0)], [lot(1, "A", 30, 8)])
    assert plan.allocations == () and plan.shortages == ()


def test_stock_listed_twice_at_one_location_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        allocate([line(1, 1)], [lot(1, "A", 30, 8), lot(1, "A", 30, 8)])


def test_order_line_ids_must_be_unique() -> None:
    with pytest.raises(ValueError, match="unique"):
        allocate([line(1, 1), line(1, 2)], [lot(1, "A", 30, 8)])


@pytest.mark.parametrize(
    "bad",
    [
        {"min_remaining_days": -1},
        {"min_remaining_pct": Decimal(101)},
        {"min_remaining_pct": Decimal(-1)},
        {"transit_days": -1},
        {"max_lots_per_line": 0},
    ],
)
def test_impossible_customer_rules_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        CustomerRule("Big Box", **bad)  # type: ignore[arg-type]


def test_negative_quantities_and_unknown_statuses_are_refused() -> None:
    with pytest.raises(ValueError):
        line(1, -1)
    with pytest.raises(ValueError):
        lot(1, "A", 30, 1, status="quarantined")


def test_the_allocator_imports_only_the_standard_library() -> None:
    package = Path(__file__).resolve().parents[2] / "allocation"
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top == "allocation" or top in sys.stdlib_module_names, (source, name)

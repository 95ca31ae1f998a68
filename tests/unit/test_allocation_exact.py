"""Exact allocation: maximum fill under every rule, lot limits included, then earliest expiry
first, then serving order — judged against brute force and an independent integer program."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocation import CustomerRule, OrderLine, Plan, StockLot, allocate
from allocation.exact import Problem, _lex_flow_lines, branch_and_bound, lex_flow, solve
from tests.helpers.allocation_oracle import (
    brute_force_key,
    milp_key,
    part_milp_key,
    plan_key,
    quantities_whole,
    rules_broken,
)

BASE = date(2026, 11, 23)
PCTS = tuple(Decimal(p) for p in ("25", "50", "66.7", "75", "90"))

Wave = tuple[list[OrderLine], list[StockLot]]


def taken(plan: Plan, line_id: int) -> list[tuple[str, Decimal]]:
    return [(a.lot_code, a.quantity) for a in plan.allocations_for(line_id)]


# --- the cases the old allocator missed ---------------------------------------------------------


def test_a_lot_limit_that_cannot_bind_does_not_stop_the_wave_from_filling_more() -> None:
    # Line 4 takes at most 5 lots and only T04 suits its 66.7 % rule; line 3 takes anything.
    lots = [
        StockLot(2, "T02", "JAM", date(2024, 6, 5), date(2023, 5, 14), Decimal(27)),
        StockLot(4, "T04", "JAM", date(2024, 5, 5), date(2024, 4, 2), Decimal(2)),
    ]
    shop = CustomerRule("Shop", min_remaining_pct=Decimal("66.7"), max_lots_per_line=5)
    lines = [
        OrderLine(3, "JAM", Decimal(6), date(2024, 4, 11), sequence=3),
        OrderLine(4, "JAM", Decimal(9), date(2024, 4, 11), shop, sequence=4),
    ]

    plan = allocate(lines, lots)

    assert taken(plan, 3) == [("T02", 6)]
    assert taken(plan, 4) == [("T04", 2)]
    assert plan.total_allocated == 8
    (short,) = plan.shortages
    assert (short.line_id, short.allocated, short.missing) == (4, 2, 7)
    # The limit is not what held it back (one lot suits it), so it is not blamed.
    assert not any("at most" in reason for reason in short.reasons)
    assert any("may not go to them" in reason for reason in short.reasons)


def test_an_unlimited_line_moves_to_other_lots_to_make_room_for_a_one_lot_line() -> None:
    lots = [
        StockLot(1, "E01", "JAM", date(2027, 9, 30), date(2026, 9, 1), Decimal(6)),
        StockLot(2, "E02", "JAM", date(2027, 10, 31), date(2026, 10, 1), Decimal(2)),
        StockLot(3, "E03", "JAM", date(2027, 11, 30), date(2026, 11, 1), Decimal(2)),
    ]
    lines = [
        OrderLine(1, "JAM", Decimal(4), BASE, sequence=1),
        OrderLine(2, "JAM", Decimal(6), BASE, CustomerRule("One Lot Ltd", max_lots_per_line=1), sequence=2),
    ]

    plan = allocate(lines, lots)

    assert plan.total_allocated == 10
    assert taken(plan, 1) == [("E02", 2), ("E03", 2)]
    assert taken(plan, 2) == [("E01", 6)]
    assert plan.shortages == ()


def test_a_line_moves_to_a_later_lot_so_a_picky_line_leaves_the_latest_lot_behind() -> None:
    # B is old stock (made long ago), so the 50 % customer may not have it; A and C suit both.
    lots = [
        StockLot(1, "A", "JAM", BASE + timedelta(days=10), BASE - timedelta(days=2), Decimal(5)),
        StockLot(2, "B", "JAM", BASE + timedelta(days=20), BASE - timedelta(days=60), Decimal(5)),
        StockLot(3, "C", "JAM", BASE + timedelta(days=30), BASE - timedelta(days=2), Decimal(5)),
    ]
    picky = CustomerRule("Half Life Ltd", min_remaining_pct=Decimal(50))
    lines = [
        OrderLine(1, "JAM", Decimal(5), BASE, sequence=1),
        OrderLine(2, "JAM", Decimal(5), BASE, picky, sequence=2),
    ]

    plan = allocate(lines, lots)

    # Served in order, line 1 would take A and line 2 then C; swapping A for B keeps C, the
    # latest lot, in stock.
    assert taken(plan, 1) == [("B", 5)]
    assert taken(plan, 2) == [("A", 5)]
    assert plan.shortages == ()


def test_one_lot_lines_take_the_lots_only_they_can_use_whole_and_others_the_small_lots() -> None:
    # Only F covers the first one-lot line and only E the second; the unlimited line fits in
    # the small early lots, so every unit ships and each one-lot line gets its one lot.
    lots = [
        StockLot(1, "A", "JAM", BASE + timedelta(days=30), BASE, Decimal(4)),
        StockLot(2, "B", "JAM", BASE + timedelta(days=40), BASE, Decimal(6)),
        StockLot(3, "C", "JAM", BASE + timedelta(days=50), BASE, Decimal(5)),
        StockLot(4, "D", "JAM", BASE + timedelta(days=60), BASE, Decimal(3)),
        StockLot(5, "E", "JAM", BASE + timedelta(days=70), BASE, Decimal(9)),
        StockLot(6, "F", "JAM", BASE + timedelta(days=80), BASE, Decimal(12)),
    ]
    one_lot = CustomerRule("One Lot Ltd", max_lots_per_line=1)
    lines = [
        OrderLine(1, "JAM", Decimal(12), BASE, one_lot, sequence=1),
        OrderLine(2, "JAM", Decimal(9), BASE, one_lot, sequence=2),
        OrderLine(3, "JAM", Decimal(18), BASE, sequence=3),
    ]

    plan = allocate(lines, lots)

    assert taken(plan, 1) == [("F", 12)]
    assert taken(plan, 2) == [("E", 9)]
    assert taken(plan, 3) == [("A", 4), ("B", 6), ("C", 5), ("D", 3)]
    assert plan.shortages == ()
    assert plan_key(plan, lines, lots) == milp_key(lines, lots)


def test_among_full_fills_the_dated_lot_ships_before_undated_stock() -> None:
    # Old dated lot D suits only the deli (no percentage rule); the fresh lot F suits both; the
    # undated lot U suits both. Filling both lines from F and U would leave D behind.
    lots = [
        StockLot(1, "D", "JAM", BASE + timedelta(days=20), BASE - timedelta(days=200), Decimal(5)),
        StockLot(2, "F", "JAM", BASE + timedelta(days=10), BASE - timedelta(days=2), Decimal(5)),
        StockLot(3, "U", "JAM", None, BASE - timedelta(days=30), Decimal(5)),
    ]
    lines = [
        OrderLine(1, "JAM", Decimal(5), BASE, sequence=1),
        OrderLine(2, "JAM", Decimal(5), BASE, CustomerRule("Picky", min_remaining_pct=Decimal(50)), sequence=2),
    ]

    plan = allocate(lines, lots)

    assert taken(plan, 1) == [("D", 5)]
    assert taken(plan, 2) == [("F", 5)]


def test_a_limited_line_with_fractional_quantities_is_planned_exactly() -> None:
    lots = [
        StockLot(1, "K1", "FLOUR", BASE + timedelta(days=30), BASE, Decimal("2.25"), unit="kg"),
        StockLot(2, "K2", "FLOUR", BASE + timedelta(days=40), BASE, Decimal("0.5"), unit="kg"),
        StockLot(3, "K3", "FLOUR", BASE + timedelta(days=50), BASE, Decimal("1.75"), unit="kg"),
    ]
    lines = [
        OrderLine(1, "FLOUR", Decimal("1.5"), BASE, sequence=1),
        OrderLine(2, "FLOUR", Decimal("2.25"), BASE, CustomerRule("Bakery", max_lots_per_line=1), sequence=2),
    ]

    plan = allocate(lines, lots)

    assert plan.total_allocated == Decimal("3.75")
    assert taken(plan, 2) == [("K1", Decimal("2.25"))]
    assert taken(plan, 1) == [("K2", Decimal("0.5")), ("K3", Decimal("1"))]
    assert rules_broken(plan, lines, lots) == []


def test_a_limited_line_others_crowd_out_still_says_why_it_is_short() -> None:
    lots = [
        StockLot(1, "A", "JAM", BASE + timedelta(days=30), BASE, Decimal(10)),
        StockLot(2, "B", "JAM", BASE + timedelta(days=40), BASE, Decimal(10)),
    ]
    lines = [
        OrderLine(1, "JAM", Decimal(15), BASE, sequence=1),
        OrderLine(2, "JAM", Decimal(10), BASE, CustomerRule("One Lot Ltd", max_lots_per_line=1), sequence=2),
    ]

    plan = allocate(lines, lots)

    assert plan.total_allocated == 20
    (short,) = plan.shortages
    assert short.line_id == 2 and short.allocated == 5
    assert short.reasons and all(short.reasons)


# --- against exact oracles on random waves ------------------------------------------------------


@st.composite
def waves(draw: st.DrawFn, most_lines: int, most_lots: int, most_qty: int, fractions: bool = False) -> Wave:
    """One sku (so lines compete), crossing percentage rules, lot limits, no-date-reversal, holds."""
    step = Decimal("0.5") if fractions and draw(st.booleans()) else Decimal(1)
    lots: list[StockLot] = []
    for lot_id in range(1, draw(st.integers(1, most_lots)) + 1):
        expires = draw(st.none() | st.integers(0, 60))
        status = draw(st.sampled_from(("released",) * 5 + ("hold", "recalled")))
        made = BASE - timedelta(days=draw(st.integers(0, 150)))
        for place in range(1, draw(st.integers(1, 2)) + 1):
            if len(lots) == most_lots:
                break
            lots.append(
                StockLot(
                    lot_id=lot_id,
                    lot_code=f"L{lot_id}",
                    sku="JAM",
                    expiry=None if expires is None else BASE + timedelta(days=expires),
                    made_on=made,
                    available=step * draw(st.integers(0, most_qty)),
                    location_id=place,
                    location_code=f"A-{place:02d}",
                    status=status,
                )
            )
        if len(lots) == most_lots:
            break
    lines = [
        OrderLine(
            line_id=line_id,
            sku="JAM",
            quantity=step * draw(st.integers(0, most_qty + 2)),
            ship_date=BASE + timedelta(days=draw(st.integers(0, 3))),
            rule=CustomerRule(
                min_remaining_days=draw(st.none() | st.integers(0, 20)),
                min_remaining_pct=draw(st.none() | st.sampled_from(PCTS)),
                transit_days=draw(st.integers(0, 2)),
                max_lots_per_line=draw(st.none() | st.integers(1, 2)),
                no_date_reversal=draw(st.booleans()),
            ),
            priority=draw(st.integers(0, 1)),
            sequence=line_id,
            latest_shipped_expiry=draw(st.none() | st.integers(0, 40).map(lambda d: BASE + timedelta(days=d))),
        )
        for line_id in range(1, draw(st.integers(1, most_lines)) + 1)
    ]
    return lines, lots


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(waves(most_lines=3, most_lots=3, most_qty=3))
def test_tiny_waves_reach_the_best_plan_any_allocation_could(wave: Wave) -> None:
    lines, lots = wave
    plan = allocate(lines, lots)

    assert rules_broken(plan, lines, lots) == []
    assert plan_key(plan, lines, lots) == brute_force_key(lines, lots)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(waves(most_lines=6, most_lots=6, most_qty=10, fractions=True))
def test_small_waves_reach_the_best_plan_an_integer_program_finds(wave: Wave) -> None:
    lines, lots = wave
    plan = allocate(lines, lots)

    assert rules_broken(plan, lines, lots) == []
    assert plan_key(plan, lines, lots) == milp_key(lines, lots)


@settings(max_examples=30, deadline=None)
@given(waves(most_lines=3, most_lots=3, most_qty=3))
def test_the_two_oracles_agree(wave: Wave) -> None:
    lines, lots = wave
    if quantities_whole(lines, lots):
        assert brute_force_key(lines, lots) == milp_key(lines, lots)


@settings(max_examples=100, deadline=None)
@given(waves(most_lines=6, most_lots=6, most_qty=10))
def test_every_short_line_says_why(wave: Wave) -> None:
    lines, lots = wave
    plan = allocate(lines, lots)
    for line in lines:
        got = plan.allocated_for(line.line_id)
        short = plan.shortage_for(line.line_id)
        if got < line.quantity:
            assert short is not None and short.missing == line.quantity - got
            assert short.reasons and all(short.reasons)
        else:
            assert short is None


# --- the exact method on its own -----------------------------------------------------------------


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    """A part of a wave in whole units: lines in serving order, entries in FEFO order, lots
    spread over entries, each line with its own eligible entries and perhaps a lot limit."""
    entries = draw(st.integers(1, 4))
    lot = sorted(draw(st.lists(st.integers(0, 2), min_size=entries, max_size=entries)))
    cls = sorted(draw(st.lists(st.integers(0, 2), min_size=entries, max_size=entries)))
    classes = {c: k for k, c in enumerate(sorted(set(cls)))}
    lines = draw(st.integers(1, 3))
    return Problem(
        demand=draw(st.lists(st.integers(0, 4), min_size=lines, max_size=lines)),
        limit=draw(st.lists(st.none() | st.integers(1, 2), min_size=lines, max_size=lines)),
        eligible=[sorted(draw(st.sets(st.integers(0, entries - 1)))) for _ in range(lines)],
        avail=draw(st.lists(st.integers(0, 3), min_size=entries, max_size=entries)),
        cls=[classes[c] for c in cls],
        lot=lot,
    )


def best_key_by_enumeration(p: Problem) -> tuple[int, ...]:
    """The best key over every whole-unit flow that keeps every rule of the part."""
    edges = [(i, j) for i in range(len(p.demand)) for j in p.eligible[i]]
    best: tuple[int, ...] | None = None

    def walk(k: int, flow: list[dict[int, int]]) -> None:
        nonlocal best
        if k == len(edges):
            if p.feasible(flow):
                key = p.key(flow)
                best = key if best is None or key < best else best
            return
        i, j = edges[k]
        for units in range(min(p.demand[i], p.avail[j]) + 1):
            if units:
                flow[i][j] = units
            walk(k + 1, flow)
            flow[i].pop(j, None)

    walk(0, [{} for _ in p.demand])
    assert best is not None
    return best


@settings(max_examples=300, deadline=None)
@given(problems())
def test_the_search_alone_finds_the_best_flow_of_a_part(p: Problem) -> None:
    # No served plan to start from: the relaxation, its repairs and the search must find it.
    best = best_key_by_enumeration(p)
    found = solve(p)
    assert p.feasible(found) and p.key(found) == best
    searched = branch_and_bound(p)
    assert p.feasible(searched) and p.key(searched) == best


@settings(max_examples=300, deadline=None)
@given(problems().map(lambda p: Problem(p.demand, [None] * len(p.demand), p.eligible, p.avail, p.cls, p.lot)))
def test_without_lot_limits_one_flow_is_the_best(p: Problem) -> None:
    flow = lex_flow(p.demand, p.eligible, p.avail, p.cls)
    assert p.feasible(flow) and p.key(flow) == best_key_by_enumeration(p)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(waves(most_lines=10, most_lots=12, most_qty=12))
def test_larger_waves_that_need_the_search_reach_the_integer_programs_best(wave: Wave) -> None:
    lines, lots = wave
    plan = allocate(lines, lots)

    assert rules_broken(plan, lines, lots) == []
    assert plan_key(plan, lines, lots) == milp_key(lines, lots)


@st.composite
def larger_problems(draw: st.DrawFn) -> Problem:
    """Parts with room for rerouting: up to 7 lines and 9 entries over 6 lots and 4 classes."""
    entries = draw(st.integers(1, 9))
    lot = sorted(draw(st.lists(st.integers(0, 5), min_size=entries, max_size=entries)))
    cls = sorted(draw(st.lists(st.integers(0, 3), min_size=entries, max_size=entries)))
    classes = {c: k for k, c in enumerate(sorted(set(cls)))}
    lines = draw(st.integers(1, 7))
    return Problem(
        demand=draw(st.lists(st.integers(0, 12), min_size=lines, max_size=lines)),
        limit=draw(st.lists(st.none() | st.integers(1, 3), min_size=lines, max_size=lines)),
        eligible=[sorted(draw(st.sets(st.integers(0, entries - 1)))) for _ in range(lines)],
        avail=draw(st.lists(st.integers(0, 9), min_size=entries, max_size=entries)),
        cls=[classes[c] for c in cls],
        lot=lot,
    )


def milp_of(p: Problem) -> tuple[int, ...]:
    return part_milp_key(p.demand, p.limit, p.eligible, p.avail, p.cls, p.lot)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(larger_problems())
def test_larger_parts_reach_the_integer_programs_best_with_or_without_the_search_s_helpers(p: Problem) -> None:
    best = milp_of(p)
    found = solve(p)
    assert p.feasible(found) and p.key(found) == best
    # A line without a limit holds no entry while an earlier one it may use is left over.
    left = list(p.avail)
    for held in found:
        for j, units in held.items():
            left[j] -= units
    for i, held in enumerate(found):
        if p.limit[i] is None:
            assert not [(x, y) for y in held for x in p.eligible[i] if x < y and left[x]], (i, held, left)
    searched = branch_and_bound(p)  # the search alone, from nothing
    assert p.feasible(searched) and p.key(searched) == best


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(larger_problems().map(lambda p: Problem(p.demand, [None] * len(p.demand), p.eligible, p.avail, p.cls, p.lot)))
def test_without_lot_limits_one_flow_of_a_larger_part_is_the_best(p: Problem) -> None:
    flow = lex_flow(p.demand, p.eligible, p.avail, p.cls)
    assert p.feasible(flow) and p.key(flow) == milp_of(p)


@st.composite
def crowded_problems(draw: st.DrawFn) -> Problem:
    """Parts of a busy sku: 65-120 lines (enough to be planned in groups) sharing a few
    eligible lists, as lines of one rule and ship date do."""
    entries = draw(st.integers(1, 8))
    cls = sorted(draw(st.lists(st.integers(0, 3), min_size=entries, max_size=entries)))
    classes = {c: k for k, c in enumerate(sorted(set(cls)))}
    lists = [sorted(draw(st.sets(st.integers(0, entries - 1), min_size=1))) for _ in range(draw(st.integers(1, 5)))]
    lines = draw(st.integers(65, 120))
    return Problem(
        demand=draw(st.lists(st.integers(0, 9), min_size=lines, max_size=lines)),
        limit=[None] * lines,
        eligible=[lists[draw(st.integers(0, len(lists) - 1))] for _ in range(lines)],
        avail=draw(st.lists(st.integers(0, 80), min_size=entries, max_size=entries)),
        cls=[classes[c] for c in cls],
        lot=list(range(entries)),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(crowded_problems())
def test_lines_sharing_their_stock_are_planned_in_groups_as_well_as_one_by_one(p: Problem) -> None:
    grouped = lex_flow(p.demand, p.eligible, p.avail, p.cls)
    assert p.feasible(grouped)
    assert p.key(grouped) == p.key(_lex_flow_lines(p.demand, p.eligible, p.avail, p.cls))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(crowded_problems())
def test_a_crowded_part_is_planned_as_well_as_an_integer_program_can(p: Problem) -> None:
    grouped = lex_flow(p.demand, p.eligible, p.avail, p.cls)
    assert p.key(grouped) == milp_of(p)

"""Allocator properties on random small waves, judged against an exact max-flow solver."""

from __future__ import annotations

import random
from collections import defaultdict, deque
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from allocation import (
    CustomerRule,
    OrderLine,
    Plan,
    StockLot,
    allocate,
    earliest_acceptable_expiry,
    fefo_key,
    ineligibility,
    is_eligible,
    last_ship_day,
    serve_key,
)
from tests.helpers.allocation_oracle import reference_eligible

BASE = date(2026, 11, 23)
SKUS = ("JAM", "MARMALADE")
PCTS = tuple(Decimal(p) for p in ("0", "10", "25", "33", "50", "66.5", "75", "90", "100"))

Wave = tuple[list[OrderLine], list[StockLot]]


def max_flow(lines: list[OrderLine], lots: list[StockLot]) -> int:
    """Edmonds-Karp over integer quantities: the most any allocation could fill."""
    source, sink = 0, 1 + len(lines) + len(lots)
    cap: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for i, line in enumerate(lines, start=1):
        cap[source][i] += int(line.quantity)
        for j, lot in enumerate(lots, start=1 + len(lines)):
            if reference_eligible(lot, line):
                cap[i][j] += int(line.quantity)
    for j, lot in enumerate(lots, start=1 + len(lines)):
        cap[j][sink] += int(lot.available)
    total = 0
    while True:
        parent = {source: source}
        queue = deque([source])
        while queue and sink not in parent:
            u = queue.popleft()
            for v, c in cap[u].items():
                if c > 0 and v not in parent:
                    parent[v] = u
                    queue.append(v)
        if sink not in parent:
            return total
        path = []
        v = sink
        while v != source:
            path.append((parent[v], v))
            v = parent[v]
        push = min(cap[u][v] for u, v in path)
        for u, v in path:
            cap[u][v] -= push
            cap[v][u] += push
        total += push


@st.composite
def rules(draw: st.DrawFn, limits: bool) -> CustomerRule:
    return CustomerRule(
        customer_name=draw(st.sampled_from(("Corner Deli", "Big Box", ""))),
        min_remaining_days=draw(st.none() | st.integers(0, 40)),
        min_remaining_pct=draw(st.none() | st.sampled_from(PCTS)),
        transit_days=draw(st.integers(0, 5)),
        max_lots_per_line=draw(st.none() | st.integers(1, 3)) if limits else None,
        no_date_reversal=draw(st.booleans()),
    )


@st.composite
def waves(draw: st.DrawFn, limits: bool = False, most: int = 7) -> Wave:
    # Mostly one sku, so that lines compete for the same lots.
    skus = st.sampled_from(SKUS[:1] * 4 + SKUS[1:])
    lots: list[StockLot] = []
    for lot_id in range(1, draw(st.integers(0, most)) + 1):
        sku = draw(skus)
        made = BASE - timedelta(days=draw(st.integers(0, 200)))
        expires = draw(st.none() | st.integers(-5, 90))
        status = draw(st.sampled_from(("released",) * 4 + ("hold", "recalled")))
        for place in range(1, draw(st.integers(1, 2)) + 1):
            lots.append(
                StockLot(
                    lot_id=lot_id,
                    lot_code=f"L{lot_id}",
                    sku=sku,
                    expiry=None if expires is None else BASE + timedelta(days=expires),
                    made_on=made,
                    available=Decimal(draw(st.integers(0, 12))),
                    location_id=place,
                    location_code=f"A-{place:02d}",
                    status=status,
                )
            )
    lines = [
        OrderLine(
            line_id=line_id,
            sku=draw(skus),
            quantity=Decimal(draw(st.integers(0, 20))),
            ship_date=BASE + timedelta(days=draw(st.integers(0, 6))),
            rule=draw(rules(limits)),
            priority=draw(st.integers(0, 2)),
            sequence=draw(st.integers(0, 5)),
            latest_shipped_expiry=draw(st.none() | st.integers(0, 60).map(lambda d: BASE + timedelta(days=d))),
        )
        for line_id in range(1, draw(st.integers(0, most)) + 1)
    ]
    return lines, lots


@st.composite
def contended_waves(draw: st.DrawFn) -> Wave:
    """One sku, dated released lots of mixed age, and lines competing for them.

    Percentage rules make a fresh short-life lot acceptable where an old long-life one is not,
    so the earliest lot is often the one a later line cannot do without.
    """
    lots = [
        StockLot(
            lot_id=lot_id,
            lot_code=f"L{lot_id}",
            sku="JAM",
            expiry=BASE + timedelta(days=draw(st.integers(0, 90))),
            made_on=BASE - timedelta(days=draw(st.integers(0, 200))),
            available=Decimal(draw(st.integers(1, 12))),
        )
        for lot_id in range(1, draw(st.integers(1, 6)) + 1)
    ]
    lines = [
        OrderLine(
            line_id=line_id,
            sku="JAM",
            quantity=Decimal(draw(st.integers(1, 20))),
            ship_date=BASE + timedelta(days=draw(st.integers(0, 3))),
            rule=CustomerRule(
                min_remaining_days=draw(st.sampled_from((None, 10, 30))),
                min_remaining_pct=draw(st.sampled_from((None, Decimal(50), Decimal(75)))),
            ),
            sequence=line_id,
        )
        for line_id in range(1, draw(st.integers(1, 7)) + 1)
    ]
    return lines, lots


def leftovers(plan: Plan, lots: list[StockLot]) -> dict[tuple[int, int], Decimal]:
    left = {(s.lot_id, s.location_id): s.available for s in lots}
    for a in plan.allocations:
        left[(a.lot_id, a.location_id)] -= a.quantity
    return left


def stock_of(lots: list[StockLot]) -> dict[tuple[int, int], StockLot]:
    return {(s.lot_id, s.location_id): s for s in lots}


@settings(deadline=None)
@given(waves(limits=True))
def test_no_lot_gives_more_than_it_has_and_no_line_gets_more_than_it_asked(wave: Wave) -> None:
    lines, lots = wave
    plan = allocate(lines, lots)

    assert all(a.quantity > 0 for a in plan.allocations)
    assert all(v >= 0 for v in leftovers(plan, lots).values())
    for line in lines:
        assert plan.allocated_for(line.line_id) <= line.quantity


@settings(deadline=None)
@given(waves(limits=True))
def test_every_allocated_lot_is_eligible_for_its_line(wave: Wave) -> None:
    lines, lots = wave
    by_id = {line.line_id: line for line in lines}
    stock = stock_of(lots)
    for a in allocate(lines, lots).allocations:
        lot, line = stock[(a.lot_id, a.location_id)], by_id[a.line_id]
        assert reference_eligible(lot, line)
        assert is_eligible(lot, line)
        assert a.lot_code == lot.lot_code and a.location_code == lot.location_code


@settings(deadline=None)
@given(waves(limits=True))
def test_a_lot_count_limit_is_never_exceeded(wave: Wave) -> None:
    lines, lots = wave
    plan = allocate(lines, lots)
    for line in lines:
        limit = line.rule.max_lots_per_line
        if limit is not None:
            assert len({a.lot_id for a in plan.allocations_for(line.line_id)}) <= limit


@settings(max_examples=150, deadline=None)
@given(waves() | contended_waves())
def test_each_line_holds_the_earliest_stock_it_could(wave: Wave) -> None:
    # No line holds a lot while an earlier lot it may have is left over in the same wave.
    lines, lots = wave
    plan = allocate(lines, lots)
    left = leftovers(plan, lots)
    stock = stock_of(lots)
    for line in lines:
        for a in plan.allocations_for(line.line_id):
            held = fefo_key(stock[(a.lot_id, a.location_id)])
            for key, lot in stock.items():
                if fefo_key(lot) < held and left[key] > 0:
                    assert not reference_eligible(lot, line), (line.line_id, lot.lot_code)


@settings(deadline=None)
@given(waves(limits=True))
def test_allocations_of_a_line_come_in_fefo_order(wave: Wave) -> None:
    lines, lots = wave
    plan = allocate(lines, lots)
    stock = stock_of(lots)
    for line in lines:
        keys = [fefo_key(stock[(a.lot_id, a.location_id)]) for a in plan.allocations_for(line.line_id)]
        assert keys == sorted(keys)


@settings(deadline=None)
@given(waves(limits=True) | contended_waves())
def test_the_plan_lists_lines_in_serving_order_each_line_together(wave: Wave) -> None:
    lines, lots = wave
    plan = allocate(lines, lots)
    runs = [a.line_id for k, a in enumerate(plan.allocations) if k == 0 or plan.allocations[k - 1].line_id != a.line_id]
    served = [line.line_id for line in sorted(lines, key=serve_key) if plan.allocated_for(line.line_id)]
    assert runs == served
    assert [s.line_id for s in plan.shortages] == [
        line.line_id for line in sorted(lines, key=serve_key) if line.line_id in {s.line_id for s in plan.shortages}
    ]


@settings(deadline=None)
@given(waves(limits=True), st.randoms(use_true_random=False))
def test_the_same_wave_in_any_order_gives_the_same_plan(wave: Wave, rnd: random.Random) -> None:
    lines, lots = wave
    shuffled_lines, shuffled_lots = lines[:], lots[:]
    rnd.shuffle(shuffled_lines)
    rnd.shuffle(shuffled_lots)

    assert allocate(shuffled_lines, shuffled_lots) == allocate(lines, lots)


@settings(max_examples=300, deadline=None)
@given(waves(most=8) | contended_waves())
def test_the_wave_fills_as_much_as_an_exact_solver(wave: Wave) -> None:
    lines, lots = wave
    assert allocate(lines, lots).total_allocated == max_flow(lines, lots)


@settings(max_examples=150, deadline=None)
@given(waves() | contended_waves())
def test_no_line_is_shorted_to_fill_a_line_served_after_it(wave: Wave) -> None:
    # Every head of the serving order is filled as fully as those lines alone could be.
    lines, lots = wave
    plan = allocate(lines, lots)
    ordered = sorted(lines, key=serve_key)
    filled = Decimal(0)
    for k, line in enumerate(ordered, start=1):
        filled += plan.allocated_for(line.line_id)
        assert filled == max_flow(ordered[:k], lots)


@settings(deadline=None)
@given(waves(limits=True))
def test_every_short_line_has_a_shortage_that_adds_up_and_says_why(wave: Wave) -> None:
    lines, lots = wave
    plan = allocate(lines, lots)
    short = {s.line_id: s for s in plan.shortages}
    for line in lines:
        got = plan.allocated_for(line.line_id)
        if got < line.quantity:
            s = short.pop(line.line_id)
            assert (s.requested, s.allocated, s.missing) == (line.quantity, got, line.quantity - got)
            assert s.reasons and all(s.reasons)
    assert short == {}


@settings(deadline=None)
@given(waves(most=6), st.integers(1, 3))
def test_a_limited_line_takes_the_fefo_earliest_set_of_lots_that_covers_it(wave: Wave, limit: int) -> None:
    # Against brute force over every set of at most `limit` lots, for the first line served.
    lines, lots = wave
    if not lines:
        return
    first = sorted(lines, key=serve_key)[0]
    line = replace(first, rule=replace(first.rule, max_lots_per_line=limit))
    usable: dict[int, Decimal] = {}
    for lot in sorted(lots, key=fefo_key):
        if lot.available > 0 and reference_eligible(lot, line):
            usable[lot.lot_id] = usable.get(lot.lot_id, Decimal(0)) + lot.available
    order = list(usable)  # lot ids in FEFO order
    sets = [c for size in range(1, limit + 1) for c in combinations(range(len(order)), size)]
    covering = [c for c in sets if sum(usable[order[k]] for k in c) >= line.quantity]
    if covering:
        best = min(covering)
        expected_total = line.quantity
    else:
        best = tuple(sorted(sorted(range(len(order)), key=lambda k: (-usable[order[k]], k))[:limit]))
        expected_total = sum((usable[order[k]] for k in best), Decimal(0))

    plan = allocate([line], lots)

    got = {a.lot_id for a in plan.allocations}
    assert plan.total_allocated == (expected_total if line.quantity else 0)
    if line.quantity:
        assert got == {order[k] for k in best}


@st.composite
def lot_and_line(draw: st.DrawFn) -> tuple[StockLot, OrderLine]:
    line = OrderLine(
        line_id=1,
        sku="JAM",
        quantity=Decimal(1),
        ship_date=BASE + timedelta(days=draw(st.integers(0, 6))),
        rule=draw(rules(limits=False)),
        latest_shipped_expiry=draw(st.none() | st.integers(0, 400).map(lambda d: BASE + timedelta(days=d))),
    )
    expires = draw(st.none() | st.integers(-10, 400))
    lot = StockLot(
        lot_id=1,
        lot_code="L1",
        sku=draw(st.sampled_from(SKUS)),
        expiry=None if expires is None else BASE + timedelta(days=expires),
        made_on=BASE + timedelta(days=draw(st.integers(-400, 30))),
        available=Decimal(draw(st.integers(0, 50))),
        status=draw(st.sampled_from(("released", "released", "hold", "recalled"))),
    )
    return lot, line


@settings(max_examples=300, deadline=None)
@given(lot_and_line())
def test_the_eligibility_rule_is_the_one_design_describes(pair: tuple[StockLot, OrderLine]) -> None:
    lot, line = pair
    eligible = reference_eligible(lot, line)

    assert is_eligible(lot, line) == eligible
    why = ineligibility(lot, line)
    assert (why is None) == eligible
    if why is not None:
        assert why.message and why.lot_code == "L1"


@settings(max_examples=300, deadline=None)
@given(lot_and_line())
def test_the_earliest_acceptable_expiry_is_exactly_the_boundary(
    pair: tuple[StockLot, OrderLine],
) -> None:
    lot, line = pair
    if lot.expiry is None or lot.status != "released" or lot.sku != line.sku:
        return
    earliest = earliest_acceptable_expiry(line, lot.made_on)
    assert reference_eligible(lot, line) == (earliest is not None and lot.expiry >= earliest)


@settings(max_examples=300, deadline=None)
@given(lot_and_line())
def test_the_last_ship_day_is_the_last_day_the_rule_still_accepts_the_lot(pair: tuple[StockLot, OrderLine]) -> None:
    lot, line = pair
    last = last_ship_day(lot, line)
    if lot.expiry is None or not reference_eligible(lot, line):
        assert last is None
        return
    assert last is not None and line.ship_date <= last <= lot.expiry
    assert reference_eligible(lot, replace(line, ship_date=last))
    assert not reference_eligible(lot, replace(line, ship_date=last + timedelta(days=1)))

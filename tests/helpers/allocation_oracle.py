"""Exact oracles for the allocator: brute force for tiny waves, an integer program for small ones.

Both judge a plan by the allocator's stated goal, written out independently here:
  1. the most units allocated over the wave;
  2. then the fewest units of the latest expiry class (undated stock is the latest), then of the
     next latest, down to the earliest;
  3. then the lines' fills in serving order, the first line as full as possible, then the next.
`plan_key` turns a plan into that goal as a tuple (smaller is better); the oracles return the
best tuple any plan can reach.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from allocation import CustomerRule, OrderLine, Plan, StockLot, serve_key

Key = tuple[Fraction, ...]


def reference_eligible(lot: StockLot, line: OrderLine) -> bool:
    """DESIGN.md's eligibility rule, written out plainly with fractions."""
    if lot.sku != line.sku or lot.status != "released":
        return False
    if lot.expiry is None:
        return True
    rule = line.rule
    arrival = line.ship_date + timedelta(days=rule.transit_days)
    left = (lot.expiry - arrival).days
    if lot.expiry < line.ship_date or left < 0:
        return False
    if rule.min_remaining_days is not None and left < rule.min_remaining_days:
        return False
    if rule.min_remaining_pct:
        life = (lot.expiry - lot.made_on).days
        if life <= 0 or Fraction(left, life) < Fraction(rule.min_remaining_pct) / 100:
            return False
    latest = line.latest_shipped_expiry
    return not (rule.no_date_reversal and latest is not None and lot.expiry < latest)


def _classes(lots: list[StockLot]) -> list[date | None]:
    """Expiry classes, latest first: undated, then the latest date, down to the earliest."""
    dated = sorted({lot.expiry for lot in lots if lot.expiry is not None}, reverse=True)
    return [None, *dated]


def plan_key(plan: Plan, lines: list[OrderLine], lots: list[StockLot]) -> Key:
    stock = {(s.lot_id, s.location_id): s for s in lots}
    used: dict[date | None, Fraction] = {}
    for a in plan.allocations:
        expiry = stock[(a.lot_id, a.location_id)].expiry
        used[expiry] = used.get(expiry, Fraction(0)) + Fraction(a.quantity)
    total = sum(used.values(), Fraction(0))
    fills = [-Fraction(plan.allocated_for(line.line_id)) for line in sorted(lines, key=serve_key)]
    return (-total, *(used.get(c, Fraction(0)) for c in _classes(lots)), *fills)


def rules_broken(plan: Plan, lines: list[OrderLine], lots: list[StockLot]) -> list[str]:
    """Every rule the plan breaks, in words (empty when it keeps them all)."""
    broken = []
    by_id = {line.line_id: line for line in lines}
    stock = {(s.lot_id, s.location_id): s for s in lots}
    left = {key: s.available for key, s in stock.items()}
    for a in plan.allocations:
        lot, line = stock[(a.lot_id, a.location_id)], by_id[a.line_id]
        if a.quantity <= 0:
            broken.append(f"line {line.line_id}: non-positive quantity")
        if not reference_eligible(lot, line):
            broken.append(f"line {line.line_id}: lot {lot.lot_code} not eligible")
        left[(a.lot_id, a.location_id)] -= a.quantity
    broken += [f"lot {stock[k].lot_code} over-allocated" for k, v in left.items() if v < 0]
    for line in lines:
        if plan.allocated_for(line.line_id) > line.quantity:
            broken.append(f"line {line.line_id}: more than ordered")
        limit = line.rule.max_lots_per_line
        if limit is not None and len({a.lot_id for a in plan.allocations_for(line.line_id)}) > limit:
            broken.append(f"line {line.line_id}: more than {limit} lots")
    return broken


def _edges(lines: list[OrderLine], lots: list[StockLot]) -> list[tuple[int, int]]:
    return [
        (i, j)
        for i, line in enumerate(lines)
        for j, lot in enumerate(lots)
        if lot.available > 0 and line.quantity > 0 and reference_eligible(lot, line)
    ]


def brute_force_key(lines: list[OrderLine], lots: list[StockLot]) -> Key:
    """The best key over every whole-unit allocation (tiny waves with whole quantities only)."""
    ordered = sorted(lines, key=serve_key)
    edges = _edges(ordered, lots)
    classes = _classes(lots)
    best: Key | None = None

    def plans(k: int, left: list[int], got: list[int], taken: list[dict[int, int]]) -> Iterator[None]:
        if k == len(edges):
            yield None
            return
        i, j = edges[k]
        room = min(left[j], int(ordered[i].quantity) - got[i])
        for units in range(room + 1):
            if units:
                limit = ordered[i].rule.max_lots_per_line
                lot_ids = {lots[x].lot_id for x in taken[i]} | {lots[j].lot_id}
                if limit is not None and len(lot_ids) > limit:
                    break
            left[j] -= units
            got[i] += units
            if units:
                taken[i][j] = units
            yield from plans(k + 1, left, got, taken)
            taken[i].pop(j, None)
            got[i] -= units
            left[j] += units

    taken: list[dict[int, int]] = [{} for _ in ordered]
    for _ in plans(0, [int(s.available) for s in lots], [0] * len(ordered), taken):
        used: dict[date | None, int] = {}
        for held in taken:
            for j, units in held.items():
                used[lots[j].expiry] = used.get(lots[j].expiry, 0) + units
        key = (
            -Fraction(sum(used.values())),
            *(Fraction(used.get(c, 0)) for c in classes),
            *(-Fraction(sum(held.values())) for held in taken),
        )
        if best is None or key < best:
            best = key
    assert best is not None
    return best


def milp_key(lines: list[OrderLine], lots: list[StockLot]) -> Key:
    """The best key by an integer program: x[line, stock row] units, u[line, lot] a lot in use;
    objectives solved one after the other, each fixed before the next."""
    import highspy

    ordered = sorted(lines, key=serve_key)
    scale = 10 ** max(
        [0] + [-int(q.as_tuple().exponent) for q in (*(x.quantity for x in ordered), *(s.available for s in lots))]
    )
    edges = _edges(ordered, lots)
    h = highspy.Highs()
    h.silent()
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 0.0)
    x = {e: h.addIntegral(lb=0, ub=float(min(ordered[e[0]].quantity, lots[e[1]].available) * scale)) for e in edges}
    for i, line in enumerate(ordered):
        mine = [x[e] for e in edges if e[0] == i]
        if mine:
            h.addConstr(h.qsum(mine) <= float(line.quantity * scale))
        limit = line.rule.max_lots_per_line
        if limit is not None and mine:
            uses = []
            for lot_id in sorted({lots[j].lot_id for (k, j) in edges if k == i}):
                u = h.addBinary()
                h.addConstr(
                    h.qsum([x[(k, j)] for (k, j) in edges if k == i and lots[j].lot_id == lot_id])
                    <= float(line.quantity * scale) * u
                )
                uses.append(u)
            h.addConstr(h.qsum(uses) <= limit)
    for j, lot in enumerate(lots):
        mine = [x[e] for e in edges if e[1] == j]
        if mine:
            h.addConstr(h.qsum(mine) <= float(lot.available * scale))

    key: list[Fraction] = []

    def settle(expr: object, maximise: bool) -> int:
        (h.maximize if maximise else h.minimize)(expr)
        assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        value = round(h.getInfo().objective_function_value)
        h.addConstr(expr >= value if maximise else expr <= value)  # type: ignore[operator]
        return value

    if not edges:
        return (Fraction(0), *(Fraction(0) for _ in _classes(lots)), *(Fraction(0) for _ in ordered))
    total = settle(h.qsum(list(x.values())), True)
    key.append(-Fraction(total, scale))
    for c in _classes(lots):
        mine = [x[e] for e in edges if lots[e[1]].expiry == c]
        key.append(Fraction(settle(h.qsum(mine), False), scale) if mine else Fraction(0))
    for i in range(len(ordered)):
        mine = [x[e] for e in edges if e[0] == i]
        key.append(-Fraction(settle(h.qsum(mine), True), scale) if mine else Fraction(0))
    return tuple(key)


def quantities_whole(lines: list[OrderLine], lots: list[StockLot]) -> bool:
    return all(q == q.to_integral_value() for q in (*(x.quantity for x in lines), *(s.available for s in lots)))


def random_wave(
    rng: random.Random, most_lines: int = 6, most_lots: int = 6, most_qty: int = 10
) -> tuple[list[OrderLine], list[StockLot]]:
    """A small one-sku wave like the property tests draw: crossing percentage rules, lot limits,
    no-date-reversal, holds, lots over two locations, sometimes half units."""
    base = date(2026, 11, 23)
    step = Decimal("0.5") if rng.random() < 0.25 else Decimal(1)
    lots: list[StockLot] = []
    for lot_id in range(1, rng.randint(1, most_lots) + 1):
        expires = None if rng.random() < 0.2 else rng.randint(0, 60)
        status = rng.choice(("released",) * 5 + ("hold", "recalled"))
        made = base - timedelta(days=rng.randint(0, 150))
        for place in range(1, rng.randint(1, 2) + 1):
            if len(lots) < most_lots:
                lots.append(
                    StockLot(
                        lot_id=lot_id,
                        lot_code=f"L{lot_id}",
                        sku="JAM",
                        expiry=None if expires is None else base + timedelta(days=expires),
                        made_on=made,
                        available=step * rng.randint(0, most_qty),
                        location_id=place,
                        location_code=f"A-{place:02d}",
                        status=status,  # type: ignore[arg-type]
                    )
                )
    pcts = [None, None, Decimal(25), Decimal(50), Decimal("66.7"), Decimal(75), Decimal(90)]
    lines = [
        OrderLine(
            line_id=line_id,
            sku="JAM",
            quantity=step * rng.randint(0, most_qty + 2),
            ship_date=base + timedelta(days=rng.randint(0, 3)),
            rule=CustomerRule(
                min_remaining_days=None if rng.random() < 0.5 else rng.randint(0, 20),
                min_remaining_pct=rng.choice(pcts),
                transit_days=rng.randint(0, 2),
                max_lots_per_line=None if rng.random() < 0.4 else rng.randint(1, 2),
                no_date_reversal=rng.random() < 0.3,
            ),
            priority=rng.randint(0, 1),
            sequence=line_id,
            latest_shipped_expiry=None if rng.random() < 0.5 else base + timedelta(days=rng.randint(0, 40)),
        )
        for line_id in range(1, rng.randint(1, most_lines) + 1)
    ]
    return lines, lots


def part_milp_key(
    demand: list[int],
    limit: list[int | None],
    eligible: list[list[int]],
    avail: list[int],
    cls: list[int],
    lot: list[int],
) -> tuple[int, ...]:
    """The best key of one part of a wave in whole units (`allocation.exact.Problem`'s terms:
    lines in serving order, stock entries with expiry class and lot), by an integer program
    solved one objective after the other."""
    import highspy

    h = highspy.Highs()
    h.silent()
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 0.0)
    edges = [(i, j) for i in range(len(demand)) for j in eligible[i] if demand[i] and avail[j]]
    x = {e: h.addIntegral(lb=0, ub=float(min(demand[e[0]], avail[e[1]]))) for e in edges}
    for i, d in enumerate(demand):
        mine = [x[e] for e in edges if e[0] == i]
        if not mine:
            continue
        h.addConstr(h.qsum(mine) <= float(d))
        k = limit[i]
        if k is not None:
            uses = []
            for group in sorted({lot[j] for (m, j) in edges if m == i}):
                u = h.addBinary()
                h.addConstr(h.qsum([x[(m, j)] for (m, j) in edges if m == i and lot[j] == group]) <= float(d) * u)
                uses.append(u)
            h.addConstr(h.qsum(uses) <= k)
    for j, a in enumerate(avail):
        mine = [x[e] for e in edges if e[1] == j]
        if mine:
            h.addConstr(h.qsum(mine) <= float(a))

    def settle(cols: list[object], maximise: bool) -> int:
        if not cols:
            return 0
        expr = h.qsum(cols)
        (h.maximize if maximise else h.minimize)(expr)
        assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        value = round(h.getInfo().objective_function_value)
        h.addConstr(expr >= value if maximise else expr <= value)  # type: ignore[operator]
        return value

    classes = max(cls, default=-1) + 1
    key = [-settle(list(x.values()), True)]
    for c in range(classes - 1, -1, -1):
        key.append(settle([x[e] for e in edges if cls[e[1]] == c], False))
    for i in range(len(demand)):
        key.append(-settle([x[e] for e in edges if e[0] == i], True))
    return tuple(key)

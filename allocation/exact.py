"""Exact allocation of one connected part of a wave: branch and bound over the lots that
lot-limited lines may use, every node solved as a min-cost flow (pure, stdlib only).

Quantities here are whole units of the part's smallest quantum (the allocator scales Decimals
to integers before and back after), so every answer is exact.

What "best" means (`Problem.key`, smaller is better), in order:
  1. the most units allocated over the part;
  2. then lexicographic FEFO: the fewest units of the latest expiry class (undated stock is the
     latest class), then of the next latest, and so on down to the earliest;
  3. then the lines' fills in serving order: the first line as full as possible, then the next.

Why each node is a min-cost flow with small integer weights. A node fixes, for each limited
line, lots it may not use, and caps the line at what its `limit` largest allowed lots hold; the
rest is a bipartite flow from lines to stock. In a bipartite flow the units of stock used form
a polymatroid, and so do the units lines receive; the greedy vectors of both (earliest stock
first; earlier lines first) are each the unique best for any weights that keep their order, and
one flow has both at once (the Mendelsohn-Dulmage linking theorem). So a unit on edge
(line i, entry j) may cost `-BIG + K * (class(j) + i + 2) + tie(i, j)`: BIG makes every
extra unit worth more than anything else, the K term is minimal exactly at key parts 2 and 3,
and the small `tie` term (earlier entries for earlier lines) settles which line holds which stock.
Across nodes, keys are compared as tuples, since sums of weights would not be lexicographic.

A node whose flow keeps every limit is feasible and, the node being a relaxation of its
subtree, the best of it. Otherwise the first line over its limit is branched on the lot it
uses most: that lot is one of its lots, or barred to it. A node whose relaxed key is no better
than the best answer so far is cut, so the served plan, passed in as the first answer, cuts most
of the tree at once.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

Flow = list[dict[int, int]]  # per line: entry index -> units
Key = tuple[int, ...]


@dataclass(slots=True)
class Problem:
    """Lines in serving order and stock entries in FEFO order, quantities in whole units.

    `eligible[i]` lists the entries line i may use (ascending); `lot[j]` groups entries of one
    lot (a limit counts lots, not locations); `cls[j]` is the entry's expiry class, 0 for the
    earliest expiry date and the largest for undated stock.
    """

    demand: list[int]
    limit: list[int | None]
    eligible: list[list[int]]
    avail: list[int]
    cls: list[int]
    lot: list[int]
    classes: int = field(init=False)

    def __post_init__(self) -> None:
        self.classes = max(self.cls, default=-1) + 1

    def key(self, flow: Flow) -> Key:
        """The part's objective as a tuple, smaller is better (see the module notes)."""
        used = [0] * self.classes
        fills = []
        for held in flow:
            got = 0
            for j, units in held.items():
                used[self.cls[j]] += units
                got += units
            fills.append(-got)
        return (-sum(used), *reversed(used), *fills)

    def lots_of(self, held: dict[int, int]) -> set[int]:
        return {self.lot[j] for j, units in held.items() if units}

    def feasible(self, flow: Flow) -> bool:
        """Every rule of the part held: eligibility, stock, demand and lot limits."""
        if len(flow) != len(self.demand):
            return False
        used = [0] * len(self.avail)
        for i, held in enumerate(flow):
            allowed = set(self.eligible[i])
            if any(units < 0 or j not in allowed for j, units in held.items()):
                return False
            if sum(held.values()) > self.demand[i]:
                return False
            limit = self.limit[i]
            if limit is not None and len(self.lots_of(held)) > limit:
                return False
            for j, units in held.items():
                used[j] += units
        return all(u <= a for u, a in zip(used, self.avail, strict=True))


def solve(problem: Problem, incumbent: Flow | None = None) -> Flow:
    """The best flow of the problem; `incumbent`, a feasible flow, is kept on equal keys.

    Without lot limits the problem is one min-cost flow. With them, HiGHS solves it as an
    integer program, one objective after the other (`_lexicographic_milp`); its answer is
    checked in integers against every rule and against the solver's own proof bound, and
    only then accepted. Should a check ever fail, branch and bound answers instead.
    """
    p = problem
    if incumbent is not None and not p.feasible(incumbent):
        incumbent = None
    # The relaxation without lot limits: if the incumbent reaches its key, or it keeps every
    # limit anyway, it is the answer.
    flow = _node_flow(p, {}, _lot_totals(p))
    limited = [i for i, k in enumerate(p.limit) if k is not None]
    if incumbent is not None and p.key(incumbent) == p.key(flow):
        return incumbent
    if any(len(p.lots_of(flow[i])) > (p.limit[i] or 0) for i in limited):
        found = _lexicographic_milp(p, incumbent, p.key(flow))
        flow = found if found is not None else branch_and_bound(p, incumbent)
    if incumbent is not None and p.key(incumbent) <= p.key(flow):
        return incumbent
    return flow


def _lot_totals(p: Problem) -> dict[int, int]:
    totals: dict[int, int] = {}
    for j, a in enumerate(p.avail):
        totals[p.lot[j]] = totals.get(p.lot[j], 0) + a
    return totals


def _lexicographic_milp(p: Problem, incumbent: Flow | None, bound: Key) -> Flow | None:
    """The best flow by HiGHS, one objective at a time, or None if an answer fails a check.

    Objectives in key order: total units; units of each expiry class from the latest down;
    each line's fill in serving order. After each, its value is fixed by a constraint with an
    integer bound. An objective the current answer already meets at its trivial bound (no units
    of a class, a full line) is fixed without a solve, and so is every objective before the
    first where the incumbent and `bound` (the key of a relaxation) differ: the best key lies
    between them, so it shares that prefix.
    """
    import highspy

    h = highspy.Highs()  # type: ignore[no-untyped-call]
    for option, value in (
        ("output_flag", False),
        ("threads", 1),
        ("random_seed", 0),
        ("mip_rel_gap", 0.0),
        ("mip_abs_gap", 0.0),
        ("presolve", "on"),
    ):
        h.setOptionValue(option, value)
    lines = len(p.demand)
    edges = [(i, j) for i in range(lines) for j in p.eligible[i] if p.avail[j] > 0 and p.demand[i] > 0]
    col_of = {edge: c for c, edge in enumerate(edges)}
    totals = _lot_totals(p)
    picks: list[tuple[int, int]] = []  # (line, lot) choice variables of limited lines
    for i in range(lines):
        if p.limit[i] is not None:
            picks += [(i, lot) for lot in sorted({p.lot[j] for _, j in edges if _ == i})]
    inf = highspy.kHighsInf
    upper = [float(min(p.demand[i], p.avail[j])) for i, j in edges] + [1.0] * len(picks)
    count = len(upper)
    h.addVars(count, [0.0] * count, upper)
    for c in range(count):
        h.changeColIntegrality(c, highspy.HighsVarType.kInteger)

    def row(lower: float, high: float, cols: list[int], values: list[float]) -> None:
        h.addRow(lower, high, len(cols), cols, values)

    by_line: list[list[int]] = [[] for _ in range(lines)]
    by_entry: list[list[int]] = [[] for _ in p.avail]
    for c, (i, j) in enumerate(edges):
        by_line[i].append(c)
        by_entry[j].append(c)
    for i, cols in enumerate(by_line):
        if cols:
            row(-inf, float(p.demand[i]), cols, [1.0] * len(cols))
    for j, cols in enumerate(by_entry):
        if cols:
            row(-inf, float(p.avail[j]), cols, [1.0] * len(cols))
    pick_cols: dict[int, list[int]] = {}
    for k, (i, lot) in enumerate(picks):
        c = len(edges) + k
        cols = [col_of[(i, j)] for j in p.eligible[i] if p.lot[j] == lot and (i, j) in col_of]
        big = float(min(p.demand[i], totals[lot]))
        row(-inf, 0.0, [*cols, c], [1.0] * len(cols) + [-big])
        pick_cols.setdefault(i, []).append(c)
    for i, cols in pick_cols.items():
        row(-inf, float(p.limit[i] or 0), cols, [1.0] * len(cols))

    objectives: list[tuple[list[int], bool, int | None]] = [(list(range(len(edges))), True, None)]
    for c in range(p.classes - 1, -1, -1):
        cols = [col for j in range(len(p.avail)) if p.cls[j] == c for col in by_entry[j]]
        objectives.append((cols, False, 0))
    for i in range(lines):
        objectives.append((by_line[i], True, p.demand[i]))

    def as_flow(values: list[float]) -> Flow | None:
        flow: Flow = [{} for _ in range(lines)]
        for c, (i, j) in enumerate(edges):
            v = values[c]
            units = round(v)
            if abs(v - units) > 1e-6:
                return None
            if units:
                flow[i][j] = units
        return flow if p.feasible(flow) else None

    def value_of(flow: Flow, cols: list[int]) -> int:
        return sum(flow[edges[c][0]].get(edges[c][1], 0) for c in cols)

    current = incumbent
    settled = 0
    if incumbent is not None:
        ours = p.key(incumbent)
        while settled < len(ours) and ours[settled] == bound[settled]:
            settled += 1
    zero_costs = [0.0] * count
    for index, (cols, maximise, trivial) in enumerate(objectives):
        if not cols:
            continue
        if current is not None and index < settled:
            fixed = float(value_of(current, cols))
        elif current is not None and trivial is not None and value_of(current, cols) == trivial:
            fixed = float(trivial)
        else:
            costs = list(zero_costs)
            for c in cols:
                costs[c] = 1.0
            h.changeColsCost(count, list(range(count)), costs)
            h.changeObjectiveSense(highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize)
            if current is not None:
                start = highspy.HighsSolution()
                start.col_value = [float(current[i].get(j, 0)) for i, j in edges] + [
                    1.0 if any(p.lot[j] == lot and u for j, u in current[i].items()) else 0.0 for i, lot in picks
                ]
                h.setSolution(start)
            h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                return None
            found = as_flow(list(h.getSolution().col_value))
            if found is None:
                return None
            value = value_of(found, cols)
            proof = h.getInfo().mip_dual_bound
            # The objective is a whole number: the answer is best when no whole number beyond
            # it is within the solver's proven bound.
            if (maximise and proof >= value + 1 - 1e-6) or (not maximise and proof <= value - 1 + 1e-6):
                return None
            if current is not None:
                held = value_of(current, cols)
                if (maximise and value < held) or (not maximise and value > held):
                    return None
            current = found
            fixed = float(value)
        if maximise:
            row(fixed, inf, cols, [1.0] * len(cols))
        else:
            row(-inf, fixed, cols, [1.0] * len(cols))
    return current


def branch_and_bound(problem: Problem, incumbent: Flow | None = None) -> Flow:
    """The best flow by branch and bound over the lots of limited lines (see the module notes)."""
    p = problem
    best: Flow | None = None
    best_key: Key | None = None
    if incumbent is not None and p.feasible(incumbent):
        best, best_key = incumbent, p.key(incumbent)
    limited = [i for i, k in enumerate(p.limit) if k is not None]
    lot_total: dict[int, int] = {}
    for j, a in enumerate(p.avail):
        lot_total[p.lot[j]] = lot_total.get(p.lot[j], 0) + a

    # A node: per limited line, the lots it has been given (they count against its limit)
    # and the lots barred to it.
    Node = dict[int, tuple[frozenset[int], frozenset[int]]]
    stack: list[Node] = [{}]
    while stack:
        node = stack.pop()
        flow = _node_flow(p, node, lot_total)
        key = p.key(flow)
        if best_key is not None and key >= best_key:
            continue
        over = next(
            (i for i in limited if len(p.lots_of(flow[i])) > (p.limit[i] or 0)),
            None,
        )
        if over is None:
            best, best_key = flow, key
            continue
        given, barred = node.get(over, (frozenset(), frozenset()))
        per_lot: dict[int, int] = {}
        for j, units in flow[over].items():
            if units and p.lot[j] not in given:
                per_lot[p.lot[j]] = per_lot.get(p.lot[j], 0) + units
        # Branch on the lot the line leans on most: either it is one of the line's lots, or
        # the line may not use it. The first is explored first.
        lot = min(per_lot, key=lambda lot: (-per_lot[lot], lot))
        without = dict(node)
        without[over] = (given, barred | {lot})
        stack.append(without)
        with_it = dict(node)
        with_it[over] = (given | {lot}, barred)
        stack.append(with_it)
    assert best is not None  # some leaf is always feasible (an empty flow is)
    return best


def _node_flow(
    p: Problem,
    node: dict[int, tuple[frozenset[int], frozenset[int]]],
    lot_total: dict[int, int],
) -> Flow:
    """The node's relaxation: barred lots removed; a line given as many lots as its limit
    keeps to them; a limited line is capped at its given lots and its largest other lots."""
    lines = len(p.demand)
    entries = len(p.avail)
    eligible: list[list[int]] = []
    caps: list[int] = []
    for i in range(lines):
        allowed = p.eligible[i]
        cap = p.demand[i]
        limit = p.limit[i]
        if limit is not None:
            given, barred = node.get(i, (frozenset(), frozenset()))
            if len(given) >= limit:
                allowed = [j for j in allowed if p.lot[j] in given]
            elif barred:
                allowed = [j for j in allowed if p.lot[j] not in barred]
            others = sorted({p.lot[j] for j in allowed} - given, key=lambda lot: (-lot_total[lot], lot))
            room = sum(lot_total[lot] for lot in given) + sum(
                lot_total[lot] for lot in others[: limit - len(given)]
            )
            cap = min(cap, room)
        eligible.append(allowed)
        caps.append(cap)
    return min_cost_flow(caps, eligible, p.avail, p.cls, p.classes, lines, entries)


def min_cost_flow(
    caps: list[int],
    eligible: list[list[int]],
    avail: list[int],
    cls: list[int],
    classes: int,
    lines: int,
    entries: int,
) -> Flow:
    """Most units, then earliest classes, then earliest lines (see the module notes), exactly.

    Successive shortest paths with Dijkstra on reduced costs; integer costs and capacities.
    """
    units = sum(caps) + 1
    tie_range = units * max(entries, 1) * max(lines, 1) + 1
    k = tie_range
    big = k * (classes + lines + 2) * units + tie_range
    # Nodes: 0 source, 1..lines, then entries, then the sink.
    sink = lines + entries + 1
    size = sink + 1
    to: list[int] = []
    cap: list[int] = []
    cost: list[int] = []
    adj: list[list[int]] = [[] for _ in range(size)]

    def edge(u: int, v: int, c: int, w: int) -> int:
        adj[u].append(len(to))
        to.append(v)
        cap.append(c)
        cost.append(w)
        adj[v].append(len(to))
        to.append(u)
        cap.append(0)
        cost.append(-w)
        return len(to) - 2

    line_edges: list[list[tuple[int, int]]] = []
    potential = [0] * size
    entry_floor = [0] * entries
    for i in range(lines):
        if caps[i] > 0:
            edge(0, 1 + i, caps[i], 0)
        mine = []
        for j in eligible[i]:
            if avail[j] > 0 and caps[i] > 0:
                w = -big + k * (cls[j] + i + 2) + j * (lines - i)
                mine.append((j, edge(1 + i, 1 + lines + j, min(caps[i], avail[j]), w)))
                entry_floor[j] = min(entry_floor[j], w)
        line_edges.append(mine)
    for j in range(entries):
        if avail[j] > 0:
            edge(1 + lines + j, sink, avail[j], 0)
        potential[1 + lines + j] = entry_floor[j]
    potential[sink] = min(entry_floor, default=0)

    while True:
        dist: list[int | None] = [None] * size
        prev = [-1] * size
        dist[0] = 0
        heap = [(0, 0)]
        while heap:
            d, u = heapq.heappop(heap)
            if d != dist[u]:
                continue
            pu = potential[u]
            for e in adj[u]:
                if cap[e]:
                    v = to[e]
                    nd = d + cost[e] + pu - potential[v]
                    dv = dist[v]
                    if dv is None or nd < dv:
                        dist[v] = nd
                        prev[v] = e
                        heapq.heappush(heap, (nd, v))
        reach = dist[sink]
        if reach is None:
            break
        for v in range(size):
            dv = dist[v]
            potential[v] += reach if dv is None or dv > reach else dv
        # potential[sink] - potential[0] is the cheapest path's real cost per unit.
        if potential[sink] - potential[0] >= 0:
            break
        push = None
        v = sink
        while v != 0:
            e = prev[v]
            push = cap[e] if push is None else min(push, cap[e])
            v = to[e ^ 1]
        assert push is not None
        v = sink
        while v != 0:
            e = prev[v]
            cap[e] -= push
            cap[e ^ 1] += push
            v = to[e ^ 1]

    flow: Flow = []
    for mine in line_edges:
        held = {}
        for j, e in mine:
            if cap[e ^ 1]:
                held[j] = cap[e ^ 1]
        flow.append(held)
    return flow

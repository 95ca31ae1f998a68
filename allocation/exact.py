"""Exact allocation of one connected part of a wave: branch and bound over the lots that
lot-limited lines may use, every node solved exactly by augmenting paths (pure, stdlib only).

Quantities here are whole units of the part's smallest quantum (the allocator scales Decimals
to integers before and back after), so every answer is exact.

What "best" means (`Problem.key`, smaller is better), in order:
  1. the most units allocated over the part;
  2. then lexicographic FEFO: the fewest units of the latest expiry class (undated stock is the
     latest class), then of the next latest, and so on down to the earliest;
  3. then the lines' fills in serving order: the first line as full as possible, then the next.

Why a node needs no costs. A node fixes, for each limited line, lots it may not use, and caps
the line at what its `limit` largest allowed lots hold; the rest is a bipartite flow from lines
to stock. In a bipartite flow the units of stock used form a polymatroid, and so do the units
lines receive. The greedy vector of the stock side (each entry in FEFO order given as much as
it can take, `lex_flow`'s first step) uses the most of every FEFO prefix of stock, so it is a
maximum flow with the fewest units of the latest class, then the next: key parts 1 and 2. With
each class's total then held, the greedy of the line side (no earlier line can gain from a later
one along a residual path) is part 3; one flow has both (the Mendelsohn-Dulmage linking theorem).

A limited line is also capped on a chain of nested sets of its lots: from a set it can take at
most what its given lots and its largest other lots in the set hold (the chain is by size when
it has room for one more lot, by expiry date otherwise). Nested caps on one line are the same as
splitting it into pieces, each barred from a smaller set, so the node stays a plain flow
(`_Nodes._capped_flow`).

A node whose flow keeps every limit is feasible and, the node being a relaxation of its
subtree, the best of it. Otherwise the first line over its limit is branched on the largest
lot it uses: that lot is one of its lots, or barred to it. A node whose relaxed key is no better
than the best answer so far is cut, so the served plan, passed in as the first answer, cuts most
of the tree at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import cast

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
        cls = self.cls
        used = [0] * self.classes
        for held in flow:
            for j, units in held.items():
                used[cls[j]] += units
        return (-sum(used), *reversed(used), *[-sum(held.values()) for held in flow])

    def lots_of(self, held: dict[int, int]) -> set[int]:
        return {self.lot[j] for j, units in held.items() if units}

    def feasible(self, flow: Flow) -> bool:
        """Every rule of the part held: eligibility, stock, demand and lot limits."""
        if len(flow) != len(self.demand):
            return False
        used = [0] * len(self.avail)
        sets: dict[int, set[int]] = {}  # lines often share one eligible list
        for i, held in enumerate(flow):
            if not held:
                continue
            allowed = sets.get(id(self.eligible[i]))
            if allowed is None:
                allowed = sets[id(self.eligible[i])] = set(self.eligible[i])
            if not held.keys() <= allowed or min(held.values()) < 0:
                return False
            if sum(held.values()) > self.demand[i]:
                return False
            limit = self.limit[i]
            if limit is not None and len(self.lots_of(held)) > limit:
                return False
            for j, units in held.items():
                used[j] += units
        return all(map(int.__le__, used, self.avail))


def solve(problem: Problem, incumbent: Flow | None = None) -> Flow:
    """The best flow of the problem; `incumbent`, a feasible flow, is kept on equal keys.

    The relaxation without lot limits comes first: if the incumbent reaches its key, or its
    best flow keeps every limit anyway, that is the answer. Then plans repaired from it (each
    line over its limit kept to the lots it leans on most, or to its largest lots) are tried:
    one reaching the relaxation's key is the answer too. Otherwise branch and bound, with the
    best of them as the answer to beat.
    """
    p = problem
    if incumbent is not None and not p.feasible(incumbent):
        incumbent = None
    incumbent_key = None if incumbent is None else p.key(incumbent)
    nodes = _Nodes(p)
    flow, bound = nodes.solve({})
    if incumbent_key == bound:
        return cast(Flow, incumbent)
    if nodes.over(flow) is None:
        best, best_key = flow, bound
    else:
        repaired, found_key = incumbent, incumbent_key
        for start, cover in ((flow, False), (None, True), (None, False)):
            found, key = nodes.repair(start, cover)
            if found_key is None or key < found_key:
                repaired, found_key = found, key
            if found_key == bound:
                break
        assert repaired is not None and found_key is not None  # every repair keeps every limit
        if found_key == bound:
            best, best_key = repaired, found_key
        else:
            best = branch_and_bound(p, repaired, nodes, known_key=found_key)
            best_key = p.key(best)
    if incumbent_key is not None and incumbent_key <= best_key:
        return cast(Flow, incumbent)
    return _earliest_within_classes(p, best)


def _earliest_within_classes(p: Problem, flow: Flow) -> Flow:
    """The same flow, but no line without a limit holds an entry while an earlier entry of
    the same expiry class that it may use is left over: such units move to the earlier entry.
    Totals per line and per class stay as they are, so the key does too. (Across classes it
    never happens: moving to the earlier class would improve the key.)"""
    left = list(p.avail)
    for held in flow:
        for j, units in held.items():
            left[j] -= units
    for i, held in enumerate(flow):
        if p.limit[i] is not None or not held:
            continue
        for y in sorted(held, reverse=True):
            for x in p.eligible[i]:
                if x >= y:
                    break
                if left[x] and p.cls[x] == p.cls[y]:
                    move = min(left[x], held[y])
                    held[x] = held.get(x, 0) + move
                    held[y] -= move
                    left[x] -= move
                    left[y] += move
                    if not held[y]:
                        del held[y]
                        break
    return flow


def _lot_totals(p: Problem) -> dict[int, int]:
    totals: dict[int, int] = {}
    for j, a in enumerate(p.avail):
        totals[p.lot[j]] = totals.get(p.lot[j], 0) + a
    return totals


# How many of a one-more-lot line's sets by size are capped (see `_Nodes._pieces_by_size`).
_SIZE_CAPS = 3

# A piece of a limited line in a node's relaxation: the entries it may use and its cap.
_Piece = tuple[list[int], int]
# A limited line in a node: its allowed entries, its cap and its pieces.
_Line = tuple[list[int], int, list[_Piece]]

# A node of the search: per limited line, the lots it has been given (they count against its
# limit) and the lots barred to it.
Node = dict[int, tuple[frozenset[int], frozenset[int]]]
# A limited line the node says nothing about: no lot given, none barred.
_FREE: tuple[frozenset[int], frozenset[int]] = (frozenset(), frozenset())


def _by_size(lots: Iterable[int], size: Mapping[int, int], *, largest_first: bool) -> list[int]:
    """The lots by their size, equal sizes by lot. Sorted by lot first, then by size (a sort in reverse
    keeps equal keys in their order too): no key tuple per lot."""
    return sorted(sorted(lots), key=size.__getitem__, reverse=largest_first)


class _Nodes:
    """The relaxations of one problem's nodes, each solved once: nodes that leave every line
    the same stock, cap and prefix caps share one answer."""

    def __init__(self, p: Problem) -> None:
        self.p = p
        self.lot_total = _lot_totals(p)
        self.limited = [i for i, k in enumerate(p.limit) if k is not None]
        self.known: dict[tuple[object, ...], tuple[Flow, Key]] = {}
        # Per (limited line, given lots, barred lots): its allowed entries, cap and pieces.
        self.line_at: dict[tuple[int, frozenset[int], frozenset[int]], _Line] = {}
        # Each limited line's lots, largest first, then by lot.
        self.largest = {
            i: _by_size({p.lot[j] for j in p.eligible[i]}, self.lot_total, largest_first=True)
            for i in self.limited
        }

    def solve(self, node: Node) -> tuple[Flow, Key]:
        p = self.p
        lines: list[_Line] = []
        signature: list[object] = []
        for i in self.limited:
            given, barred = node.get(i, _FREE)
            line = self.line_at.get((i, given, barred))
            if line is None:
                line = self.line_at[(i, given, barred)] = self._line(i, given, barred)
            lines.append(line)
            allowed, cap, pieces = line
            signature += (len(allowed), *allowed, cap, len(pieces), *(len(part) for part, _ in pieces))
            signature += (piece_cap for _, piece_cap in pieces)
        sig = tuple(signature)
        known = self.known.get(sig)
        if known is None:
            eligible = list(p.eligible)
            caps = list(p.demand)
            split: dict[int, list[tuple[list[int], int]]] = {}
            for i, (allowed, cap, pieces) in zip(self.limited, lines, strict=True):
                eligible[i] = allowed
                caps[i] = cap
                if len(pieces) > 1:
                    split[i] = pieces
            flow = self._capped_flow(eligible, caps, split)
            known = self.known[sig] = (flow, p.key(flow))
        return known

    def _line(self, i: int, given: frozenset[int], barred: frozenset[int]) -> _Line:
        """Limited line i in a node: its allowed entries, its cap, and its pieces."""
        p = self.p
        limit = p.limit[i] or 0
        allowed = p.eligible[i]
        if len(given) >= limit:
            allowed = [j for j in allowed if p.lot[j] in given]
        elif barred:
            allowed = [j for j in allowed if p.lot[j] not in barred]
        room = sum(self.lot_total[lot] for lot in given)
        slots = limit - len(given)
        for lot in self.largest[i]:
            if slots <= 0:
                break
            if lot not in given and lot not in barred:
                room += self.lot_total[lot]
                slots -= 1
        cap = min(p.demand[i], room)
        # Caps on nested sets of lots keep the node a plain flow; which chain is tighter
        # depends on the room left (see `_capped_flow`).
        if limit - len(given) == 1:
            return allowed, cap, self._pieces_by_size(given, allowed, cap)
        return allowed, cap, self._pieces(i, given, allowed, cap)

    def _capped_flow(
        self, eligible: list[list[int]], caps: list[int], split: dict[int, list[tuple[list[int], int]]]
    ) -> Flow:
        """The node's relaxation with every limited line also capped on a chain of sets.

        In any plan of the node, a line limited to k lots, g of them given, takes from any set
        of its other lots at most what the k - g largest of them hold. Caps on a chain of
        nested sets S1 ⊂ S2 ⊂ ... are the same as splitting the line into pieces: piece d may
        not take from S(d-1) and holds at most the rise of the cap from S(d-1) to Sd, so the
        relaxation stays a plain flow. The pieces come at the line's place in serving order and
        are summed back into the line. With room for one more lot the chain is the line's
        lots by size (`_pieces_by_size`: for a line limited to one lot, exactly the flows it
        can take); with more, the stock by expiry date (`_pieces`: what early stock it can use,
        which is what FEFO order asks of it).
        """
        p = self.p
        if not split:
            return lex_flow(caps, eligible, p.avail, p.cls)
        owner: list[int] = []
        wide_caps: list[int] = []
        wide_eligible: list[list[int]] = []
        for i in range(len(caps)):
            for allowed, cap in split.get(i, ((eligible[i], caps[i]),)):
                owner.append(i)
                wide_caps.append(cap)
                wide_eligible.append(allowed)
        flow: Flow = [{} for _ in caps]
        for i, held in zip(owner, lex_flow(wide_caps, wide_eligible, p.avail, p.cls), strict=True):
            into = flow[i]
            for j, units in held.items():
                into[j] = into.get(j, 0) + units
        return flow

    def _pieces_by_size(self, given: frozenset[int], allowed: list[int], cap: int) -> list[tuple[list[int], int]]:
        """The pieces of a line with room for one more lot besides `given`: from its other
        lots, the smallest j of them can give it at most the largest of those j, so the caps
        are on the chain of lots by size. (For a line limited to one lot these caps describe
        exactly what it can take from each set of lots: at most its largest lot.)"""
        p = self.p
        if cap <= 0 or not allowed:
            return [(allowed, cap)]
        lot, avail = p.lot, p.avail
        totals: dict[int, int] = {}
        for j in allowed:
            if lot[j] not in given:
                totals[lot[j]] = totals.get(lot[j], 0) + avail[j]
        if len(totals) <= 1:
            return [(allowed, cap)]
        others = _by_size(totals, totals, largest_first=False)
        # The cap of the k + 1 smallest is the (k + 1)-th smallest; of all lots, the line's cap.
        # Only the largest sets are capped (all its other lots, then without the largest, then
        # without the two largest): smaller sets' caps seldom cut a node and each adds a piece
        # to every flow (on the 10,000-line benchmark wave, capping every set searches as many
        # nodes, a tenth slower).
        effective = [0] * len(others)
        running = cap
        lowest = max(1, len(others) - _SIZE_CAPS)  # the smallest alone: its cap never binds
        for k in range(len(others) - 1, -1, -1):
            if k >= lowest and totals[others[k]] < running:
                running = totals[others[k]]
            effective[k] = running
        pieces: list[tuple[list[int], int]] = []
        below = 0  # the cap of the lots left out of this piece
        left_out: set[int] = set()
        for k, other in enumerate(others):
            if effective[k] > below:
                part = [j for j in allowed if lot[j] not in left_out] if left_out else allowed
                pieces.append((part, effective[k] - below))
                below = effective[k]
            left_out.add(other)
        if cap > below:
            pieces.append(([j for j in allowed if lot[j] not in left_out], cap - below))
        return pieces

    def _pieces(self, i: int, given: frozenset[int], allowed: list[int], cap: int) -> list[tuple[list[int], int]]:
        """Line i's pieces for caps per expiry prefix: from the stock expiring by a date it can
        take at most what its given lots and its largest other lots hold there."""
        p = self.p
        slots = (p.limit[i] or 0) - len(given)
        if slots <= 0 or cap <= 0 or not allowed:
            return [(allowed, cap)]
        lot, cls, avail = p.lot, p.cls, p.avail
        # Per class boundary (positions in `allowed` where the class changes): the cap on what
        # the line may take from the stock before it, where it binds (what that stock holds
        # is more), else -1.
        bounds: list[tuple[int, int]] = []  # (position where the next class starts, cap)
        inside = 0  # units of given lots seen so far
        others: dict[int, int] = {}  # other lots seen so far -> their units so far
        held = 0
        binds = False
        current = cls[allowed[0]]
        for at, j in enumerate(allowed):
            if cls[j] != current:
                current = cls[j]
                bound = -1
                # With no more other lots than slots, the cap is all the stock: it never binds.
                if len(others) > slots:
                    values = others.values()
                    bound = inside + (max(values) if slots == 1 else sum(sorted(values, reverse=True)[:slots]))
                    if bound < held:
                        binds = True
                    else:
                        bound = -1
                bounds.append((at, bound))
            a = avail[j]
            held += a
            if lot[j] in given:
                inside += a
            else:
                others[lot[j]] = others.get(lot[j], 0) + a
        if not binds:
            return [(allowed, cap)]
        bounds.append((len(allowed), -1))  # the whole stock: the line's own cap
        # Caps that bind, made nondecreasing from the end (a later cap also caps every
        # earlier prefix); the last is the line's own cap.
        effective = [0] * len(bounds)
        running = cap
        for k in range(len(bounds) - 1, -1, -1):
            bound = bounds[k][1]
            if 0 <= bound < running:
                running = bound
            effective[k] = running
        pieces: list[tuple[list[int], int]] = []
        below = 0  # the cap of the prefix before this class
        begin = 0  # where this class starts in `allowed`
        for (end, _), c in zip(bounds, effective, strict=True):
            if c > below:
                pieces.append((allowed[begin:], c - below))
                below = c
            begin = end
        return pieces

    def over(self, flow: Flow) -> int | None:
        """The first limited line of the flow using more lots than its limit, if any."""
        p = self.p
        for i in self.limited:
            if len(p.lots_of(flow[i])) > (p.limit[i] or 0):
                return i
        return None

    def repair(self, start: Flow | None, cover: bool = False) -> tuple[Flow, Key]:
        """A flow keeping every limit: from `start`, each line over its limit is kept to the
        lots it uses most, and the rest re-planned, until none is over. With no start, each
        limited line is first kept to its largest lots, or with `cover`, tightest limit first, to
        the FEFO-earliest lots not yet kept to another limited line that cover what the
        relaxation gave it (its largest such lots if none do)."""
        p = self.p
        node: Node = {}
        if start is None:
            relaxed = self.solve({})[0]
            taken: set[int] = set()
            # The tightest limits choose first: a one-lot line has the fewest ways to be filled.
            for i in sorted(self.limited, key=lambda i: (p.limit[i] or 0, i)):
                limit = p.limit[i] or 0
                totals: dict[int, int] = {}
                for j in p.eligible[i]:
                    if p.lot[j] not in taken:
                        totals[p.lot[j]] = totals.get(p.lot[j], 0) + p.avail[j]
                lots = _by_size(totals, totals, largest_first=True)[:limit]
                if cover:
                    # Entries are in FEFO order, so lots first met first are the FEFO-earliest.
                    fefo = list(totals)
                    lots = _covering([totals[lot] for lot in fefo], sum(relaxed[i].values()), limit, fefo) or lots
                taken.update(lots)
                node[i] = (frozenset(lots), frozenset())
            flow, key = self.solve(node)
        else:
            flow, key = start, p.key(start)
        while True:
            over = [i for i in self.limited if len(p.lots_of(flow[i])) > (p.limit[i] or 0)]
            if not over:
                return flow, key
            for i in over:
                used: dict[int, int] = {}
                for j, units in flow[i].items():
                    used[p.lot[j]] = used.get(p.lot[j], 0) + units
                lots = sorted(used, key=lambda lot: (-used[lot], -self.lot_total[lot], lot))
                node[i] = (frozenset(lots[: p.limit[i] or 0]), frozenset())
            flow, key = self.solve(node)


def _covering(sizes: list[int], need: int, limit: int, names: list[int]) -> list[int] | None:
    """The FEFO-earliest (lexicographically smallest positions) set of at most `limit` of
    `sizes` summing to at least `need`, as names; None if no such set exists."""
    chosen: list[int] = []
    first = 0
    rest = need
    while rest > 0:
        if len(chosen) == limit:
            return None
        slots = limit - len(chosen) - 1
        pick = -1
        for k in range(first, len(sizes)):
            if sizes[k] + sum(sorted(sizes[k + 1 :], reverse=True)[:slots]) >= rest:
                pick = k
                break
        if pick < 0:
            return None
        chosen.append(names[pick])
        rest -= sizes[pick]
        first = pick + 1
    return chosen


def branch_and_bound(
    problem: Problem,
    incumbent: Flow | None = None,
    nodes: _Nodes | None = None,
    *,
    known_key: Key | None = None,
) -> Flow:
    """The best flow by branch and bound over the lots of limited lines (see the module notes).

    `known_key`, when given, is the key of `incumbent`, already known to be feasible."""
    p = problem
    nodes = nodes or _Nodes(p)
    best: Flow | None = None
    best_key: Key | None = None
    if incumbent is not None and known_key is not None:
        best, best_key = incumbent, known_key
    elif incumbent is not None and p.feasible(incumbent):
        best, best_key = incumbent, p.key(incumbent)
    stack: list[Node] = [{}]
    while stack:
        node = stack.pop()
        flow, key = nodes.solve(node)
        if best_key is not None and key >= best_key:
            continue
        over = nodes.over(flow)
        if over is None:
            best, best_key = flow, key
            continue
        given, barred = node.get(over, _FREE)
        per_lot: dict[int, int] = {}
        for j, units in flow[over].items():
            if units and p.lot[j] not in given:
                per_lot[p.lot[j]] = per_lot.get(p.lot[j], 0) + units
        # Branch on the largest lot the line uses (then the one it leans on most): either it
        # is one of the line's lots, or the line may not use it. The first is explored first.
        # Its cap is its largest allowed lots, so barring the largest tightens the bound the
        # most, and giving it is most often the answer: this searches about a third as many
        # nodes as branching on the most-used lot.
        lot = min(per_lot, key=lambda lot: (-nodes.lot_total[lot], -per_lot[lot], lot))
        without = dict(node)
        without[over] = (given, barred | {lot})
        stack.append(without)
        with_it = dict(node)
        with_it[over] = (given | {lot}, barred)
        stack.append(with_it)
    assert best is not None  # some leaf is always feasible (an empty flow is)
    return best


def lex_flow(caps: list[int], eligible: list[list[int]], avail: list[int], cls: list[int]) -> Flow:
    """Most units, then the fewest of the latest expiry classes, then the fullest lines in
    serving order, exactly, for lines without lot limits (see the module notes).

    Lines that may use the same entries are one group: any split of a group's units among
    its lines is a flow, so both steps work on groups. First the stock side (`_stock_side`):
    the most of every FEFO prefix of stock. Then the line side, with each class's total held
    to what the first step used: lines in serving order, each given as much as augmenting
    paths from its group allow without taking anything from an earlier line; this is the
    greedy of the line polymatroid, the fullest lines in serving order. A group that cannot
    grow once never can again (the set that blocks it stays tight), so it is not searched again.
    """
    lines = len(caps)
    if lines <= 64:
        # A small part: line by line is quicker (it searches only from lines the stock side
        # left short, where groups search from every line).
        return _lex_flow_lines(caps, eligible, avail, cls)
    entries = len(avail)
    group_of = [-1] * lines
    by_list: dict[int, int] = {}  # lines of one rule and ship date share one eligible list
    by_entries: dict[tuple[int, ...], int] = {}
    reach: list[list[int]] = []
    group_caps: list[int] = []
    for i in range(lines):
        if caps[i] <= 0:
            continue
        g = by_list.get(id(eligible[i]))
        if g is None:
            usable = tuple(j for j in eligible[i] if avail[j] > 0)
            g = -1
            if usable:
                g = by_entries.get(usable, -1)
                if g < 0:
                    g = by_entries[usable] = len(reach)
                    reach.append(list(usable))
                    group_caps.append(0)
            by_list[id(eligible[i])] = g
        if g >= 0:
            group_of[i] = g
            group_caps[g] += caps[i]
    groups = len(reach)
    if 2 * groups > lines:
        # Few lines share their stock: grouping would not pay for itself.
        return _lex_flow_lines(caps, eligible, avail, cls)
    flow: Flow = [{} for _ in range(lines)]
    used = [0] * entries
    for held in _stock_side(group_caps, reach, avail):
        for j, units in held.items():
            used[j] += units
    room: dict[int, int] = {}  # per class: units still to place
    of_class: dict[int, list[int]] = {}
    for j in range(entries):
        room[cls[j]] = room.get(cls[j], 0) + used[j]
        of_class.setdefault(cls[j], []).append(j)

    # The line side on groups. Nodes: groups, then entries, then classes, packed as ints.
    gflow: Flow = [{} for _ in range(groups)]
    holders: list[dict[int, int]] = [{} for _ in range(entries)]
    taken = [0] * entries
    got = [0] * lines
    blocked = [False] * groups

    def shift(g: int, j: int, units: int) -> None:
        held = gflow[g].get(j, 0) + units
        if held:
            gflow[g][j] = held
            holders[j][g] = held
        else:
            del gflow[g][j]
            del holders[j][g]

    for i in range(lines):
        g = group_of[i]
        if g < 0 or blocked[g]:
            continue
        want = caps[i]
        # Straight to free stock of a class with room first: no search needed.
        for x in reach[g]:
            free = avail[x] - taken[x]
            if free and room[cls[x]]:
                units = min(want, free, room[cls[x]])
                shift(g, x, units)
                taken[x] += units
                room[cls[x]] -= units
                want -= units
                if not want:
                    break
        while want:
            parent: dict[int, int] = {g: -1}
            queue = [g]
            end = -1
            for node in queue:
                if node < groups:
                    for x in reach[node]:
                        xn = groups + x
                        if xn not in parent:
                            parent[xn] = node
                            queue.append(xn)
                    continue
                if node < groups + entries:
                    x = node - groups
                    for b in holders[x]:
                        if b not in parent:
                            parent[b] = node
                            queue.append(b)
                    cn = groups + entries + cls[x]
                    if taken[x] < avail[x] and cn not in parent:
                        parent[cn] = node
                        if room[cls[x]]:
                            end = cn
                            break
                        queue.append(cn)
                    continue
                for y in of_class[node - groups - entries]:
                    yn = groups + y
                    if yn not in parent and taken[y]:
                        parent[yn] = node
                        queue.append(yn)
            if end < 0:
                blocked[g] = True
                break
            delta = min(want, room[end - groups - entries])
            node = end
            while node != g:
                prev = parent[node]
                if node < groups:  # the group lets go of entry prev
                    delta = min(delta, gflow[node][prev - groups])
                elif node < groups + entries:
                    if prev >= groups + entries:  # the class takes less of this entry
                        delta = min(delta, taken[node - groups])
                else:  # the entry gives more to its class
                    delta = min(delta, avail[prev - groups] - taken[prev - groups])
                node = prev
            room[end - groups - entries] -= delta
            node = end
            while node != g:
                prev = parent[node]
                if node < groups:
                    shift(node, prev - groups, -delta)
                elif node < groups + entries:
                    if prev < groups:
                        shift(prev, node - groups, delta)
                    else:
                        taken[node - groups] -= delta
                else:
                    taken[prev - groups] += delta
                node = prev
            want -= delta
        got[i] = caps[i] - want

    # Each group's units to its lines in serving order, earlier entries to earlier lines.
    stock = [sorted(held.items()) for held in gflow]
    at = [0] * groups
    for i in range(lines):
        g = group_of[i]
        need = got[i] if g >= 0 else 0
        while need:
            j, units = stock[g][at[g]]
            part = min(need, units)
            flow[i][j] = part
            need -= part
            if part == units:
                at[g] += 1
            else:
                stock[g][at[g]] = (j, units - part)
    return flow


def _stock_side(caps: list[int], eligible: list[list[int]], avail: list[int]) -> Flow:
    """Entries taken in FEFO order, each as much as augmenting paths allow: a path never
    lowers what an earlier entry gives, so this is the greedy of the stock polymatroid and
    uses the most of every FEFO prefix of stock (a maximum flow among them)."""
    return _stock_side_spare(caps, eligible, avail)[0]


def _stock_side_spare(caps: list[int], eligible: list[list[int]], avail: list[int]) -> tuple[Flow, list[int]]:
    """`_stock_side`, and each line's cap less its flow."""
    lines = len(caps)
    entries = len(avail)
    takers: list[list[int]] = [[] for _ in range(entries)]  # who may use each entry, serving order
    # Parts the allocator builds list only entries with stock: then no entry needs the check.
    stocked = min(avail, default=1) > 0
    for i in range(lines):
        if caps[i] > 0:
            # Straight appends: lines seldom share a list here (limited lines' pieces are
            # their own), so listing a shared list's entries once does not pay.
            if stocked:
                for j in eligible[i]:
                    takers[j].append(i)
            else:
                for j in eligible[i]:
                    if avail[j] > 0:
                        takers[j].append(i)
    flow: Flow = [{} for _ in range(lines)]
    spare = list(caps)
    left = list(avail)

    def give(i: int, j: int, units: int) -> None:
        held = flow[i].get(j, 0) + units
        if held:
            flow[i][j] = held
        else:
            del flow[i][j]
        spare[i] -= units
        left[j] -= units

    # Lines a failed search reached have no room and hold only stock that leads back to them:
    # no later path can pass through them, so they are skipped for good.
    dead: set[int] = set()
    # Units lines still want: once none, no search can find room, and the flow is done.
    wanted = sum(cap for cap in caps if cap > 0)
    for j in range(entries):
        if not wanted:
            break
        if not takers[j]:
            continue
        # Nobody holds entry j yet: lines take it in serving order while it lasts.
        lj = left[j]
        for i in takers[j]:
            s = spare[i]
            if s:
                units = s if s < lj else lj
                flow[i][j] = units
                spare[i] = s - units
                wanted -= units
                lj -= units
                if not lj:
                    break
        left[j] = lj
        while left[j]:
            # Backwards from j: which line could take more of it, if others let go of stock?
            via_line: dict[int, int] = {}  # line -> the entry it would take more of
            via_entry: dict[int, int] = {j: -1}  # entry -> the line that would let go of it
            queue = [j]
            found = -1
            for x in queue:
                for i in takers[x]:
                    if i in via_line or i in dead:
                        continue
                    via_line[i] = x
                    if spare[i]:
                        found = i
                        break
                    for y in flow[i]:
                        if y not in via_entry:
                            via_entry[y] = i
                            queue.append(y)
                if found >= 0:
                    break
            if found < 0:
                dead.update(via_line)
                break
            delta = min(left[j], spare[found])
            x = via_line[found]
            while x != j:
                g = via_entry[x]
                delta = min(delta, flow[g][x])
                x = via_line[g]
            x = via_line[found]
            give(found, x, delta)
            wanted -= delta
            while x != j:
                g = via_entry[x]
                give(g, x, -delta)
                x = via_line[g]
                give(g, x, delta)

    return flow, spare


def _lex_flow_lines(caps: list[int], eligible: list[list[int]], avail: list[int], cls: list[int]) -> Flow:
    """`lex_flow` line by line, for parts where few lines share their stock: first the stock
    side (`_stock_side`), then, with each class's total kept, a line below its cap takes units
    from a later line wherever a residual path joins them; when no line can, the fills are the
    greedy of the line polymatroid, the fullest in serving order."""
    lines = len(caps)
    entries = len(avail)
    flow, spare = _stock_side_spare(caps, eligible, avail)
    # Most often every line is full, or no line after a short one holds anything: then the
    # stock side is the answer, and the line side's indexes are not built.
    filled = [caps[i] - spare[i] for i in range(lines)]
    waiting = [i for i in range(lines) if spare[i] and eligible[i]]
    if not waiting or not any(filled[b] for b in range(waiting[0] + 1, lines)):
        return flow
    holders: list[dict[int, int]] = [{} for _ in range(entries)]
    left = list(avail)
    for i, held in enumerate(flow):
        for j, units in held.items():
            holders[j][i] = units
            left[j] -= units

    def give(i: int, j: int, units: int) -> None:
        held = flow[i].get(j, 0) + units
        if held:
            flow[i][j] = held
            holders[j][i] = held
        else:
            del flow[i][j]
            del holders[j][i]
        spare[i] -= units
        left[j] -= units

    # The line side. Nodes: lines, then entries, then classes (an entry with stock left may
    # stand in for any entry of its class, which keeps every class's total).
    of_class: dict[int, list[int]] = {}
    for j in range(entries):
        of_class.setdefault(cls[j], []).append(j)
    # Nodes a failed search reached lead only to each other and to no later line holding
    # stock; no later search (from a later line) can get through them, so they are skipped.
    dead_nodes: set[int] = set()
    for i in range(waiting[0], lines):
        # A line may lose units to an earlier one above, so who waits is read as it comes.
        while spare[i] and eligible[i] and i not in dead_nodes:
            # parent[node]: nodes are lines, then entries, then classes, packed as ints.
            parent: dict[int, int] = {i: -1}
            queue = [i]
            end = -1
            for node in queue:
                if node < lines:
                    for x in eligible[node]:
                        xn = lines + x
                        if xn not in parent and avail[x] > 0 and xn not in dead_nodes:
                            parent[xn] = node
                            queue.append(xn)
                    continue
                if node < lines + entries:
                    x = node - lines
                    for b in holders[x]:
                        if b not in parent and b not in dead_nodes:
                            parent[b] = node
                            if b > i:
                                end = b
                                break
                            queue.append(b)
                    if end >= 0:
                        break
                    cn = lines + entries + cls[x]
                    if left[x] and cn not in parent and cn not in dead_nodes:
                        parent[cn] = node
                        queue.append(cn)
                    continue
                for y in of_class[node - lines - entries]:
                    yn = lines + y
                    if yn not in parent and left[y] < avail[y] and yn not in dead_nodes:
                        parent[yn] = node
                        queue.append(yn)
            if end < 0:
                dead_nodes.update(parent)
                break
            # Walk back from the later line to i: the smallest residual on the way.
            delta = spare[i]
            node = end
            while node != i:
                prev = parent[node]
                if node < lines:  # prev is an entry the line lets go of
                    delta = min(delta, flow[node][prev - lines])
                elif node < lines + entries:
                    if prev >= lines + entries:  # the class gives up units of this entry
                        delta = min(delta, avail[node - lines] - left[node - lines])
                else:  # an entry with stock left stands in for its class
                    delta = min(delta, left[prev - lines])
                node = prev
            # Apply it: each line on the way takes one entry and lets go of another; class
            # steps move nothing themselves (what an entry gives is what its lines hold).
            node = end
            while node != i:
                prev = parent[node]
                if node < lines:
                    give(node, prev - lines, -delta)
                elif node < lines + entries and prev < lines:
                    give(prev, node - lines, delta)
                node = prev
    return flow

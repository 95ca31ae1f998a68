"""FEFO wave allocation: the maximum fill, then earliest expiry first, then serving order."""

from __future__ import annotations

import gc
import heapq
from bisect import bisect_left
from collections import deque
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from operator import attrgetter, gt, itemgetter, le
from typing import TypeVar, cast

from allocation.eligibility import (
    LineTerms,
    ineligibility_message,
    line_terms,
    meets_pct,
)
from allocation.exact import Problem, solve
from allocation.fefo import fefo_key
from allocation.model import Allocation, OrderLine, Plan, Shortage, StockLot, unfrozen_twin
from allocation.text import number, plural, quantity

ZERO = Decimal(0)
_T = TypeVar("_T")
_K = TypeVar("_K")
# Sorts after every real expiry ordinal, so lots without expiry pass every date threshold.
NO_EXPIRY = date.max.toordinal() + 1
# Shortages name this many ineligible lots, then count the rest.
MAX_LOTS_NAMED = 5
# `serve_key` field by field: the ship date, and what follows it.
_SHIP_DATE = attrgetter("ship_date")
_PRIORITY = attrgetter("priority")
_SEQUENCE = attrgetter("sequence")
_LINE_ID = attrgetter("line_id")
# Stock rows: their sku, and what identifies a row (a lot at a location).
_SKU = attrgetter("sku")
_LOT_AT = attrgetter("lot_id", "location_id")

# How the allocator works, and why it fills as much as an exact solver would.
#
# Stock is grouped by sku and sorted once by FEFO key; held and recalled lots are kept aside
# only to explain shortages. Lines are served in serving order (ship date, priority, entry
# order); each takes the earliest eligible stock first. Every date condition except the
# percentage rule is a lower bound on expiry, so a line's first candidate is found by bisecting
# the sorted expiries, and exhausted stock is skipped with union-find "next with stock"
# pointers: a line costs O(log lots + entries it takes).
#
# Without percentage rules each line's eligible stock is a suffix of the FEFO order. Taking the
# earliest eligible stock first then never blocks anybody: a line that comes up short finds
# all of its suffix empty, and every line holding that stock also saw everything before it empty,
# so no reassignment could free anything (no augmenting path). The greedy is optimal whatever
# order lines are served in.
#
# The percentage rule depends on each lot's made date, so eligible sets can stop being suffixes
# (an old long-life lot can fail a rule that a fresh short-life lot meets). Where made dates rise
# with expiry across an sku's stock, as for goods made with one shelf life, the rule is still a
# threshold along FEFO order and the greedy stands. For other skus with a percentage-rule line
# the allocator remembers which output each line produced; the first time a line of the
# sku comes up short while stock is left, it indexes who-holds-what and from then on searches
# augmenting paths (breadth first, as Edmonds-Karp does): earlier lines give up stock the short
# line can use and take other stock they are eligible for. An earlier line never loses
# quantity, so the result is the best fill in serving order (lexicographically) and the wave
# total is the maximum flow. Each line on a path scans its eligible stock in FEFO order, so the
# stock it moves to is the earliest it may use that is not empty: every line still holds the
# earliest stock it could. Stock a failed search reached stays unreachable for the rest of the
# wave (it is empty, leads only to empty stock, and later lines only consume), so it is pruned
# from later searches.
#
# A line with a lot-count limit k takes distinct lots as follows, lots counted across locations:
#   - if its first k eligible lots (FEFO) cover it, the earliest of them, in order;
#   - else, if some k lots cover it, the FEFO-earliest such set: lots are picked one by one, each
#     the earliest lot that still lets the remaining slots cover the rest (lexicographically
#     smallest FEFO positions), using up old stock first;
#   - else the k largest lots (earlier first on equal size), all of them, and the shortage says so.
# Such lines keep what they took (augmenting paths do not reroute them).
#
# That served plan is then proved best, or replaced by the best, for every sku where it might
# not be: skus with a lot-limited line, and skus whose eligible sets are not nested (where a
# line may hold a later lot while an earlier one it could have taken serves nobody). A nested
# sku whose limited lines all took what they would have without a limit needs no proof (its plan
# is the plain FEFO greedy, best even without limits); cheap proofs come next (`_certified`);
# failing them, each connected part of the sku (lines joined
# by stock they may share) that has a limited line, or belongs to a non-nested sku, is solved
# by `exact.solve` with the served plan as the answer to beat (see allocation/exact.py: the
# relaxation without limits, plans repaired from it, then branch and bound; all exact, all in
# whole units). Other skus keep the greedy, which is already best there. A part of a non-nested
# sku is first checked along the alternating paths of its served plan (`_no_better_plan`): when
# none improves on it, it is already best and is not solved.


class _FlowLine:
    """A served line of an indexed sku: what it holds and which stock it may use."""

    __slots__ = ("alloc", "eligible", "limited", "line", "pos", "span", "start", "terms")

    def __init__(self, pos: int, line: OrderLine, terms: LineTerms, start: int, limited: bool) -> None:
        self.pos = pos
        self.line = line
        self.terms = terms
        self.start = start
        self.limited = limited
        self.alloc: dict[int, Decimal] = {}
        self.eligible: list[int] | None = None
        # Its slice of the output: what it wrote before its sku was indexed, or its placeholder.
        self.span = (0, 0)


# A line of a flow or limited sku: (pos, line, terms, start, lo, hi), out[lo:hi] its output.
_Member = tuple[int, OrderLine, LineTerms, int, int, int]


class _Sku:
    """One sku's stock in FEFO order with the quantities still free during the wave."""

    __slots__ = (
        "avail0",
        "dead",
        "entries",
        "exp",
        "flow",
        "flow_lines",
        "holders",
        "indexed",
        "limited",
        "made",
        "members",
        "n",
        "nested",
        "next_free",
        "plain",
        "plain_until",
        "rem",
        "sku",
        "stock",
        "unit",
        "usable",
        "views",
    )

    def __init__(self, stock: list[StockLot]) -> None:
        stock.sort(key=fefo_key)
        self.stock = stock
        self.sku = stock[0].sku
        self.unit = stock[0].unit
        entries = [s for s in stock if s.status == "released"]
        self.entries = entries
        self.n = n = len(entries)
        self.exp = [NO_EXPIRY if e.expiry is None else e.expiry.toordinal() for e in entries]
        self.made = [e.made_on.toordinal() for e in entries]
        self.rem = rem = _opening(entries)
        # What each entry held at the start, for proofs: made on first use (`initial`), as
        # most skus never ask.
        self.avail0: list[Decimal] | None = None
        # next_free[i] == i when entry i has stock; index n is the end sentinel.
        self.next_free = [i if i == n or rem[i] else i + 1 for i in range(n + 1)]
        # nested: made dates rise with expiry and every life is positive, so a percentage rule
        # ((100 - p) * expiry + p * made >= 100 * arrival) is a threshold along FEFO order too
        # and every line's eligible stock is still a FEFO suffix.
        exp, made = self.exp, self.made
        dated = bisect_left(exp, NO_EXPIRY)  # undated stock sorts last
        self.nested = all(map(gt, exp[:dated], made)) and all(map(le, made, made[1:dated]))
        # flow: eligible sets may not be nested, so a short line may need rerouting.
        self.flow = False
        # limited: some line of the sku has a lot-count limit.
        self.limited = False
        # plain: every limited line so far took what it would have taken without its limit
        # (its earliest eligible lots covered it within the limit, or were all there was).
        self.plain = True
        # When plain first turned False: how many members were served before, and the stock
        # left then. Until there the plan is the relaxation's own (`_matches_relaxation`).
        self.plain_until: tuple[int, list[Decimal]] | None = None
        # The lines of a flow or limited sku as served: (pos, line, terms, start, lo, hi), where
        # out[lo:hi] is the line's slice of the output.
        self.members: list[_Member] = []
        # indexed: who-holds-what is kept from here on, in flow_lines and holders.
        self.indexed = False
        self.dead: set[int] = set()
        self.holders: list[dict[int, Decimal]] = []
        self.flow_lines: dict[int, _FlowLine] = {}
        self.views: list[tuple[StockLot, Decimal, bool, int | None, int]] | None = None
        # Per (terms, start): the entries such lines may use that held stock at the start.
        self.usable: dict[tuple[int, int], list[int]] = {}

    def initial(self) -> list[Decimal]:
        """What each entry held at the start of the wave (`rem` as it was made)."""
        found = self.avail0
        if found is None:
            found = self.avail0 = _opening(self.entries)
        return found

    def has_stock(self) -> bool:
        return _find(self.next_free, 0) < self.n

    def build_index(self, out: list[Allocation | _FlowLine]) -> None:
        """Index who holds what from the output of the lines served so far (the sku's members:
        every line of a flow sku is one)."""
        entry_of = {(e.lot_id, e.location_id): i for i, e in enumerate(self.entries)}
        holders: list[dict[int, Decimal]] = [{} for _ in range(self.n)]
        for pos, line, terms, start, lo, hi in self.members:
            rec = _FlowLine(pos, line, terms, start, line.rule.max_lots_per_line is not None)
            rec.span = (lo, hi)
            for item in out[lo:hi]:
                if isinstance(item, Allocation):
                    i = entry_of[(item.lot_id, item.location_id)]
                    rec.alloc[i] = rec.alloc.get(i, ZERO) + item.quantity
                    holders[i][pos] = holders[i].get(pos, ZERO) + item.quantity
            self.flow_lines[pos] = rec
        self.holders = holders
        self.indexed = True

    def eligible_of(self, rec: _FlowLine) -> list[int]:
        """All entries (with or without stock left) the line may use, in FEFO order."""
        found = rec.eligible
        if found is None:
            t, exp, made = rec.terms, self.exp, self.made
            if t.pct_num:
                found = [i for i in range(rec.start, self.n) if exp[i] == NO_EXPIRY or meets_pct(exp[i], made[i], t)]
            else:
                found = list(range(rec.start, self.n))
            rec.eligible = found
        return found

    def allocations_of(self, rec: _FlowLine) -> list[Allocation]:
        made = []
        for i in sorted(rec.alloc):
            e = self.entries[i]
            made.append(
                Allocation(
                    rec.line.line_id,
                    e.lot_id,
                    e.lot_code,
                    e.location_id,
                    e.location_code,
                    rec.alloc[i],
                )
            )
        return made

    def lot_views(self) -> list[tuple[StockLot, Decimal, bool, int | None, int]]:
        """Each lot on hand once, in FEFO order, for reasons: (its first stock row, its quantity
        summed over locations, released?, expiry ordinal, made ordinal). The summed lot itself is
        made only for the few lots a shortage names."""
        if self.views is None:
            totals: dict[int, Decimal] = {}
            first: dict[int, StockLot] = {}
            for s in self.stock:
                if s.available > ZERO:  # Decimal to Decimal: quicker than to an int
                    lot_id = s.lot_id
                    if lot_id in totals:
                        totals[lot_id] += s.available
                    else:
                        totals[lot_id] = s.available
                        first[lot_id] = s
            self.views = [
                (
                    s,
                    totals[lot_id],
                    s.status == "released",
                    None if s.expiry is None else s.expiry.toordinal(),
                    s.made_on.toordinal(),
                )
                for lot_id, s in first.items()
            ]
        return self.views


def _new_allocation(
    line_id: int, lot_id: int, lot_code: str, location_id: int, location_code: str, quantity: Decimal
) -> Allocation:
    """The same frozen object as `Allocation(...)` in a third of the time (its generated
    __init__ sets each field through object.__setattr__), and a wave makes one Allocation per
    line or more."""
    made = _NewAllocation()  # calling the class: no argument tuple, as object.__new__ makes
    made.line_id = line_id
    made.lot_id = lot_id
    made.lot_code = lot_code
    made.location_id = location_id
    made.location_code = location_code
    made.quantity = quantity
    made.__class__ = Allocation
    return made  # type: ignore[no-any-return]  # an Allocation now (cast would cost a call)


# Should Allocation gain a field or a check, _new_allocation (and its inlined copy in _allocate) must learn it
# too: `unfrozen_twin` refuses to run until it has.
_NewAllocation = unfrozen_twin(Allocation, _new_allocation)


def _opening(entries: list[StockLot]) -> list[Decimal]:
    """What each stock entry offers at the start of a wave: what is available, none if less."""
    return [e.available if e.available > ZERO else ZERO for e in entries]


def _find(parent: list[int], i: int) -> int:
    """The first entry at or after i with stock left (path-compressing)."""
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:
        parent[i], i = root, parent[i]
    return root


def _index_stock(lots: Iterable[StockLot]) -> dict[str, _Sku]:
    rows = list(lots)
    # Every row a distinct lot at a location: checked in one set built in C, and only when
    # it fails row by row, to name the first row seen twice.
    if len(set(map(_LOT_AT, rows))) != len(rows):
        seen: set[tuple[int, int]] = set()
        for lot in rows:
            key = (lot.lot_id, lot.location_id)
            if key in seen:
                raise ValueError(f"lot {lot.lot_code} appears twice at location {lot.location_id}")
            seen.add(key)
    return {sku: _Sku(stock) for sku, stock in _grouped(rows, map(_SKU, rows)).items()}


def _grouped(items: list[_T], keys: Iterable[_K]) -> dict[_K, list[_T]]:
    """The items by key, each group in the items' order: without a new list per item (as
    `setdefault` makes), for the thousands of lines and stock rows of a wave."""
    groups: dict[_K, list[_T]] = {}
    for item, key in zip(items, keys, strict=True):
        found = groups.get(key)
        if found is None:
            groups[key] = [item]
        else:
            found.append(item)
    return groups


def allocate(lines: Iterable[OrderLine], lots: Iterable[StockLot]) -> Plan:
    """Allocate a wave of order lines to stock, first expiry first out.

    The plan keeps every rule (eligibility, stock on hand, quantity ordered, lot-count limits)
    and, for every wave, lot-count limits included, is the best plan of the wave in this order:

    1. Maximum fill: no plan allocates more units over the wave.
    2. Lexicographic FEFO among maximum fills: stock is grouped into expiry classes (one per
       expiry date; undated stock is the latest class). Of all maximum fills, the plan uses the
       fewest units of the latest class; among those, the fewest of the next latest; and so on
       down to the earliest. What stays behind is the latest-expiring stock it can be.
    3. Serving order among those: the first line served (ship date, priority, sequence) is
       filled as fully as possible, then the second, and so on.

    A line without a lot-count limit never holds a lot while an earlier lot it may take is left
    over. (A limited line may: a later, larger lot can cover it within its limit.)
    Quantities are exact Decimals throughout. Every short line gets a Shortage whose reasons
    say why, in words. Deterministic: the same lines and lots, in any order, give the same plan.
    `lots` are the pickable stock of the shipping warehouse; each quantity is used at most once
    in the wave.
    """
    # A wave builds no reference cycles, but its many new objects would set off full scans of
    # the whole heap by the cycle collector (about half the time of a 100k-line wave), so the
    # collector is paused for the call and resumed as it was.
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        return _allocate(lines, lots)
    finally:
        if paused:
            gc.enable()


def _allocate(lines: Iterable[OrderLine], lots: Iterable[StockLot]) -> Plan:
    stock = _index_stock(lots)
    # Serving order, `serve_key`: by priority and entry order, then gathered by ship date (a
    # wave spans a handful of days) keeping that order. Quicker than sorting 4-tuples led by
    # dates, whose comparisons dominate. Stable sorts on one int each, from the last field of
    # the key to the first, give the order of (priority, sequence, line_id) in half the time
    # of comparing those tuples (tuples that tie on priority compare field by field).
    by_rest = sorted(lines, key=_LINE_ID)
    by_rest.sort(key=_SEQUENCE)
    by_rest.sort(key=_PRIORITY)
    on_day: dict[date, list[OrderLine]] = _grouped(by_rest, map(_SHIP_DATE, by_rest))
    ordered = [line for ship_date in sorted(on_day) for line in on_day[ship_date]]
    if len(set(map(_LINE_ID, ordered))) != len(ordered):
        raise ValueError("order line ids must be unique within a wave")
    for line in ordered:
        rule = line.rule
        if rule.min_remaining_pct or rule.max_lots_per_line is not None:
            g = stock.get(line.sku)
            if g is not None:
                if rule.max_lots_per_line is not None:
                    g.limited = True
                if rule.min_remaining_pct and not g.nested:
                    g.flow = True

    out: list[Allocation | _FlowLine] = []
    shortages: list[tuple[int, Shortage]] = []  # (position in serving order, shortage)
    tables: dict[tuple[int, int | None, Decimal | None, bool], dict[object, LineTerms]] = {}
    table_of: dict[int, tuple[dict[object, LineTerms], bool]] = {}

    for pos, line in enumerate(ordered):
        need = line.quantity
        if not need:
            continue
        g = stock.get(line.sku)
        if g is None:
            reason = f"not enough stock: {number(need)} requested, none on hand"
            shortages.append((pos, Shortage(line.line_id, line.sku, need, ZERO, need, (reason,))))
            continue
        rule = line.rule
        # Terms depend on the rule's values, not on which customer holds them: customers sharing
        # values share one table of terms by ship date (and, under no-date-reversal, the latest
        # expiry shipped), so terms are worked out once per (values, ship date) and lines with
        # equal terms share their usable stock later.
        known = table_of.get(id(rule))
        if known is None:
            values = (rule.transit_days, rule.min_remaining_days, rule.min_remaining_pct, rule.no_date_reversal)
            known = table_of[id(rule)] = (tables.setdefault(values, {}), rule.no_date_reversal)
        by_day, reversal = known
        day = (line.ship_date, line.latest_shipped_expiry) if reversal else line.ship_date
        t = by_day.get(day)
        if t is None:
            t = by_day[day] = line_terms(line)
        start = bisect_left(g.exp, t.floor)

        if g.indexed or rule.max_lots_per_line is not None:
            lo = len(out)
            _serve_special(g, pos, line, t, start, need, out, shortages)
            g.members.append((pos, line, t, start, lo, len(out)))
            continue

        # The common case, kept inline: no lot-count limit, sku not indexed.
        line_id = line.line_id
        entries, rem, parent, n = g.entries, g.rem, g.next_free, g.n
        exp, made = g.exp, g.made
        check_pct = t.pct_num != 0
        lo = len(out)
        i = start
        if parent[i] != i:
            i = parent[i]  # most often the next entry with stock itself: skip the call
            if parent[i] != i:
                i = _find(parent, start)
        while i < n:
            if check_pct and exp[i] != NO_EXPIRY and not meets_pct(exp[i], made[i], t):
                i += 1
                if parent[i] != i:
                    i = _find(parent, i)
                continue
            r = rem[i]
            rest = r >= need  # the entry covers the rest of the line
            # `_new_allocation`, inlined: this runs once per allocation of the wave.
            e = entries[i]
            item = _NewAllocation()
            item.line_id = line_id
            item.lot_id = e.lot_id
            item.lot_code = e.lot_code
            item.location_id = e.location_id
            item.location_code = e.location_code
            item.quantity = need if rest else r
            item.__class__ = Allocation
            out.append(item)  # an Allocation now
            if rest:
                r -= need
                rem[i] = r
                if not r:
                    parent[i] = i + 1
                need = ZERO  # the line is filled (its need is only tested for zero below)
                break
            # The line takes all the entry holds and goes on: one Decimal operation, not three.
            rem[i] = ZERO
            parent[i] = i + 1
            need -= r
            # Most often the next entry has stock, or points straight at the one that has:
            # skip the call.
            i += 1
            if parent[i] != i:
                i = parent[i]
                if parent[i] != i:
                    i = _find(parent, i)
        if g.flow or g.limited:
            g.members.append((pos, line, t, start, lo, len(out)))
        if g.flow:
            if need and g.has_stock() and (need < line.quantity or _any_eligible(g, t, start)):
                g.build_index(out)
                need -= _augment(g, g.flow_lines[pos], need)
        if need:
            got = line.quantity - need
            shortages.append((pos, _shortage(g, line, t, got, got)))

    replaced: dict[int, tuple[int, int, list[Allocation]]] = {}
    hard = [g for g in stock.values() if g.members]
    if hard:
        missing: dict[str, dict[int, Decimal]] = {}
        for _, s in shortages:
            missing.setdefault(s.sku, {})[s.line_id] = s.missing
        redone: list[tuple[int, Shortage]] = []
        for g in hard:
            if not g.flow and g.plain:
                # Eligible stock is a FEFO suffix for every line and no limit changed what a
                # line took: the plan is the plain FEFO greedy, the best plan even without the
                # limits, and it keeps them.
                continue
            if not _certified(g, missing.get(g.sku, {})):
                redone += _solve_exactly(g, out, replaced)
        if replaced:
            kept = [item for item in shortages if item[0] not in replaced]
            shortages = sorted(kept + redone, key=itemgetter(0))
    return Plan(_flatten(out, stock, replaced), tuple(s for _, s in shortages))


def _serve_special(
    g: _Sku,
    pos: int,
    line: OrderLine,
    t: LineTerms,
    start: int,
    need: Decimal,
    out: list[Allocation | _FlowLine],
    shortages: list[tuple[int, Shortage]],
) -> None:
    """Serve a line with a lot-count limit, or any line of an indexed sku."""
    limit = line.rule.max_lots_per_line
    rec: _FlowLine | None = None
    if g.indexed:
        rec = _FlowLine(pos, line, t, start, limit is not None)
        rec.span = (len(out), len(out) + 1)
        g.flow_lines[pos] = rec
        out.append(rec)
    if limit is None:
        got = _take_greedy(g, line, t, start, need, rec, out)
        if got < need and rec is not None and g.has_stock():
            got += _augment(g, rec, need - got)
        if got < need:
            shortages.append((pos, _shortage(g, line, t, got, got)))
        return

    first = _first_lots(g, t, start, need, limit)
    got = ZERO
    limit_bit = False
    if first is not None:
        # The earliest lots cover the line within the limit (or are all there is: then the
        # line takes all of them, and what it got is what was available to it).
        for i in first:
            got += _take(g, line, i, need - got, rec, out)
        available = got
    else:
        if g.plain:
            g.plain = False
            g.plain_until = (len(g.members), list(g.rem))
        candidates = _candidates(g, t, start)
        available = sum((avail for _, avail in candidates), ZERO)
        chosen, limit_bit = _choose_lots(candidates, need, limit)
        for index in chosen:
            for i in candidates[index][0]:
                if got == need:
                    break
                got += _take(g, line, i, need - got, rec, out)
    if got < need:
        note = None
        if limit_bit:
            held = "largest eligible lot holds" if limit == 1 else f"{limit} largest eligible lots hold"
            note = (
                f"{line.rule.display_name} takes at most {plural(limit, 'lot')} per line; "
                f"the {held} {quantity(got, g.unit)}"
            )
        shortages.append((pos, _shortage(g, line, t, got, available, note)))


def _take(
    g: _Sku,
    line: OrderLine,
    i: int,
    want: Decimal,
    rec: _FlowLine | None,
    out: list[Allocation | _FlowLine],
) -> Decimal:
    """Take up to `want` from entry i; record it in the output, or in the index."""
    r = g.rem[i]
    take = want if r >= want else r
    if not take:
        return ZERO
    g.rem[i] = r - take
    if r == take:
        g.next_free[i] = i + 1
    if rec is None:
        e = g.entries[i]
        out.append(_new_allocation(line.line_id, e.lot_id, e.lot_code, e.location_id, e.location_code, take))
    else:
        rec.alloc[i] = rec.alloc.get(i, ZERO) + take
        g.holders[i][rec.pos] = g.holders[i].get(rec.pos, ZERO) + take
    return take


def _any_eligible(g: _Sku, t: LineTerms, start: int) -> bool:
    """Whether the line may use any entry at all, with stock left or not."""
    if not t.pct_num:
        return start < g.n
    exp, made = g.exp, g.made
    return any(exp[i] == NO_EXPIRY or meets_pct(exp[i], made[i], t) for i in range(start, g.n))


def _take_greedy(
    g: _Sku,
    line: OrderLine,
    t: LineTerms,
    start: int,
    need: Decimal,
    rec: _FlowLine | None,
    out: list[Allocation | _FlowLine],
) -> Decimal:
    """Take the earliest eligible stock until the line is covered; return what was taken."""
    got = ZERO
    parent, exp, made, n = g.next_free, g.exp, g.made, g.n
    check_pct = t.pct_num != 0
    i = _find(parent, start)
    while i < n and got < need:
        if not check_pct or exp[i] == NO_EXPIRY or meets_pct(exp[i], made[i], t):
            got += _take(g, line, i, need - got, rec, out)
        i += 1
        if parent[i] != i:  # most often the next entry has stock: skip the call
            i = _find(parent, i)
    return got


def _first_lots(g: _Sku, t: LineTerms, start: int, need: Decimal, limit: int) -> list[int] | None:
    """The entries of the earliest eligible lots, in FEFO order, while at most `limit` lots
    cover the line; None as soon as a lot beyond the limit would be needed."""
    parent, exp, made, rem, entries, n = g.next_free, g.exp, g.made, g.rem, g.entries, g.n
    check_pct = t.pct_num != 0
    lots: set[int] = set()
    taken: list[int] = []
    total = ZERO
    i = _find(parent, start)
    while i < n and total < need:
        if not check_pct or exp[i] == NO_EXPIRY or meets_pct(exp[i], made[i], t):
            lot_id = entries[i].lot_id
            if lot_id not in lots:
                if len(lots) == limit:
                    return None
                lots.add(lot_id)
            taken.append(i)
            total += rem[i]
        i += 1
        if parent[i] != i:  # most often the next entry has stock: skip the call
            i = _find(parent, i)
    return taken


def _candidates(g: _Sku, t: LineTerms, start: int) -> list[tuple[list[int], Decimal]]:
    """Eligible lots with stock left, in FEFO order: (their entries, quantity over locations)."""
    parent, exp, made, rem, n = g.next_free, g.exp, g.made, g.rem, g.n
    check_pct = t.pct_num != 0
    by_lot: dict[int, int] = {}
    found: list[tuple[list[int], Decimal]] = []
    i = _find(parent, start)
    while i < n:
        if not check_pct or exp[i] == NO_EXPIRY or meets_pct(exp[i], made[i], t):
            lot_id = g.entries[i].lot_id
            index = by_lot.get(lot_id)
            if index is None:
                by_lot[lot_id] = len(found)
                found.append(([i], rem[i]))
            else:
                entries, total = found[index]
                entries.append(i)
                found[index] = (entries, total + rem[i])
        i += 1
        if parent[i] != i:  # most often the next entry has stock: skip the call
            i = _find(parent, i)
    return found


def _top_sums(avail: list[Decimal], first: int, slots: int) -> list[Decimal]:
    """best[i] = the sum of the `slots` largest quantities among avail[i:], for i >= first."""
    best = [ZERO] * (len(avail) + 1)
    if slots <= 0:
        return best
    heap: list[Decimal] = []
    total = ZERO
    for i in range(len(avail) - 1, first - 1, -1):
        if len(heap) < slots:
            heapq.heappush(heap, avail[i])
            total += avail[i]
        elif avail[i] > heap[0]:
            total += avail[i] - heapq.heapreplace(heap, avail[i])
        best[i] = total
    return best


def _choose_lots(candidates: list[tuple[list[int], Decimal]], need: Decimal, limit: int) -> tuple[list[int], bool]:
    """Which candidate lots a line limited to `limit` lots takes, and whether the limit bit.

    See the notes at the top: the earliest lots if they cover the line, else the FEFO-earliest
    set of at most `limit` lots that covers it, else the `limit` largest lots.
    """
    avail = [total for _, total in candidates]
    count = len(avail)
    if count <= limit or sum(avail[:limit], ZERO) >= need:
        return list(range(min(count, limit))), False
    # The `limit` largest lots, larger first and earlier first on equal size (a sort in
    # reverse keeps equal keys in their order): do they cover the line?
    largest = sorted(range(count), key=avail.__getitem__, reverse=True)[:limit]
    if sum((avail[k] for k in largest), ZERO) < need:
        return sorted(largest), True
    chosen: list[int] = []
    rest, slots, first = need, limit, 0
    while rest > 0:
        after = _top_sums(avail, first, slots - 1)
        pick = next(k for k in range(first, count) if avail[k] + after[k + 1] >= rest)
        chosen.append(pick)
        rest -= avail[pick]
        slots -= 1
        first = pick + 1
    return chosen, False


def _augment(g: _Sku, c: _FlowLine, need: Decimal) -> Decimal:
    """Raise line c's fill by rerouting earlier unlimited lines along augmenting paths."""
    gained = ZERO
    rem, holders, dead, lines = g.rem, g.holders, g.dead, g.flow_lines
    while need:
        lot_from: dict[int, _FlowLine] = {}
        line_from: dict[int, int] = {}
        seen = {c.pos}
        queue = deque((c,))
        found = -1
        while queue and found < 0:
            a = queue.popleft()
            for x in g.eligible_of(a):
                if x in lot_from or x in dead:
                    continue
                lot_from[x] = a
                if rem[x]:
                    found = x
                    break
                for b_pos in holders[x]:
                    b = lines[b_pos]
                    if not b.limited and b_pos not in seen:
                        seen.add(b_pos)
                        line_from[b_pos] = x
                        queue.append(b)
        if found < 0:
            # Everything reached is empty and leads only to empty stock: prune it for good.
            dead.update(lot_from)
            break
        delta = min(need, rem[found])
        a = lot_from[found]
        while a is not c:
            y = line_from[a.pos]
            delta = min(delta, a.alloc[y])
            a = lot_from[y]
        rem[found] -= delta
        if not rem[found]:
            g.next_free[found] = found + 1
        x = found
        a = lot_from[x]
        while True:
            _shift(holders, a, x, delta)
            if a is c:
                break
            y = line_from[a.pos]
            _shift(holders, a, y, -delta)
            x, a = y, lot_from[y]
        need -= delta
        gained += delta
    return gained


def _shift(holders: list[dict[int, Decimal]], a: _FlowLine, i: int, delta: Decimal) -> None:
    """Change line a's holding of entry i by delta, keeping both indexes in step."""
    held = a.alloc.get(i, ZERO) + delta
    if held:
        a.alloc[i] = held
        holders[i][a.pos] = held
    else:
        del a.alloc[i]
        del holders[i][a.pos]


def _flatten(
    out: list[Allocation | _FlowLine],
    stock: dict[str, _Sku],
    replaced: dict[int, tuple[int, int, list[Allocation]]],
) -> tuple[Allocation, ...]:
    """The plan's allocations in serving order, rewriting the lines of indexed skus and the
    lines the exact method changed."""
    indexed = [g for g in stock.values() if g.indexed]
    if not indexed and not replaced:
        return cast(tuple[Allocation, ...], tuple(out))  # nothing indexed: no _FlowLine in out
    # Each such line replaces its slice of the output: what it wrote before indexing, or the
    # placeholder it left after. Equal starts (empty slices) keep serving order.
    edits = [
        (rec.span[0], rec.pos, rec.span[1], g.allocations_of(rec))
        for g in indexed
        for rec in g.flow_lines.values()
        if rec.pos not in replaced
    ]
    edits += [(lo, pos, hi, allocations) for pos, (lo, hi, allocations) in replaced.items()]
    edits.sort(key=lambda edit: (edit[0], edit[1]))
    flat: list[Allocation] = []
    at = 0
    for lo, _, hi, allocations in edits:
        flat.extend(cast(list[Allocation], out[at:lo]))
        flat.extend(allocations)
        at = max(at, hi)
    flat.extend(cast(list[Allocation], out[at:]))
    return tuple(flat)


def _shortage(
    g: _Sku,
    line: OrderLine,
    t: LineTerms,
    allocated: Decimal,
    available: Decimal,
    limit_note: str | None = None,
) -> Shortage:
    """The shortage of a line that got `allocated`, with `available` eligible stock in reach."""
    requested = line.quantity
    reasons: list[str] = []
    if limit_note:
        reasons.append(limit_note)
    lots: list[str] = []
    named = 0
    unnamed = 0
    ineligible = ZERO
    # `accepts_expiry`, inlined: a short sku's every lot is checked for every short line.
    floor, pct = t.floor, t.pct_num
    for first, total, released, expiry, made in g.lot_views():
        if released and (expiry is None or (expiry >= floor and (not pct or meets_pct(expiry, made, t)))):
            continue
        ineligible += total
        if named < MAX_LOTS_NAMED:
            # The lot as a whole, its quantity summed over locations.
            why = ineligibility_message(first, total, line, t)
            if why is not None:
                lots.append(why)
            named += 1
        else:
            unnamed += 1
    if unnamed:
        lots.append(f"and {plural(unnamed, 'more lot')} not eligible")
    if available < requested:
        if ineligible:
            # Stock exists but none of it may go to this customer: say so, then name each lot's rule.
            reasons.append(
                f"not enough eligible stock for {line.rule.display_name}: {quantity(requested, g.unit)} "
                f"requested, {quantity(available, g.unit)} available; {quantity(ineligible, g.unit)} on hand "
                f"may not go to them"
            )
        else:
            reasons.append(
                f"not enough stock: {quantity(requested, g.unit)} requested, {quantity(available, g.unit)} available"
            )
    reasons += lots
    return Shortage(line.line_id, line.sku, requested, allocated, requested - allocated, tuple(reasons))


# --- proving the served plan best, or finding the best exactly ----------------------------------


def _certified(g: _Sku, missing: dict[int, Decimal]) -> bool:
    """Cheap proofs that the served plan of a flow or limited sku is already the exact best.

    1. Every line is filled and no stock any line may use is left over with an earlier expiry
       than the latest stock used: any plan filling as much must use all of that earlier stock,
       and so at least as much of every later class.
    2. (Nested skus.) The plan equals, in total, in units per expiry class and in every line's
       fill, the best plan of the relaxation that forgets lot limits and caps each limited line
       at what its largest eligible lots hold. Eligible stock is a FEFO suffix for every line,
       so that best plan is the plain FEFO greedy in serving order, and a plan that reaches a
       relaxation's best is best.
    """
    if not missing and _no_earlier_stock_left(g):
        return True
    if g.flow:
        return False
    return _matches_relaxation(g, missing)


def _eligible_at(g: _Sku, t: LineTerms, i: int) -> bool:
    return not t.pct_num or g.exp[i] == NO_EXPIRY or meets_pct(g.exp[i], g.made[i], t)


def _usable(g: _Sku, t: LineTerms, start: int) -> list[int]:
    """The entries a line may use that held stock at the start of the wave, in FEFO order.

    Lines of one rule and ship date share their terms, and so this list (kept on the sku);
    lines without a percentage rule share it whenever they start at the same entry."""
    key = (id(t) if t.pct_num else 0, start)
    found = g.usable.get(key)
    if found is None:
        avail0 = g.initial()
        if t.pct_num:
            exp, made = g.exp, g.made
            found = [
                i for i in range(start, g.n) if avail0[i] and (exp[i] == NO_EXPIRY or meets_pct(exp[i], made[i], t))
            ]
        else:
            found = [i for i in range(start, g.n) if avail0[i]]
        g.usable[key] = found
    return found


def _no_earlier_stock_left(g: _Sku) -> bool:
    rem, avail0, exp, n = g.rem, g.initial(), g.exp, g.n
    last = None
    for i in range(n - 1, -1, -1):
        if rem[i] != avail0[i]:
            last = exp[i]
            break
    if last is None:
        return True
    plain = n
    seen: set[tuple[int, int]] = set()
    picky: list[tuple[LineTerms, int]] = []
    for _, _, t, start, _, _ in g.members:
        if not t.pct_num:
            if start < plain:
                plain = start
        elif (id(t), start) not in seen:  # lines of one rule and ship date share their terms
            seen.add((id(t), start))
            picky.append((t, start))
    for i in range(n):
        if exp[i] >= last:
            break
        if not rem[i]:
            continue
        if i >= plain:
            return False
        for t, start in picky:
            if start <= i and _eligible_at(g, t, i):
                return False
    return True


def _lot_sizes(g: _Sku, usable: list[int]) -> list[Decimal]:
    """What each lot among these entries held at the start of the wave, largest first."""
    totals: dict[int, Decimal] = {}
    entries, avail0 = g.entries, g.initial()
    for i in usable:
        lot_id = entries[i].lot_id
        if lot_id in totals:
            totals[lot_id] += avail0[i]
        else:
            totals[lot_id] = avail0[i]
    return sorted(totals.values(), reverse=True)


def _matches_relaxation(g: _Sku, missing: dict[int, Decimal]) -> bool:
    n, avail0 = g.n, g.initial()
    # Up to the first limited line that did not simply take its earliest lots, every line was
    # served as the relaxation serves it (the FEFO greedy on the same stock; such a limited
    # line's earliest lots covered it, or were all there was, within its cap): the
    # relaxation starts there, from the stock then left. Only skus with such a line get here.
    assert g.plain_until is not None
    served, rem = g.plain_until
    rem = list(rem)
    # Per shared list of usable entries: where its first entry with stock left may be (stock
    # only runs out, so this only moves on).
    first: dict[int, int] = {}
    # A limited line's cap: what its `limit` largest usable lots held at the start (lots are
    # sized once per list of usable entries, lines of one rule and ship date sharing one).
    top: dict[tuple[int, int], Decimal] = {}
    sizes: dict[int, list[Decimal]] = {}
    for _, line, t, start, _, _ in g.members[served:]:
        want = line.quantity
        usable = _usable(g, t, start)
        limit = line.rule.max_lots_per_line
        if limit is not None:
            cap = top.get((id(usable), limit))
            if cap is None:
                largest = sizes.get(id(usable))
                if largest is None:
                    largest = sizes[id(usable)] = _lot_sizes(g, usable)
                cap = top[(id(usable), limit)] = sum(largest[:limit], ZERO)
            want = min(want, cap)
        need = want
        k, end = first.get(id(usable), 0), len(usable)
        while k < end and not rem[usable[k]]:
            k += 1
        first[id(usable)] = k
        while need and k < end:
            i = usable[k]
            r = rem[i]
            if r:
                take = need if r >= need else r
                rem[i] = r - take
                need -= take
            k += 1
        if want - need != line.quantity - missing.get(line.line_id, ZERO):
            return False
    exp = g.exp
    i = 0
    while i < n:
        k, ours, best = i, ZERO, ZERO
        while k < n and exp[k] == exp[i]:
            ours += avail0[k] - g.rem[k]
            best += avail0[k] - rem[k]
            k += 1
        if ours != best:
            return False
        i = k
    return True


def _no_better_plan(g: _Sku, part: list[int], eligible: list[list[int]], served: list[dict[int, Decimal]]) -> bool:
    """Whether no plan of the part, even one ignoring lot limits, beats its served plan.

    Two plans differ by moves along alternating paths of the served plan: a line takes a unit
    of an entry it may use, the entry's holder gives it up and takes another, and so on. Such a
    path changes the plan's rank (`exact.Problem.key`) only at its ends, so the served plan is
    best when no path improves it at its ends:
      - from a short line to stock left over (one more unit allocated);
      - from a short line to a line served after it, which gives the unit up (the earlier line
        fuller, the same stock used);
      - from stock left over to held stock of a later expiry (the same fill, later stock left).
    A difference of plans splits into such paths, each no better, and their ends add up to a
    rank no better either. The served plan keeps every limit, so it is then the exact best.
    """
    members, rem, exp = g.members, g.rem, g.exp
    takers: dict[int, list[int]] = {}  # entry -> the part's lines (local) that may use it
    holders: dict[int, list[int]] = {}  # entry -> the part's lines (local) holding some of it
    for k, m in enumerate(part):
        for i in eligible[m]:
            found = takers.get(i)
            if found is None:
                takers[i] = [k]
            else:
                found.append(k)
        for i, q in served[k].items():
            if q:
                holders.setdefault(i, []).append(k)
    # Searches share what they reached: short lines go in serving order (a line reached from
    # an earlier one was served before it), left-over stock in FEFO order (stock reached from
    # an earlier entry was checked against an earlier expiry).
    seen_lines: set[int] = set()
    seen_entries: set[int] = set()
    for k, m in enumerate(part):
        if sum(served[k].values(), ZERO) == members[m][1].quantity or k in seen_lines:
            continue
        seen_lines.add(k)
        queue = [k]
        while queue:
            a = queue.pop()
            for i in eligible[part[a]]:
                if i in seen_entries:
                    continue
                if rem[i]:
                    return False
                seen_entries.add(i)
                for b in holders.get(i, ()):
                    if b > k:
                        return False
                    if b not in seen_lines:
                        seen_lines.add(b)
                        queue.append(b)
    seen_lines.clear()
    seen_entries.clear()
    for u in sorted(takers):
        if not rem[u] or u in seen_entries:
            continue
        seen_entries.add(u)
        queue = [u]
        while queue:
            for a in takers[queue.pop()]:
                if a in seen_lines:
                    continue
                seen_lines.add(a)
                for w in served[a]:
                    if w in seen_entries or not served[a][w]:
                        continue
                    if exp[w] > exp[u]:
                        return False
                    seen_entries.add(w)
                    queue.append(w)
    return True


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _solve_exactly(
    g: _Sku,
    out: list[Allocation | _FlowLine],
    replaced: dict[int, tuple[int, int, list[Allocation]]],
) -> list[tuple[int, Shortage]]:
    """Re-plan the sku's connected parts exactly where the served plan may fall short.

    Lines are joined when they may use a common entry; a part of a nested sku without a
    limited line is already best (FEFO greedy), every other part goes to `exact.solve`, with
    the served plan as the answer to beat. Returns the shortages of the lines it changed.
    """
    n, exp, avail0, entries = g.n, g.exp, g.initial(), g.entries
    members = g.members
    # Lines of one rule and ship date share their terms, and so their eligible stock.
    shared: dict[tuple[int, int], list[int]] = {}
    eligible = []
    for _, _, t, start, _, _ in members:
        found = shared[(id(t), start)] = _usable(g, t, start)
        eligible.append(found)
    # The served plan of a member: entry -> quantity, read when its part is solved. Entries
    # are found by lot where the lot lies at one location here (most lots: no key pair to
    # make), else by (lot, location); by_lot holds -1 for the others.
    by_lot: dict[int, int] = {}
    by_place: dict[tuple[int, int], int] = {}

    def served_of(m: int) -> dict[int, Decimal]:
        pos, _, _, _, lo, hi = members[m]
        if g.indexed:
            return dict(g.flow_lines[pos].alloc)
        if not by_place:
            for k, e in enumerate(entries):
                by_place[(e.lot_id, e.location_id)] = k
                by_lot[e.lot_id] = -1 if e.lot_id in by_lot else k
        held: dict[int, Decimal] = {}
        # Only Allocations: lines of skus that are not indexed leave no placeholder.
        for item in cast(list[Allocation], out[lo:hi]):
            i = by_lot[item.lot_id]
            if i < 0:
                i = by_place[(item.lot_id, item.location_id)]
            if i in held:
                held[i] += item.quantity
            else:
                held[i] = item.quantity
        return held

    parts: dict[int, list[int]] = {}
    if not g.flow:
        # Every line's usable stock is a FEFO suffix of the stock held at the start, so all
        # lines that may use anything share the last such entry: the sku is one part.
        joined = [m for m, found in enumerate(eligible) if found]
        if joined:
            parts[0] = joined
    else:
        # Union-find with the smallest entry as each root; most entries are roots or one step
        # away. Lines without a percentage rule share lists (`_usable`): each is joined once.
        link = list(range(n))
        for found in {id(found): found for found in shared.values()}.values():
            if not found:
                continue
            a = found[0]
            if link[a] != a:
                a = _find(link, a)
            for i in found[1:]:
                b = link[i]
                if link[b] != b:
                    b = _find(link, b)
                if a != b:
                    if a < b:
                        link[b] = a
                    else:
                        link[a] = b
                        a = b
        for m, found in enumerate(eligible):
            if found:
                parts.setdefault(_find(link, found[0]), []).append(m)

    final: dict[int, dict[int, Decimal]] = {}  # the new plan of each changed member
    was: dict[int, dict[int, Decimal]] = {}  # and its served plan
    changed: list[int] = []
    for part in parts.values():
        if not g.flow and all(members[m][1].rule.max_lots_per_line is None for m in part):
            continue
        served = [served_of(m) for m in part]
        # Parts of nested skus got here failing `_matches_relaxation`, a stronger proof; those
        # of skus with crossing percentage rules had no proof yet and mostly pass this one.
        if g.flow and _no_better_plan(g, part, eligible, served):
            continue
        lists = {id(eligible[m]): eligible[m] for m in part}
        if len(lists) == 1:
            used = next(iter(lists.values()))  # ascending already
        else:
            used = sorted({i for found in lists.values() for i in found})
        local = {i: k for k, i in enumerate(used)}
        quantities = [members[m][1].quantity for m in part]
        stock = [avail0[i] for i in used]
        # Whole units unless some quantity has decimals (int() and == are cheap on Decimals).
        places = 0
        if any(q != int(q) for q in quantities) or any(q != int(q) for q in stock):
            places = max(_places(q) for q in (*quantities, *stock))
        if places:
            demand = [int(q.scaleb(places)) for q in quantities]
            avail = [int(q.scaleb(places)) for q in stock]
            incumbent = [{local[i]: int(q.scaleb(places)) for i, q in held.items() if q} for held in served]
        else:
            demand = [int(q) for q in quantities]
            avail = [int(q) for q in stock]
            incumbent = [{local[i]: int(q) for i, q in held.items() if q} for held in served]
        # Lines sharing eligible stock share its local list too.
        local_lists = {key: [local[i] for i in found] for key, found in lists.items()}
        # Entries are in FEFO order, so expiry classes rise along `used`.
        cls: list[int] = []
        last_exp, k = None, -1
        for i in used:
            if exp[i] != last_exp:
                last_exp, k = exp[i], k + 1
            cls.append(k)
        lot_ids = [entries[i].lot_id for i in used]
        lot_index = {lot_id: k for k, lot_id in enumerate(sorted(set(lot_ids)))}
        problem = Problem(
            demand=demand,
            limit=[members[m][1].rule.max_lots_per_line for m in part],
            eligible=[local_lists[id(eligible[m])] for m in part],
            avail=avail,
            cls=cls,
            lot=[lot_index[lot_id] for lot_id in lot_ids],
        )
        best = solve(problem, incumbent)
        if best is incumbent or best == incumbent:
            continue
        for m, units_of, held in zip(part, best, served, strict=True):
            final[m] = {
                used[k]: Decimal(units).scaleb(-places) if places else Decimal(units)
                for k, units in sorted(units_of.items())
                if units
            }
            was[m] = held
            changed.append(m)
    if not changed:
        return []

    rem = list(g.rem)
    for m in changed:
        for i, q in was[m].items():
            rem[i] += q
        for i, q in final[m].items():
            rem[i] -= q
    g.rem = rem
    redone: list[tuple[int, Shortage]] = []
    for m in sorted(changed):
        pos, line, t, _, lo, hi = members[m]
        held = final[m]
        replaced[pos] = (
            lo,
            hi,
            [
                _new_allocation(
                    line.line_id,
                    entries[i].lot_id,
                    entries[i].lot_code,
                    entries[i].location_id,
                    entries[i].location_code,
                    q,
                )
                for i, q in sorted(held.items())
            ],
        )
        got = sum(held.values(), ZERO)
        if got < line.quantity:
            redone.append((pos, _exact_shortage(g, line, t, got, eligible[m])))
    return redone


def _exact_shortage(g: _Sku, line: OrderLine, t: LineTerms, got: Decimal, eligible: list[int]) -> Shortage:
    limit = line.rule.max_lots_per_line
    if limit is None:
        return _shortage(g, line, t, got, got)
    available = got + sum((g.rem[i] for i in eligible), ZERO)
    totals = _lot_totals(g, eligible)
    if len(totals) <= limit:
        return _shortage(g, line, t, got, available)  # the limit does not bind
    top = sum(sorted(totals.values(), reverse=True)[:limit], ZERO)
    name = line.rule.display_name
    if top < line.quantity:
        held = "largest eligible lot holds" if limit == 1 else f"{limit} largest eligible lots hold"
        note = f"{name} takes at most {plural(limit, 'lot')} per line; the {held} {quantity(top, g.unit)}"
    else:
        note = (
            f"{name} takes at most {plural(limit, 'lot')} per line, and other lines of this wave "
            "need the rest of the lots that could fill it"
        )
    return _shortage(g, line, t, got, available, note)


def _lot_totals(g: _Sku, eligible: list[int]) -> dict[int, Decimal]:
    totals: dict[int, Decimal] = {}
    avail0 = g.initial()
    for i in eligible:
        lot_id = g.entries[i].lot_id
        totals[lot_id] = totals.get(lot_id, ZERO) + avail0[i]
    return totals

"""Multi-level trace: every lot upstream or downstream of a set of lots, one recursive query per direction."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import Invalid, NotFound
from app.models import (
    Customer,
    Lot,
    LotLink,
    Product,
    ProductionRun,
    Receipt,
    ReceiptLine,
    Shipment,
    ShipmentLine,
    Supplier,
)
from app.queries.lots import candidates_text, lot_candidates
from app.schemas import (
    Direction,
    TraceLotOut,
    TraceNodeOut,
    TraceOut,
    TraceQuery,
    TraceReceiptOut,
    TraceRowOut,
    TraceShipmentOut,
)

Way = Literal["backward", "forward"]

# Bound parameters per statement stay well below SQLite's limit (32,766) and PostgreSQL's (65,535).
CHUNK = 10_000


def chunks(ids: Collection[int]) -> Iterator[list[int]]:
    """The ids in sorted slices small enough for one IN (...) list."""
    ordered = sorted(ids)
    for i in range(0, len(ordered), CHUNK):
        yield ordered[i:i + CHUNK]


@dataclass(frozen=True)
class Link:
    """One genealogy edge reached by a trace: `quantity` of the input lot went into the output lot."""

    input_lot_id: int
    output_lot_id: int
    run_id: int
    quantity: Decimal


@dataclass(frozen=True)
class Reached:
    """A lot a trace reached: its smallest distance from a start lot and the lot it was reached from."""

    lot_id: int
    depth: int
    parent_lot_id: int
    quantity: Decimal
    run_id: int


@dataclass(frozen=True)
class Walk:
    """The result of tracing one direction from a set of start lots."""

    way: Way
    start_ids: frozenset[int]
    links: list[Link]
    reached: dict[int, Reached]

    @property
    def lot_ids(self) -> set[int]:
        return set(self.reached) | set(self.start_ids)

    def children(self) -> dict[int, list[Link]]:
        """Edges by the lot they lead away from, in this walk's direction."""
        out: dict[int, list[Link]] = defaultdict(list)
        for link in self.links:
            key = link.input_lot_id if self.way == "forward" else link.output_lot_id
            out[key].append(link)
        return out


def links(session: Session, start_ids: Collection[int], way: Way) -> list[Link]:
    """Every edge reachable from the start lots in one direction, as ONE recursive query.

    The recursion selects whole edges and combines them with UNION (not UNION ALL), so an edge
    already found is never expanded again: the query ends on any graph, cycles included, after at
    most one step per edge.
    """
    if not start_ids:
        return []
    ll = LotLink.__table__
    cols = (ll.c.input_lot_id, ll.c.output_lot_id, ll.c.run_id, ll.c.quantity)
    near = ll.c.input_lot_id if way == "forward" else ll.c.output_lot_id
    seed = select(*cols).where(near.in_(sorted(start_ids))).cte("trace", recursive=True)
    reached_far = seed.c.output_lot_id if way == "forward" else seed.c.input_lot_id
    step = select(*cols).join(seed, near == reached_far)
    tree = seed.union(step)
    rows = session.execute(select(tree.c.input_lot_id, tree.c.output_lot_id, tree.c.run_id, tree.c.quantity))
    return [Link(int(i), int(o), int(r), q) for i, o, r, q in rows]


def walk(session: Session, start_ids: Collection[int], way: Way) -> Walk:
    """Trace one direction; each reached lot gets its shortest depth and the first parent found."""
    found = links(session, start_ids, way)
    starts = frozenset(start_ids)
    w = Walk(way, starts, found, {})
    nexts = w.children()
    queue: deque[tuple[int, int]] = deque((lot_id, 0) for lot_id in sorted(starts))
    seen = set(starts)
    while queue:
        lot_id, depth = queue.popleft()
        for link in sorted(nexts.get(lot_id, ()), key=lambda x: (x.run_id, x.input_lot_id, x.output_lot_id)):
            other = link.output_lot_id if way == "forward" else link.input_lot_id
            if other in seen:
                continue
            seen.add(other)
            w.reached[other] = Reached(other, depth + 1, lot_id, link.quantity, link.run_id)
            queue.append((other, depth + 1))
    return w


# --- details of the lots, runs, receipts and shipments a trace touches -------------------------


def lot_infos(session: Session, ids: Collection[int]) -> dict[int, TraceLotOut]:
    out: dict[int, TraceLotOut] = {}
    for part in chunks(ids):
        rows = session.execute(
            select(Lot.id, Product.sku, Product.name, Product.gtin, Product.unit, Lot.code, Lot.origin,
                   Lot.status, Lot.made_on, Lot.expiry, Lot.supplier_id, Supplier.name, Lot.supplier_lot_code)
            .join(Product, Lot.product_id == Product.id)
            .outerjoin(Supplier, Lot.supplier_id == Supplier.id)
            .where(Lot.id.in_(part))
        )
        for r in rows:
            out[r[0]] = TraceLotOut(id=r[0], sku=r[1], product_name=r[2], gtin=r[3], unit=r[4], code=r[5],
                                    origin=r[6], status=r[7], made_on=r[8], expiry=r[9], supplier_id=r[10],
                                    supplier_name=r[11], supplier_lot_code=r[12])
    return out


def run_numbers(session: Session, ids: Collection[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for part in chunks(ids):
        out.update({i: n for i, n in session.execute(
            select(ProductionRun.id, ProductionRun.number).where(ProductionRun.id.in_(part)))})
    return out


def shipments_of(session: Session, lot_ids: Collection[int]) -> dict[int, list[TraceShipmentOut]]:
    """Shipments of each lot, per shipment (lines of the same lot in one shipment added up)."""
    out: dict[int, list[TraceShipmentOut]] = defaultdict(list)
    for part in chunks(lot_ids):
        rows = session.execute(
            select(ShipmentLine.lot_id, Shipment.id, Shipment.number, Shipment.shipped_on, Customer.id,
                   Customer.name, func.sum(ShipmentLine.quantity), Shipment.override_reason)
            .join(Shipment, ShipmentLine.shipment_id == Shipment.id)
            .join(Customer, Shipment.customer_id == Customer.id)
            .where(ShipmentLine.lot_id.in_(part))
            .group_by(ShipmentLine.lot_id, Shipment.id, Shipment.number, Shipment.shipped_on, Customer.id,
                      Customer.name, Shipment.override_reason)
        )
        for lot_id, sid, number, shipped_on, cid, cname, qty, override in rows:
            out[lot_id].append(TraceShipmentOut(shipment_id=sid, shipment_number=number, shipped_on=shipped_on,
                                                customer_id=cid, customer_name=cname, quantity=qty,
                                                override_reason=override))
    for rows_ in out.values():
        rows_.sort(key=lambda s: (s.shipped_on, s.shipment_id))
    return out


def receipts_of(session: Session, lot_ids: Collection[int]) -> dict[int, list[TraceReceiptOut]]:
    """Receipts of each lot (a lot topped up by several deliveries has several)."""
    out: dict[int, list[TraceReceiptOut]] = defaultdict(list)
    for part in chunks(lot_ids):
        rows = session.execute(
            select(ReceiptLine.lot_id, Receipt.id, Receipt.number, Receipt.received_on, Supplier.id, Supplier.name,
                   func.sum(ReceiptLine.quantity))
            .join(Receipt, ReceiptLine.receipt_id == Receipt.id)
            .join(Supplier, Receipt.supplier_id == Supplier.id)
            .where(ReceiptLine.lot_id.in_(part))
            .group_by(ReceiptLine.lot_id, Receipt.id, Receipt.number, Receipt.received_on, Supplier.id,
                      Supplier.name)
        )
        for lot_id, rid, number, received_on, sid, sname, qty in rows:
            out[lot_id].append(TraceReceiptOut(receipt_id=rid, receipt_number=number, received_on=received_on,
                                               supplier_id=sid, supplier_name=sname, quantity=qty))
    for rows_ in out.values():
        rows_.sort(key=lambda r: (r.received_on, r.receipt_id))
    return out


# --- starting points --------------------------------------------------------------------------


def existing_lots(session: Session, ids: Iterable[int], field: str = "lot_id") -> list[int]:
    """The ids, if every one is a lot; an unknown id is a 404 naming it."""
    wanted = sorted(set(ids))
    if not wanted:
        raise Invalid("no lot selected", field)
    found: set[int] = set()
    for part in chunks(wanted):
        found.update(session.scalars(select(Lot.id).where(Lot.id.in_(part))))
    missing = [i for i in wanted if i not in found]
    if missing:
        raise NotFound(f"lot {missing[0]} does not exist", field)
    return wanted


def lots_by_supplier_lot(session: Session, code: str, supplier_id: int | None = None) -> list[int]:
    q = select(Lot.id).where(Lot.supplier_lot_code == code)
    if supplier_id is not None:
        q = q.where(Lot.supplier_id == supplier_id)
    ids = list(session.scalars(q.order_by(Lot.id)))
    if not ids:
        raise NotFound(f"no lot was received with supplier lot code {code!r}", "supplier_lot_code")
    return ids


def lots_in_shipment(session: Session, shipment: str) -> list[int]:
    """The lots of a shipment named by its number (SH-000042) or id."""
    ref = shipment.strip()
    q = select(Shipment.id).where(Shipment.number == ref)
    shipment_id = session.scalar(q)
    if shipment_id is None and ref.isdigit():
        shipment_id = session.scalar(select(Shipment.id).where(Shipment.id == int(ref)))
    if shipment_id is None:
        raise NotFound(f"no shipment {ref!r}", "shipment")
    return sorted(set(session.scalars(select(ShipmentLine.lot_id).where(ShipmentLine.shipment_id == shipment_id))))


def lots_of_product(session: Session, sku: str, date_from: date | None, date_to: date | None) -> list[int]:
    """Lots of a product received or made within a date range (both ends included)."""
    if date_from and date_to and date_from > date_to:
        raise Invalid(f"the range runs backwards: from {date_from} is after to {date_to}", "from")
    product_id = session.scalar(select(Product.id).where(Product.sku == sku))
    if product_id is None:
        raise NotFound(f"no product with sku {sku!r}", "sku")
    q = select(Lot.id).where(Lot.product_id == product_id)
    if date_from:
        q = q.where(Lot.made_on >= date_from)
    if date_to:
        q = q.where(Lot.made_on <= date_to)
    ids = list(session.scalars(q.order_by(Lot.id)))
    if not ids:
        raise NotFound(f"{sku} has no lots made or received in that range", "sku")
    return ids


def lot_by_sku_code(session: Session, sku: str, code: str, field: str = "lot_code") -> int:
    lot_id = session.scalar(select(Lot.id).join(Product, Lot.product_id == Product.id)
                            .where(Product.sku == sku, Lot.code == code))
    if lot_id is None:
        raise NotFound(f"{sku} has no lot {code!r}", field)
    return int(lot_id)


def lots_by_scan(session: Session, raw: str, *, separator: str | None, today: date, field: str = "scan") -> list[int]:
    """The lot(s) a scanned label or typed text names.

    A GS1 label (element string or Digital Link) names a product and a lot; typed text is tried as
    a lot code, then a supplier's lot code, then a shipment number.
    """
    from scanning import ScanError, parse

    try:
        scan = parse(raw, separator=separator or None, today=today)
    except ScanError as exc:
        raise Invalid(str(exc), field) from None
    if scan.kind in ("gs1", "digital_link"):
        if not scan.lot:
            raise Invalid("the label names a product but no lot; scan the lot label", field)
        product = select(Product.id)
        if scan.gtin:
            product = product.where(Product.gtin == scan.gtin)
        elif scan.sku:
            product = product.where(Product.sku == scan.sku)
        else:
            raise Invalid("the label names no product (GTIN or sku)", field)
        ids = list(session.scalars(select(Lot.id).where(Lot.product_id.in_(product.scalar_subquery()),
                                                        Lot.code == scan.lot)))
        if not ids:
            raise NotFound(f"no lot {scan.lot} of {scan.product_key} is known", field)
        return ids
    if scan.kind == "gtin":
        raise Invalid("that is a product barcode without a lot; scan the lot label", field)
    text = (scan.text or raw).strip()
    same_code = session.execute(select(Lot.id, Product.sku).join(Product, Lot.product_id == Product.id)
                                .where(Lot.code == text).order_by(Product.sku)).all()
    if len(same_code) > 1:
        # Lot codes are unique per product only; recalling every product's lot of that name by accident
        # would be worse than asking.
        candidates = lot_candidates(session, [lot_id for lot_id, _ in same_code])
        raise Invalid(f"lot code {text} is used by {len(candidates)} products: {candidates_text(candidates)}; "
                      f"choose one, or name the product too (SKU / LOT)", field,
                      title="Several products share this lot code",
                      candidates=[c.model_dump(mode="json") for c in candidates])
    ids = [lot_id for lot_id, _ in same_code]
    if not ids:
        ids = list(session.scalars(select(Lot.id).where(Lot.supplier_lot_code == text).order_by(Lot.id)))
    if not ids:
        shipment_id = session.scalar(select(Shipment.id).where(Shipment.number == text))
        if shipment_id is not None:
            ids = sorted(set(session.scalars(
                select(ShipmentLine.lot_id).where(ShipmentLine.shipment_id == shipment_id))))
    if not ids:
        raise NotFound(f"nothing known as {text!r}: no lot, supplier lot or shipment", field)
    return ids


# --- the trace as trees -----------------------------------------------------------------------


def _subtree_sets(walk_: Walk, partners: dict[int, set[int]]) -> dict[int, tuple[set[int], set[int]]]:
    """For every lot in the walk: the distinct lots below it and the distinct partners below it.

    Computed once per lot in reverse depth order (memoised), so shared inputs cost nothing extra.
    """
    nexts = walk_.children()
    order = sorted(walk_.lot_ids, key=lambda i: -(walk_.reached[i].depth if i in walk_.reached else 0))
    below: dict[int, tuple[set[int], set[int]]] = {}

    def compute(lot_id: int, guard: set[int]) -> tuple[set[int], set[int]]:
        if lot_id in below:
            return below[lot_id]
        guard.add(lot_id)
        lots: set[int] = set()
        parts: set[int] = set(partners.get(lot_id, ()))
        for link in nexts.get(lot_id, ()):
            other = link.output_lot_id if walk_.way == "forward" else link.input_lot_id
            lots.add(other)
            if other in guard:  # a cycle: count the lot, do not descend into it again
                continue
            sub_lots, sub_parts = compute(other, guard)
            lots |= sub_lots
            parts |= sub_parts
        guard.discard(lot_id)
        lots.discard(lot_id)
        below[lot_id] = (lots, parts)
        return below[lot_id]

    for lot_id in order:
        compute(lot_id, set())
    return below


def _trees(walk_: Walk, infos: dict[int, TraceLotOut], runs: dict[int, str],
           shipments: dict[int, list[TraceShipmentOut]],
           receipts: dict[int, list[TraceReceiptOut]]) -> list[TraceNodeOut]:
    forward = walk_.way == "forward"
    partners: dict[int, set[int]] = {}
    for lot_id in walk_.lot_ids:
        if forward:
            partners[lot_id] = {s.customer_id for s in shipments.get(lot_id, ())}
        else:
            partners[lot_id] = {r.supplier_id for r in receipts.get(lot_id, ())}
    below = _subtree_sets(walk_, partners)
    nexts = walk_.children()
    expanded: set[int] = set()

    def node(lot_id: int, depth: int, link: Link | None, path: frozenset[int]) -> TraceNodeOut:
        repeated = lot_id in expanded
        expanded.add(lot_id)
        kids: list[TraceNodeOut] = []
        if not repeated:
            for nxt in sorted(nexts.get(lot_id, ()), key=lambda x: (x.run_id, x.input_lot_id, x.output_lot_id)):
                other = nxt.output_lot_id if forward else nxt.input_lot_id
                if other in path:
                    continue
                kids.append(node(other, depth + 1, nxt, path | {other}))
        lots, parts = below[lot_id]
        return TraceNodeOut(
            lot=infos[lot_id], depth=depth, quantity=link.quantity if link else None,
            run_id=link.run_id if link else None, run_number=runs.get(link.run_id) if link else None,
            repeated=repeated, lot_count=len(lots), partner_count=len(parts),
            shipments=shipments.get(lot_id, []) if forward and not repeated else [],
            receipts=receipts.get(lot_id, []) if not forward and not repeated else [],
            children=kids,
        )

    return [node(s, 0, None, frozenset({s})) for s in sorted(walk_.start_ids)]


def trace(session: Session, start_ids: Sequence[int], direction: Direction = "both") -> TraceOut:
    """Backward and/or forward trace of the start lots, with trees, flat rows, suppliers and shipments."""
    starts = existing_lots(session, start_ids)
    walks: dict[Way, Walk] = {}
    if direction in ("backward", "both"):
        walks["backward"] = walk(session, starts, "backward")
    if direction in ("forward", "both"):
        walks["forward"] = walk(session, starts, "forward")
    all_ids: set[int] = set(starts)
    run_ids: set[int] = set()
    for w in walks.values():
        all_ids |= w.lot_ids
        run_ids |= {link.run_id for link in w.links}
    infos = lot_infos(session, all_ids)
    runs = run_numbers(session, run_ids)
    back_ids = walks["backward"].lot_ids if "backward" in walks else set()
    fwd_ids = walks["forward"].lot_ids if "forward" in walks else set()
    receipts = receipts_of(session, back_ids) if back_ids else {}
    shipments = shipments_of(session, fwd_ids) if fwd_ids else {}

    rows = [TraceRowOut(lot=infos[i], direction="start", depth=0) for i in starts]
    for way, w in walks.items():
        for r in sorted(w.reached.values(), key=lambda x: (x.depth, x.lot_id)):
            rows.append(TraceRowOut(lot=infos[r.lot_id], direction=way, depth=r.depth))
    suppliers = sorted((r for i in back_ids for r in receipts.get(i, [])),
                       key=lambda r: (r.supplier_name, r.received_on, r.receipt_id))
    shipped = sorted((s for i in fwd_ids for s in shipments.get(i, [])),
                     key=lambda s: (s.shipped_on, s.shipment_id, s.customer_name))
    return TraceOut(
        direction=direction,
        starts=[infos[i] for i in starts],
        backward=_trees(walks["backward"], infos, runs, shipments, receipts) if "backward" in walks else [],
        forward=_trees(walks["forward"], infos, runs, shipments, receipts) if "forward" in walks else [],
        lots=rows,
        suppliers=suppliers,
        shipments=shipped,
    )


def start_lots(session: Session, query: TraceQuery, *, separator: str | None, today: date) -> list[int]:
    """The lots a trace query starts from: a supplier's lot code, a shipment, a scan, a lot or a product."""
    if query.supplier_lot_code:
        return lots_by_supplier_lot(session, query.supplier_lot_code, query.supplier_id)
    if query.shipment:
        return lots_in_shipment(session, query.shipment)
    if query.scan:
        return lots_by_scan(session, query.scan, separator=separator, today=today)
    assert query.sku  # the query model guarantees exactly one starting point
    if query.lot_code:
        return [lot_by_sku_code(session, query.sku, query.lot_code)]
    return lots_of_product(session, query.sku, query.date_from, query.date_to)

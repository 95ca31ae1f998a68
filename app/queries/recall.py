"""The recall report: affected lots, consignees, stock on hand, mass balance and upstream suppliers."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.errors import Invalid
from app.models import (
    Balance,
    CheckLevel,
    Customer,
    CustomerReturn,
    Location,
    Lot,
    Movement,
    MovementKind,
    NoticeStatus,
    Order,
    Product,
    Recall,
    RecallDrill,
    RecallLot,
    RecallLotRole,
    RecallNotice,
    RecallNoticeDelivery,
    RecallResponse,
    RecallScope,
    Shipment,
    ShipmentLine,
    Supplier,
    Warehouse,
)
from app.queries.traceability import (
    chunks,
    existing_lots,
    lot_by_sku_code,
    lot_infos,
    lots_by_scan,
    receipts_of,
    walk,
)
from app.schemas import (
    AffectedLotOut,
    ConsigneeLineOut,
    ConsigneeOut,
    DrillOut,
    DrillSummaryOut,
    EffectivenessOut,
    LotEffectivenessOut,
    LotRef,
    MassBalanceOut,
    NotificationOut,
    PartyOut,
    RecallIn,
    RecallOut,
    RecallReportOut,
    RecallSummaryOut,
    ReportTotalsOut,
    StockLineOut,
    UpstreamLotOut,
)

ZERO = Decimal(0)


@dataclass(frozen=True)
class Affected:
    lot_id: int
    role: RecallLotRole
    depth: int


@dataclass(frozen=True)
class Selection:
    """What a recall or drill covers: its start lots, the inputs it goes back to, every affected lot."""

    scope: RecallScope
    start_ids: list[int]
    via_ids: list[int]
    lots: dict[int, Affected]

    @property
    def source_ids(self) -> list[int]:
        """The lots the forward trace starts from (and whose suppliers are listed)."""
        return sorted(set(self.start_ids) | set(self.via_ids))


def _ref_ids(session: Session, refs: Sequence[LotRef], field: str) -> list[int]:
    ids: list[int] = []
    for i, ref in enumerate(refs):
        if ref.lot_id is not None:
            ids.extend(existing_lots(session, [ref.lot_id], f"{field}.{i}.lot_id"))
        else:
            assert ref.sku and ref.lot_code
            ids.append(lot_by_sku_code(session, ref.sku, ref.lot_code, f"{field}.{i}.lot_code"))
    return ids


def start_lots(session: Session, cmd: RecallIn, *, separator: str | None, today: date) -> list[int]:
    """The lots a recall or drill request names, by reference or by scanned label."""
    ids = _ref_ids(session, cmd.lots, "lots")
    for i, raw in enumerate(cmd.scans):
        ids.extend(lots_by_scan(session, raw, separator=separator, today=today, field=f"scans.{i}"))
    return sorted(set(ids))


def select_lots(session: Session, start_ids: Sequence[int], scope: RecallScope,
                via: Sequence[LotRef] = ()) -> Selection:
    """Every lot a recall covers: forward from the start lots, or back to shared inputs and forward."""
    starts = existing_lots(session, start_ids, "lots")
    via_ids: list[int] = []
    lots: dict[int, Affected] = {}
    if scope is RecallScope.UPSTREAM:
        back = walk(session, starts, "backward")
        if via:
            via_ids = sorted(set(_ref_ids(session, via, "via")))
            for i, lot_id in enumerate(via_ids):
                if lot_id not in back.reached:
                    raise Invalid(f"lot {lot_id} is not an input of the start lots", f"via.{i}")
        else:
            via_ids = sorted(back.reached)
        for lot_id in via_ids:
            lots[lot_id] = Affected(lot_id, RecallLotRole.INPUT, -back.reached[lot_id].depth)
    forward = walk(session, sorted(set(starts) | set(via_ids)), "forward")
    for r in forward.reached.values():
        if r.lot_id not in lots:
            lots[r.lot_id] = Affected(r.lot_id, RecallLotRole.OUTPUT, r.depth)
    for lot_id in starts:
        lots[lot_id] = Affected(lot_id, RecallLotRole.START, 0)
    return Selection(scope, starts, via_ids, lots)


def _party(p: Supplier) -> PartyOut:
    return PartyOut(id=p.id, name=p.name, contact_name=p.contact_name, phone=p.phone, email=p.email,
                    address=p.address)


def _add(totals: dict[str, Decimal], unit: str, qty: Decimal) -> None:
    totals[unit] = totals.get(unit, ZERO) + qty


def consignees(session: Session, lot_ids: Collection[int],
               customer_ids: Collection[int] | None = None) -> list[ConsigneeOut]:
    """Every customer who received any of the lots (or those of `customer_ids`), with contact and shipment lines."""
    lines: dict[int, list[ConsigneeLineOut]] = defaultdict(list)
    customers: dict[int, PartyOut] = {}
    for part in chunks(lot_ids):
        rows = session.execute(
            select(ShipmentLine.lot_id, ShipmentLine.quantity, Shipment.id, Shipment.number, Shipment.shipped_on,
                   Order.number, Order.customer_reference, Lot.code, Product.sku, Product.unit, Customer.id,
                   Customer.name, Customer.contact_name, Customer.phone, Customer.email, Customer.address,
                   Shipment.override_reason, Product.name)
            .join(Shipment, ShipmentLine.shipment_id == Shipment.id)
            .join(Order, Shipment.order_id == Order.id)
            .join(Customer, Shipment.customer_id == Customer.id)
            .join(Lot, ShipmentLine.lot_id == Lot.id)
            .join(Product, Lot.product_id == Product.id)
            .where(ShipmentLine.lot_id.in_(part),
                   *([] if customer_ids is None else [Shipment.customer_id.in_(list(customer_ids))]))
        )
        for lot_id, qty, sid, number, shipped_on, order_no, cref, code, sku, unit, cid, *contact, override, pname \
                in rows:
            if cid not in customers:
                customers[cid] = PartyOut(id=cid, name=contact[0], contact_name=contact[1], phone=contact[2],
                                          email=contact[3], address=contact[4])
            lines[cid].append(ConsigneeLineOut(
                shipment_id=sid, shipment_number=number, shipped_on=shipped_on, order_number=order_no,
                customer_reference=cref, lot_id=lot_id, sku=sku, lot_code=code, quantity=qty, unit=unit,
                override_reason=override, product_name=pname))
    returned: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for part in chunks(lot_ids):
        for cid, unit, qty in session.execute(
            select(CustomerReturn.customer_id, Product.unit, func.sum(CustomerReturn.quantity))
            .join(Lot, CustomerReturn.lot_id == Lot.id).join(Product, Lot.product_id == Product.id)
            .where(CustomerReturn.lot_id.in_(part),
                   *([] if customer_ids is None else [CustomerReturn.customer_id.in_(list(customer_ids))]))
            .group_by(CustomerReturn.customer_id, Product.unit)
        ):
            _add(returned[cid], unit, qty)
    out = []
    for cid, items in lines.items():
        items.sort(key=lambda x: (x.shipped_on, x.shipment_number, x.sku, x.lot_code))
        shipped: dict[str, Decimal] = {}
        for line in items:
            _add(shipped, line.unit, line.quantity)
        out.append(ConsigneeOut(customer=customers[cid], lines=items, shipped=shipped,
                                returned=returned.get(cid, {})))
    out.sort(key=lambda c: c.customer.name)
    return out


def stock(session: Session, lot_ids: Collection[int]) -> list[StockLineOut]:
    """Stock of the lots still on hand, per lot and location."""
    out: list[StockLineOut] = []
    for part in chunks(lot_ids):
        rows = session.execute(
            select(Balance.lot_id, Product.sku, Lot.code, Warehouse.code, Location.code, Location.kind,
                   Balance.on_hand, Product.unit)
            .join(Lot, Balance.lot_id == Lot.id).join(Product, Lot.product_id == Product.id)
            .join(Location, Balance.location_id == Location.id)
            .join(Warehouse, Location.warehouse_id == Warehouse.id)
            .where(Balance.lot_id.in_(part), Balance.on_hand > 0)
        )
        out.extend(StockLineOut(lot_id=r[0], sku=r[1], lot_code=r[2], warehouse=r[3], location=r[4],
                                location_kind=r[5].value, on_hand=r[6], unit=r[7]) for r in rows)
    out.sort(key=lambda s: (s.sku, s.lot_code, s.warehouse, s.location))
    return out


_SIGNED = {MovementKind.RECEIVE: "received", MovementKind.PRODUCE: "produced", MovementKind.RETURN: "returned",
           MovementKind.ADJUST: "adjusted", MovementKind.TRANSFER: "moved", MovementKind.PICK: "moved"}
_OUT = {MovementKind.CONSUME: "consumed", MovementKind.SHIP: "shipped", MovementKind.WRITE_OFF: "written_off"}


def mass_balance(session: Session, lot_ids: Collection[int]) -> list[MassBalanceOut]:
    """Per lot, from the ledger by movement kind and the balance table: where every unit went.

    received + produced + returned ± adjusted ± moved − consumed − shipped − written off − on hand
    is the remainder: zero when every unit is accounted for; anything else is shown, not hidden.
    """
    sums: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    on_hand: dict[int, Decimal] = {}
    for part in chunks(lot_ids):
        for lot_id, kind, qty in session.execute(
            select(Movement.lot_id, Movement.kind, func.sum(Movement.quantity))
            .where(Movement.lot_id.in_(part)).group_by(Movement.lot_id, Movement.kind)
        ):
            if kind in _OUT:
                sums[lot_id][_OUT[kind]] += -qty
            else:
                sums[lot_id][_SIGNED[kind]] += qty
        on_hand.update({lot_id: qty for lot_id, qty in session.execute(
            select(Balance.lot_id, func.sum(Balance.on_hand)).where(Balance.lot_id.in_(part))
            .group_by(Balance.lot_id))})
    infos = lot_infos(session, lot_ids)
    out = []
    for lot_id in lot_ids:
        s = sums[lot_id]
        held = on_hand.get(lot_id, ZERO)
        remainder = (s["received"] + s["produced"] + s["returned"] + s["adjusted"] + s["moved"]
                     - s["consumed"] - s["shipped"] - s["written_off"] - held)
        info = infos[lot_id]
        out.append(MassBalanceOut(
            lot_id=lot_id, sku=info.sku, lot_code=info.code, unit=info.unit, received=s["received"],
            produced=s["produced"], returned=s["returned"], adjusted=s["adjusted"], moved=s["moved"],
            consumed=s["consumed"], shipped=s["shipped"], written_off=s["written_off"], on_hand=held,
            remainder=remainder))
    out.sort(key=lambda m: (m.sku, m.lot_code))
    return out


def upstream(session: Session, source_ids: Collection[int]) -> list[UpstreamLotOut]:
    """The received lots at the root of the sources (themselves included), with supplier and lot codes."""
    back = walk(session, source_ids, "backward")
    ids = back.lot_ids
    infos = lot_infos(session, ids)
    received = {i for i in ids if infos[i].supplier_id is not None}
    supplier_ids = {sid for i in received if (sid := infos[i].supplier_id) is not None}
    suppliers = {s.id: s for part in chunks(supplier_ids)
                 for s in session.scalars(select(Supplier).where(Supplier.id.in_(part)))}
    receipts = receipts_of(session, received)
    out = [UpstreamLotOut(supplier=_party(suppliers[infos[i].supplier_id or 0]), lot=infos[i],
                          receipts=receipts.get(i, [])) for i in received]
    out.sort(key=lambda u: (u.supplier.name, u.lot.sku, u.lot.code))
    return out


def report(session: Session, selection: Selection) -> RecallReportOut:
    """The full recall report for a selection of lots, as it stands now."""
    ids = set(selection.lots)
    infos = lot_infos(session, ids)
    stock_lines = stock(session, ids)
    held: dict[int, Decimal] = defaultdict(Decimal)
    on_hand_units: dict[str, Decimal] = {}
    for line in stock_lines:
        held[line.lot_id] += line.on_hand
        _add(on_hand_units, line.unit, line.on_hand)
    order = sorted(selection.lots.values(),
                   key=lambda a: (a.depth, infos[a.lot_id].sku, infos[a.lot_id].code))
    lots = [AffectedLotOut(lot=infos[a.lot_id], role=a.role, depth=a.depth, on_hand=held.get(a.lot_id, ZERO))
            for a in order]
    people = consignees(session, ids)
    balance = mass_balance(session, ids)
    shipped: dict[str, Decimal] = {}
    for c in people:
        for unit, qty in c.shipped.items():
            _add(shipped, unit, qty)
    return RecallReportOut(
        scope=selection.scope,
        starts=[infos[i] for i in selection.start_ids],
        lots=lots,
        consignees=people,
        stock=stock_lines,
        mass_balance=balance,
        suppliers=upstream(session, selection.source_ids),
        totals=ReportTotalsOut(lots=len(lots), consignees=len(people),
                               shipment_lines=sum(len(c.lines) for c in people),
                               unbalanced_lots=sum(1 for m in balance if m.remainder != 0),
                               shipped=shipped, on_hand=on_hand_units),
    )


# --- recalls ----------------------------------------------------------------------------------


def recall_selection(recall: Recall) -> Selection:
    """The lots a recall covers, as recorded when it was opened."""
    lots = {rl.lot_id: Affected(rl.lot_id, rl.role, rl.depth) for rl in recall.lots}
    starts = sorted(i for i, a in lots.items() if a.role is RecallLotRole.START)
    via = sorted(i for i, a in lots.items() if a.role is RecallLotRole.INPUT)
    return Selection(recall.scope, starts, via, lots)


def _pct(part: Decimal, whole: Decimal) -> Decimal:
    if whole == 0:
        return ZERO
    return (part * 100 / whole).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class Answer:
    """A consignee's latest answer through its link: per lot, (on hand, destroyed, returned)."""

    customer_id: int
    answered_at: datetime
    received: bool
    lines: dict[int, tuple[Decimal, Decimal, Decimal]]


def latest_answers(session: Session, recall_id: int) -> dict[int, Answer]:
    """Per consignee, its latest answer to the recall (earlier ones are kept as history, not counted)."""
    latest: dict[int, RecallResponse] = {}
    for r in session.scalars(select(RecallResponse).where(RecallResponse.recall_id == recall_id)
                             .options(selectinload(RecallResponse.lines))
                             .order_by(RecallResponse.answered_at, RecallResponse.id)):
        latest[r.customer_id] = r
    return {cid: Answer(cid, r.answered_at, r.received,
                        {line.lot_id: (line.on_hand, line.destroyed, line.returned) for line in r.lines})
            for cid, r in latest.items()}


def reached_by_notice(session: Session, recall_id: int) -> set[int]:
    """Consignees whose notice the mail server took, or whose letter was printed."""
    sent = set(session.scalars(select(RecallNotice.customer_id).where(
        RecallNotice.recall_id == recall_id, RecallNotice.status == NoticeStatus.SENT)))
    printed = set(session.scalars(
        select(RecallNotice.customer_id).join(RecallNoticeDelivery, RecallNoticeDelivery.notice_id == RecallNotice.id)
        .where(RecallNotice.recall_id == recall_id, RecallNoticeDelivery.outcome.in_(("delivered", "printed")))))
    return sent | printed


# 21 CFR 7.42(b)(3): the share of consignees an effectiveness check contacts, per level (B: set per recall).
LEVEL_PCT = {CheckLevel.A: Decimal(100), CheckLevel.C: Decimal(10), CheckLevel.D: Decimal(2), CheckLevel.E: ZERO}


def level_pct(level: CheckLevel, pct: int | None) -> Decimal:
    return Decimal(pct or 0) if level is CheckLevel.B else LEVEL_PCT[level]


def effectiveness(report_: RecallReportOut, notifications: Sequence[NotificationOut],
                  answers: Mapping[int, Answer] | None = None, reached: Collection[int] = (),
                  level: CheckLevel = CheckLevel.A, pct: int | None = None) -> EffectivenessOut:
    """How far the recall got: consignees reached and answered, quantity accounted for, per lot and unit.

    A consignee's latest answer through its link counts what it still holds, destroyed and returned, per
    lot; for a consignee without such an answer, what a user recorded as returned or destroyed counts.
    """
    answers = answers or {}
    consignee_ids = {c.customer.id for c in report_.consignees}
    notified = ({n.customer_id for n in notifications} | set(reached) | set(answers)) & consignee_ids
    responded = ({n.customer_id for n in notifications if n.response} | set(answers)) & consignee_ids
    recovered: dict[str, Decimal] = {}
    accounted: dict[str, Decimal] = {}
    units = {c.customer.id: next(iter(c.shipped)) for c in report_.consignees if len(c.shipped) == 1}
    for n in notifications:
        unit = units.get(n.customer_id)
        if unit is not None and n.customer_id not in answers:
            _add(recovered, unit, n.quantity_returned + n.quantity_destroyed)
            _add(accounted, unit, n.quantity_returned + n.quantity_destroyed)
    per_lot: dict[int, dict[str, Decimal]] = {}
    lot_keys: dict[int, tuple[str, str, str]] = {}
    for c in report_.consignees:
        answer = answers.get(c.customer.id)
        for line in c.lines:
            lot = per_lot.setdefault(line.lot_id, defaultdict(Decimal))
            lot_keys[line.lot_id] = (line.sku, line.lot_code, line.unit)
            lot["shipped"] += line.quantity
        if answer is None:
            continue
        got = {line.lot_id: line.unit for line in c.lines}
        for lot_id, (held, destroyed, returned) in answer.lines.items():
            if lot_id not in got:
                continue
            lot = per_lot[lot_id]
            lot["on_hand"] += held
            lot["destroyed"] += destroyed
            lot["returned"] += returned
            _add(recovered, got[lot_id], destroyed + returned)
            _add(accounted, got[lot_id], held + destroyed + returned)
    lots = []
    for lot_id, q in per_lot.items():
        sku, code, unit = lot_keys[lot_id]
        total = q["on_hand"] + q["destroyed"] + q["returned"]
        lots.append(LotEffectivenessOut(lot_id=lot_id, sku=sku, lot_code=code, unit=unit, shipped=q["shipped"],
                                        on_hand=q["on_hand"], destroyed=q["destroyed"], returned=q["returned"],
                                        accounted=total, accounted_pct=_pct(total, q["shipped"])))
    lots.sort(key=lambda x: (x.sku, x.lot_code))
    shipped = report_.totals.shipped
    share = level_pct(level, pct)
    return EffectivenessOut(
        consignees=len(consignee_ids), notified=len(notified), responded=len(responded),
        notified_pct=_pct(Decimal(len(notified)), Decimal(len(consignee_ids))),
        shipped=shipped, recovered=recovered,
        recovered_pct={u: _pct(recovered.get(u, ZERO), q) for u, q in shipped.items()},
        not_notified=sorted(c.customer.name for c in report_.consignees if c.customer.id not in notified),
        accounted=accounted, accounted_pct={u: _pct(accounted.get(u, ZERO), q) for u, q in shipped.items()},
        lots=lots, level=level, level_pct=share,
        to_verify=math.ceil(len(consignee_ids) * share / 100),
        not_answered=sorted(c.customer.name for c in report_.consignees if c.customer.id not in responded),
    )


def notification_rows(recall: Recall) -> list[NotificationOut]:
    return [NotificationOut(id=n.id, customer_id=n.customer_id, customer_name=n.customer.name,
                            notified_at=n.notified_at, method=n.method, contact=n.contact, response=n.response,
                            quantity_returned=n.quantity_returned, quantity_destroyed=n.quantity_destroyed,
                            recorded_by=n.user.username if n.user else None)
            for n in sorted(recall.notifications, key=lambda x: (x.notified_at, x.id))]


def recall_summary(recall: Recall, lot_count: int | None = None) -> RecallSummaryOut:
    return RecallSummaryOut(
        id=recall.id, number=recall.number, status=recall.status, check_level=recall.check_level,
        check_pct=recall.check_pct, scope=recall.scope, reason=recall.reason,
        opened_at=recall.opened_at, opened_by=recall.opened_by.username if recall.opened_by else None,
        closed_at=recall.closed_at, outcome=recall.outcome, close_reason=recall.close_reason,
        lot_count=len(recall.lots) if lot_count is None else lot_count)


def recall_detail(session: Session, recall: Recall) -> RecallOut:
    rep = report(session, recall_selection(recall))
    notes = notification_rows(recall)
    found = effectiveness(rep, notes, latest_answers(session, recall.id), reached_by_notice(session, recall.id),
                          recall.check_level, recall.check_pct)
    return RecallOut(**recall_summary(recall).model_dump(),
                     closed_by=recall.closed_by.username if recall.closed_by else None,
                     report=rep, notifications=notes, effectiveness=found)


def recall_list(session: Session, *, limit: int = 100, offset: int = 0) -> list[RecallSummaryOut]:
    counts: Mapping[int, int] = {rid: n for rid, n in session.execute(
        select(RecallLot.recall_id, func.count()).group_by(RecallLot.recall_id))}
    recalls = session.scalars(select(Recall).order_by(Recall.id.desc()).limit(limit).offset(offset))
    return [recall_summary(r, counts.get(r.id, 0)) for r in recalls]


def drill_summary(drill: RecallDrill) -> DrillSummaryOut:
    """A drill as the history lists it."""
    return DrillSummaryOut(id=drill.id, number=drill.number, scope=drill.scope, reason=drill.reason,
                           started_at=drill.started_at, finished_at=drill.finished_at,
                           duration_ms=drill.duration_ms, lot_count=drill.lot_count,
                           consignee_count=drill.consignee_count, unbalanced_count=drill.unbalanced_count,
                           run_by=drill.user.username if drill.user else None)


def drill_out(drill: RecallDrill) -> DrillOut:
    """A drill with the report it produced (kept as it was when the drill ran)."""
    return DrillOut(**drill_summary(drill).model_dump(), report=RecallReportOut.model_validate(drill.result))

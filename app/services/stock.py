"""Stock use cases: receiving, transfers, adjustments, customer returns, holds and releases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.db import get_or_404
from app.errors import Conflict, Invalid, NotFound
from app.formatting import qty, qty_unit
from app.models import (
    Adjustment,
    Customer,
    CustomerReturn,
    Location,
    LocationKind,
    Lot,
    LotOrigin,
    LotStatus,
    LotStatusChange,
    MovementKind,
    Product,
    Receipt,
    ReceiptLine,
    Shipment,
    ShipmentLine,
    Supplier,
    Transfer,
    User,
)
from app.rules.gate import Purpose, lock_products
from app.schemas import AdjustmentIn, HoldIn, ReceiptIn, ReceiptLineIn, ReleaseOut, ReturnIn, TransferIn
from app.services.base import (
    book,
    document_number,
    insert_booked_in,
    insert_new,
    insert_row,
    lock_lot,
    lot_codes,
    lot_counter,
    next_numbers,
    numbered,
    positive,
    transactional,
)
from app.services.idempotency import IdempotencyKey, remember, remembered
from app.services.lookups import location_by_code, lot_by_ref, product_by_sku

_SUPPLIER_PRODUCT_LOCATION = (select(Supplier, Product, Location).select_from(Supplier)
                              .join(Product, Product.sku == bindparam("sku"))
                              .join(Location, Location.code == bindparam("location"))
                              .where(Supplier.id == bindparam("supplier_id")))


def not_in_future(value: date, today: date, field: str) -> date:
    if value > today:
        raise Invalid(f"{field} {value} is in the future (today is {today})", field)
    return value


def lot_existed(lot: Lot, on: date, field: str) -> date:
    """`on`, if the lot had been received or made by then: nothing happens to a lot before it exists."""
    if on < lot.made_on:
        made = "received" if lot.origin is LotOrigin.RECEIPT else "made"
        raise Invalid(f"lot {lot.code} of {lot.product.sku} was only {made} on {lot.made_on}, "
                      f"after {on}", field)
    return on


@transactional
def receive(
    session: Session,
    cmd: ReceiptIn,
    *,
    user: User | None,
    today: date,
    lot_code_pattern: str,
    request_key: IdempotencyKey | None = None,
) -> Receipt:
    """Book a delivery: one lot per line, new or topped up, into a receiving or storage location."""
    if (earlier := remembered(session, request_key, "receipt", user)) is not None:
        return session.get_one(Receipt, earlier)
    # The supplier, with the first line's product and location, in one statement (most receipts are one line);
    # whatever it does not find is looked up on its own below, which says what is wrong.
    first = session.execute(_SUPPLIER_PRODUCT_LOCATION, {"supplier_id": cmd.supplier_id, "sku": cmd.lines[0].sku,
                                                         "location": cmd.lines[0].location}).first()
    supplier = get_or_404(session, Supplier, cmd.supplier_id, "supplier_id", "supplier")
    received_on = not_in_future(cmd.received_on or today, today, "received_on")
    for name in ("harvested_on", "cooled_on", "packed_on", "landed_on"):
        day = getattr(cmd, name)
        if day is not None and day > received_on:
            raise Invalid(f"{name.replace('_', ' ')} {day} is after the receipt date {received_on}", name)
    # The first line's product and location, when read above and active; a line naming neither a lot code nor a
    # top-up gets a new lot whose code is drawn from a counter of the product and day.
    known = (first[1], first[2]) if first is not None and first[1].active and first[2].active else None
    head = cmd.lines[0]
    counters = ["doc:R"]
    if known is not None and not head.lot_code and not head.top_up:
        counters.append(lot_counter(known[0].id, received_on))
    # The receipt's number and its first new lot's sequence are drawn in one round trip (`next_numbers`).
    drawn = next_numbers(session, counters)
    # The receipt, its new lots and its lines go straight to their tables (`insert_row`), each known in full
    # here, so the answer shows them without reading anything back.
    receipt = insert_row(session, Receipt(
        number=numbered("R", drawn["doc:R"]), supplier_id=supplier.id, received_on=received_on,
        reference=cmd.reference, note=cmd.note, user_id=user.id if user else None, harvested_on=cmd.harvested_on,
        harvest_location=cmd.harvest_location, harvester=cmd.harvester, cooled_on=cmd.cooled_on,
        cooling_location=cmd.cooling_location, packed_on=cmd.packed_on, packing_location=cmd.packing_location,
        landed_on=cmd.landed_on))
    set_committed_value(receipt, "supplier", supplier)
    lines: list[ReceiptLine] = []
    seen: set[tuple[int, str]] = set()
    for i, line in enumerate(cmd.lines):
        with session.no_autoflush:
            _receipt_line(session, receipt, supplier, line, f"lines.{i}.", seen, received_on, lot_code_pattern,
                          known if i == 0 else None, drawn.get(counters[-1]) if i == 0 and len(counters) > 1 else None,
                          lines, user=user, request_key=request_key)
    set_committed_value(receipt, "lines", lines)
    remember(session, request_key, "receipt", receipt.id, user)
    session.flush()
    return receipt


def _receipt_line(session: Session, receipt: Receipt, supplier: Supplier, line: ReceiptLineIn, f: str,
                  seen: set[tuple[int, str]], received_on: date, lot_code_pattern: str,
                  known: tuple[Product, Location] | None, seq: int | None, lines: list[ReceiptLine], *,
                  user: User | None, request_key: IdempotencyKey | None) -> None:
    """One line of a receipt checked, its lot found or made, the line written (added to `lines`) and its stock
    booked in.

    `known` is the line's product and location when already read (and active); `seq` the sequence already drawn
    for the line's new lot code, if it needs one.
    """
    if known is not None:
        product, location = known
    else:
        product = product_by_sku(session, line.sku, f + "sku")
        location = location_by_code(session, line.location, f + "location")
    quantity = positive(line.quantity, f + "quantity")
    if line.top_up and not line.lot_code:
        raise Invalid("name the lot_code of the lot to top up", f + "lot_code")
    if line.expiry is not None and line.expiry < received_on:
        raise Invalid(f"expiry {line.expiry} is before the receipt date {received_on}", f + "expiry")
    lot = None
    if line.lot_code:
        lot = session.scalar(select(Lot).where(Lot.product_id == product.id, Lot.code == line.lot_code))
    if lot is not None:
        lot_existed(lot, received_on, "received_on")
        if not line.top_up and (product.id, lot.code) not in seen:
            raise Conflict(
                f"{product.sku} already has a lot {lot.code}; tick 'top up' to add to it",
                f + "lot_code",
            )
        if lot.origin is not LotOrigin.RECEIPT or lot.supplier_id != supplier.id:
            raise Conflict(f"lot {lot.code} of {product.sku} did not come from this supplier",
                           f + "lot_code")
        if line.expiry and lot.expiry != line.expiry:
            raise Conflict(f"lot {lot.code} expires {lot.expiry}, not {line.expiry}", f + "expiry")
        if line.supplier_lot_code and lot.supplier_lot_code != line.supplier_lot_code:
            raise Conflict(
                f"lot {lot.code} is supplier lot {lot.supplier_lot_code}, not {line.supplier_lot_code}",
                f + "supplier_lot_code",
            )
        unit_cost = lot.unit_cost if line.unit_cost is None else line.unit_cost
        if unit_cost != lot.unit_cost:
            # Topping up at another price: the lot's cost becomes the weighted average.
            received = session.scalar(
                select(func.sum(ReceiptLine.quantity)).where(ReceiptLine.lot_id == lot.id)
            ) or Decimal(0)
            total = received * lot.unit_cost + quantity * unit_cost
            lot.unit_cost = (total / (received + quantity)).quantize(Decimal("0.000001"))
            session.flush()
    else:
        if line.top_up:
            raise NotFound(f"{product.sku} has no lot {line.lot_code!r} to top up", f + "lot_code")
        unit_cost = line.unit_cost or Decimal(0)
        expiry = line.expiry
        if expiry is None and product.shelf_life_days:
            expiry = received_on + timedelta(days=product.shelf_life_days)
        new = Lot(product_id=product.id, code=line.lot_code, origin=LotOrigin.RECEIPT, supplier_id=supplier.id,
                  supplier_lot_code=line.supplier_lot_code, made_on=received_on, expiry=expiry, unit_cost=unit_cost,
                  status=LotStatus.RELEASED, hold_reason=None)
        # A named code was looked up above; a generated one is checked by its INSERT.
        lot = insert_row(session, new) if line.lot_code else \
            _new_lot(session, new, product, received_on, lot_code_pattern, seq)
        set_committed_value(lot, "product", product)
    seen.add((product.id, lot.code))
    added = insert_booked_in(session, ReceiptLine(receipt_id=receipt.id, lot_id=lot.id, location_id=location.id,
                                                  quantity=quantity, unit_cost=unit_cost),
                             lot=lot, location=location, quantity=quantity, kind=MovementKind.RECEIVE,
                             ref_type="receipt", ref_id=receipt.id, booked_on=received_on, user=user,
                             request_key=request_key)
    set_committed_value(added, "receipt", receipt)
    set_committed_value(added, "lot", lot)
    set_committed_value(added, "location", location)
    lines.append(added)


def _new_lot(session: Session, lot: Lot, product: Product, on: date, pattern: str, seq: int | None) -> Lot:
    """`lot` written with the first free code of `lot_codes` (`seq` already drawn for the first, if any): the INSERT
    itself finds a code already taken (typed by hand, or a counter behind), and the next one is tried."""
    for code in lot_codes(session, product, on, pattern, seq):
        lot.code = code
        added = insert_new(session, lot, ("product_id", "code"))
        if added is not None:
            return added
    raise AssertionError("lot_codes ends only by raising")


@transactional
def transfer(session: Session, cmd: TransferIn, *, user: User | None, today: date,
             request_key: IdempotencyKey | None = None) -> Transfer:
    """Move part or all of a lot from one location to another (also between warehouses)."""
    if (earlier := remembered(session, request_key, "transfer", user)) is not None:
        return session.get_one(Transfer, earlier)
    lot = lot_by_ref(session, cmd)
    source = location_by_code(session, cmd.from_location, "from_location")
    target = location_by_code(session, cmd.to_location, "to_location")
    if source.id == target.id:
        raise Invalid("from_location and to_location are the same", "to_location")
    quantity = positive(cmd.quantity, "quantity")
    moved_on = lot_existed(lot, not_in_future(cmd.moved_on or today, today, "moved_on"), "moved_on")
    doc = Transfer(number=document_number(session, "T"), lot_id=lot.id, from_location_id=source.id,
                   to_location_id=target.id, quantity=quantity, moved_on=moved_on,
                   user_id=user.id if user else None)
    session.add(doc)
    session.flush()
    from app.services.gate import Takings  # here: the gate's re-allocation imports this module

    takings = Takings(session, Purpose.TRANSFER, on=moved_on, take_allocated=cmd.take_allocated,
                      label=f"transfer {doc.number}")
    takings.check(lot, source, quantity)
    book(session, lot=lot, location=source, quantity=-quantity, kind=MovementKind.TRANSFER,
         ref_type="transfer", ref_id=doc.id, booked_on=moved_on, user=user, request_key=request_key)
    book(session, lot=lot, location=target, quantity=quantity, kind=MovementKind.TRANSFER,
         ref_type="transfer", ref_id=doc.id, booked_on=moved_on, user=user, request_key=request_key)
    setattr(doc, "taken_from_orders", takings.finish(today))  # noqa: B010 - not a column
    remember(session, request_key, "transfer", doc.id, user)
    return doc


@transactional
def adjust(session: Session, cmd: AdjustmentIn, *, user: User | None, today: date,
           request_key: IdempotencyKey | None = None) -> Adjustment:
    """Correct the count of a lot at a location (signed), with the reason on record."""
    if (earlier := remembered(session, request_key, "adjustment", user)) is not None:
        return session.get_one(Adjustment, earlier)
    lot = lot_by_ref(session, cmd)
    location = location_by_code(session, cmd.location)
    if cmd.quantity == 0:
        raise Invalid("quantity must not be zero (positive adds stock, negative removes it)", "quantity")
    adjusted_on = lot_existed(lot, not_in_future(cmd.adjusted_on or today, today, "adjusted_on"),
                              "adjusted_on")
    doc = Adjustment(number=document_number(session, "A"), lot_id=lot.id, location_id=location.id,
                     quantity=cmd.quantity, reason=cmd.reason, adjusted_on=adjusted_on,
                     user_id=user.id if user else None)
    session.add(doc)
    session.flush()
    if cmd.quantity < 0:
        # The lot, then its product, before the balance: the order every take of stock locks them in.
        lock_products(session, [lock_lot(session, lot).product_id])
    book(session, lot=lot, location=location, quantity=cmd.quantity, kind=MovementKind.ADJUST,
         ref_type="adjustment", ref_id=doc.id, booked_on=adjusted_on, user=user, reason=cmd.reason,
         request_key=request_key)
    if cmd.quantity < 0:
        # Fewer found than booked: orders counting on the missing stock lose it and are re-allocated.
        from app.services.gate import Takings  # here: the gate's re-allocation imports this module

        takings = Takings(session, Purpose.TRANSFER, on=adjusted_on, label=f"count correction {doc.number}")
        takings.release_excess(lot, location)
        setattr(doc, "taken_from_orders", takings.finish(today))  # noqa: B010 - not a column
    remember(session, request_key, "adjustment", doc.id, user)
    return doc


@transactional
def customer_return(session: Session, cmd: ReturnIn, *, user: User | None, today: date,
                    request_key: IdempotencyKey | None = None) -> CustomerReturn:
    """Take back stock a customer received, into quarantine unless another location is named."""
    if (earlier := remembered(session, request_key, "return", user)) is not None:
        return session.get_one(CustomerReturn, earlier)
    # Locked so that two returns from one customer cannot both pass the check below.
    customer = get_or_404(session, Customer, cmd.customer_id, "customer_id", "customer", lock=True)
    lot = lot_by_ref(session, cmd)
    quantity = positive(cmd.quantity, "quantity")
    returned_on = lot_existed(lot, not_in_future(cmd.returned_on or today, today, "returned_on"),
                              "returned_on")
    shipped = session.scalar(
        select(func.sum(ShipmentLine.quantity)).join(Shipment)
        .where(ShipmentLine.lot_id == lot.id, Shipment.customer_id == customer.id)
    ) or Decimal(0)
    returned = session.scalar(
        select(func.sum(CustomerReturn.quantity))
        .where(CustomerReturn.lot_id == lot.id, CustomerReturn.customer_id == customer.id)
    ) or Decimal(0)
    if quantity > shipped - returned:
        raise Conflict(
            f"{customer.name} received {qty_unit(shipped, lot.product.unit)} of lot {lot.code} and returned "
            f"{qty(returned)}; {qty(quantity)} cannot come back",
            "quantity",
        )
    if cmd.location:
        location = location_by_code(session, cmd.location)
    else:
        quarantine = session.scalar(
            select(Location).where(Location.kind == LocationKind.QUARANTINE, Location.active.is_(True))
            .order_by(Location.code).limit(1)
        )
        if quarantine is None:
            raise Invalid("there is no quarantine location; name the location to return into", "location")
        location = quarantine
    doc = CustomerReturn(number=document_number(session, "RT"), customer_id=customer.id, lot_id=lot.id,
                         location_id=location.id, quantity=quantity, returned_on=returned_on,
                         reason=cmd.reason, user_id=user.id if user else None)
    session.add(doc)
    session.flush()
    book(session, lot=lot, location=location, quantity=quantity, kind=MovementKind.RETURN,
         ref_type="return", ref_id=doc.id, booked_on=returned_on, user=user, reason=cmd.reason,
         request_key=request_key)
    remember(session, request_key, "return", doc.id, user)
    return doc


@dataclass(frozen=True)
class Held:
    """A lot put on hold, and what happened to the allocations it held."""

    lot: Lot
    allocations: ReleaseOut


@transactional
def hold_lot(session: Session, lot_id: int, cmd: HoldIn, *, user: User | None) -> Held:
    """Put a released lot on hold: it can no longer be consumed, allocated or shipped.

    Its open allocations are released and their lines re-allocated in the same transaction; the
    result says what could not be re-allocated.
    """
    lot: Lot = get_or_404(session, Lot, lot_id, "lot_id", "lot")
    if lot.status is LotStatus.RECALLED:
        raise Conflict(f"lot {lot.code} is recalled; close the recall to change it", "lot_id")
    if lot.status is LotStatus.HOLD:
        raise Conflict(f"lot {lot.code} is already on hold: {lot.hold_reason}", "lot_id")
    session.add(LotStatusChange(lot_id=lot.id, old_status=lot.status, new_status=LotStatus.HOLD,
                                reason=cmd.reason, user_id=user.id if user else None))
    lot.status = LotStatus.HOLD
    lot.hold_reason = cmd.reason
    from app.services.allocations import release_lot_allocations  # here: allocations imports this module

    report = release_lot_allocations(session, [lot.id], f"lot {lot.code} put on hold: {cmd.reason}")
    return Held(lot=lot, allocations=report)


@transactional
def release_lot(session: Session, lot_id: int, cmd: HoldIn, *, user: User | None) -> Lot:
    """Release a held lot, with the reason it is fit to use again."""
    lot: Lot = get_or_404(session, Lot, lot_id, "lot_id", "lot")
    if lot.status is not LotStatus.HOLD:
        raise Conflict(f"lot {lot.code} is {lot.status.value}, not on hold", "lot_id")
    session.add(LotStatusChange(lot_id=lot.id, old_status=lot.status, new_status=LotStatus.RELEASED,
                                reason=cmd.reason, user_id=user.id if user else None))
    lot.status = LotStatus.RELEASED
    lot.hold_reason = None
    return lot

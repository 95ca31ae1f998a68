"""Production use case: consume input lots, create the output lot, link them, roll up the cost."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict, InsufficientStock, Invalid
from app.models import (
    Balance,
    Location,
    LocationKind,
    Lot,
    LotLink,
    LotOrigin,
    LotStatus,
    MovementKind,
    ProductionRun,
    RunInput,
    User,
)
from app.schemas import ProductionRunIn
from app.services.base import (
    book,
    document_number,
    generate_lot_code,
    lock_lot,
    positive,
    remember,
    remembered,
    transactional,
)
from app.services.lookups import location_by_code, lot_by_ref, product_by_sku
from app.services.stock import lot_existed, not_in_future, not_quarantined, unexpired, usable

_COST_PLACES = Decimal("0.000001")


def _sources(session: Session, lot: Lot, quantity: Decimal, preferred: Location,
             field: str) -> list[tuple[Location, Decimal]]:
    """Where to take `quantity` of `lot` from: the run's own location first, then by location code.

    Stock in quarantine is never taken.
    """
    rows = session.execute(
        select(Balance.on_hand, Location).join(Location, Balance.location_id == Location.id)
        .where(Balance.lot_id == lot.id, Balance.on_hand > 0, Location.kind != LocationKind.QUARANTINE)
        .order_by((Location.id != preferred.id), Location.code)
    ).all()
    taken: list[tuple[Location, Decimal]] = []
    remaining = quantity
    for on_hand, location in rows:
        take = min(on_hand, remaining)
        taken.append((location, take))
        remaining -= take
        if remaining == 0:
            return taken
    total = quantity - remaining
    raise InsufficientStock(
        f"lot {lot.code} of {lot.product.sku} has {total} {lot.product.unit} on hand; {quantity} needed",
        field,
    )


@transactional
def produce(
    session: Session,
    cmd: ProductionRunIn,
    *,
    user: User | None,
    today: date,
    lot_code_pattern: str,
    request_key: str | None = None,
) -> ProductionRun:
    """Record a batch: inputs consumed, output lot made with its expiry and rolled-up unit cost."""
    if (earlier := remembered(session, request_key, "production_run")) is not None:
        return session.get_one(ProductionRun, earlier)
    product = product_by_sku(session, cmd.sku)
    location = location_by_code(session, cmd.location)
    output_quantity = positive(cmd.quantity, "quantity")
    produced_on = not_in_future(cmd.produced_on or today, today, "produced_on")
    if cmd.expiry is not None and cmd.expiry < produced_on:
        raise Invalid(f"expiry {cmd.expiry} is before the production date {produced_on}", "expiry")
    if cmd.lot_code:
        exists = session.scalar(select(Lot.id).where(Lot.product_id == product.id, Lot.code == cmd.lot_code))
        if exists is not None:
            raise Conflict(f"{product.sku} already has a lot {cmd.lot_code}", "lot_code")
        code = cmd.lot_code
    else:
        code = generate_lot_code(session, product, produced_on, lot_code_pattern)
    expiry = cmd.expiry
    if expiry is None and product.shelf_life_days:
        expiry = produced_on + timedelta(days=product.shelf_life_days)

    output = Lot(product_id=product.id, code=code, origin=LotOrigin.PRODUCTION, made_on=produced_on,
                 expiry=expiry, unit_cost=Decimal(0), status=LotStatus.RELEASED)
    session.add(output)
    session.flush()
    run = ProductionRun(number=document_number(session, "P"), product_id=product.id,
                        output_lot_id=output.id, output_quantity=output_quantity,
                        location_id=location.id, produced_on=produced_on, extra_cost=cmd.extra_cost,
                        note=cmd.note, user_id=user.id if user else None)
    session.add(run)
    session.flush()

    input_cost = Decimal(0)
    per_lot: dict[int, Decimal] = defaultdict(Decimal)
    for i, item in enumerate(cmd.inputs):
        f = f"inputs.{i}."
        lot = lock_lot(session, lot_by_ref(session, item, f))
        lot_existed(lot, produced_on, "produced_on")
        if lot.id == output.id:
            raise Invalid("a batch cannot consume its own output", f + "lot_id")
        unexpired(usable(lot, f + "lot_id"), produced_on, f + "lot_id")
        quantity = positive(item.quantity, f + "quantity")
        if item.location:
            source = location_by_code(session, item.location, f + "location")
            sources = [(not_quarantined(source, f + "location"), quantity)]
        else:
            sources = _sources(session, lot, quantity, location, f + "quantity")
        for source, take in sources:
            session.add(RunInput(run_id=run.id, lot_id=lot.id, location_id=source.id, quantity=take,
                                 unit_cost=lot.unit_cost))
            book(session, lot=lot, location=source, quantity=-take, kind=MovementKind.CONSUME,
                 ref_type="production_run", ref_id=run.id, booked_on=produced_on, user=user,
                 request_key=request_key, field=f + "quantity")
        per_lot[lot.id] += quantity
        input_cost += quantity * lot.unit_cost

    for lot_id, quantity in per_lot.items():
        session.add(LotLink(input_lot_id=lot_id, output_lot_id=output.id, run_id=run.id, quantity=quantity))
    output.unit_cost = ((input_cost + cmd.extra_cost) / output_quantity).quantize(_COST_PLACES)
    book(session, lot=output, location=location, quantity=output_quantity, kind=MovementKind.PRODUCE,
         ref_type="production_run", ref_id=run.id, booked_on=produced_on, user=user,
         request_key=request_key)
    remember(session, request_key, "production_run", run.id, user)
    session.flush()
    return run

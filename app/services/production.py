"""Production use case: consume input lots, create the output lot, link them, roll up the cost."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict, InsufficientStock, Invalid
from app.formatting import qty_unit
from app.models import (
    Balance,
    Location,
    LocationKind,
    Lot,
    LotLink,
    LotOrigin,
    LotStatus,
    MovementKind,
    Product,
    ProductionRun,
    Recipe,
    RunInput,
    RunPlanLine,
    User,
)
from app.rules.gate import Purpose, allocated_elsewhere, lock_products
from app.schemas import ProductionRunIn
from app.services import base as ledger
from app.services.gate import Takings
from app.services.idempotency import IdempotencyKey, remember, remembered
from app.services.lookups import location_by_code, lot_by_ref, product_by_sku
from app.services.stock import lot_existed, not_in_future

_COST_PLACES = Decimal("0.000001")


def _sources(session: Session, lot: Lot, quantity: Decimal, preferred: Location, take_allocated: bool,
             field: str) -> list[tuple[Location, Decimal]]:
    """Where to take `quantity` of `lot` from: the run's own location first, then by location code.

    Stock free of allocations is taken first; stock allocated to orders only when the user says so.
    Stock in quarantine is never taken. Whatever is missing is asked of the first location with
    stock (quarantine only when nothing else has any), where the gate names the reason.
    """
    rows = session.execute(
        select(Balance.on_hand, Location).join(Location, Balance.location_id == Location.id)
        .where(Balance.lot_id == lot.id, Balance.on_hand > 0)
        .order_by(Location.kind == LocationKind.QUARANTINE, (Location.id != preferred.id), Location.code)
    ).all()
    taken: dict[int, Decimal] = defaultdict(Decimal)
    where = {location.id: location for _, location in rows}
    remaining = quantity
    for free_only in (True, False) if take_allocated else (True,):
        for on_hand, location in rows:
            if location.kind is LocationKind.QUARANTINE:
                continue
            held = sum((q for _, q in allocated_elsewhere(session, lot.id, location.id)), Decimal(0))
            room = (max(on_hand - held, Decimal(0)) if free_only else on_hand) - taken[location.id]
            take = min(max(room, Decimal(0)), remaining)
            if take > 0:
                taken[location.id] += take
                remaining -= take
    usable_total = sum((q for q, loc in rows if loc.kind is not LocationKind.QUARANTINE), Decimal(0))
    if usable_total < quantity and all(loc.kind is not LocationKind.QUARANTINE for _, loc in rows):
        unit = lot.product.unit
        raise InsufficientStock(f"lot {lot.code} of {lot.product.sku} has {qty_unit(usable_total, unit)} on hand; "
                                f"{qty_unit(quantity, unit)} needed", field)
    if remaining > 0:
        first = rows[0][1] if rows else preferred
        where.setdefault(first.id, first)
        taken[first.id] += remaining
    return [(where[loc_id], q) for loc_id, q in taken.items() if q > 0]


def made_lot_expiry(product: Product, produced_on: date, inputs: Sequence[Lot], given: date | None,
                    reason: str | None) -> tuple[date | None, str | None]:
    """A made lot's expiry: the earlier of its own shelf life and its inputs' earliest expiry.

    An expiry the user gives wins, but one later than an input's expiry needs a written reason,
    which is returned to be recorded (None when no reason was needed).
    """
    dated = [lot for lot in inputs if lot.expiry is not None]
    earliest = min(dated, key=lambda lot: (lot.expiry, lot.code)) if dated else None
    if given is not None:
        if earliest is not None and earliest.expiry is not None and given > earliest.expiry and not reason:
            raise Invalid(f"expiry {given} is after input lot {earliest.code} of {earliest.product.sku}, which "
                          f"expires {earliest.expiry}; give the reason for the later date", "expiry_reason")
        later = earliest is not None and earliest.expiry is not None and given > earliest.expiry
        return given, reason if later else None
    own = produced_on + timedelta(days=product.shelf_life_days) if product.shelf_life_days else None
    candidates = [d for d in (own, earliest.expiry if earliest else None) if d is not None]
    return (min(candidates) if candidates else None), None


def _recipe_for(session: Session, product: Product, planned: Decimal | None) -> Recipe | None:
    """The recipe a batch planned for `planned` units is made to (None when it is not planned)."""
    if planned is None:
        return None
    ledger.positive(planned, "planned_quantity")
    recipe = session.scalar(select(Recipe).where(Recipe.product_id == product.id))
    if recipe is None:
        raise Invalid(f"{product.sku} has no recipe to plan the batch from; leave planned_quantity out",
                      "planned_quantity")
    return recipe


@ledger.transactional
def produce(
    session: Session,
    cmd: ProductionRunIn,
    *,
    user: User | None,
    today: date,
    lot_code_pattern: str,
    request_key: IdempotencyKey | None = None,
) -> ProductionRun:
    """Record a batch: inputs consumed, output lot made with its expiry and rolled-up unit cost."""
    if (earlier := remembered(session, request_key, "production_run", user)) is not None:
        return session.get_one(ProductionRun, earlier)
    product = product_by_sku(session, cmd.sku)
    location = location_by_code(session, cmd.location)
    output_quantity = ledger.positive(cmd.quantity, "quantity")
    produced_on = not_in_future(cmd.produced_on or today, today, "produced_on")
    if cmd.expiry is not None and cmd.expiry < produced_on:
        raise Invalid(f"expiry {cmd.expiry} is before the production date {produced_on}", "expiry")
    if cmd.lot_code:
        exists = session.scalar(select(Lot.id).where(Lot.product_id == product.id, Lot.code == cmd.lot_code))
        if exists is not None:
            raise Conflict(f"{product.sku} already has a lot {cmd.lot_code}", "lot_code")
        code = cmd.lot_code
    else:
        code = ledger.generate_lot_code(session, product, produced_on, lot_code_pattern)
    inputs = [lot_by_ref(session, item, f"inputs.{i}.") for i, item in enumerate(cmd.inputs)]
    recipe = _recipe_for(session, product, cmd.planned_quantity)
    extra_cost = cmd.extra_cost
    if extra_cost is None:
        extra_cost = recipe.cost(cmd.planned_quantity) if recipe and cmd.planned_quantity else Decimal(0)
    expiry, reason = made_lot_expiry(product, produced_on, inputs, cmd.expiry, cmd.expiry_reason)

    output = Lot(product_id=product.id, code=code, origin=LotOrigin.PRODUCTION, made_on=produced_on,
                 expiry=expiry, unit_cost=Decimal(0), status=LotStatus.RELEASED)
    session.add(output)
    session.flush()
    run = ProductionRun(number=ledger.document_number(session, "P"), product_id=product.id,
                        output_lot_id=output.id, output_quantity=output_quantity,
                        location_id=location.id, produced_on=produced_on, extra_cost=extra_cost,
                        note=cmd.note, user_id=user.id if user else None, expiry_reason=reason,
                        planned_quantity=cmd.planned_quantity if recipe else None)
    session.add(run)
    session.flush()
    if recipe is not None and cmd.planned_quantity is not None:
        session.add_all(RunPlanLine(run_id=run.id, product_id=item.product_id,
                                    planned_quantity=recipe.need(item, cmd.planned_quantity))
                        for item in recipe.inputs)

    # Lots (in id order), then their products: the order a hold takes them in, so never crosswise.
    for lot in sorted(set(inputs), key=lambda x: x.id):
        ledger.lock_lot(session, lot)
    lock_products(session, {lot.product_id for lot in inputs})
    takings = Takings(session, Purpose.CONSUME, on=produced_on, take_allocated=cmd.take_allocated,
                      label=f"production run {run.number}")
    input_cost = Decimal(0)
    per_lot: dict[int, Decimal] = defaultdict(Decimal)
    for i, item in enumerate(cmd.inputs):
        f = f"inputs.{i}."
        lot = ledger.lock_lot(session, inputs[i])
        lot_existed(lot, produced_on, "produced_on")
        if lot.id == output.id:
            raise Invalid("a batch cannot consume its own output", f + "lot_id")
        quantity = ledger.positive(item.quantity, f + "quantity")
        if item.location:
            sources = [(location_by_code(session, item.location, f + "location"), quantity)]
        else:
            sources = _sources(session, lot, quantity, location, cmd.take_allocated, f + "quantity")
        for source, take in sources:
            takings.check(lot, source, take, prefix=f)
            session.add(RunInput(run_id=run.id, lot_id=lot.id, location_id=source.id, quantity=take,
                                 unit_cost=lot.unit_cost))
            ledger.book(session, lot=lot, location=source, quantity=-take, kind=MovementKind.CONSUME,
                 ref_type="production_run", ref_id=run.id, booked_on=produced_on, user=user,
                 request_key=request_key, field=f + "quantity")
        per_lot[lot.id] += quantity
        input_cost += quantity * lot.unit_cost

    for lot_id, quantity in per_lot.items():
        session.add(LotLink(input_lot_id=lot_id, output_lot_id=output.id, run_id=run.id, quantity=quantity))
    output.unit_cost = ((input_cost + extra_cost) / output_quantity).quantize(_COST_PLACES)
    ledger.book(session, lot=output, location=location, quantity=output_quantity, kind=MovementKind.PRODUCE,
         ref_type="production_run", ref_id=run.id, booked_on=produced_on, user=user,
         request_key=request_key)
    setattr(run, "taken_from_orders", takings.finish(today))  # noqa: B010 - not a column
    remember(session, request_key, "production_run", run.id, user)
    session.flush()
    return run

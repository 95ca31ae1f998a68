"""Shared machinery of the use cases: transactions, ledger bookings, numbering, look-ups."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar, cast

from sqlalchemy import Table, bindparam, insert, select, text, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, make_transient_to_detached

from app.db import WRITE_OPTION, lend_connection, statement_engine, utcnow
from app.errors import Conflict, InsufficientStock, Invalid
from app.formatting import qty_unit
from app.models import (
    Balance,
    Counter,
    Location,
    Lot,
    Movement,
    MovementKind,
    Product,
    User,
)
from app.rules.lotcodes import PatternError, lot_code

if TYPE_CHECKING:
    from app.services.idempotency import IdempotencyKey

P = ParamSpec("P")
T = TypeVar("T")
M = TypeVar("M")


_UNIT = "lotwise.unit"
DEADLOCK = "40P01"  # PostgreSQL's SQLSTATE for a transaction ended to break a deadlock
_STATEMENT_AT_A_TIME = "lotwise.statement_at_a_time"


def statement_at_a_time(session: Session) -> None:
    """On PostgreSQL, let each of this session's statements stand on its own, committed as it runs: no BEGIN and
    no COMMIT, two round trips fewer. For a request that reads and logs (a scan), called before its first
    statement: the session then runs on its engine's twin (`db.statement_engine`). A use case it calls still runs
    as one transaction (`unit` opens one), committed durably, unless it is `one_statement`.
    """
    twin = statement_engine(cast(Engine, session.get_bind()))
    if twin is not None:
        if session.in_transaction():
            raise RuntimeError("statement_at_a_time comes before the session's first statement")
        session.bind = twin
        session.info[_STATEMENT_AT_A_TIME] = True
        lend_connection(session, twin)


@contextmanager
def unit(session: Session, *, one_statement: bool = False) -> Iterator[None]:
    """One write transaction: commit at the end, roll everything back on any error.

    Use cases called inside it join it instead of committing on their own, so a booking and what is
    kept about it (an idempotency key's answer) are saved together or not at all. A `one_statement` use case
    in a session that runs a statement at a time is that statement, committed as it runs.
    """
    if session.info.get(_UNIT):
        yield
        return
    if session.info.get(_STATEMENT_AT_A_TIME) and not one_statement:
        # The driver sends no BEGIN of its own here; after this one it sends the COMMIT or ROLLBACK that the
        # session asks for below (and nothing when no transaction is open), so row locks (FOR UPDATE) hold
        # until the use case ends.
        session.execute(text("BEGIN"))
        # Its connection does not wait for the disk at commit (`db.statement_engine`); a use case does.
        session.execute(text("SET LOCAL synchronous_commit TO on"))
    if session.get_bind().dialect.name == "sqlite":
        if session.in_transaction():
            # End the request's read transaction so the booking starts a write transaction, which
            # takes the write lock up front (BEGIN IMMEDIATE; see db.make_engine).
            session.commit()
        session.connection(execution_options={WRITE_OPTION: True})
    # On PostgreSQL the request's read transaction simply goes on as the booking's: under READ
    # COMMITTED every statement sees what is committed when it runs, so ending it first would only
    # cost a COMMIT and a BEGIN (two round trips) per booking.
    # A statement that runs on its own is committed by the server as it runs: the session has nothing to commit, and
    # keeping its connection saves handing it back to the pool and taking it out again for the next statement.
    committed_as_it_runs = one_statement and bool(session.info.get(_STATEMENT_AT_A_TIME))
    session.info[_UNIT] = True
    try:
        yield
        if not committed_as_it_runs:
            session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(f"conflicting change, nothing was saved: {exc.orig}") from exc
    except OperationalError as exc:
        session.rollback()
        if getattr(exc.orig, "sqlstate", None) == DEADLOCK:
            # Two bookings each waited for a row the other had locked; PostgreSQL ended this one.
            raise Conflict("another booking changed the same stock at the same moment; nothing was saved, "
                           "send it again") from exc
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info.pop(_UNIT, None)


def transactional(fn: Callable[Concatenate[Session, P], T]) -> Callable[Concatenate[Session, P], T]:
    """Run a use case as one transaction (or as part of the `unit` it is called in)."""

    @functools.wraps(fn)
    def wrapper(session: Session, *args: P.args, **kwargs: P.kwargs) -> T:
        with unit(session):
            return fn(session, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def one_statement(fn: Callable[Concatenate[Session, P], T]) -> Callable[Concatenate[Session, P], T]:
    """A use case that is one statement: a transaction of its own (or part of the `unit` it is called in), and in
    a session that runs a statement at a time, committed as it runs, without a BEGIN and a COMMIT around it."""

    @functools.wraps(fn)
    def wrapper(session: Session, *args: P.args, **kwargs: P.kwargs) -> T:
        with unit(session, one_statement=True):
            return fn(session, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def positive(value: Decimal, field: str) -> Decimal:
    """The quantity, if it is greater than zero."""
    if value <= 0:
        raise Invalid(f"{field} must be greater than zero", field)
    return value


def book(
    session: Session,
    *,
    lot: Lot,
    location: Location,
    quantity: Decimal,
    kind: MovementKind,
    ref_type: str,
    ref_id: int,
    booked_on: date,
    user: User | None,
    reason: str | None = None,
    request_key: IdempotencyKey | None = None,
    field: str = "quantity",
) -> None:
    """Append one movement and move the balance with it; on hand never goes below zero.

    Stock coming in is added by one upsert, stock going out is taken by one guarded UPDATE, so
    concurrent bookings on the same lot and location neither lose an addition nor both take the
    last units (PostgreSQL row lock; SQLite write lock).
    """
    if quantity == 0:
        raise Invalid(f"{field} must not be zero", field)
    movement = _movement(session, lot=lot, location=location, quantity=quantity, kind=kind, ref_type=ref_type,
                         ref_id=ref_id, booked_on=booked_on, user=user, reason=reason, request_key=request_key)
    if quantity > 0:
        session.execute(_balance_in(session.get_bind().dialect.name),
                        {"lot_id": lot.id, "location_id": location.id, "quantity": quantity})
    else:
        result = session.execute(
            update(Balance)
            .where(
                Balance.lot_id == lot.id,
                Balance.location_id == location.id,
                Balance.on_hand + quantity >= 0,
            )
            .values(on_hand=Balance.on_hand + quantity)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            on_hand = on_hand_at(session, lot.id, location.id)
            raise InsufficientStock(
                f"lot {lot.code} has {qty_unit(on_hand or 0, lot.product.unit)} at {location.code}; "
                f"{qty_unit(-quantity, lot.product.unit)} needed",
                field,
            )
    # The ledger row goes straight to its table: nothing reads it back in the booking, and the ORM's unit of work
    # would only add CPU to every movement.
    session.execute(_MOVEMENT, movement)
    session.flush()


def _movement(session: Session, *, lot: Lot, location: Location, quantity: Decimal, kind: MovementKind, ref_type: str,
              ref_id: int, booked_on: date, user: User | None, reason: str | None,
              request_key: IdempotencyKey | None) -> dict[str, Any]:
    """A ledger row's values (lot, location and quantity are also what `_balance_in` takes)."""
    return {"lot_id": lot.id, "location_id": location.id, "quantity": quantity, "kind": kind, "ref_type": ref_type,
            "ref_id": ref_id, "user_id": user.id if user else None, "booked_on": booked_on, "reason": reason,
            "request_key": request_key.key if request_key else None, "created_at": stamped_now(session)}


_MOVEMENTS = cast(Table, Movement.__table__)
_MOVEMENT = insert(_MOVEMENTS).values({c.key: bindparam(c.key) for c in _MOVEMENTS.c if c.key != "id"})
_BALANCES_IN: dict[str, Any] = {}


def _balance_in(dialect: str) -> Any:
    """Stock coming in: one upsert adding `quantity` to the balance of `lot_id` at `location_id`, built once."""
    stmt = _BALANCES_IN.get(dialect)
    if stmt is None:
        table = cast(Table, Balance.__table__)
        add = (postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)).values(
            lot_id=bindparam("lot_id"), location_id=bindparam("location_id"), on_hand=bindparam("quantity"))
        stmt = _BALANCES_IN[dialect] = add.on_conflict_do_update(
            index_elements=[table.c.lot_id, table.c.location_id],
            set_={"on_hand": table.c.on_hand + add.excluded.on_hand})
    return stmt


# A session whose rows are stamped with another clock than the real one (the demo tells a story of six months) keeps
# that clock here; rows written without the ORM's flush take their `created_at` from it, as flushed rows do.
STAMP_CLOCK = "lotwise.stamp_clock"


def stamped_now(session: Session) -> datetime:
    """The time a row written now is stamped with: the session's stamp clock, else the real one."""
    stamp: Callable[[], datetime] | None = session.info.get(STAMP_CLOCK)
    return stamp() if stamp is not None else utcnow()


def on_hand_at(session: Session, lot_id: int, location_id: int) -> Decimal | None:
    return session.scalar(
        select(Balance.on_hand).where(Balance.lot_id == lot_id, Balance.location_id == location_id)
    )


def _insert(session: Session, model: type[Any]) -> Any:
    """An INSERT that can say ON CONFLICT … DO UPDATE on the session's database.

    It goes to the model's table: given the mapped class, the session runs the statement through the ORM's bulk
    insert, which only adds CPU here (every stock movement moves a balance; every document draws a number).
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model.__table__)
    if dialect == "sqlite":
        return sqlite.insert(model.__table__)
    raise NotImplementedError(f"Lotwise runs on PostgreSQL or SQLite, not {dialect}")


def next_number(session: Session, name: str) -> int:
    """The next value of a named counter (1, 2, …), unique under concurrent bookings.

    One upsert creates the counter or moves it on, so even the first two documents of a kind
    booked at the same moment get 1 and 2 instead of colliding.

    On PostgreSQL the counter moves in a short transaction of its own, on another connection, so
    its row is locked for that one statement and not until the booking commits: bookings of one
    kind (receipts, shipments, lot codes of one product and day) run side by side instead of one
    at a time. The price is gaps: a number drawn by a booking that is then refused or rolled back
    is not handed out again. SQLite runs one booking at a time anyway and keeps the counter in the
    booking's transaction, so its numbers stay gapless.
    """
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        stmt = _insert(session, Counter).values(name=name, value=1)
        stmt = stmt.on_conflict_do_update(index_elements=[Counter.name],
                                          set_={"value": Counter.value + 1}).returning(Counter.value)
        return int(session.execute(stmt).scalar_one())
    return next_numbers(session, [name])[name]


def reserve_numbers(session: Session, name: str, count: int) -> int:
    """Move a named counter on by `count` in one statement; the first of the `count` numbers now reserved."""
    stmt = _insert(session, Counter).values(name=name, value=count)
    stmt = stmt.on_conflict_do_update(index_elements=[Counter.name],
                                      set_={"value": Counter.value + count}).returning(Counter.value)
    return int(session.execute(stmt).scalar_one()) - count + 1


def document_number(session: Session, prefix: str) -> str:
    """A document number such as R-000042 for receipts."""
    return numbered(prefix, next_number(session, "doc:" + prefix))


def lot_codes(session: Session, product: Product, on: date, pattern: str, seq: int | None = None) -> Iterator[str]:
    """The codes a new lot of `product` made on day `on` may take, in turn: each from the pattern and the next value of
    the product's counter of the day (`seq` when the first is already drawn). The caller takes the first one free;
    a pattern that cannot make a code, or no other than the one just found taken, ends it with a Conflict."""
    previous = None
    while True:
        if seq is None:
            seq = next_number(session, lot_counter(product.id, on))
        try:
            code = lot_code(pattern, on, product.sku, seq)
        except PatternError as exc:
            raise Conflict(f"{exc}; give the lot code", "lot_code") from None
        if code == previous:  # the pattern has no {seq}: it cannot make a second code for the day
            raise Conflict(f"{product.sku} already has lot {code}, and the lot code pattern {pattern!r} "
                           f"makes no other; give the lot code", "lot_code")
        yield code
        previous, seq = code, None


def generate_lot_code(session: Session, product: Product, on: date, pattern: str) -> str:
    """A new lot code for `product` from the configured pattern, unique for the product."""
    return next(code for code in lot_codes(session, product, on, pattern)
                if session.scalar(select(Lot.id).where(Lot.product_id == product.id, Lot.code == code)) is None)


def lock_lot(session: Session, lot: Lot) -> Lot:
    """Re-read the lot under a share lock before using its stock.

    A hold or recall committed meanwhile is seen, and one arriving later waits until this booking
    has ended, so stock of a blocked lot never leaves (PostgreSQL; SQLite already runs one booking
    at a time).
    """
    session.refresh(lot, with_for_update={"read": True})
    return lot


# --- The rows of a booking written with statements built once -----------------------------------------------------
# A receipt writes a document, a lot, a line, a ledger row and a balance. Composing each INSERT anew on every request
# (its values, the column proxies of its RETURNING, its cache key) cost more CPU than running it; these are built
# once per table and sent on the session's connection, past the ORM's execute.

_INSERT_RETURNING: dict[tuple[Table, tuple[str, ...]], Any] = {}
_INSERT_NEW: dict[tuple[str, Table, tuple[str, ...], tuple[str, ...]], Any] = {}
_INSERT_BOOKED_IN: dict[tuple[Table, tuple[str, ...]], Any] = {}


def _given(session: Session, row: Any) -> tuple[Any, Table, dict[str, Any]]:
    """The row's mapper, its table and the values set on it (`created_at` stamped when left unset)."""
    mapper = sa_inspect(type(row))
    table = cast(Table, mapper.local_table)
    if "created_at" in mapper.column_attrs and "created_at" not in row.__dict__:
        row.created_at = stamped_now(session)
    given = {attr.columns[0].key: row.__dict__[attr.key] for attr in mapper.column_attrs if attr.key in row.__dict__}
    return mapper, table, given


def _persistent(session: Session, mapper: Any, row: M, stored: Any) -> M:
    """`row` completed with what its INSERT returned (id, defaults) and added to the session as stored."""
    for attr in mapper.column_attrs:
        if attr.key not in row.__dict__:
            setattr(row, attr.key, stored[attr.columns[0]])
    make_transient_to_detached(row)
    session.add(row)
    return row


def insert_row(session: Session, row: M) -> M:
    """INSERT a new row (a transient mapped object, its columns set, no related objects) and add it as persistent.

    Past the ORM's unit of work, which costs several times the statement's own CPU; related objects are attached
    afterwards with `set_committed_value`, so nothing is left for a flush to write. The INSERT is built once per
    table and set of columns given and returns only the columns not given (the id, defaults): the driver describes
    every returned column of every row, which for a whole row cost more than the INSERT itself."""
    mapper, table, given = _given(session, row)
    columns = tuple(sorted(given))
    stmt = _INSERT_RETURNING.get((table, columns))
    if stmt is None:
        stmt = _INSERT_RETURNING[(table, columns)] = insert(table).returning(*_unset(table, columns))
    return _persistent(session, mapper, row, session.connection().execute(stmt, given).one()._mapping)


def _unset(table: Table, columns: tuple[str, ...]) -> list[Any]:
    return [c for c in table.c if c.key not in columns]


def insert_new(session: Session, row: M, unique: tuple[str, ...]) -> M | None:
    """INSERT the row unless one with the same values of the `unique` columns exists (then None, and the
    transaction goes on): the look-up and the write in one statement, which also waits for a concurrent booking
    writing the same key instead of failing at its commit."""
    mapper, table, given = _given(session, row)
    dialect = session.get_bind().dialect.name
    columns = tuple(sorted(given))
    stmt = _INSERT_NEW.get((dialect, table, unique, columns))
    if stmt is None:
        stmt = _INSERT_NEW[(dialect, table, unique, columns)] = (
            _insert(session, mapper.class_).on_conflict_do_nothing(index_elements=list(unique))
            .returning(*_unset(table, columns)))
    stored = session.connection().execute(stmt, given).first()
    return None if stored is None else _persistent(session, mapper, row, stored._mapping)


def insert_booked_in(session: Session, row: M, *, lot: Lot, location: Location, quantity: Decimal,
                     kind: MovementKind, ref_type: str, ref_id: int, booked_on: date, user: User | None,
                     request_key: IdempotencyKey | None = None) -> M:
    """INSERT a document line that brings stock in, with its ledger row and balance (`book` of a positive
    quantity), and add it as persistent.

    On PostgreSQL the three are one statement (the ledger row and the balance ride along as data-modifying WITH
    clauses, which run exactly once whether read or not): one round trip instead of three. Elsewhere the line is
    inserted, then booked.
    """
    quantity = positive(quantity, "quantity")
    if session.get_bind().dialect.name != "postgresql":
        added = insert_row(session, row)
        book(session, lot=lot, location=location, quantity=quantity, kind=kind, ref_type=ref_type, ref_id=ref_id,
             booked_on=booked_on, user=user, request_key=request_key)
        return added
    mapper, table, given = _given(session, row)
    columns = tuple(sorted(given))
    stmt = _INSERT_BOOKED_IN.get((table, columns))
    if stmt is None:
        stmt = _INSERT_BOOKED_IN[(table, columns)] = _booked_in_statement(table, columns)
    params = {f"line_{name}": value for name, value in given.items()}
    params.update(_movement(session, lot=lot, location=location, quantity=quantity, kind=kind, ref_type=ref_type,
                            ref_id=ref_id, booked_on=booked_on, user=user, reason=None, request_key=request_key))
    stored = session.connection().execute(stmt, params).one()._mapping
    return _persistent(session, mapper, row, stored)


def _booked_in_statement(table: Table, columns: tuple[str, ...]) -> Any:
    """The line's INSERT carrying `book`'s own two statements (the ledger row, the balance's upsert) along."""
    line = insert(table).values({name: bindparam(f"line_{name}") for name in columns})
    return (line.returning(*_unset(table, columns)).add_cte(_MOVEMENT.cte("moved"))
            .add_cte(_balance_in("postgresql").cte("balanced")))


def next_numbers(session: Session, names: list[str]) -> dict[str, int]:
    """`next_number` of several counters at once: on PostgreSQL one statement, committed as it runs, for all of
    them (a receipt draws its document number and its lot's sequence in one round trip). The counters are moved
    on in name order, so two draws sharing counters never wait for each other crosswise."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return {name: next_number(session, name) for name in names}
    # One statement, committed as it runs (no BEGIN, no COMMIT: one round trip instead of four).
    with bind.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        return {name: int(value) for name, value in conn.execute(_DRAW, {"names": sorted(set(names))})}


# The counters moved on in a transaction of one statement. Durable enough without a flush of its own: a booking that
# uses the numbers commits synchronously after this, and flushing its commit record flushes this one before it; so
# the statement turns synchronous commit off for its own transaction (set_config(…, true) lasts until that
# transaction's commit, which happens right after the statement).
_DRAW = text(
    "WITH drawn AS (INSERT INTO counter (name, value) SELECT n, 1 FROM unnest(CAST(:names AS varchar[])) AS n "
    "ORDER BY n ON CONFLICT (name) DO UPDATE SET value = counter.value + 1 RETURNING name, value) "
    "SELECT name, value FROM drawn, set_config('synchronous_commit', 'off', true) AS quick"
)


def lot_counter(product_id: int, on: date) -> str:
    """The counter of a product's lot codes of a day (`lot_codes`)."""
    return f"lot:{product_id}:{on.isoformat()}"


def numbered(prefix: str, value: int) -> str:
    """A document number drawn from the counter `doc:<prefix>`: R-000042."""
    return f"{prefix}-{value:06d}"

"""Declarative base, exact Decimal and aware-UTC column types, and engine/session setup."""

from __future__ import annotations

import select
import weakref
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import BigInteger, DateTime, MetaData, Numeric, create_engine, event
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import QueuePool
from sqlalchemy.types import TypeDecorator

from app import clock
from app.errors import NotFound

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

WRITE_OPTION = "lotwise_write"
"""Execution option that marks a connection as opened for a booking (see services.base)."""

SCALE = 6
_FACTOR = Decimal(10) ** SCALE
_QUANT = Decimal(1).scaleb(-SCALE)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Exact(TypeDecorator[Decimal]):
    """A Decimal with 6 places: NUMERIC on PostgreSQL, a scaled integer on SQLite.

    SQLite has no decimal type (NUMERIC becomes a float there); a scaled integer keeps sums in SQL
    exact, and SQLAlchemy applies this type to SUM() results, so queries get Decimals back.
    """

    impl = Numeric(24, SCALE)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(24, SCALE, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        d = Decimal(value).quantize(_QUANT)
        if dialect.name == "sqlite":
            return int(d * _FACTOR)
        return d

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / _FACTOR).quantize(_QUANT)
        return Decimal(value).quantize(_QUANT)

    @property
    def python_type(self) -> type:
        return Decimal


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every database; naive datetimes are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        stamp: datetime = value
        if stamp.tzinfo is None:
            return stamp.replace(tzinfo=UTC)
        return stamp.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, aware, in UTC: the site's one clock (`app.clock.now`), looked up at each call so a
    column default and a service stamp always agree with the dates the edges work out."""
    return clock.now()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout on every connection."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy own transactions (BEGIN IMMEDIATE below) instead of pysqlite.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # A booking takes the write lock at its start so concurrent writers queue (busy
            # timeout) instead of failing with "database is locked" halfway through; reads stay
            # deferred so they never wait for a writer (WAL).
            if conn.get_execution_options().get(WRITE_OPTION):
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.exec_driver_sql("BEGIN")

        return engine
    if not url.startswith("postgresql+psycopg://"):
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)
    engine = create_engine(url, **kwargs)
    twin = create_engine(url, **{**kwargs, "isolation_level": "AUTOCOMMIT", "connect_args": {
        **kwargs.get("connect_args", {}), "options": "-c synchronous_commit=off"}})
    _STATEMENT_ENGINES[engine] = twin
    event.listen(engine, "engine_disposed", lambda _engine: twin.dispose())
    if not kwargs.get("pool_pre_ping"):
        event.listen(engine, "checkout", _refuse_closed_connection)
        event.listen(twin, "checkout", _refuse_closed_connection)
    return engine


# Each PostgreSQL engine's twin for sessions that run a statement at a time (`statement_engine`).
_STATEMENT_ENGINES: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def statement_engine(engine: Engine) -> Engine | None:
    """The PostgreSQL engine's twin for a request that reads and logs, each statement on its own (a scan), or None.

    The same database through a pool of its own, whose connections are in autocommit from the start (no BEGIN and
    COMMIT round trips, and no switching a pooled connection to autocommit and back on every request) and whose
    commits do not wait for the WAL to reach the disk (`synchronous_commit` off). That wait was half of a scan
    event's database CPU; what a crash of the database server can lose is the last fraction of a second of the scan
    log, never a booking: a transaction opened on the twin (`services.base.unit`) commits durably again.
    """
    return _STATEMENT_ENGINES.get(engine)


def open_connections(engine: Engine, count: int) -> int:
    """Open up to `count` connections in the engine's pool, and in its statement twin's, and leave them there;
    returns how many were opened.

    A server's worker calls this before its first request (one connection per thread it answers with). Otherwise
    the first busy second after a start is when each thread opens its own, each a new database backend on
    PostgreSQL, while requests queue behind them. A pool that keeps no connections is left alone, and no pool gets
    more than it keeps. A connection that cannot be opened raises, and those opened before it stay in the pool.
    """
    opened = 0
    for each in (engine, statement_engine(engine)):
        if each is None or not isinstance(each.pool, QueuePool):
            continue
        held = []
        try:
            for _ in range(min(count, each.pool.size())):
                held.append(each.connect())
        finally:
            opened += len(held)
            for conn in held:
                conn.close()  # back to the pool, open
    return opened


def _refuse_closed_connection(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    """Hand out a pooled PostgreSQL connection only if the server has not closed it, without a round trip.

    A connection resting in the pool has nothing to read: the server speaks only when asked, and we never LISTEN.
    When the server restarts or ends the backend, it says so (a FATAL notice) and closes the socket, which makes
    the socket readable. So a readable (or already closed) socket is a dead connection, and the pool replaces it
    before the request sees it: a request after a database restart still works. This replaces a `SELECT 1` sent
    before every request (a sixth of a scan's round trips). A connection whose server vanished without closing
    it (a network cut) is found by the first statement instead, and the pool then drops it and its siblings.
    """
    if dbapi_conn.closed or dbapi_conn.broken:
        raise DisconnectionError("the connection is closed")
    try:
        fd = dbapi_conn.fileno()
    except Exception as exc:  # psycopg raises OperationalError on a connection it already knows is gone
        raise DisconnectionError("the connection has no socket") from exc
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    if poller.poll(0):
        raise DisconnectionError("the server closed the connection")


class AppSession(Session):
    """The app's session: SQLAlchemy's, which can also lend its `Prepared` statements a connection of their own
    (`lend_connection`), handed back to the pool when the session closes."""

    def close(self) -> None:
        try:
            super().close()
        finally:
            lent = self.info.get(_LENT)
            if lent is not None:
                lent.close()


_LENT = "lotwise.lent_connection"
# Set while the session's transaction holds a connection of its own (SQLAlchemy begins one at the session's first
# statement, flush or explicit BEGIN, and lets go of it when the transaction ends).
_BEGUN = "lotwise.begun"


@event.listens_for(AppSession, "after_begin")
def _begun(session: Session, _transaction: Any, _connection: Any) -> None:
    session.info[_BEGUN] = True


@event.listens_for(AppSession, "after_transaction_end")
def _ended(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_BEGUN, None)


class _LentConnection:
    """A connection of the session's engine for its `Prepared` statements, taken from the pool at the first."""

    __slots__ = ("connection", "engine")

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.connection: Connection | None = None

    def get(self) -> Connection:
        conn = self.connection
        if conn is None:
            conn = self.connection = self.engine.connect()
        return conn

    def close(self) -> None:
        conn, self.connection = self.connection, None
        if conn is not None:
            conn.close()


def lend_connection(session: Session, engine: Engine) -> None:
    """Let the session's `Prepared` statements run on a connection of `engine` held for them while the session's
    own transaction holds no connection: for a session whose every statement stands on its own (an autocommit
    engine), where a statement through the session would bind its transaction to a pooled connection first.

    Once the session's transaction has a connection (an ORM query, a flush, a use case's BEGIN), its statements run
    there, `Prepared` ones too, as they always do. Only an `AppSession` hands the lent connection back when it
    closes; any other session is left as it is.
    """
    if isinstance(session, AppSession) and _LENT not in session.info:
        session.info[_LENT] = _LentConnection(engine)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (views render after the service commits)."""
    return sessionmaker(bind=engine, class_=AppSession, expire_on_commit=False)


M = TypeVar("M")


def get_or_404(session: Session, model: type[M], ident: int, field: str, label: str, *, lock: bool = False) -> M:
    """The row with this primary key, or NotFound naming `field` ("recall 7 does not exist").

    `lock` takes the row FOR UPDATE for the rest of the booking. The one lookup-or-404 of the app:
    services, queries, pages and the API all use it.
    """
    if lock:
        obj = session.get(model, ident, with_for_update=True, populate_existing=True)
    else:
        obj = session.get(model, ident)
    if obj is None:
        raise NotFound(f"{label} {ident} does not exist", field)
    return obj


class Prepared:
    """A statement built once and run straight through the database driver's cursor, for the few statements every
    handheld sends with every scan.

    Through SQLAlchemy each statement also builds an execution context, asks the driver to describe every result
    column (psycopg makes an object per column per statement) and loads ORM objects: several times the driver's own
    CPU for a one-row look-up. Here the statement is compiled once per dialect, its parameters and result columns
    are converted by their SQLAlchemy types exactly as a normal execution would, and rows come back as plain tuples.
    It runs on the session's connection, inside whatever transaction the session has open, and behaves like any
    other statement towards the rest of the app: statement listeners see it, and a driver error is raised as
    SQLAlchemy's (a lost connection invalidates it, so the pool replaces it).

    Only for statements that return rows (a SELECT, an INSERT … RETURNING) and whose every value is given when run:
    no IN lists expanded at run time, no Python-side column defaults (an INSERT names each column it fills).
    """

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._plans: dict[str, _Plan] = {}

    def rows(self, session: Session, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        if session.autoflush:
            # As a query through the session would: it sees what the session has pending (a no-op when nothing is).
            session.flush()
        info = session.info
        lent = info.get(_LENT)
        # On the lent connection while the session's transaction holds none (a flush above would have taken one):
        # the session's transaction bound to a pooled connection at its first statement and handed back at its end
        # cost about a twentieth of a scan's CPU in the app.
        conn = lent.get() if lent is not None and _BEGUN not in info else session.connection()
        dialect = conn.dialect
        plan = self._plans.get(dialect.name)
        if plan is None:
            plan = self._plans[dialect.name] = _Plan(self.statement, dialect)
        args = plan.arguments(params)
        dbapi_conn = conn.connection.dbapi_connection
        assert dbapi_conn is not None
        cursor = dbapi_conn.cursor()
        listened = conn._has_events or conn.engine._has_events  # as SQLAlchemy itself checks before dispatching
        try:
            if listened:
                for fn in conn.dispatch.before_cursor_execute:
                    fn(conn, cursor, plan.sql, args, None, False)
            cursor.execute(plan.sql, args)
            if listened:
                for fn in conn.dispatch.after_cursor_execute:
                    fn(conn, cursor, plan.sql, args, None, False)
            fetched = cursor.fetchall()
            # psycopg builds the description anew on every call: read once, to learn how to convert the columns.
            description = cursor.description if plan.readers is None else None
        except Exception as exc:
            # Wrapped as SQLAlchemy's own error; a disconnect invalidates the connection.
            conn._handle_dbapi_exception(exc, plan.sql, args, cursor, None)
        finally:
            cursor.close()
        return plan.converted(fetched, description)

    def first(self, session: Session, params: dict[str, Any]) -> tuple[Any, ...] | None:
        rows = self.rows(session, params)
        return rows[0] if rows else None


class _Plan:
    """A statement compiled for one dialect: its SQL, how to give it values and how to read its columns."""

    def __init__(self, statement: Any, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if compiled.literal_execute_params or compiled.post_compile_params or getattr(compiled, "prefetch", None):
            raise ValueError("a prepared statement takes every value when run: no expanding IN, no Python defaults")
        self.compiled = compiled
        self.sql: str = compiled.string
        self.positional: tuple[str, ...] | None = tuple(compiled.positiontup) if compiled.positional else None
        self.binds = {key: fn for key, fn in (compiled._bind_processors or {}).items() if fn is not None}
        self.dialect = dialect
        self.readers: list[tuple[int, Any]] | None = None

    def arguments(self, params: dict[str, Any]) -> Any:
        values = self.compiled.construct_params(params)
        for key, fn in self.binds.items():
            if key in values:
                values[key] = fn(values[key])
        if self.positional is not None:
            return tuple(values[key] for key in self.positional)
        return values

    def converted(self, rows: Sequence[Any], description: Any) -> list[tuple[Any, ...]]:
        if self.readers is None:
            # What each column needs may depend on the type the driver reports (psycopg's numerics do): learnt from
            # the first result, the same for every later one of this statement.
            readers = []
            for i, column in enumerate(self.compiled._result_columns):
                fn = column.type._cached_result_processor(self.dialect, description[i][1] if description else None)
                if fn is not None:
                    readers.append((i, fn))
            self.readers = readers
        if not self.readers or not rows:
            return [tuple(row) for row in rows]
        out = []
        for row in rows:
            values = list(row)
            for i, fn in self.readers:
                values[i] = fn(values[i])
            out.append(tuple(values))
        return out

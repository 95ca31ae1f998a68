"""Private copies of a template database: a file copy on SQLite, `CREATE DATABASE ... TEMPLATE` on PostgreSQL."""

from __future__ import annotations

import itertools
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url

from app.db import Base, make_engine, statement_engine

PG_URL = os.environ.get("LOTWISE_TEST_DATABASE_URL")  # run the database tests on PostgreSQL

_clones = itertools.count(1)


@dataclass(frozen=True)
class PgDemoBuild:
    """What `lotwise demo --no-serve` printed with LOTWISE_DATABASE_URL naming a PostgreSQL database, and the
    files it left in the directory it ran in."""

    url: str
    output: str
    exit_code: int
    files: list[str]


@dataclass(frozen=True)
class DemoBuild:
    """What `lotwise demo --no-serve` printed, and the SQLite file it filled."""

    path: Path
    output: str
    exit_code: int


def _admin(url: str) -> str:
    """The same server's maintenance database, where databases are created and dropped."""
    return make_url(url).set(database="postgres").render_as_string(hide_password=False)


def sibling(url: str, suffix: str) -> str:
    """Another database on the same PostgreSQL server, named after `url`'s database plus `suffix`."""
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}{suffix}").render_as_string(hide_password=False)


def _database(url: str) -> str:
    return str(make_url(url).database)


def create_database(url: str, template: str | None = None) -> None:
    """(Re)create the PostgreSQL database `url`, empty or as a copy of `template` (which nobody may be using)."""
    engine = make_engine(_admin(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{_database(url)}" WITH (FORCE)'))
            copy = f' TEMPLATE "{_database(template)}"' if template else ""
            conn.execute(text(f'CREATE DATABASE "{_database(url)}"{copy}'))
    finally:
        engine.dispose()


def drop_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    engine = make_engine(_admin(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{_database(url)}" WITH (FORCE)'))
    finally:
        engine.dispose()


def clone(template: str, folder: Path) -> str:
    """A private, writable copy of the template database `template` (a URL); drop it with `drop_database`."""
    if template.startswith("sqlite:///"):
        target = folder / f"clone-{next(_clones)}.db"
        shutil.copy(template.removeprefix("sqlite:///"), target)
        return f"sqlite:///{target}"
    url = sibling(template, f"_copy{next(_clones)}")
    create_database(url, template=template)
    return url


def truncate_all(url: str) -> None:
    """Empty every table of a PostgreSQL database and restart its id sequences."""
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement `engine` runs inside the block, in order (to count queries, not to time them)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    engines = _with_twin(engine)
    for e in engines:
        event.listen(e, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for e in engines:
            event.remove(e, "before_cursor_execute", record)


def _with_twin(engine: Engine) -> list[Engine]:
    """The engine and, on PostgreSQL, the twin a scan's statements run on (`app.db.statement_engine`)."""
    twin = statement_engine(engine)
    return [engine] if twin is None else [engine, twin]


@contextmanager
def round_trips(engine: Engine) -> Iterator[list[str]]:
    """What a PostgreSQL `engine`'s pooled connections say to the server inside the block, one entry per round trip
    (the statement's first word: BEGIN, SELECT, INSERT, COMMIT …), read from libpq's own trace of the wire."""
    import tempfile

    from psycopg import pq

    seen: list[str] = []
    traces: dict[int, Any] = {}

    def start(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        trace = traces[id(dbapi_conn)] = (dbapi_conn, tempfile.TemporaryFile())
        dbapi_conn.pgconn.trace(trace[1].fileno())
        dbapi_conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)

    def stop(dbapi_conn: Any, _record: Any) -> None:
        trace = traces.pop(id(dbapi_conn), None)
        if trace is None:
            return
        dbapi_conn.pgconn.untrace()
        trace[1].seek(0)
        first = None
        for line in trace[1].read().decode(errors="replace").splitlines():
            side, _length, message, *rest = [*line.split("\t"), "", "", ""]
            if side == "F" and message in ("Query", "Parse") and first is None:
                # Parse carries the prepared statement's name before its text: the first quoted SQL word
                word = re.search(r'"\s*([A-Za-z]+)', rest[0].replace('""', ""))
                first = word.group(1).upper() if word else "?"
            if side == "B" and message == "ReadyForQuery":
                seen.append(first or "PREPARED")  # a statement prepared earlier: Bind, Execute, Sync
                first = None
        trace[1].close()

    engines = _with_twin(engine)
    for e in engines:
        event.listen(e, "checkout", start)
        event.listen(e, "checkin", stop)
    try:
        yield seen
    finally:
        for e in engines:
            event.remove(e, "checkout", start)
            event.remove(e, "checkin", stop)
        for dbapi_conn, _file in list(traces.values()):
            stop(dbapi_conn, None)

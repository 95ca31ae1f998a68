"""Scans, picks and receipts from 200 handhelds at once: `lotwise serve` on PostgreSQL under an open-loop load.

    python -m benchmarks.bench_scan_load [--url postgresql://…] [--handhelds 200] [--seconds 30]
                                         [--baseline main] [--rates 250,500,…]

The database (one of its own, default below) gets the demo company once (built on later runs only if it is
empty), then for each run: twenty operators with an API token each, fresh orders allocated for the picks, and the
labels to scan read from its lots, products and orders. The server is started the way the README deploys it
(`lotwise serve`, its defaults for workers and threads), from this source tree — and, with `--baseline REF`,
first from that git revision exported to a temporary folder (the same database, the same load), so both are
measured in one run on one machine.

The load is open-loop: every request has its scheduled moment (each handheld once a second, the handhelds spread
evenly over the second) and is sent then whether or not earlier answers have come back; its latency runs from the
scheduled moment to the last byte of the answer, so a server that falls behind shows it in full instead of
slowing the senders down (no coordinated omission). The generator is one asyncio process speaking HTTP/1.1 with
keep-alive through protocols of its own (a pool of connections, reused when the server keeps them open, each
parsing its answers as the bytes arrive), with no task or stream per request. Each phase's requests are built
before the phase starts, so during it the generator only writes bytes and reads answers: it shares the machine
with the server, and every bit of CPU it spends is taken from the server's. It measures its own CPU, and that of
the server's processes and the database's backends, so one can see whether it starved the server.

Phases: 200 handhelds for `--seconds`, each sending once a second a parse/lookup scan, a pick confirmation or a
receipt (70/20/10 by default; bookings carry an Idempotency-Key); then parse/lookup alone at rising rates, each for
`--step-seconds`, until the p99 passes 50 ms or a request fails: the highest rate that passed is the sustainable
rate. Writes its section of docs/benchmarks.md (`--no-write` to leave it alone).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import json
import os
import random
import re
import resource
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from app.db import make_engine
from app.migrate import upgrade
from benchmarks.procstat import backends, cpu_by_pid
from benchmarks.report import write_section

ROOT = Path(__file__).resolve().parent.parent
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/lotwise_scanbench"
TIMEZONE = "UTC"
P99_LIMIT = 0.050  # seconds: the target for every kind of request
TIMEOUT = 10.0  # seconds: an answer later than this counts as an error
OPERATORS = 20  # handhelds share these operators' tokens, as a shift's devices would
PICK_UNITS = 1  # each pick confirms one unit, so an allocation of N units takes N picks
KINDS = ("parse", "pick", "receipt")
RATES = "100,200,300,400,600,800,1000,1250,1500"  # parse/lookup rates stepped through by default
EXPECTED = {"parse": 200, "pick": 200, "receipt": 201}


# --- the database and what the handhelds will send -------------------------------------------------------------


def _admin_url(url: str) -> str:
    return make_url(url).set(database="postgres").render_as_string(hide_password=False)


def prepare(url: str, rebuild: bool) -> Engine:
    """The database with the demo company (created and built when missing or empty), migrated."""
    name = make_url(url).database
    admin = make_engine(_admin_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if rebuild and exists:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            exists = False
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    from app import create_app
    from app.demo import build_demo

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-scan-load", "TIMEZONE": TIMEZONE})
    t0 = time.perf_counter()
    if build_demo(app):
        print(f"built the demo company in {time.perf_counter() - t0:.0f} s", flush=True)
    app.extensions["lotwise.engine"].dispose()
    engine = make_engine(url)
    upgrade(engine)
    return engine


@dataclass
class Pick:
    order_id: int
    lot_id: int
    location: str
    left: int


@dataclass
class Workload:
    tokens: list[str]
    scans: list[tuple[str, str]]  # (what, raw)
    picks: list[Pick]
    receipt_lines: list[dict[str, Any]]  # sku and location of a material, and its supplier
    stations: list[str]


def _gs1_check(body: str) -> str:
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


# The customer's reference on the orders a run creates to pick from.
RUN_REFERENCE = "scan load benchmark"


def workload(engine: Engine, handhelds: int, picks_needed: int, seed: int) -> Workload:
    """Operators and tokens, orders allocated to pick from, and the labels the handhelds will scan."""
    from app.models import (
        Customer,
        Location,
        LocationKind,
        Lot,
        LotStatus,
        Order,
        OrderAllocation,
        OrderLine,
        Product,
        ProductKind,
        Role,
        Station,
        Supplier,
        User,
    )
    from app.models.documents import OrderStatus
    from app.schemas import OrderIn, ReceiptIn, UserIn
    from app.services import orders, stock
    from app.services.allocations import allocate_order
    from app.services.users import create_token, create_user

    rng = random.Random(seed)
    today = datetime.now(UTC).date()
    with Session(engine) as s:
        tokens = []
        for i in range(1, OPERATORS + 1):
            name = f"handheld-{i:02d}"
            if s.scalar(select(User.id).where(User.username == name)) is None:
                create_user(s, UserIn(username=name, role=Role.OPERATOR, password="bench-scan-load-pw"))
            tokens.append(create_token(s, name, f"scan load {datetime.now(UTC):%H%M%S}")[1])
        admin = s.scalar(select(User).where(User.role == Role.ADMIN).limit(1))

        # Picks: a big delivery of each finished product into a pickable shelf, and one order per handheld (as a
        # shift's pickers each work their own order), of a customer without a shelf-life rule, allocated, so every
        # pick is one the gate lets through. The orders share the products and their lots, as real ones do.
        warehouse_code, shelf = s.execute(
            select(Location.warehouse_id, Location.code).where(Location.kind == LocationKind.STORAGE)
            .order_by(Location.id).limit(1)).one()
        from app.models import Warehouse
        warehouse = s.get_one(Warehouse, warehouse_code).code
        customer = s.scalar(select(Customer.id).where(Customer.min_remaining_days.is_(None),
                                                      Customer.min_remaining_pct.is_(None),
                                                      Customer.max_lots_per_line.is_(None),
                                                      Customer.no_date_reversal.is_(False)).order_by(Customer.id)
                            .limit(1))
        supplier = s.scalar(select(Supplier.id).order_by(Supplier.id).limit(1))
        finished = s.scalars(select(Product).where(Product.kind == ProductKind.PRODUCT).order_by(Product.id)
                             .limit(8)).all()
        per_order = picks_needed // max(1, handhelds) + 5
        per_product = -(-handhelds // max(1, len(finished)))
        for product in finished:
            expiry = today + timedelta(days=max(product.shelf_life_days or 365, 60))
            stock.receive(s, ReceiptIn.model_validate({"supplier_id": supplier, "lines": [
                {"sku": product.sku, "quantity": str(per_order * per_product * PICK_UNITS), "location": shelf,
                 "expiry": expiry.isoformat()}]}), user=admin, today=today,
                lot_code_pattern="{date:%y%m%d}-{seq_alpha}")
        # What an earlier run left of its orders is cancelled first, so every run starts from the same open order
        # book: left allocated, each run's orders added to what every later run's picks read.
        for left in s.scalars(select(Order.id).where(Order.customer_reference == RUN_REFERENCE,
                                                     Order.status.in_((OrderStatus.OPEN, OrderStatus.PARTIAL)))
                              ).all():
            orders.cancel_order(s, left, user=admin)
        order_ids = []
        for i in range(handhelds):
            order = orders.create_order(s, OrderIn.model_validate({
                "customer_id": customer, "warehouse": warehouse, "ship_date": today.isoformat(),
                "customer_reference": RUN_REFERENCE,
                "lines": [{"sku": finished[i % len(finished)].sku, "quantity": str(per_order * PICK_UNITS)}]}),
                user=admin, today=today)
            allocate_order(s, order.id, today=today, user=admin)
            order_ids.append(order.id)
        s.commit()
        picks = [Pick(a.order_line.order_id, a.lot_id, a.location.code, int(a.quantity - a.picked_quantity))
                 for a in s.scalars(select(OrderAllocation).join(OrderLine)
                                    .where(OrderLine.order_id.in_(order_ids)).order_by(OrderLine.order_id)).all()]

        # Receipts: materials into a receiving location, each with the supplier's lot code from its label.
        receiving = s.scalar(select(Location.code).where(Location.kind == LocationKind.RECEIVING).order_by(Location.id)
                             .limit(1))
        materials = s.scalars(select(Product.sku).where(Product.kind == ProductKind.MATERIAL)
                              .order_by(Product.id)).all()
        receipt_lines = [{"supplier_id": supplier, "sku": sku, "location": receiving} for sku in materials]

        # Scans: our lot labels (GS1-128 as a wedge types it), product barcodes, typed lot codes, order numbers,
        # and a few labels Lotwise does not know.
        lots = s.execute(select(Lot.code, Lot.expiry, Product.gtin).join(Product)
                         .where(Lot.status == LotStatus.RELEASED, Product.gtin.is_not(None))
                         .order_by(Lot.id.desc()).limit(400)).all()
        labels = [f"]C101{gtin}17{expiry:%y%m%d}10{code}" if expiry else f"]C101{gtin}10{code}"
                  for code, expiry, gtin in lots]
        # A GTIN-13 product barcode (EAN-13) is the GTIN-14 without its leading zero.
        products = [g[1:] if g.startswith("0") else g
                    for g in s.scalars(select(Product.gtin).where(Product.gtin.is_not(None))).all() if g]
        codes = [code for code, _e, _g in lots[:100]]
        numbers = s.scalars(select(Order.number).where(Order.status == OrderStatus.OPEN).limit(100)).all() \
            or s.scalars(select(Order.number).limit(100)).all()
        unknown = []
        for _ in range(20):
            body = "0" + "".join(rng.choice("0123456789") for _ in range(12))
            unknown.append(f"]C101{body}{_gs1_check(body)}10X{rng.randrange(10**6)}")
        stations = s.scalars(select(Station.code)).all()
    # What autovacuum would have done by the time a real site's pickers start: statistics that know today's orders
    # (without them the planner read every open allocation of a product for each pick).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    scans: list[tuple[str, str]] = []
    pools: list[tuple[str, list[str], int]] = [
        ("lot label", labels, 60), ("product barcode", products, 15), ("typed lot code", codes, 10),
        ("order number", list(numbers), 10), ("unknown label", unknown, 5)]
    for what, pool, share in pools:
        if pool:
            scans += [(what, rng.choice(pool)) for _ in range(share * 20)]
    rng.shuffle(scans)
    return Workload(tokens=tokens, scans=scans, picks=picks, receipt_lines=receipt_lines,
                    stations=list(stations) or ["DOCK"])


# --- the server ---------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def exported(ref: str) -> Iterator[Path]:
    """The source tree of a git revision, exported to a temporary folder (the repository is not touched)."""
    folder = Path(tempfile.mkdtemp(prefix="lotwise-baseline-"))
    try:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", ref], check=True,
                                 capture_output=True).stdout
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(folder, filter="data")
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Server:
    base: str
    host: str
    port: int
    pid: int


@contextmanager
def served(source: Path, url: str, serve_args: list[str]) -> Iterator[Server]:
    """`lotwise serve` from the source tree `source` on `url`; yields where it listens once it answers."""
    port = _free_port()
    env = {**os.environ, "LOTWISE_DATABASE_URL": url, "LOTWISE_SECRET_KEY": "bench-scan-load",
           "LOTWISE_TIMEZONE": TIMEZONE, "PYTHONPATH": str(source), "PYTHONDONTWRITEBYTECODE": "1"}
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                             *serve_args], cwd=source, env=env, stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                    probe.sendall(b"GET /login HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
                    if probe.recv(12).startswith(b"HTTP/1."):
                        break
            except OSError:
                pass
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError("lotwise serve exited:\n" + log.read().decode(errors="replace")[-3000:])
            time.sleep(0.2)
        time.sleep(1.0)  # let every worker finish starting
        yield Server(base, "127.0.0.1", port, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two readings (a process started meanwhile counts from zero)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def _tree(pid: int) -> list[int]:
    """The process and its children (gunicorn's master and workers)."""
    out = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                out.append(int(entry.name))
    return out




# --- the load generator -------------------------------------------------------------------------------------------


def request_bytes(host: str, port: int, method: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """One HTTP/1.1 request as it goes on the wire: the JSON body's headers, then the caller's, then the body."""
    head = (f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n")
    return head.encode() + body


# What the caller of `Http.send` is told: the status and body of the answer, or the error that ended the request.
Done = Callable[[int, bytes, BaseException | None], None]

# An answer's header fields the client acts on, in its lowered head: (name, value).
_FIELDS = re.compile(rb"\r\n(content-length|connection|transfer-encoding)[ \t]*:[ \t]*([^\r]*)")

# The errors a request can end with (a timeout, a refused or broken connection, an answer that is not HTTP).
FAILURES = (TimeoutError, OSError, ValueError)


class _Exchange:
    """One request on its way: its bytes, whom to tell, when it times out, and on which connection it waits."""

    __slots__ = ("conn", "data", "deadline", "done", "finished", "retried", "reused")

    def __init__(self, data: bytes, done: Done, deadline: float) -> None:
        self.data = data
        self.done = done
        self.deadline = deadline
        self.conn: _Connection | None = None
        self.reused = False  # sent on a kept-alive connection, which the server may have closed meanwhile
        self.retried = False
        self.finished = False


class _Connection(asyncio.BufferedProtocol):
    """One kept-alive connection: writes a request and parses its answer as the bytes arrive.

    One request at a time (no pipelining). The parser reads what a load test needs — the status, Content-Length,
    chunked Transfer-Encoding, Connection: close — from whole lines ending in CRLF, in a buffer, instead of a
    coroutine's await per header line. It is a buffered protocol because a plain one is handed a new bytes object
    per read, which the transport allocates at 256 KiB before shrinking it: 12 µs of CPU a read on the benchmark's
    machine, against 1 µs to read into a buffer of our own.
    """

    def __init__(self, http: Http) -> None:
        self.http = http
        self.transport: asyncio.Transport | None = None
        self.exchange: _Exchange | None = None
        self.buffer = bytearray()
        self._expect_head()

    def _expect_head(self) -> None:
        self.status = 0  # 0 until the answer's head has been read
        self.length = 0
        self.chunked = False
        self.close = False
        self.parts: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def send(self, exchange: _Exchange) -> None:
        assert self.transport is not None
        self.exchange, exchange.conn = exchange, self
        self.transport.write(exchange.data)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.http.read_buffer

    def buffer_updated(self, nbytes: int) -> None:
        if self.exchange is None:  # bytes nobody asked for: the connection cannot be trusted with a request
            self.drop()
            return
        self.buffer += self.http.read_buffer[:nbytes]
        try:
            answer = self._parse()
        except ValueError as exc:  # not HTTP: the connection cannot be used again either
            self.http._failed(self, exc)
            return
        if answer is not None:
            self.http._answered(self, *answer)

    def connection_lost(self, exc: Exception | None) -> None:
        self.http._lost(self, exc)

    def drop(self) -> None:
        """Close at once, whatever is in flight (a timeout, a broken answer)."""
        if self.transport is not None:
            self.transport.abort()

    def _parse(self) -> tuple[int, bytes] | None:
        """The answer's status and body once all of it has arrived; None while more is to come."""
        buffer = self.buffer
        if not self.status:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return None
            self._head(bytes(buffer[:end]))
            del buffer[:end + 4]
        if self.chunked:
            return self._chunks()
        if len(buffer) < self.length:
            return None
        body = bytes(buffer[:self.length])
        del buffer[:self.length]
        return self.status, body

    def _head(self, head: bytes) -> None:
        status_line, _, fields = head.partition(b"\r\n")
        self.status = int(status_line.split()[1])
        self.close = status_line.startswith(b"HTTP/1.0")
        # The three fields that matter, found in one pass over the lowered head rather than field by field.
        for name, value in _FIELDS.findall(b"\r\n" + fields.lower()):
            if name == b"content-length":
                self.length = int(value)
            elif name == b"connection":
                self.close = value.strip() == b"close"
            else:
                self.chunked = b"chunked" in value

    def _chunks(self) -> tuple[int, bytes] | None:
        buffer = self.buffer
        while True:
            eol = buffer.find(b"\r\n")
            if eol < 0:
                return None
            size = int(bytes(buffer[:eol]).split(b";")[0], 16)
            if size == 0:  # the last chunk, then trailers (if any) up to an empty line
                end = buffer.find(b"\r\n\r\n", eol)
                if end < 0:
                    return None
                del buffer[:end + 4]
                return self.status, b"".join(self.parts)
            if len(buffer) < eol + 2 + size + 2:
                return None
            self.parts.append(bytes(buffer[eol + 2:eol + 2 + size]))
            del buffer[:eol + 2 + size + 2]


class Http:
    """HTTP/1.1 over asyncio protocols with a pool of kept-alive connections: as lean as a client can be.

    `send` hands a request's bytes to an idle connection (or opens one when none is idle, so the server sees a few
    connections, as from a reverse proxy's upstream pool) and returns; the answer is passed to a callback as soon as
    its last byte is read, with no task, stream or `wait_for` per request. A request not answered within `timeout`
    (TIMEOUT) ends as an error and its connection is dropped.
    """

    def __init__(self, host: str, port: int, timeout: float = TIMEOUT) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.loop = asyncio.get_running_loop()
        self.idle: list[_Connection] = []
        self.opened = 0
        self.read_buffer = memoryview(bytearray(1 << 16))  # every read lands here and is copied out at once
        self._opening: set[asyncio.Future[Any]] = set()
        # Every request sent, oldest first, until it has ended (the ended ones leave from the front). All share one
        # timeout, so the oldest one still waiting is the next to time out: one timer serves them all, where a
        # timer each cost a heap push and a cancel per request.
        self._waiting: deque[_Exchange] = deque()
        self._timer: asyncio.TimerHandle | None = None

    def send(self, data: bytes, done: Done) -> None:
        """Send one request's bytes; `done(status, body, error)` is called once, when it ends either way."""
        exchange = _Exchange(data, done, self.loop.time() + self.timeout)
        waiting = self._waiting
        while waiting and waiting[0].finished:
            waiting.popleft()
        waiting.append(exchange)
        if self._timer is None:
            self._timer = self.loop.call_at(exchange.deadline, self._expire_due)
        if self.idle:
            exchange.reused = True
            self.idle.pop().send(exchange)
        else:
            self._open(exchange)

    async def fetch(self, data: bytes) -> tuple[int, bytes]:
        """One request's status and body (raising what ended it otherwise): `send` for a caller that awaits."""
        answer: asyncio.Future[tuple[int, bytes]] = self.loop.create_future()

        def done(status: int, body: bytes, error: BaseException | None) -> None:
            if answer.done():
                return
            if error is None:
                answer.set_result((status, body))
            else:
                answer.set_exception(error)

        self.send(data, done)
        return await answer

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for conn in self.idle:
            assert conn.transport is not None
            conn.transport.close()
        self.idle.clear()
        for opening in self._opening:
            opening.cancel()

    def _open(self, exchange: _Exchange) -> None:
        self.opened += 1
        opening = asyncio.ensure_future(self.loop.create_connection(lambda: _Connection(self), self.host, self.port))
        self._opening.add(opening)  # the loop keeps only a weak reference to a task
        opening.add_done_callback(lambda _f: self._opened(exchange, opening))

    def _opened(self, exchange: _Exchange, opening: asyncio.Future[tuple[asyncio.Transport, _Connection]]) -> None:
        self._opening.discard(opening)
        if opening.cancelled():
            return
        error = opening.exception()
        if error is not None:
            self._finish(exchange, 0, b"", error)
            return
        _transport, conn = opening.result()
        assert conn.transport is not None
        if exchange.finished:  # timed out while connecting (as `wait_for` cancelled the connect)
            conn.transport.close()
        elif conn.transport.is_closing():  # closed by the server before a byte was sent
            self._finish(exchange, 0, b"", ConnectionResetError("closed before answering"))
        else:
            conn.send(exchange)

    def _answered(self, conn: _Connection, status: int, body: bytes) -> None:
        exchange = conn.exchange
        assert exchange is not None and conn.transport is not None
        conn.exchange = exchange.conn = None
        if conn.close or conn.buffer:  # the server said so, or sent more than was asked for
            conn.transport.close()
        else:
            conn._expect_head()
            self.idle.append(conn)
        self._finish(exchange, status, body, None)

    def _failed(self, conn: _Connection, error: BaseException) -> None:
        exchange = conn.exchange
        conn.exchange = None
        conn.drop()
        if exchange is not None:
            exchange.conn = None
            self._finish(exchange, 0, b"", error)

    def _lost(self, conn: _Connection, exc: Exception | None) -> None:
        """The connection closed: by the server (kept-alive connections left idle are, at its keep-alive timeout)
        or by us."""
        if conn in self.idle:
            self.idle.remove(conn)
        exchange = conn.exchange
        if exchange is None:
            return
        conn.exchange = exchange.conn = None
        if conn.status or conn.buffer:
            self._finish(exchange, 0, b"", exc or ConnectionResetError("closed mid-answer"))
        elif exchange.reused and not exchange.retried:
            # The server had closed a kept-alive connection and nothing was read: send anew, once, on a new
            # connection, as a browser does (the other idle ones may have been closed too).
            exchange.retried = True
            self._open(exchange)
        else:
            self._finish(exchange, 0, b"", exc or ConnectionResetError("closed before answering"))

    def _expire_due(self) -> None:
        """Time out every request whose deadline has passed, then wait for the next deadline."""
        now = self.loop.time()
        waiting = self._waiting
        due = []
        while waiting and (waiting[0].finished or waiting[0].deadline <= now):
            exchange = waiting.popleft()
            if not exchange.finished:
                due.append(exchange)
        # The timer is set again before anyone is told, so a request sent from a callback finds it set.
        self._timer = self.loop.call_at(waiting[0].deadline, self._expire_due) if waiting else None
        for exchange in due:
            self._expire(exchange)

    def _expire(self, exchange: _Exchange) -> None:
        if exchange.conn is not None:
            conn, exchange.conn = exchange.conn, None
            conn.exchange = None
            conn.drop()  # cut off mid-answer: the connection cannot be used again
        self._finish(exchange, 0, b"", TimeoutError(f"no answer within {self.timeout:g} s"))

    @staticmethod
    def _finish(exchange: _Exchange, status: int, body: bytes, error: BaseException | None) -> None:
        if exchange.finished:
            return
        exchange.finished = True
        exchange.done(status, body, error)


@dataclass
class Outcome:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    examples: dict[str, str] = field(default_factory=dict)
    sent: int = 0
    seconds: float = 0.0  # the schedule's length: rates are per second of it
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    database_cpu: float = 0.0
    connections: int = 0
    late: float = 0.0  # how far behind its schedule the generator sent a request, at worst (seconds)

    @property
    def answered(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def cpu_per_answer(self, cpu: float) -> float:
        """CPU seconds per answered request."""
        return cpu / self.answered if self.answered else float("nan")


class Traffic:
    """What each handheld sends next: a scan, a pick of one unit, or a receipt, in the given mix."""

    def __init__(self, work: Workload, mix: dict[str, int], seed: int) -> None:
        self.work = work
        self.rng = random.Random(seed)
        self.kinds = [k for k, n in mix.items() for _ in range(n)]
        self.scan_at = 0
        self.pick_at = 0

    def next(self, handheld: int, kind: str | None = None) -> tuple[str, str, bytes, dict[str, str]]:
        kind = kind or self.rng.choice(self.kinds)
        token = self.work.tokens[handheld % len(self.work.tokens)]
        headers = {"Authorization": f"Bearer {token}"}
        if kind == "pick":
            pick = self._pick(handheld)
            if pick is None:
                kind = "parse"
            else:
                headers["Idempotency-Key"] = uuid.uuid4().hex
                body = {"lot_id": pick.lot_id, "location": pick.location, "quantity": str(PICK_UNITS)}
                return kind, f"/api/v1/orders/{pick.order_id}/picks", json.dumps(body).encode(), headers
        if kind == "receipt":
            line = self.rng.choice(self.work.receipt_lines)
            headers["Idempotency-Key"] = uuid.uuid4().hex
            body = {"supplier_id": line["supplier_id"], "lines": [{
                "sku": line["sku"], "quantity": str(self.rng.randrange(5, 200)), "location": line["location"],
                "supplier_lot_code": f"SL-{self.rng.randrange(10**8):08d}"}]}
            return kind, "/api/v1/receipts", json.dumps(body).encode(), headers
        self.scan_at = (self.scan_at + 1) % len(self.work.scans)
        raw = self.work.scans[self.scan_at][1]
        body = {"raw": raw, "station": self.work.stations[handheld % len(self.work.stations)]}
        return "parse", "/api/v1/scans/parse", json.dumps(body).encode(), headers

    def _pick(self, handheld: int) -> Pick | None:
        """The next unit of the handheld's own order; of another one's when its order is picked."""
        picks = self.work.picks
        if not picks:
            return None
        own = picks[handheld % len(picks)]
        if own.left >= PICK_UNITS:
            own.left -= PICK_UNITS
            return own
        for _ in range(len(picks)):
            self.pick_at = (self.pick_at + 1) % len(picks)
            if picks[self.pick_at].left >= PICK_UNITS:
                picks[self.pick_at].left -= PICK_UNITS
                return picks[self.pick_at]
        return None


def plan(server: Server, traffic: Traffic, rate: float, seconds: float, devices: int,
         only: str | None) -> list[tuple[str, bytes]]:
    """Every request of a phase, in the order they are due, as (kind, the bytes to send).

    Built before the phase starts (what a handheld sends next never depends on an answer), so that during the
    phase the generator only writes bytes, as wrk does: its CPU would otherwise be taken from the server's.
    """
    requests = []
    for n in range(int(rate * seconds)):
        kind, path, body, headers = traffic.next(n % devices, only)
        requests.append((kind, request_bytes(server.host, server.port, "POST", path, body, headers)))
    return requests


async def _load(server: Server, requests: list[tuple[str, bytes]], rate: float, timeout: float = TIMEOUT) -> Outcome:
    """Send `requests` on a fixed schedule, `rate` a second: the n-th at n/rate, so device i at
    i/rate + k·devices/rate, whether or not earlier answers have come back."""
    http = Http(server.host, server.port, timeout)
    out = Outcome()
    interval = 1.0 / rate
    total = len(requests)
    loop = asyncio.get_running_loop()
    all_done = loop.create_future()
    start = loop.time() + 0.2
    pending = 0

    def answered(kind: str, due: float, status: int, data: bytes, error: BaseException | None) -> None:
        nonlocal pending
        if error is not None:
            out.errors[kind] += 1
            out.examples.setdefault(kind, f"{type(error).__name__}: {error}")
        elif status != EXPECTED[kind]:
            out.errors[kind] += 1
            out.examples.setdefault(kind, f"{status} {data[:300].decode(errors='replace')}")
        else:
            out.latencies[kind].append(loop.time() - due)  # the answer's last byte has just been read
        pending -= 1
        if not pending and out.sent == total and not all_done.done():
            all_done.set_result(None)

    def tick() -> None:
        # Run at a request's moment: send it, and every later one whose moment has passed meanwhile (after a stall
        # of the loop the backlog goes out at once, as an open loop must), then wait for the next moment.
        nonlocal pending
        n = out.sent
        while True:
            due = start + n * interval
            out.late = max(out.late, loop.time() - due)
            kind, data = requests[n]
            n += 1
            out.sent = n
            pending += 1
            http.send(data, functools.partial(answered, kind, due))
            if n == total:
                return
            if start + n * interval > loop.time():
                break
        loop.call_at(start + n * interval, tick)

    # No garbage collection in the generator while the phase runs: a full collection of its heap (the workload,
    # the phase's requests, the libraries it loaded) stopped it for 50–70 ms at a time, and every answer due then
    # counted the generator's pause as the server's latency. A phase makes little cyclic garbage; it is collected
    # once the phase is over.
    collecting = gc.isenabled()
    gc.disable()
    try:
        if total:
            loop.call_at(start, tick)
            await all_done
    finally:
        if collecting:
            gc.enable()
    out.seconds = total * interval
    out.connections = http.opened
    http.close()
    return out


async def _settle(server: Server, traffic: Traffic) -> None:
    """Wait until the server answers a scan promptly again: what an overloaded phase queued is worked off first."""
    http = Http(server.host, server.port)
    loop = asyncio.get_running_loop()
    until = loop.time() + 60
    while loop.time() < until:
        _kind, path, body, headers = traffic.next(0, "parse")
        t0 = loop.time()
        try:
            await http.fetch(request_bytes(server.host, server.port, "POST", path, body, headers))
        except FAILURES:
            continue
        if loop.time() - t0 < 0.1:
            break
        await asyncio.sleep(0.5)
    http.close()


def measure(server: Server, database: str, traffic: Traffic, rate: float, seconds: float, devices: int,
            only: str | None = None) -> Outcome:
    """One phase of load, with the CPU the generator, the server and the database's backends spent on it."""
    asyncio.run(_settle(server, traffic))
    requests = plan(server, traffic, rate, seconds, devices, only)
    client = resource.getrusage(resource.RUSAGE_SELF)
    servers, database_procs = cpu_by_pid(_tree(server.pid)), cpu_by_pid(backends(database))
    out = asyncio.run(_load(server, requests, rate))
    after = resource.getrusage(resource.RUSAGE_SELF)
    out.client_cpu = (after.ru_utime + after.ru_stime) - (client.ru_utime + client.ru_stime)
    out.server_cpu = _spent(servers, cpu_by_pid(_tree(server.pid)))
    # Backends that ended during the phase are not counted: the pools keep theirs open.
    out.database_cpu = _spent(database_procs, cpu_by_pid(backends(database)))
    return out


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def passes(out: Outcome, kinds: tuple[str, ...] = KINDS) -> bool:
    lat = [x for k in kinds for x in out.latencies[k]]
    return bool(lat) and not any(out.errors[k] for k in kinds) and pct(lat, 0.99) <= P99_LIMIT


# --- one run against one source tree -------------------------------------------------------------------------------


@dataclass
class Run:
    label: str
    serve: str
    mixed: Outcome
    steps: list[tuple[float, Outcome]]
    load: tuple[float, float]  # load average (1 min) before and after
    # Picks alone and receipts alone at their rate in the mix: the CPU per answer of each kind, which mixed
    # traffic cannot tell apart.
    alone: dict[str, tuple[float, Outcome]]
    generator_first: bool = False  # whether the generator ran ahead of the server for the CPU (`ahead_of_the_server`)


# The generator's priority while it measures (nice; the server and the database keep theirs, 0).
GENERATOR_NICE = -5


@contextmanager
def ahead_of_the_server() -> Iterator[bool]:
    """Run the generator ahead of the server and the database when they all want a core; yields whether it could.

    The handhelds it stands in for are machines of their own, never kept waiting by the server's work. Sharing two
    cores with the server's threads and the database, the generator was at times not run for 65–139 ms when a
    request was due, and every request due meanwhile counted that pause as the server's latency. Raising a priority
    needs root (or CAP_SYS_NICE); without it the generator runs as before, and the report says so. The server is
    started before this, so it (and every worker it forks) keeps the usual priority.
    """
    before = os.getpriority(os.PRIO_PROCESS, 0)
    try:
        os.setpriority(os.PRIO_PROCESS, 0, GENERATOR_NICE)
    except PermissionError:
        yield False
        return
    try:
        yield True
    finally:
        os.setpriority(os.PRIO_PROCESS, 0, before)


def _priority(generator_first: bool) -> str:
    """How the generator ran, for the printout and the report."""
    return (f"ran ahead of the server and the database for the CPU (nice {GENERATOR_NICE})" if generator_first
            else "ran at the server's priority (raising its own needs root)")


def run_one(label: str, source: Path, url: str, serve_args: list[str], args: argparse.Namespace) -> Run:
    engine = make_engine(url)
    mix = dict(zip(KINDS, (int(x) for x in args.mix.split("/")), strict=True))
    pick_rate = args.handhelds * mix["pick"] / sum(mix.values())
    picks_needed = int(pick_rate * (args.seconds + args.step_seconds) * 1.3) + 100
    work = workload(engine, args.handhelds, picks_needed, args.seed)
    engine.dispose()
    database = str(make_url(url).database)
    load_before = os.getloadavg()[0]
    print(f"[{label}] load average {load_before:.1f}; serving with: lotwise serve {' '.join(serve_args)}", flush=True)
    with served(source, url, serve_args) as server, ahead_of_the_server() as generator_first:
        print(f"[{label}] the generator {_priority(generator_first)}", flush=True)
        traffic = Traffic(work, mix, args.seed)
        measure(server, database, traffic, min(100.0, args.handhelds), 3, args.handhelds, "parse")  # warm up
        mixed = measure(server, database, traffic, float(args.handhelds), args.seconds, args.handhelds)
        _print(label, f"{args.handhelds} handhelds", mixed)
        alone: dict[str, tuple[float, Outcome]] = {}
        for kind in ("pick", "receipt"):
            rate = args.handhelds * mix[kind] / sum(mix.values())
            if rate > 0:
                alone[kind] = (rate, measure(server, database, traffic, rate, args.step_seconds, args.handhelds, kind))
                _print(label, f"{kind} alone at {rate:.0f}/s", alone[kind][1])
        steps: list[tuple[float, Outcome]] = []
        for rate in (float(r) for r in args.rates.split(",")):
            out = measure(server, database, traffic, rate, args.step_seconds, args.handhelds, "parse")
            steps.append((rate, out))
            _print(label, f"parse at {rate:.0f}/s", out)
            if not passes(out, ("parse",)):
                break
    return Run(label, " ".join(serve_args) or "(defaults)", mixed, steps, (load_before, os.getloadavg()[0]), alone,
               generator_first)


def _print(label: str, what: str, out: Outcome) -> None:
    parts = []
    for k in KINDS:
        lat = out.latencies[k]
        if lat or out.errors[k]:
            parts.append(f"{k} n={len(lat)} p50={pct(lat, .5) * 1000:.0f} p99={pct(lat, .99) * 1000:.0f} ms "
                         f"err={out.errors[k]}")
    print(f"[{label}] {what}: " + "; ".join(parts) + f"; {out.sent / out.seconds:.0f} req/s; "
          f"generator CPU {out.client_cpu / out.seconds:.0%} of a core, server {out.server_cpu / out.seconds:.0%}, "
          f"database {out.database_cpu / out.seconds:.0%}; CPU per answer: server "
          f"{out.cpu_per_answer(out.server_cpu) * 1000:.1f} ms, database "
          f"{out.cpu_per_answer(out.database_cpu) * 1000:.1f} ms; generator at worst {out.late * 1000:.0f} ms "
          "behind schedule", flush=True)
    for k, example in out.examples.items():
        print(f"    first {k} error: {example}", flush=True)


# --- the report ---------------------------------------------------------------------------------------------------


def _ms(x: float, places: int = 0) -> str:
    return "—" if x != x else f"{x * 1000:.{places}f}"


def sustained(run: Run) -> float | None:
    ok = [rate for rate, out in run.steps if passes(out, ("parse",))]
    return max(ok) if ok else None


# What the profile of the scan path showed and what was changed (cProfile and py-spy on POST /api/v1/scans/parse
# in-process, and the statements counted on PostgreSQL), kept with the figures it explains.
CHANGES = """\
What the profile showed, and what changed. A scan of our lot label cost 15 database round trips: the pool's ping,
the API token, then its user, the commit of that read transaction, the scan event in a transaction of its own
(BEGIN, INSERT, COMMIT), then product, lot, stock, genealogy counts and the lot's supplier one query each, and a
rollback at the end. Now it is 8: ping, the token with its user, BEGIN, the product with its lot and supplier in one
query, stock, genealogy counts, the INSERT and one COMMIT (the reads first, then the event, so a failed look-up is
still logged as an error). In-process on PostgreSQL (Flask test client, 300 lot-label scans) that took the CPU per
scan from 6.6 to 4.5 ms, most of the rest being SQLAlchemy and psycopg per statement. Every booking on PostgreSQL
also saves a COMMIT and a BEGIN (the request's read transaction goes on as the booking's), and document numbers and
lot codes are drawn in a short transaction of their own, so bookings of one kind no longer wait for each other's
commit. `lotwise serve` ran synchronous gunicorn workers, which close the connection after every answer, so each
scan opened a new TCP connection; it then ran threaded workers (two per core plus one, two threads each) that keep
a handheld's connection open, and it no longer writes an access-log line per request (`--access-log` does).

Then, profiled part by part (`python -m benchmarks.profile_scan --sections`): SQLAlchemy and psycopg took over half
of a scan's CPU, mostly per statement and in composing statements anew on every request. A scan of our lot label is
now three statements — the token with its user; the product with the lot, its supplier, genealogy counts and stock in
one query; the scan event's INSERT — instead of five; the scan path's statements are built once; and the scan event,
balance and counter INSERTs go to their tables rather than through the ORM's bulk insert, which had cost over half
the CPU of logging a scan. A booking with an Idempotency-Key locks and looks the key up once instead of twice and no
longer reads its row back to store the answer (three statements fewer per pick or receipt).

Then, served (`python -m benchmarks.profile_scan_served`): gunicorn's own share of a worker's CPU is about an eighth;
the pool's ping (a `SELECT 1` before every request) gave way to a look at the connection's socket, and a scan runs its
statements each on its own, without BEGIN and COMMIT: three round trips (token, look-up, scan event) where there were
six. CPU per request measured here rises with the machine's load (the generator and the server share its cores).

Then the bookings and the scan again (`python -m benchmarks.profile_booking`, `profile_scan`, `profile_scan_served`):
every booking purged expired Idempotency-Keys by walking every live key (3.3 ms of database time at 8,600 keys,
growing with the table); the purge now uses the key's `created_at` index (0.01 ms). A pick is 9 statements instead
of 19 and a receipt 13 instead of 24: statements built once, the ledger row, the receipt, its lot and line written
straight to their tables, nothing read back, a document number drawn in one round trip. A pick of stock allocated to
its own order shares the lock on its product with other picks, so pickers of one product on different orders no
longer queue (the load's picks go to one order per handheld, as pickers work). Each worker trusts a valid API
token for 5 s (`LOTWISE_TOKEN_CACHE_SECONDS`), so a scan is two round trips; a label's parse is remembered for the
day; answers are written by pydantic straight to JSON. `lotwise serve` now runs one worker per core with four
threads each: at 200 handhelds two workers of four threads answered with p99 60–140 ms where five of two reached
500–570 ms on the same machine minutes apart.

Then the scan's statements, every API call's fixed work and the receipt (`python -m benchmarks.profile_scan`,
`profile_scan_served`, `profile_booking`, py-spy on the served workers). SQLAlchemy's work per statement (an execution
context, psycopg describing every result column anew, ORM loading) cost several times the driver's own, so the scan
path's statements, built once, run straight through the driver (`app.db.Prepared`: rows of plain values, each column
converted by its SQLAlchemy type). A typed code's lots are found by our code and the supplier's in one query, with
their total on hand, so a code several lots share needs no query of its own. On PostgreSQL a scan runs on a twin of
the engine whose connections are in autocommit from the start and whose commits do not wait for the WAL to reach the
disk: that wait was half of a scan event's database CPU, and what a crash of the database server can now lose is the
last fraction of a second of the scan log, never a booking. A bearer-token API call opens no page session; a valid
JSON body passes a check compiled from its schema before jsonschema's walk (which still judges every other body and
words the refusal); the lockout policy, the NUL guard and the security headers do their work once. A receipt is 8
statements instead of 12 (its number and new lot's sequence drawn in one, a generated lot code checked by its own
INSERT, the line, its ledger row and balance in one), and an Idempotency-Key is looked up as plain columns. The
master and each worker, once its app is built, freeze what they made out of the garbage collector's walks: a full
collection walked it all inside one request, about 90 ms every thousand or so receipts. For scale, on this machine
gunicorn's own work is about 0.28 ms of CPU a request and a bare Flask JSON view adds 0.2 ms (a plain WSGI callable
and a plain Flask app under the same settings and load).

Then the generator and the scan's connection. The load generator shares the two cores with the server and took a
quarter of a core at 1,000 requests a second; it now builds each phase's requests beforehand and reads the answers
through asyncio protocols of its own, with no task or stream per request (0.25 → 0.1 ms of CPU a request): with that
alone, 900 scans a second held their p99 within 50 ms where 600 had. A scan's prepared statements run on one pooled
connection its session lends them, without the session's transaction bound to a connection and handed back around
them; a known token's user is not added to a scan's session; an order number is found through an index on its upper
case (a typed code that named no lot had read every order). In-process that took a scan from 2.83 to 2.61 million
instructions (valgrind's callgrind). At 1,000 scans a second the machine is nine-tenths busy (server 1.3 ms, database
0.3–0.4 ms and generator 0.1 ms of CPU a scan), and whether the p99 stays within 50 ms varies from run to run with how
the generator's kept-alive connections fall between the two workers: a worker holding more of them does more of the
work (63 % against 37 % in one run), and one worker cannot use more than one core.

Then each worker warm, and the load spread over the workers. A ladder's first rate, the server's first busy seconds,
came out worst: at 1,000 scans a second a p99 of 80–160 ms where the same rate a minute later stayed within 20 ms.
The warm-up had reached one worker only (its few kept-alive connections all sat on one), so the other met its first
busy second with empty pools, opening a database connection per thread while requests queued behind them, and the
generator opened dozens of connections meanwhile. A worker now opens its connections, one per thread in each pool,
before its first request. And a connection stays with the worker that accepted it: a few of them, reused
most-recently-first as a reverse proxy's pool reuses them, carry nearly every request, and on one shared listening
socket the busiest worker often took the new ones too, carrying two-thirds of the load for seconds at a time. Now each
worker listens on a socket of its own (the kernel spreads new connections over them by their addresses) and the
server closes a kept-alive connection after 100 requests, saying so in that answer (as Apache does; nginx after
1,000), so the load spreads again within a second. The generator no longer collects garbage while a phase runs:
a full collection of its heap paused it for 50–70 ms, and every answer due meanwhile counted the pause."""


def _cpu_ms(out: Outcome, cpu: float) -> str:
    """CPU per answer in ms, to a tenth: whole milliseconds would show 1.2 and 1.4 ms alike."""
    return _ms(out.cpu_per_answer(cpu), 1)


def parse_cpu(run: Run) -> float:
    """Server + database CPU seconds per answered parse/lookup, over every step of the run."""
    answered = sum(len(out.latencies["parse"]) for _rate, out in run.steps)
    cpu = sum(out.server_cpu + out.database_cpu for _rate, out in run.steps)
    return cpu / answered if answered else float("nan")


def section(runs: list[Run], args: argparse.Namespace, command: str) -> str:
    lines = [
        f"PostgreSQL {_pg_version(args.url)}, the demo company plus what each run adds (orders to pick, "
        f"receipts, scan events). The server is `lotwise serve` as the README deploys it; the load generator "
        f"(asyncio, HTTP/1.1 keep-alive, one process) runs on the same machine. Open loop: {args.handhelds} "
        f"handhelds each send one request a second on a fixed schedule for {args.seconds:g} s — parse/lookup "
        f"scan, pick confirmation (one unit) or receipt (one line), {args.mix} — bookings with an "
        f"Idempotency-Key, the {OPERATORS} operators' tokens shared by the handhelds; latency runs from each "
        f"request's scheduled moment to the end of its answer. Then parse/lookup alone at rising rates, "
        f"{args.step_seconds:g} s each, until p99 > {P99_LIMIT * 1000:.0f} ms or an error (an answer later than "
        f"{TIMEOUT:g} s is an error). Before each phase the server works off what the last one queued. CPU is "
        f"measured per process from /proc: the server's (gunicorn master and workers) and the database backends' "
        f"per answered request — steady however busy the machine is — and the generator's as a share of one core "
        f"(the machine has {os.cpu_count()}).",
        "",
    ]
    for run in runs:
        m = run.mixed
        lines += [f"### {run.label}", "",
                  f"`lotwise serve {run.serve}`; load average (1 min) {run.load[0]:.1f} before, {run.load[1]:.1f} "
                  f"after; the generator {_priority(run.generator_first)}.", "",
                  f"{args.handhelds} handhelds, once a second each:", "",
                  "| kind | answered | errors | p50 ms | p95 ms | p99 ms |", "|---|---:|---:|---:|---:|---:|"]
        for k in KINDS:
            lat = m.latencies[k]
            lines.append(f"| {k} | {len(lat)} | {m.errors[k]} | {_ms(pct(lat, .5))} | {_ms(pct(lat, .95))} | "
                         f"{_ms(pct(lat, .99))} |")
        lines += ["", f"Sent {m.sent / m.seconds:.0f} requests/s, answered {m.answered / m.seconds:.0f}/s over "
                      f"{m.connections} connections. CPU per answered request: server {_cpu_ms(m, m.server_cpu)} ms, "
                      f"database {_cpu_ms(m, m.database_cpu)} ms; generator {m.client_cpu / m.seconds:.0%} of a "
                      f"core, at worst {m.late * 1000:.0f} ms behind its schedule.", "",
                  *_alone_table(run),
                  "Parse/lookup alone:", "",
                  "| rate sent /s | answered /s | errors | p50 ms | p99 ms | server CPU ms/answer "
                  "| database CPU ms/answer | generator CPU | generator behind, ms |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for rate, out in run.steps:
            lat = out.latencies["parse"]
            lines.append(f"| {rate:.0f} | {len(lat) / out.seconds:.0f} | {out.errors['parse']} | "
                         f"{_ms(pct(lat, .5))} | {_ms(pct(lat, .99))} | {_cpu_ms(out, out.server_cpu)} | "
                         f"{_cpu_ms(out, out.database_cpu)} | {out.client_cpu / out.seconds:.0%} | "
                         f"{out.late * 1000:.0f} |")
        best = sustained(run)
        cpu = parse_cpu(run)
        lines += ["", f"Highest parse/lookup rate with p99 ≤ {P99_LIMIT * 1000:.0f} ms and no errors: "
                      + (f"**{best:.0f}/s**." if best else "none of the rates tried.")
                      + (f" Server + database CPU per parse/lookup answered: {cpu * 1000:.1f} ms, so "
                         f"{os.cpu_count()} idle cores would serve about {(os.cpu_count() or 1) / cpu:.0f}/s."
                         if cpu == cpu else ""), ""]
    lines += [CHANGES, ""]
    if len(runs) == 2:
        a, b = parse_cpu(runs[0]), parse_cpu(runs[1])
        if a == a and b == b:
            lines.append(f"CPU per parse/lookup (server + database), {runs[0].label} ÷ {runs[1].label}: "
                         f"{a / b:.1f}×.")
        sa, sb = sustained(runs[0]), sustained(runs[1])
        if sa and sb:
            lines.append(f"Sustainable parse/lookup rate, {runs[1].label} ÷ {runs[0].label}: {sb / sa:.1f}×.")
    return "\n".join(lines)


def _alone_table(run: Run) -> list[str]:
    """Picks alone and receipts alone: latency and the CPU of each answer."""
    if not run.alone:
        return []
    lines = ["Each booking kind alone, at its rate in the mix:", "",
             "| kind | rate sent /s | answered /s | errors | p50 ms | p99 ms | server CPU ms/answer "
             "| database CPU ms/answer |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for kind, (rate, out) in run.alone.items():
        lat = out.latencies[kind]
        lines.append(f"| {kind} | {rate:.0f} | {len(lat) / out.seconds:.0f} | {out.errors[kind]} | "
                     f"{_ms(pct(lat, .5))} | {_ms(pct(lat, .99))} | "
                     f"{_cpu_ms(out, out.server_cpu)} | {_cpu_ms(out, out.database_cpu)} |")
    return [*lines, ""]


def _pg_version(url: str) -> str:
    engine = make_engine(url)
    with engine.connect() as conn:
        version = str(conn.scalar(text("SHOW server_version")))
    engine.dispose()
    return version.split()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=PG_DEFAULT, help="a PostgreSQL database of its own (created if missing)")
    parser.add_argument("--handhelds", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30, help="length of the mixed phase")
    parser.add_argument("--mix", default="70/20/10", help="parse/pick/receipt shares of the mixed phase")
    parser.add_argument("--rates", default=RATES,
                        help="parse/lookup rates to step through (requests a second)")
    parser.add_argument("--step-seconds", type=float, default=6)
    parser.add_argument("--serve", default="", help="extra arguments for `lotwise serve` (default: its own)")
    parser.add_argument("--baseline", help="also measure this git revision first (e.g. main), exported to a "
                                           "temporary folder, on the same database and load")
    parser.add_argument("--baseline-serve", default="--workers 4",
                        help="`lotwise serve` arguments for the baseline (default: the README's earlier --workers 4)")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--rebuild", action="store_true", help="drop the database and build the demo afresh")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    started = time.monotonic()
    prepare(args.url, args.rebuild).dispose()
    runs = []
    if args.baseline:
        with exported(args.baseline) as folder:
            runs.append(run_one(f"before ({args.baseline})", folder, args.url, args.baseline_serve.split(), args))
    runs.append(run_one("now" if args.baseline else "this tree", ROOT, args.url, args.serve.split(), args))
    command = "python -m benchmarks.bench_scan_load" + (f" --baseline {args.baseline}" if args.baseline else "")
    # A run with another number of handhelds (a lighter load for a busy machine) gets a section of its own.
    name, title = "scan-load", f"Scans, picks and receipts under load ({args.handhelds} handhelds)"
    if args.handhelds != 200:
        name = f"scan-load-{args.handhelds}"
        command += f" --handhelds {args.handhelds}"
    if args.rates != RATES:
        command += f" --rates {args.rates}"
    if args.seconds != 30:
        command += f" --seconds {args.seconds:g}"
    body = section(runs, args, command)
    print(body)
    print(f"finished in {time.monotonic() - started:.0f} s ({date.today()})")
    if not args.no_write:
        write_section(name, title, command, body)
        print("written to docs/benchmarks.md")


if __name__ == "__main__":
    main()

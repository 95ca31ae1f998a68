"""Recall notices to 2,000 consignees: queueing them (the web request) and sending them (the worker), to a local SMTP
server that keeps every message.

    python -m benchmarks.bench_recall_notices --db sqlite [--consignees 2000] [--workers 1]
    python -m benchmarks.bench_recall_notices --db postgresql [--url postgresql://…/lotwise_bench]

Builds a fresh database with one jam lot shipped to N customers (each with an e-mail address), opens a recall of
that lot (which prepares one notice per consignee), queues every notice as the "Send" button does, then runs
`--workers` worker threads (each what `lotwise worker` runs) until every notice is sent, and checks the SMTP
server received exactly one message per consignee, each with its own answer link. Writes the "recall-notices"
section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import re
import threading
import time
from datetime import date, timedelta
from decimal import Decimal
from multiprocessing import Event, Process, Queue

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from app import worker as work
from app.adapters.mail import SmtpServer
from app.db import make_engine, make_session_factory
from app.migrate import upgrade
from app.models import (
    Customer,
    Location,
    LocationKind,
    Lot,
    LotOrigin,
    NoticeStatus,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    ProductKind,
    RecallNotice,
    Shipment,
    ShipmentLine,
    Warehouse,
)
from app.schemas import LotRef, NoticeSendIn, RecallIn
from app.services import notices, recall
from benchmarks.report import write_section
from tests.helpers.smtp_sink import SmtpSink

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/lotwise_bench"


def _serve_sink(ports: Queue, stop: Event, out: Queue) -> None:  # type: ignore[type-arg]
    with SmtpSink() as sink:
        ports.put(sink.port)
        stop.wait()
        out.put([(m.recipients, m.body) for m in sink.messages])


class _SinkProcess:
    """The SMTP server in a process of its own, as a real one would be (no lock shared with the worker)."""

    def __enter__(self) -> _SinkProcess:
        self._ports: Queue = Queue()  # type: ignore[type-arg]
        self._out: Queue = Queue()  # type: ignore[type-arg]
        self._stop = Event()
        self._proc = Process(target=_serve_sink, args=(self._ports, self._stop, self._out), daemon=True)
        self._proc.start()
        self.port = int(self._ports.get(timeout=30))
        return self

    def collect(self) -> list[tuple[list[str], str]]:
        self._stop.set()
        got: list[tuple[list[str], str]] = self._out.get(timeout=120)
        return got

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._proc.join(timeout=10)


def _fresh(db: str, url: str | None) -> Engine:
    if db == "sqlite":
        path = "/tmp/lotwise-bench-notices.db"
        import os

        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        engine = make_engine(f"sqlite:///{path}")
    else:
        target = make_url(url or PG_DEFAULT)
        admin = make_engine(target.set(database="postgres").render_as_string(hide_password=False),
                            isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
        admin.dispose()
        engine = make_engine(target.render_as_string(hide_password=False))
    upgrade(engine)
    return engine


def _shipped_lot(session: Session, consignees: int) -> int:
    """One lot of jam shipped to `consignees` customers, one shipment each."""
    today = date.today()
    wh = Warehouse(code="MAIN", name="Main")
    session.add(wh)
    session.flush()
    loc = Location(warehouse_id=wh.id, code="DOCK", name="Dock", kind=LocationKind.SHIPPING)
    product = Product(sku="JAM-RASP", name="Raspberry jam 340 g", kind=ProductKind.PRODUCT, unit="ea",
                      gtin="09501101530003", shelf_life_days=365)
    session.add_all([loc, product])
    session.flush()
    lot = Lot(product_id=product.id, code="J1", origin=LotOrigin.PRODUCTION, made_on=today - timedelta(days=30),
              expiry=today + timedelta(days=300))
    session.add(lot)
    session.flush()
    for i in range(consignees):
        c = Customer(name=f"Shop {i:05d}", email=f"orders@shop{i:05d}.example", contact_name=f"Buyer {i}")
        session.add(c)
        session.flush()
        order = Order(number=f"SO-{i:06d}", customer_id=c.id, warehouse_id=wh.id, ship_date=today,
                      status=OrderStatus.SHIPPED)
        session.add(order)
        session.flush()
        line = OrderLine(order_id=order.id, line_no=1, product_id=product.id, quantity=Decimal(12),
                         shipped_quantity=Decimal(12))
        shipment = Shipment(number=f"SH-{i:06d}", order_id=order.id, customer_id=c.id, warehouse_id=wh.id,
                            shipped_on=today)
        session.add_all([line, shipment])
        session.flush()
        session.add(ShipmentLine(shipment_id=shipment.id, order_line_id=line.id, lot_id=lot.id, location_id=loc.id,
                                 quantity=Decimal(12)))
    session.commit()
    return lot.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--url")
    parser.add_argument("--consignees", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()

    engine = _fresh(args.db, args.url)
    factory = make_session_factory(engine)
    t0 = time.perf_counter()
    with factory() as s:
        lot_id = _shipped_lot(s, args.consignees)
    setup_s = time.perf_counter() - t0

    with factory() as s:
        t0 = time.perf_counter()
        opened = recall.open_recall(s, RecallIn(lots=[LotRef(lot_id=lot_id)], reason="benchmark"), user=None,
                                    today=date.today())
        open_s = time.perf_counter() - t0
        recall_id = opened.id
    with factory() as s:
        t0 = time.perf_counter()
        queued = notices.queue(s, recall_id, NoticeSendIn(), email_on=True)
        queue_s = time.perf_counter() - t0
    assert queued.queued == args.consignees, queued

    with _SinkProcess() as sink:
        settings = work.Settings(server=SmtpServer("127.0.0.1", sink.port, "", "", "recalls@jam.example", False),
                                 base_url="https://lots.example", company="Jam Co", contact="+44 1632 960999")

        def drain() -> None:
            while work.run_once(factory, settings):
                pass

        t0 = time.perf_counter()
        threads = [threading.Thread(target=drain) for _ in range(args.workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        send_s = time.perf_counter() - t0
        messages = sink.collect()
    with factory() as s:
        sent = s.scalar(select(func.count()).select_from(RecallNotice).where(RecallNotice.status == NoticeStatus.SENT))
    links = {m.group(0) for _, body in messages if (m := re.search(r"/answer/[A-Za-z0-9_-]+", body))}
    recipients = sorted(r for rcpts, _ in messages for r in rcpts)
    assert sent == args.consignees, sent
    assert len(messages) == args.consignees and len(set(recipients)) == args.consignees, "each consignee once"
    assert len(links) == args.consignees, "each notice its own link"
    engine.dispose()

    rate = args.consignees / send_s
    body = f"""
{args.consignees} consignees of one lot, {args.db}, {args.workers} worker thread(s), a local SMTP server in a
process of its own (so the figure is mostly Lotwise's own cost: building each notice, one SMTP session per batch of 100,
recording each outcome in its own transaction). The machine was shared with other work while this ran.

| step | time |
|---|---|
| data set up ({args.consignees} customers, orders, shipments) | {setup_s:.1f} s |
| open the recall (holds, report of consignees, {args.consignees} notices prepared) | {open_s * 1000:.0f} ms |
| queue every notice (what the "Send" button's request does) | {queue_s * 1000:.0f} ms |
| send them all (worker) | {send_s:.1f} s ({rate:.0f} notices/s) |

Checked: {len(messages)} messages received, one per consignee, each with its own answer link; every notice `sent`.
A real mail server adds its own time per message; with a relay answering in 50 ms one worker would take about
{args.consignees * 0.05 / 60 + send_s / 60:.1f} minutes, and more workers (`lotwise worker` on several machines, or
several processes) share the queue.
"""
    print(body)
    if not args.no_write:
        cmd = f"python -m benchmarks.bench_recall_notices --db {args.db} --consignees {args.consignees} " \
              f"--workers {args.workers}"
        write_section(f"recall-notices-{args.db}", f"Recall notices to {args.consignees} consignees ({args.db})", cmd,
                      body)


if __name__ == "__main__":
    main()

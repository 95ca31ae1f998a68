"""Recall of the most widely used raw lot on the five-year dataset: trace, report, exports, and a naive baseline.

    python -m benchmarks.bench_recall --db sqlite --scale 0.2
    python -m benchmarks.bench_recall --db postgresql --scale 0.2 [--url postgresql://…/lotwise_bench]

Generates the dataset (benchmarks.dataset) into a fresh database, picks the received lot with the
most genealogy links out, and times each step as Lotwise does it, then the same answers the way
tools without a recursive query get them (one query per lot and per level), checking both agree.
Writes the "recall" section of docs/benchmarks.md, keeping the other database's figures.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from app.db import make_engine
from app.exports import epcis, fsma204, recall_files
from app.migrate import upgrade
from app.models import (
    Balance,
    Customer,
    Lot,
    LotLink,
    LotOrigin,
    Movement,
    RecallScope,
    Receipt,
    ReceiptLine,
    Shipment,
    ShipmentLine,
    Supplier,
)
from app.queries.check import check_ledger
from app.queries.recall import report, select_lots
from app.queries.regulatory import epcis_events, fsma204_events
from app.queries.traceability import trace
from app.schemas import FsmaSelection
from benchmarks.dataset import generate
from benchmarks.report import DOC, machine, write_section

T = TypeVar("T")
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/lotwise_bench"
TARGET_S = 1.0


def _fresh(db: str, scale: float, url: str | None) -> Engine:
    if db == "sqlite":
        path = Path(url or f"/tmp/lotwise-bench-{scale:g}.db")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        engine = make_engine(f"sqlite:///{path}")
    else:
        target = make_url(url or PG_DEFAULT)
        admin = make_engine(str(target.set(database="postgres").render_as_string(hide_password=False)),
                            isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}):
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
        admin.dispose()
        engine = make_engine(target.render_as_string(hide_password=False))
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    return engine


def _time(fn: Callable[[], T], repeat: int) -> tuple[T, float, float]:
    """The result, the first (cold) time and the median of the following runs, in seconds."""
    times = []
    result: Any = None
    for _ in range(repeat + 1):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return result, times[0], statistics.median(times[1:])


def widest_raw_lot(session: Session) -> tuple[int, int]:
    """The received lot that went into the most production runs, and how many."""
    row = session.execute(
        select(LotLink.input_lot_id, func.count()).join(Lot, LotLink.input_lot_id == Lot.id)
        .where(Lot.origin == LotOrigin.RECEIPT).group_by(LotLink.input_lot_id)
        .order_by(func.count().desc(), LotLink.input_lot_id).limit(1)
    ).one()
    return int(row[0]), int(row[1])


# --- the naive way: one query per lot and per level ---------------------------------------------


def _unfold(session: Session, lot_id: int, forward: bool) -> set[int]:
    """One direction, one lot per click: its facts, then its next lots, then its partners, each a query."""
    seen = {lot_id}
    frontier = [lot_id]
    while frontier:
        nxt = []
        for lid in frontier:
            session.execute(select(Lot.code, Lot.made_on, Lot.expiry, Lot.status).where(Lot.id == lid)).one()
            if forward:
                found = session.scalars(select(LotLink.output_lot_id).where(LotLink.input_lot_id == lid)).all()
                session.execute(select(Shipment.number, Shipment.shipped_on, Customer.name, ShipmentLine.quantity)
                                .join(Shipment, ShipmentLine.shipment_id == Shipment.id)
                                .join(Customer, Shipment.customer_id == Customer.id)
                                .where(ShipmentLine.lot_id == lid)).all()
            else:
                found = session.scalars(select(LotLink.input_lot_id).where(LotLink.output_lot_id == lid)).all()
                session.execute(select(ReceiptLine.quantity, Receipt.number, Supplier.name)
                                .join(Receipt, ReceiptLine.receipt_id == Receipt.id)
                                .join(Supplier, Receipt.supplier_id == Supplier.id)
                                .where(ReceiptLine.lot_id == lid)).all()
            for other in found:
                if other not in seen:
                    seen.add(other)
                    nxt.append(other)
        frontier = nxt
    return seen


def naive_trace(session: Session, lot_id: int) -> tuple[set[int], set[int]]:
    """Forward and backward with the same facts as Lotwise's trace, gathered lot by lot."""
    return _unfold(session, lot_id, True), _unfold(session, lot_id, False)


def naive_report(session: Session, *lot_ids: int) -> dict[str, Any]:
    """The recall report's facts gathered lot by lot: next lots, shipments, stock, ledger, four queries each."""
    lots = set(lot_ids)
    frontier = sorted(lots)
    consignees: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    on_hand: dict[int, Decimal] = {}
    balance: dict[int, dict[str, Decimal]] = {}
    while frontier:
        nxt = []
        for lid in frontier:
            for out in session.scalars(select(LotLink.output_lot_id).where(LotLink.input_lot_id == lid)):
                if out not in lots:
                    lots.add(out)
                    nxt.append(out)
            for qty, cid, _name, _phone in session.execute(
                select(ShipmentLine.quantity, Customer.id, Customer.name, Customer.phone)
                .join(Shipment, ShipmentLine.shipment_id == Shipment.id)
                .join(Customer, Shipment.customer_id == Customer.id).where(ShipmentLine.lot_id == lid)
            ):
                consignees[cid].append((lid, qty))
            on_hand[lid] = session.scalar(select(func.coalesce(func.sum(Balance.on_hand), 0))
                                          .where(Balance.lot_id == lid)) or Decimal(0)
            balance[lid] = {kind: qty for kind, qty in session.execute(
                select(Movement.kind, func.sum(Movement.quantity)).where(Movement.lot_id == lid)
                .group_by(Movement.kind))}
        frontier = nxt
    return {"lots": lots, "consignees": consignees, "on_hand": on_hand, "balance": balance}


# --- the run ----------------------------------------------------------------------------------


def run(db: str, scale: float, url: str | None, repeat: int) -> dict[str, Any]:
    print(f"[{db}] generating the dataset at scale {scale:g} …", flush=True)
    engine = _fresh(db, scale, url)
    t0 = time.perf_counter()
    stats = generate(engine, scale, progress=lambda m: print(f"[{db}] {m}", flush=True))
    generated_s = time.perf_counter() - t0
    out: dict[str, Any] = {"db": db, "scale": scale, "rows": dict(stats.rows), "generate_s": generated_s,
                           "timings": []}
    with Session(engine) as session:
        lot_id, runs = widest_raw_lot(session)
        lot = session.get_one(Lot, lot_id)
        out["lot"] = f"{lot.product.sku} / {lot.code} (received {lot.made_on}, into {runs} production runs)"
        timings: list[tuple[str, float, float, float | None]] = out["timings"]

        def step(name: str, fn: Callable[[], T], naive: Callable[[], Any] | None = None) -> T:
            result, cold, warm = _time(fn, repeat)
            naive_s = _time(naive, 1)[2] if naive else None
            timings.append((name, cold, warm, naive_s))
            print(f"[{db}] {name}: cold {cold * 1000:.0f} ms, warm {warm * 1000:.0f} ms"
                  + (f", naive {naive_s * 1000:.0f} ms" if naive_s is not None else ""), flush=True)
            return result

        tr = step("trace, both directions (tree + suppliers + shipments)", lambda: trace(session, [lot_id], "both"),
                  lambda: naive_trace(session, lot_id))

        def recall() -> Any:
            selection = select_lots(session, [lot_id], RecallScope.FORWARD)
            return report(session, selection)

        rep = step("recall report (affected lots + consignees + stock + mass balance + suppliers)", recall,
                   lambda: naive_report(session, lot_id))
        naive = naive_report(session, lot_id)
        assert {a.lot.id for a in rep.lots} == naive["lots"], "naive and recursive disagree on the lots"
        assert {c.customer.id for c in rep.consignees} == set(naive["consignees"]), "consignees differ"
        assert {a.lot.id for a in rep.lots} == {r.lot.id for r in tr.lots if r.direction != "backward"}
        out["affected_lots"] = rep.totals.lots
        out["consignees"] = rep.totals.consignees
        out["shipment_lines"] = rep.totals.shipment_lines
        out["unbalanced"] = rep.totals.unbalanced_lots

        # A wider recall: every lot of the same material received in that calendar year.
        year_ids = list(session.scalars(select(Lot.id).where(
            Lot.product_id == lot.product_id, func.extract("year", Lot.made_on) == lot.made_on.year)))
        wide = step(f"recall report for all {len(year_ids)} lots of {lot.product.sku} received in "
                    f"{lot.made_on.year}", lambda: report(session, select_lots(session, year_ids, RecallScope.FORWARD)),
                    lambda: naive_report(session, *year_ids))
        assert {a.lot.id for a in wide.lots} == naive_report(session, *year_ids)["lots"]
        out["wide"] = (f"The wider recall reaches {wide.totals.lots:,} lots, {wide.totals.consignees:,} consignees "
                       f"and {wide.totals.shipment_lines:,} shipment lines.")
        doc = recall_files.ReportFile(title="Recall benchmark", facts=[("Lot", out["lot"])], report=rep)
        csv_bytes = step("recall report as CSV", lambda: recall_files.to_csv(doc))
        xlsx_bytes = step("recall report as XLSX", lambda: recall_files.to_xlsx(doc))
        pdf_bytes = step("recall report as PDF", lambda: recall_files.to_pdf(doc))
        out["sizes"] = {"csv": len(csv_bytes), "xlsx": len(xlsx_bytes), "pdf": len(pdf_bytes)}
        window = FsmaSelection(lot.made_on, lot.made_on + timedelta(days=365),
                               lot_ids=tuple(sorted(a.lot.id for a in rep.lots)))
        rows = step("FSMA 204 rows for the affected lots over a year", lambda: list(fsma204.rows(
            fsma204_events(session, window), company="Benchmark Foods")))
        out["fsma_rows"] = len(rows)
        step("FSMA 204 as XLSX", lambda: fsma204.to_xlsx(rows))
        step("FSMA 204 as CSV", lambda: fsma204.to_csv(rows))
        site = epcis.Site(base_url="https://lotwise.example", company="Benchmark Foods")
        month = lot.made_on.replace(day=1)
        end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        document = step("EPCIS 2.0 document, every event of one month",
                        lambda: epcis.to_json(epcis.document(epcis_events(session, month, end, site.timezone), site)))
        out["epcis_bytes"] = len(document)
        out["load"] = os.getloadavg()[0]
        t1 = time.perf_counter()
        problems = check_ledger(session)
        out["check_s"] = time.perf_counter() - t1
        out["check_problems"] = len(problems)
    engine.dispose()
    return out


def _section(result: dict[str, Any]) -> str:
    db = result["db"]
    rows = result["rows"]
    lines = [
        f"<!-- db:{db} -->",
        f"### {'SQLite' if db == 'sqlite' else 'PostgreSQL'}, scale {result['scale']:g}",
        "",
        f"`python -m benchmarks.bench_recall --db {db} --scale {result['scale']:g}` "
        f"({datetime.now(UTC):%Y-%m-%d}, {machine()}, load average {result['load']:.1f} at the end of the timings)",
        "",
        f"Dataset: {rows.get('lot', 0):,} lots, {rows.get('shipment_line', 0):,} shipment lines, "
        f"{rows.get('movement', 0):,} movements, {rows.get('lot_link', 0):,} genealogy links "
        f"(generated and loaded in {result['generate_s']:.0f} s; ledger check "
        f"{'passes' if not result['check_problems'] else 'FAILS'} in {result['check_s']:.1f} s).",
        f"Most widely used raw lot: {result['lot']}; forward it reaches {result['affected_lots']} lots, "
        f"{result['consignees']} consignees and {result['shipment_lines']} shipment lines "
        f"({result['unbalanced']} lots with an unaccounted remainder).",
        "",
        "| step | first run | median of the next | naive (one query per lot/level) | naive ÷ Lotwise |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, cold, warm, naive in result["timings"]:
        ratio = f"{naive / warm:.1f}×" if naive is not None and warm > 0 else ""
        naive_s = f"{naive * 1000:.0f} ms" if naive is not None else ""
        lines.append(f"| {name} | {cold * 1000:.0f} ms | {warm * 1000:.0f} ms | {naive_s} | {ratio} |")
    recall_s = next(w for n, _c, w, _n in result["timings"] if n.startswith("recall report ("))
    trace_s = next(w for n, _c, w, _n in result["timings"] if n.startswith("trace"))
    verdict = "meets" if recall_s + trace_s < TARGET_S else "misses"
    lines += ["", f"Trace + recall report: {(trace_s + recall_s) * 1000:.0f} ms — {verdict} the "
                  f"< {TARGET_S:g} s target. {result['wide']}", "<!-- /db -->"]
    return "\n".join(lines)


def _kept_sections(skip: set[str]) -> list[str]:
    """Per-database blocks already in the recall section, for databases not run this time."""
    if not DOC.exists():
        return []
    found = re.search(r"<!-- BEGIN recall -->(.*?)<!-- END recall -->", DOC.read_text(), re.S)
    if not found:
        return []
    blocks = re.findall(r"(<!-- db:(\w+) -->.*?<!-- /db -->)", found.group(1), re.S)
    return [block for block, db in blocks if db not in skip]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default="sqlite", help="sqlite, postgresql, or both comma-separated")
    parser.add_argument("--scale", type=float, default=0.2, help="1.0 = the full five-year dataset")
    parser.add_argument("--url", default=None, help="database URL or SQLite path (default: a scratch one)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs after the first")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    dbs = [d.strip() for d in args.db.split(",") if d.strip()]
    results = [run(db, args.scale, args.url, args.repeat) for db in dbs]
    body = [_section(r) for r in results]
    print("\n\n".join(body))
    if args.no_write:
        return
    kept = _kept_sections({r["db"] for r in results})
    intro = ("Recall of the most widely used raw lot on the generated five-year dataset (benchmarks/dataset.py). "
             "Lotwise answers each direction of a trace with one recursive SQL query and the report with a fixed "
             "number of set-based queries, however deep or wide the genealogy; the naive column gets the same "
             "answers one lot and one level at a time, as tools that unfold a tree click by click do (and the "
             "run checks both agree). For a lot reaching a few dozen lots both take tens of milliseconds and "
             "machine noise decides the ratio; the gap opens as the genealogy widens (the year-of-a-material "
             "row) and as each query costs a network round trip. Exports are timed on the report already built.")
    write_section("recall", "Traceability and recall",
                  f"python -m benchmarks.bench_recall --db {args.db} --scale {args.scale:g}",
                  "\n\n".join([intro, *kept, *body]))


if __name__ == "__main__":
    main()

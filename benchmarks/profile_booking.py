"""Where a pick confirmation's and a receipt's CPU goes: called in-process through the WSGI app, on the demo company.

    python -m benchmarks.profile_booking [--url postgresql://… | --url sqlite:///…] [--bookings 300] [--sections]
                                         [--profile] [--kind pick|receipt]
    python -m benchmarks.profile_booking --baseline REF [--url …] [--rounds 2]   # before and now, written to docs/

The bookings are those the load benchmark sends: `POST /api/v1/orders/{id}/picks` confirming one unit of the lot
allocated to the order, each on another order (pickers work on different orders), and `POST /api/v1/receipts` of one
line of a material with the supplier's lot code, both with an Idempotency-Key. Each request is built as gunicorn hands
it to the app (a WSGI environ with a bearer token and a JSON body) and answered by the app itself, so what is measured
is the app's own work per booking. Prints, per kind, the CPU per booking of this process and of the PostgreSQL
backends serving it, the statements per booking, with `--sections` the CPU of each part of a booking, and with
`--profile` the functions that cost most (cProfile on the CPU clock). With `--baseline REF` the git revision REF
(exported to a temporary folder) and this tree are measured in turn, `--rounds` times each, in fresh processes on the
same database, and the figures (the lowest of the rounds) are written to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.engine import make_url

from benchmarks.procstat import backends, cpu_seconds, timed

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/lotwise_bookfast_load"
KINDS = ("pick", "receipt")
EXPECTED = {"pick": "200 OK", "receipt": "201 CREATED"}
ORDERS = 200  # open orders to pick from, one after the other: no two consecutive picks on one order






def environ(path: str, body: bytes, token: str, key: str) -> dict[str, Any]:
    """A WSGI environ like the one gunicorn builds for a keep-alive POST from a handheld."""
    return {
        "REQUEST_METHOD": "POST", "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": "",
        "RAW_URI": path, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "50000", "HTTP_HOST": "127.0.0.1:8000",
        "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_IDEMPOTENCY_KEY": key, "HTTP_CONNECTION": "keep-alive",
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
        "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
    }


def workload(app: Any, picks: int, seed: int) -> tuple[str, list[tuple[str, bytes]], list[tuple[str, bytes]]]:
    """A token, and the pick and receipt requests (path, body) to send: fresh orders allocated to pick from."""
    from app.models import (
        Customer,
        Location,
        LocationKind,
        OrderAllocation,
        OrderLine,
        Product,
        ProductKind,
        Role,
        Supplier,
        User,
        Warehouse,
    )
    from app.schemas import OrderIn, ReceiptIn, UserIn
    from app.services import orders, stock
    from app.services.allocations import allocate_order
    from app.services.users import create_token, create_user

    rng = random.Random(seed)
    today = datetime.now(UTC).date()
    per_order = picks // ORDERS + 2
    with app.extensions["lotwise.sessions"]() as s:
        if s.scalar(select(User.id).where(User.username == "profile-booking")) is None:
            create_user(s, UserIn(username="profile-booking", role=Role.OPERATOR, password="profile-booking-pw"))
        token = create_token(s, "profile-booking", "profile")[1]
        admin = s.scalar(select(User).where(User.role == Role.ADMIN).limit(1))
        warehouse_id, shelf = s.execute(select(Location.warehouse_id, Location.code)
                                        .where(Location.kind == LocationKind.STORAGE).order_by(Location.id)
                                        .limit(1)).one()
        warehouse = s.get_one(Warehouse, warehouse_id).code
        customer = s.scalar(select(Customer.id).where(Customer.min_remaining_days.is_(None),
                                                      Customer.min_remaining_pct.is_(None),
                                                      Customer.max_lots_per_line.is_(None),
                                                      Customer.no_date_reversal.is_(False)).order_by(Customer.id)
                            .limit(1))
        supplier = s.scalar(select(Supplier.id).order_by(Supplier.id).limit(1))
        finished = s.scalars(select(Product).where(Product.kind == ProductKind.PRODUCT).order_by(Product.id)
                             .limit(8)).all()
        for product in finished:
            expiry = today + timedelta(days=max(product.shelf_life_days or 365, 60))
            stock.receive(s, ReceiptIn.model_validate({"supplier_id": supplier, "lines": [
                {"sku": product.sku, "quantity": str(per_order * ORDERS), "location": shelf,
                 "expiry": expiry.isoformat()}]}), user=admin, today=today,
                lot_code_pattern="{date:%y%m%d}-{seq_alpha}")
        order_ids = []
        for i in range(ORDERS):
            order = orders.create_order(s, OrderIn.model_validate({
                "customer_id": customer, "warehouse": warehouse, "ship_date": today.isoformat(),
                "lines": [{"sku": finished[i % len(finished)].sku, "quantity": str(per_order)}]}),
                user=admin, today=today)
            allocate_order(s, order.id, today=today, user=admin)
            order_ids.append(order.id)
        s.commit()
        allocations = s.execute(select(OrderLine.order_id, OrderAllocation.lot_id, Location.code)
                                .join(OrderLine, OrderLine.id == OrderAllocation.order_line_id)
                                .join(Location, Location.id == OrderAllocation.location_id)
                                .where(OrderLine.order_id.in_(order_ids))
                                .order_by(OrderLine.order_id)).all()
        receiving = s.scalar(select(Location.code).where(Location.kind == LocationKind.RECEIVING)
                             .order_by(Location.id).limit(1))
        materials = s.scalars(select(Product.sku).where(Product.kind == ProductKind.MATERIAL)
                              .order_by(Product.id)).all()
        s.commit()
    pick_requests = [(f"/api/v1/orders/{order_id}/picks",
                      json.dumps({"lot_id": lot_id, "location": location, "quantity": "1"}).encode())
                     for order_id, lot_id, location in allocations]
    receipts = [("/api/v1/receipts", json.dumps({"supplier_id": supplier, "lines": [{
        "sku": rng.choice(materials), "quantity": str(rng.randrange(5, 200)), "location": receiving,
        "supplier_lot_code": f"SL-{rng.randrange(10**8):08d}"}]}).encode()) for _ in range(picks)]
    return token, pick_requests, receipts


# What each section of a booking costs, inclusive: (label, module, attribute). A view calls these through the module
# attribute, so wrapping the attribute times every call; a section a revision lacks is left out.
SECTIONS = [
    ("authentication: token and its user", "app.api", "authenticate"),
    ("body: JSON checked against the document", "app.api", "check_body"),
    ("idempotency: key locked and looked up, answer kept", "app.services.idempotency", "answer_once"),
    ("  the key's lock and look-up", "app.services.idempotency", "_earlier"),
    ("  the key's row written (with the purge)", "app.services.idempotency", "remember"),
    ("pick: the use case", "app.api.allocation", "svc.confirm_pick"),
    ("  the gate (eligibility, on hand)", "app.services.allocations", "_pick_refusals"),
    ("  the answer (allocation, left to pick)", "app.services.allocations", "_pick_result"),
    ("receipt: the use case", "app.services.stock", "receive"),
    ("  document number and lot code", "app.services.stock", "next_numbers"),
    ("  line, ledger row and balance", "app.services.stock", "insert_booked_in"),
    ("receipt: the answer", "app.api.documents", "q.receipt_out"),
    ("commit", "sqlalchemy.orm.session", "Session.commit"),
    ("JSON answer (jsonify)", "app.api", "jsonify"),
]




def instrument() -> dict[str, list[int]]:
    """Wrap each section with a CPU clock (a function used under another name is wrapped once per name)."""
    import importlib

    spent: dict[str, list[int]] = {}
    for label, module, name in SECTIONS:
        owner: Any = importlib.import_module(module)
        *path, name = name.split(".")
        for part in path:
            owner = getattr(owner, part, None)
            if owner is None:
                break
        if owner is None or not hasattr(owner, name):
            continue
        spent[label] = [0]
        setattr(owner, name, timed(getattr(owner, name), spent[label]))
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=PG_DEFAULT, help="the database (the demo company is built when empty)")
    parser.add_argument("--bookings", type=int, default=300, help="bookings of each kind measured")
    parser.add_argument("--kind", choices=KINDS, help="only this kind")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--profile", action="store_true", help="print where the time goes (cProfile)")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sections", action="store_true", help="print the CPU of each section of a booking")
    parser.add_argument("--statements", action="store_true", help="print each statement of one booking of each kind")
    parser.add_argument("--width", type=int, default=160, help="with --statements: characters of each shown")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line (for --baseline)")
    parser.add_argument("--baseline", help="measure this git revision and this tree in turn, and write the figures")
    parser.add_argument("--rounds", type=int, default=2, help="measurements of each tree with --baseline")
    parser.add_argument("--no-write", action="store_true", help="with --baseline: print only")
    args = parser.parse_args()
    if args.baseline:
        compare(args)
        return

    from app import create_app
    from app.demo import build_demo

    app = create_app({"DATABASE_URL": args.url, "SECRET_KEY": "profile-booking", "TIMEZONE": "UTC"})
    if build_demo(app):
        print("built the demo company", flush=True)
    warm = 30
    token, picks, receipts = workload(app, args.bookings + warm, args.seed)
    engine = app.extensions["lotwise.engine"]
    statements = [0]
    shown: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_a: Any) -> None:
        if not statement.lstrip().upper().startswith("BEGIN"):  # SQLite's BEGIN is sent as a statement
            statements[0] += 1
        if args.statements:
            shown.append(" ".join(statement.split())[:args.width])

    database = str(make_url(args.url).database) if engine.dialect.name == "postgresql" else None
    statuses: dict[str, int] = {}

    def start_response(status: str, _headers: Any, _exc: Any = None) -> None:
        statuses[status] = statuses.get(status, 0) + 1

    def send(path: str, body: bytes) -> None:
        for _chunk in app(environ(path, body, token, uuid.uuid4().hex), start_response):  # type: ignore[arg-type]
            pass

    spent = instrument() if args.sections else {}
    results: dict[str, Any] = {"dialect": engine.dialect.name, "kinds": {}}
    for kind in KINDS:
        if args.kind and kind != args.kind:
            continue
        requests = picks if kind == "pick" else receipts
        for path, body in requests[:warm]:  # warm up: caches, connections, the statement cache
            send(path, body)
        todo = requests[warm:warm + args.bookings]
        if args.statements:
            shown.clear()
            send(*todo[0])
            print(f"{kind}: {len(shown)} statements")
            for line in shown:
                print("   ", line)
            todo = todo[1:]
        statuses.clear()
        statements[0] = 0
        for cell in spent.values():
            cell[0] = 0
        serving = backends(database) if database else []
        db0 = sum(cpu_seconds(pid) for pid in serving)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        profile = cProfile.Profile(time.process_time) if args.profile else None
        if profile:
            profile.enable()
        for path, body in todo:
            send(path, body)
        if profile:
            profile.disable()
        cpu = time.process_time() - cpu0
        wall = time.perf_counter() - wall0
        # Backends of connections opened meanwhile count from zero.
        db_cpu = (sum(cpu_seconds(pid) for pid in backends(database)) - db0) if database else None
        n = len(todo)
        figures = {"app": cpu / n, "database": db_cpu / n if db_cpu is not None else None,
                   "statements": statements[0] / n, "sections": {k: v[0] / n / 1e9 for k, v in spent.items()},
                   "answers": dict(statuses), "wall": wall / n}
        results["kinds"][kind] = figures
        if args.json:
            continue
        print(f"{engine.dialect.name}: {n} {kind}s, answers {statuses}; app CPU {cpu / n * 1000:.2f} ms/{kind}"
              + (f", database backend CPU {db_cpu / n * 1000:.2f} ms/{kind}" if db_cpu is not None else "")
              + f", {statements[0] / n:.1f} statements/{kind}, wall {wall / n * 1000:.2f} ms/{kind}"
              + (" (under cProfile)" if profile else ""), flush=True)
        for label, cell in spent.items():
            if cell[0]:
                print(f"  {label:<52} {cell[0] / n / 1e6:6.2f} ms")
        if profile:
            _print_profile(profile, args.top)
    if args.json:
        print(json.dumps(results))


def _print_profile(profile: cProfile.Profile, top: int) -> None:
    stream = io.StringIO()
    stats = pstats.Stats(profile, stream=stream)
    by_package: dict[str, float] = {}
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        package = filename.split("site-packages/")[1].split("/")[0] if "site-packages/" in filename else (
            "lotwise" if str(Path(__file__).resolve().parent.parent) in filename else "python")
        by_package[package] = by_package.get(package, 0.0) + tottime
    total = sum(by_package.values()) or 1.0
    for package, seconds in sorted(by_package.items(), key=lambda kv: -kv[1])[:12]:
        stream.write(f"  {package:<24} {seconds / total:5.0%}\n")
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    print(stream.getvalue())


# What the profile of the two bookings showed (statements counted, CPU per section, cProfile on the CPU clock) and
# what was changed, kept with the figures it explains.
CHANGES = """\
What the profile showed. A pick confirmation was 19 statements: the token; the Idempotency-Key's lock and look-up;
the order locked, then its lines; the lot, the location, the product's lock, the product; the order's allocations;
its lines again; the gate's picked sum, on hand and the customer one query each; the UPDATE; the key's purge, INSERT
and, once the answer was known, UPDATE; and the order's allocations once more for "left to pick". A receipt was 24:
besides the key's four, a document number and a lot code each drawn in a transaction of its own (BEGIN, SET LOCAL,
INSERT, COMMIT on a second connection), the receipt, lot and line flushed one by one through the ORM's unit of work
(about 40 % of the receipt's own CPU in cProfile), and the answer read the supplier, lines, lot, product and location
back. Most of the CPU was SQLAlchemy and psycopg per statement, and composing statements anew on every request.
In the database, most of a booking's CPU was the purge of expired keys that runs with every booking: it took its
batch in id order, so PostgreSQL walked every live key to find none expired (3.3 ms at 8,600 keys by EXPLAIN
ANALYZE, growing with the table, which keeps a day of keys).

What changed. A pick reads the order with its customer (locked), the lot with its product and the location (the
product locked), the order's allocations with their lines, and the lot's stock with what is already picked there,
one statement each, built once; the picked quantity is one prepared UPDATE; "left to pick" and the answer come from
what was read. A receipt reads its supplier with the first line's product and location in one statement, writes
the receipt, lot and line with one INSERT … RETURNING each (`services.base.add_inserted`, no unit of work) and the
ledger row straight to its table, and answers from what it wrote. A counter is drawn in one statement committed as
it runs (one round trip instead of four). An Idempotency-Key's row is written once, with its answer, and on
PostgreSQL the purge of expired keys rides in the same statement and finds its batch by the index on created_at
(0.01 ms however many keys are live). Every rule stays where it was: the one gate judges
the pick (on stock read under the same locks), availability, holds, the customer's rule and the key's semantics are
unchanged, and the ledger row and balance are written in the booking's transaction.

Parallelism. Picks locked their product FOR NO KEY UPDATE, so pickers of one product queued behind each other's
commit even on different orders. A pick of its own order's stock (the order row locked) now takes the product FOR
SHARE: picks of one product run side by side, while allocating, holds and every other taking of stock still wait
for them (a substitute pick locks as before). Receipts already drew numbers outside their transaction, so numbers
stay unique and readable (R-000042) with gaps only where a booking was refused. Tests: two pickers of one lot on
different orders, the first left uncommitted, the second completes (it waited before); a hold waits for an open pick
and then releases what was picked; two receipts book side by side. The load benchmark sent every pick to one of eight
orders (forty picks a second on eight order rows, each pick holding its order's lock until commit), which real
pickers, each on their own order, never do: it now gives each handheld an order of its own, sharing products and
lots."""


def _live_keys(url: str) -> int:
    """How many Idempotency-Keys the database keeps (every booking's purge of expired ones looks among them)."""
    from sqlalchemy import func

    from app.db import make_engine
    from app.models import RequestKey

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(RequestKey)) or 0)
    except Exception:  # a database not built yet: the first measurement builds it
        return 0
    finally:
        engine.dispose()


def _measure(source: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One measurement of the source tree `source`, in a fresh process (this file, run against that tree)."""
    env = {**os.environ, "PYTHONPATH": str(source), "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--url", args.url, "--bookings",
                          str(args.bookings), "--seed", str(args.seed), "--sections", "--json"], cwd=source, env=env,
                         check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def compare(args: argparse.Namespace) -> None:
    """REF and this tree, measured in turn (REF, now, REF, now …); each figure is the lowest of its rounds."""
    from benchmarks.bench_scan_load import exported
    from benchmarks.report import write_section

    root = Path(__file__).resolve().parent.parent
    runs: dict[str, list[dict[str, Any]]] = {"before": [], "now": []}
    keys = _live_keys(args.url)
    with exported(args.baseline) as folder:
        for _ in range(args.rounds):
            runs["before"].append(_measure(folder, args))
            runs["now"].append(_measure(root, args))
    load = os.getloadavg()[0]
    dialect = runs["now"][0]["dialect"]

    def low(label: str, kind: str, pick: Any) -> float:
        values = [v for v in (pick(r["kinds"][kind]) for r in runs[label]) if v is not None]
        return min(values) if values else float("nan")

    lines = [f"In-process on {dialect}: {args.bookings} pick confirmations (`POST /api/v1/orders/{{id}}/picks`, one "
             f"unit of the allocated lot, each on the next of {ORDERS} allocated orders) and {args.bookings} receipts "
             f"(`POST /api/v1/receipts`, one line of a material with the supplier's lot code), each with an "
             f"Idempotency-Key, through the WSGI app on the demo company, after 30 of each to warm up; CPU time of "
             f"the process" + (" and of the PostgreSQL backends serving it" if dialect == "postgresql" else "")
             + f", the lowest of {args.rounds} rounds, before and now measured in turn. Load average (1 min) at the "
             f"end: {load:.1f}; {keys:,} Idempotency-Keys live in the database at the start. Sections are inclusive "
             f"CPU per booking; indented ones are parts of the one above.", ""]
    for kind in KINDS:
        lines += [f"**{kind}**", "", f"| per {kind} | before ({args.baseline}) | now |", "|---|---:|---:|"]
        rows = [("app CPU", lambda r: r["app"]), ("database backend CPU", lambda r: r["database"])]
        total_before = total_now = 0.0
        for name, pick in rows:
            before, now = low("before", kind, pick), low("now", kind, pick)
            if before == before or now == now:
                lines.append(f"| {name}, ms | {before * 1000:.2f} | {now * 1000:.2f} |")
                total_before += before if before == before else 0.0
                total_now += now if now == now else 0.0
        lines.append(f"| **app + database CPU, ms** | **{total_before * 1000:.2f}** | **{total_now * 1000:.2f}** |")
        lines.append(f"| statements (BEGIN and COMMIT not counted) | "
                     f"{low('before', kind, lambda r: r['statements']):.1f} | "
                     f"{low('now', kind, lambda r: r['statements']):.1f} |")
        labels = list(dict.fromkeys([k for r in runs["now"] + runs["before"] for k, v in r["kinds"][kind]["sections"]
                                     .items() if v]))
        for label in labels:
            before = low("before", kind, lambda r, k=label: r["sections"].get(k) or None)
            now = low("now", kind, lambda r, k=label: r["sections"].get(k) or None)
            shown = label.replace("  ", "&nbsp;&nbsp;&nbsp;&nbsp;", 1) if label.startswith("  ") else label
            lines.append(f"| {shown}, ms | " + (f"{before * 1000:.2f}" if before == before else "—")
                         + " | " + (f"{now * 1000:.2f}" if now == now else "—") + " |")
        lines.append("")
    lines.append(CHANGES)
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        command = (f"python -m benchmarks.profile_booking --baseline {args.baseline} --url {args.url} "
                   f"--bookings {args.bookings} --rounds {args.rounds}")
        name = "booking-profile" if dialect == "postgresql" else f"booking-profile-{dialect}"
        write_section(name, f"Where a pick's and a receipt's CPU goes ({dialect})", command, body)
        print("written to docs/benchmarks.md")


if __name__ == "__main__":
    main()

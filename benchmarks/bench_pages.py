"""Every page and list API a user reaches from the navigation, timed on the five-year dataset served by gunicorn.

    python -m benchmarks.bench_pages --db sqlite,postgresql [--sqlite PATH] [--url postgresql://…] [--repeat 5]

Builds the dataset (benchmarks.dataset, scale 1 by default) once per database and reuses it on later
runs (--rebuild starts afresh), applies the migrations, adds a manager and a mock recall drill of the
most widely used raw lot, serves the database with gunicorn (2 workers, the production timeout of
60 s), logs in as a browser does and times each request several times (median and slowest). The
expiry digest (`lotwise expiring`) is timed in-process. Writes one section per database to
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from app.clock import today as site_today
from app.db import make_engine
from app.migrate import upgrade
from app.models import Customer, Lot, Order, OrderStatus, Product, RecallDrill, Role, Shipment, Supplier, User
from app.schemas import DrillIn, LotRef, UserIn
from app.services.recall import run_drill
from app.services.users import create_user
from benchmarks.bench_recall import _fresh, widest_raw_lot
from benchmarks.dataset import generate
from benchmarks.report import DOC, write_section

ROOT = Path(__file__).resolve().parent.parent
SQLITE_DEFAULT = "/tmp/lotwise-pages-1.db"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/lotwise_bench"
USER, PASSWORD = "bench", "bench-pages-password"
TARGET_MS, LIMIT_MS = 300, 500
TIMEZONE = "UTC"


def targets(session: Session) -> list[tuple[str, str]]:
    """(what, path) of every page and list API reachable from the navigation, with real ids from the data."""
    raw_lot = widest_raw_lot(session)[0] if session.scalar(select(func.count(Lot.id))) else None
    sku = session.scalar(select(Product.sku).order_by(Product.id.desc()).limit(1))
    order = session.scalar(select(func.max(Order.id)))
    open_order = session.scalar(select(func.max(Order.id)).where(Order.status.in_([OrderStatus.OPEN,
                                                                                   OrderStatus.PARTIAL])))
    shipment = session.scalar(select(func.max(Shipment.id)))
    drill = session.scalar(select(func.max(RecallDrill.id)))
    code = session.scalar(select(Lot.code).order_by(Lot.id.desc()).limit(1))
    found: list[tuple[str, str | None]] = [
        ("dashboard", "/"),
        ("lots", "/lots"),
        ("lots of one product", f"/lots?sku={sku}"),
        ("lots by code", f"/lots?code={code}"),
        ("lots in stock", "/lots?in_stock=true"),
        ("lots on hold", "/lots?status=hold"),
        ("lots, page 3", "/lots?page=3"),
        ("lot page of the most used raw lot", f"/lots/{raw_lot}" if raw_lot else None),
        ("trace of the most used raw lot", f"/trace?lot_id={raw_lot}" if raw_lot else None),
        ("recall drill of the most used raw lot", f"/recalls/drills/{drill}" if drill else None),
        ("recalls", "/recalls"),
        ("drills", "/recalls/drills"),
        ("expiring", "/expiring"),
        ("expiring, still sellable", "/expiring?expiring_only=on"),
        ("expiring, page 3", "/expiring?page=3"),
        ("expiring, one product", f"/expiring?sku={sku}"),
        ("write off expired stock (preview)", "/expiring/write-off-expired"),
        ("waste report", "/reports/waste"),
        ("write-offs", "/write-offs"),
        ("stock valuation", "/reports/valuation"),
        ("receipts", "/receipts"),
        ("production runs", "/runs"),
        ("orders", "/orders"),
        ("an order", f"/orders/{order}" if order else None),
        ("pick list of an open order", f"/orders/{open_order}/pick-list" if open_order else None),
        ("wave pick list", "/pick-lists/wave"),
        ("shipments", "/shipments"),
        ("a shipment", f"/shipments/{shipment}" if shipment else None),
        ("products", "/products"),
        ("suppliers", "/suppliers"),
        ("customers", "/customers"),
        ("locations", "/locations"),
        ("handheld home", "/h/"),
        ("handheld lookup", "/h/lookup"),
        ("handheld receive", "/h/receive"),
        ("handheld produce", "/h/produce"),
        ("handheld pick", "/h/pick"),
        ("API lots", "/api/v1/lots?limit=50"),
        ("API lots of one product", f"/api/v1/lots?limit=50&sku={sku}"),
        ("API expiring", "/api/v1/expiring?limit=50"),
        ("API expiring, still sellable", "/api/v1/expiring?limit=50&expiring_only=true"),
        ("API expiring summary", "/api/v1/expiring/summary"),
        ("API orders", "/api/v1/orders?limit=50"),
        ("API shipments", "/api/v1/shipments?limit=50"),
        ("API receipts", "/api/v1/receipts?limit=50"),
        ("API production runs", "/api/v1/production-runs?limit=50"),
        ("API write-offs", "/api/v1/write-offs?limit=50"),
        ("API recalls", "/api/v1/recalls?limit=50"),
        ("API drills", "/api/v1/drills?limit=50"),
        ("API products", "/api/v1/products?limit=50"),
        ("API suppliers", "/api/v1/suppliers?limit=50"),
        ("API customers", "/api/v1/customers?limit=50"),
        ("API locations", "/api/v1/locations"),
    ]
    return [(what, path) for what, path in found if path]


def prepare(db: str, location: str, rebuild: bool, scale: float, as_is: bool = False) -> tuple[Engine, str]:
    """The database with the dataset (built if missing), migrated, with a manager and a drill; and its URL.

    `as_is` reads the database as it stands: no migration, nothing added (it must have both already).
    """
    if as_is:
        url = f"sqlite:///{location}" if db == "sqlite" else location
        return make_engine(url), url
    if db == "sqlite":
        url = f"sqlite:///{location}"
        fresh = rebuild or not Path(location).exists()
    else:
        url = location
        fresh = rebuild
        if not fresh:
            target = make_url(url)
            admin = make_engine(target.set(database="postgres").render_as_string(hide_password=False),
                                isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                fresh = not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                        {"n": target.database})
            admin.dispose()
    if not fresh:
        engine = make_engine(url)
        upgrade(engine)
        with Session(engine) as s:
            fresh = not s.scalar(select(func.count(Customer.id)))
        engine.dispose()
    if fresh:
        print(f"[{db}] generating the dataset at scale {scale:g} …", flush=True)
        engine = _fresh(db, scale, location)
        generate(engine, scale, progress=lambda m: print(f"[{db}] {m}", flush=True))
    else:
        engine = make_engine(url)
    with Session(engine) as s:
        user = s.scalar(select(User).where(User.username == USER))
        if user is None:
            user = create_user(s, UserIn(username=USER, role=Role.MANAGER, password=PASSWORD))
        if not s.scalar(select(func.count(RecallDrill.id))):
            lot_id, _n = widest_raw_lot(s)
            run_drill(s, DrillIn(lots=[LotRef(lot_id=lot_id)]), user=user, today=site_today(TIMEZONE))
        s.commit()
    return engine, url


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(url: str, workers: int = 2) -> Iterator[str]:
    """gunicorn serving `url` from this source tree, as `lotwise serve` does; yields the base URL."""
    port = _free_port()
    env = {**os.environ, "LOTWISE_DATABASE_URL": url, "LOTWISE_SECRET_KEY": "bench-pages",
           "LOTWISE_TIMEZONE": TIMEZONE, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", str(workers), "--timeout", "60",
                             "--bind", f"127.0.0.1:{port}", "app:create_app()"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/login", timeout=2).read()
                break
            except OSError:  # not listening yet, or still starting up
                if proc.poll() is not None:
                    raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "gunicorn exited") from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Client:
    """A browser's session: cookies, a login through the form with its CSRF token."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def login(self, username: str, password: str) -> None:
        page = self.opener.open(self.base + "/login", timeout=60).read().decode()
        m = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert m, "no CSRF token on the login page"
        body = urllib.parse.urlencode({"csrf_token": m.group(1), "username": username, "password": password})
        landed = self.opener.open(self.base + "/login", data=body.encode(), timeout=60)
        assert not landed.geturl().endswith("/login"), "login failed"

    def get(self, path: str) -> tuple[int, float]:
        """Status and seconds for one request, the whole body read."""
        t0 = time.perf_counter()
        try:
            with self.opener.open(self.base + path, timeout=120) as r:
                r.read()
                status = r.status
        except urllib.error.HTTPError as exc:
            exc.read()
            status = exc.code
        except OSError:  # no answer within the timeout: the worker was killed or is still busy
            status = 0
        return status, time.perf_counter() - t0


def _times(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    fn()  # warm the worker and the database's cache
    spent = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        spent.append(time.perf_counter() - t0)
    return statistics.median(spent), max(spent)


def _wanted(what: str, only: list[str] | None) -> bool:
    return only is None or any(o.lower() in what.lower() for o in only)


def run(db: str, location: str, rebuild: bool, scale: float, repeat: int,
        only: list[str] | None = None, as_is: bool = False) -> dict[str, Any]:
    engine, url = prepare(db, location, rebuild, scale, as_is)
    with Session(engine) as s:
        paths = [(what, path) for what, path in targets(s) if _wanted(what, only)]
        counts = {name: s.scalar(select(func.count()).select_from(model))
                  for name, model in (("lots", Lot), ("orders", Order), ("shipments", Shipment),
                                      ("customers", Customer), ("suppliers", Supplier))}
    rows: list[tuple[str, str, int, float, float]] = []
    with served(url) as base:
        client = Client(base)
        client.login(USER, PASSWORD)
        for what, path in paths:
            statuses: list[int] = []

            def once(p: str = path, out: list[int] = statuses) -> None:
                out.append(client.get(p)[0])

            median, worst = _times(once, repeat)
            rows.append((what, path, next((x for x in statuses if x != 200), 200), median, worst))
            print(f"[{db}] {what:42} {median * 1000:7.0f} ms (max {worst * 1000:.0f})  {path}", flush=True)
    digest_name = "expiry digest (`lotwise expiring`, in-process)"
    if not _wanted(digest_name, only):
        engine.dispose()
        return {"db": db, "scale": scale, "rows": rows, "counts": counts, "load": os.getloadavg()[0],
                "repeat": repeat}
    from app import create_app
    from app.digest import build_digest

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-pages", "TIMEZONE": TIMEZONE})
    with app.extensions["lotwise.sessions"]() as s:
        def digest() -> None:
            build_digest(s, today=site_today(TIMEZONE), default_alert_days=int(app.config["EXPIRY_ALERT_DAYS"]),
                         site_name="Bench", currency="EUR")

        median, worst = _times(digest, repeat)
    rows.append((digest_name, "", 200, median, worst))
    print(f"[{db}] digest {median * 1000:.0f} ms (max {worst * 1000:.0f})", flush=True)
    app.extensions["lotwise.engine"].dispose()
    engine.dispose()
    load = os.getloadavg()[0]
    return {"db": db, "scale": scale, "rows": rows, "counts": counts, "load": load, "repeat": repeat}


_ROW = re.compile(r"^\| (?P<what>.+?)(?: ⚠)? \| (?:`(?P<path>[^`]*)`)? \| (?P<status>\d*) \| "
                  r"(?P<median>\d+) ms \| (?P<worst>\d+) ms \|$")


def _earlier(db: str) -> str:
    text = DOC.read_text() if DOC.exists() else ""
    m = re.search(rf"<!-- BEGIN pages-{db} -->(.*?)<!-- END pages-{db} -->", text, re.S)
    return m.group(1) if m else ""


def earlier_rows(db: str) -> list[tuple[str, str, int, float, float]]:
    """The rows of this database's section as docs/benchmarks.md has them, to merge a partial run into."""
    m = _earlier(db)
    rows = []
    for line in m.splitlines():
        if row := _ROW.match(line):
            rows.append((row["what"], row["path"] or "", int(row["status"] or 200), int(row["median"]) / 1000,
                         int(row["worst"]) / 1000))
    return rows


def merged(result: dict[str, Any], command: str) -> dict[str, Any]:
    """The earlier full run's rows with the ones just measured put in their place, and a note saying so."""
    fresh = {r[0]: r for r in result["rows"]}
    rows = [fresh.pop(r[0], r) for r in earlier_rows(result["db"])] + list(fresh.values())
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    # A section already merged names the full run its other rows come from; otherwise its own run is that one.
    earlier = _earlier(result["db"])
    before = (re.search(r"the other rows are from the run of ([^;.]+?)\.", earlier)
              or re.search(r"Run: (.+?) on ", earlier))
    when = before.group(1) if before else ""
    note = (f"Re-measured on {stamp} with `{command}` (load average {result['load']:.1f}): "
            + ", ".join(r[0] for r in result["rows"]) + f"; the other rows are from the run of {when or 'before'}.")
    return {**result, "rows": rows, "note": note}


def _section(result: dict[str, Any], command: str) -> str:
    db = result["db"]
    counts = result["counts"]
    lines = [
        f"{'SQLite' if db == 'sqlite' else 'PostgreSQL'}, scale {result['scale']:g}: {counts['lots']:,} lots, "
        f"{counts['orders']:,} orders, {counts['shipments']:,} shipments, {counts['customers']:,} customers, "
        f"{counts['suppliers']:,} suppliers. Served by gunicorn (2 workers, timeout 60 s); each request once to "
        f"warm up, then {result['repeat']} times: median and slowest, whole response read. Load average at the "
        f"end: {result['load']:.1f}.",
        "",
        "Before the expiring stock was paginated and aggregated in SQL, the dashboard, `/expiring` and "
        "`GET /api/v1/expiring` were killed by gunicorn's 60 s timeout on this dataset (they tested every customer "
        "against every one of ~64,000 lots in Python), and `/lots` took about 355 ms. Before the stock valuation "
        "showed 50 products a page (its totals still over the whole stock, the lots ranked only for the products "
        "shown, the balances read without the ledger for today), it listed all 500 products and took "
        + ("331 ms (slowest 433 ms)" if db == "sqlite" else "337 ms (slowest 436 ms)") + " at a load average of 0.5."
        + (" On a freshly analysed database (`ANALYZE`), SQLite planned the lot list by looping over the products "
           "and sorting every lot (`/lots?in_stock=true` 748 ms, slowest 907 ms) until the list was pinned to the "
           "expiry index." if db == "sqlite" else ""),
        "",
        "| page or API | path | status | median | slowest |",
        "|---|---|---|---|---|",
    ]
    for what, path, status, median, worst in result["rows"]:
        flag = " ⚠" if median * 1000 > TARGET_MS or worst * 1000 > LIMIT_MS else ""
        lines.append(f"| {what}{flag} | `{path}` | {status} | {median * 1000:.0f} ms | {worst * 1000:.0f} ms |"
                     if path else f"| {what}{flag} |  |  | {median * 1000:.0f} ms | {worst * 1000:.0f} ms |")
    over = [r for r in result["rows"] if r[3] * 1000 > TARGET_MS]
    worst_row = max(result["rows"], key=lambda r: r[4])
    if result.get("note"):
        lines += ["", result["note"]]
    lines += ["", (f"Every one under the {TARGET_MS} ms target (median); " if not over else
                   f"{len(over)} over the {TARGET_MS} ms target (⚠); ")
              + f"slowest single request: {worst_row[0]}, {worst_row[4] * 1000:.0f} ms (limit {LIMIT_MS} ms)."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="sqlite", help="sqlite, postgresql or both, comma-separated")
    parser.add_argument("--sqlite", default=SQLITE_DEFAULT, help="the SQLite file (built once, then reused)")
    parser.add_argument("--url", default=PG_DEFAULT, help="the PostgreSQL database (built once, then reused)")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = the full five-year dataset")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true", help="generate the dataset again")
    parser.add_argument("--only", help="time only the pages whose name contains one of these words (comma-separated, "
                                       "e.g. 'valuation,write off'); their rows replace the same rows in "
                                       "docs/benchmarks.md, the others stay from the last full run")
    parser.add_argument("--as-is", action="store_true", help="use the database as it stands, read only: no "
                                                              "migration, no manager or drill added")
    args = parser.parse_args()
    only = [o.strip() for o in args.only.split(",") if o.strip()] if args.only else None
    for db in args.db.split(","):
        result = run(db, args.sqlite if db == "sqlite" else args.url, args.rebuild, args.scale, args.repeat, only,
                     args.as_is)
        command = f"python -m benchmarks.bench_pages --db {db} --scale {args.scale:g}"
        if only:
            result = merged(result, f"{command} --only '{','.join(only)}'" + (" --as-is" if args.as_is else ""))
        write_section(f"pages-{db}", f"Pages and list APIs at five-year scale ({db})", command,
                      _section(result, command))
    print(f"written to docs/benchmarks.md ({date.today()})")


if __name__ == "__main__":
    main()

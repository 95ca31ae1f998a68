"""Where a scan's CPU goes: POST /api/v1/scans/parse called in-process through the WSGI app, on the demo company.

    python -m benchmarks.profile_scan [--url postgresql://… | --url sqlite:///…] [--scans 600] [--sections] [--profile]
    python -m benchmarks.profile_scan --baseline REF [--url …] [--rounds 2]   # before and now, written to docs/

Each request is built as gunicorn hands it to the app (a WSGI environ with a bearer token and a JSON body) and
answered by the app itself, so what is measured is the app's own work per scan: WSGI and Flask dispatch, the
token, the body's validation, the parser, the look-up, the scan event's insert and commit, the JSON answer. The
labels are those the load benchmark scans (our lot labels, product barcodes, typed lot codes, order numbers,
unknown labels). Prints the CPU per scan of this process (and of the PostgreSQL backend serving it), the
statements per scan, with `--sections` the CPU of each part of a scan, and with `--profile` the functions that cost
most (cProfile on the CPU clock). With `--baseline REF` the git revision REF (exported to a temporary folder) and this
tree are measured in turn, `--rounds` times each, in fresh processes on the same database, and the figures (the
lowest of the rounds) are written to docs/benchmarks.md.
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
from pathlib import Path
from typing import Any

from sqlalchemy import event, select, text

from benchmarks.bench_scan_load import _gs1_check
from benchmarks.procstat import timed

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/lotwise_scanbench"


def _backend_cpu(pids: list[int] | None) -> float:
    total = 0.0
    for pid in pids or []:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def labels(app: Any, seed: int) -> list[str]:
    """What the handhelds scan in the load benchmark, in the same shares."""
    from app.models import Lot, LotStatus, Order, Product

    rng = random.Random(seed)
    with app.extensions["lotwise.sessions"]() as s:
        lots = s.execute(select(Lot.code, Lot.expiry, Product.gtin).join(Product)
                         .where(Lot.status == LotStatus.RELEASED, Product.gtin.is_not(None))
                         .order_by(Lot.id.desc()).limit(400)).all()
        products = [g[1:] if g.startswith("0") else g
                    for g in s.scalars(select(Product.gtin).where(Product.gtin.is_not(None))).all() if g]
        numbers = s.scalars(select(Order.number).limit(100)).all()
    lot_labels = [f"]C101{gtin}17{expiry:%y%m%d}10{code}" if expiry else f"]C101{gtin}10{code}"
                  for code, expiry, gtin in lots]
    codes = [code for code, _e, _g in lots[:100]]
    unknown = []
    for _ in range(20):
        body = "0" + "".join(rng.choice("0123456789") for _ in range(12))
        unknown.append(f"]C101{body}{_gs1_check(body)}10X{rng.randrange(10**6)}")
    out: list[str] = []
    for pool, share in ((lot_labels, 60), (products, 15), (codes, 10), (list(numbers), 10), (unknown, 5)):
        if pool:
            out += [rng.choice(pool) for _ in range(share * 20)]
    rng.shuffle(out)
    return out


def environ(path: str, body: bytes, token: str) -> dict[str, Any]:
    """A WSGI environ like the one gunicorn builds for a keep-alive POST from a handheld."""
    return {
        "REQUEST_METHOD": "POST", "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": "",
        "RAW_URI": path, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "50000", "HTTP_HOST": "127.0.0.1:8000",
        "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_CONNECTION": "keep-alive",
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
        "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
    }


# What each section of a scan costs, inclusive: (label, module, attribute). A view calls these through the module
# attribute, so wrapping the attribute times every call.
SECTIONS = [
    ("authentication: token and its user", "app.api", "authenticate"),
    ("  database connection from the pool, with its ping", "sqlalchemy.pool.base", "Pool.connect"),
    ("body: JSON checked against the document", "app.api", "check_body"),
    ("parser (scanning/)", "app.api.scans", "parse"),
    ("look-up: queries and the answer", "app.services.scans", "resolve"),
    ("  product with lot and supplier", "app.services.scans", "_labelled_lot"),
    ("  product or lot when not a lot label", "app.services.scans", "_product"),
    ("  lot by code", "app.services.scans", "_lot"),
    ("  lot's stock, genealogy counts, answer", "app.services.scans", "_lot_out"),
    ("scan event: insert and commit", "app.services.scans", "record_scan"),
    ("  of which commits", "sqlalchemy.orm.session", "Session.commit"),
    ("JSON answer (jsonify)", "app.api", "jsonify"),
    ("JSON answer (json_answer)", "app.api", "json_answer"),
]




def instrument(app: Any) -> dict[str, list[int]]:
    """Wrap each section (and Flask's hooks: request guard, session, security headers, teardown) with a CPU clock."""
    import importlib

    spent: dict[str, list[int]] = {}
    for label, module, name in SECTIONS:
        owner: Any = importlib.import_module(module)
        *path, name = name.split(".")
        for part in path:  # a method: wrapped on its class
            owner = getattr(owner, part)
        if not hasattr(owner, name):  # an older revision without this part
            continue
        spent[label] = [0]
        setattr(owner, name, timed(getattr(owner, name), spent[label]))
    hooks = [("request guard (NUL, ids)", app.before_request_funcs),
             ("security headers", app.after_request_funcs),
             ("teardown: session closed", app.teardown_appcontext_funcs)]
    for label, registry in hooks:
        spent[label] = [0]
        if isinstance(registry, list):
            registry[:] = [timed(f, spent[label]) for f in registry]
            continue
        for key, funcs in registry.items():
            registry[key] = [timed(f, spent[label]) for f in funcs]
    spent["page session: open and save"] = cookie = [0]
    interface = app.session_interface
    interface.open_session = timed(interface.open_session, cookie)
    interface.save_session = timed(interface.save_session, cookie)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=PG_DEFAULT, help="the database (the demo company is built when empty)")
    parser.add_argument("--scans", type=int, default=600)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--profile", action="store_true", help="print where the time goes (cProfile)")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--sections", action="store_true", help="print the CPU of each section of a scan")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line (for --baseline)")
    parser.add_argument("--baseline", help="measure this git revision and this tree in turn, and write the figures")
    parser.add_argument("--rounds", type=int, default=2, help="measurements of each tree with --baseline")
    parser.add_argument("--no-write", action="store_true", help="with --baseline: print only")
    args = parser.parse_args()
    if args.baseline:
        compare(args)
        return

    import app.db as database
    from app import create_app
    from app.demo import build_demo
    from app.models import Role
    from app.schemas import UserIn
    from app.services.users import create_token, create_user

    app = create_app({"DATABASE_URL": args.url, "SECRET_KEY": "profile-scan", "TIMEZONE": "UTC"})
    if build_demo(app):
        print("built the demo company", flush=True)
    with app.extensions["lotwise.sessions"]() as s:
        from app.models import User
        if s.scalar(select(User.id).where(User.username == "profile-scan")) is None:
            create_user(s, UserIn(username="profile-scan", role=Role.OPERATOR, password="profile-scan-pw"))
        token = create_token(s, "profile-scan", "profile")[1]
    bodies = [json.dumps({"raw": raw, "station": None}).encode() for raw in labels(app, args.seed)]

    engine = app.extensions["lotwise.engine"]
    # On PostgreSQL a scan runs on the engine's twin (app.db.statement_engine): its statements and its backend count.
    # (A revision from before the twin has none.)
    twin = database.statement_engine(engine) if hasattr(database, "statement_engine") else None
    engines = [engine] if twin is None else [engine, twin]
    statements = [0]

    def _count(_conn: Any, _cursor: Any, statement: str, *_a: Any) -> None:
        if not statement.lstrip().upper().startswith("BEGIN"):  # SQLite's BEGIN is sent as a statement
            statements[0] += 1

    for e in engines:
        event.listen(e, "before_cursor_execute", _count)

    backend: list[int] | None = None
    if engine.dialect.name == "postgresql":
        backend = []
        for e in engines:
            with e.connect() as conn:  # each pool keeps this one connection for the requests
                backend.append(conn.scalar(text("SELECT pg_backend_pid()")))

    statuses: dict[str, int] = {}

    def start_response(status: str, _headers: Any, _exc: Any = None) -> None:
        statuses[status] = statuses.get(status, 0) + 1

    def scan(i: int) -> None:
        body = bodies[i % len(bodies)]
        for _chunk in app(environ("/api/v1/scans/parse", body, token), start_response):
            pass

    spent = instrument(app) if args.sections else {}
    for i in range(50):  # warm up: caches, the connection, the statement cache
        scan(i)
    statuses.clear()
    statements[0] = 0
    for cell in spent.values():
        cell[0] = 0
    cpu0, db0, wall0 = time.process_time(), _backend_cpu(backend), time.perf_counter()
    # The CPU clock: time spent waiting for the database's answer is not this process's work.
    profile = cProfile.Profile(time.process_time) if args.profile else None
    if profile:
        profile.enable()
    for i in range(args.scans):
        scan(i)
    if profile:
        profile.disable()
    cpu = time.process_time() - cpu0
    db_cpu = _backend_cpu(backend) - db0
    wall = time.perf_counter() - wall0
    n = args.scans
    if args.json:
        print(json.dumps({"dialect": engine.dialect.name, "app": cpu / n, "database": db_cpu / n if backend else None,
                          "statements": statements[0] / n, "sections": {k: v[0] / n / 1e9 for k, v in spent.items()},
                          "answers": statuses}))
        return
    print(f"{engine.dialect.name}: {n} scans, answers {statuses}; app CPU {cpu / n * 1000:.2f} ms/scan"
          + (f", database backend CPU {db_cpu / n * 1000:.2f} ms/scan" if backend else "")
          + f", {statements[0] / n:.1f} statements/scan, wall {wall / n * 1000:.2f} ms/scan"
          + (" (under cProfile)" if profile else ""), flush=True)
    if spent:
        for label, cell in spent.items():
            print(f"  {label:<45} {cell[0] / n / 1e6:6.2f} ms/scan")
    if profile:
        stream = io.StringIO()
        stats = pstats.Stats(profile, stream=stream)
        # Own CPU (tottime) by library: where the work is, whichever of our functions asked for it.
        by_package: dict[str, float] = {}
        for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
            package = filename.split("site-packages/")[1].split("/")[0] if "site-packages/" in filename else (
                "lotwise" if str(Path(__file__).resolve().parent.parent) in filename else "python")
            by_package[package] = by_package.get(package, 0.0) + tottime
        total = sum(by_package.values())
        for package, seconds in sorted(by_package.items(), key=lambda kv: -kv[1])[:12]:
            stream.write(f"  {package:<24} {seconds / total:5.0%}\n")
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)
        print(stream.getvalue())


def _measure(source: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One measurement of the source tree `source`, in a fresh process (this file, run against that tree)."""
    env = {**os.environ, "PYTHONPATH": str(source), "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--url", args.url, "--scans", str(args.scans),
                          "--seed", str(args.seed), "--sections", "--json"], cwd=source, env=env, check=True,
                         capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def compare(args: argparse.Namespace) -> None:
    """REF and this tree, measured in turn (REF, now, REF, now …); each figure is the lowest of its rounds."""
    from benchmarks.bench_scan_load import exported
    from benchmarks.report import write_section

    root = Path(__file__).resolve().parent.parent
    runs: dict[str, list[dict[str, Any]]] = {"before": [], "now": []}
    with exported(args.baseline) as folder:
        _measure(folder, args)  # the first run builds the demo company when the database is empty
        for _ in range(args.rounds):
            runs["before"].append(_measure(folder, args))
            runs["now"].append(_measure(root, args))
    load = os.getloadavg()[0]

    def low(label: str, pick: Any) -> float:
        values = [v for v in (pick(r) for r in runs[label]) if v is not None]
        return min(values) if values else float("nan")

    dialect = runs["now"][0]["dialect"]
    rows = [("app CPU per scan", lambda r: r["app"]), ("database backend CPU per scan", lambda r: r["database"])]
    labels = list(dict.fromkeys([k for r in runs["now"] for k in r["sections"]]))
    lines = [f"In-process on {dialect}: POST /api/v1/scans/parse through the WSGI app, {args.scans} scans of the "
             f"load benchmark's labels (60 % our lot labels, 15 % product barcodes, 10 % typed lot codes, 10 % order "
             f"numbers, 5 % unknown labels) on the demo company, after 50 to warm up; CPU time of the process"
             + (" and of the PostgreSQL backend serving it" if dialect == "postgresql" else "")
             + f", the lowest of {args.rounds} rounds, before and now measured in "
             f"turn. Load average (1 min) at the end: {load:.1f}. Sections are inclusive CPU per scan; indented ones "
             f"are parts of the one above.", "",
             "| per scan | before (" + args.baseline + ") | now |", "|---|---:|---:|"]
    for name, pick in rows:
        before, now = low("before", pick), low("now", pick)
        if before == before or now == now:
            lines.append(f"| {name}, ms | {before * 1000:.2f} | {now * 1000:.2f} |")
    lines.append(f"| statements (BEGIN, COMMIT and the pool's ping not counted) | "
                 f"{low('before', lambda r: r['statements']):.1f} | "
                 f"{low('now', lambda r: r['statements']):.1f} |")
    for label in labels:
        before = low("before", lambda r, k=label: r["sections"].get(k))
        now = low("now", lambda r, k=label: r["sections"].get(k))
        shown = label.replace("  ", "&nbsp;&nbsp;&nbsp;&nbsp;", 1) if label.startswith("  ") else label
        lines.append(f"| {shown}, ms | " + (f"{before * 1000:.2f}" if before == before else "—")
                     + f" | {now * 1000:.2f} |")
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        command = f"python -m benchmarks.profile_scan --baseline {args.baseline} --url {args.url}"
        write_section(f"scan-profile-{dialect}", f"Where a scan's CPU goes ({dialect})", command, body)
        print("written to docs/benchmarks.md")


if __name__ == "__main__":
    main()

"""Where a scan's CPU goes when it is served: POST /api/v1/scans/parse answered by gunicorn as `lotwise serve` runs it.

    python -m benchmarks.profile_scan_served [--url postgresql://…] [--scans 2000] [--clients 4] [--threads 2]
                                             [--profile] [--top 40]

One worker process (the settings `lotwise serve` uses: gthread, its threads, keep-alive) is started from this source
tree on the demo company; `--clients` keep-alive connections send the load benchmark's labels back to back. The
CPU of the server's processes (master and worker, from /proc) and of the PostgreSQL backends serving them is divided
by the answered requests, so the figure can be set beside `profile_scan`'s in-process one. With `--profile` the
worker profiles itself on each thread's CPU clock (its accept/keep-alive loop and every request thread) and the
functions that cost most, and the share of each library, are printed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import pstats
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from benchmarks.procstat import cpu_seconds
from benchmarks.profile_scan import PG_DEFAULT, labels

ROOT = Path(__file__).resolve().parent.parent




def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_worker(port: int, threads: int, profile_to: str | None, without: list[str]) -> None:
    """Run gunicorn with `lotwise serve`'s settings and one worker; profile the worker's threads if asked."""
    import cProfile

    if "ping" in without:
        from sqlalchemy import create_engine

        import app.db

        app.db.create_engine = lambda url, **kw: create_engine(url, **{**kw, "pool_pre_ping": False})  # type: ignore[attr-defined]

    from gunicorn.app.base import BaseApplication

    from app import create_app
    from app.cli import gunicorn_settings

    profiles: list[cProfile.Profile] = []
    local = threading.local()

    def post_worker_init(worker: Any) -> None:
        if not profile_to:
            return
        main = cProfile.Profile(time.thread_time)
        profiles.append(main)
        main.enable()
        handle = type(worker).handle

        def profiled(self: Any, conn: Any) -> Any:
            prof = getattr(local, "prof", None)
            if prof is None:
                prof = local.prof = cProfile.Profile(time.thread_time)
                profiles.append(prof)
            prof.enable()
            try:
                return handle(self, conn)
            finally:
                prof.disable()

        type(worker).handle = profiled

    def worker_exit(_server: Any, _worker: Any) -> None:
        if not profile_to or not profiles:
            return
        profiles[0].disable()
        stats = pstats.Stats(profiles[0])
        for prof in profiles[1:]:
            stats.add(prof)
        stats.dump_stats(profile_to)

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in gunicorn_settings("127.0.0.1", port, 1, threads=threads).items():
                if key in self.cfg.settings:
                    self.cfg.set(key, value)
            self.cfg.set("post_worker_init", post_worker_init)
            self.cfg.set("worker_exit", worker_exit)

        def load(self) -> Any:
            app = create_app(None)
            if "guard" in without:
                app.before_request_funcs[None] = []
            if "headers" in without:
                app.after_request_funcs[None] = []
            return app

    Server().run()


def _client(port: int, token: str, bodies: list[bytes], start: int, count: int, answers: dict[int, int],
            lock: threading.Lock) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    seen: dict[int, int] = {}
    for i in range(start, start + count):
        conn.request("POST", "/api/v1/scans/parse", body=bodies[i % len(bodies)], headers=headers)
        resp = conn.getresponse()
        resp.read()
        seen[resp.status] = seen.get(resp.status, 0) + 1
        if resp.will_close:
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.close()
    with lock:
        for k, v in seen.items():
            answers[k] = answers.get(k, 0) + v


def _send(port: int, token: str, bodies: list[bytes], scans: int, clients: int) -> dict[int, int]:
    answers: dict[int, int] = {}
    lock = threading.Lock()
    each = scans // clients
    workers = [threading.Thread(target=_client, args=(port, token, bodies, c * each, each, answers, lock))
               for c in range(clients)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=PG_DEFAULT)
    parser.add_argument("--scans", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--without", action="append", default=[], choices=["ping", "guard", "headers"],
                        help="measure without this part (to see what it costs; never how Lotwise is served)")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # internal: run the server on this port
    parser.add_argument("--profile-to", help=argparse.SUPPRESS)
    parser.add_argument("--baseline", help="measure this git revision and this tree in turn (REF, now, REF, now …)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="with --baseline: write the figures to docs/")
    args = parser.parse_args()
    if args.baseline:
        compare(args)
        return
    if args.serve:
        serve_worker(args.serve, args.threads, args.profile_to, args.without)
        return

    import app as app_module
    from app import create_app
    from app.models import Role, User
    from app.schemas import UserIn
    from app.services.users import create_token, create_user

    app = create_app({"DATABASE_URL": args.url, "SECRET_KEY": "profile-scan", "TIMEZONE": "UTC"})
    with app.extensions["lotwise.sessions"]() as s:
        if s.scalar(select(User.id).where(User.username == "profile-scan")) is None:
            create_user(s, UserIn(username="profile-scan", role=Role.OPERATOR, password="profile-scan-pw"))
        token = create_token(s, "profile-scan", "profile served")[1]
    bodies = [json.dumps({"raw": raw, "station": None}).encode() for raw in labels(app, args.seed)]
    engine = app.extensions["lotwise.engine"]
    postgres = engine.dialect.name == "postgresql"

    port = _free_port()
    profile_to = tempfile.mktemp(suffix=".prof") if args.profile else None
    # The server runs the tree this process imports `app` from (PYTHONPATH), so --baseline can point it elsewhere.
    env = {**os.environ, "PYTHONPATH": str(Path(app_module.__file__).resolve().parent.parent),
           "LOTWISE_DATABASE_URL": args.url, "LOTWISE_SECRET_KEY": "profile-scan", "LOTWISE_TIMEZONE": "UTC"}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--serve", str(port), "--threads", str(args.threads),
           *[f"--without={w}" for w in args.without], *(["--profile-to", profile_to] if profile_to else [])]
    server = subprocess.Popen(cmd, cwd=env["PYTHONPATH"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        _send(port, token, bodies, 200, args.clients)  # warm up: connections, caches, statement cache

        def backends() -> list[int]:
            if not postgres:
                return []
            with engine.connect() as conn:
                return list(conn.scalars(text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")))

        procs = [server.pid, *_children(server.pid)]
        pg = backends()
        cpu0 = {p: cpu_seconds(p) for p in procs + pg}
        wall0 = time.perf_counter()
        answers = _send(port, token, bodies, args.scans, args.clients)
        wall = time.perf_counter() - wall0
        pg_after = backends()
        cpu1 = {p: cpu_seconds(p) for p in procs + pg_after}
        n = sum(answers.values())
        server_cpu = sum(cpu1[p] - cpu0[p] for p in procs)
        db_cpu = sum(cpu1[p] - cpu0.get(p, 0.0) for p in pg_after)
    finally:
        server.send_signal(signal.SIGTERM)
        err = server.communicate(timeout=60)[1]
    result = {"dialect": engine.dialect.name, "answers": answers, "server": server_cpu / n,
              "database": db_cpu / n if postgres else None, "rate": n / wall, "load": os.getloadavg()[0]}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{engine.dialect.name}: {n} scans served ({answers}), {args.clients} connections, {args.threads} "
              f"threads; server CPU {server_cpu / n * 1000:.2f} ms/scan"
              + (f", database backends {db_cpu / n * 1000:.2f} ms/scan" if postgres else "")
              + f", {n / wall:.0f} scans/s wall, load {os.getloadavg()[0]:.1f}", flush=True)
    if profile_to:
        if not Path(profile_to).exists():
            print(err.decode()[-3000:])
            return
        stats = pstats.Stats(profile_to)
        by_package: dict[str, float] = {}
        for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
            package = filename.split("site-packages/")[1].split("/")[0] if "site-packages/" in filename else (
                "lotwise" if str(ROOT) in filename else "python")
            by_package[package] = by_package.get(package, 0.0) + tottime
        total = sum(by_package.values())
        print(f"profiled CPU {total / n * 1000:.2f} ms/scan")

        def cumulative(path_end: str, name: str) -> float:
            return sum(ct for (filename, _l, fn), (_cc, _nc, _tt, ct, _c) in stats.stats.items()  # type: ignore[attr-defined]
                       if filename.endswith(path_end) and fn == name)

        app_part = cumulative("flask/app.py", "wsgi_app")
        handled = cumulative("gunicorn/workers/gthread.py", "handle")
        print(f"  the app (Flask's wsgi_app)                {app_part / total:5.0%}\n"
              f"  gunicorn around it: read, parse, write    {(handled - app_part) / total:5.0%}\n"
              f"  gunicorn's loop: accept, keep-alive poll  {(total - handled) / total:5.0%}")
        for package, seconds in sorted(by_package.items(), key=lambda kv: -kv[1])[:12]:
            print(f"  {package:<24} {seconds / total:5.0%}  {seconds / n * 1000:.2f} ms/scan")
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)
        os.unlink(profile_to)


def compare(args: argparse.Namespace) -> None:
    """REF and this tree served in turn, `--rounds` times each; prints every round and the medians."""
    import statistics

    from benchmarks.bench_scan_load import exported

    runs: dict[str, list[dict[str, Any]]] = {"before": [], "now": []}
    extra = [f"--without={w}" for w in args.without] + ["--threads", str(args.threads), "--clients", str(args.clients)]
    with exported(args.baseline) as folder:
        for _ in range(args.rounds):
            for label, tree in (("before", folder), ("now", ROOT)):
                env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
                out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--url", args.url, "--scans",
                                      str(args.scans), "--json", *extra], cwd=tree, env=env, check=True,
                                     capture_output=True, text=True).stdout
                runs[label].append(json.loads(out.strip().splitlines()[-1]))
                r = runs[label][-1]
                print(f"{label:>6}: server {r['server'] * 1000:.2f} ms/scan, database "
                      f"{(r['database'] or 0) * 1000:.2f} ms/scan, {r['rate']:.0f}/s, load {r['load']:.1f}", flush=True)
    def med(label: str, key: str) -> float:
        return statistics.median((r[key] or 0.0) for r in runs[label]) * 1000

    dialect = runs["now"][0]["dialect"]
    lines = [f"Served on {dialect}: POST /api/v1/scans/parse answered by one gunicorn worker with `lotwise serve`'s "
             f"settings (gthread, {args.threads} threads, keep-alive), {args.clients} keep-alive connections sending "
             f"{args.scans} scans of the load benchmark's labels back to back after 200 to warm up; CPU of the "
             f"server's processes and of the database backends from /proc per answered scan. Before and now "
             f"alternate, {args.rounds} rounds each; the median is shown, then every round. Load average (1 min) at "
             f"the end: {os.getloadavg()[0]:.1f} (the machine is shared: single rounds vary by ±15 %).", "",
             f"| per scan | before ({args.baseline}) | now |", "|---|---:|---:|",
             f"| server CPU (median), ms | {med('before', 'server'):.2f} | {med('now', 'server'):.2f} |",
             f"| database backend CPU (median), ms | {med('before', 'database'):.2f} | {med('now', 'database'):.2f} |",
             f"| scans answered a second (wall clock, median) | {med('before', 'rate') / 1000:.0f} | "
             f"{med('now', 'rate') / 1000:.0f} |",
             "| server CPU, each round, ms | " + " / ".join(f"{r['server'] * 1000:.2f}" for r in runs["before"])
             + " | " + " / ".join(f"{r['server'] * 1000:.2f}" for r in runs["now"]) + " |"]
    body = "\n".join(lines)
    print(body)
    if args.write:
        from benchmarks.report import write_section

        command = (f"python -m benchmarks.profile_scan_served --baseline {args.baseline} --url {args.url} --scans "
                   f"{args.scans} --rounds {args.rounds} --write")
        write_section(f"scan-served-{dialect}", f"A scan served by gunicorn ({dialect})", command, body)
        print("written to docs/benchmarks.md")


if __name__ == "__main__":
    main()

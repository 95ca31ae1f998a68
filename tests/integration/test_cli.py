"""The `lotwise` command as an operator uses it: schema, users, tokens, the ledger check and the demo."""

from __future__ import annotations

import os
import re
import shutil
import socket
import sqlite3
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import text

from app import create_app
from app.cli import REQUESTS_PER_CONNECTION, gunicorn_settings, main
from app.config import DEFAULTS
from app.schemas import LocationIn, ProductIn, ReceiptIn, ReceiptLineIn, SupplierIn, WarehouseIn
from app.services import masterdata, stock
from tests.helpers.api import TODAY
from tests.helpers.databases import PG_URL, DemoBuild, PgDemoBuild


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "cli.db"


Run = Callable[..., Result]


@pytest.fixture
def lotwise(db_file: Path, tmp_path: Path) -> Run:
    """Run `lotwise ARGS` against a fresh SQLite file, as a shell with LOTWISE_* variables would."""
    runner = CliRunner()
    env = {"LOTWISE_DATABASE_URL": f"sqlite:///{db_file}", "LOTWISE_INSTANCE_DIR": str(tmp_path)}

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(main, list(args), env=env, input=input, catch_exceptions=False)

    return run


def _dump(db_file: Path) -> str:
    """Everything the database holds, as SQL text."""
    con = sqlite3.connect(db_file)
    try:
        return "\n".join(con.iterdump())
    finally:
        con.close()


def _count(db_file: Path, table: str) -> int:
    con = sqlite3.connect(db_file)
    try:
        return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        con.close()


def test_help_lists_the_commands(lotwise: Run) -> None:
    result = lotwise("--help")
    assert result.exit_code == 0
    for command in ("db", "user", "token", "check", "serve", "demo"):
        assert command in result.output


def test_db_upgrade_creates_the_schema_and_reports_the_revision(lotwise: Run, db_file: Path) -> None:
    result = lotwise("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "database at revision" in result.output
    revision = result.output.strip().removeprefix("database at revision ")
    assert revision != "none"
    current = lotwise("db", "current")
    assert current.output.strip() == f"current {revision}, newest {revision}"
    assert "product" in _dump(db_file)


def test_user_create_reads_the_password_from_stdin_and_refuses_duplicates_and_short_ones(
        lotwise: Run) -> None:
    assert lotwise("db", "upgrade").exit_code == 0
    result = lotwise("user", "create", "maria", "--role", "manager", input="a long enough secret\n")
    assert result.exit_code == 0, result.output
    assert "created user maria (manager)" in result.output

    again = lotwise("user", "create", "maria", "--role", "viewer", input="another secret 12\n")
    assert again.exit_code != 0
    assert "user maria already exists" in again.output

    short = lotwise("user", "create", "kim", "--role", "operator", input="short\n")
    assert short.exit_code != 0
    assert "password" in short.output and "8 characters" in short.output

    empty = lotwise("user", "create", "lee", "--role", "operator", input="\n")
    assert empty.exit_code != 0
    assert "no password on standard input" in empty.output


def test_a_created_token_works_against_the_api_and_is_stored_only_as_a_hash(
        lotwise: Run, db_file: Path, tmp_path: Path) -> None:
    assert lotwise("db", "upgrade").exit_code == 0
    assert lotwise("user", "create", "robot", "--role", "viewer", input="robot password 1\n").exit_code == 0
    result = lotwise("token", "create", "robot", "--name", "stock sync")
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert len(token) > 30 and "\n" not in token

    app = create_app({"DATABASE_URL": f"sqlite:///{db_file}", "SECRET_KEY": "test", "INSTANCE_DIR": str(tmp_path)})
    client = app.test_client()
    ok = client.get("/api/v1/products", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200, ok.json
    assert ok.json == []
    wrong = client.get("/api/v1/products", headers={"Authorization": f"Bearer {token}x"})
    assert wrong.status_code == 401
    app.extensions["lotwise.engine"].dispose()

    assert token not in _dump(db_file)
    for path in tmp_path.iterdir():
        if path.name.startswith(db_file.name):  # the database, its WAL and shared-memory files
            assert token.encode() not in path.read_bytes()

    unknown = lotwise("token", "create", "nobody")
    assert unknown.exit_code != 0
    assert "no user nobody" in unknown.output


def test_check_passes_on_a_sound_ledger_and_fails_on_a_tampered_balance(
        lotwise: Run, db_file: Path, tmp_path: Path) -> None:
    assert lotwise("db", "upgrade").exit_code == 0
    app = create_app({"DATABASE_URL": f"sqlite:///{db_file}", "SECRET_KEY": "test", "INSTANCE_DIR": str(tmp_path)})
    with app.extensions["lotwise.sessions"]() as s:
        masterdata.create_warehouse(s, WarehouseIn(code="MAIN", name="Main"))
        masterdata.create_location(s, LocationIn(code="DRY-01", name="Dry store", warehouse="MAIN"))
        masterdata.create_product(s, ProductIn(sku="SUGAR", name="Cane sugar", kind="material", unit="kg"))
        supplier = masterdata.create_supplier(s, SupplierIn(name="Sugar Co"))
        stock.receive(s, ReceiptIn(supplier_id=supplier.id, lines=[
            ReceiptLineIn(sku="SUGAR", quantity=Decimal(500), location="DRY-01", unit_cost=Decimal("0.9"))]),
            user=None, today=TODAY, lot_code_pattern="{date:%y%m%d}-{seq_alpha}")

    sound = lotwise("check")
    assert sound.exit_code == 0, sound.output
    assert "ledger OK" in sound.output

    engine = app.extensions["lotwise.engine"]
    with engine.begin() as conn:
        assert conn.execute(text("UPDATE balance SET on_hand = on_hand * 2")).rowcount == 1
    engine.dispose()
    broken = lotwise("check")
    assert broken.exit_code != 0
    assert "balance" in broken.output and "1 problem(s) found" in broken.output


def test_demo_creates_the_company_once_then_reuses_it(tmp_path: Path, lotwise: Run, demo_build: DemoBuild) -> None:
    # `demo_build` is this run's one `lotwise demo --no-serve --db FILE` into a new file (other tests copy it).
    assert demo_build.exit_code == 0, demo_build.output
    assert demo_build.output.strip() == f"Created demo data in {demo_build.path}"
    movements = _count(demo_build.path, "movement")
    assert movements > 1000
    assert _count(demo_build.path, "user_account") == 3

    demo_db = (tmp_path / "demo.db").resolve()
    shutil.copy(demo_build.path, demo_db)
    second = lotwise("demo", "--no-serve", "--db", str(demo_db))
    assert second.exit_code == 0, second.output
    assert second.output.strip() == f"Reusing the data already in {demo_db}"
    assert _count(demo_db, "movement") == movements
    assert _count(demo_db, "user_account") == 3


README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_describes_every_command() -> None:
    readme = README.read_text()
    for name in main.commands:
        assert f"| `lotwise {name}" in readme, name


def test_the_readme_documents_every_configuration_variable_with_its_default() -> None:
    readme = README.read_text()
    documented = dict(re.findall(r"^\| `LOTWISE_(\w+)` \| (.*?) \|", readme, re.MULTILINE))
    assert set(documented) == set(DEFAULTS)
    for key, default in DEFAULTS.items():
        shown = documented[key]
        if default in (None, ""):
            assert shown.startswith("*("), key
        else:
            assert shown == f"`{str(default).lower() if isinstance(default, bool) else default}`", key


def test_user_unlock_names_an_unknown_user(lotwise: Run) -> None:
    assert lotwise("db", "upgrade").exit_code == 0
    assert lotwise("user", "create", "maria", "--role", "viewer", input="a long enough secret\n").exit_code == 0
    done = lotwise("user", "unlock", "maria")
    assert done.exit_code == 0 and "maria may sign in again" in done.output
    unknown = lotwise("user", "unlock", "nobody")
    assert unknown.exit_code != 0 and "no user nobody" in unknown.output


def test_serve_keeps_a_handhelds_connection_open_between_requests_up_to_a_limit(tmp_path: Path) -> None:
    """`lotwise serve` answers a second request on the connection of the first (HTTP keep-alive), as a handheld
    scanning once a second needs; a server that closed it after every answer would make each scan connect anew. After
    REQUESTS_PER_CONNECTION requests it closes the connection, saying so in the answer."""
    import http.client
    import os
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "LOTWISE_DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}",
           "LOTWISE_INSTANCE_DIR": str(tmp_path), "PYTHONPATH": str(root)}
    server = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", "2"],
                              cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(900):  # up to three minutes to start on a busy machine
            try:
                conn.request("GET", "/login")
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode() if server.stderr else "serve exited"
                conn.close()
                time.sleep(0.2)
        first = conn.getresponse()
        first.read()
        sock = conn.sock
        assert first.status == 200 and sock is not None, first.getheaders()
        conn.request("GET", "/login")
        second = conn.getresponse()
        second.read()
        assert second.status == 200
        assert conn.sock is sock, "the server closed the connection after the first answer"
        # Up to the limit, every answer keeps the connection open; the last one says it closes, and does, so the
        # client (a reverse proxy's pool, a handheld) connects anew, to whichever worker is free.
        for n in range(3, REQUESTS_PER_CONNECTION + 1):
            conn.request("GET", "/login")
            answer = conn.getresponse()
            answer.read()
            assert answer.status == 200
            if n < REQUESTS_PER_CONNECTION:
                assert answer.getheader("Connection") != "close" and conn.sock is sock, n
        assert answer.getheader("Connection") == "close" and conn.sock is None
        # Each worker listens on a socket of its own, so the kernel spreads new connections over the workers.
        table = Path("/proc/net/tcp")  # Linux: local address, state (0A: listening)

        def listening() -> int:
            rows = [line.split() for line in table.read_text().splitlines()[1:]]
            return sum(1 for row in rows if row[1].endswith(f":{port:04X}") and row[3] == "0A")

        if table.exists():
            for _ in range(300):  # the second worker may still be starting
                if listening() >= 2:
                    break
                time.sleep(0.1)
            assert listening() == 2
        conn.request("GET", "/login")
        again = conn.getresponse()
        again.read()
        assert again.status == 200 and conn.sock is not None and conn.sock is not sock
        conn.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


# --- a command line that guides ------------------------------------------------------------------------------


def _bare(tmp_path: Path) -> Callable[..., Result]:
    """`lotwise ARGS` in an empty directory with no LOTWISE_* variable set, as a newcomer types it."""
    runner = CliRunner()
    env = {key: None for key in os.environ if key.startswith("LOTWISE_") and key != "LOTWISE_TEST_DATABASE_URL"}

    def run(*args: str) -> Result:
        cwd = os.getcwd()
        os.chdir(tmp_path)
        try:
            return runner.invoke(main, list(args), env=env)
        finally:
            os.chdir(cwd)

    return run


def _one_line_error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ")
    return lines[0]


def test_a_command_without_a_database_says_how_to_make_one_and_leaves_no_files(tmp_path: Path) -> None:
    run = _bare(tmp_path)
    for args in (["check"], ["token", "list"], ["user", "unlock", "maria"], ["expiring"], ["db", "current"],
                 ["allocate", "--order", "SO-000001"]):
        line = _one_line_error(run(*args))
        assert f"no database at {tmp_path / 'lotwise.db'}: run 'lotwise db upgrade'" in line, args
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no lotwise.db, no .lotwise-secret


def test_a_database_without_tables_or_behind_says_run_db_upgrade(lotwise: Run, db_file: Path) -> None:
    sqlite3.connect(db_file).close()
    line = _one_line_error(lotwise("check"))
    assert line == f"Error: the database {db_file} has no tables yet: run 'lotwise db upgrade'"
    assert lotwise("db", "upgrade").exit_code == 0
    assert lotwise("check").exit_code == 0
    con = sqlite3.connect(db_file)
    con.execute("UPDATE alembic_version SET version_num = '0001'")
    con.commit()
    con.close()
    line = _one_line_error(lotwise("token", "list"))
    assert "is at revision 0001" in line and line.endswith("run 'lotwise db upgrade'")


def test_an_unreachable_database_is_named_in_one_line_without_its_password(tmp_path: Path) -> None:
    runner = CliRunner()
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    result = runner.invoke(main, ["check"], env={
        "LOTWISE_DATABASE_URL": f"postgresql://lotwise:hunter2@127.0.0.1:{port}/lots",
        "LOTWISE_INSTANCE_DIR": str(tmp_path)})
    line = _one_line_error(result)
    assert line.startswith(f"Error: cannot reach the database postgresql://lotwise:***@127.0.0.1:{port}/lots")
    assert "hunter2" not in line and "check LOTWISE_DATABASE_URL" in line
    assert list(tmp_path.iterdir()) == []


def test_a_busy_port_says_use_port_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = _bare(tmp_path)
        for command in ("demo", "serve"):
            line = _one_line_error(run(command, "--port", str(port)))
            assert line == f"Error: port {port} is busy on 127.0.0.1: use --port (e.g. --port {port + 1})"
    assert list(tmp_path.iterdir()) == []  # the demo was not built, nothing was created


def test_version() -> None:
    from app.version import package_version

    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"lotwise {package_version()}\n"


def _commands(group: click.Group, prefix: str = "lotwise") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = [(prefix, group)]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _commands(command, f"{prefix} {name}")
        else:
            found.append((f"{prefix} {name}", command))
    return found


def test_every_command_and_option_has_help() -> None:
    missing = [f"{name} {param.opts[0]}" for name, command in _commands(main) for param in command.params
               if isinstance(param, click.Option) and not param.help]
    assert missing == []
    assert [name for name, command in _commands(main) if not command.help] == []
    expiring = CliRunner().invoke(main, ["expiring", "--help"], terminal_width=200).output
    assert "LOTWISE_DIGEST_TO" in expiring and "LOTWISE_SMTP_HOST" in expiring


def test_token_list_shows_the_ids_that_token_revoke_takes(lotwise: Run) -> None:
    assert lotwise("db", "upgrade").exit_code == 0
    assert lotwise("token", "list").output.strip() == "no API tokens"
    assert lotwise("user", "create", "sync", "--role", "operator", input="a long enough secret\n").exit_code == 0
    first = lotwise("token", "create", "sync", "--name", "stock sync").output.strip()
    lotwise("token", "create", "sync", "--name", "label bridge")
    listed = lotwise("token", "list").output.strip().splitlines()
    assert listed[0].split("\t") == ["id", "user", "name", "starts with", "created", "last used"]
    rows = [line.split("\t") for line in listed[1:]]
    assert [(r[1], r[2], r[5]) for r in rows] == [("sync", "stock sync", "never"), ("sync", "label bridge", "never")]
    assert rows[0][3] == first[:10] + "…"
    assert lotwise("token", "revoke", rows[0][0]).exit_code == 0
    assert [r.split("\t")[2] for r in lotwise("token", "list").output.strip().splitlines()[1:]] == ["label bridge"]
    everything = lotwise("token", "list", "--all").output.strip().splitlines()
    assert len(everything) == 3 and everything[1].split("\t")[6] != "-"
    assert lotwise("token", "list", "--user", "nobody").output.strip() == "no API tokens for nobody"


def test_gunicorn_runs_without_its_shared_control_socket() -> None:
    from gunicorn.config import Config

    settings = gunicorn_settings("127.0.0.1", 8000, 2)
    assert settings["control_socket_disable"] is True
    cfg = Config()
    for key, value in settings.items():
        cfg.set(key, value)  # every setting exists in the installed gunicorn
    assert cfg.control_socket_disable is True


def test_gunicorn_freezes_what_the_master_made_before_each_fork() -> None:
    import gc

    hook = gunicorn_settings("127.0.0.1", 8000, 2)["pre_fork"]
    assert gc.get_freeze_count() == 0
    try:
        hook(None, None)
        # The modules and classes loaded so far are out of the collector's walks in the worker about to be forked.
        assert gc.get_freeze_count() > 10_000
        assert not any(obj is gunicorn_settings for obj in gc.get_objects())
    finally:
        gc.unfreeze()


def test_each_gunicorn_worker_opens_its_connections_then_freezes_the_app_it_built(app: Flask) -> None:
    import gc
    from types import SimpleNamespace

    from sqlalchemy.pool import QueuePool

    hook = gunicorn_settings("127.0.0.1", 8000, 2)["post_worker_init"]
    pool = app.extensions["lotwise.engine"].pool
    assert isinstance(pool, QueuePool) and pool.checkedin() == 0
    assert gc.get_freeze_count() == 0
    try:
        hook(SimpleNamespace(wsgi=app, cfg=SimpleNamespace(threads=3)))
        # One open connection per thread waits in the pool for the worker's first requests.
        assert pool.checkedin() == 3 and pool.checkedout() == 0
        # The app the worker loaded before this hook runs is no longer walked by the worker's full collections.
        assert gc.get_freeze_count() > 10_000
        assert not any(obj is app for obj in gc.get_objects())
    finally:
        gc.unfreeze()


def test_a_gunicorn_worker_starts_while_the_database_is_down(caplog: pytest.LogCaptureFixture) -> None:
    import gc
    import logging
    from types import SimpleNamespace

    from app.db import make_engine

    engine = make_engine("postgresql://postgres@127.0.0.1:1/lotwise")  # nothing listens on port 1
    hook = gunicorn_settings("127.0.0.1", 8000, 2)["post_worker_init"]
    log = logging.getLogger("lotwise.test.worker")
    worker = SimpleNamespace(wsgi=SimpleNamespace(extensions={"lotwise.engine": engine}),
                             cfg=SimpleNamespace(threads=2), log=log)
    try:
        with caplog.at_level(logging.WARNING, logger=log.name):
            hook(worker)  # a worker that raised here would stop the whole server
    finally:
        gc.unfreeze()
        engine.dispose()
    assert "could not open database connections ahead of the first request" in caplog.text


def test_a_gunicorn_worker_whose_app_failed_to_load_still_starts_to_say_why() -> None:
    import gc
    from types import SimpleNamespace

    hook = gunicorn_settings("127.0.0.1", 8000, 2)["post_worker_init"]
    try:
        hook(SimpleNamespace(wsgi=lambda environ, start_response: [], cfg=SimpleNamespace(threads=4)))
    finally:
        gc.unfreeze()


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="needs LOTWISE_TEST_DATABASE_URL")
def test_the_demo_goes_into_the_database_lotwise_database_url_names(pg_demo_build: PgDemoBuild) -> None:
    # `pg_demo_build` is `lotwise demo --no-serve` with LOTWISE_DATABASE_URL naming a PostgreSQL database.
    assert pg_demo_build.exit_code == 0, pg_demo_build.output
    shown = pg_demo_build.url.split("@", 1)[1]
    assert pg_demo_build.output.strip().startswith("Created demo data in postgresql://")
    assert pg_demo_build.output.strip().endswith(shown)
    assert pg_demo_build.files == []  # no lotwise-demo.db, no .lotwise-secret in the directory it ran in

"""The `lotwise` command: database, users, tokens, ledger check, server and demo.

Every refusal is one line that says what to do (`run 'lotwise db upgrade'`, `use --port`), never a
traceback; and a command run against a database that is not there creates nothing: no database file
and no secret key file where the user did not ask for them.
"""

from __future__ import annotations

import errno
import gc
import os
import secrets
import socket
import sys
from pathlib import Path
from typing import Any, NoReturn

import click
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from app import config as config_module
from app import create_app
from app.db import open_connections
from app.errors import LotwiseError
from app.models import Role
from app.schemas import SheetName
from app.version import package_version

UPGRADE_HINT = "run 'lotwise db upgrade'"


def _where(url: str) -> str:
    """The database as the user may be shown it: a SQLite file's path, or the URL without its password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return str(Path(parsed.database or "").resolve()) if parsed.database else "an in-memory SQLite database"
    return parsed.render_as_string(hide_password=True)


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _one_line(exc: BaseException) -> str:
    """The first line of what the database driver said (its later lines repeat the SQL)."""
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


def _load_config() -> dict[str, Any]:
    try:
        return config_module.load()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def _app(ctx: click.Context, *, create: bool = False, schema: bool = True) -> Any:
    """The app over the configured database, checked before any command touches it.

    Without `create`, a missing SQLite file is refused instead of created; with `schema`, a database
    whose migrations are behind (or missing) is refused with the command that fixes it. Commands that
    do not serve pages sign nothing, so unless a key is configured they get a throw-away one and never
    write `.lotwise-secret`.
    """
    if ctx.obj is not None:
        return ctx.obj
    cfg = _load_config()
    url = str(cfg["DATABASE_URL"])
    path = _sqlite_file(url)
    if path is not None and not create and not path.exists():
        raise click.ClickException(f"no database at {path.resolve()}: {UPGRADE_HINT} to create it, "
                                   "or set LOTWISE_DATABASE_URL to the database to use")
    overrides = {} if cfg["SECRET_KEY"] else {"SECRET_KEY": secrets.token_urlsafe(32)}
    try:
        app = create_app(overrides)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if schema:
        engine = app.extensions["lotwise.engine"]
        current, newest = _database_heads(engine), _newest_heads()
        if current == "none":
            raise click.ClickException(f"the database {_where(url)} has no tables yet: {UPGRADE_HINT}")
        if current != newest:
            raise click.ClickException(f"the database {_where(url)} is at revision {current}, this Lotwise "
                                       f"needs {newest}: {UPGRADE_HINT}")
    ctx.obj = app
    return app


def _session(app: Any) -> Any:
    return app.extensions["lotwise.sessions"]()


def _fail(exc: Exception) -> NoReturn:
    if isinstance(exc, ValidationError):
        err = exc.errors(include_url=False)[0]
        raise click.ClickException(f"{'.'.join(map(str, err['loc']))}: {err['msg']}")
    raise click.ClickException(str(getattr(exc, "message", exc)))


class _Commands(click.Group):
    """Turns a database that cannot be reached or read into one line naming it, instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DBAPIError as exc:
            url = str(_load_config()["DATABASE_URL"])
            if exc.connection_invalidated or "connect" in _one_line(exc).lower():
                raise click.ClickException(f"cannot reach the database {_where(url)}: {_one_line(exc)} "
                                           "(check LOTWISE_DATABASE_URL)") from None
            raise click.ClickException(f"the database {_where(url)} refused: {_one_line(exc)} "
                                       f"(if its schema is behind, {UPGRADE_HINT})") from None
        except SQLAlchemyError as exc:
            raise click.ClickException(f"database error: {_one_line(exc)}") from None


@click.group(cls=_Commands)
@click.version_option(package_version(), "--version", "-V", prog_name="lotwise",
                      message="%(prog)s %(version)s")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Lotwise: lot tracking from receiving to recall.

    The database and everything else come from LOTWISE_* environment variables (LOTWISE_DATABASE_URL,
    default: lotwise.db here); the README lists them.
    """


@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


def _database_heads(engine: Any) -> str:
    """The revision(s) the database is at (one per branch of migrations), or "none"."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    return ", ".join(sorted(heads)) or "none"


def _newest_heads() -> str:
    from alembic.script import ScriptDirectory

    from app.migrate import alembic_config

    return ", ".join(sorted(ScriptDirectory.from_config(alembic_config()).get_heads()))


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply every pending migration."""
    from app.migrate import upgrade

    app = _app(ctx, create=True, schema=False)
    engine = app.extensions["lotwise.engine"]
    upgrade(engine)
    click.echo(f"database at revision {_database_heads(engine)}")


@db.command("current")
@click.pass_context
def db_current(ctx: click.Context) -> None:
    """Show the database's revision and the newest one."""
    engine = _app(ctx, schema=False).extensions["lotwise.engine"]
    click.echo(f"current {_database_heads(engine)}, newest {_newest_heads()}")


@main.group()
def user() -> None:
    """Users and their roles."""


def _read_password(confirm: bool = True) -> str:
    if not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\n")
        if not line:
            raise click.ClickException("no password on standard input")
        return line
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=confirm))


@user.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True,
              help="what the user may do: viewer looks, operator books, manager also decides, admin everything")
@click.pass_context
def user_create(ctx: click.Context, name: str, role: str) -> None:
    """Create a user; the password is prompted for, or read from standard input."""
    from app.schemas import UserIn
    from app.services.users import create_user

    password = _read_password()
    app = _app(ctx)
    with _session(app) as s:
        try:
            created = create_user(s, UserIn(username=name, role=Role(role), password=password))
        except (LotwiseError, ValidationError) as exc:
            _fail(exc)
        click.echo(f"created user {created.username} ({created.role.value})")


@user.command("password")
@click.argument("name")
@click.pass_context
def user_password(ctx: click.Context, name: str) -> None:
    """Set a user's password (prompted, or read from standard input)."""
    from app.services.users import set_password

    password = _read_password()
    with _session(_app(ctx)) as s:
        try:
            set_password(s, name, password)
        except (LotwiseError, ValidationError) as exc:
            _fail(exc)
        click.echo(f"password changed for {name}")


@user.command("unlock")
@click.argument("name")
@click.pass_context
def user_unlock(ctx: click.Context, name: str) -> None:
    """Lift the lockout of a user locked out after too many failed sign-ins."""
    from app.services.users import unlock

    with _session(_app(ctx)) as s:
        try:
            unlock(s, name)
        except LotwiseError as exc:
            _fail(exc)
        click.echo(f"{name} may sign in again")


@main.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.argument("username")
@click.option("--name", default="api", help="what the token is for")
@click.pass_context
def token_create(ctx: click.Context, username: str, name: str) -> None:
    """Create an API token for USERNAME and print it (it is shown only this once)."""
    from app.services.users import create_token

    with _session(_app(ctx)) as s:
        try:
            _row, text = create_token(s, username, name)
        except LotwiseError as exc:
            _fail(exc)
        click.echo(text)


@token.command("list")
@click.option("--user", "username", help="only this user's tokens")
@click.option("--all", "show_all", is_flag=True, help="also the revoked ones")
@click.pass_context
def token_list(ctx: click.Context, username: str | None, show_all: bool) -> None:
    """List API tokens: id (for `token revoke`), user, name, how it starts, created, last used."""
    from app import clock
    from app.queries.tokens import api_tokens

    app = _app(ctx)
    zone = app.config["TIMEZONE"]
    with _session(app) as s:
        rows = api_tokens(s, username=username, revoked=show_all)
    if not rows:
        click.echo("no API tokens" + (f" for {username}" if username else ""))
        return
    click.echo("id\tuser\tname\tstarts with\tcreated\tlast used" + ("\trevoked" if show_all else ""))
    for r in rows:
        cells = [str(r.id), r.username, r.name, r.prefix + "…", clock.local_text(r.created_at, zone),
                 clock.local_text(r.last_used_at, zone) or "never"]
        if show_all:
            cells.append(clock.local_text(r.revoked_at, zone) or "-")
        click.echo("\t".join(cells))


@token.command("revoke")
@click.argument("token_id", type=int)
@click.pass_context
def token_revoke(ctx: click.Context, token_id: int) -> None:
    """Revoke the API token TOKEN_ID (the id `lotwise token list` shows)."""
    from app.services.users import revoke_token

    with _session(_app(ctx)) as s:
        try:
            revoke_token(s, token_id)
        except LotwiseError as exc:
            _fail(exc)
        click.echo(f"token {token_id} revoked")


@main.group()
def gs1() -> None:
    """The site's GS1 company prefix and the GTINs made from it."""


@gs1.command("prefix")
@click.argument("prefix", required=False)
@click.option("--clear", is_flag=True, help="stop making GTINs (those already given stay)")
@click.pass_context
def gs1_prefix(ctx: click.Context, prefix: str | None, clear: bool) -> None:
    """Show the GS1 company prefix, or set it to PREFIX (4-12 digits GS1 gave the site)."""
    from app.schemas import CompanyPrefixIn
    from app.services.gtins import company_prefix, set_company_prefix

    with _session(_app(ctx)) as s:
        if prefix is not None or clear:
            try:
                set_company_prefix(s, CompanyPrefixIn(company_prefix=None if clear else prefix))
            except (LotwiseError, ValidationError) as exc:
                _fail(exc)
        out = company_prefix(s)
    if out.company_prefix is None:
        click.echo("no GS1 company prefix: products without a GTIN get plain (non-GS1) labels")
    else:
        click.echo(f"GS1 company prefix {out.company_prefix}: {out.remaining} of {out.capacity} item references "
                   f"left; {out.products_without_gtin} product(s) without a GTIN")


@gs1.command("assign-gtins")
@click.argument("skus", nargs=-1)
@click.pass_context
def gs1_assign(ctx: click.Context, skus: tuple[str, ...]) -> None:
    """Give the products SKUS (default: every active product of kind product without one) a GTIN."""
    from app.services.gtins import assign_gtins

    with _session(_app(ctx)) as s:
        try:
            products = assign_gtins(s, list(skus) or None)
        except LotwiseError as exc:
            _fail(exc)
        for p in products:
            click.echo(f"{p.sku}\t{p.gtin}")
        click.echo(f"{len(products)} product(s) got a GTIN", err=True)


@main.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Prove that every balance equals the sum of its movements, lot links match consumption, and open
    allocations never exceed what is on hand."""
    from app.queries.check import check_ledger

    with _session(_app(ctx)) as s:
        problems = check_ledger(s)
    if problems:
        for p in problems:
            click.echo(f"{p.kind}: {p.message}", err=True)
        raise click.ClickException(f"{len(problems)} problem(s) found")
    click.echo("ledger OK: balances equal movements; lot links equal consumption; "
               "open allocations within on hand")


@main.command()
@click.option("--format", "fmt", type=click.Choice(["text", "csv"]), default="text", show_default=True,
              help="plain text to read, or CSV for a spreadsheet")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="write the digest to this file instead of standard output")
@click.option("--today", "on", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="the day to report on (default: today in the site's time zone)")
@click.option("--warehouse", help="only this warehouse's stock")
@click.option("--no-mail", is_flag=True, help="do not e-mail it, even when SMTP is configured")
@click.pass_context
def expiring(ctx: click.Context, fmt: str, output: str | None, on: Any, warehouse: str | None,
             no_mail: bool) -> None:
    """Daily digest of expired and expiring stock; e-mailed to LOTWISE_DIGEST_TO when LOTWISE_SMTP_HOST is set.

    A failed e-mail is reported on standard error; the digest is still written and the command succeeds.
    """
    from pathlib import Path

    from app import clock
    from app.digest import MailSettings, build_digest, send_digest

    app = _app(ctx)
    day = on.date() if on else clock.today(app.config["TIMEZONE"])
    with _session(app) as s:
        digest = build_digest(s, today=day, default_alert_days=int(app.config["EXPIRY_ALERT_DAYS"]),
                              site_name=app.config["SITE_NAME"], currency=app.config["CURRENCY"],
                              warehouse=warehouse)
    body = digest.csv if fmt == "csv" else digest.text
    if output:
        Path(output).write_text(body, encoding="utf-8")
    else:
        click.echo(body, nl=False)
    settings = None if no_mail else MailSettings.from_config(app.config)
    if settings is None:
        return
    try:
        send_digest(settings, digest)
    except OSError as exc:  # refused, timed out or an SMTP error (smtplib's errors are OSErrors)
        click.echo(f"expiry digest not e-mailed via {settings.host}:{settings.port}: {exc}", err=True)
    else:
        click.echo(f"expiry digest e-mailed to {', '.join(settings.recipients)}", err=True)


@main.command()
@click.option("--order", "order_ref", help="allocate this order (its id or number, e.g. SO-000042)")
@click.option("--wave", "wave", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="allocate every open order shipping on or before this date")
@click.option("--sku", help="with --wave: only lines of this product")
@click.pass_context
def allocate(ctx: click.Context, order_ref: str | None, wave: Any, sku: str | None) -> None:
    """Allocate stock to an order or a wave of orders, first expiry first out; print what is short and why."""
    from sqlalchemy import select

    from app import clock
    from app.models import Order
    from app.services.allocations import allocate_order, allocate_wave

    if (order_ref is None) == (wave is None):
        raise click.UsageError("give either --order N or --wave YYYY-MM-DD")
    if sku and wave is None:
        raise click.UsageError("--sku goes with --wave")
    app = _app(ctx)
    day = clock.today(app.config["TIMEZONE"])
    with _session(app) as s:
        try:
            if order_ref is not None:
                order_id = s.scalar(select(Order.id).where(Order.number == order_ref))
                if order_id is None and order_ref.isdigit():
                    order_id = int(order_ref)
                if order_id is None:
                    raise click.ClickException(f"no order {order_ref!r}")
                run = allocate_order(s, order_id, today=day)
            else:
                run = allocate_wave(s, wave.date(), sku, today=day)
        except LotwiseError as exc:
            _fail(exc)
            return
    from app.formatting import qty as format_qty

    for a in run.allocations:
        click.echo(f"{a.order_number}/{a.line_no} {a.sku}: {format_qty(a.quantity)} of lot {a.lot_code} "
                   f"at {a.location}")
    for short in run.shortages:
        click.echo(f"{short.order_number}/{short.line_no} {short.sku}: {format_qty(short.missing)} short", err=True)
        for reason in short.reasons:
            click.echo(f"  {reason}", err=True)
    click.echo(f"allocated {format_qty(run.allocated)} over {run.lines} line(s) of {run.orders} order(s); "
               f"{len(run.shortages)} line(s) short")


def _progress_bar() -> tuple[Any, Any]:
    """A progress callback for the services drawing one bar on standard error, and a function that ends it."""
    state: dict[str, Any] = {"bar": None, "done": 0}

    def progress(done: int, total: int) -> None:
        if state["bar"] is None:
            bar: Any = click.progressbar(length=total, label="reading rows", file=sys.stderr,
                                         show_pos=True, show_percent=True)
            state["bar"] = bar.__enter__()
        bar = state["bar"]
        bar.length = max(bar.length or 0, total)
        bar.update(done - state["done"])
        state["done"] = done

    def end() -> None:
        if state["bar"] is not None:
            state["bar"].__exit__(None, None, None)

    return progress, end


@main.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="check the file and say what would happen; write nothing")
@click.option("--update", is_flag=True, help="update existing records that differ from the file")
@click.option("--skip-bad", is_flag=True, help="import the good rows even if some rows are bad")
@click.option("--sheet", type=click.Choice([s.value for s in SheetName]),
              help="the sheet a CSV file holds (default: the file's name, e.g. stock.csv)")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="with FILE 'template': where to write the empty workbook")
@click.pass_context
def import_(ctx: click.Context, file: str, dry_run: bool, update: bool, skip_bad: bool, sheet: str | None,
            output: str | None) -> None:
    """Import products, suppliers, customers, locations, opening stock and orders from a workbook (.xlsx)
    or one sheet as CSV; `lotwise import template -o FILE.xlsx` writes the empty, documented workbook.

    A file with any bad row imports nothing unless --skip-bad is given; the exit status is 1 then.
    """
    from pathlib import Path

    from app import clock
    from app.services.imports import Options, import_workbook

    if file == "template":
        from app.exports.workbook import template

        if not output:
            raise click.UsageError("give the file to write: lotwise import template -o onboarding.xlsx")
        Path(output).write_bytes(template())
        click.echo(f"wrote the empty workbook to {output} (its notes sheet describes every column)")
        return
    path = Path(file)
    if not path.is_file():
        raise click.ClickException(f"no file {file}")
    app = _app(ctx)
    limit = int(app.config["MAX_UPLOAD_MB"]) * 1024 * 1024
    if path.stat().st_size > limit:
        raise click.ClickException(f"{file} is {path.stat().st_size / 1024 / 1024:.1f} MB; the limit is "
                                   f"{app.config['MAX_UPLOAD_MB']} MB (LOTWISE_MAX_UPLOAD_MB)")
    progress, end = _progress_bar()
    with _session(app) as s:
        try:
            out = import_workbook(s, path.read_bytes(), filename=path.name, sheet=SheetName(sheet) if sheet else None,
                                  options=Options(dry_run=dry_run, update=update, skip_bad=skip_bad), user=None,
                                  today=clock.today(app.config["TIMEZONE"]), max_bytes=limit, progress=progress)
        except LotwiseError as exc:
            end()
            _fail(exc)
            return
    end()
    for note in out.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"{'sheet':<10} {'rows':>7} {'create':>7} {'update':>7} {'skip':>7} {'bad':>7}")
    for c in out.sheets:
        click.echo(f"{c.sheet.value:<10} {c.rows:>7} {c.created:>7} {c.updated:>7} {c.skipped:>7} {c.bad:>7}")
    for e in out.errors:
        click.echo(f"{e.sheet} row {e.row}" + (f", {e.column}" if e.column else "") + f": {e.message}", err=True)
    if out.error_count > len(out.errors):
        click.echo(f"… and {out.error_count - len(out.errors)} more bad row(s)", err=True)
    click.echo(out.message)
    if out.error_count and not (out.imported and skip_bad):
        ctx.exit(1)


@main.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@click.pass_context
def export_(ctx: click.Context, file: str) -> None:
    """Write what Lotwise holds as the onboarding workbook (.xlsx): it imports back unchanged."""
    from pathlib import Path

    from app.exports.workbook import export
    from app.queries.workbook import workbook_rows

    with _session(_app(ctx)) as s:
        Path(file).write_bytes(export(workbook_rows(s)))
    click.echo(f"wrote {file}")


def default_workers() -> int:
    """One worker process per CPU core: each worker's threads keep its core busy while one of them waits on the
    database. More processes than cores only take turns on them: at 200 handhelds on 2 cores, 5 workers of 2
    threads spent more CPU per answer than 2 workers of 4 threads, and answered later (docs/benchmarks.md)."""
    import os

    return os.cpu_count() or 1


# Threads per worker: while one waits on the database (a scan's round trip), the others use the core.
DEFAULT_THREADS = 4


def _check_port(host: str, port: int) -> None:
    """Refuse a busy port at once, before anything is printed or started (gunicorn would retry, then die)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise click.ClickException(f"port {port} is busy on {host}: use --port (e.g. --port {port + 1})"
                                           ) from None
            if exc.errno == errno.EACCES:
                raise click.ClickException(f"port {port} needs more rights than this user has: use --port "
                                           "above 1023") from None
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}: use --host or --port"
                                       ) from None


def gunicorn_settings(host: str, port: int, workers: int, *, threads: int = DEFAULT_THREADS,
                      access_log: bool = False) -> dict[str, Any]:
    """How `serve` and `demo` run gunicorn."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        # Handhelds scan about once a second: a connection kept a few seconds is reused, not reopened.
        "keepalive": 5,
        "timeout": 60,
        **({"accesslog": "-"} if access_log else {}),
        # gunicorn's control socket is one path per user, shared by every server that user runs (a
        # second server takes it over); Lotwise is run by a supervisor, not managed through it.
        "control_socket_disable": True,
        "pre_fork": freeze_before_fork,
        "post_worker_init": ready_worker,
        "pre_request": close_after_request_limit,
        # Each worker listens on a socket of its own, and the kernel hands each new connection to one of them (by a
        # hash of its addresses). On one shared socket every worker is woken and the first to ask takes it, which
        # under load was often the busiest one: a worker went on carrying two-thirds of the requests for seconds.
        "reuse_port": True,
    }


# Requests answered on one kept-alive connection before the server closes it (Apache's MaxKeepAliveRequests is
# also 100; nginx's keepalive_requests is 1000).
REQUESTS_PER_CONNECTION = 100


def close_after_request_limit(_worker: Any, request: Any) -> None:
    """Announce `Connection: close` on a connection's REQUESTS_PER_CONNECTION-th request, so its client connects anew.

    A connection stays with the worker that accepted it. A reverse proxy keeps a few connections open and reuses
    the one it used last, so a handful of connections, which can all sit on one worker, carry nearly every request,
    and one worker (one interpreter) uses at most one core: under load one worker queued requests while the other
    idled (it answered 63 % of the scans in one measured run). A new connection goes to any worker (`reuse_port`),
    so the load spreads again within a second at a few hundred requests a second. A handheld that scans once a
    second reconnects every hundred seconds or so.
    """
    if request.req_number >= REQUESTS_PER_CONNECTION:
        request.force_close()


def freeze_before_fork(_arbiter: Any, _worker: Any) -> None:
    """Before a worker is forked, set every object the server has made so far (modules, classes, the app it
    checked) outside the garbage collector's reach, as Python's gc.freeze documents for forking servers.

    They live as long as the process, yet each full collection in a worker walked all of them again (a
    quarter of a million objects, about 0.1 s a time, every few thousand requests), and the walk touched pages
    the worker would otherwise keep sharing with the master.
    """
    gc.collect()
    gc.freeze()


def ready_worker(worker: Any) -> None:
    """Once a worker has built its own app: open its database connections, one per thread (`open_connections`), and
    then set everything made so far (engine, connections, statements built once, schemas, templates) outside the
    garbage collector's reach.

    A worker that met its first busy second with empty pools opened them then, and its requests queued behind the
    new database backends (at 1,000 scans a second a fresh server's first seconds had a p99 of 80–160 ms, where
    the same load a minute later mostly stayed within 20). A full collection walked all that the app made again
    inside whichever request set it off (about 90 ms, once per thousand or so receipts), enough on its own to push
    that answer past 50 ms.
    """
    extensions = getattr(worker.wsgi, "extensions", None)  # None when the app failed to load: gunicorn says why
    if extensions is not None:
        try:
            open_connections(extensions["lotwise.engine"], worker.cfg.threads)
        except SQLAlchemyError as exc:
            # The database is down: the worker starts anyway (a worker that failed to start would stop the whole
            # server) and its requests open connections once the database is back.
            worker.log.warning("could not open database connections ahead of the first request: %s", exc)
    gc.collect()
    gc.freeze()


def run_server(host: str, port: int, workers: int, overrides: dict[str, Any] | None = None, *,
               threads: int = DEFAULT_THREADS, access_log: bool = False) -> None:
    """Serve with gunicorn; each worker builds its own app (and database connections).

    Threaded workers (gthread) keep a handheld's connection open between its scans (HTTP keep-alive) and
    answer a second request while the first waits on the database; several processes use every core.
    """
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in gunicorn_settings(host, port, workers, threads=threads, access_log=access_log).items():
                if key in self.cfg.settings:  # the control socket came with gunicorn 25.1
                    self.cfg.set(key, value)

        def load(self) -> Any:
            return create_app(overrides)

    Server().run()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="address to listen on (0.0.0.0 for every network interface)")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="port to listen on")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="worker processes  [default: 1 per CPU core]")
@click.option("--threads", type=click.IntRange(min=1), default=DEFAULT_THREADS, show_default=True,
              help="threads per worker process")
@click.option("--access-log/--no-access-log", default=False, show_default=True,
              help="log every request on standard output (the reverse proxy in front usually does)")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int | None, threads: int, access_log: bool) -> None:
    """Apply migrations and serve the configured database with gunicorn."""
    from app.migrate import upgrade

    _check_port(host, port)
    cfg = _load_config()
    app = _app(ctx, create=True, schema=False)
    upgrade(app.extensions["lotwise.engine"])
    app.extensions["lotwise.engine"].dispose()
    # The workers build their own app with the configured key (or the one kept in LOTWISE_INSTANCE_DIR).
    click.echo(f"Lotwise on http://{host}:{port} ({_where(str(cfg['DATABASE_URL']))})")
    run_server(host, port, workers or default_workers(), threads=threads, access_log=access_log)


@main.command()
@click.option("--once", is_flag=True, help="send what is due now, then stop")
@click.option("--poll", default=2.0, show_default=True, help="seconds between looks for new work when idle")
@click.pass_context
def worker(ctx: click.Context, once: bool, poll: float) -> None:
    """Send queued recall notices by e-mail (SMTP from LOTWISE_SMTP_*); run it next to `lotwise serve`."""
    import logging
    import signal
    import threading

    from app import worker as work

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = _app(ctx)
    settings = work.Settings.from_config(app.config)
    factory = app.extensions["lotwise.sessions"]
    if once:
        total = 0
        while handled := work.run_once(factory, settings):
            total += handled
        click.echo(f"handled {total} notice(s)")
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    click.echo("Lotwise worker: sending queued recall notices" + ("" if settings.server else
               " (e-mail is off: set LOTWISE_SMTP_HOST)"))
    work.run(factory, settings, stop, poll)


def _start_worker(overrides: dict[str, Any]) -> Any:
    """The demo's worker, in its own process beside the web server, stopped when the demo stops."""
    import atexit
    import os
    import subprocess

    env = {**os.environ, **{f"LOTWISE_{k}": str(v) for k, v in overrides.items()}}
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], env=env)
    atexit.register(proc.terminate)
    return proc


@main.command()
@click.option("--db", "db_file", type=click.Path(dir_okay=False),
              help="SQLite file to use  [default: LOTWISE_DATABASE_URL when set, else lotwise-demo.db here]")
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="port to listen on")
@click.option("--no-serve", is_flag=True, help="only create the demo data")
def demo(db_file: str | None, host: str, port: int, no_serve: bool) -> None:
    """Create (or reuse) the demo jam company and serve it.

    The data goes into --db FILE; without it into the database LOTWISE_DATABASE_URL names (PostgreSQL
    too), and without that into lotwise-demo.db in the current directory.
    """
    from app.demo import DEMO_PASSWORD, DEMO_USER, build_demo

    if not no_serve:
        _check_port(host, port)
    cfg = _load_config()
    overrides: dict[str, Any]
    if db_file is None and config_module.configured("DATABASE_URL"):
        url = str(cfg["DATABASE_URL"])
        overrides = {"DATABASE_URL": url}
        if not cfg["SECRET_KEY"]:
            # No file is written beside a server database; logins last as long as this demo server.
            overrides["SECRET_KEY"] = secrets.token_urlsafe(32)
    else:
        path = Path(db_file or "lotwise-demo.db").resolve()
        url = f"sqlite:///{path}"
        overrides = {"DATABASE_URL": url, "INSTANCE_DIR": str(path.parent)}
    try:
        app = create_app(overrides)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    created = build_demo(app)
    app.extensions["lotwise.engine"].dispose()
    where = _where(url)
    click.echo(f"Created demo data in {where}" if created else f"Reusing the data already in {where}")
    if no_serve:
        return
    click.echo(f"Open http://{host}:{port} and log in as {DEMO_USER} / {DEMO_PASSWORD}")
    overrides["BASE_URL"] = os.environ.get("LOTWISE_BASE_URL") or f"http://{host}:{port}"
    _start_worker(overrides)
    run_server(host, port, 2, overrides)


if __name__ == "__main__":
    main()

"""The `lotwise` command: database, users, tokens, ledger check, server and demo."""

from __future__ import annotations

import sys
from typing import Any

import click
from pydantic import ValidationError

from app import create_app
from app.errors import LotwiseError
from app.models import Role


def _app(ctx: click.Context) -> Any:
    if ctx.obj is None:
        ctx.obj = create_app()
    return ctx.obj


def _session(app: Any) -> Any:
    return app.extensions["lotwise.sessions"]()


def _fail(exc: Exception) -> None:
    if isinstance(exc, ValidationError):
        err = exc.errors(include_url=False)[0]
        raise click.ClickException(f"{'.'.join(map(str, err['loc']))}: {err['msg']}")
    raise click.ClickException(str(getattr(exc, "message", exc)))


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Lotwise: lot tracking from receiving to recall."""


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

    app = _app(ctx)
    engine = app.extensions["lotwise.engine"]
    upgrade(engine)
    click.echo(f"database at revision {_database_heads(engine)}")


@db.command("current")
@click.pass_context
def db_current(ctx: click.Context) -> None:
    """Show the database's revision and the newest one."""
    engine = _app(ctx).extensions["lotwise.engine"]
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
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
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


@token.command("revoke")
@click.argument("token_id", type=int)
@click.pass_context
def token_revoke(ctx: click.Context, token_id: int) -> None:
    """Revoke an API token by its id."""
    from app.services.users import revoke_token

    with _session(_app(ctx)) as s:
        try:
            revoke_token(s, token_id)
        except LotwiseError as exc:
            _fail(exc)
        click.echo(f"token {token_id} revoked")


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
@click.option("--format", "fmt", type=click.Choice(["text", "csv"]), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="write the digest to this file instead of standard output")
@click.option("--today", "on", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="the day to report on (default: today in the site's time zone)")
@click.option("--warehouse", help="only this warehouse's stock")
@click.option("--no-mail", is_flag=True, help="do not e-mail it, even when SMTP is configured")
@click.pass_context
def expiring(ctx: click.Context, fmt: str, output: str | None, on: Any, warehouse: str | None,
             no_mail: bool) -> None:
    """Daily digest of expired and expiring stock; e-mailed to DIGEST_TO when SMTP_HOST is set.

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


def default_workers() -> int:
    """Two worker processes per CPU core, plus one: enough to keep every core busy while others wait on the database."""
    import os

    return 2 * (os.cpu_count() or 1) + 1


def run_server(host: str, port: int, workers: int, overrides: dict[str, Any] | None = None, *, threads: int = 2,
               access_log: bool = False) -> None:
    """Serve with gunicorn; each worker builds its own app (and database connections).

    Threaded workers (gthread) keep a handheld's connection open between its scans (HTTP keep-alive) and
    answer a second request while the first waits on the database; several processes use every core.
    """
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", threads)
            # Handhelds scan about once a second: a connection kept a few seconds is reused, not reopened.
            self.cfg.set("keepalive", 5)
            self.cfg.set("timeout", 60)
            if access_log:
                self.cfg.set("accesslog", "-")

        def load(self) -> Any:
            return create_app(overrides)

    Server().run()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="worker processes  [default: 2 per CPU core + 1]")
@click.option("--threads", type=click.IntRange(min=1), default=2, show_default=True,
              help="threads per worker process")
@click.option("--access-log/--no-access-log", default=False, show_default=True,
              help="log every request on standard output (the reverse proxy in front usually does)")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int | None, threads: int, access_log: bool) -> None:
    """Apply migrations and serve the configured database with gunicorn."""
    from app.migrate import upgrade

    app = _app(ctx)
    upgrade(app.extensions["lotwise.engine"])
    app.extensions["lotwise.engine"].dispose()
    click.echo(f"Lotwise on http://{host}:{port}")
    run_server(host, port, workers or default_workers(), threads=threads, access_log=access_log)


@main.command()
@click.option("--db", "db_file", default="lotwise-demo.db", show_default=True, help="SQLite file to use")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--no-serve", is_flag=True, help="only create the demo data")
def demo(db_file: str, host: str, port: int, no_serve: bool) -> None:
    """Create (or reuse) a demo jam company in a SQLite file here and serve it."""
    from pathlib import Path

    from app.demo import DEMO_PASSWORD, DEMO_USER, build_demo

    path = Path(db_file).resolve()
    overrides = {"DATABASE_URL": f"sqlite:///{path}", "INSTANCE_DIR": str(path.parent)}
    app = create_app(overrides)
    created = build_demo(app)
    app.extensions["lotwise.engine"].dispose()
    click.echo(("Created" if created else "Reusing") + f" demo data in {path}")
    if no_serve:
        return
    click.echo(f"Open http://{host}:{port} and log in as {DEMO_USER} / {DEMO_PASSWORD}")
    run_server(host, port, 2, overrides)


if __name__ == "__main__":
    main()

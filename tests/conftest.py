"""Fixtures: a migrated database (SQLite file, or PostgreSQL when LOTWISE_TEST_DATABASE_URL is set), the app,
its session and clients, a small site, and the demo company (built once per run, copied per test).

Helpers that are functions rather than fixtures live in `tests/helpers/`; the names below that come from there
(`Api`, `make_user`, `make_token`, `TODAY`, `D`) stay importable from here.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.db import make_engine, make_session_factory
from app.migrate import upgrade
from app.models import Role
from app.services.users import TokenCache
from app.sessions import DatabaseSessionInterface
from tests.helpers.api import TODAY, Api, D, make_app, make_token, make_user
from tests.helpers.clock import SuiteClock
from tests.helpers.databases import (
    PG_URL,
    DemoBuild,
    PgDemoBuild,
    clone,
    create_database,
    drop_database,
    sibling,
    truncate_all,
)
from tests.helpers.sites import build_site

__all__ = ["PG_URL", "TODAY", "Api", "D", "make_token", "make_user"]


@pytest.fixture(autouse=True, scope="session")
def _the_runs_own_day() -> Iterator[None]:
    """The app's clock stays on `TODAY` for the whole run, even one that crosses midnight (`tests/helpers/clock.py`)."""
    from app import clock

    original = clock.now
    clock.now = SuiteClock(TODAY)
    yield
    clock.now = original


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """Test users get a fast password hash; scrypt's deliberate cost would dominate the suite's time.

    Checking still goes through werkzeug's check_password_hash, which reads the method from the hash.
    """
    import functools

    from werkzeug.security import generate_password_hash

    import app.services.users as users

    original = users.generate_password_hash
    users.generate_password_hash = functools.partial(generate_password_hash, method="pbkdf2:sha256:1000")
    yield
    users.generate_password_hash = original


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The schema built once by running every migration; tests start from a copy (or a truncate)."""
    if PG_URL:
        engine = make_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade(engine)
        engine.dispose()
        return PG_URL
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return str(path)


@pytest.fixture
def database_url(migrated_template: str, tmp_path: Path) -> Iterator[str]:
    """A fresh migrated database for one test: a copy of the template file, or the PostgreSQL one truncated after."""
    if PG_URL:
        yield PG_URL
        truncate_all(PG_URL)
        return
    target = tmp_path / "lotwise.db"
    shutil.copy(migrated_template, target)
    yield f"sqlite:///{target}"


# What create_app keeps that depends on the database; `app` repoints these at each test's own database.
_PER_DATABASE = {"lotwise.engine", "lotwise.sessions", "lotwise.tokens"}
_STATELESS = {"csrf"}


@pytest.fixture(scope="session")
def app_shell(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """One Flask app for the whole run (building its routes costs more than most tests): `app` lends it out.

    If create_app starts keeping other per-database state, this refuses to run until `app` resets it too.
    """
    folder = tmp_path_factory.mktemp("app")
    application = make_app(f"sqlite:///{folder / 'never-opened.db'}", folder)
    unknown = set(application.extensions) - _PER_DATABASE - _STATELESS
    assert not unknown, f"create_app now keeps {unknown}: make the app fixture in tests/conftest.py reset it"
    assert isinstance(application.session_interface, DatabaseSessionInterface)
    return application


@pytest.fixture
def app(app_shell: Flask, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The app on this test's own database and instance folder; its config is restored after the test."""
    config = dict(app_shell.config)
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    app_shell.config.update(DATABASE_URL=database_url, INSTANCE_DIR=str(tmp_path))
    app_shell.extensions["lotwise.engine"] = engine
    app_shell.extensions["lotwise.sessions"] = factory
    app_shell.extensions["lotwise.tokens"] = TokenCache(float(app_shell.config["TOKEN_CACHE_SECONDS"]))
    app_shell.session_interface.factory = factory  # type: ignore[attr-defined]
    try:
        yield app_shell
    finally:
        engine.dispose()
        app_shell.config.clear()
        app_shell.config.update(config)


# --- the demo company: built once per run, copied for each test (or module) that uses it ----------------


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> DemoBuild:
    """The demo company, built once per run the way a user builds it: `lotwise demo --no-serve --db FILE`."""
    from click.testing import CliRunner

    from app.cli import main

    folder = tmp_path_factory.mktemp("demo")
    path = (folder / "demo.db").resolve()
    env = {"LOTWISE_INSTANCE_DIR": str(folder), "LOTWISE_TIMEZONE": "UTC"}
    result = CliRunner().invoke(main, ["demo", "--no-serve", "--db", str(path)], env=env, catch_exceptions=False)
    return DemoBuild(path, result.output, result.exit_code)


@pytest.fixture(scope="session")
def demo_template(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a database holding the demo company, which no test writes to: tests use a `clone` of it.

    SQLite: the file `lotwise demo` built (`demo_build`). PostgreSQL: a database named after the test database
    plus `_demo`, filled once by `build_demo`.
    """
    if not PG_URL:
        build: DemoBuild = request.getfixturevalue("demo_build")
        assert build.exit_code == 0, build.output
        yield f"sqlite:///{build.path}"
        return
    build: PgDemoBuild = request.getfixturevalue("pg_demo_build")
    assert build.exit_code == 0, build.output
    yield build.url
    drop_database(build.url)


@pytest.fixture(scope="session")
def pg_demo_build(tmp_path_factory: pytest.TempPathFactory) -> PgDemoBuild:
    """On PostgreSQL, the demo company built once per run as a user builds it there: `lotwise demo --no-serve`
    with LOTWISE_DATABASE_URL naming the database (`<test database>_demo`), run in an empty directory."""
    from click.testing import CliRunner

    from app.cli import main

    assert PG_URL
    url = sibling(PG_URL, "_demo")
    create_database(url)
    folder = tmp_path_factory.mktemp("pg-demo")
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke(main, ["demo", "--no-serve"], catch_exceptions=False,
                                    env={"LOTWISE_DATABASE_URL": url, "LOTWISE_TIMEZONE": "UTC"})
    finally:
        os.chdir(cwd)
    return PgDemoBuild(url, result.output, result.exit_code, sorted(p.name for p in folder.iterdir()))


@pytest.fixture
def demo_database_url(demo_template: str, tmp_path: Path) -> Iterator[str]:
    """A private copy of the demo company's database that a test may change."""
    url = clone(demo_template, tmp_path)
    yield url
    drop_database(url)


@pytest.fixture
def demo_app(demo_database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The app over a private copy of the demo company."""
    application = make_app(demo_database_url, tmp_path)
    yield application
    application.extensions["lotwise.engine"].dispose()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with app.extensions["lotwise.sessions"]() as s:
        yield s


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def api(client: FlaskClient, session: Session) -> Api:
    """An admin API client."""
    return Api(client, make_token(session, "admin", Role.ADMIN))


@pytest.fixture
def api_as(client: FlaskClient, session: Session) -> Any:
    def _as(role: Role) -> Api:
        return Api(client, make_token(session, f"u-{role.value}", role))

    return _as


@pytest.fixture
def kitchen(session: Session) -> dict[str, Any]:
    """A small jam kitchen set up through the services (no API client): {sku or party: id}.

    Warehouse MAIN; locations RCV, DRY-01, COLD-01, KITCHEN, QUAR (quarantine), DOCK (shipping); products RASP,
    SUGAR, JAM-RASP; suppliers Berry Farm ("supplier") and Sugar Co ("sugar_supplier"); customers Corner Deli
    ("deli", ≥ 30 days) and Big Box ("bigbox", ≥ 90 days on arrival, 2 days' transit). See tests/helpers/sites.py.
    """
    return build_site(session)


@pytest.fixture
def site(api: Api, kitchen: dict[str, Any]) -> dict[str, Any]:
    """The `kitchen`, for tests that also talk to the API as an admin (`api`, made first)."""
    return kitchen

"""Fixtures: a migrated database (SQLite file, or PostgreSQL when LOTWISE_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from app import create_app
from app.db import Base, make_engine
from app.migrate import upgrade
from app.models import Role

PG_URL = os.environ.get("LOTWISE_TEST_DATABASE_URL")


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
    if PG_URL:
        yield PG_URL
        engine = make_engine(PG_URL)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return
    target = tmp_path / "lotwise.db"
    shutil.copy(migrated_template, target)
    yield f"sqlite:///{target}"


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    application = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
                              "INSTANCE_DIR": str(tmp_path), "TIMEZONE": "UTC"})
    application.config["TESTING"] = True
    yield application
    application.extensions["lotwise.engine"].dispose()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with app.extensions["lotwise.sessions"]() as s:
        yield s


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class Api:
    """A test client that talks JSON with a bearer token for one role."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get("/api/v1" + path, headers=self.headers, **kw)

    def post(self, path: str, json: Any = None, headers: dict[str, str] | None = None) -> Any:
        return self.client.post("/api/v1" + path, json=json, headers={**self.headers, **(headers or {})})

    def patch(self, path: str, json: Any = None) -> Any:
        return self.client.patch("/api/v1" + path, json=json, headers=self.headers)


def make_user(session: Session, name: str, role: Role, password: str = "correct horse 1") -> Any:
    from app.schemas import UserIn
    from app.services.users import create_user

    return create_user(session, UserIn(username=name, role=role, password=password))


def make_token(session: Session, name: str, role: Role) -> str:
    from app.services.users import create_token

    make_user(session, name, role)
    return create_token(session, name, "tests")[1]


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
def site(api: Api) -> dict[str, Any]:
    """A small jam kitchen: warehouse, locations, products, a supplier and two customers."""
    ids: dict[str, Any] = {}
    assert api.post("/warehouses", {"code": "MAIN", "name": "Main site"}).status_code == 201
    for code, kind in [("RCV", "receiving"), ("DRY-01", "storage"), ("COLD-01", "storage"),
                       ("KITCHEN", "production"), ("QUAR", "quarantine"), ("DOCK", "shipping")]:
        r = api.post("/locations", {"code": code, "name": code.title(), "kind": kind, "warehouse": "MAIN"})
        assert r.status_code == 201, r.json
    products = [
        {"sku": "RASP", "name": "Raspberries IQF", "kind": "material", "unit": "kg", "shelf_life_days": 180},
        {"sku": "SUGAR", "name": "Cane sugar", "kind": "material", "unit": "kg", "shelf_life_days": 720},
        {"sku": "JAM-RASP", "name": "Raspberry jam 340 g", "kind": "product", "unit": "ea",
         "shelf_life_days": 365, "gtin": "09501101530003"},
    ]
    for p in products:
        r = api.post("/products", p)
        assert r.status_code == 201, r.json
        ids[p["sku"]] = r.json["id"]
    r = api.post("/suppliers", {"name": "Berry Farm", "contact_name": "Ann Berry", "phone": "+44 1632 960001",
                                "email": "ann@berry.example"})
    ids["supplier"] = r.json["id"]
    r = api.post("/suppliers", {"name": "Sugar Co"})
    ids["sugar_supplier"] = r.json["id"]
    r = api.post("/customers", {"name": "Corner Deli", "contact_name": "Dev Patel", "phone": "+44 1632 960002",
                                "email": "dev@deli.example", "address": "1 High St", "min_remaining_days": 30})
    ids["deli"] = r.json["id"]
    r = api.post("/customers", {"name": "Big Box", "min_remaining_days": 90, "transit_days": 2})
    ids["bigbox"] = r.json["id"]
    return ids


TODAY = date.today()
D = Decimal

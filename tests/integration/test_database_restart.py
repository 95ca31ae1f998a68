"""The pool's connections across a PostgreSQL restart: the first request after it is answered, not a 500."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, text
from sqlalchemy.pool import NullPool

from app.db import make_engine, statement_engine
from tests.helpers.api import Api
from tests.helpers.databases import PG_URL

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (set LOTWISE_TEST_DATABASE_URL)")


def _end_every_other_backend(url: str) -> int:
    """What a server restart does to the app's connections: each backend is told to stop and closes its socket
    (waited for: a request sent in the instant before a backend has gone fails however the pool checks)."""
    admin = make_engine(url, poolclass=NullPool)
    try:
        with admin.connect() as conn:
            return len(conn.scalars(text(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()")).all())
    finally:
        admin.dispose()


def test_a_scan_after_the_database_restarts_is_answered(app: Flask, api: Api, site: dict[str, Any]) -> None:
    engine = app.extensions["lotwise.engine"]
    opened: list[Any] = []
    for pool in (engine, statement_engine(engine)):  # a scan runs on the engine's twin
        event.listen(pool, "connect", lambda conn, _record: opened.append(conn))
    label = {"raw": "RASP"}

    for _ in range(5):  # a healthy pooled connection is used again, not replaced on every request
        assert api.post("/scans/parse", label).status_code == 200
    assert len(opened) <= 1

    assert _end_every_other_backend(app.config["DATABASE_URL"]) >= 1
    before = len(opened)
    r = api.post("/scans/parse", label)
    assert r.status_code == 200, r.json
    assert r.json["product"]["sku"] == "RASP"
    assert len(opened) == before + 1  # the dead connection was replaced before the request used it
    assert api.get("/products").status_code == 200

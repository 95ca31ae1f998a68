"""The schema the migrations build is exactly the one the models describe, on either database."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

import app.models  # noqa: F401  (registers every table)
from app.db import Base, make_engine
from app.migrate import alembic_config, current_revision, head_revision, upgrade


# SQLite cannot reflect an index on an expression (the order number's upper case): there the comparison skips it and
# says so. PostgreSQL compares it, and on both databases a test asks the planner for it (test_api_scans).
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_migrations_build_the_models_schema(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_migrations_form_one_line_of_history() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    assert len(script.get_bases()) == 1


def test_upgrading_a_sqlite_database_with_shipments_keeps_them(tmp_path: Path) -> None:
    """Altering a table other tables point at (shipment, 0007) must work on a database in use."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        upgrade(engine, "0006")
        with engine.begin() as conn:
            for statement in OLD_ROWS:
                conn.exec_driver_sql(statement)
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT number, override_reason FROM shipment").fetchall() == [
                ("SH-000001", None)]
            assert conn.exec_driver_sql("SELECT shipment_id, quantity FROM shipment_line").fetchall() == [
                (1, 5_000_000)]
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            # Idempotency keys of the old shape are dropped (0008): they had no user scope or fingerprint.
            assert conn.exec_driver_sql("SELECT count(*) FROM request_key").scalar() == 0
    finally:
        engine.dispose()


# One shipment with its line, and everything they point at, as a revision-0006 database holds them
# (quantities are stored as millionths on SQLite).
OLD_ROWS = [
    "INSERT INTO user_account (id, username, password_hash, role, active, created_at) "
    "VALUES (1, 'ann', 'x', 'admin', 1, '2026-01-01 00:00:00')",
    "INSERT INTO customer (id, name, transit_days, no_date_reversal, created_at) "
    "VALUES (1, 'Deli', 0, 0, '2026-01-01 00:00:00')",
    "INSERT INTO warehouse (id, code, name, created_at) VALUES (1, 'MAIN', 'Main', '2026-01-01 00:00:00')",
    "INSERT INTO location (id, warehouse_id, code, name, kind, active, created_at) "
    "VALUES (1, 1, 'DRY', 'Dry', 'storage', 1, '2026-01-01 00:00:00')",
    "INSERT INTO product (id, sku, name, kind, unit, lot_tracked, active, created_at) "
    "VALUES (1, 'JAM', 'Jam', 'product', 'ea', 1, 1, '2026-01-01 00:00:00')",
    "INSERT INTO lot (id, product_id, code, origin, made_on, unit_cost, status, created_at) "
    "VALUES (1, 1, 'A', 'production', '2026-01-01', 0, 'released', '2026-01-01 00:00:00')",
    "INSERT INTO sales_order (id, number, customer_id, warehouse_id, ship_date, status, priority, user_id, "
    "created_at) VALUES (1, 'SO-000001', 1, 1, '2026-01-02', 'shipped', 0, 1, '2026-01-01 00:00:00')",
    "INSERT INTO order_line (id, order_id, line_no, product_id, quantity, shipped_quantity) "
    "VALUES (1, 1, 1, 1, 5000000, 5000000)",
    "INSERT INTO shipment (id, number, order_id, customer_id, warehouse_id, shipped_on, user_id, created_at) "
    "VALUES (1, 'SH-000001', 1, 1, 1, '2026-01-02', 1, '2026-01-02 00:00:00')",
    "INSERT INTO shipment_line (id, shipment_id, order_line_id, lot_id, location_id, quantity) "
    "VALUES (1, 1, 1, 1, 1, 5000000)",
    "INSERT INTO request_key (key, user_id, kind, ref_id, created_at) "
    "VALUES ('scan-1', 1, 'shipment', 1, '2026-01-02 00:00:00')",
]

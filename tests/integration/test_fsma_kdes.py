"""The FSMA 204 spreadsheet against the rule itself: every key data element of 21 CFR 1.1325-1.1350 (vendored in
tests/data/fsma204_kdes.json) has columns, and in the demo company's export every cell a KDE needs is filled."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import select

from app.demo import site_today
from app.exports import fsma204
from app.models import Product, Role
from tests.helpers.api import Api, make_app, make_token
from tests.helpers.databases import clone, drop_database

KDES: dict[str, Any] = json.loads((Path(__file__).parent.parent / "data" / "fsma204_kdes.json").read_text())["ctes"]


def test_every_key_data_element_of_every_tracking_event_has_its_columns() -> None:
    assert set(KDES) == set(fsma204.KDE_COLUMNS) == set(fsma204.CTE_ROWS)
    for cte, spec in KDES.items():
        mapped = fsma204.KDE_COLUMNS[cte]
        assert list(mapped) == spec["kdes"], f"{cte} ({spec['section']}): KDEs and columns differ"
        for kde, columns in mapped.items():
            assert columns and set(columns) <= set(fsma204.HEADERS), (cte, kde, columns)
    glossary = dict(fsma204.GLOSSARY)
    assert all(glossary[h] for h in fsma204.HEADERS)


@pytest.fixture(scope="module")
def demo(demo_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    folder = tmp_path_factory.mktemp("demo-fsma")
    url = clone(demo_template, folder)
    app = make_app(url, folder)
    yield app
    app.extensions["lotwise.engine"].dispose()
    drop_database(url)


@pytest.fixture(scope="module")
def api(demo: Flask) -> Api:
    with demo.extensions["lotwise.sessions"]() as s:
        token = make_token(s, "qa", Role.MANAGER)
    return Api(demo.test_client(), token)


def _rows(api: Api, query: str) -> list[dict[str, Any]]:
    r = api.get(f"/exports/fsma204.xlsx?{query}")
    assert r.status_code == 200, r.json
    ws = load_workbook(io.BytesIO(r.data))["Traceability records"]
    header = [c.value for c in ws[1]]
    return [dict(zip(header, row, strict=True)) for row in ws.iter_rows(min_row=2, values_only=True)]


def _missing(rows: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """(CTE, KDE, column, row's lot code) of every required cell left empty."""
    gaps = []
    for cte, (event, only_with) in fsma204.CTE_ROWS.items():
        for row in rows:
            if row["Critical Tracking Event"] != event or (only_with and row[only_with] is None):
                continue
            for kde, columns in fsma204.KDE_COLUMNS[cte].items():
                gaps.extend((cte, kde, c, row["Traceability Lot Code"]) for c in columns if row[c] in (None, ""))
    return gaps


def test_the_demo_export_fills_every_cell_a_key_data_element_needs(demo: Flask, api: Api) -> None:
    today = site_today(demo)
    with demo.extensions["lotwise.sessions"]() as s:
        raspberries = s.scalar(select(Product.id).where(Product.sku == "FR-RASP"))
    week = _rows(api, f"from={today - timedelta(days=13)}&to={today}")
    fruit = _rows(api, f"product={raspberries}")
    assert {r["Critical Tracking Event"] for r in week} == {"Receiving", "Transformation", "Shipping"}
    harvested = [r for r in fruit if r["Critical Tracking Event"] == "Receiving" and r["Harvest Date"]]
    assert harvested, "the demo's raspberries arrive with their harvest details"
    assert _missing(week + fruit) == []
    # Every location description has a phone number (21 CFR 1.1310) in the demo: no party lacks one.
    places = [r[c] for r in week + fruit for c in ("Traceability Lot Code Source", "Ship-From Location",
                                                   "Ship-To or Receiving Location") if r[c]]
    assert places and all(", phone +" in p or "+44" in p for p in places)
    assert not any(fsma204.NO_PHONE in p for p in places)

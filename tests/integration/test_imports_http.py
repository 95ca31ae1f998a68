"""Onboarding over HTTP: the API's upload and downloads, and the pages' upload → check → preview → confirm."""

from __future__ import annotations

import io
import time
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import DataImport, ImportStatus, Lot, Movement, Product, Role
from tests.helpers.api import Api
from tests.helpers.pages import user
from tests.helpers.workbooks import HEADERS, onboarding, xlsx

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload(api: Api, data: bytes, filename: str = "onboarding.xlsx", **fields: str) -> Any:
    return api.client.post("/api/v1/imports", headers=api.headers,
                           data={"file": (io.BytesIO(data), filename), **fields}, content_type="multipart/form-data")


def count(session: Session, model: type[Any]) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_manager_checks_then_imports_the_workbook_through_the_api(api_as: Any, session: Session) -> None:
    manager = api_as(Role.MANAGER)
    checked = upload(manager, xlsx(onboarding()), dry_run="true")
    assert checked.status_code == 200, checked.json
    assert checked.json["dry_run"] is True and checked.json["imported"] is False
    assert checked.json["message"].startswith("Checked, nothing written: 20 row(s) to create")
    assert count(session, Product) == 0
    done = upload(manager, xlsx(onboarding()))
    assert done.status_code == 200 and done.json["imported"] is True
    assert {s["sheet"]: s["created"] for s in done.json["sheets"]} == {
        "products": 4, "suppliers": 2, "customers": 2, "locations": 3, "stock": 6, "orders": 3}
    assert count(session, Lot) == 5
    assert session.scalar(select(Movement.ref_id).limit(1)) == done.json["import_id"]
    assert upload(api_as(Role.OPERATOR), xlsx(onboarding())).status_code == 403


def test_the_api_names_the_bad_rows_and_refuses_what_is_no_workbook(api: Api, session: Session) -> None:
    rows = {"products": [["OK-1", "Fine", "product", "ea", None, None, None],
                         ["BAD 1", "Space in sku", "product", "ea", None, None, None]]}
    r = upload(api, xlsx(rows))
    assert r.status_code == 200 and r.json["imported"] is False and r.json["error_count"] == 1
    assert r.json["errors"] == [{"sheet": "products", "row": 3, "column": "sku",
                                 "message": "String should match pattern '^[A-Za-z0-9._/-]+$'"}]
    assert count(session, Product) == 0
    r = upload(api, b"%PDF-1.4 \x00\x00", "scan.pdf")
    assert r.status_code == 422 and r.json["error"]["field"] == "file"
    assert "not a spreadsheet" in r.json["error"]["message"]
    r = upload(api, b"sku,name\nA,B\n", "list.csv", sheet="products")
    assert r.status_code == 200 and r.json["imported"] is True
    r = upload(api, b"sku,name\n", "list.csv", sheet="pallets")
    assert r.status_code == 422 and r.json["error"]["field"] == "sheet"


def test_an_upload_over_the_limit_is_a_413_naming_the_limit(app: Flask, api: Api) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    r = upload(api, b"x" * (128 * 1024), "stock.csv")
    assert r.status_code == 413
    assert "larger than the" in r.json["error"]["message"]


def test_the_template_and_the_export_download_for_a_viewer(api_as: Any, api: Api) -> None:
    assert upload(api, xlsx(onboarding())).json["imported"]
    viewer = api_as(Role.VIEWER)
    r = viewer.get("/imports/template.xlsx")
    assert r.status_code == 200 and r.mimetype == XLSX_TYPE
    assert load_workbook(io.BytesIO(r.data)).sheetnames == [*HEADERS, "notes"]
    r = viewer.get("/imports/export.xlsx")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(r.data))
    assert [c.value for c in book["stock"]["B"]][1:] == ["J-0001", "J-0002", "S-0001", "S-0001", "RB-7731", "SU-1"]


def wait(client: FlaskClient, import_id: int, *, until: set[str]) -> dict[str, Any]:
    for _ in range(200):
        state = client.get(f"/imports/{import_id}/status").json
        if state["status"] in until:
            return state
        time.sleep(0.05)
    raise AssertionError(f"import {import_id} still {state}")


def test_the_page_uploads_checks_previews_and_imports_on_confirmation(
        client: FlaskClient, session: Session) -> None:
    browser = user(client, session, "mia", Role.MANAGER)
    page = browser.get("/imports")
    assert page.status == 200 and "Upload and check" in page.text
    r = browser.client.post("/imports", data={"csrf_token": browser.csrf(), "file": (io.BytesIO(xlsx(onboarding())),
                                                                             "onboarding.xlsx")},
                    content_type="multipart/form-data")
    assert r.status_code == 302
    import_id = int(r.headers["Location"].rstrip("/").split("/")[-1])
    assert wait(browser.client, import_id, until={"checked", "failed"})["status"] == "checked"
    preview = browser.get(f"/imports/{import_id}")
    assert "Preview" in preview.text and "Import 20 new and 0 changed row(s)" in preview.text
    assert count(session, Product) == 0
    r = browser.client.post(f"/imports/{import_id}/confirm", data={"csrf_token": browser.csrf()})
    assert r.status_code == 302
    state = wait(browser.client, import_id, until={"done", "failed"})
    assert state["status"] == "done", state
    assert count(session, Lot) == 5
    record = session.get(DataImport, import_id)
    assert record is not None and record.content is None and record.status is ImportStatus.DONE
    # A second confirmation (a double click) imports nothing twice.
    r = browser.client.post(f"/imports/{import_id}/confirm", data={"csrf_token": browser.csrf()})
    assert r.status_code == 409
    assert count(session, Lot) == 5


def test_the_page_shows_bad_rows_and_offers_no_import(client: FlaskClient, session: Session) -> None:
    browser = user(client, session, "mia", Role.MANAGER)
    rows = onboarding()
    rows["stock"][0][2] = -3
    r = browser.client.post("/imports", data={"csrf_token": browser.csrf(), "file": (io.BytesIO(xlsx(rows)), "o.xlsx")},
                    content_type="multipart/form-data")
    import_id = int(r.headers["Location"].rstrip("/").split("/")[-1])
    wait(browser.client, import_id, until={"checked", "failed"})
    page = browser.get(f"/imports/{import_id}")
    assert "Nothing can be imported yet" in page.text and "confirm-import" not in page.text
    assert "greater than 0" in page.text
    assert browser.client.post(f"/imports/{import_id}/confirm", data={"csrf_token": browser.csrf()}).status_code == 302
    state = wait(browser.client, import_id, until={"done", "failed"})
    assert state["status"] == "failed" and count(session, Product) == 0


def test_the_page_refuses_a_file_that_is_no_workbook_in_red(client: FlaskClient, session: Session) -> None:
    browser = user(client, session, "mia", Role.MANAGER)
    png = (io.BytesIO(b"\x00\x01PNG"), "a.png")
    r = browser.client.post("/imports", data={"csrf_token": browser.csrf(), "file": png},
                            content_type="multipart/form-data")
    assert r.status_code == 422
    assert "Not uploaded." in r.text and "not a spreadsheet" in r.text
    assert count(session, DataImport) == 0

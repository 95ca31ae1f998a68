"""A QA manager in a real browser: from the recall page, one click downloads the FSMA 204 spreadsheet, another
the EPCIS document; the "Regulator exports" page answers a bad choice in red; the page fits 360 to 1280 px."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from app.exports import fsma204
from app.models import Role
from tests.helpers.api import Api, make_user
from tests.helpers.pages import PASSWORD
from tests.helpers.recall_case import build as build_case
from tests.helpers.requires import needs_chromium

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, needs_chromium]


def test_from_the_recall_page_one_click_to_each_regulator_file(live: str, chromium: Any, api: Api, session: Session,
                                                               site: dict[str, Any], tmp_path: Path) -> None:
    case = build_case(api, site, session)
    r = api.post("/recalls", {"lots": [{"lot_id": case.j1}], "scope": "upstream", "via": [{"lot_id": case.r1}],
                              "reason": "glass fragment"})
    assert r.status_code == 201, r.json
    recall = r.json
    make_user(session, "qa", Role.MANAGER)
    page = chromium.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page.goto(f"{live}/recalls/{recall['id']}")
    page.fill("input[name=username]", "qa")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{live}/recalls/{recall['id']}")

    with page.expect_download() as sheet:
        page.click("a:has-text('FSMA 204')")
    assert sheet.value.suggested_filename == f"fsma204-recall{recall['id']}.xlsx"
    saved = tmp_path / "fsma.xlsx"
    sheet.value.save_as(saved)
    ws = load_workbook(io.BytesIO(saved.read_bytes()))["Traceability records"]
    assert [c.value for c in ws[1]] == fsma204.HEADERS
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 11
    assert {row[fsma204.HEADERS.index("Traceability Lot Code")] for row in rows} == {"RB-7731", "J1", "J2", "GB1"}

    with page.expect_download() as doc:
        page.click("a:has-text('EPCIS')")
    saved = tmp_path / "epcis.jsonld"
    doc.value.save_as(saved)
    events = json.loads(saved.read_text())["epcisBody"]["eventList"]
    assert {e["bizStep"] for e in events} >= {"receiving", "commissioning", "shipping", "holding"}

    page.click("a:has-text('Regulator exports…')")
    page.wait_for_url(f"{live}/regulatory-exports?recall={recall['id']}")
    assert page.locator("select[name=recall]").input_value() == str(recall["id"])
    page.fill("input[name=product]", "RASP")
    page.click("button:has-text('FSMA 204 spreadsheet (Excel)')")
    page.wait_for_load_state()
    alert = page.locator("[role=alert]").inner_text()
    assert "choose one of recall, lot and product" in alert.lower()

    shots = Path(os.environ.get("LOTWISE_SCREENSHOTS", tmp_path))
    for width in (360, 768, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live}/regulatory-exports?lot={case.j1}")
        page.screenshot(path=str(shots / f"regulator-exports-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the page scrolls sideways at {width} px"
        assert page.locator("button:has-text('EPCIS 2.0 (JSON-LD)')").is_visible()
        page.goto(f"{live}/recalls/{recall['id']}")
        page.screenshot(path=str(shots / f"recall-page-{width}.png"))
        assert page.locator("a:has-text('FSMA 204')").is_visible()

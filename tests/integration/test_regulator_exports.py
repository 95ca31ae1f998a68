"""The regulator's exports for a recall, a lot with its trace, a product or dates: the FSMA 204 spreadsheet with a
phone number in every location description and the origin suppliers send, EPCIS 2.0 valid against GS1's JSON
Schema, the same through the API and the "Regulator exports" page, and bad input refused by name."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from app.exports import fsma204
from app.models import Role
from tests.helpers.api import TODAY, Api, make_user
from tests.helpers.epcis_context import problems as context_problems
from tests.helpers.epcis_context import schema_errors as epcis_errors
from tests.helpers.recall_case import Case
from tests.helpers.recall_case import build as build_case

DAY = TODAY.isoformat()
DATA = Path(__file__).parent.parent / "data"
LOCATION_COLUMNS = ("Traceability Lot Code Source", "Ship-From Location", "Ship-To or Receiving Location")
PASSWORD = "correct horse 1"


@pytest.fixture
def case(api: Api, site: dict[str, Any], session: Session) -> Case:
    return build_case(api, site, session)


@pytest.fixture
def recall_id(api: Api, case: Case) -> int:
    r = api.post("/recalls", {"lots": [{"lot_id": case.j1}], "scope": "upstream", "via": [{"lot_id": case.r1}],
                              "reason": "glass fragment"})
    assert r.status_code == 201, r.json
    return int(r.json["id"])


def sheet_rows(data: bytes) -> list[dict[str, Any]]:
    wb = load_workbook(io.BytesIO(data))
    ws = wb["Traceability records"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == f"A1:AA{ws.max_row}"
    header = [c.value for c in ws[1]]
    assert header == fsma204.HEADERS
    return [dict(zip(header, row, strict=True)) for row in ws.iter_rows(min_row=2, values_only=True)]


def fsma(api: Api, query: str) -> list[dict[str, Any]]:
    r = api.get(f"/exports/fsma204.xlsx?{query}")
    assert r.status_code == 200, r.json
    return sheet_rows(r.data)


def kinds(rows: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return sorted((x["Critical Tracking Event"], x["Traceability Lot Code"], x["Input Traceability Lot Code"] or "")
                  for x in rows)


def test_a_recall_exports_the_events_of_its_lots_only(api: Api, case: Case, recall_id: int) -> None:
    rows = fsma(api, f"recall={recall_id}")
    # The recall covers RB-7731 (R1), J1, J2 and GB1; the sugar lot S1 only shows as an input.
    assert kinds(rows) == [
        ("Receiving", "RB-7731", ""),
        ("Shipping", "GB1", ""), ("Shipping", "J1", ""), ("Shipping", "J1", ""), ("Shipping", "J1", ""),
        ("Shipping", "J2", ""),
        ("Transformation", "GB1", "J1"), ("Transformation", "J1", "RB-7731"), ("Transformation", "J1", "S1"),
        ("Transformation", "J2", "RB-7731"), ("Transformation", "J2", "S1")]
    dates = [x["Event Date"] for x in rows]
    assert dates == sorted(dates)
    order = [x["Critical Tracking Event"] for x in rows]
    assert order == sorted(order, key=["Receiving", "Transformation", "Shipping"].index), "same day: CTE order"
    csv_rows = list(csv.DictReader(io.StringIO(api.get(f"/exports/fsma204.csv?recall={recall_id}").data
                                               .decode("utf-8-sig"))))
    assert [r["Traceability Lot Code"] for r in csv_rows] == [x["Traceability Lot Code"] for x in rows]


def test_a_streamed_file_leaves_no_connection_behind(app: Flask, api: Api, case: Case, recall_id: int) -> None:
    pool = app.extensions["lotwise.engine"].pool
    before = pool.checkedout()
    for path in ("fsma204.csv", "fsma204.xlsx"):
        r = api.get(f"/exports/{path}?recall={recall_id}")
        assert r.status_code == 200 and len(r.data) > 1000
    assert pool.checkedout() == before, "a streamed export kept its transaction open"


def test_every_location_description_has_a_phone_number(api: Api, case: Case, recall_id: int) -> None:
    rows = fsma(api, f"from={DAY}&to={DAY}")
    cells = [x[c] for x in rows for c in LOCATION_COLUMNS if x[c]]
    assert len(cells) >= 2 * len(rows)
    # Every party and site with a phone on file shows it; where none is on file the cell says so.
    assert all(re.search(r", (phone \+?[0-9 ]+|phone not on file)(,| \(|$)", c) for c in cells), cells
    deli = next(x for x in rows if x["Ship-To or Receiving Location"].startswith("Corner Deli"))
    assert deli["Ship-To or Receiving Location"] == "Corner Deli, phone +44 1632 960002, 1 High St"
    sugar = next(x for x in rows if x["Traceability Lot Code"] == "S1" and x["Critical Tracking Event"] == "Receiving")
    assert sugar["Ship-From Location"] == "Sugar Co, phone not on file"


def test_our_sites_business_name_phone_and_address_are_configurable(api: Api, case: Case) -> None:
    r = api.post("/warehouses", {"code": "EAST", "name": "East store", "address": "5 Quay St\nPortside",
                                 "business_name": "Jam Co Ltd", "phone": "+44 1632 960777"})
    assert r.status_code == 201, r.json
    assert (r.json["business_name"], r.json["phone"]) == ("Jam Co Ltd", "+44 1632 960777")
    r = api.post("/locations", {"code": "EAST-01", "name": "East bay", "kind": "storage", "warehouse": "EAST"})
    assert r.status_code == 201, r.json
    r = api.post("/receipts", {"supplier_id": case.ids["supplier"], "lines": [
        {"sku": "RASP", "quantity": "5", "location": "EAST-01", "lot_code": "R7", "supplier_lot_code": "RB-9"}]})
    assert r.status_code == 201, r.json
    [row] = [x for x in fsma(api, f"from={DAY}&to={DAY}&sku=RASP") if x["Traceability Lot Code"] == "RB-9"]
    assert row["Ship-To or Receiving Location"] == (
        "Jam Co Ltd (East store), phone +44 1632 960777, 5 Quay St, Portside (East bay)")


def test_a_lot_exports_its_trace_backward_and_forward(api: Api, case: Case) -> None:
    rows = fsma(api, f"lot={case.j1}")
    # Backward: R1 (RB-7731) and S1; forward: GB1. J2 shares the inputs but is not in J1's trace.
    assert kinds(rows) == [
        ("Receiving", "RB-7731", ""), ("Receiving", "S1", ""),
        ("Shipping", "GB1", ""), ("Shipping", "J1", ""), ("Shipping", "J1", ""), ("Shipping", "J1", ""),
        ("Transformation", "GB1", "J1"), ("Transformation", "J1", "RB-7731"), ("Transformation", "J1", "S1")]
    made = next(x for x in rows if x["Traceability Lot Code"] == "J1" and x["Critical Tracking Event"] == "Shipping")
    ours = "Lotwise (Main site), phone not on file"
    assert made["Traceability Lot Code Source"] == made["Ship-From Location"] == ours
    assert made["Traceability Lot Code Source Reference"] == "http://127.0.0.1:8000"


def test_a_product_exports_its_lots_events(api: Api, case: Case) -> None:
    rows = fsma(api, f"product={case.ids['RASP']}")
    assert {x["Critical Tracking Event"] for x in rows} == {"Receiving", "Transformation"}
    assert all("RB-7731" in (x["Traceability Lot Code"], x["Input Traceability Lot Code"]) for x in rows)


def test_the_origin_the_supplier_sends_fills_the_harvest_cooling_and_packing_columns(api: Api, case: Case) -> None:
    origin = {"harvested_on": DAY, "harvest_location": "Berry Farm, +44 1632 960001, Long Acre", "harvester":
              "Pickers Ltd, +44 1632 960123", "cooled_on": DAY, "cooling_location": "Berry Farm cold store",
              "packed_on": DAY, "packing_location": "Packhouse Ltd, +44 1632 960124, 2 Crate Rd"}
    r = api.post("/receipts", {"supplier_id": case.ids["supplier"], "lines": [
        {"sku": "RASP", "quantity": "8", "location": "COLD-01", "lot_code": "R8", "supplier_lot_code": "RB-8"}],
        **origin})
    assert r.status_code == 201, r.json
    assert {k: r.json[k] for k in origin} == origin
    lot = r.json["lines"][0]["lot_id"]
    [row] = fsma(api, f"lot={lot}")
    assert (row["Harvest Date"].date().isoformat(), row["Harvest Location"], row["Harvester"]) == (
        DAY, origin["harvest_location"], origin["harvester"])
    assert row["Initial Packing Location"] == row["Traceability Lot Code Source"] == origin["packing_location"]
    assert row["Cooling Location"] == "Berry Farm cold store" and row["Landing Date"] is None
    page_api = api.client.get(f"/api/v1/receipts/{r.json['id']}", headers=api.headers).json
    assert page_api["packing_location"] == origin["packing_location"]
    late = (TODAY.replace(year=TODAY.year + 1)).isoformat()
    r = api.post("/receipts", {"supplier_id": case.ids["supplier"], "received_on": DAY, "cooled_on": late,
                               "lines": [{"sku": "RASP", "quantity": "1", "location": "COLD-01"}]})
    assert r.status_code == 422 and r.json["error"]["field"] == "cooled_on"


@pytest.mark.parametrize(("query", "status", "field"), [
    ("recall={recall}&lot={lot}", 400, "lot"),
    ("lot={lot}&product={product}", 400, "product"),
    ("recall={recall}&sku=RASP", 400, "sku"),
    ("", 400, "from"),
    ("from=2026-01-01", 400, "to"),
    ("sku=RASP", 400, "from"),
    ("from=2026-02-01&to=2026-01-01", 400, "from"),
    ("lot={lot}&from=2026-02-01&to=2026-01-01", 400, "from"),
    ("recall=999999", 404, "recall"),
    ("lot=999999", 404, "lot"),
    ("product=999999", 404, "product"),
])
def test_bad_combinations_and_unknown_choices_are_refused_by_name(api: Api, case: Case, recall_id: int, query: str,
                                                                   status: int, field: str) -> None:
    q = query.format(recall=recall_id, lot=case.j1, product=case.ids["RASP"])
    for path in ("fsma204.xlsx", "fsma204.csv", "epcis.json"):
        if "sku" in q and path == "epcis.json":
            continue
        r = api.get(f"/exports/{path}?{q}")
        assert (r.status_code, r.json["error"]["field"]) == (status, field), (path, r.json)


def test_epcis_for_a_recall_and_a_lot_is_valid_against_the_official_schema(api: Api, case: Case,
                                                                          recall_id: int) -> None:
    r = api.patch(f"/customers/{case.deli}", {"gln": "0614141000005"})
    assert r.status_code == 200, r.json
    doc = json.loads(api.get(f"/exports/epcis.json?recall={recall_id}").data)
    assert epcis_errors(doc) == []
    events = doc["epcisBody"]["eventList"]
    steps = sorted(e["bizStep"] for e in events)
    assert steps == ["commissioning"] * 3 + ["destroying", "holding", "receiving"] + ["shipping"] * 5
    destinations = {d["destination"] for e in events for d in e.get("destinationList", [])}
    # A consignee with a GLN is named by it (GS1 Digital Link of the party GLN, AI 417); others by a party URI.
    assert "https://id.gs1.org/417/0614141000005" in destinations
    assert f"http://127.0.0.1:8000/id/customer/{case.cafe}" in destinations
    [recall] = [e for e in events if e["bizStep"] == "holding"]
    assert sorted((re.split("[/=]", q["epcClass"])[-1], q["quantity"]) for q in recall["quantityList"]) == [
        ("GB1", 20), ("J1", 400), ("J2", 200), ("R1", 100)]
    assert context_problems(doc) == []
    lot_doc = json.loads(api.get(f"/exports/epcis.json?lot={case.gb1}").data)
    assert epcis_errors(lot_doc) == []
    assert context_problems(lot_doc) == []
    lot_events = lot_doc["epcisBody"]["eventList"]
    # GB1's trace: J1, R1, S1 upstream. Its EPCIS holds their receipts, the runs that made J1 and GB1, the
    # shipments of J1 and GB1, J1's write-off and the recall; not J2's run or its shipment to Cafe Uno.
    assert sorted(e["bizStep"] for e in lot_events) == sorted(
        ["receiving", "receiving", "commissioning", "commissioning", "destroying", "holding"] + ["shipping"] * 4)
    assert f"http://127.0.0.1:8000/id/customer/{case.cafe}" not in json.dumps(lot_events)


def test_the_official_schema_catches_what_epcis_forbids(api: Api, case: Case, recall_id: int) -> None:
    doc = json.loads(api.get(f"/exports/epcis.json?recall={recall_id}").data)
    bad = json.loads(json.dumps(doc))
    bad["epcisBody"]["eventList"][0]["quantityList"] = [{"epcClass": "not a uri"}]
    assert epcis_errors(bad)
    bad = json.loads(json.dumps(doc))
    bad["epcisBody"]["eventList"][0]["bizStep"] = "no such step"
    assert epcis_errors(bad)


def test_the_json_ld_context_catches_what_it_does_not_define(api: Api, case: Case, recall_id: int) -> None:
    doc = json.loads(api.get(f"/exports/epcis.json?recall={recall_id}").data)
    assert context_problems(doc) == []
    events = doc["epcisBody"]["eventList"]
    [shipment, *_] = [e for e in events if e["bizStep"] == "shipping"]
    [run, *_] = [e for e in events if e["type"] == "TransformationEvent"]
    changes: list[tuple[dict[str, Any], str, Any, str]] = [
        (doc, "@context", ["https://example.com/context.jsonld"], "official EPCIS context"),
        (shipment, "shippedBy", "me", "'shippedBy' is not a term"),
        (shipment, "disposition", "in_transport", "'in_transport' is not a term"),
        (shipment, "sourceList", [{"type": "owner", "source": "https://x.example"}], "'owner' is not a term"),
        (shipment, "type", "ShipEvent", "'ShipEvent' is not a term"),
        (run, "ilmd", {"lotmda:lotNumber": "J1"}, "prefix is not declared"),
    ]
    for target, key, value, expected in changes:
        before = target.get(key)
        target[key] = value
        found = context_problems(doc)
        assert any(expected in p for p in found), (key, found)
        target[key] = before


def test_the_export_parameters_are_documented(api: Api) -> None:
    doc = json.loads(api.client.get("/api/openapi.json", headers=api.headers).data)
    for path in ("/api/v1/exports/fsma204.xlsx", "/api/v1/exports/fsma204.csv", "/api/v1/exports/epcis.json"):
        op = doc["paths"][path]["get"]
        assert {"recall", "lot", "product", "from", "to"} <= {p["name"] for p in op["parameters"]}
        assert {"400", "404"} <= set(op["responses"])


# --- the page -------------------------------------------------------------------------------------------


def login(client: FlaskClient, session: Session, role: Role) -> None:
    name = f"page-{role.value}"
    make_user(session, name, role, PASSWORD)
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    r = client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": token.group(1)})
    assert r.status_code == 302


def test_a_manager_gets_the_recall_files_in_one_click_from_the_recall_page(
        client: FlaskClient, session: Session, case: Case, recall_id: int) -> None:
    login(client, session, Role.MANAGER)
    page = client.get(f"/recalls/{recall_id}").get_data(as_text=True)
    links = dict(re.findall(r'id="(fsma-xlsx|epcis-json)" href="([^"]+)"', page))
    r = client.get(links["fsma-xlsx"].replace("&amp;", "&"))
    assert r.status_code == 200 and r.mimetype == fsma204_mimetype()
    assert "attachment" in r.headers["Content-Disposition"]
    assert len(sheet_rows(r.data)) == 11
    r = client.get(links["epcis-json"].replace("&amp;", "&"))
    assert r.status_code == 200 and epcis_errors(json.loads(r.data)) == []
    assert 'href="/regulatory-exports"' in client.get("/").get_data(as_text=True), "in the nav"
    lot_page = client.get(f"/lots/{case.j1}").get_data(as_text=True)
    assert f'href="/regulatory-exports?lot={case.j1}"' in lot_page


def fsma204_mimetype() -> str:
    return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_the_page_offers_every_choice_and_refuses_bad_ones_in_red(client: FlaskClient, session: Session,
                                                                  case: Case, recall_id: int) -> None:
    login(client, session, Role.MANAGER)
    page = client.get(f"/regulatory-exports?lot={case.j1}").get_data(as_text=True)
    assert "JAM-RASP · lot J1" in page and 'value="epcis"' in page and 'value="csv"' in page
    r = client.get("/regulatory-exports?product=RASP&lot_code=R1&format=csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "RB-7731" in r.get_data(as_text=True)
    for query, status, words in [
        ("recall=999999&format=xlsx", 404, "recall 999999 does not exist"),
        (f"recall={recall_id}&product=RASP&format=xlsx", 400, "choose one of recall, lot and product"),
        ("product=NOPE&format=csv", 404, "no product with sku"),
        ("product=RASP&lot_code=NOPE&format=csv", 404, "RASP has no lot"),
        ("from=2026-02-01&to=2026-01-01&format=epcis", 400, "runs backwards"),
        ("format=xlsx", 400, "needs a date range"),
        ("format=pdf&from=2026-01-01&to=2026-01-02", 400, "no export format"),
    ]:
        r = client.get(f"/regulatory-exports?{query}")
        text = r.get_data(as_text=True)
        assert r.status_code == status, (query, text[:300])
        assert 'role="alert"' in text and words.lower() in text.lower(), (query, text[:2000])


def test_the_receipt_page_shows_the_origin_the_supplier_sent(client: FlaskClient, session: Session, api: Api,
                                                              case: Case) -> None:
    r = api.post("/receipts", {"supplier_id": case.ids["supplier"], "harvested_on": DAY,
                               "harvest_location": "Berry Farm, field 7", "lines": [
                                   {"sku": "RASP", "quantity": "2", "location": "COLD-01"}]})
    assert r.status_code == 201, r.json
    login(client, session, Role.VIEWER)
    page = client.get(f"/receipts/{r.json['id']}").get_data(as_text=True)
    assert "Harvested at</dt><dd>Berry Farm, field 7" in page and f"<dt>Harvested</dt><dd>{DAY}" in page


def test_viewers_and_operators_cannot_reach_the_page(client: FlaskClient, session: Session, case: Case,
                                                     recall_id: int) -> None:
    login(client, session, Role.OPERATOR)
    assert client.get(f"/regulatory-exports?recall={recall_id}&format=xlsx").status_code == 403
    page = client.get(f"/recalls/{recall_id}").get_data(as_text=True)
    assert "fsma-xlsx" not in page and "Regulator exports" not in page

"""Exports: the recall report (CSV, XLSX, PDF), the FSMA 204 spreadsheet and the EPCIS 2.0 document."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import jsonschema
import pypdfium2
import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from app.api.openapi import build
from tests.helpers.api import TODAY, Api
from tests.helpers.recall_case import Case
from tests.helpers.recall_case import build as build_case

D = Decimal
DAY = TODAY.isoformat()

# The structure EPCIS 2.0 (GS1, 2022) requires of a JSON/JSON-LD document and of the event types
# Lotwise writes, following the standard's JSON schema: required fields, enumerations, value patterns.
_URI = {"type": "string", "pattern": r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$"}
_CBV_OR_URI = {"anyOf": [{"type": "string", "pattern": r"^[a-z_]+$"}, _URI]}
_QUANTITY = {"type": "object", "required": ["epcClass"], "additionalProperties": False, "properties": {
    "epcClass": _URI, "quantity": {"type": "number", "minimum": 0},
    "uom": {"type": "string", "pattern": r"^[A-Z0-9]{2,3}$"}}}
_QLIST = {"type": "array", "items": _QUANTITY}
_LOCATION = {"type": "object", "required": ["id"], "properties": {"id": _URI}}
_COMMON = {
    "eventID": _URI,
    "eventTime": {"type": "string", "format": "date-time"},
    "eventTimeZoneOffset": {"type": "string", "pattern": r"^[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00)$"},
    "bizStep": _CBV_OR_URI, "disposition": _CBV_OR_URI, "readPoint": _LOCATION, "bizLocation": _LOCATION,
    "bizTransactionList": {"type": "array", "items": {"type": "object", "required": ["bizTransaction"],
                                                      "properties": {"type": _CBV_OR_URI, "bizTransaction": _URI}}},
    "sourceList": {"type": "array", "items": {"type": "object", "required": ["type", "source"],
                                              "properties": {"type": _CBV_OR_URI, "source": _URI}}},
    "destinationList": {"type": "array", "items": {"type": "object", "required": ["type", "destination"],
                                                   "properties": {"type": _CBV_OR_URI, "destination": _URI}}},
    "persistentDisposition": {"type": "object", "properties": {"set": {"type": "array"},
                                                               "unset": {"type": "array"}}},
    "ilmd": {"type": "object"},
}
EPCIS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["@context", "type", "schemaVersion", "creationDate", "epcisBody"],
    "properties": {
        "@context": {"type": "array", "contains": {"const": "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"}},
        "type": {"const": "EPCISDocument"},
        "schemaVersion": {"const": "2.0"},
        "creationDate": {"type": "string", "format": "date-time"},
        "epcisBody": {"type": "object", "required": ["eventList"], "properties": {
            "eventList": {"type": "array", "items": {"oneOf": [
                {"type": "object", "required": ["type", "eventTime", "eventTimeZoneOffset", "action"],
                 "anyOf": [{"required": ["epcList"]}, {"required": ["quantityList"]}],
                 "properties": {**_COMMON, "type": {"const": "ObjectEvent"},
                                "action": {"enum": ["ADD", "OBSERVE", "DELETE"]},
                                "epcList": {"type": "array", "items": _URI}, "quantityList": _QLIST},
                 "if": {"not": {"properties": {"action": {"const": "ADD"}}}}, "then": {"not": {"required": ["ilmd"]}}},
                {"type": "object", "required": ["type", "eventTime", "eventTimeZoneOffset"],
                 "not": {"required": ["action"]},
                 "anyOf": [{"required": ["inputQuantityList"]}, {"required": ["inputEPCList"]},
                           {"required": ["outputQuantityList"]}, {"required": ["outputEPCList"]}],
                 "properties": {**_COMMON, "type": {"const": "TransformationEvent"},
                                "inputQuantityList": {**_QLIST, "minItems": 1},
                                "outputQuantityList": {**_QLIST, "minItems": 1}, "transformationID": _URI}},
            ]}}}},
    },
}


@pytest.fixture
def case(api: Api, site: dict[str, Any], session: Session) -> Case:
    return build_case(api, site, session)


@pytest.fixture
def recall_id(api: Api, case: Case) -> int:
    r = api.post("/recalls", {"lots": [{"lot_id": case.j1}], "scope": "upstream", "via": [{"lot_id": case.r1}],
                              "reason": "glass fragment"})
    assert r.status_code == 201, r.json
    rid: int = r.json["id"]
    api.post(f"/recalls/{rid}/notifications", {"customer_id": case.deli, "method": "phone",
                                                "response": "will return", "quantity_returned": "60"})
    return rid


def _csv_sections(data: bytes) -> dict[str, list[list[str]]]:
    text = data.decode("utf-8-sig")
    sections: dict[str, list[list[str]]] = {}
    current: list[list[str]] = []
    for row in csv.reader(io.StringIO(text)):
        if not row:
            continue
        if len(row) == 1:
            current = sections.setdefault(row[0], [])
            continue
        current.append(row)
    return sections


def test_recall_csv_has_every_section_with_the_hand_computed_figures(api: Api, recall_id: int) -> None:
    r = api.get(f"/recalls/{recall_id}/export.csv")
    assert r.status_code == 200
    assert r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    s = _csv_sections(r.data)
    assert {"Affected lots", "Consignees", "On hand", "Mass balance", "Suppliers", "Notifications"} <= set(s)
    header, *rows = s["Consignees"]
    people = {(row[header.index("Customer")], row[header.index("Lot")], row[header.index("Quantity")]) for row in rows}
    assert people == {("Corner Deli", "J1", "100"), ("Corner Deli", "GB1", "10"), ("Big Box", "J1", "70"),
                      ("Big Box", "J1", "50"), ("Farm Shop", "J1", "30"), ("Cafe Uno", "J2", "50")}
    header, *rows = s["Mass balance"]
    j1 = dict(zip(header, next(row for row in rows if row[1] == "J1"), strict=True))
    assert (j1["Produced"], j1["Shipped"], j1["Written off"], j1["Adjusted"], j1["On hand"], j1["Unaccounted"]) == (
        "400", "250", "20", "-5", "85", "0")


def test_recall_xlsx_opens_in_a_spreadsheet_sortable_and_frozen(api: Api, recall_id: int) -> None:
    r = api.get(f"/recalls/{recall_id}/export.xlsx")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.data))
    assert wb.sheetnames == ["Summary", "Affected lots", "Consignees", "On hand", "Mass balance", "Suppliers",
                             "Notifications"]
    ws = wb["Consignees"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:")
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, [c.value for c in row], strict=True)) for row in ws.iter_rows(min_row=2)]
    assert sum(D(str(x["Quantity"])) for x in rows if x["SKU"] == "JAM-RASP" and x["Lot"] == "J1") == 250
    assert {x["Phone"] for x in rows if x["Customer"] == "Corner Deli"} == {"+44 1632 960002"}
    stock = wb["On hand"]
    on_hand = {(row[1].value, row[3].value): row[5].value for row in stock.iter_rows(min_row=2)}
    assert on_hand == {("GB1", "KITCHEN"): 10, ("J1", "DRY-01"): 50, ("J1", "KITCHEN"): 35,
                       ("J2", "KITCHEN"): 150, ("R1", "COLD-01"): 10}
    notes = list(wb["Notifications"].iter_rows(min_row=2, values_only=True))
    assert notes[0][0] == "Corner Deli" and notes[0][5] == 60


def test_recall_pdf_is_a_readable_document(api: Api, recall_id: int) -> None:
    r = api.get(f"/recalls/{recall_id}/export.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    pdf = pypdfium2.PdfDocument(r.data)
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    for expected in ("Recall RC-000001", "Consignees", "Corner Deli", "Dev Patel", "Mass balance", "RB-7731"):
        assert expected in text


def test_drill_exports(api: Api, case: Case) -> None:
    drill = api.post("/drills", {"lots": [{"lot_id": case.j1}]}).json
    r = api.get(f"/drills/{drill['id']}/export.xlsx")
    assert r.status_code == 200
    assert load_workbook(io.BytesIO(r.data))["Affected lots"].max_row == 3  # header + J1 + GB1
    assert api.get(f"/drills/{drill['id']}/export.pdf").status_code == 200
    assert api.get("/drills/999/export.pdf").status_code == 404


def test_exports_of_an_unknown_recall_are_404(api: Api, case: Case) -> None:
    for ext in ("csv", "xlsx", "pdf"):
        assert api.get(f"/recalls/999/export.{ext}").status_code == 404


def _fsma_rows(api: Api, query: str) -> list[dict[str, Any]]:
    r = api.get(f"/exports/fsma204.xlsx?{query}")
    assert r.status_code == 200, r.json
    wb = load_workbook(io.BytesIO(r.data))
    assert wb.sheetnames == ["Traceability records", "Glossary"]
    ws = wb["Traceability records"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    header = [c.value for c in ws[1]]
    glossary = {row[0] for row in wb["Glossary"].iter_rows(min_row=2, values_only=True)}
    assert set(header) == glossary
    return [dict(zip(header, row, strict=True)) for row in ws.iter_rows(min_row=2, values_only=True)]


def test_fsma204_has_one_row_per_event_per_lot_with_the_key_data_elements(api: Api, case: Case) -> None:
    rows = _fsma_rows(api, f"from={DAY}&to={DAY}&sku=JAM-RASP")
    kinds = [(x["Critical Tracking Event"], x["Traceability Lot Code"], x["Input Traceability Lot Code"]) for x in rows]
    # Transformations of JAM-RASP: one row per input lot; shipping per shipment and lot; the gift
    # box run used J1 as an input, so it is a JAM-RASP event too.
    assert sorted(k for k in kinds if k[0] == "Transformation") == [
        ("Transformation", "GB1", "J1"), ("Transformation", "J1", "RB-7731"), ("Transformation", "J1", "S1"),
        ("Transformation", "J2", "RB-7731"), ("Transformation", "J2", "S1")]
    shipping = [x for x in rows if x["Critical Tracking Event"] == "Shipping"]
    assert sorted((x["Traceability Lot Code"], x["Quantity"]) for x in shipping) == [
        ("J1", 30), ("J1", 100), ("J1", 120), ("J2", 50)]
    deli = next(x for x in shipping if x["Quantity"] == 100)
    assert deli["Ship-To or Receiving Location"] == "Corner Deli, phone +44 1632 960002, 1 High St"
    assert deli["Ship-From Location"] == "Lotwise (Main site), phone not on file"
    assert deli["Reference Document Type"].startswith("Shipment") and deli["Reference Document Number"][:3] == "SH-"
    assert deli["Unit of Measure"] == "ea" and deli["Product Description"] == "Raspberry jam 340 g (JAM-RASP)"
    assert deli["GTIN"] == "09501101530003" and deli["Event Date"].date() == TODAY
    assert not any(x["Critical Tracking Event"] == "Receiving" for x in rows)


def test_fsma204_receiving_uses_the_suppliers_lot_code_as_traceability_lot_code(api: Api, case: Case) -> None:
    rows = _fsma_rows(api, f"from={DAY}&to={DAY}&sku=RASP")
    [receiving] = [x for x in rows if x["Critical Tracking Event"] == "Receiving"]
    assert receiving["Traceability Lot Code"] == "RB-7731" and receiving["Internal Lot Code"] == "R1"
    assert receiving["Ship-From Location"] == "Berry Farm, phone +44 1632 960001"
    assert receiving["Traceability Lot Code Source"] == "Berry Farm, phone +44 1632 960001"
    assert receiving["Quantity"] == 100 and receiving["Unit of Measure"] == "kg"
    assert receiving["Reference Document Number"].startswith("R-")


def test_fsma204_for_chosen_lots_and_as_csv(api: Api, case: Case) -> None:
    rows = _fsma_rows(api, f"from={DAY}&to={DAY}&lot_id={case.gb1}")
    assert sorted(x["Critical Tracking Event"] for x in rows) == ["Shipping", "Transformation"]
    r = api.get(f"/exports/fsma204.csv?from={DAY}&to={DAY}")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    parsed = list(csv.DictReader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert len(parsed) == 2 + 5 + 5  # receipts; inputs of J1 (2), J2 (2), GB1 (1); shipments
    assert {x["Critical Tracking Event"] for x in parsed} == {"Receiving", "Transformation", "Shipping"}


@pytest.mark.parametrize(("query", "status"), [
    ("from=2026-02-01&to=2026-01-01", 400),
    ("from=2026-01-01", 400),
    ("from=2026-01-01&to=2026-02-01&sku=NOPE", 404),
    ("from=2026-01-01&to=2026-02-01&lot_id=99999", 404),
    ("from=2026-01-01&to=2026-02-01&lot_id=abc", 422),
])
def test_fsma204_bad_input(api: Api, case: Case, query: str, status: int) -> None:
    assert api.get(f"/exports/fsma204.xlsx?{query}").status_code == status


def test_epcis_document_validates_and_carries_every_event_kind(api: Api, recall_id: int, case: Case) -> None:
    r = api.get(f"/exports/epcis.json?from={DAY}&to={DAY}")
    assert r.status_code == 200 and r.mimetype == "application/ld+json"
    doc = json.loads(r.data)
    jsonschema.Draft202012Validator(EPCIS_SCHEMA, format_checker=jsonschema.FormatChecker()).validate(doc)
    events = doc["epcisBody"]["eventList"]
    by_step: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        by_step.setdefault(e["bizStep"], []).append(e)
    assert sorted((k, len(v)) for k, v in by_step.items()) == [
        ("commissioning", 3), ("destroying", 1), ("holding", 1), ("receiving", 2), ("shipping", 5)]
    j1 = "https://id.gs1.org/01/09501101530003/10/J1"
    make_j1 = next(e for e in by_step["commissioning"] if e["outputQuantityList"][0]["epcClass"] == j1)
    assert make_j1["type"] == "TransformationEvent"
    assert sorted((re.split("[/=]", q["epcClass"])[-1], q["quantity"], q.get("uom")) for q in
                  make_j1["inputQuantityList"]) == [("R1", 60, "KGM"), ("S1", 40, "KGM")]
    assert make_j1["ilmd"]["cbvmda:lotNumber"] == "J1"
    # Products without a GTIN get a URI of our own under the configured base URL.
    assert make_j1["inputQuantityList"][0]["epcClass"].startswith("http://127.0.0.1:8000/lots/find?sku=")
    [destroy] = by_step["destroying"]
    assert (destroy["action"], destroy["disposition"], destroy["quantityList"][0]["quantity"]) == (
        "DELETE", "destroyed", 20)
    [recall] = by_step["holding"]
    assert recall["disposition"] == "recalled"
    assert {re.split("[/=]", q["epcClass"])[-1] for q in recall["quantityList"]} == {"J1", "R1", "J2", "GB1"}
    shipped = [e for e in by_step["shipping"] if any(q["epcClass"] == j1 for q in e["quantityList"])]
    assert len(shipped) == 3 and all(e["disposition"] == "in_transit" for e in shipped)
    assert len({e["eventID"] for e in events}) == len(events)


def test_epcis_ids_are_stable_and_an_empty_range_is_an_empty_list(api: Api, case: Case) -> None:
    first = json.loads(api.get(f"/exports/epcis.json?from={DAY}&to={DAY}").data)
    again = json.loads(api.get(f"/exports/epcis.json?from={DAY}&to={DAY}").data)
    assert [e["eventID"] for e in first["epcisBody"]["eventList"]] == [
        e["eventID"] for e in again["epcisBody"]["eventList"]]
    old = (TODAY - timedelta(days=400)).isoformat()
    empty = json.loads(api.get(f"/exports/epcis.json?from={old}&to={old}").data)
    assert empty["epcisBody"]["eventList"] == []
    jsonschema.validate(empty, EPCIS_SCHEMA)
    assert api.get(f"/exports/epcis.json?from={DAY}&to={old}").status_code == 400


def test_the_schema_rejects_what_epcis_forbids(api: Api, case: Case) -> None:
    doc = json.loads(api.get(f"/exports/epcis.json?from={DAY}&to={DAY}").data)
    bad = json.loads(json.dumps(doc))
    del bad["epcisBody"]["eventList"][0]["eventTimeZoneOffset"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, EPCIS_SCHEMA)
    bad = json.loads(json.dumps(doc))
    bad["schemaVersion"] = 2
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, EPCIS_SCHEMA)


def test_file_routes_are_in_the_openapi_document_with_their_media_types(api: Api, app: Any) -> None:
    with app.app_context():
        doc = build()
    paths = doc["paths"]
    assert "text/csv" in paths["/api/v1/recalls/{recall_id}/export.csv"]["get"]["responses"]["200"]["content"]
    assert "application/pdf" in paths["/api/v1/recalls/{recall_id}/export.pdf"]["get"]["responses"]["200"]["content"]
    assert "application/ld+json" in paths["/api/v1/exports/epcis.json"]["get"]["responses"]["200"]["content"]
    params = {p["name"] for p in paths["/api/v1/exports/fsma204.xlsx"]["get"]["parameters"]}
    assert {"from", "to", "sku", "lot_id"} <= params
    for rule in ("/api/v1/trace", "/api/v1/trace/lots/{lot_id}", "/api/v1/recalls", "/api/v1/drills",
                 "/api/v1/recalls/{recall_id}/notifications", "/api/v1/recalls/{recall_id}/close"):
        assert rule in paths

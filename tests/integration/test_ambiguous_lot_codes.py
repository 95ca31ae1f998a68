"""A lot code several products share (the default pattern repeats 261123-A across products each day) is
never settled by guessing: the scan API answers with every lot it may mean, and the pages list them
to choose from, with product, lot, expiry and what is on hand."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.models import Role
from tests.helpers.api import Api
from tests.helpers.bookings import receive
from tests.helpers.pages import user

CODE = "261123-A"


def two_lots(api: Api, site: dict[str, Any]) -> dict[str, int]:
    rasp = receive(api, site["supplier"], "RASP", "12", lot_code=CODE, expiry="2027-03-01", supplier_lot_code="BF-1")
    sugar = receive(api, site["sugar_supplier"], "SUGAR", "5", "DRY-01", lot_code=CODE, supplier_lot_code="BF-1")
    return {"RASP": rasp["lot_id"], "SUGAR": sugar["lot_id"]}


def test_the_scan_api_answers_a_shared_code_with_every_lot_it_may_mean(api: Api, site: dict[str, Any]) -> None:
    lots = two_lots(api, site)
    r = api.post("/scans/parse", {"raw": CODE})
    assert r.status_code == 200, r.json
    scan = r.json
    assert scan["found_lot"] is None and scan["product"] is None and scan["order"] is None
    assert [(c["lot_id"], c["sku"], c["code"], c["expiry"], c["on_hand"], c["unit"]) for c in scan["candidates"]] == [
        (lots["RASP"], "RASP", CODE, "2027-03-01", "12", "kg"),
        (lots["SUGAR"], "SUGAR", CODE, scan["candidates"][1]["expiry"], "5", "kg")]
    assert scan["candidates"][0]["product_name"] == "Raspberries IQF"
    assert "2 lots are known as '261123-A'" in scan["message"]
    # A supplier's lot code on two deliveries is just as ambiguous.
    shared = api.post("/scans/parse", {"raw": "BF-1"}).json
    assert shared["found_lot"] is None and {c["sku"] for c in shared["candidates"]} == {"RASP", "SUGAR"}


def test_a_label_naming_the_product_finds_its_one_lot(api: Api, site: dict[str, Any]) -> None:
    lots = two_lots(api, site)
    scan = api.post("/scans/parse", {"raw": f"(240)SUGAR(10){CODE}"}).json
    assert scan["found_lot"]["id"] == lots["SUGAR"] and scan["candidates"] == []
    single = receive(api, site["supplier"], "RASP", "3", lot_code="ONLY-1")
    scan = api.post("/scans/parse", {"raw": "ONLY-1"}).json
    assert scan["found_lot"]["id"] == single["lot_id"] and scan["candidates"] == []


def test_the_openapi_document_describes_the_candidates(api: Api) -> None:
    doc = api.client.get("/api/openapi.json", headers=api.headers).json
    schemas = doc["components"]["schemas"]
    assert set(schemas["LotCandidateOut"]["required"]) >= {"lot_id", "sku", "code", "expiry", "on_hand"}
    assert schemas["ScanOut"]["properties"]["candidates"]["items"] == {"$ref": "#/components/schemas/LotCandidateOut"}
    error = schemas["Error"]["properties"]["error"]["properties"]
    assert error["candidates"]["items"] == {"$ref": "#/components/schemas/LotCandidateOut"}
    assert error["title"]["type"] == "string"


def test_the_trace_api_refuses_to_choose_and_lists_the_candidates(api: Api, site: dict[str, Any]) -> None:
    lots = two_lots(api, site)
    r = api.get(f"/trace?scan={CODE}")
    assert r.status_code == 422
    err = r.json["error"]
    assert err["field"] == "scan"
    assert [(c["lot_id"], c["sku"]) for c in err["candidates"]] == [(lots["RASP"], "RASP"), (lots["SUGAR"], "SUGAR")]
    assert "RASP (expiry 2027-03-01, 12 kg on hand)" in err["message"]


def test_the_trace_page_lists_the_lots_to_choose_from(api: Api, client: FlaskClient, session: Session,
                                                      site: dict[str, Any]) -> None:
    lots = two_lots(api, site)
    viewer = user(client, session, "vera", Role.VIEWER)
    page = viewer.get(f"/trace?q={CODE}")
    assert page.status == 422
    table = re.search(r'<table class="table" id="lot-candidates">(.*?)</table>', page.html, re.S)
    assert table, page.text[:500]
    rows = re.findall(r"<tr><td><strong class=\"mono\">([^<]+)</strong>.*?href=\"([^\"]+)\"", table.group(1), re.S)
    assert [sku for sku, _ in rows] == ["RASP", "SUGAR"]
    assert "2027-03-01" in table.group(1) and "12 kg" in table.group(1)
    chosen = viewer.get(rows[1][1].replace("&amp;", "&"))
    assert chosen.status == 200
    assert f"/lots/{lots['SUGAR']}" in chosen.html and f"/lots/{lots['RASP']}" not in chosen.html


def test_the_lot_list_searched_by_code_shows_every_product_with_it(api: Api, client: FlaskClient, session: Session,
                                                                   site: dict[str, Any]) -> None:
    two_lots(api, site)
    viewer = user(client, session, "vera", Role.VIEWER)
    page = viewer.get(f"/lots?code={CODE}")
    assert page.status == 200
    assert "Raspberries IQF" in page.text and "Cane sugar" in page.text

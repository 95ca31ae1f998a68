"""Packaging levels: a product's case and pallet GTINs, and case labels scanned into the product's unit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Role, ScanEvent
from app.schemas.common import POSITIVE_PATTERN
from labels.gs1 import gtin_check_digit, yymmdd
from tests.helpers.api import Api
from tests.helpers.bookings import TODAY, refused

GS = "\x1d"
JAM_GTIN = "09501101530003"


def gtin(body: str) -> str:
    return body + str(gtin_check_digit(body))


JAM_CASE = gtin("1950110153000")        # a case of 12 jars of raspberry jam
JAM_PALLET = gtin("2950110153000")      # a pallet of 60 cases
RASP_BOX = gtin("1950600013435")        # a 5 kg box of raspberries (sold by the kg)
UNKNOWN_CASE = gtin("1950600099999")
EXPIRY = TODAY + timedelta(days=200)


def add(api: Api, product_id: int, level: str, code: str, content: str) -> dict[str, Any]:
    r = api.post(f"/products/{product_id}/packaging", {"level": level, "gtin": code, "content": content})
    assert r.status_code == 201, r.json
    return r.json


def scan(api: Api, raw: str) -> dict[str, Any]:
    r = api.post("/scans/parse", {"raw": raw, "station": "dock-1"})
    assert r.status_code == 200, r.json
    return r.json


def test_a_product_lists_its_cases_and_pallets_and_a_manager_removes_one(api: Api, site: dict[str, Any]) -> None:
    jam = site["JAM-RASP"]
    case = add(api, jam, "Case", JAM_CASE, "12")
    add(api, jam, "pallet", JAM_PALLET, "720")
    listed = api.get(f"/products/{jam}/packaging").json
    assert [(p["level"], p["gtin"], p["content"]) for p in listed] == [
        ("case", JAM_CASE, "12"), ("pallet", JAM_PALLET, "720")]
    assert case["product_id"] == jam
    r = api.delete(f"/products/{jam}/packaging/{case['id']}")
    assert r.status_code == 200, r.json
    assert [p["level"] for p in r.json] == ["pallet"]
    refused(api.delete(f"/products/{site['RASP']}/packaging/{case['id']}"), 404, "packaging_id")


def test_packaging_input_is_checked_field_by_field(api: Api, site: dict[str, Any]) -> None:
    jam = site["JAM-RASP"]
    bad_check = JAM_CASE[:-1] + str((int(JAM_CASE[-1]) + 1) % 10)
    assert "check digit" in refused(api.post(f"/products/{jam}/packaging",
                                             {"gtin": bad_check, "content": "12"}), 422, "gtin")["message"]
    refused(api.post(f"/products/{jam}/packaging", {"gtin": JAM_CASE, "content": "0"}), 422, "content")
    refused(api.post(f"/products/{jam}/packaging", {"gtin": JAM_CASE, "content": "-3"}), 422, "content")
    refused(api.post(f"/products/{jam}/packaging", {"gtin": JAM_CASE}), 422, "content")
    refused(api.post("/products/999999/packaging", {"gtin": JAM_CASE, "content": "12"}), 404, "product_id")
    # A GTIN names one thing: not a product's own GTIN, not another pack's.
    err = refused(api.post(f"/products/{site['RASP']}/packaging", {"gtin": JAM_GTIN, "content": "5"}), 409, "gtin")
    assert err["message"] == f"GTIN {JAM_GTIN} is already the GTIN of product JAM-RASP"
    add(api, jam, "case", JAM_CASE, "12")
    err = refused(api.post(f"/products/{site['RASP']}/packaging", {"gtin": JAM_CASE, "content": "5"}), 409, "gtin")
    assert err["message"] == f"GTIN {JAM_CASE} is already the GTIN of a case of JAM-RASP"
    refused(api.patch(f"/products/{site['SUGAR']}", {"gtin": JAM_CASE}), 409, "gtin")
    assert api.get(f"/products/{jam}/packaging").json[0]["gtin"] == JAM_CASE


def test_packaging_is_master_data_for_a_manager(api_as: Any, site: dict[str, Any]) -> None:
    operator = api_as(Role.OPERATOR)
    r = operator.post(f"/products/{site['JAM-RASP']}/packaging", {"gtin": JAM_CASE, "content": "12"})
    assert r.status_code == 403
    assert operator.get(f"/products/{site['JAM-RASP']}/packaging").status_code == 200


def test_a_content_gtin_of_a_case_with_a_count_comes_to_cases_times_content(api: Api, site: dict[str, Any]) -> None:
    add(api, site["JAM-RASP"], "case", JAM_CASE, "12")
    body = scan(api, f"]C102{JAM_CASE}372{GS}10SUP-9{GS}17{yymmdd(EXPIRY)}")
    assert body["product"]["sku"] == "JAM-RASP"
    assert (body["packaging"]["level"], body["packaging"]["content"]) == ("case", "12")
    assert (body["quantity"], body["receive_quantity"]) == ("2", "24")
    assert body["conversion"] == "2 cases × 12 ea = 24 ea"
    assert body["missing"] is None
    assert body["message"] == "Raspberry jam 340 g, lot SUP-9 not known yet: 2 cases × 12 ea = 24 ea"


def test_a_case_gtin_without_a_count_is_one_case(api: Api, site: dict[str, Any]) -> None:
    add(api, site["JAM-RASP"], "case", JAM_CASE, "12")
    for raw in (f"]I0{JAM_CASE}", f"01{JAM_CASE}10SUP-9"):
        body = scan(api, raw)
        assert (body["product"]["sku"], body["receive_quantity"], body["conversion"]) == (
            "JAM-RASP", "12", "1 case × 12 ea = 12 ea")


def test_a_case_of_kilograms_lands_in_kilograms(api: Api, site: dict[str, Any]) -> None:
    add(api, site["RASP"], "box", RASP_BOX, "5")
    body = scan(api, f"02{RASP_BOX}3712{GS}10BF-1")
    assert (body["product"]["sku"], body["receive_quantity"], body["conversion"]) == (
        "RASP", "60", "12 boxes × 5 kg = 60 kg")


def test_a_content_gtin_of_the_item_itself_counts_items(api: Api, site: dict[str, Any]) -> None:
    body = scan(api, f"02{JAM_GTIN}3724{GS}10SUP-9")
    assert (body["product"]["sku"], body["packaging"], body["receive_quantity"], body["conversion"]) == (
        "JAM-RASP", None, "24", None)


def test_a_case_gtin_in_01_with_a_count_is_read_as_that_many_cases(api: Api, site: dict[str, Any],
                                                                  session: Session) -> None:
    add(api, site["JAM-RASP"], "case", JAM_CASE, "12")
    body = scan(api, f"01{JAM_CASE}17{yymmdd(EXPIRY)}10SUP-9{GS}373")
    assert (body["gtin"], body["lot"], body["expiry"]) == (JAM_CASE, "SUP-9", EXPIRY.isoformat())
    assert (body["receive_quantity"], body["conversion"], body["missing"]) == ("36", "3 cases × 12 ea = 36 ea", None)
    session.rollback()
    event = session.scalars(select(ScanEvent).order_by(ScanEvent.id.desc())).first()
    assert event is not None and event.outcome == "incomplete" and event.parsed["quantity"] == "3"


def test_the_items_own_gtin_in_01_with_a_count_keeps_what_it_read_and_asks_for_the_quantity(
        api: Api, site: dict[str, Any]) -> None:
    body = scan(api, f"01{JAM_GTIN}17{yymmdd(EXPIRY)}10SUP-9{GS}3712")
    assert (body["product"]["sku"], body["lot"], body["expiry"], body["quantity"]) == (
        "JAM-RASP", "SUP-9", EXPIRY.isoformat(), "12")
    assert body["receive_quantity"] is None
    assert body["missing"] == ("The count (37) 12 on this label goes with the product's own GTIN (01), which GS1 "
                               "does not allow: count the Raspberry jam 340 g and enter the quantity")
    assert body["message"] == body["missing"]


def test_an_unknown_case_gtin_keeps_gtin_lot_expiry_and_count_and_says_what_is_missing(
        api: Api, site: dict[str, Any]) -> None:
    for raw in (f"02{UNKNOWN_CASE}376{GS}10SUP-4{GS}17{yymmdd(EXPIRY)}",
                f"01{UNKNOWN_CASE}17{yymmdd(EXPIRY)}10SUP-4{GS}376"):
        body = scan(api, raw)
        assert (body["gtin"], body["lot"], body["expiry"], body["quantity"]) == (
            UNKNOWN_CASE, "SUP-4", EXPIRY.isoformat(), "6")
        assert body["product"] is None and body["receive_quantity"] is None
        assert body["missing"] == (f"Case GTIN {UNKNOWN_CASE} is not known: add it as a packaging level of a "
                                   "product, or choose the product")


def test_a_lot_without_a_product_keeps_the_lot_and_expiry(api: Api, site: dict[str, Any]) -> None:
    body = scan(api, f"]C117{yymmdd(EXPIRY)}10ABC")
    assert (body["lot"], body["expiry"], body["product"]) == ("ABC", EXPIRY.isoformat(), None)
    assert body["missing"] == body["message"] == (
        "This barcode has a lot but no product (GTIN). Scan the product's barcode or choose the product, "
        "then scan again.")


def test_the_openapi_document_states_the_packaging_rules(api: Api) -> None:
    doc = api.client.get("/api/openapi.json", headers=api.headers).json
    schema = doc["components"]["schemas"]["PackagingIn"]["properties"]
    assert (schema["content"]["type"], schema["content"]["pattern"]) == ("string", POSITIVE_PATTERN)
    assert schema["gtin"]["pattern"] == "^([0-9]{8}|[0-9]{12,14})$"
    paths = doc["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/products/{product_id}/packaging"])
    assert "delete" in paths["/api/v1/products/{product_id}/packaging/{packaging_id}"]
    scan_out = doc["components"]["schemas"]["ScanOut"]["properties"]
    assert {"packaging", "receive_quantity", "conversion", "missing"} <= set(scan_out)

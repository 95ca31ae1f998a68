"""Scanning through the API: labels parsed and looked up, photos decoded, bad scans refused, every scan logged."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Role, ScanEvent
from app.services.scans import _ORDER_BY_NUMBER
from app.services.users import TokenCache
from labels.gs1 import gtin_check_digit, yymmdd
from labels.model import LotLabel
from labels.png import to_png
from tests.helpers.api import Api
from tests.helpers.bookings import TODAY, receive, refused, snapshot
from tests.helpers.databases import PG_URL, round_trips, statements
from tests.helpers.recall_case import ship

GS = "\x1d"
JAM_GTIN = "09501101530003"
SUPPLIER_GTIN = "0950600013435" + str(gtin_check_digit("0950600013435"))
EXPIRY = TODAY + timedelta(days=200)


def events(session: Session) -> list[ScanEvent]:
    session.rollback()  # see what the requests committed
    return list(session.scalars(select(ScanEvent).order_by(ScanEvent.id)))


def without_scans(snap: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    return {name: rows for name, rows in snap.items() if name != "scan_event"}


@pytest.fixture
def jam(api: Api, site: dict[str, Any]) -> dict[str, Any]:
    """A produced jam lot, 24 on hand in COLD-01."""
    rasp = receive(api, site["supplier"], "RASP", "50", supplier_lot_code="BF-77")
    r = api.post("/production-runs", {"sku": "JAM-RASP", "quantity": "24", "location": "COLD-01",
                                      "expiry": EXPIRY.isoformat(), "lot_code": "J0042",
                                      "expiry_reason": "shelf-life study",
                                      "inputs": [{"lot_id": rasp["lot_id"], "quantity": "10"}]})
    assert r.status_code == 201, r.json
    return {"rasp": rasp, "run": r.json}


def test_a_supplier_case_label_with_an_unknown_gtin_is_read_and_logged(api: Api, site: dict[str, Any],
                                                                       session: Session) -> None:
    raw = f"]C101{SUPPLIER_GTIN}17{yymmdd(EXPIRY)}10SUP-7{GS}3012"
    r = api.post("/scans/parse", {"raw": raw, "station": "dock-1"})
    assert r.status_code == 200, r.json
    body = r.json
    assert (body["kind"], body["gtin"], body["lot"], body["expiry"], body["quantity"]) == (
        "gs1", SUPPLIER_GTIN, "SUP-7", EXPIRY.isoformat(), "12")
    assert body["product"] is None and body["found_lot"] is None
    assert body["message"] == f"no product has GTIN {SUPPLIER_GTIN} yet"
    [event] = events(session)
    assert (event.id, event.raw, event.outcome, event.station) == (body["event_id"], raw, "ok", "dock-1")
    assert event.parsed is not None and event.parsed["lot"] == "SUP-7" and event.parsed["expiry"] == EXPIRY.isoformat()
    assert event.user_id is not None


def test_our_lot_label_names_the_lot_with_its_status_expiry_and_stock(api: Api, jam: dict[str, Any]) -> None:
    code = jam["run"]["output_lot_code"]
    r = api.post("/scans/parse", {"raw": f"]d201{JAM_GTIN}17{yymmdd(EXPIRY)}10{code}"})
    assert r.status_code == 200, r.json
    lot = r.json["found_lot"]
    assert r.json["product"]["sku"] == "JAM-RASP"
    assert (lot["id"], lot["code"], lot["status"], lot["expiry"], lot["on_hand"]) == (
        jam["run"]["output_lot_id"], code, "released", EXPIRY.isoformat(), "24")
    assert [(s["location"], s["on_hand"]) for s in lot["stock"]] == [("COLD-01", "24")]
    assert (lot["inputs"], lot["outputs"], lot["shipments"], lot["problem"]) == (1, 0, 0, None)
    assert r.json["message"] == f"Raspberry jam 340 g, lot {code}"


def test_a_lot_label_scan_takes_two_statements_however_much_the_lot_has_been_through(
        app: Flask, api: Api, jam: dict[str, Any], site: dict[str, Any]) -> None:
    """A handheld's scan of our lot label: the product with the lot, its supplier, genealogy counts and stock; the
    scan event (its token was read by the scan a moment before). More stock places, shipments and inputs do not
    add queries."""
    code, lot_id = jam["run"]["output_lot_code"], jam["run"]["output_lot_id"]
    label = {"raw": f"]C101{JAM_GTIN}17{yymmdd(EXPIRY)}10{code}"}
    engine = app.extensions["lotwise.engine"]

    def scan() -> tuple[dict[str, Any], list[str]]:
        api.post("/scans/parse", label)  # the handheld's scan a second before: its token is known for a while
        with statements(engine) as seen:
            r = api.post("/scans/parse", label)
        assert r.status_code == 200, r.json
        # BEGIN, COMMIT and the pool's ping are the driver's; what is counted is what the scan asks.
        return r.json["found_lot"], [s.split()[0].upper() for s in seen if not s.lstrip().upper().startswith("BEGIN")]

    lot, first = scan()
    assert first == ["SELECT", "INSERT"]
    assert (len(lot["stock"]), lot["inputs"], lot["shipments"]) == (1, 1, 0)

    for to in ("DRY-01", "KITCHEN"):
        assert api.post("/transfers", {"lot_id": lot_id, "from_location": "COLD-01", "to_location": to,
                                       "quantity": "2"}).status_code == 201
    ship(api, site["deli"], "JAM-RASP", [(lot_id, "COLD-01", "1")])
    ship(api, site["deli"], "JAM-RASP", [(lot_id, "DRY-01", "1")])
    lot, later = scan()
    assert later == first
    assert ([(s["location"], s["on_hand"]) for s in lot["stock"]], lot["shipments"]) == (
        [("COLD-01", "19"), ("DRY-01", "1"), ("KITCHEN", "2")], 2)


@pytest.mark.skipif(not PG_URL, reason="round trips to a PostgreSQL server (set LOTWISE_TEST_DATABASE_URL)")
def test_a_lot_label_scan_is_two_round_trips_to_postgresql(app: Flask, api: Api, jam: dict[str, Any]) -> None:
    """No ping before it, no BEGIN and COMMIT around it: the lot, the scan event, each committed as it runs; the
    token, read by the first scan, is known for a few seconds (here the cache's clock stands still). A wrong token
    is read every time and still counts against its address in one transaction (BEGIN … COMMIT)."""
    label = {"raw": f"]C101{JAM_GTIN}17{yymmdd(EXPIRY)}10{jam['run']['output_lot_code']}"}
    engine = app.extensions["lotwise.engine"]
    app.extensions["lotwise.tokens"] = TokenCache(5, clock=lambda: 0.0)
    with round_trips(engine) as trips:
        api.post("/scans/parse", label)  # the token (its last use was noted by the bookings above), lot, event
    assert len(trips) == 3 and not {"BEGIN", "COMMIT", "ROLLBACK"} & set(trips), trips
    for _ in range(3):
        with round_trips(engine) as trips:
            r = api.post("/scans/parse", label)
        assert r.status_code == 200, r.json
        assert r.json["found_lot"]["code"] == jam["run"]["output_lot_code"]
        assert len(trips) == 2 and not {"BEGIN", "COMMIT", "ROLLBACK"} & set(trips), trips
    with app.extensions["lotwise.sessions"]() as s:  # each one logged, and committed
        assert s.scalars(select(ScanEvent.raw)).all().count(label["raw"]) == 4

    with round_trips(engine) as trips:
        r = api.client.post("/api/v1/scans/parse", json=label, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401
    assert trips[-1] == "COMMIT" and "BEGIN" in trips, trips

    # Every pooled connection goes back to transactions for the next request (the pool hands them out in turn).
    for _ in range(2 * engine.pool.checkedin()):
        with round_trips(engine) as trips:
            assert api.get("/products").status_code == 200
        assert trips[0] == "BEGIN", trips


def test_a_supplier_lot_code_finds_the_lot_it_was_received_as(api: Api, jam: dict[str, Any]) -> None:
    r = api.post("/scans/parse", {"raw": "(240)RASP(10)BF-77"})
    assert r.status_code == 200, r.json
    assert r.json["found_lot"]["id"] == jam["rasp"]["lot_id"]
    assert r.json["found_lot"]["outputs"] == 1


def test_a_typed_supplier_lot_code_finds_the_lot_a_complaint_names(api: Api, jam: dict[str, Any]) -> None:
    r = api.post("/scans/parse", {"raw": "BF-77"})
    assert r.status_code == 200, r.json
    assert r.json["found_lot"]["id"] == jam["rasp"]["lot_id"]
    assert r.json["message"].endswith(f"lot {jam['rasp']['lot_code']}")


def test_a_held_lot_carries_the_reason_it_may_not_be_used(api: Api, jam: dict[str, Any]) -> None:
    lot_id = jam["rasp"]["lot_id"]
    assert api.post(f"/lots/{lot_id}/hold", {"reason": "foreign body found"}).status_code == 200
    r = api.post("/scans/parse", {"raw": f"(240)RASP(10){jam['rasp']['lot_code']}"})
    assert r.json["found_lot"]["problem"] == f"lot {jam['rasp']['lot_code']} is on hold: foreign body found"


def test_typed_text_names_a_product_a_lot_or_an_order(api: Api, jam: dict[str, Any], site: dict[str, Any]) -> None:
    assert api.post("/scans/parse", {"raw": "SUGAR"}).json["product"]["sku"] == "SUGAR"
    code = jam["run"]["output_lot_code"]
    assert api.post("/scans/parse", {"raw": code}).json["found_lot"]["code"] == code
    order = api.post("/orders", {"customer_id": site["deli"], "warehouse": "MAIN", "ship_date": TODAY.isoformat(),
                                 "lines": [{"sku": "JAM-RASP", "quantity": "1"}]}).json
    r = api.post("/scans/parse", {"raw": order["number"].lower()})
    assert r.json["order"] == {"id": order["id"], "number": order["number"], "status": "open"}
    assert api.post("/scans/parse", {"raw": "NOPE-1"}).json["message"] == "nothing is known as 'NOPE-1'"


def test_an_order_number_is_found_through_its_index_whatever_its_case(session: Session) -> None:
    """A typed code that names no lot is tried as an order number, case-insensitively: through the index on the
    number's upper case, not by reading every order (with the planner told to avoid reading a table through)."""
    conn = session.connection()
    number = _ORDER_BY_NUMBER.statement.compile(dialect=conn.dialect)
    if conn.dialect.name == "sqlite":
        plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + number.string, ("SO-1",)))
    else:
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = " ".join(str(row[0]) for row in conn.exec_driver_sql(
            "EXPLAIN " + number.string, {"number": "SO-1"}))
    assert "ix_sales_order_number_upper" in plan, plan


def test_the_configured_separator_substitute_is_understood(app: Flask, api: Api, site: dict[str, Any]) -> None:
    app.config["GS1_SEPARATOR"] = "~"
    r = api.post("/scans/parse", {"raw": f"01{JAM_GTIN}10L1~17{yymmdd(EXPIRY)}"})
    assert r.status_code == 200, r.json
    assert (r.json["lot"], r.json["expiry"], r.json["product"]["sku"]) == ("L1", EXPIRY.isoformat(), "JAM-RASP")


def test_a_bad_scan_is_refused_in_words_logged_and_books_nothing(api: Api, jam: dict[str, Any],
                                                                 session: Session) -> None:
    before = without_scans(snapshot(session))
    bad = JAM_GTIN[:-1] + str((int(JAM_GTIN[-1]) + 1) % 10)
    err = refused(api.post("/scans/parse", {"raw": f"01{bad}10X", "station": "line-2"}), 422, "raw", "invalid")
    assert "check digit" in err["message"].lower()
    assert refused(api.post("/scans/parse", {"raw": "   "}), 422, "raw")["message"]
    assert refused(api.post("/scans/parse", {"station": "x"}), 422, "raw")["message"] == "raw: Field required"
    assert without_scans(snapshot(session)) == before
    logged = events(session)
    assert [(e.outcome, e.station) for e in logged] == [("error", "line-2"), ("error", None)]
    assert logged[0].message == err["message"] and logged[0].parsed is None


def test_scanning_needs_a_login(client: Any) -> None:
    r = client.post("/api/v1/scans/parse", json={"raw": "SUGAR"})
    assert r.status_code == 401


def _upload(api: Api, data: bytes, **fields: str) -> Any:
    return api.client.post("/api/v1/scans/decode", headers=api.headers,
                           data={"image": (io.BytesIO(data), "photo.png"), **fields},
                           content_type="multipart/form-data")


def test_a_label_photo_is_decoded_and_each_barcode_parsed_and_looked_up(api: Api, jam: dict[str, Any],
                                                                         session: Session) -> None:
    code = jam["run"]["output_lot_code"]
    png = to_png(LotLabel(company="Lotwise", product_name="Raspberry jam", sku="JAM-RASP", lot_code=code,
                          base_url="https://lots.example", gtin=JAM_GTIN, expiry=EXPIRY), size="4x6", dpi=203)
    r = _upload(api, png, station="phone-3")
    assert r.status_code == 200, r.json
    reads = r.json["reads"]
    assert reads and all(read["scan"]["found_lot"]["id"] == jam["run"]["output_lot_id"] for read in reads)
    assert any(read["is_gs1"] and read["scan"]["kind"] == "gs1" for read in reads)
    logged = events(session)
    assert len(logged) == len(reads) and {e.station for e in logged} == {"phone-3"}


def test_a_photo_without_a_barcode_says_so_and_a_camera_frame_is_not_logged(api: Api, site: dict[str, Any],
                                                                              session: Session) -> None:
    blank = io.BytesIO()
    Image.new("L", (320, 240), 255).save(blank, format="PNG")
    r = _upload(api, blank.getvalue())
    assert r.status_code == 200 and r.json["reads"] == []
    assert r.json["message"].startswith("No barcode found")
    assert r.json["hint"]["reason"] == "unclear" and "closer" in r.json["hint"]["message"]
    r = _upload(api, blank.getvalue(), frame="true")
    assert r.status_code == 200 and r.json["reads"] == []
    assert [(e.outcome, e.message) for e in events(session)] == [("error", "photo: no barcode found")]


def test_uploads_that_are_not_photos_or_too_big_are_refused_clearly(api: Api, site: dict[str, Any],
                                                                    session: Session) -> None:
    before = without_scans(snapshot(session))
    err = refused(_upload(api, b"%PDF-1.4 not a photo"), 422, "image")
    assert "picture" in err["message"] or "image" in err["message"]
    err = refused(_upload(api, b""), 422, "image")
    r = _upload(api, b"\xff\xd8\xff" + b"\0" * (50 * 1024 * 1024))
    assert r.status_code == 413
    assert r.json["error"]["message"] == "The upload is larger than the 20 MB limit"
    r = api.client.post("/api/v1/scans/decode", headers=api.headers, data={"station": "x"},
                        content_type="multipart/form-data")
    assert refused(r, 422, "image")["message"] == "image: Field required"
    assert without_scans(snapshot(session)) == before
    assert [e.outcome for e in events(session)] == ["error", "error"]


def test_a_dark_photo_is_answered_with_advice_and_a_read_with_none(api: Api, site: dict[str, Any]) -> None:
    dark = io.BytesIO()
    Image.effect_noise((640, 480), 6).point(lambda v: v // 5).save(dark, format="JPEG")
    r = _upload(api, dark.getvalue())
    assert r.status_code == 200 and r.json["reads"] == []
    assert r.json["hint"] == {"reason": "dark", "message": "The photo is too dark: turn on a light or the phone's "
                                                           "torch, then try again."}
    png = to_png(LotLabel(company="Lotwise", product_name="Raspberry jam", sku="JAM-RASP", lot_code="J1",
                          base_url="https://lots.example", gtin=JAM_GTIN, expiry=EXPIRY), size="4x6", dpi=203)
    r = _upload(api, png)
    assert r.status_code == 200 and r.json["reads"] and r.json["hint"] is None


def test_the_decode_route_documents_its_multipart_body(api: Api) -> None:
    doc = api.client.get("/api/openapi.json", headers=api.headers).json
    op = doc["paths"]["/api/v1/scans/decode"]["post"]
    ref = op["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    image = schema["properties"]["image"]
    assert (image["type"], image["format"]) == ("string", "binary")
    assert "image" in schema["required"]
    answer = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    hint = doc["components"]["schemas"][answer]["properties"]["hint"]
    assert "what to do" in hint["description"]
    reason = doc["components"]["schemas"]["PhotoHintOut"]["properties"]["reason"]
    assert set(reason["enum"]) == {"dark", "glare", "blurred", "small", "unclear"}
    assert {"200", "401", "403", "413", "422"} <= set(op["responses"])
    assert "/api/v1/scans/parse" in doc["paths"]


def test_receiving_teaches_a_product_its_gtin_once(api_as: Any, site: dict[str, Any]) -> None:
    clerk = api_as(Role.OPERATOR)
    r = clerk.post("/scans/remember-gtin", {"product_id": site["RASP"], "gtin": SUPPLIER_GTIN})
    assert r.status_code == 200, r.json
    assert r.json["gtin"] == SUPPLIER_GTIN
    assert clerk.post("/scans/parse", {"raw": f"01{SUPPLIER_GTIN}10B1"}).json["product"]["sku"] == "RASP"
    other = "0950600013436" + str(gtin_check_digit("0950600013436"))
    refused(clerk.post("/scans/remember-gtin", {"product_id": site["RASP"], "gtin": other}), 409, "gtin")
    refused(clerk.post("/scans/remember-gtin", {"product_id": site["SUGAR"], "gtin": SUPPLIER_GTIN}), 409, "gtin")
    assert api_as(Role.VIEWER).post("/scans/remember-gtin", {"product_id": site["SUGAR"],
                                                             "gtin": other}).status_code == 403


def test_a_look_up_that_fails_still_leaves_its_scan_in_the_log(session: Session, monkeypatch: Any) -> None:
    """Whatever breaks while a scan is looked up (a lost connection, a bug), the scan itself is kept, as an error."""
    from app.services import scans
    from scanning import parse

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(scans, "resolve", broken)
    scan = parse(f"]C101{JAM_GTIN}10J0042", today=TODAY)
    with pytest.raises(RuntimeError):
        scans.look_up(session, scan, raw=scan.raw, outcome="ok", message=None, station="dock-1", user=None,
                      today=TODAY)
    [event] = events(session)
    assert (event.raw, event.outcome, event.station, event.message) == (
        scan.raw, "error", "dock-1", "look-up failed: RuntimeError")
    assert event.parsed is not None and event.parsed["lot"] == "J0042"

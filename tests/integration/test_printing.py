"""Printing to network label printers: a local TCP listener stands in for a Zebra and keeps what it is sent."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import LabelPrintJob, Role
from app.services.printing import status_problems
from tests.helpers.api import Api
from tests.helpers.label_files import expected, formats, receive_two, zpl_reads
from tests.helpers.printer import FakeZebra, host_status


@pytest.fixture
def zebra() -> Iterator[FakeZebra]:
    printer = FakeZebra()
    yield printer
    printer.close()


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(autouse=True)
def short_timeout(app: Flask) -> None:
    app.config["LABEL_PRINTER_TIMEOUT"] = 0.5


def add_printer(api: Api, port: int, **fields: Any) -> dict[str, Any]:
    r = api.post("/printers", {"name": "Dock Zebra", "host": "127.0.0.1", "port": port, **fields})
    assert r.status_code == 201, r.json
    return r.json  # type: ignore[no-any-return]


def jobs_recorded(session: Session) -> int:
    session.rollback()  # a fresh snapshot of what the requests committed
    return int(session.scalar(select(func.count()).select_from(LabelPrintJob)) or 0)


# --- printing ------------------------------------------------------------------------------------


def test_the_printer_receives_exactly_the_zpl_of_n_copies_over_one_connection(
        api: Api, site: dict, session: Session, zebra: FakeZebra) -> None:
    receipt = receive_two(api, site)
    printer = add_printer(api, zebra.port)
    r = api.post("/labels/print", {"printer_id": printer["id"], "receipt_id": receipt["id"], "copies": 3})
    assert r.status_code == 201, r.json
    job = r.json
    [raw] = zebra.wait()
    assert raw.startswith(b"~HS"), "asked for its status first, on the same connection"
    download = api.get(f"/labels/receipts/{receipt['id']}.zpl?size=4x6&dpi=203&copies=3").data
    [sent] = zebra.jobs
    assert sent == download
    labels = formats(sent.decode())
    assert len(labels) == 6 and "".join(labels) == sent.decode()
    for label, line in zip(labels[::3], receipt["lines"], strict=True):
        fields = expected(api, line["lot_id"])
        assert [x for x in zpl_reads(label) if x["kind"] == "datamatrix"] == [{"kind": "datamatrix", **fields}]
    assert job["labels"] == 6 and job["copies"] == 3 and job["size"] == "4x6" and job["dpi"] == 203
    assert job["bytes_sent"] == len(sent)
    assert job["subject"] == f"receipt {receipt['number']}"
    assert job["message"] == f"Sent 6 labels (receipt {receipt['number']}, 4x6) to printer 'Dock Zebra'."
    assert jobs_recorded(session) == 1


def test_the_printers_own_size_and_resolution_are_used_unless_a_size_is_asked_for(
        api: Api, site: dict, zebra: FakeZebra) -> None:
    receipt = receive_two(api, site)
    jam = receipt["lines"][1]["lot_id"]
    printer = add_printer(api, zebra.port, dpi=300, default_size="4x2")
    assert api.post("/labels/print", {"printer_id": printer["id"], "lot_ids": [jam]}).status_code == 201
    assert api.post("/labels/print", {"printer_id": printer["id"], "lot_ids": [jam, jam],
                                      "size": "2x1"}).status_code == 201
    zebra.wait(2)
    first, second = (job.decode() for job in zebra.jobs)
    assert first == api.get(f"/labels/lots/{jam}.zpl?size=4x2&dpi=300").get_data(as_text=True)
    assert "^PW1200" in first
    assert len(formats(second)) == 2 and "^PW600" in second


def test_a_production_runs_output_prints_with_its_quantity(api: Api, site: dict, zebra: FakeZebra) -> None:
    rasp = receive_two(api, site)["lines"][0]["lot_id"]
    run = api.post("/production-runs", {"sku": "JAM-RASP", "quantity": "400", "location": "KITCHEN",
                                        "inputs": [{"lot_id": rasp, "quantity": "60"}]}).json
    printer = add_printer(api, zebra.port)
    r = api.post("/labels/print", {"printer_id": printer["id"], "run_id": run["id"], "copies": 2})
    assert r.status_code == 201, r.json
    assert r.json["subject"] == f"production run {run['number']}"
    zebra.wait()
    [sent] = zebra.jobs
    assert sent == api.get(f"/labels/production-runs/{run['id']}.zpl?copies=2").data
    assert b"QTY 400 ea" in sent


def test_with_the_status_check_off_the_printer_gets_the_labels_and_nothing_else(
        api: Api, site: dict, zebra: FakeZebra) -> None:
    jam = receive_two(api, site)["lines"][1]["lot_id"]
    printer = add_printer(api, zebra.port, check_status=False)
    assert api.post("/labels/print", {"printer_id": printer["id"], "lot_ids": [jam], "copies": 4}).status_code == 201
    [raw] = zebra.wait()
    assert raw == api.get(f"/labels/lots/{jam}.zpl?copies=4").data


def test_a_replayed_request_prints_once(api: Api, site: dict, session: Session, zebra: FakeZebra) -> None:
    jam = receive_two(api, site)["lines"][1]["lot_id"]
    printer = add_printer(api, zebra.port)
    body = {"printer_id": printer["id"], "lot_ids": [jam]}
    first = api.post("/labels/print", body, headers={"Idempotency-Key": "print-1"})
    again = api.post("/labels/print", body, headers={"Idempotency-Key": "print-1"})
    assert first.status_code == again.status_code == 201
    assert first.json == again.json
    zebra.wait()
    time.sleep(0.2)
    assert len(zebra.received) == 1
    assert jobs_recorded(session) == 1


# --- printers that cannot print ----------------------------------------------------------------


def test_a_closed_port_is_a_502_naming_the_printer_and_nothing_is_recorded(
        api: Api, site: dict, session: Session, closed_port: int) -> None:
    receipt = receive_two(api, site)
    printer = add_printer(api, closed_port)
    r = api.post("/labels/print", {"printer_id": printer["id"], "receipt_id": receipt["id"]})
    assert r.status_code == 502
    assert r.json["error"]["code"] == "printer_unreachable"
    message = r.json["error"]["message"]
    assert message.startswith(f"Printer 'Dock Zebra' at 127.0.0.1:{closed_port} refused the connection")
    assert message.endswith("nothing was printed")
    assert jobs_recorded(session) == 0


def test_a_printer_that_takes_the_connection_but_never_answers_is_a_504_within_the_timeout(
        api: Api, site: dict, session: Session) -> None:
    hung = FakeZebra(read=False)
    try:
        receipt = receive_two(api, site)
        printer = add_printer(api, hung.port)
        started = time.monotonic()
        r = api.post("/labels/print", {"printer_id": printer["id"], "receipt_id": receipt["id"]})
        elapsed = time.monotonic() - started
    finally:
        hung.close()
    assert r.status_code == 504
    assert r.json["error"]["code"] == "printer_timeout"
    assert r.json["error"]["message"].startswith(
        f"Printer 'Dock Zebra' at 127.0.0.1:{hung.port} did not answer within 0.5 s; nothing was printed.")
    assert 0.4 < elapsed < 3
    assert jobs_recorded(session) == 0


def test_a_printer_that_reads_but_stays_silent_gets_no_labels(api: Api, site: dict, session: Session) -> None:
    silent = FakeZebra(answer=False)
    try:
        jam = receive_two(api, site)["lines"][1]["lot_id"]
        printer = add_printer(api, silent.port)
        r = api.post("/labels/print", {"printer_id": printer["id"], "lot_ids": [jam]})
        assert r.status_code == 504
        assert "stays silent while it is out of labels or ribbon" in r.json["error"]["message"]
        assert silent.wait() == [b"~HS"], "the labels were never sent"
    finally:
        silent.close()
    assert jobs_recorded(session) == 0


@pytest.mark.parametrize(("flags", "words"), [
    ({"paper_out": True}, "is out of labels"),
    ({"head_open": True}, "has its print head open"),
    ({"ribbon_out": True, "thermal_transfer": True}, "is out of ribbon"),
    ({"paper_out": True, "paused": True}, "is out of labels and is paused (press PAUSE on the printer to resume)"),
])
def test_a_printer_that_says_it_cannot_print_gets_no_labels(api: Api, site: dict, session: Session,
                                                            flags: dict[str, bool], words: str) -> None:
    empty = FakeZebra(host_status(**flags))
    try:
        jam = receive_two(api, site)["lines"][1]["lot_id"]
        printer = add_printer(api, empty.port)
        r = api.post("/labels/print", {"printer_id": printer["id"], "lot_ids": [jam]})
        assert r.status_code == 409
        assert r.json["error"] == {"code": "printer_not_ready", "field": "printer_id",
                                   "message": f"Printer 'Dock Zebra' {words}; nothing was printed"}
        assert empty.wait() == [b"~HS"]
    finally:
        empty.close()
    assert jobs_recorded(session) == 0


def test_a_device_that_answers_like_no_zebra_is_refused(api: Api, site: dict) -> None:
    other = FakeZebra(b"HTTP/1.0 400 Bad Request\r\n\r\n")
    try:
        jam = receive_two(api, site)["lines"][1]["lot_id"]
        printer = add_printer(api, other.port)
        r = api.post("/labels/print", {"printer_id": printer["id"], "lot_ids": [jam]})
    finally:
        other.close()
    assert r.status_code == 502
    assert "did not answer the status query as a Zebra printer does; nothing was printed" in r.json["error"]["message"]


def test_the_ribbon_flag_counts_only_in_thermal_transfer_mode() -> None:
    assert status_problems(host_status()) == []
    assert status_problems(host_status(ribbon_out=True)) == []
    assert status_problems(host_status(ribbon_out=True, thermal_transfer=True)) == ["is out of ribbon"]
    with pytest.raises(ValueError):
        status_problems(b"\x02hello\x03")


def test_bad_labels_are_refused_before_the_printer_is_contacted(
        api: Api, site: dict, session: Session, zebra: FakeZebra) -> None:
    r = api.post("/receipts", {"supplier_id": site["supplier"], "lines": [
        {"sku": "RASP", "quantity": "5", "location": "COLD-01", "lot_code": "OK-1"},
        {"sku": "JAM-RASP", "quantity": "5", "location": "COLD-01", "lot_code": "LOT 7"}]})
    receipt = r.json
    printer = add_printer(api, zebra.port)
    r = api.post("/labels/print", {"printer_id": printer["id"], "receipt_id": receipt["id"]})
    assert r.status_code == 422
    assert "'LOT 7'" in r.json["error"]["message"]
    long = api.post("/receipts", {"supplier_id": site["supplier"], "lines": [
        {"sku": "JAM-RASP", "quantity": "5", "location": "COLD-01", "lot_code": "WWWWWWWWWWWWWWWWWWWW"}]}).json
    r = api.post("/labels/print", {"printer_id": printer["id"], "receipt_id": long["id"], "size": "2x1"})
    assert r.status_code == 422 and r.json["error"]["field"] == "size"
    assert "WWWWWWWWWWWWWWWWWWWW" in r.json["error"]["message"]
    time.sleep(0.2)
    assert zebra.received == []
    assert jobs_recorded(session) == 0


def test_unknown_printers_and_documents_are_404_and_switched_off_printers_409(
        api: Api, site: dict, zebra: FakeZebra) -> None:
    receipt = receive_two(api, site)
    r = api.post("/labels/print", {"printer_id": 999, "receipt_id": receipt["id"]})
    assert r.status_code == 404
    assert r.json["error"] == {"code": "not_found", "field": "printer_id", "message": "printer 999 does not exist"}
    printer = add_printer(api, zebra.port)
    r = api.post("/labels/print", {"printer_id": printer["id"], "receipt_id": 999})
    assert r.status_code == 404 and r.json["error"]["field"] == "receipt_id"
    r = api.post("/labels/print", {"printer_id": printer["id"], "lot_ids": [receipt["lines"][0]["lot_id"], 998]})
    assert r.status_code == 404 and r.json["error"]["message"] == "lot 998 does not exist"
    assert api.patch(f"/printers/{printer['id']}", {"active": False}).status_code == 200
    r = api.post("/labels/print", {"printer_id": printer["id"], "receipt_id": receipt["id"]})
    assert r.status_code == 409
    assert r.json["error"]["message"] == "printer 'Dock Zebra' is switched off in the printer settings"
    assert zebra.received == []


@pytest.mark.parametrize(("body", "field", "words"), [
    ({}, None, "exactly one"),
    ({"receipt_id": 1, "run_id": 1}, None, "exactly one"),
    ({"lot_ids": []}, "lot_ids", "at least 1"),
    ({"lot_ids": [1], "size": "62mm"}, "size", "'62mm' is not a thermal label size"),
    ({"lot_ids": [1], "copies": 0}, "copies", "greater than or equal to 1"),
    ({"lot_ids": [2**40]}, "lot_ids.0", "less than or equal to 2147483647"),
])
def test_bad_print_requests_are_refused_by_name(api: Api, body: dict, field: str | None, words: str) -> None:
    r = api.post("/labels/print", {"printer_id": 1, **body})
    assert r.status_code == 422
    assert r.json["error"]["field"] == field
    assert words in r.json["error"]["message"]


# --- printers and roles --------------------------------------------------------------------------


def test_managers_add_and_change_printers(api: Api, api_as: Any) -> None:
    manager = api_as(Role.MANAGER)
    r = manager.post("/printers", {"name": "Line 2 Zebra", "host": "zebra-line2.local", "dpi": 300,
                                   "default_size": "4x2"})
    assert r.status_code == 201, r.json
    printer = r.json
    assert (printer["port"], printer["check_status"], printer["active"]) == (9100, True, True)
    assert manager.get(f"/printers/{printer['id']}").json == printer
    r = manager.patch(f"/printers/{printer['id']}", {"host": "10.0.0.7", "port": 6101, "check_status": False})
    assert r.status_code == 200
    assert (r.json["host"], r.json["port"], r.json["check_status"], r.json["dpi"]) == ("10.0.0.7", 6101, False, 300)
    assert [p["name"] for p in api_as(Role.VIEWER).get("/printers").json] == ["Line 2 Zebra"]
    assert manager.post("/printers", {"name": "Line 2 Zebra", "host": "x"}).status_code == 409
    assert manager.patch("/printers/999", {"port": 9100}).status_code == 404
    assert manager.get("/printers/999").status_code == 404
    assert manager.get("/printers/99999999999999999999").status_code == 404


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"dpi": 600}, "dpi", "203 or 300"),
    ({"default_size": "62mm"}, "default_size", "'62mm' is not a thermal label size"),
    ({"host": "10.0.0.5:9100"}, "host", "give the port in its own field"),
    ({"host": "http://printer"}, "host", "should match pattern"),
    ({"port": 70000}, "port", "less than or equal to 65535"),
    ({"name": " "}, "name", "at least 1 character"),
])
def test_bad_printer_settings_are_refused_by_name(api: Api, body: dict, field: str, words: str) -> None:
    r = api.post("/printers", {"name": "P", "host": "10.0.0.5", **body})
    assert r.status_code == 422
    assert r.json["error"]["field"] == field
    assert words in r.json["error"]["message"]


def test_operators_print_but_only_managers_manage_printers_and_viewers_cannot_print(
        api: Api, api_as: Any, site: dict, zebra: FakeZebra) -> None:
    jam = receive_two(api, site)["lines"][1]["lot_id"]
    printer = add_printer(api, zebra.port)
    operator, viewer = api_as(Role.OPERATOR), api_as(Role.VIEWER)
    r = operator.post("/printers", {"name": "Mine", "host": "10.0.0.9"})
    assert r.status_code == 403 and "manager" in r.json["error"]["message"]
    assert operator.patch(f"/printers/{printer['id']}", {"port": 1}).status_code == 403
    assert operator.post(f"/printers/{printer['id']}/test").status_code == 403
    assert operator.patch("/label-settings", {"pdf_size": "4x2"}).status_code == 403
    r = viewer.post("/labels/print", {"printer_id": printer["id"], "lot_ids": [jam]})
    assert r.status_code == 403 and "operator" in r.json["error"]["message"]
    assert operator.post("/labels/print", {"printer_id": printer["id"], "lot_ids": [jam]}).status_code == 201
    zebra.wait()
    assert len(zebra.received) == 1


def test_a_test_print_shows_the_printers_settings_in_a_frame(api: Api, session: Session, zebra: FakeZebra) -> None:
    printer = add_printer(api, zebra.port, default_size="2x1", dpi=300, active=False)
    r = api.post(f"/printers/{printer['id']}/test")
    assert r.status_code == 201, r.json
    assert r.json["subject"] == "test label" and r.json["labels"] == 1
    zebra.wait()
    [zpl] = (job.decode() for job in zebra.jobs)
    assert zpl.startswith("^XA") and zpl.endswith("^XZ\n") and zpl.count("^XA") == 1
    assert "^PW600" in zpl and "^LL300" in zpl, "2×1 in at 300 dpi"
    assert "^GB" in zpl
    for words in ("Label printer test", "Printer Dock Zebra", f"127.0.0.1:{zebra.port} · 300 dpi", "2×1 in label"):
        assert words in zpl
    assert jobs_recorded(session) == 1


def test_a_test_print_to_a_dead_printer_says_so(api: Api, closed_port: int) -> None:
    printer = add_printer(api, closed_port)
    r = api.post(f"/printers/{printer['id']}/test")
    assert r.status_code == 502
    assert "refused the connection" in r.json["error"]["message"]


def test_site_label_defaults_are_read_by_all_and_changed_by_managers(api: Api, api_as: Any) -> None:
    viewer = api_as(Role.VIEWER)
    r = viewer.get("/label-settings")
    assert r.status_code == 200
    assert (r.json["pdf_size"], r.json["zpl_size"], r.json["zpl_dpi"]) == ("4x6", "4x6", 203)
    assert "letter-30" in r.json["pdf_sizes"] and "62mm" not in r.json["zpl_sizes"]
    r = api.patch("/label-settings", {"pdf_size": "a4-21"})
    assert r.status_code == 200 and (r.json["pdf_size"], r.json["zpl_size"]) == ("a4-21", "4x6")
    r = api.patch("/label-settings", {"zpl_size": "62mm"})
    assert r.status_code == 422 and r.json["error"]["field"] == "zpl_size"
    assert viewer.patch("/label-settings", {"zpl_dpi": 300}).status_code == 403
    assert viewer.get("/label-settings").json["pdf_size"] == "a4-21"


# --- the OpenAPI document ----------------------------------------------------------------------


def conforms(doc: dict[str, Any], path: str, method: str, response: Any) -> None:
    """The response's status is documented for the operation and its body matches the documented schema."""
    responses = doc["paths"]["/api/v1" + path][method]["responses"]
    status = str(response.status_code)
    assert status in responses, f"{method.upper()} {path} answered {status}, which is not documented"
    schema = responses[status]["content"]["application/json"]["schema"]
    strict = {name: {**s, "additionalProperties": False} if "properties" in s else s
              for name, s in doc["components"]["schemas"].items()}
    resolver = Registry().with_resource("urn:doc", Resource.from_contents(
        {"components": {"schemas": strict}}, default_specification=DRAFT202012))
    rebased = json.loads(json.dumps(schema).replace('"#/components', '"urn:doc#/components'))
    errors = [e.message for e in Draft202012Validator(rebased, registry=resolver).iter_errors(response.json)]
    assert not errors, (method, path, status, errors[:3])


def test_printing_responses_match_the_openapi_document(api: Api, site: dict, closed_port: int,
                                                       zebra: FakeZebra) -> None:
    doc = api.client.get("/api/openapi.json", headers=api.headers).json
    jam = receive_two(api, site)["lines"][1]["lot_id"]
    r = api.post("/printers", {"name": "Dock Zebra", "host": "127.0.0.1", "port": zebra.port})
    conforms(doc, "/printers", "post", r)
    ok = r.json["id"]
    conforms(doc, "/printers", "post", api.post("/printers", {"name": "Dock Zebra", "host": "x"}))
    conforms(doc, "/printers", "get", api.get("/printers"))
    conforms(doc, "/printers/{printer_id}", "get", api.get(f"/printers/{ok}"))
    conforms(doc, "/printers/{printer_id}", "patch", api.patch(f"/printers/{ok}", {"dpi": 300}))
    conforms(doc, "/printers/{printer_id}", "patch", api.patch("/printers/999", {"dpi": 300}))
    conforms(doc, "/labels/print", "post", api.post("/labels/print", {"printer_id": ok, "lot_ids": [jam]}))
    conforms(doc, "/printers/{printer_id}/test", "post", api.post(f"/printers/{ok}/test"))
    dead = api.post("/printers", {"name": "Gone", "host": "127.0.0.1", "port": closed_port}).json["id"]
    conforms(doc, "/labels/print", "post", api.post("/labels/print", {"printer_id": dead, "lot_ids": [jam]}))
    conforms(doc, "/labels/print", "post", api.post("/labels/print", {"printer_id": 999, "lot_ids": [jam]}))
    conforms(doc, "/label-settings", "get", api.get("/label-settings"))
    conforms(doc, "/label-settings", "patch", api.patch("/label-settings", {"zpl_dpi": 300}))
    hung = FakeZebra(read=False)
    try:
        slow = api.post("/printers", {"name": "Hung", "host": "127.0.0.1", "port": hung.port}).json["id"]
        conforms(doc, "/labels/print", "post", api.post("/labels/print", {"printer_id": slow, "lot_ids": [jam]}))
    finally:
        hung.close()

"""The served OpenAPI document against the server, by schemathesis, over a copy of the demo company.

Every operation gets requests the document allows and requests it forbids, as an admin with a bearer token, and
every answer must be one the document promises: no server error, a documented status and media type, a body that
matches its schema, headers as documented, what the document forbids refused with a 4xx and what it allows
accepted (or refused only for the state of the stock: 404, 409). Ids in paths are drawn from rows the demo company
really has, so the operations answer with real data, not only 404s.

Runs on SQLite, and on PostgreSQL when LOTWISE_TEST_DATABASE_URL is set (the database fixtures switch on it).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from schemathesis.config import SchemathesisConfig
from sqlalchemy import text

from app.errors import Invalid
from app.exports.workbook import WorkbookError, WorkbookReader
from app.models import Role
from app.schemas.common import gtin_ok
from app.schemas.imports import sheet_named
from labels.gs1 import company_prefix_problem
from scanning import ScanError, decode, parse
from tests.helpers.api import TODAY, make_app, make_token
from tests.helpers.databases import clone, drop_database
from tests.helpers.printer import FakeZebra

# Examples per operation and generation mode (positive and negative), before the explicit and coverage cases
# schemathesis adds; 95 operations × this keeps the module near a minute of CPU per database.
EXAMPLES_PER_OPERATION = 8

# A path parameter → the table whose ids it names.
ID_TABLES = {
    "lot_id": "lot", "order_id": "sales_order", "receipt_id": "receipt", "run_id": "production_run",
    "shipment_id": "shipment", "return_id": "customer_return", "adjustment_id": "adjustment",
    "transfer_id": "transfer", "product_id": "product", "supplier_id": "supplier", "customer_id": "customer",
    "location_id": "location", "printer_id": "label_printer", "recall_id": "recall", "drill_id": "recall_drill",
    "write_off_id": "write_off",
}


@pytest.fixture(scope="module")
def zebra() -> Iterator[FakeZebra]:
    printer = FakeZebra()
    yield printer
    printer.server.close()


@pytest.fixture(scope="module")
def contract_app(demo_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One private copy of the demo company for the whole module (bookings made here stay in it)."""
    folder = tmp_path_factory.mktemp("contract")
    url = clone(demo_template, folder)
    application = make_app(url, folder)
    # Schemathesis sends many requests with wrong credentials to check each is refused with 401; the
    # address lockout that would follow them (a 429, tested in test_sign_in_throttle) is lifted here.
    application.config["LOGIN_ADDRESS_MAX_FAILURES"] = 1_000_000
    yield application
    application.extensions["lotwise.engine"].dispose()
    drop_database(url)


def _real_ids(application: Flask) -> dict[str, list[int]]:
    with application.extensions["lotwise.sessions"]() as s:
        return {name: list(s.scalars(text(f"SELECT id FROM {table} ORDER BY id LIMIT 3")))
                for name, table in ID_TABLES.items()}


def _add_what_the_demo_lacks(application: Flask, auth: dict[str, str], printer_port: int) -> None:
    """A label printer (a stand-in Zebra), a recall and a drill: the demo company has none of them."""
    client = application.test_client()
    with application.extensions["lotwise.sessions"]() as s:
        lot_id = s.scalar(text("SELECT min(id) FROM lot"))
    for path, body in [("/printers", {"name": "Dock printer", "host": "127.0.0.1", "port": printer_port}),
                       ("/recalls", {"lots": [{"lot_id": lot_id}], "reason": "contract test"}),
                       ("/drills", {"lots": [{"lot_id": lot_id}]})]:
        r = client.post("/api/v1" + path, json=body, headers=auth)
        assert r.status_code == 201, (path, r.json)


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1", "yes", "on"))


def _unreadable(scan: str) -> bool:
    try:
        parse(scan, today=TODAY)
    except ScanError:
        return True
    return False


def _lot_named_twice(node: Any) -> bool:
    if isinstance(node, list):
        return any(_lot_named_twice(item) for item in node)
    if not isinstance(node, dict):
        return False
    if node.get("lot_id") is not None and (node.get("sku") is not None or node.get("lot_code") is not None):
        return True
    return any(_lot_named_twice(value) for value in node.values())


def _image(data: bytes) -> bool:
    try:
        decode(data)
    except ScanError:
        return False
    return True


def _workbook(data: Any, filename: Any, sheet: Any) -> bool:
    """Whether the import would read the upload: a workbook, or a CSV whose sheet is named."""
    if not isinstance(data, bytes):
        return False
    try:
        named = sheet_named(sheet if isinstance(sheet, str) else None)
        WorkbookReader(data, filename=filename if isinstance(filename, str) else None, sheet=named).close()
    except (Invalid, WorkbookError):
        return False
    return True


def _rules_in_words_broken(case: Any) -> list[str]:
    """The rules the document states in words because a JSON schema cannot (check digits, one field against
    another, against today): a request that breaks one is refused with a 400 or 422 by design, so it is no valid
    data."""
    query: dict[str, Any] = case.query or {}
    body: dict[str, Any] = case.body if isinstance(case.body, dict) else {}
    broken = []
    start, end = _day(query.get("from")), _day(query.get("to"))
    if start and end and start > end:
        broken.append("from after to")
    if any(isinstance(v, str) and "\x00" in v for v in query.values()):
        # Documented with the 400 answer: a NUL character anywhere makes the request unreadable.
        broken.append("a NUL character in the query string")
    if case.path.startswith("/api/v1/exports/"):
        chosen = [name for name in ("recall", "lot", "product") if query.get(name) is not None]
        if len(chosen) > 1:
            broken.append("more than one of recall, lot and product")
        if not chosen and (query.get("from") is None or query.get("to") is None):
            broken.append("a regulator's export with neither a choice nor a whole date range")
        if chosen and (query.get("sku") or query.get("lot_id")):
            broken.append("sku or lot_id with a recall, lot or product")
    if _true(query.get("expired_only")) and _true(query.get("expiring_only")):
        broken.append("expired_only and expiring_only")
    if case.path == "/api/v1/trace":
        starts = sum(1 for name in ("supplier_lot_code", "shipment", "scan", "sku") if query.get(name))
        if starts != 1:
            broken.append("not exactly one starting point")
    for name in ("gtin", "gln"):
        value = body.get(name)
        if isinstance(value, str) and value.strip().isdigit() and not gtin_ok(value.strip()):
            broken.append(f"{name} check digit")
    scans = [body.get("raw"), query.get("scan"), *(body.get("scans") or [])]
    for scan in scans:
        if isinstance(scan, str) and _unreadable(scan):
            broken.append("a scan that cannot be read")
    if _lot_named_twice(body):
        broken.append("a lot named by lot_id and by sku or lot_code, which must agree")
    image = getattr(body.get("image"), "data", body.get("image"))  # schemathesis wraps generated bytes
    if case.path == "/api/v1/scans/decode" and isinstance(image, bytes) and not _image(image):
        broken.append("an upload that is not an image")
    upload = getattr(body.get("file"), "data", body.get("file"))
    if case.path == "/api/v1/imports" and not _workbook(upload, body.get("filename"), body.get("sheet")):
        broken.append("an upload that is not a workbook, or a sheet name that is none of the workbook's")
    if case.method == "PUT" and case.path.endswith("/recipe"):
        made = str((case.path_parameters or {}).get("sku", "")).strip()
        inputs = [str(i.get("sku", "")).strip() for i in body.get("inputs") or [] if isinstance(i, dict)]
        if made in inputs:
            broken.append("a recipe that uses its own product")
        if len(set(inputs)) < len(inputs):
            broken.append("a recipe that names one input twice")
    prefix = body.get("company_prefix")
    if case.path == "/api/v1/gs1/company-prefix" and isinstance(prefix, str) and company_prefix_problem(prefix.strip()):
        broken.append("a company prefix from a range GS1 does not give companies")
    host = body.get("host")
    if isinstance(host, str) and host.count(":") == 1:
        broken.append("a port written after the host instead of in its own field")
    returned = _day(body.get("returned_on"))
    if case.path == "/api/v1/returns" and returned and returned < TODAY - timedelta(days=365):
        broken.append("a return dated before the demo's lots were received")
    for name in ("ship_date", "ship_by"):
        day = _day(body.get(name)) or _day(query.get(name))
        if day and day < TODAY and case.method == "POST":
            broken.append(f"{name} in the past")
    return broken


@pytest.fixture(scope="module")
def contract_schema(contract_app: Flask, zebra: FakeZebra) -> Any:
    with contract_app.extensions["lotwise.sessions"]() as s:
        token = make_token(s, "contract-admin", Role.ADMIN)
    auth = {"Authorization": f"Bearer {token}"}
    _add_what_the_demo_lacks(contract_app, auth, zebra.port)
    config = SchemathesisConfig.from_dict({
        "headers": auth,
        "generation": {"mode": "all", "max-examples": EXAMPLES_PER_OPERATION, "deterministic": True,
                       "database": "none"},
        # A label printer that refuses or does not answer is a 502 or 504, documented where it can happen.
        "checks": {"enabled": True, "not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", 502, 504]},
                   # A query string made long enough by invalid values is refused for its length (414) first.
                   "negative_data_rejection": {"expected-statuses": [400, 401, 403, 404, 405, 406, 409, 414, 415,
                                                                      422, 428, 429]}},
    })
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", contract_app, config=config, headers=auth)
    ids = _real_ids(contract_app)
    missing = sorted(name for name, found in ids.items() if not found)
    assert not missing, f"the demo company has no rows for {missing}: the contract test would only see 404s"

    @schema.hook("flatmap_path_parameters")  # type: ignore[misc]
    def _real_rows(context: Any, path_parameters: dict[str, Any] | None) -> SearchStrategy[dict[str, Any] | None]:
        """Half the time, an id the demo company really has; the other half, whatever was generated."""
        if not path_parameters:
            return st.just(path_parameters)
        real = {name: st.sampled_from(ids[name]) for name, value in path_parameters.items()
                if name in ids and isinstance(value, int) and not isinstance(value, bool)}
        if not real:
            return st.just(path_parameters)
        return st.one_of(st.just(path_parameters), st.fixed_dictionaries({**{
            k: st.just(v) for k, v in path_parameters.items()}, **real}))

    @schema.hook("filter_case")  # type: ignore[misc]
    def _valid_data_keeps_the_rules_in_words(context: Any, case: Any) -> bool:
        if case.meta is None:
            return True
        if case.meta.generation.mode.is_positive:
            return not _rules_in_words_broken(case)
        # A form field given as an empty list is no field at all in multipart/form-data: not invalid data.
        multipart = case.media_type == "multipart/form-data" and isinstance(case.body, dict)
        return not (multipart and any(value == [] for value in case.body.values()))

    return schema


schema = schemathesis.pytest.from_fixture("contract_schema")
KEYS = itertools.count(1)


@schema.parametrize()
@settings(deadline=None, derandomize=True, database=None, print_blob=False,
          suppress_health_check=list(HealthCheck))
def test_every_answer_is_one_the_document_promises(case: Any, contract_app: Flask) -> None:
    key = (case.headers or {}).get("Idempotency-Key")
    valid = case.meta is not None and case.meta.generation.mode.is_positive
    if valid and isinstance(key, str) and 1 <= len(key) <= 100:
        # A generated key repeats across requests with other bodies, which is refused (422) by design;
        # replays are proved in test_idempotency, so each valid request here books under a key of its own.
        case.headers["Idempotency-Key"] = f"contract-{next(KEYS)}"
    if valid and _rules_in_words_broken(case):
        # The coverage phase does not pass its cases through filter_case: a request breaking a rule the
        # document states in words is refused by design, with an error naming the field.
        response = case.call()
        assert response.status_code in (400, 404, 409, 422), (response.status_code, response.text)
        return
    case.call_and_validate()

"""The OpenAPI document: well-formed 3.1, complete for every API route, and true to the real responses."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from flask import Flask
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from app.models import Role
from tests.helpers.api import Api
from tests.helpers.bookings import TODAY, receive

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}

# Just enough of OpenAPI 3.1 to catch a malformed document.
OPENAPI_SHAPE: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["openapi", "info", "paths", "components"],
    "properties": {
        "openapi": {"type": "string", "pattern": r"^3\.1\.\d+$"},
        "info": {"type": "object", "required": ["title", "version"],
                 "properties": {"title": {"type": "string"}, "version": {"type": "string"}}},
        "servers": {"type": "array", "items": {"type": "object", "required": ["url"]}},
        "security": {"type": "array", "items": {"type": "object"}},
        "paths": {
            "type": "object",
            "propertyNames": {"pattern": "^/"},
            "additionalProperties": {
                "type": "object",
                "propertyNames": {"enum": sorted(METHODS | {"parameters", "summary", "description"})},
                "additionalProperties": {"$ref": "#/$defs/operation"},
            },
        },
        "components": {
            "type": "object",
            "properties": {
                "schemas": {"type": "object", "additionalProperties": {"type": ["object", "boolean"]}},
                "securitySchemes": {"type": "object", "additionalProperties": {
                    "type": "object", "required": ["type"]}},
            },
        },
    },
    "$defs": {
        "operation": {
            "type": "object",
            "required": ["operationId", "responses"],
            "properties": {
                "operationId": {"type": "string"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "parameters": {"type": "array", "items": {
                    "type": "object", "required": ["name", "in", "schema"],
                    "properties": {"in": {"enum": ["path", "query", "header", "cookie"]},
                                   "required": {"type": "boolean"}}}},
                "requestBody": {"type": "object", "required": ["content"],
                                "properties": {"content": {"$ref": "#/$defs/content"}}},
                "responses": {
                    "type": "object", "minProperties": 1,
                    "propertyNames": {"pattern": "^([1-5][0-9][0-9]|default)$"},
                    "additionalProperties": {
                        "type": "object", "required": ["description"],
                        "properties": {"description": {"type": "string"},
                                       "content": {"$ref": "#/$defs/content"}}},
                },
            },
        },
        "content": {"type": "object", "additionalProperties": {
            "type": "object", "required": ["schema"], "properties": {"schema": {"type": "object"}}}},
    },
}


@pytest.fixture
def doc(api: Api) -> dict[str, Any]:
    r = api.client.get("/api/openapi.json", headers=api.headers)
    assert r.status_code == 200
    return r.json  # type: ignore[no-any-return]


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref" and isinstance(v, str)] + [
            r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_the_document_needs_a_login_and_any_role_may_read_it(api_as: Any) -> None:
    viewer = api_as(Role.VIEWER)
    assert viewer.client.get("/api/openapi.json").status_code == 401
    r = viewer.client.get("/api/openapi.json", headers=viewer.headers)
    assert r.status_code == 200 and r.content_type == "application/json"


def test_the_document_is_openapi_3_1(doc: dict[str, Any]) -> None:
    errors = sorted(Draft202012Validator(OPENAPI_SHAPE).iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    operation_ids = [op["operationId"] for item in doc["paths"].values() for m, op in item.items() if m in METHODS]
    assert len(operation_ids) == len(set(operation_ids)), "operationIds are unique"
    for schema in doc["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    for ref in _refs(doc):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/") in doc["components"]["schemas"], ref


def test_every_api_route_is_documented_with_its_methods(app: Flask, doc: dict[str, Any]) -> None:
    served: set[tuple[str, str]] = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            served |= {(path, m.lower()) for m in rule.methods or () if m not in ("HEAD", "OPTIONS")}
    documented = {(path, m) for path, item in doc["paths"].items() for m in item if m in METHODS}
    assert served, "the API serves routes"
    assert served - documented == set(), "served but undocumented"
    assert documented - served == set(), "documented but not served"


def test_path_parameters_are_declared(doc: dict[str, Any]) -> None:
    for path, item in doc["paths"].items():
        for method, op in item.items():
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"\{(\w+)\}", path)), (method, path)


def test_bookings_document_their_idempotency_key_and_every_route_its_errors(doc: dict[str, Any]) -> None:
    for path in ["/api/v1/receipts", "/api/v1/production-runs", "/api/v1/orders", "/api/v1/shipments",
                 "/api/v1/returns", "/api/v1/adjustments", "/api/v1/transfers"]:
        op = doc["paths"][path]["post"]
        assert "Idempotency-Key" in [p["name"] for p in op["parameters"] if p["in"] == "header"], path
        assert {"201", "401", "403", "404", "409", "422"} <= set(op["responses"]), path
        assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    for item in doc["paths"].values():
        for op in item.values():
            assert {"401", "403"} <= set(op["responses"]), op["operationId"]


def test_every_idempotent_booking_documents_the_key_and_its_422(doc: dict[str, Any]) -> None:
    keyed = {(method, path): next(p for p in op["parameters"] if p["name"] == "Idempotency-Key")
             for path, item in doc["paths"].items() for method, op in item.items()
             if any(p["name"] == "Idempotency-Key" for p in op["parameters"])}
    assert ("post", "/api/v1/orders/{order_id}/ship-picked") in keyed and ("post", "/api/v1/labels/print") in keyed
    assert len(keyed) == 12
    for (method, path), header in keyed.items():
        assert "422" in doc["paths"][path][method]["responses"], path
        assert header["in"] == "header" and header["schema"]["maxLength"] == 100
        words = header["description"]
        for promise in ("belong to the user", "fingerprint", "method, path and the JSON body", "same status",
                        "422", "LOTWISE_IDEMPOTENCY_HOURS", "24"):
            assert promise in words, (path, promise)


class Checker:
    """Validates real responses against the schema the document gives for that operation and status."""

    def __init__(self, doc: dict[str, Any]) -> None:
        strict = copy.deepcopy(doc)
        for schema in strict["components"]["schemas"].values():
            if isinstance(schema, dict) and "properties" in schema:
                schema.setdefault("additionalProperties", False)  # a response field must be documented
        self.doc = strict
        self.registry = Registry().with_resource(
            "urn:lotwise", Resource.from_contents(strict, default_specification=DRAFT202012))

    def __call__(self, path: str, method: str, response: Any) -> None:
        responses = self.doc["paths"][path][method]["responses"]
        status = str(response.status_code)
        assert status in responses, f"{method.upper()} {path} answered {status}, which is not documented"
        schema = _rebase(responses[status]["content"]["application/json"]["schema"])
        validator = Draft202012Validator(schema, registry=self.registry)
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(response.json)]
        assert not errors, (method, path, status, errors[:5])


def _rebase(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: ("urn:lotwise" + v if k == "$ref" else _rebase(v)) for k, v in schema.items()}
    return schema


def test_real_responses_match_their_documented_schemas(api: Api, site: dict[str, Any],
                                                       doc: dict[str, Any]) -> None:
    check = Checker(doc)
    v1 = "/api/v1"
    r = api.post("/receipts", {"supplier_id": site["supplier"], "reference": "DN-1", "lines": [
        {"sku": "RASP", "quantity": "100", "location": "COLD-01", "lot_code": "R1", "unit_cost": "4.2",
         "supplier_lot_code": "RB-1"},
        {"sku": "SUGAR", "quantity": "50", "location": "DRY-01", "unit_cost": "0.9"}]})
    check(f"{v1}/receipts", "post", r)
    receipt = r.json
    check(f"{v1}/receipts/{{receipt_id}}", "get", api.get(f"/receipts/{receipt['id']}"))
    check(f"{v1}/receipts", "get", api.get("/receipts"))
    rasp, sugar = (x["lot_id"] for x in receipt["lines"])
    r = api.post("/production-runs", {"sku": "JAM-RASP", "quantity": "200", "location": "KITCHEN",
                                      "inputs": [{"lot_id": rasp, "quantity": "30"},
                                                 {"lot_id": sugar, "quantity": "20"}]})
    check(f"{v1}/production-runs", "post", r)
    jam = r.json["output_lot_id"]
    r = api.post("/orders", {"customer_id": site["deli"], "warehouse": "MAIN", "ship_date": TODAY.isoformat(),
                             "customer_reference": "PO-9", "lines": [{"sku": "JAM-RASP", "quantity": "24"}]})
    check(f"{v1}/orders", "post", r)
    order = r.json
    r = api.post("/shipments", {"order_id": order["id"], "lines": [
        {"lot_id": jam, "location": "KITCHEN", "quantity": "24"}]})
    check(f"{v1}/shipments", "post", r)
    check(f"{v1}/returns", "post", api.post("/returns", {"customer_id": site["deli"], "lot_id": jam,
                                                          "quantity": "2", "reason": "broken jar"}))
    check(f"{v1}/transfers", "post", api.post("/transfers", {"lot_id": rasp, "from_location": "COLD-01",
                                                              "to_location": "KITCHEN", "quantity": "5"}))
    check(f"{v1}/adjustments", "post", api.post("/adjustments", {"lot_id": rasp, "location": "COLD-01",
                                                                  "quantity": "-1", "reason": "spilt"}))
    check(f"{v1}/lots/{{lot_id}}/hold", "post", api.post(f"/lots/{sugar}/hold", {"reason": "wet bags"}))
    for lot in (rasp, sugar, jam):
        check(f"{v1}/lots/{{lot_id}}", "get", api.get(f"/lots/{lot}"))
    for path in ["lots", "production-runs", "orders", "shipments", "returns", "transfers", "adjustments",
                 "products", "suppliers", "customers", "warehouses", "locations"]:
        check(f"{v1}/{path}", "get", api.get(f"/{path}"))
    check(f"{v1}/orders/{{order_id}}", "get", api.get(f"/orders/{order['id']}"))
    check(f"{v1}/customers/{{customer_id}}", "get", api.get(f"/customers/{site['deli']}"))
    check(f"{v1}/products/{{product_id}}", "get", api.get(f"/products/{site['JAM-RASP']}"))


def test_error_responses_are_documented_and_match_the_error_schema(api: Api, site: dict[str, Any],
                                                                   doc: dict[str, Any]) -> None:
    check = Checker(doc)
    v1 = "/api/v1"
    line = receive(api, site["supplier"], "RASP", "10", lot_code="R1")
    bad = {"supplier_id": site["supplier"], "lines": [{"sku": "RASP", "quantity": "1", "location": "COLD-01"}]}
    check(f"{v1}/receipts", "post", api.post("/receipts", {**bad, "supplier_id": 999}))
    check(f"{v1}/receipts", "post", api.post("/receipts", {**bad, "received_on": "2026-02-30"}))
    check(f"{v1}/receipts", "post", api.post("/receipts", {**bad, "lines": [
        {"sku": "RASP", "quantity": "1", "location": "COLD-01", "lot_code": "R1"}]}))
    check(f"{v1}/receipts", "post", api.client.post(f"{v1}/receipts", json=bad))
    check(f"{v1}/lots/{{lot_id}}", "get", api.get("/lots/999"))
    check(f"{v1}/lots", "get", api.get("/lots?expiring_before=someday"))
    check(f"{v1}/lots/{{lot_id}}/release", "post", api.post(f"/lots/{line['lot_id']}/release", {"reason": "x"}))
    check(f"{v1}/products", "post", api.post("/products", {"sku": "RASP", "name": "again"}))


@pytest.mark.parametrize(("line", "field", "words"), [
    ({"quantity": 100}, "lines.0.quantity", "decimal written as a string"),
    ({"quantity": "100", "top_up": "yes"}, "lines.0.top_up", "true or false"),
    ({"quantity": "100", "colour": "red"}, "lines.0.colour", "Extra inputs are not permitted"),
    ({"quantity": "100", "expiry": "20271231"}, "lines.0.expiry", "YYYY-MM-DD"),
    ({"quantity": "100", "expiry": "2999-01-01"}, "lines.0.expiry", "2200-12-31"),
    ({"quantity": "100", "lot_code": "R\x07"}, "lines.0.lot_code", "control characters"),
])
def test_what_the_document_forbids_is_refused_naming_the_field(api: Api, site: dict[str, Any], line: dict[str, Any],
                                                               field: str, words: str) -> None:
    r = api.post("/receipts", {"supplier_id": site["supplier"],
                               "lines": [{"sku": "RASP", "location": "COLD-01", **line}]})
    assert r.status_code == 422, r.json
    assert r.json["error"]["field"] == field
    assert words in r.json["error"]["message"]
    assert api.get("/lots").json == [], "nothing was received"


def test_the_document_states_the_formats_the_server_enforces(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    line = schemas["ReceiptLineIn"]["properties"]
    assert line["quantity"]["type"] == "string" and line["quantity"]["pattern"]
    assert {"type": "string", "format": "date"}.items() <= line["expiry"]["anyOf"][0].items()
    assert schemas["ReceiptIn"]["properties"]["supplier_id"] == {
        "maximum": 2**31 - 1, "minimum": 1, "title": "Supplier Id", "type": "integer"}
    assert [set(branch["required"]) for branch in schemas["AdjustmentIn"]["anyOf"]] == [{"lot_id"}, {"sku", "lot_code"}]
    assert schemas["PrinterIn"]["properties"]["default_size"]["enum"]
    epcis = doc["paths"]["/api/v1/exports/epcis.json"]["get"]["responses"]["200"]["content"]
    assert epcis == {"application/ld+json": {"schema": {"type": "object"}}}
    query = {p["name"]: p for p in doc["paths"]["/api/v1/exports/epcis.json"]["get"]["parameters"]}
    words = doc["paths"]["/api/v1/exports/epcis.json"]["get"]["description"]
    assert "`from` after `to` is a 400" in words and "At most one of `recall`, `lot` and `product`" in words
    assert not query["from"]["required"] and query["from"]["schema"]["anyOf"][0]["format"] == "date"
    for item in doc["paths"].values():
        for op in item.values():
            assert "414" in op["responses"], op["operationId"]
            assert ("413" in op["responses"]) == ("requestBody" in op), op["operationId"]


def test_a_too_long_url_and_a_wrong_method_get_json_answers_that_say_so(api: Api) -> None:
    r = api.get("/lots?sku=" + "x" * 5000)
    assert r.status_code == 414 and r.json["error"]["code"] == "uri_too_long"
    r = api.client.delete("/api/v1/lots", headers=api.headers)
    assert r.status_code == 405 and r.json["error"]["code"] == "method_not_allowed"
    assert set(r.headers["Allow"].split(", ")) >= {"GET"}


def test_a_backwards_date_range_is_refused_naming_the_rule(api: Api) -> None:
    r = api.get("/receipts?from=2026-03-02&to=2026-03-01")
    assert r.status_code == 422
    assert "runs backwards" in r.json["error"]["message"]
    assert api.get("/receipts?from=2026-03-01&to=2026-03-01").status_code == 200

"""The OpenAPI 3.1 document, built from the registered routes and their pydantic models."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, jsonify
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from app.api import ROUTES, Route, authenticate, error_response, openapi_path
from app.errors import LotwiseError
from app.models import Role

bp = Blueprint("openapi", __name__)
bp.register_error_handler(LotwiseError, error_response)

REF = "#/components/schemas/{model}"
_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "field"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "field": {"type": ["string", "null"], "description": "the request field at fault, dotted"},
                "title": {"type": "string", "description": "a refusal's rule in a few words, for a handheld's "
                                                           "bold line (\"Lot on hold\"); the message says it all"},
                "candidates": {"type": "array", "items": {"$ref": REF.format(model="LotCandidateOut")},
                               "description": "a lot code several products share: the lots it may mean; "
                                              "ask again naming the product (or the lot id)"},
            },
        }
    },
}

_DESCRIPTIONS = {400: "The request cannot be read: malformed or too deeply nested JSON, or a NUL character "
                      "anywhere in it (`field` names where)",
                 401: "Not authenticated", 403: "Role too low", 404: "Not found",
                 409: "Conflict with the current state (stock, status, duplicate)",
                 413: "The request body is larger than the configured upload limit",
                 414: "The URL is longer than the server takes (4000 characters)",
                 422: "Invalid input; `field` names it",
                 429: "Too many failed sign-ins or wrong API tokens from this client address; "
                      "wait the seconds `Retry-After` gives",
                 502: "An upstream device (a label printer) refused or dropped the connection",
                 504: "An upstream device (a label printer) did not answer in time"}

IDEMPOTENCY_KEY = (
    "A key of your choice (1 to 100 characters, e.g. a UUID) that makes a retried booking safe. Keys belong "
    "to the user who sends them: another user's key never collides with yours. The key is stored with a "
    "fingerprint of the request (method, path and the JSON body with its keys sorted). Sending the same "
    "request again with the same key books nothing and returns the first answer: the same status and the "
    "same document. Sending the same key with a different method, path or body is refused with 422, `field` "
    "`Idempotency-Key`, saying what the key booked. A key is remembered for `LOTWISE_IDEMPOTENCY_HOURS` "
    "(default 24) hours after its first use; after that it counts as new. A refused request (4xx) does "
    "not use up its key."
)


def _params(route: Route, schemas: dict[str, Any]) -> list[dict[str, Any]]:
    params = [
        {"name": name, "in": "path", "required": True,
         "schema": {"type": "integer" if conv == "int" else "string"}}
        for conv, name in re.findall(r"<(?:(\w+):)?(\w+)>", route.rule)
    ]
    if route.query is not None:
        schema = route.query.model_json_schema(ref_template=REF, by_alias=True)
        for name, prop in schema.get("properties", {}).items():
            params.append({"name": name, "in": "query", "required": name in schema.get("required", []),
                           "schema": prop, **({"description": prop["description"]} if "description" in prop else {})})
    if route.idempotent:
        params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                       "description": IDEMPOTENCY_KEY,
                       "schema": {"type": "string", "minLength": 1, "maxLength": 100}})
    return params


def _file_schema(media_type: str) -> dict[str, Any]:
    """A JSON download (EPCIS JSON-LD) is a JSON object; any other file is bytes."""
    if media_type == "application/json" or media_type.endswith("+json"):
        return {"type": "object"}
    return {"type": "string", "format": "binary"}


def _rules(route: Route) -> str:
    """What the input models say in words: the rules across fields that a JSON schema cannot state."""
    docs = [m.__doc__ for m in (route.body, route.query, route.form) if m is not None and "__doc__" in vars(m)]
    return "".join(f" {' '.join(doc.split())}" for doc in docs if doc)


def build() -> dict[str, Any]:
    models: list[tuple[type[BaseModel], Any]] = []
    for r in ROUTES:
        if r.body is not None:
            models.append((r.body, "validation"))
        if r.response is not None:
            models.append((r.response, "serialization"))
        if r.form is not None:
            models.append((r.form, "validation"))
    keys, defs = models_json_schema(models, ref_template=REF)
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    schemas["Error"] = _ERROR
    paths: dict[str, dict[str, Any]] = {}
    for r in ROUTES:
        op: dict[str, Any] = {
            "operationId": r.name,
            "summary": r.summary,
            "tags": [r.tag],
            "description": f"Needs the {r.role.value} role or higher.{_rules(r)}",
            "parameters": _params(r, schemas),
            "responses": {},
        }
        if r.body is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": keys[(r.body, "validation")]}}}
        if r.form is not None:
            op["requestBody"] = {"required": True, "content": {"multipart/form-data": {
                "schema": keys[(r.form, "validation")]}}}
        if r.response is not None:
            ref = keys[(r.response, "serialization")]
            schema = {"type": "array", "items": ref} if r.many else ref
            op["responses"][str(r.status)] = {"description": "OK" if r.status == 200 else "Created",
                                              "content": {"application/json": {"schema": schema}}}
        if r.media_type is not None:
            op["responses"][str(r.status)] = {"description": "The file", "content": {r.media_type: {
                "schema": _file_schema(r.media_type)}}}
        err = {"content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}}
        has_input = r.body is not None or r.query is not None or r.form is not None or r.idempotent
        # Any request may be too long for the server; any body larger than the upload limit is a 413.
        statuses = {400, 401, 403, 414, 429, *r.errors, *((422,) if has_input else ()),
                    *((413,) if r.body is not None or r.form is not None else ())}
        for status in sorted(statuses):
            op["responses"][str(status)] = {"description": _DESCRIPTIONS[status], **err}
        paths.setdefault("/api/v1" + openapi_path(r.rule), {})[r.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Lotwise API", "version": "1",
                 "description": "Lot tracking: receiving, production, orders, shipping and lots. "
                                "Quantities and money are decimal strings."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "create one with `lotwise token create USER`"}},
        },
    }


@bp.get("/api/openapi.json")
def openapi_json() -> Response:
    authenticate(Role.VIEWER)
    return jsonify(build())

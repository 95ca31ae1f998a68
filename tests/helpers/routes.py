"""Walking every route of the app: URLs with chosen values for the path variables, and plausible JSON bodies."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from flask import Flask
from pydantic import BaseModel
from werkzeug.routing import Rule

from tests.helpers.api import TODAY

METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")
_VARIABLE = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


@dataclass(frozen=True)
class Endpoint:
    """One method of one URL rule."""

    endpoint: str
    method: str
    rule: str

    @property
    def is_api(self) -> bool:
        return self.rule.startswith("/api/")

    def variables(self) -> dict[str, str]:
        """Each path variable and its converter ("int", "path", "default")."""
        return {name: converter or "default" for converter, name in _VARIABLE.findall(self.rule)}

    def url(self, **values: object) -> str:
        """The rule with `values` (quoted) for its variables; ints default to 1, text to "x"."""
        def fill(m: re.Match[str]) -> str:
            converter, name = m.group(1), m.group(2)
            value = values.get(name, 1 if converter == "int" else "x")
            return quote(str(value), safe="")
        return _VARIABLE.sub(fill, self.rule)


def endpoints(app: Flask) -> Iterator[Endpoint]:
    """Every (rule, method) the app answers, HEAD and OPTIONS aside."""
    rule: Rule
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        for method in METHODS:
            if method in (rule.methods or ()):
                yield Endpoint(rule.endpoint, method, rule.rule)


# --- plausible JSON bodies from a pydantic model's JSON schema ------------------------------------


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    if "properties" in schema:
        return schema  # an object; its anyOf/allOf only say how its fields depend on each other
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"]
            return _resolve(options[0], defs) if options else {"type": "null"}
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return _resolve(schema["allOf"][0], defs)
    return schema


def _plausible(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    schema = _resolve(schema, defs)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {name: _plausible(sub, defs) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [_plausible(schema.get("items", {}), defs)]
    if kind == "integer":
        return 1
    if kind == "number":
        return 1
    if kind == "boolean":
        return False
    if kind == "string":
        if schema.get("format") == "date":
            return TODAY.isoformat()
        if schema.get("format") == "date-time":
            return f"{TODAY.isoformat()}T12:00:00Z"
        if "pattern" in schema and "d" in schema["pattern"]:
            return "1"
        return "x"
    return "x"


def plausible_body(model: type[BaseModel]) -> dict[str, Any]:
    """A body with every field filled in with a simple value of its type (it need not be accepted)."""
    schema = model.model_json_schema()
    body = _plausible(schema, schema.get("$defs", {}))
    assert isinstance(body, dict)
    return body


def leaves(model: type[BaseModel]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """The path of every scalar field in a plausible body of `model`, with its kind.

    Kinds: integer, date, date-time, text, other.
    """
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})

    def walk(sub: dict[str, Any], path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
        sub = _resolve(sub, defs)
        if sub.get("type") == "object" or "properties" in sub:
            for name, inner in sub.get("properties", {}).items():
                yield from walk(inner, (*path, name))
        elif sub.get("type") == "array":
            yield from walk(sub.get("items", {}), (*path, 0))
        elif sub.get("type") == "integer":
            yield path, "integer"
        elif sub.get("type") == "string" and sub.get("format") in ("date", "date-time"):
            yield path, sub["format"]
        elif sub.get("type") == "string" and "enum" not in sub:
            yield path, "text"
        else:
            yield path, "other"

    yield from walk(schema, ())


def replaced(body: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """A deep copy of `body` with the value at `path` replaced."""
    import copy

    out = copy.deepcopy(body)
    target: Any = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return out

"""A JSON body is checked against the schema the OpenAPI document publishes for it, before pydantic reads it.

pydantic is lenient where the document is exact ("5" for an integer, "yes" for a boolean, a number for a decimal
string); checking the body against the very schema the document states keeps the two from drifting apart. The
rules a JSON schema cannot say (cross-field, check digits, the state of the stock) stay with the models and
services.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from pydantic import BaseModel

from app.errors import Invalid


@cache
def _validator(model: type[BaseModel]) -> Draft202012Validator:
    schema = model.model_json_schema(mode="validation")
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


# A fast first look at a body: a function that answers True only when the value surely meets the schema, so the
# ordinary (valid) body skips jsonschema's walk, which cost as much CPU as the rest of reading the body. Any other
# answer, even for a valid body, sends it through jsonschema, which stays the judge and words the refusal.
Check = Callable[[Any], bool]

# Keywords that never refuse a value.
_ANNOTATIONS = frozenset({"title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly",
                          "$comment"})
_FORMATS = Draft202012Validator.FORMAT_CHECKER


class _Unsupported(Exception):
    """The schema uses a keyword the fast look does not know: jsonschema checks every body of the model."""


# JSON schema's types for what json.loads gives; an integral float is left to jsonschema (its "integer").
_TYPE_CHECKS: dict[str, Check] = {
    "string": lambda value: isinstance(value, str),
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "null": lambda value: value is None,
    "boolean": lambda value: isinstance(value, bool),
    "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "number": lambda value: isinstance(value, (int, float)) and not isinstance(value, bool),
}


def _every(checks: list[Check]) -> Check:
    """All of `checks`, as one plain call where there are only one or two (every body passes through these)."""
    if not checks:
        return lambda value: True
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda value: first(value) and second(value)

    def every(value: Any) -> bool:
        for check in checks:
            if not check(value):
                return False
        return True

    return every


def _same(value: Any, expected: Any) -> bool:
    """Equal as JSON values, where the fast look can tell: plain scalars of the very same type."""
    return type(expected) in (str, int, bool, type(None)) and type(value) is type(expected) and value == expected


def _compile(schema: Any, root: Mapping[str, Any], refs: dict[str, Check]) -> Check:
    """The fast look for one (sub)schema; raises _Unsupported for a keyword it does not know."""
    if schema is True:
        return lambda value: True
    if not isinstance(schema, dict):
        raise _Unsupported(repr(schema))
    checks: list[Check] = []
    for keyword, arg in schema.items():
        if keyword in _ANNOTATIONS or (keyword == "$defs" and schema is root):
            continue
        checks.append(_keyword(keyword, arg, schema, root, refs))
    return _every(checks)


def _keyword(keyword: str, arg: Any, schema: Mapping[str, Any], root: Mapping[str, Any],
             refs: dict[str, Check]) -> Check:
    if keyword == "type":
        names = [arg] if isinstance(arg, str) else list(arg)
        if any(name not in _TYPE_CHECKS for name in names):
            raise _Unsupported(f"type {names}")
        if len(names) == 1:
            return _TYPE_CHECKS[names[0]]
        return lambda value: any(_TYPE_CHECKS[name](value) for name in names)
    if keyword == "properties":
        props = {name: _compile(sub, root, refs) for name, sub in arg.items()}

        def properties(value: Any) -> bool:
            if isinstance(value, dict):
                for name, item in value.items():
                    check = props.get(name)
                    if check is not None and not check(item):
                        return False
            return True

        return properties
    if keyword == "required":
        needed = frozenset(arg)
        return lambda value: not isinstance(value, dict) or value.keys() >= needed
    if keyword == "additionalProperties":
        if arg is not False or "patternProperties" in schema:
            raise _Unsupported(keyword)
        allowed = frozenset(schema.get("properties", {}))
        return lambda value: not isinstance(value, dict) or all(name in allowed for name in value)
    if keyword == "maxLength":
        return lambda value: not isinstance(value, str) or len(value) <= arg
    if keyword == "minLength":
        return lambda value: not isinstance(value, str) or len(value) >= arg
    if keyword == "pattern":
        search = re.compile(arg).search  # what jsonschema runs: re.search, not a full match
        return lambda value: not isinstance(value, str) or search(value) is not None
    if keyword == "format":
        return lambda value: _FORMATS.conforms(value, arg)
    if keyword in ("maximum", "minimum"):
        if not isinstance(arg, (int, float)) or isinstance(arg, bool):
            raise _Unsupported(keyword)
        is_number = _TYPE_CHECKS["number"]
        if keyword == "maximum":
            return lambda value: not is_number(value) or value <= arg
        return lambda value: not is_number(value) or value >= arg
    if keyword in ("maxItems", "minItems"):
        if keyword == "maxItems":
            return lambda value: not isinstance(value, list) or len(value) <= arg
        return lambda value: not isinstance(value, list) or len(value) >= arg
    if keyword == "items":
        each = _compile(arg, root, refs)
        return lambda value: not isinstance(value, list) or all(each(item) for item in value)
    if keyword in ("anyOf", "allOf"):
        branches = [_compile(sub, root, refs) for sub in arg]
        if keyword == "allOf":
            return _every(branches)

        def any_of(value: Any) -> bool:
            for branch in branches:
                if branch(value):
                    return True
            return False

        return any_of
    if keyword == "enum":
        options = list(arg)
        return lambda value: any(_same(value, option) for option in options)
    if keyword == "const":
        return lambda value: _same(value, arg)
    if keyword == "$ref":
        return _reference(arg, root, refs)
    raise _Unsupported(keyword)


def _reference(ref: str, root: Mapping[str, Any], refs: dict[str, Check]) -> Check:
    """A "#/$defs/Name" reference, compiled once per model (and looked up late, so a model may refer to itself)."""
    prefix = "#/$defs/"
    if not ref.startswith(prefix) or ref[len(prefix):] not in root.get("$defs", {}):
        raise _Unsupported(ref)
    if ref not in refs:
        refs[ref] = lambda value: False  # while it is being compiled: a self-reference is left to jsonschema
        refs[ref] = _compile(root["$defs"][ref[len(prefix):]], root, refs)
    return lambda value: refs[ref](value)


def _field(error: ValidationError) -> str | None:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        path += missing[:1]
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = error.schema.get("properties", {})
        path += [name for name in error.instance if name not in allowed][:1]
    return ".".join(path) or None


_TYPES = {"string": "text (a JSON string)", "integer": "a whole number", "number": "a number",
          "boolean": "true or false", "object": "an object", "array": "a list", "null": "null"}


def _words(error: ValidationError) -> str:
    described = error.schema.get("description") if isinstance(error.schema, dict) else None
    if error.validator in ("type", "pattern", "format") and described:
        return f"must be {described}"
    if error.validator == "type":
        expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        return "must be " + " or ".join(_TYPES.get(str(t), str(t)) for t in expected)
    if error.validator in ("pattern", "format"):
        return "is not written in the accepted form"
    if error.validator in ("oneOf", "anyOf") and isinstance(error.schema, dict) and error.schema.get("description"):
        return str(error.schema["description"])
    message: str = error.message
    return message if len(message) <= 200 else message[:197] + "..."


@cache
def fast_check(model: type[BaseModel]) -> Check | None:
    """The fast look at `model`'s bodies, or None when its schema has a keyword only jsonschema knows."""
    schema = model.model_json_schema(mode="validation")
    try:
        return _compile(schema, schema, {})
    except _Unsupported:
        return None


def check_body(model: type[BaseModel], data: Any) -> None:
    """Raise a 422 naming the field if `data` breaks the schema the document gives for `model`."""
    fast = fast_check(model)
    if fast is not None and fast(data):
        return
    error = best_match(_validator(model).iter_errors(data))
    if error is None:
        return
    field = _field(error)
    words = _words(error)
    raise Invalid(f"{field}: {words}" if field else words, field)

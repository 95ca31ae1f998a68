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


def _is_type(value: Any, name: str) -> bool:
    """JSON schema's types for what json.loads gives; an integral float is left to jsonschema (its "integer")."""
    if name == "string":
        return isinstance(value, str)
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "null":
        return value is None
    if name == "boolean":
        return isinstance(value, bool)
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    raise _Unsupported(name)


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
    return lambda value: all(check(value) for check in checks)


def _keyword(keyword: str, arg: Any, schema: Mapping[str, Any], root: Mapping[str, Any],
             refs: dict[str, Check]) -> Check:
    if keyword == "type":
        names = [arg] if isinstance(arg, str) else list(arg)
        for name in names:
            _is_type(None, name)  # an unknown type name is refused now, not at the first body
        return lambda value: any(_is_type(value, name) for name in names)
    if keyword == "properties":
        props = {name: _compile(sub, root, refs) for name, sub in arg.items()}
        return lambda value: not isinstance(value, dict) or all(
            props[name](item) for name, item in value.items() if name in props)
    if keyword == "required":
        names = list(arg)
        return lambda value: not isinstance(value, dict) or all(name in value for name in names)
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
        within = (lambda v: v <= arg) if keyword == "maximum" else (lambda v: v >= arg)
        return lambda value: not _is_type(value, "number") or within(value)
    if keyword in ("maxItems", "minItems"):
        fits = (lambda n: n <= arg) if keyword == "maxItems" else (lambda n: n >= arg)
        return lambda value: not isinstance(value, list) or fits(len(value))
    if keyword == "items":
        each = _compile(arg, root, refs)
        return lambda value: not isinstance(value, list) or all(each(item) for item in value)
    if keyword in ("anyOf", "allOf"):
        branches = [_compile(sub, root, refs) for sub in arg]
        combine = any if keyword == "anyOf" else all
        return lambda value: combine(branch(value) for branch in branches)
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

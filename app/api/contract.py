"""A JSON body is checked against the schema the OpenAPI document publishes for it, before pydantic reads it.

pydantic is lenient where the document is exact ("5" for an integer, "yes" for a boolean, a number for a decimal
string); checking the body against the very schema the document states keeps the two from drifting apart. The
rules a JSON schema cannot say (cross-field, check digits, the state of the stock) stay with the models and
services.
"""

from __future__ import annotations

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


def check_body(model: type[BaseModel], data: Any) -> None:
    """Raise a 422 naming the field if `data` breaks the schema the document gives for `model`."""
    error = best_match(_validator(model).iter_errors(data))
    if error is None:
        return
    field = _field(error)
    words = _words(error)
    raise Invalid(f"{field}: {words}" if field else words, field)

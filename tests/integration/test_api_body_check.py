"""The fast look at a JSON body never lets through what the published schema (jsonschema) refuses.

`contract.fast_check` answers True only when a body surely meets its model's schema, so the ordinary body skips
jsonschema's walk; every other body is judged by jsonschema. Random bodies, near-valid and odd, are put to both
for every body model of the API: wherever the fast look says yes, jsonschema must say yes.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from typing import Any

import pytest
from pydantic import BaseModel

from app.api import ROUTES
from app.api.contract import _validator, check_body, fast_check
from app.errors import Invalid
from app.schemas import ScanIn

MODELS = sorted({r.body for r in ROUTES if r.body is not None}, key=lambda m: m.__name__)

ODD: list[Any] = ["", " ", "5", "5.5", "-1", "1e3", "x" * 5000, "2026-12-06", "2026-02-30", "2026-12-06T10:00:00Z",
                  "a@b.example", "\u00e9t\u00e9", 0, 1, -1, 5.0, 5.5, 2**31, 2**63, -(2**63) - 1, 1e308, True, False,
                  None, [], [1], {}, {"x": 1}]

WORDS = ["12.5", "1", "-3", "0.1234567", "1234567890123", "ABC", "A-1", "RASP", " x", "x ", "", "4006381333931",
         "09501101020917", "0950110102091", "2026-12-06", "lw_abc", "a@b.example", "+44 20 7946 0000",
         "0123456789abcdef" * 4]


def _sample(schema: Any, root: Mapping[str, Any], rng: random.Random, depth: int = 0, odd: float = 0.08) -> Any:
    """A value shaped by `schema` most of the time, bent or replaced by an odd one some of the time (`odd` = 0: a
    value meant to be valid, so the fast look's yes side is reached for large bodies too)."""
    if not isinstance(schema, dict) or depth > 5 or rng.random() < odd:
        return rng.choice(ODD)
    if "$ref" in schema:
        return _sample(root["$defs"][schema["$ref"].rsplit("/", 1)[-1]], root, rng, depth + 1, odd)
    if "properties" not in schema:  # an object's own alternatives (which keys it needs) are met by chance
        for combined in ("anyOf", "oneOf", "allOf"):
            if combined in schema:
                return _sample(rng.choice(schema[combined]), root, rng, depth + 1, odd)
    if "enum" in schema:
        return rng.choice([*schema["enum"], "not-an-option", 1])
    if "const" in schema:
        return rng.choice([schema["const"], "other"])
    kind = schema.get("type", rng.choice(["string", "integer", "object"]))
    if isinstance(kind, list):
        kind = rng.choice(kind)
    if kind == "object":
        props = schema.get("properties", {})
        required = set(schema.get("required", ()))
        out = {name: _sample(sub, root, rng, depth + 1, odd) for name, sub in props.items()
               if (name in required and not odd) or rng.random() < (0.97 if name in required else 0.6)}
        if odd and rng.random() < 0.1:
            out["unexpected"] = 1
        return out
    if kind == "array":
        count = rng.choice([1, 2, 3] if not odd else [0, 1, 2, 3, schema.get("maxItems", 3) + 1])
        return [_sample(schema.get("items", {}), root, rng, depth + 1, odd) for _ in range(count)]
    if kind == "string":
        low, high = schema.get("minLength", 0), schema.get("maxLength", 30)
        if schema.get("format") == "date":
            return rng.choice(["2026-12-06", "2026-02-30", "06/12/2026", "2026-1-6"])
        if schema.get("format") == "date-time":
            return rng.choice(["2026-12-06T10:00:00Z", "2026-12-06T10:00:00", "2026-12-06 10:00"])
        if "pattern" in schema and (not odd or rng.random() < 0.7):
            fitting = [t for t in [*schema.get("examples", ()), *WORDS] if re.search(schema["pattern"], t)]
            return rng.choice(fitting or WORDS)
        lengths = [low, min(high, low + 3), high] + ([max(low - 1, 0), high + 1] if odd else [])
        length = rng.choice(lengths)
        return "".join(rng.choice("0123456789.-eAbz ") for _ in range(length))
    if kind == "integer":
        base = [0, 1, -1, 7, 2**31, 2**63]
        bounds = [schema[k] + d for k in ("minimum", "maximum") if k in schema for d in (-1, 0, 1)]
        if not odd:
            base = [n for n in base + bounds if schema.get("minimum", n) <= n <= schema.get("maximum", n)]
        return rng.choice(base + bounds if odd else base)
    if kind == "number":
        return rng.choice([0, 0.5, -2.5, 1e20, 3])
    if kind == "boolean":
        return rng.choice([True, False, 0, "true"] if odd else [True, False])
    return None


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_the_fast_look_never_passes_a_body_jsonschema_refuses(model: type[BaseModel]) -> None:
    fast = fast_check(model)
    if fast is None:
        return  # a schema with a keyword the fast look does not know: jsonschema alone judges its bodies
    schema = model.model_json_schema(mode="validation")
    validator = _validator(model)
    rng = random.Random(model.__name__)
    passed = 0
    for i in range(300):
        body = _sample(schema, schema, rng, odd=0.08 if i % 3 else 0.0)
        if fast(body):
            passed += 1
            assert validator.is_valid(body), (model.__name__, body)
    # The samples reach the yes side too, or the assertion above proves nothing.
    assert passed > 0, model.__name__


def test_most_body_models_get_the_fast_look() -> None:
    # oneOf, not and if/then need a "surely invalid" answer the fast look does not give.
    assert sum(fast_check(m) is not None for m in MODELS) >= len(MODELS) * 3 // 4


def test_a_scan_body_is_passed_by_the_fast_look_and_a_wrong_one_still_refused_naming_the_field() -> None:
    fast = fast_check(ScanIn)
    assert fast is not None
    assert fast({"raw": "]C10109501101020917261231" + "10ABC", "station": None})
    assert fast({"raw": "x", "station": "dock"})
    for body, field in (({"raw": 5}, "raw"), ({}, "raw"), ({"raw": "x", "station": "d" * 41}, "station"),
                        ({"raw": "x" * 4001}, "raw")):
        assert not fast(body)
        with pytest.raises(Invalid) as refused:
            check_body(ScanIn, body)
        assert refused.value.field == field

"""EPCIS documents against GS1's EPCIS 2.0 JSON-LD context (vendored in tests/data/epcis/context/): the document
names the official context, and every key and every vocabulary value in it is a term that context defines (with
the scoped contexts GS1 attaches to bizStep, disposition, sourceList, ...) or a compact IRI whose prefix the
document declares. A key the context does not define would be dropped by a JSON-LD processor, and a vocabulary
value it does not define would become a relative IRI: the receiver would read something else than we meant."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

FOLDER = Path(__file__).resolve().parents[1] / "data" / "epcis" / "context"
# EPCIS 2.0 (section 8.x, JSON/JSON-LD bindings) publishes the context at these addresses.
OFFICIAL = ("https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
            "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld")
# The scoped contexts the root context refers to, served from the vendored copies (no network in tests).
REMOTE = {f"https://gs1.github.io/EPCIS/{name}": name for name in (
    "cbv-context-bizstep.jsonld", "cbv-context-disposition.jsonld", "cbv-context-sourcedest-type.jsonld",
    "cbv-context-biztransaction-type.jsonld")}
IRI_SCHEMES = ("http://", "https://", "urn:")
SCHEMA = jsonschema_rs.Draft7Validator(json.loads((FOLDER.parent / "EPCIS-JSON-Schema.json").read_text()),
                                       validate_formats=True)


def schema_errors(doc: Any) -> list[str]:
    """What GS1's EPCIS 2.0 JSON Schema (tests/data/epcis/) finds wrong with the document, formats included."""
    return [f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in SCHEMA.iter_errors(doc)]


@cache
def _file(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FOLDER / name).read_text(encoding="utf-8"))["@context"]
    return data


def _merge(active: dict[str, Any], context: Any) -> dict[str, Any]:
    """The active context after `context` (a URL, an object or a list of them), as term -> definition."""
    if context is None:
        return active
    if isinstance(context, list):
        for item in context:
            active = _merge(active, item)
        return active
    if isinstance(context, str):
        if context in OFFICIAL:
            return _merge(active, _file("epcis-context-root.jsonld"))
        if context not in REMOTE:
            raise ValueError(f"context {context} is not vendored")
        return _merge(active, _file(REMOTE[context]))
    return {**active, **{k: v for k, v in context.items() if not k.startswith("@")}}


def _is_iri(value: str, active: dict[str, Any]) -> bool:
    if value.startswith(IRI_SCHEMES):
        return True
    prefix, colon, _ = value.partition(":")
    return bool(colon) and prefix in active


def problems(doc: dict[str, Any]) -> list[str]:
    """What a JSON-LD processor would not read as we meant it, as 'path: problem'."""
    context = doc.get("@context")
    items = context if isinstance(context, list) else [context]
    if not items or items[0] not in OFFICIAL:
        return [f"@context: {context!r} does not start with the official EPCIS context ({OFFICIAL[0]})"]
    out: list[str] = []
    _walk(doc, _merge({}, items), "", out)
    return out


def _walk(node: Any, active: dict[str, Any], path: str, out: list[str]) -> None:
    if isinstance(node, list):
        for i, item in enumerate(node):
            _walk(item, active, f"{path}/{i}", out)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        where = f"{path}/{key}"
        if key == "@context":
            continue
        definition = active.get(key)
        if definition is None:
            if ":" in key and _is_iri(key, active):
                continue  # an extension property named by IRI: its value is the extension's own
            out.append(f"{where}: {key!r} is not a term of the EPCIS context"
                       + (" and its prefix is not declared" if ":" in key else ""))
            continue
        if isinstance(definition, str):
            definition = {"@id": definition}
        scoped = _merge(active, definition.get("@context"))
        if definition.get("@id") == "@type" or definition.get("@type") == "@vocab":
            for v in value if isinstance(value, list) else [value]:
                if not isinstance(v, str) or not (v in scoped or _is_iri(v, scoped)):
                    out.append(f"{where}: {v!r} is not a term the EPCIS context defines for {key!r}")
            continue
        _walk(value, scoped, where, out)

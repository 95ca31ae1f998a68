"""GS1's syntax rules as tests check them: element strings and Digital Link URIs against the rule table in
tests/data/gs1_ai_rules.json (AI formats, check digits, dates, mandatory associations, invalid pairs, Digital
Link primary keys). Written apart from `scanning`, so a label is judged by the rules, not by our parser."""

from __future__ import annotations

import calendar
import json
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

GS = "\x1d"
CSET82 = frozenset("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
TABLE = Path(__file__).resolve().parents[1] / "data" / "gs1_ai_rules.json"


@cache
def rules() -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = json.loads(TABLE.read_text(encoding="utf-8"))["ais"]
    return data


def _ai_at(text: str) -> str | None:
    for n in (2, 3, 4):
        if text[:n] in rules():
            return text[:n]
    return None


def _length(ai: str) -> int:
    return sum(part[2] for part in rules()[ai]["format"])


def split(element_string: str) -> list[tuple[str, str]]:
    """An element string (GS between fields, no leading FNC1) as (AI, value); ValueError if it does not split."""
    pairs, rest = [], element_string
    while rest:
        ai = _ai_at(rest)
        if ai is None:
            raise ValueError(f"no known AI at {rest[:8]!r}")
        rest = rest[len(ai):]
        if rules()[ai].get("fixed"):
            value, rest = rest[: _length(ai)], rest[_length(ai):]
        else:
            value, _, rest = rest.partition(GS)
        pairs.append((ai, value))
    return pairs


def _csum_ok(digits: str) -> bool:
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def _date_ok(yymmdd: str) -> bool:
    month, day = int(yymmdd[2:4]), int(yymmdd[4:])
    if not 1 <= month <= 12:
        return False
    # Any year: the century window does not matter for Feb 29, so allow it in a leap year of the same 2 digits.
    last = max(calendar.monthrange(2000 + int(yymmdd[:2]), month)[1], calendar.monthrange(1900 + int(yymmdd[:2]),
                                                                                           month)[1])
    return 0 <= day <= last


def _format_problems(ai: str, value: str) -> list[str]:
    problems, rest = [], value
    parts = rules()[ai]["format"]
    for i, (kind, low, high, *check) in enumerate(parts):
        last = i == len(parts) - 1
        piece = rest[:high] if not last else rest
        rest = rest[len(piece):]
        if not low <= len(piece) <= high:
            problems.append(f"({ai}) {value!r}: component {i + 1} must have {low}..{high} characters")
            continue
        if kind == "N" and not re.fullmatch(r"[0-9]*", piece):
            problems.append(f"({ai}) {value!r}: must be digits")
        if kind == "X" and not set(piece) <= CSET82:
            problems.append(f"({ai}) {value!r}: characters outside GS1's 82-character set")
        if check == ["csum"] and piece.isdigit() and not _csum_ok(piece):
            problems.append(f"({ai}) {value!r}: wrong check digit")
        if check == ["yymmd0"] and piece.isdigit() and not _date_ok(piece):
            problems.append(f"({ai}) {value!r}: not a date")
    if rest:
        problems.append(f"({ai}) {value!r}: too long")
    return problems


def problems(pairs: list[tuple[str, str]]) -> list[str]:
    """Every rule the (AI, value) pairs of one carrier break: formats, repeats, associations, pairs."""
    out: list[str] = []
    seen: dict[str, str] = {}
    for ai, value in pairs:
        if ai not in rules():
            out.append(f"unknown AI ({ai})")
            continue
        if ai in seen and seen[ai] != value:
            out.append(f"({ai}) twice with different values")
        seen[ai] = value
        out.extend(_format_problems(ai, value))
    present = set(seen)
    for ai in present & set(rules()):
        for group in rules()[ai].get("req", []):
            if not present & set(group):
                out.append(f"Required AIs for AI ({ai}) are not satisfied: {','.join(group)}")
        for other in rules()[ai].get("ex", []):
            if other in present:
                out.append(f"It is invalid to pair AI ({ai}) with AI ({other})")
    return out


def element_string_problems(element_string: str) -> list[str]:
    try:
        return problems(split(element_string))
    except ValueError as exc:
        return [str(exc)]


def digital_link_problems(url: str) -> list[str]:
    """The rules a GS1 Digital Link URI breaks: a primary key in the path, qualifiers in order, then the AIs."""
    parts = urlsplit(url)
    segments = [unquote(s) for s in parts.path.split("/") if s]
    start = next((i for i, s in enumerate(segments) if rules().get(s, {}).get("dl") is not None
                  and (len(segments) - i) % 2 == 0), None)
    if start is None:
        return ["No GS1 DL keys found in path info"]
    key = segments[start]
    path = [(segments[j], segments[j + 1]) for j in range(start, len(segments), 2)]
    qualifiers = [ai for ai, _ in path[1:]]
    if qualifiers and not any(_ordered(qualifiers, allowed) for allowed in rules()[key]["dl"]):
        return [f"qualifiers {qualifiers} are not a path GS1 allows after ({key})"]
    query = [(k, unquote(v)) for k, _, v in (item.partition("=") for item in parts.query.split("&") if item)
             if k in rules()]
    return problems(path + query)


def _ordered(qualifiers: list[str], allowed: list[str]) -> bool:
    positions = [allowed.index(q) for q in qualifiers if q in allowed]
    return len(positions) == len(qualifiers) and positions == sorted(positions)


def hri(text: str) -> list[tuple[str, str]]:
    """'(01)…(10)…' as (AI, value); values here never hold '(' followed by digits and ')'."""
    return [(m.group(1), m.group(2)) for m in re.finditer(r"\((\d{2,4})\)([^(]*)", text)]

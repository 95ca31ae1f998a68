"""GS1's syntax rules as tests check them: element strings and Digital Link URIs against GS1's own rule table,
the GS1 Barcode Syntax Dictionary (tests/data/gs1/gs1-syntax-dictionary.txt, vendored unchanged): AI formats
with their linters (check digits, dates, ...), mandatory associations (req), invalid pairs (ex), Digital Link
primary keys and their qualifiers (dlpkey) and which AIs may be Digital Link data attributes (flag "?").
Written apart from `scanning`, so a label is judged by GS1's table, not by our parser's reading of it."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

GS = "\x1d"
DICTIONARY = Path(__file__).resolve().parents[1] / "data" / "gs1" / "gs1-syntax-dictionary.txt"

# The character sets of the dictionary's component types (GS1 General Specifications 7.11).
CSET82 = frozenset("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
CSETS = {
    "N": frozenset("0123456789"),
    "X": CSET82,
    "Y": frozenset("#-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    "Z": frozenset("-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz="),
}
_COMPONENT = re.compile(r"(\[)?([NXYZ])(\d+|\.\.\d+)(\])?((?:,\w+)*)$")


@dataclass(frozen=True)
class Component:
    kind: str
    low: int
    high: int
    optional: bool
    linters: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    ai: str
    title: str
    fixed: bool  # flag "*": predefined length, no FNC1 separator after it
    dl_attribute: bool  # flag "?": may be a Digital Link data attribute (query parameter)
    components: tuple[Component, ...]
    # Each req is one mandatory association: met by any alternative, an alternative being AIs joined by "+".
    req: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...] = ()
    ex: tuple[str, ...] = ()
    # Digital Link primary key: its allowed qualifier paths (ordered, each may be left out); None: not a key.
    dlpkey: tuple[tuple[str, ...], ...] | None = None
    length: int = field(default=0)


def _ais(spec: str) -> list[str]:
    if "-" not in spec:
        return [spec]
    first, last = spec.split("-")
    return [str(n).zfill(len(first)) for n in range(int(first), int(last) + 1)]


def _component(token: str) -> Component:
    m = _COMPONENT.fullmatch(token)
    if m is None:
        raise ValueError(f"unreadable component {token!r} in the GS1 syntax dictionary")
    size = m.group(3)
    low, high = (1, int(size[2:])) if size.startswith("..") else (int(size), int(size))
    return Component(m.group(2), low, high, bool(m.group(1)), tuple(x for x in m.group(5).split(",") if x))


def parse(text: str) -> dict[str, Rule]:
    """The dictionary's entries by AI (ranges such as 3100-3105 and 91-99 expanded)."""
    out: dict[str, Rule] = {}
    for line in text.splitlines():
        body, _, title = line.partition("#")
        tokens = body.split()
        if not tokens:
            continue
        spec, tokens = tokens[0], tokens[1:]
        flags = ""
        if tokens and set(tokens[0]) <= set("*?!\"$%&'()+,-./:;<=>@[\\]^_`{|}~") and not tokens[0].startswith("["):
            flags, tokens = tokens[0], tokens[1:]
        components: list[Component] = []
        req: list[tuple[str, tuple[tuple[str, ...], ...]]] = []
        ex: list[str] = []
        dlpkey: tuple[tuple[str, ...], ...] | None = None
        for token in tokens:
            key, eq, value = token.partition("=")
            if key == "req" and eq:
                req.append((value, tuple(tuple(alt.split("+")) for alt in value.split(","))))
            elif key == "ex" and eq:
                ex.extend(value.split(","))
            elif key == "dlpkey":
                dlpkey = tuple(tuple(seq.split(",")) if seq else () for seq in value.split("|")) if eq else ((),)
            else:
                components.append(_component(token))
        length = sum(c.high for c in components)
        for ai in _ais(spec):
            out[ai] = Rule(ai, title.strip(), "*" in flags, "?" in flags, tuple(components), tuple(req), tuple(ex),
                           dlpkey, length)
    return out


@cache
def rules() -> dict[str, Rule]:
    return parse(DICTIONARY.read_text(encoding="utf-8"))


def matches(pattern: str, ai: str) -> bool:
    """A dictionary AI pattern: "n" stands for any digit ("310n" is 3100 to 3109)."""
    return len(pattern) == len(ai) and all(p == a or (p == "n" and a.isdigit())
                                           for p, a in zip(pattern, ai, strict=True))


def _ai_at(text: str) -> str | None:
    for n in (2, 3, 4):
        if text[:n] in rules():
            return text[:n]
    return None


def split(element_string: str) -> list[tuple[str, str]]:
    """An element string (GS between fields, no leading FNC1) as (AI, value); ValueError if it does not split."""
    pairs, rest = [], element_string
    while rest:
        ai = _ai_at(rest)
        if ai is None:
            raise ValueError(f"no known AI at {rest[:8]!r}")
        rest = rest[len(ai):]
        rule = rules()[ai]
        if rule.fixed:
            value, rest = rest[: rule.length], rest[rule.length:]
        else:
            value, _, rest = rest.partition(GS)
        pairs.append((ai, value))
    return pairs


# --- The linters the dictionary names (GS1 Barcode Syntax Tests), for the components they judge ----------------

def _csum(digits: str) -> bool:
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def _yymmdd(text: str, day_zero: bool) -> bool:
    month, day = int(text[2:4]), int(text[4:6])
    if not 1 <= month <= 12:
        return False
    # Whatever century GS1's sliding window (General Specifications 7.12) gives the two digits, in 1951-2050 the
    # year is a leap year exactly when they are divisible by 4, so 20yy tells the month's length.
    last = calendar.monthrange(2000 + int(text[:2]), month)[1]
    return (0 if day_zero else 1) <= day <= last


def _yyyymmdd(text: str) -> bool:
    month, day = int(text[4:6]), int(text[6:8])
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(int(text[:4]), month)[1]


def _key(text: str) -> bool:
    # A GS1 key starts with a GS1 Company Prefix: at least its first 4 characters are digits.
    return len(text) >= 4 and text[:4].isdigit()


LINTERS: dict[str, tuple[Callable[[str], bool], str]] = {
    "csum": (_csum, "wrong check digit"),
    "key": (_key, "does not start with a GS1 Company Prefix"),
    "keyoff1": (lambda t: _key(t[1:]), "does not start with a GS1 Company Prefix"),
    "yymmd0": (lambda t: _yymmdd(t, day_zero=True), "not a date"),
    "yymmdd": (lambda t: _yymmdd(t, day_zero=False), "not a date"),
    "yyyymmdd": (_yyyymmdd, "not a date"),
    "hhmi": (lambda t: int(t[:2]) <= 23 and int(t[2:]) <= 59, "not a time"),
    "hh": (lambda t: int(t) <= 23, "not an hour"),
    "mi": (lambda t: int(t) <= 59, "not a minute"),
    "ss": (lambda t: int(t) <= 59, "not a second"),
    "zero": (lambda t: t == "0", "must be 0"),
    "nonzero": (lambda t: int(t) != 0, "must not be 0"),
    "yesno": (lambda t: t in ("0", "1"), "must be 0 or 1"),
    "hyphen": (lambda t: t == "-", "must be '-'"),
}


def _format_problems(ai: str, value: str) -> list[str]:
    problems: list[str] = []
    rest = value
    components = rules()[ai].components
    for i, c in enumerate(components):
        if c.optional and not rest:
            break  # optional components may be left out once the data is used up
        piece = rest if i == len(components) - 1 else rest[: c.high]
        rest = rest[len(piece):]
        if not c.low <= len(piece) <= c.high:
            problems.append(f"({ai}) {value!r}: component {i + 1} must have {c.low}..{c.high} characters")
            continue
        if not set(piece) <= CSETS[c.kind]:
            problems.append(f"({ai}) {value!r}: characters outside the {c.kind} character set"
                            if c.kind != "N" else f"({ai}) {value!r}: must be digits")
            continue
        for name in c.linters:
            if name not in LINTERS:
                # Not silently passed: a value for an AI whose linter is missing here fails the test.
                problems.append(f"({ai}) {value!r}: linter {name} is not implemented in tests/helpers/gs1_rules.py")
                continue
            check, message = LINTERS[name]
            if not check(piece):
                problems.append(f"({ai}) {value!r}: {message}")
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
        # GS1 General Specifications 4.14: an AI may repeat on an item only with the same value.
        if ai in seen and seen[ai] != value:
            out.append(f"({ai}) twice with different values")
        seen[ai] = value
        out.extend(_format_problems(ai, value))
    present = sorted(seen)

    def there(pattern: str) -> bool:
        return any(matches(pattern, ai) for ai in present)

    for ai in present:
        rule = rules()[ai]
        for raw, alternatives in rule.req:
            if not any(all(there(p) for p in alternative) for alternative in alternatives):
                out.append(f"Required AIs for AI ({ai}) are not satisfied: {raw}")
        for pattern in rule.ex:
            for other in present:
                if other != ai and matches(pattern, other):  # an AI is not exclusive of itself
                    out.append(f"It is invalid to pair AI ({ai}) with AI ({other})")
    return out


def element_string_problems(element_string: str) -> list[str]:
    try:
        return problems(split(element_string))
    except ValueError as exc:
        return [str(exc)]


def digital_link_problems(url: str) -> list[str]:
    """The rules a GS1 Digital Link URI breaks: a primary key in the path, qualifiers in an order its dlpkey
    allows, data attributes only of AIs flagged "?", then the AIs' own rules."""
    parts = urlsplit(url)
    segments = [unquote(s) for s in parts.path.split("/") if s]
    start = next((i for i, s in enumerate(segments) if s in rules() and rules()[s].dlpkey is not None
                  and (len(segments) - i) % 2 == 0), None)
    if start is None:
        return ["No GS1 DL keys found in path info"]
    key = segments[start]
    path = [(segments[j], segments[j + 1]) for j in range(start, len(segments), 2)]
    qualifiers = [ai for ai, _ in path[1:]]
    allowed_paths = rules()[key].dlpkey or ((),)
    if qualifiers and not any(_ordered(qualifiers, allowed) for allowed in allowed_paths):
        return [f"qualifiers {qualifiers} are not a path GS1 allows after ({key})"]
    query = [(k, unquote(v)) for k, _, v in (item.partition("=") for item in parts.query.split("&") if item)
             if k in rules()]
    out = [f"AI ({k}) is not permitted as a GS1 Digital Link data attribute" for k, _ in query
           if not rules()[k].dl_attribute]
    return out + problems(path + query)


def _ordered(qualifiers: list[str], allowed: tuple[str, ...]) -> bool:
    positions = [allowed.index(q) for q in qualifiers if q in allowed]
    return len(positions) == len(qualifiers) and positions == sorted(positions)


def hri(text: str) -> list[tuple[str, str]]:
    """'(01)…(10)…' as (AI, value); values here never hold '(' followed by digits and ')'."""
    return [(m.group(1), m.group(2)) for m in re.finditer(r"\((\d{2,4})\)([^(]*)", text)]

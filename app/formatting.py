"""How quantities and money are written everywhere: pages, API messages, exports, CLI and e-mail.

The digits come from `allocation.text.number`, the one formatter the allocator's reasons use too,
so a quantity reads the same in a refusal, on a page and in a spreadsheet: `12`, `2.5`, never
`12.000000`.
"""

from __future__ import annotations

from decimal import Decimal

from allocation.text import number
from labels.gs1 import GS, GS_SYMBOL


def qty(value: object) -> str:
    """A quantity or amount without trailing zeros or exponent (`12.500000` → `12.5`); `""` for None."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return number(value if isinstance(value, Decimal) else Decimal(str(value)))


def qty_unit(value: object, unit: str | None) -> str:
    """`12 ea`, `2.5 kg`."""
    text = qty(value)
    return f"{text} {unit}" if unit else text


def money(value: object) -> str:
    """A total of money as reports show it: grouped thousands, two decimals (`1,234.50`)."""
    if value is None:
        return ""
    amount = value if isinstance(value, Decimal) else Decimal(str(value))
    return f"{amount:,.2f}"


def shown(text: str, symbol: str = GS_SYMBOL) -> str:
    """Stored text as people see it: a GS1 group separator (ASCII 29) kept in a supplier's lot code is
    written as `symbol` (␝ on screens and in exports), never dropped or left invisible."""
    return text.replace(GS, symbol)

"""What a count on a label comes to in the product's unit: cases × content, never a float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from allocation.text import number, quantity


def _of(count: Decimal, level: str) -> str:
    # "1 case", "2 cases", "0.5 case": only a whole count above one takes the plural.
    if count == 1 or count != count.to_integral_value() or level.endswith("s"):
        return f"{number(count)} {level}"
    return f"{number(count)} {level}{'es' if level.endswith(('x', 'ch', 'sh')) else 's'}"


@dataclass(frozen=True)
class Counted:
    """`count` packs of `level` holding `content` each of the product, whose unit is `unit`.

    `level` is None when the count is of the product's own units (its own GTIN was scanned), so
    the content is one unit each.
    """

    count: Decimal
    content: Decimal
    unit: str
    level: str | None = None

    @property
    def quantity(self) -> Decimal:
        """How much of the product this is, in its unit."""
        return self.count * self.content

    @property
    def text(self) -> str:
        """The conversion as a clerk checks it: "2 cases × 12 jar = 24 jar", or "24 jar"."""
        total = quantity(self.quantity, self.unit)
        if self.level is None:
            return total
        return f"{_of(self.count, self.level)} × {quantity(self.content, self.unit)} = {total}"

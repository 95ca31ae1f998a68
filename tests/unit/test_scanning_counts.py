"""A label's count in the product's unit: cases × content, exact, and worded as a clerk checks it."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from allocation.text import number
from scanning import Counted

counts = st.integers(min_value=0, max_value=99_999_999).map(Decimal)
contents = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(10) ** 9, places=6, allow_nan=False,
                       allow_infinity=False)


def test_cases_of_jars_and_boxes_of_kilograms() -> None:
    assert Counted(Decimal(2), Decimal(12), "ea", "case").quantity == Decimal(24)
    assert Counted(Decimal(2), Decimal(12), "ea", "case").text == "2 cases × 12 ea = 24 ea"
    assert Counted(Decimal(12), Decimal(5), "kg", "box").text == "12 boxes × 5 kg = 60 kg"
    assert Counted(Decimal(1), Decimal("2.5"), "kg", "case").text == "1 case × 2.5 kg = 2.5 kg"
    assert Counted(Decimal(3), Decimal("0.333"), "l", "tray").text == "3 trays × 0.333 l = 0.999 l"


def test_a_count_of_the_products_own_units_is_just_that_many() -> None:
    counted = Counted(Decimal(24), Decimal(1), "ea")
    assert (counted.quantity, counted.text) == (Decimal(24), "24 ea")


@settings(deadline=None)  # a loaded machine must not fail an exact-arithmetic property
@given(count=counts, content=contents)
def test_the_quantity_is_count_times_content_exactly(count: Decimal, content: Decimal) -> None:
    counted = Counted(count, content, "kg", "case")
    assert isinstance(counted.quantity, Decimal)
    # Exact: dividing back gives the content, with no binary rounding on the way.
    assert count == 0 or counted.quantity / count == content
    # n cases are one case more than n - 1 cases.
    one = Counted(Decimal(1), content, "kg", "case").quantity
    assert count == 0 or counted.quantity == Counted(count - 1, content, "kg", "case").quantity + one
    assert counted.text.startswith(f"{number(count)} case")
    assert counted.text.endswith(f" × {number(content)} kg = {number(counted.quantity)} kg")

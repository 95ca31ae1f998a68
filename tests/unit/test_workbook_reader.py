"""The onboarding workbook's reader: whatever a person types into a cell comes back as the text they meant."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from app.exports.workbook import SHEETS, WorkbookReader, cell_text, normal_header, write_workbook
from app.schemas import SheetName

# Text a cell can hold (XML 1.0, no control characters), not blank, and not starting with "=" (a formula).
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
               min_size=1, max_size=40).filter(lambda t: t.strip() and not t.startswith("="))
DECIMALS = st.decimals(min_value=Decimal("-999999999"), max_value=Decimal("999999999"), places=6,
                       allow_nan=False, allow_infinity=False)
DAYS = st.dates(min_value=date(1900, 3, 1), max_value=date(2200, 12, 31))
CELL = st.one_of(TEXT, st.integers(-10**12, 10**12), DECIMALS, DAYS, st.booleans(), st.none())


def meant(value: object) -> str | None:
    """What a person typing `value` into a cell means, as text."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def read(data: bytes, **kw: object) -> list[dict[str, str | None]]:
    with WorkbookReader(data, **kw) as reader:  # type: ignore[arg-type]
        return [row for sheet in reader.sheets for _, row in sheet.rows()]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(CELL, min_size=7, max_size=7), min_size=1, max_size=8))
def test_cells_written_by_a_spreadsheet_program_read_back_as_typed(rows: list[list[object]]) -> None:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "Products"
    ws.append([c.name.upper() for c in SHEETS[SheetName.PRODUCTS]])
    for row in rows:
        # A spreadsheet keeps numbers as doubles: what survives is what the double shows.
        ws.append([float(v) if isinstance(v, Decimal) else v for v in row])
    buf = io.BytesIO()
    book.save(buf)
    expected = [[meant(float(v)) if isinstance(v, Decimal) else meant(v) for v in row] for row in rows]
    expected = [r for r in expected if any(v is not None for v in r)]
    got = [list(r.values()) for r in read(buf.getvalue())]
    assert got == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(CELL, min_size=9, max_size=9), min_size=1, max_size=8))
def test_what_the_export_writes_reads_back_exactly(rows: list[list[object]]) -> None:
    data = write_workbook({SheetName.STOCK: rows})
    expected = [[meant(v) for v in row] for row in rows]
    expected = [r for r in expected if any(v is not None for v in r)]
    assert [list(r.values()) for r in read(data)] == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.one_of(TEXT, st.none()), min_size=4, max_size=4), min_size=1, max_size=8),
       st.sampled_from([",", ";"]))
def test_a_csv_sheet_reads_back_as_written(rows: list[list[str | None]], delimiter: str) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter)
    writer.writerow(["code", "name", "kind", "warehouse"])
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    expected = [[meant(v) for v in row] for row in rows]
    expected = [r for r in expected if any(v is not None for v in r)]
    got = read(buf.getvalue().encode(), filename="locations.csv")
    assert [list(r.values()) for r in got] == expected


def test_headers_are_matched_loosely() -> None:
    assert [normal_header(h) for h in ("SKU", " Shelf life days ", "expiry-alert-days", "Contact Name", "Lot")] == [
        "sku", "shelf_life_days", "expiry_alert_days", "contact", "lot_code"]


def test_cell_text_writes_numbers_and_dates_as_a_person_would() -> None:
    assert [cell_text(v) for v in (12.5, 3.0, 0.1 + 0.2, 1e20, datetime(2026, 5, 1), datetime(2026, 5, 1, 8, 30),
                                   "  ", Decimal("1.500"))] == [
        "12.5", "3", "0.30000000000000004", "100000000000000000000", "2026-05-01", "2026-05-01 08:30:00", None, "1.5"]

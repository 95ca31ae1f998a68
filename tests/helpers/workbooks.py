"""Onboarding workbooks as a new customer fills them in, written with plain openpyxl (not Lotwise's writer)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from openpyxl import Workbook, load_workbook

from labels.gs1 import gtin_check_digit
from tests.helpers.api import TODAY

HEADERS = {
    "products": ["sku", "name", "kind", "unit", "gtin", "shelf_life_days", "expiry_alert_days"],
    "suppliers": ["name", "gln", "contact", "phone", "email", "address"],
    "customers": ["name", "gln", "contact", "phone", "email", "address", "min_remaining_days", "min_remaining_pct",
                  "transit_days", "max_lots_per_line", "no_date_reversal"],
    "locations": ["code", "name", "kind", "warehouse"],
    "stock": ["sku", "lot_code", "quantity", "location", "expiry", "made_on", "supplier", "supplier_lot_code",
              "unit_cost"],
    "orders": ["order_ref", "customer", "sku", "quantity", "ship_date", "warehouse"],
}

Rows = dict[str, list[list[Any]]]


def gln(body: str) -> str:
    return body + str(gtin_check_digit(body))


def day(n: int) -> date:
    return TODAY + timedelta(days=n)


def onboarding() -> Rows:
    """A small maker's spreadsheets: two materials, two jams, a supplier, two customers, stock and orders.

    Rows are in the order an export writes them (by sku, name, code, lot, order), so a round trip compares equal.
    """
    return {
        "products": [
            ["JAM-RASP", "Raspberry jam 340 g", "product", "jar", "5012345678900", 365, 30],
            ["JAM-STRAW", "Strawberry jam 340 g", "product", "jar", None, 365, None],
            ["RASP", "Raspberries", "material", "kg", None, 10, 3],
            ["SUGAR", "Cane sugar", "material", "kg", None, None, None],
        ],
        "suppliers": [
            ["=HYPERLINK(\"http://evil\")", None, None, None, None, None],
            ["Bramblewood Berry Farm", gln("501234500001"), "Ann Bramble", "+44 1234 567", "ann@bramble.example",
             "Bramble Lane 1"],
        ],
        "customers": [
            ["Big Box", gln("501234500002"), "Bob Box", None, "orders@bigbox.example", None, 60, None, 2, 2, True],
            ["Corner Deli", None, None, None, None, None, None, Decimal("50"), 0, None, False],
        ],
        "locations": [
            ["DOCK", "Dispatch dock", "shipping", "MAIN"],
            ["DRY-01", "Dry store", "storage", "MAIN"],
            ["QUAR", "Quarantine", "quarantine", "MAIN"],
        ],
        "stock": [
            ["JAM-RASP", "J-0001", 120, "DRY-01", day(200), day(-165), None, None, Decimal("1.85")],
            ["JAM-RASP", "J-0002", 80, "DRY-01", day(40), day(-325), None, None, Decimal("1.8")],
            ["JAM-STRAW", "S-0001", 60, "DOCK", day(300), day(-65), None, None, Decimal("1.7")],
            ["JAM-STRAW", "S-0001", 10, "DRY-01", day(300), day(-65), None, None, Decimal("1.7")],
            ["RASP", "RB-7731", Decimal("42.5"), "DRY-01", day(5), day(-5), "Bramblewood Berry Farm", "BB-19",
             Decimal("6.2")],
            ["SUGAR", "SU-1", 500, "DRY-01", None, day(-30), None, None, Decimal("0.9")],
        ],
        "orders": [
            ["PO-100", "Big Box", "JAM-RASP", 100, day(3), "MAIN"],
            ["PO-100", "Big Box", "JAM-STRAW", 24, day(3), "MAIN"],
            ["PO-101", "Corner Deli", "JAM-RASP", 30, day(1), "MAIN"],
        ],
    }


def xlsx(rows: Rows, headers: dict[str, Sequence[str]] | None = None, *, extra_sheets: Sequence[str] = ()) -> bytes:
    book = Workbook()
    assert book.active is not None
    book.remove(book.active)
    for name, data in rows.items():
        ws = book.create_sheet(name)
        ws.append(list((headers or HEADERS).get(name, HEADERS.get(name, []))))
        fill(ws, data)
    for name in extra_sheets:
        book.create_sheet(name).append(["anything"])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def fill(ws: Any, rows: list[list[Any]]) -> None:
    """Append rows as a person types them: numbers as numbers, and text starting with "=" as text (typed after
    an apostrophe), not as a formula."""
    for row in rows:
        ws.append([float(v) if isinstance(v, Decimal) else v for v in row])
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
                cell.quotePrefix = True


def csv_bytes(name: str, rows: list[list[Any]], *, delimiter: str = ",") -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter)
    writer.writerow(HEADERS[name])
    for row in rows:
        writer.writerow(["" if v is None else (v.isoformat() if isinstance(v, date) else v) for v in row])
    return buf.getvalue().encode()


def sheets(data: bytes) -> dict[str, list[tuple[Any, ...]]]:
    """Every sheet's cell values (header included), as a spreadsheet program would show them."""
    book = load_workbook(io.BytesIO(data), data_only=True)
    out = {}
    for ws in book.worksheets:
        out[ws.title] = [tuple(_plain(v) for v in row) for row in ws.iter_rows(values_only=True)
                         if any(v is not None for v in row)]
    return out


def _plain(v: Any) -> Any:
    # A date cell reads back as a datetime at midnight; a whole float as the integer it shows.
    if hasattr(v, "date") and callable(v.date):
        return v.date()
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v

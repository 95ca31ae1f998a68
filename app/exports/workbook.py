"""The onboarding workbook: its sheets and columns, reading an uploaded XLSX or CSV row by row, and
writing the template and the export.

Reading uses calamine (python-calamine, a Rust reader about twenty times faster than openpyxl on these
files): one sheet at a time is held in its compact grid, never as Python cells, and formulas are read as
the values the spreadsheet program last calculated, never evaluated. Every cell comes out as text, the way a form or a
CSV hands it to the pydantic commands: numbers without float noise, dates as YYYY-MM-DD, booleans as
true/false. Writing goes through `app.exports.cells`, so stored text never becomes a formula.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from python_calamine import CalamineError, CalamineWorkbook, PasswordError

from app.exports.cells import Cell, is_formula_like, xlsx_text
from app.schemas.imports import SheetName


@dataclass(frozen=True)
class Column:
    name: str
    note: str
    required: bool = False


SHEETS: dict[SheetName, tuple[Column, ...]] = {
    SheetName.PRODUCTS: (
        Column("sku", "your product code: letters, digits and . _ / - (at most 30); the row's key", True),
        Column("name", "the product's name", True),
        Column("kind", "material (bought in and used) or product (made or sold); default product"),
        Column("unit", "the unit stock is counted in: ea, kg, g, l, jar … (at most 10 characters); default ea"),
        Column("gtin", "the GTIN on its label: 8, 12, 13 or 14 digits with a valid check digit; blank for none"),
        Column("shelf_life_days", "days from making or receiving to expiry; blank if it does not expire"),
        Column("expiry_alert_days", "how many days before expiry it counts as expiring; blank for the site's"),
    ),
    SheetName.SUPPLIERS: (
        Column("name", "the supplier's name; the row's key", True),
        Column("gln", "its GLN: 13 digits with a valid check digit"),
        Column("contact", "the person to call"),
        Column("phone", "phone number"),
        Column("email", "e-mail address"),
        Column("address", "postal address"),
    ),
    SheetName.CUSTOMERS: (
        Column("name", "the customer's name; the row's key", True),
        Column("gln", "its GLN: 13 digits with a valid check digit"),
        Column("contact", "the person to call in a recall"),
        Column("phone", "phone number"),
        Column("email", "e-mail address (recall notices go there)"),
        Column("address", "postal address"),
        Column("min_remaining_days", "days of shelf life a lot must have left on arrival; blank for no rule"),
        Column("min_remaining_pct", "per cent (0-100) of a lot's total life that must be left on arrival"),
        Column("transit_days", "days on the road: remaining life is judged on arrival; default 0"),
        Column("max_lots_per_line", "at most this many lots on one order line; blank for no limit"),
        Column("no_date_reversal", "true: never ship an earlier expiry than this customer already had"),
    ),
    SheetName.LOCATIONS: (
        Column("code", "the location's code, as on its shelf label; the row's key", True),
        Column("name", "what it is called", True),
        Column("kind", "storage, receiving, production, shipping or quarantine; default storage"),
        Column("warehouse", "the warehouse's code; a new code creates the warehouse", True),
    ),
    SheetName.STOCK: (
        Column("sku", "the product (from the products sheet or already in Lotwise)", True),
        Column("lot_code", "the lot's code; one lot may lie at several locations (one row each)", True),
        Column("quantity", "how much is on the shelf now, in the product's unit; greater than 0", True),
        Column("location", "the location's code", True),
        Column("expiry", "expiry or best-before date (YYYY-MM-DD); blank: made_on + the product's shelf life"),
        Column("made_on", "when the lot was made or received (YYYY-MM-DD); blank: expiry − shelf life, "
                          "else today"),
        Column("supplier", "the supplier's name, for bought-in lots"),
        Column("supplier_lot_code", "the supplier's own lot code"),
        Column("unit_cost", "what one unit of the lot cost; default 0"),
    ),
    SheetName.ORDERS: (
        Column("order_ref", "your or the customer's order reference; rows with the same one form one order; "
                            "the order's key", True),
        Column("customer", "the customer's name", True),
        Column("sku", "the product ordered", True),
        Column("quantity", "how much, in the product's unit; greater than 0", True),
        Column("ship_date", "the day it ships (YYYY-MM-DD); today or later", True),
        Column("warehouse", "the warehouse it ships from; may be blank when there is only one"),
    ),
}
"""Each sheet's columns in the order the template and the export write them."""

ORDER = tuple(SHEETS)
"""Sheets are read in this order: what a later sheet names may come from an earlier one."""

NOTES_SHEET = "notes"

ALIASES = {"contact_name": "contact", "customer_reference": "order_ref", "supplier_lot": "supplier_lot_code",
           "lot": "lot_code", "qty": "quantity", "best_before": "expiry", "expiry_date": "expiry"}
"""Other names people give these columns; the header is read case-insensitively, spaces as underscores."""

MAX_ROWS = 1_000_000
"""No sheet of a real onboarding has more rows; a file claiming more is refused before it is read."""

MAX_UNPACKED = 500_000_000
"""An .xlsx is a zip: a small upload may unpack to gigabytes. A 50,000-row sheet unpacks to about 20 MB."""

_DECIMAL_DIGITS = 15
"""Decimals with more significant digits than a spreadsheet's double holds exactly are written as text."""


ENCRYPTED = ("the file is a password-protected (encrypted) workbook or an old .xls file: open it in your "
             "spreadsheet program and save it as .xlsx without a password")


class WorkbookError(Exception):
    """The file cannot be read as a workbook (or a CSV sheet); `message` says why in a user's words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RowProblem:
    sheet: str
    row: int
    column: str | None
    message: str


@dataclass
class SheetReader:
    """One sheet of the file: its known columns, what was ignored, and a fresh stream of its rows."""

    name: SheetName
    columns: list[str | None]
    unknown: list[str]
    total: int
    problems: list[RowProblem] = field(default_factory=list)
    _open: Any = None

    def rows(self) -> Iterator[tuple[int, dict[str, str | None]]]:
        """(row number, {column: text or None}) for every non-blank data row; the header is row 1."""
        if self.problems:
            return
        for number, values in self._open():
            row = {name: cell_text(v) for name, v in zip(self.columns, values, strict=False) if name is not None}
            if any(v is not None for v in row.values()):
                yield number, row


def normal_header(name: Any) -> str:
    text = cell_text(name) or ""
    key = "_".join(text.strip().lower().replace("-", " ").split())
    return ALIASES.get(key, key)


def cell_text(value: Any) -> str | None:
    """A cell as text: None for blank; numbers exactly as written; dates as YYYY-MM-DD."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        # repr is the shortest text that reads back as the same double: what the user typed.
        try:
            return format(Decimal(repr(value)).normalize(), "f")
        except InvalidOperation:
            return repr(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    text = str(value)
    return None if not text.strip() else text


def _sheet_name(raw: str) -> SheetName | None:
    try:
        return SheetName(raw.strip().lower())
    except ValueError:
        return None


class WorkbookReader:
    """An uploaded XLSX workbook, or a CSV file holding one sheet; close it when done."""

    def __init__(self, data: bytes, *, filename: str | None = None, sheet: SheetName | None = None) -> None:
        self.notes: list[str] = []
        self.sheets: list[SheetReader] = []
        self._book: Any = None
        if not data:
            raise WorkbookError("the file is empty")
        if data[:4] == b"PK\x03\x04":
            self._read_xlsx(data)
        elif data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            raise WorkbookError(ENCRYPTED)
        else:
            self._read_csv(data, filename, sheet)
        known = {s.name for s in self.sheets}
        self.sheets.sort(key=lambda s: ORDER.index(s.name))
        if not known:
            raise WorkbookError("the file has none of the sheets " + ", ".join(ORDER)
                                + (f" (its sheets: {', '.join(self._other)})" if self._other else ""))

    _other: list[str]

    def _read_xlsx(self, data: bytes) -> None:
        try:
            unpacked = sum(item.file_size for item in zipfile.ZipFile(io.BytesIO(data)).infolist())
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise WorkbookError(f"the file is not a readable .xlsx workbook (it may be damaged): {exc}") from None
        if unpacked > MAX_UNPACKED:
            raise WorkbookError(f"the workbook unpacks to {unpacked / 1e6:,.0f} MB; at most "
                                f"{MAX_UNPACKED / 1e6:,.0f} MB are read (split it into several files)")
        try:
            book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        except PasswordError:
            raise WorkbookError(ENCRYPTED) from None
        except CalamineError as exc:
            raise WorkbookError(f"the file is not a readable .xlsx workbook (it may be damaged): {exc}") from None
        self._book = book
        self._other = []
        for title in book.sheet_names:
            name = _sheet_name(title)
            if name is None:
                if title.strip().lower() != NOTES_SHEET:
                    self._other.append(title)
                    self.notes.append(f"sheet {title!r} is not one of the workbook's sheets; it was ignored")
                continue
            if any(s.name is name for s in self.sheets):
                self.notes.append(f"a second sheet named {title!r} was ignored")
                continue

            def open_rows(title: str = title) -> Iterator[Sequence[Any]]:
                # calamine reads the sheet (cached values of formulas, never evaluated) into a compact
                # grid of its own; the rows become Python values one at a time. Rows count from row 1.
                try:
                    sheet = book.get_sheet_by_name(title)
                except CalamineError as exc:
                    raise WorkbookError(f"sheet {title!r} cannot be read (the file may be damaged): {exc}") from None
                return sheet.iter_rows()

            self.sheets.append(self._sheet(name, open_rows, None))

    def _read_csv(self, data: bytes, filename: str | None, sheet: SheetName | None) -> None:
        self._other = []
        if b"\x00" in data[:65536]:
            raise WorkbookError("the file is not a spreadsheet: send an .xlsx workbook or a CSV file")
        for encoding in ("utf-8-sig", "cp1252"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise WorkbookError("the file is not a spreadsheet: send an .xlsx workbook or a CSV file (UTF-8)")
        if sheet is None and filename:
            sheet = _sheet_name(PurePath(filename).stem)
        if sheet is None:
            raise WorkbookError("a CSV file holds one sheet: say which (" + ", ".join(ORDER)
                                + "), or name the file after it (stock.csv)")
        first = text.split("\n", 1)[0]
        delimiter = ";" if first.count(";") > first.count(",") else ","

        def rows() -> Iterator[tuple[Any, ...]]:
            for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
                yield tuple(row)

        self.sheets.append(self._sheet(sheet, rows, max(text.count("\n") - 1, 0)))


    def _sheet(self, name: SheetName, open_rows: Any, total: int | None) -> SheetReader:
        """The sheet's header and size, read now; its rows are read again, streaming, when asked for."""
        known = {c.name for c in SHEETS[name]}
        header: Sequence[Any] | None = None
        rows = open_rows()
        for values in rows:
            header = values
            break
        if total is None:
            total = sum(1 for _ in rows)
        del rows
        reader = SheetReader(name=name, columns=[], unknown=[], total=total)
        if total > MAX_ROWS:
            reader.problems.append(RowProblem(name.value, 1, None, f"the sheet has {total:,} rows; at most "
                                                                  f"{MAX_ROWS:,} are read"))
            return reader
        names = [normal_header(v) for v in header or ()]
        if not any(names):
            reader.problems.append(RowProblem(name.value, 1, None, "the sheet has no header row: the first row must "
                                              "name the columns (" + ", ".join(sorted(known)) + ")"))
            return reader
        seen: set[str] = set()
        for n in names:
            if n in known and n not in seen:
                reader.columns.append(n)
                seen.add(n)
            else:
                reader.columns.append(None)
                if n:
                    reader.unknown.append(n)
                    why = "a second" if n in known else "an unknown"
                    self.notes.append(f"sheet {name.value}: {why} column {n!r} was ignored")
        for c in SHEETS[name]:
            if c.required and c.name not in seen:
                reader.problems.append(RowProblem(name.value, 1, c.name, f"the sheet has no {c.name} column"))

        def numbered() -> Iterator[tuple[int, tuple[Any, ...]]]:
            rows = open_rows()
            next(rows, None)
            yield from enumerate(rows, start=2)

        reader._open = numbered
        return reader

    def total(self) -> int:
        return sum(s.total for s in self.sheets)

    def close(self) -> None:
        if self._book is not None:
            self._book.close()
            self._book = None

    def __enter__(self) -> WorkbookReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE3EA")


def _cell(ws: Any, value: Cell | bool) -> WriteOnlyCell:
    if isinstance(value, str):
        cell = WriteOnlyCell(ws, value=xlsx_text(value))
        # Stored text is always a string cell, never a formula (see app.exports.cells).
        cell.data_type = "s"
        if is_formula_like(cell.value):
            cell.quotePrefix = True
        return cell
    if isinstance(value, Decimal):
        if len(value.normalize().as_tuple().digits) > _DECIMAL_DIGITS:
            cell = WriteOnlyCell(ws, value=format(value.normalize(), "f"))
            cell.data_type = "s"
            return cell
        value = value.normalize()
        value = int(value) if value == value.to_integral_value() else value
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"
    return cell


def _header(ws: Any, names: Sequence[str]) -> list[WriteOnlyCell]:
    cells = []
    for n in names:
        cell = WriteOnlyCell(ws, value=n)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cells.append(cell)
    return cells


def write_workbook(rows: Mapping[SheetName, Iterable[Sequence[Cell | bool]]], *, notes: bool = True) -> bytes:
    """The workbook with a sheet per entry of `rows` (in the workbook's order) and the notes sheet.

    Written in openpyxl's write-only mode: rows go to the file as they come, so an export of every lot
    on hand never holds them all as cells.
    """
    book = Workbook(write_only=True)
    for name in ORDER:
        if name not in rows:
            continue
        ws = book.create_sheet(name.value)
        columns = SHEETS[name]
        for i, c in enumerate(columns):
            ws.column_dimensions[chr(ord("A") + i)].width = max(len(c.name) + 2, 14)
        ws.freeze_panes = "A2"
        ws.append(_header(ws, [c.name for c in columns]))
        for row in rows[name]:
            ws.append([_cell(ws, v) for v in row])
    if notes:
        ws = book.create_sheet(NOTES_SHEET)
        ws.column_dimensions["A"].width = 12
        ws.column_dimensions["B"].width = 20
        ws.column_dimensions["C"].width = 10
        ws.column_dimensions["D"].width = 100
        ws.append(_header(ws, ["sheet", "column", "required", "what to write"]))
        wrap = Alignment(wrap_text=True, vertical="top")
        for name, columns in SHEETS.items():
            for c in columns:
                note = WriteOnlyCell(ws, value=c.note)
                note.alignment = wrap
                ws.append([name.value, c.name, "yes" if c.required else "", note])
        ws.append([])
        for line in NOTES:
            ws.append([WriteOnlyCell(ws, value=line)])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


NOTES = (
    "The first row of each sheet names the columns (in any order, any case); unknown columns are reported "
    "and ignored. Leave out sheets you do not need.",
    "Existing records are matched by sku, name, code or order_ref and only changed with the update option; "
    "importing the same file again changes nothing.",
    "Dates are YYYY-MM-DD (or date cells); quantities and costs are numbers; formulas are read as their "
    "last calculated value.",
    "A file with any bad row imports nothing unless you choose to skip bad rows; check it first with a dry run.",
)


def template() -> bytes:
    """The empty workbook: every sheet with its header row, and the notes sheet describing each column."""
    return write_workbook({name: [] for name in ORDER})


def export(rows: Mapping[SheetName, Iterable[Sequence[Cell | bool]]]) -> bytes:
    """The workbook of what Lotwise holds (from `app.queries.workbook`), in the template's layout."""
    return write_workbook(rows)

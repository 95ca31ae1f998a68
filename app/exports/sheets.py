"""Writing tables as CSV text and as sortable XLSX sheets (header frozen, autofilter, sized columns)."""

from __future__ import annotations

import csv
import functools
import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell.cell import Cell as SheetCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from app.exports.cells import (
    CACHED_TEXT,
    CSV_LINE_END,
    Cell,
    csv_cell,
    csv_text_cell,
    is_formula_like,
    xlsx_text,
)
from app.formatting import qty

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
"""The media type of an XLSX workbook."""

__all__ = ["XLSX", "Cell", "add_sheet", "append_row", "csv_stream", "csv_text", "stream_xlsx", "text",
           "workbook_bytes", "xlsx_stream"]

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
        # Text, the most common cell, without a call through csv_cell (same rule, `csv_text` once per text).
        writer.writerow([csv_text_cell(v) if v.__class__ is str else csv_cell(v) for v in row])
        if n % batch == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


_XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_EPOCH = date(1899, 12, 30)
# Cell styles of the streamed workbook (indexes into cellXfs of _STYLES).
_HEADER, _DATE, _QUOTED, _DATETIME = 1, 2, 3, 4
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/>'
    '</font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFDDE3EA"/><bgColor indexed="64"/></patternFill></fill>'
    '</fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>')
_NS = ('xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
       'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"')


def _make_tail(value: str, style: int) -> str:
    text = xlsx_text(value)
    if style == 0 and is_formula_like(text):
        style = _QUOTED
    s = f' s="{style}"' if style else ""
    return f'" t="inlineStr"{s}><is><t xml:space="preserve">{text.translate(_XML_ESCAPES)}</t></is></c>'


_cached_tail = functools.lru_cache(maxsize=1 << 16)(_make_tail)


def _text_tail(value: str, style: int) -> str:
    """A text cell after its reference; short texts made once (`cells.CACHED_TEXT`), as the same names and places
    fill a year of rows."""
    return _cached_tail(value, style) if len(value) <= CACHED_TEXT else _make_tail(value, style)


def _xml_cell(ref: str, value: Cell, style: int = 0) -> str:
    """One `<c>` element: text inline (never a formula; quote prefix on what looks like one), numbers as numbers,
    dates as Excel serial days with a date format, times as UTC wall time."""
    if value is None:
        return ""
    if isinstance(value, str):
        return '<c r="' + ref + _text_tail(value, style)
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, Decimal):
        return f'<c r="{ref}"><v>{value:f}</v></c>'
    if isinstance(value, int):
        return f'<c r="{ref}"><v>{value}</v></c>'
    if isinstance(value, datetime):
        wall = value.replace(tzinfo=None)
        days = (wall - datetime(1899, 12, 30)).total_seconds() / 86400
        return f'<c r="{ref}" s="{_DATETIME}"><v>{days!r}</v></c>'
    return f'<c r="{ref}" s="{_DATE}"><v>{(value - _EPOCH).days}</v></c>'


class _Sink:
    """A write-only, unseekable file the zip writer fills; what it holds is handed on and dropped."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        out = b"".join(self.parts)
        self.parts.clear()
        return out


def _sheet_rows(headers: Sequence[str], rows: Iterable[Sequence[Cell]], letters: list[str],
                widths: Sequence[float], counter: list[int]) -> Iterator[str]:
    cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths, start=1))
    yield (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {_NS}>'
           '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
           'state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
           f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>')
    header = "".join(_xml_cell(f"{c}1", h, _HEADER) for c, h in zip(letters, headers, strict=False))
    yield f'<row r="1">{header}</row>'
    n = 1
    for row in rows:
        n += 1
        num = str(n)
        parts = ['<row r="', num, '">']
        for c, v in zip(letters, row, strict=False):
            # Text, the most common cell, written here without a call per cell; the rest by _xml_cell.
            if v.__class__ is str:
                tail = _cached_tail if len(v) <= CACHED_TEXT else _make_tail
                parts.append('<c r="' + c + num + tail(v, 0))
            elif v is not None:
                parts.append(_xml_cell(c + num, v))
        parts.append("</row>")
        yield "".join(parts)
    counter[0] = n
    yield f'</sheetData><autoFilter ref="A1:{letters[len(headers) - 1]}{n}"/></worksheet>'


def xlsx_stream(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Cell]], Sequence[float]]],
                *, batch: int = 1000) -> Iterator[bytes]:
    """A workbook written row by row and handed out in pieces as it is zipped: each sheet has a bold frozen
    header, an autofilter over its rows and the given column widths; cells follow `app.exports.cells`.

    Written directly as SpreadsheetML (inline strings, one style table) rather than through openpyxl, whose
    per-cell objects cost a hundred times more on a year of events."""
    sink = _Sink()
    # Level 1: deflating the XML at the default level 6 cost more CPU than writing it, for a file ~15% smaller.
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        names = [title[:31] for title, *_ in sheets]
        zf.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                      'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                      for i in range(1, len(names) + 1)) + "</Types>"))
        zf.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        zf.writestr("xl/workbook.xml", (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook {_NS}><sheets>'
            + "".join(f'<sheet name="{name.translate(_XML_ESCAPES)}" sheetId="{i}" r:id="rId{i}"/>'
                      for i, name in enumerate(names, start=1)) + "</sheets></workbook>"))
        zf.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                      f'relationships/worksheet" Target="worksheets/sheet{i}.xml"/>' for i in range(1, len(names) + 1))
            + f'<Relationship Id="rId{len(names) + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
              'relationships/styles" Target="styles.xml"/></Relationships>'))
        zf.writestr("xl/styles.xml", _STYLES)
        yield sink.take()
        for i, (_title, headers, rows, widths) in enumerate(sheets, start=1):
            letters = [get_column_letter(n) for n in range(1, len(headers) + 1)]
            with zf.open(f"xl/worksheets/sheet{i}.xml", "w", force_zip64=True) as part:
                pending: list[str] = []
                for piece in _sheet_rows(headers, rows, letters, widths, [0]):
                    pending.append(piece)
                    if len(pending) >= batch:
                        part.write("".join(pending).encode("utf-8"))
                        pending.clear()
                        yield sink.take()
                part.write("".join(pending).encode("utf-8"))
            yield sink.take()
    yield sink.take()


def stream_xlsx(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Cell]], Sequence[float]]]) -> bytes:
    """`xlsx_stream` gathered into one file."""
    return b"".join(xlsx_stream(sheets))

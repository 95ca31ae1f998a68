"""The waste report as CSV and XLSX: pure formatting of `queries.waste.waste_report`'s result."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font

from app.exports.cells import CSV_LINE_END, csv_cell
from app.exports.sheets import append_row
from app.schemas import (
    WasteReport,
)

Cell = str | int | Decimal | None


def _sections(report: WasteReport, currency: str) -> Iterable[tuple[str, list[str], list[list[Cell]]]]:
    money = f"({currency})"
    yield ("By month and product", ["month", "sku", "product", "quantity", "unit", f"value {money}"],
           [[r.month, r.sku, r.product_name, r.quantity, r.unit, r.value] for r in report.by_month_product])
    yield ("By month", ["month", f"waste {money}", f"received or produced {money}", "waste %"],
           [[r.month, r.value, r.intake_value, r.share_pct] for r in report.by_month])
    yield ("By product", ["sku", "product", "quantity", "unit", f"value {money}", "received or produced",
                          "waste %", "previous quantity", f"previous value {money}", f"change {money}", "change %"],
           [[r.sku, r.product_name, r.quantity, r.unit, r.value, r.intake_quantity, r.share_pct,
             r.previous_quantity, r.value_change.previous, r.value_change.change, r.value_change.change_pct]
            for r in report.by_product])
    yield ("By reason", ["reason", "write-offs", f"value {money}", f"previous value {money}", f"change {money}",
                         "change %"],
           [[r.reason.value, r.write_offs, r.value, r.value_change.previous, r.value_change.change,
             r.value_change.change_pct] for r in report.by_reason])
    yield ("By location", ["location", "warehouse", "write-offs", f"value {money}", f"previous value {money}",
                           f"change {money}", "change %"],
           [[r.location, r.warehouse, r.write_offs, r.value, r.value_change.previous, r.value_change.change,
             r.value_change.change_pct] for r in report.by_location])


def report_csv(report: WasteReport, currency: str) -> str:
    """The report as CSV: a summary line, then one block per table with its title and header row."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator=CSV_LINE_END)
    rows: list[list[Cell]] = [
        [f"Waste {report.date_from} to {report.date_to}",
         f"previous period {report.previous_from} to {report.previous_to}"],
        [f"total ({currency})", report.total.current, f"previous ({currency})", report.total.previous,
         f"change ({currency})", report.total.change, "waste %", report.share_pct],
    ]
    for title, header, table in _sections(report, currency):
        rows += [[], [title], list(header), *table]
    w.writerows([csv_cell(v) for v in row] for row in rows)
    return out.getvalue()


def report_xlsx(report: WasteReport, currency: str) -> bytes:
    """The report as an Excel workbook, a summary and one sheet per table; figures stay numbers."""
    wb = Workbook()
    summary = wb.active
    assert summary is not None
    summary.title = "Summary"
    bold = Font(bold=True)
    append_row(summary, [f"Waste {report.date_from} to {report.date_to}"])
    summary["A1"].font = bold
    append_row(summary, ["previous period", f"{report.previous_from} to {report.previous_to}"])
    append_row(summary, [f"total ({currency})", report.total.current])
    append_row(summary, [f"previous ({currency})", report.total.previous])
    append_row(summary, [f"change ({currency})", report.total.change])
    append_row(summary, ["waste % of received or produced", report.share_pct])
    for title, header, rows in _sections(report, currency):
        sheet = wb.create_sheet(title.removeprefix("By ").capitalize())
        append_row(sheet, header)
        for cell in sheet[1]:
            cell.font = bold
        for row in rows:
            append_row(sheet, row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()

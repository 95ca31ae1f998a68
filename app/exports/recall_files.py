"""The recall (or drill) report as CSV, XLSX and PDF: the same sections in every format."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from openpyxl import Workbook
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus.flowables import Flowable

from app.exports.sheets import Cell, add_sheet, csv_text, text, workbook_bytes
from app.formatting import shown
from app.schemas import EffectivenessOut, NotificationOut, RecallReportOut
from labels.gs1 import GS_PRINTED


@dataclass(frozen=True)
class ReportFile:
    """What goes into a report file: a title, facts about the recall or drill, and the report."""

    title: str
    facts: list[tuple[str, str]]
    report: RecallReportOut
    notifications: list[NotificationOut] = field(default_factory=list)
    effectiveness: EffectivenessOut | None = None


def _units(values: dict[str, Decimal]) -> str:
    return ", ".join(f"{text(q)} {u}" for u, q in sorted(values.items())) or "0"


Section = tuple[str, list[str], list[list[Cell]]]


def sections(doc: ReportFile) -> list[Section]:
    """Every table of the report, in reading order."""
    r = doc.report
    facts = [
        *doc.facts,
        ("Affected lots", str(r.totals.lots)),
        ("Consignees", str(r.totals.consignees)),
        ("Shipment lines", str(r.totals.shipment_lines)),
        ("Shipped", _units(r.totals.shipped)),
        ("Still on hand", _units(r.totals.on_hand)),
        ("Lots with unaccounted quantity", str(r.totals.unbalanced_lots)),
    ]
    if doc.effectiveness is not None:
        e = doc.effectiveness
        facts += [
            ("Consignees notified", f"{e.notified} of {e.consignees} ({text(e.notified_pct)} %)"),
            ("Consignees responded", str(e.responded)),
            ("Returned or destroyed", _units(e.recovered)),
            ("Recovered", ", ".join(f"{text(p)} % of {u}" for u, p in sorted(e.recovered_pct.items())) or "-"),
            ("Not yet notified", ", ".join(e.not_notified) or "-"),
        ]
    out: list[Section] = [("Summary", ["Item", "Value"], [[k, v] for k, v in facts])]
    out.append(("Affected lots",
                ["Role", "Depth", "SKU", "Product", "Lot", "Supplier lot", "Made or received", "Expiry",
                 "Status", "On hand", "Unit"],
                [[a.role.value, a.depth, a.lot.sku, a.lot.product_name, a.lot.code, a.lot.supplier_lot_code,
                  a.lot.made_on, a.lot.expiry, a.lot.status.value, a.on_hand, a.lot.unit] for a in r.lots]))
    out.append(("Consignees",
                ["Customer", "Contact", "Phone", "Email", "Address", "Shipped on", "Shipment", "Order",
                 "Customer reference", "SKU", "Lot", "Quantity", "Unit"],
                [[c.customer.name, c.customer.contact_name, c.customer.phone, c.customer.email,
                  c.customer.address, x.shipped_on, x.shipment_number, x.order_number, x.customer_reference,
                  x.sku, x.lot_code, x.quantity, x.unit] for c in r.consignees for x in c.lines]))
    out.append(("On hand",
                ["SKU", "Lot", "Warehouse", "Location", "Location kind", "On hand", "Unit"],
                [[s.sku, s.lot_code, s.warehouse, s.location, s.location_kind, s.on_hand, s.unit]
                 for s in r.stock]))
    out.append(("Mass balance",
                ["SKU", "Lot", "Unit", "Received", "Produced", "Returned", "Adjusted", "Moved (net)", "Consumed",
                 "Shipped", "Written off", "On hand", "Unaccounted"],
                [[m.sku, m.lot_code, m.unit, m.received, m.produced, m.returned, m.adjusted, m.moved,
                  m.consumed, m.shipped, m.written_off, m.on_hand, m.remainder] for m in r.mass_balance]))
    out.append(("Suppliers",
                ["Supplier", "Contact", "Phone", "Email", "Address", "SKU", "Product", "Our lot", "Supplier lot",
                 "Receipts", "Quantity received", "Unit"],
                [[u.supplier.name, u.supplier.contact_name, u.supplier.phone, u.supplier.email,
                  u.supplier.address, u.lot.sku, u.lot.product_name, u.lot.code, u.lot.supplier_lot_code,
                  ", ".join(f"{x.receipt_number} ({x.received_on})" for x in u.receipts),
                  sum((x.quantity for x in u.receipts), Decimal(0)), u.lot.unit] for u in r.suppliers]))
    if doc.effectiveness is not None:
        out.append(("Notifications",
                    ["Customer", "Notified at (UTC)", "How", "Contact", "Response", "Returned", "Destroyed",
                     "Recorded by"],
                    [[n.customer_name, n.notified_at, n.method, n.contact, n.response, n.quantity_returned,
                      n.quantity_destroyed, n.recorded_by] for n in doc.notifications]))
    return out


def to_csv(doc: ReportFile) -> bytes:
    """All sections in one CSV file, each under its title row (UTF-8 with BOM so spreadsheets detect it)."""
    body = csv_text([(doc.title + " · " + title if n == 0 else title, headers, rows)
                     for n, (title, headers, rows) in enumerate(sections(doc))])
    return ("\ufeff" + body).encode("utf-8")


def to_xlsx(doc: ReportFile) -> bytes:
    """One sheet per section, each sortable and filterable."""
    wb = Workbook()
    for n, (title, headers, rows) in enumerate(sections(doc)):
        add_sheet(wb, title, headers, rows, first=n == 0)
    return workbook_bytes(wb)


_STYLES = getSampleStyleSheet()
_SMALL = ParagraphStyle("small", parent=_STYLES["BodyText"], fontSize=7.5, leading=9)
_TABLE = TableStyle([
    ("FONT", (0, 0), (-1, -1), "Helvetica", 7.5),
    ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 7.5),
    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDE3EA")),
    ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#B9C3CF")),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("LEFTPADDING", (0, 0), (-1, -1), 3),
    ("RIGHTPADDING", (0, 0), (-1, -1), 3),
])
# Long free text (addresses, responses) wraps inside its cell instead of running off the page.
_WRAP = {"Address", "Response", "Receipts", "Product", "Email", "Value"}


def _table(headers: Sequence[str], rows: Sequence[Sequence[Cell]], width: float) -> Flowable:
    wrap = [h in _WRAP for h in headers]
    data: list[list[object]] = [list(headers)]
    for row in rows:
        # The PDF's Helvetica has no ␝: a GS1 separator is printed as GS1 writes it, like on labels.
        cells = [shown(text(v), GS_PRINTED) for v in row]
        data.append([Paragraph(c.replace("&", "&amp;").replace("<", "&lt;"), _SMALL) if wrap[i] and v
                     else c for i, (c, v) in enumerate(zip(cells, row, strict=True))])
    weights = [3.0 if w else 1.0 for w in wrap]
    total = sum(weights)
    table = LongTable(data, repeatRows=1, colWidths=[width * w / total for w in weights])
    style = TableStyle(_TABLE.getCommands())
    if "Unaccounted" in headers:
        col = list(headers).index("Unaccounted")
        for i, row in enumerate(rows, start=1):
            if row[col] not in (0, None):
                style.add("BACKGROUND", (0, i), (-1, i), colors.HexColor("#FCE8E6"))
                style.add("TEXTCOLOR", (col, i), (col, i), colors.HexColor("#B3261E"))
    table.setStyle(style)
    return table


def to_pdf(doc: ReportFile) -> bytes:
    """A printable report: landscape A4, every table with its header repeated on each page."""
    buf = io.BytesIO()
    page = landscape(A4)
    pdf = SimpleDocTemplate(buf, pagesize=page, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm,
                            bottomMargin=12 * mm, title=doc.title)
    width = page[0] - 24 * mm
    story: list[Flowable] = [Paragraph(doc.title, _STYLES["Title"])]
    for title, headers, rows in sections(doc):
        story.append(Paragraph(title, _STYLES["Heading2"]))
        if rows:
            story.append(_table(headers, rows, width))
        else:
            story.append(Paragraph("None.", _STYLES["BodyText"]))
        story.append(Spacer(1, 4 * mm))
    pdf.build(story)
    return buf.getvalue()

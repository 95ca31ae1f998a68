"""A recall notice for one consignee: the e-mail's subject and text, and the same as a printed letter (PDF)."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from app.formatting import qty
from app.schemas import NoticeLetterOut

WHAT_TO_DO = [
    "Stop selling and using the products listed below at once, and keep what you still hold apart.",
    "Tell us through your personal link how much you still hold, have destroyed and have returned, per lot.",
    "Destroy or return the stock as we agree with you; then answer again through the same link.",
]

NO_LINK = "(your personal link is made when this notice is sent)"


def subject(n: NoticeLetterOut) -> str:
    return f"RECALL {n.recall_number} — {n.company}: stop selling and using the products listed"


def _contact(n: NoticeLetterOut) -> str:
    return n.company_contact or n.company


def text(n: NoticeLetterOut) -> str:
    """The notice as plain text (the e-mail's body)."""
    out = [
        f"PRODUCT RECALL {n.recall_number} — from {n.company}",
        "",
        f"To {n.customer_name}" + (f", attn. {n.contact_name}" if n.contact_name else ""),
        "",
        f"We are recalling products we delivered to you. Opened {n.opened_on.isoformat()}.",
        "",
        "WHAT TO DO",
        *(f"  {i}. {step}" for i, step in enumerate(WHAT_TO_DO, 1)),
        "",
        "WHAT YOU RECEIVED",
    ]
    for line in n.lines:
        out.append(f"  {line.shipped_on.isoformat()}  shipment {line.shipment_number} (order {line.order_number}"
                   + (f", your ref. {line.customer_reference}" if line.customer_reference else "") + ")")
        out.append(f"      {line.product_name or line.sku} ({line.sku}), lot {line.lot_code}: "
                   f"{qty(line.quantity)} {line.unit}")
    out += [
        "",
        "ANSWER HERE (no login needed; it works until the recall is closed)",
        f"  {n.link or NO_LINK}",
        "",
        f"Questions: {_contact(n)}",
    ]
    return "\n".join(out) + "\n"


def pdf(n: NoticeLetterOut) -> bytes:
    """The notice as a one- or two-page A4 letter, for consignees without e-mail."""
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm,
                            bottomMargin=18 * mm, title=f"Recall {n.recall_number}", author=n.company)
    styles = getSampleStyleSheet()
    body, head = styles["BodyText"], styles["Heading2"]

    def p(value: str, style: object = body) -> Paragraph:
        return Paragraph(escape(value), style)

    story: list[object] = [
        p(f"PRODUCT RECALL {n.recall_number}", styles["Title"]),
        p(f"From {n.company} — {n.opened_on.isoformat()}"),
        Spacer(1, 4 * mm),
        p(n.customer_name),
        *([p(f"Attn. {n.contact_name}")] if n.contact_name else []),
        *([p(line) for line in (n.address or "").splitlines() if line.strip()]),
        Spacer(1, 6 * mm),
        p("What to do", head),
        *(p(f"{i}. {step}") for i, step in enumerate(WHAT_TO_DO, 1)),
        p("What you received", head),
    ]
    rows = [["Shipped", "Shipment", "Product", "Lot", "Quantity"]]
    rows += [[line.shipped_on.isoformat(), line.shipment_number, Paragraph(escape(line.product_name or line.sku),
              body), Paragraph(escape(line.lot_code), body), f"{qty(line.quantity)} {line.unit}"]
             for line in n.lines]
    table = Table(rows, colWidths=[24 * mm, 28 * mm, 60 * mm, 30 * mm, 28 * mm], repeatRows=1)
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LINEBELOW", (0, 0), (-1, 0), 0.5, "black"), ("ALIGN", (-1, 0), (-1, -1), "RIGHT")]))
    story += [table, p("Answer here", head),
              p("Open this address on a phone or computer (no login needed; it works until the recall is closed):"),
              p(n.link or NO_LINK, styles["Code"]),
              Spacer(1, 4 * mm), p(f"Questions: {_contact(n)}")]
    doc.build(story)
    return buf.getvalue()

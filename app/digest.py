"""The daily expiry digest: expired and expiring stock as plain text or CSV, and its delivery by e-mail."""

from __future__ import annotations

import csv
import io
import smtplib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from itertools import groupby
from typing import Any

from sqlalchemy.orm import Session

from app.exports.cells import CSV_LINE_END, csv_cell
from app.formatting import qty
from app.queries.expiry import Filters, expiring_stock, expiry_summary
from app.schemas import ExpiringRow, ExpirySummary


@dataclass(frozen=True)
class Digest:
    today: date
    subject: str
    text: str
    csv: str
    rows: Sequence[ExpiringRow]
    summary: ExpirySummary

    @property
    def filename(self) -> str:
        """The CSV attachment's name."""
        return f"expiring-{self.today.isoformat()}.csv"


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    user: str
    password: str
    sender: str
    starttls: bool
    recipients: tuple[str, ...]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MailSettings | None:
        """The configured SMTP delivery, or None when no server or no recipient is set."""
        recipients = tuple(a.strip() for a in str(config.get("DIGEST_TO") or "").split(",") if a.strip())
        host = str(config.get("SMTP_HOST") or "").strip()
        if not host or not recipients:
            return None
        return cls(host=host, port=int(config.get("SMTP_PORT") or 25), user=str(config.get("SMTP_USER") or ""),
                   password=str(config.get("SMTP_PASSWORD") or ""),
                   sender=str(config.get("SMTP_FROM") or "lotwise@localhost"),
                   starttls=bool(config.get("SMTP_STARTTLS")), recipients=recipients)


def _days(row: ExpiringRow) -> str:
    if row.days_left < 0:
        return f"expired {row.expiry} ({-row.days_left} d ago)"
    if row.days_left == 0:
        return f"expires {row.expiry} (today)"
    return f"expires {row.expiry} (in {row.days_left} d)"


def _customers(row: ExpiringRow) -> str:
    names = "; ".join(f"{c.name} (ship by {c.until})" for c in row.customers)
    return names + (f"; +{row.more_customers} more" if row.more_customers else "")


def _weeks(summary: ExpirySummary, currency: str) -> list[str]:
    out = ["", "BY PRODUCT — expired in all; expiring per week of expiry"]
    for w in summary.weeks:
        when = f"expired since {w.first_expiry}" if w.expired else f"week of {w.week}"
        out.append(f"  {w.sku} · {w.product_name}: {when}: {w.lots} lot(s), {qty(w.on_hand)} {w.unit}, "
                   f"{w.value:.2f} {currency}")
    if summary.more_weeks:
        out.append(f"  … and {summary.more_weeks} more product-week(s)")
    return out


def digest_text(rows: Sequence[ExpiringRow], summary: ExpirySummary, *, today: date, site_name: str,
                currency: str, default_alert_days: int, more: Mapping[bool, bool] | None = None) -> str:
    """The digest as plain text for an e-mail body or a log: totals, per product and week, then the most
    urgent rows, expired first, then expiring, by product. `more[expired]` says some rows were left out."""
    out = [
        f"{site_name} — expiry digest for {today.isoformat()}",
        "",
        f"Expired, still on hand: {summary.expired_lots} lot(s), {summary.expired_value:.2f} {currency}",
        f"Expiring within their alert window: {summary.expiring_lots} lot(s), {summary.expiring_value:.2f} {currency}",
        f"(alert window {default_alert_days} days unless the product sets its own)",
    ]
    if not rows:
        out += ["", "Nothing is expired or expiring within its alert window."]
    elif summary.weeks:
        out += _weeks(summary, currency)
    for title, expired in (("EXPIRED — write off or investigate", True), ("EXPIRING — sell first", False)):
        part = sorted((r for r in rows if r.expired is expired), key=lambda r: (r.sku, r.expiry, r.lot_code))
        if not part:
            continue
        out += ["", title + (" (the most urgent rows)" if more and more.get(expired) else "")]
        for (sku, name), items in groupby(part, key=lambda r: (r.sku, r.product_name)):
            out.append(f"  {sku} · {name}")
            for r in items:
                status = "" if r.status.value == "released" else f"  [{r.status.value}]"
                out.append(f"    lot {r.lot_code} at {r.location} ({r.warehouse}): {qty(r.on_hand)} {r.unit}, "
                           f"{r.value:.2f} {currency}, {_days(r)}{status}")
                if not expired:
                    out.append(f"      could still go to: {_customers(r) or 'no customer accepts it any more'}")
        if more and more.get(expired):
            out.append("  … more rows on the Expiring stock page (the totals above count them all)")
    return "\n".join(out) + "\n"


def digest_csv(rows: Sequence[ExpiringRow]) -> str:
    """The digest as CSV, one row per lot and location."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=CSV_LINE_END)
    w.writerow(["state", "sku", "product", "lot", "location", "warehouse", "expiry", "days_left", "on_hand", "unit",
                "unit_cost", "value", "lot_status", "could_still_go_to"])
    for r in rows:
        w.writerow([csv_cell(v) for v in (
            "expired" if r.expired else "expiring", r.sku, r.product_name, r.lot_code, r.location, r.warehouse,
            r.expiry, r.days_left, r.on_hand, r.unit, r.unit_cost)]
                   + [f"{r.value:.2f}", csv_cell(r.status.value), csv_cell(_customers(r))])
    return buf.getvalue()


def build_digest(session: Session, *, today: date, default_alert_days: int, site_name: str, currency: str,
                 warehouse: str | None = None, max_rows: int = 100) -> Digest:
    """Today's digest of stock expired or expiring within its alert window.

    Totals and the per-product, per-week figures count everything; the rows listed (and the CSV)
    are the `max_rows` most urgent expired rows and the `max_rows` most urgent expiring ones.
    """
    summary = expiry_summary(session, Filters(today, default_alert_days, warehouse), show=0, max_weeks=200)
    rows: list[ExpiringRow] = []
    more: dict[bool, bool] = {}
    for expired in (True, False):
        part = expiring_stock(session, today=today, default_alert_days=default_alert_days, warehouse=warehouse,
                              expired_only=expired, expiring_only=not expired, with_customers=not expired,
                              max_customers=10, limit=max_rows + 1)
        more[expired] = len(part) > max_rows
        rows += part[:max_rows]
    subject = (f"[{site_name}] Expiry digest {today.isoformat()}: {summary.expired_lots} expired, "
               f"{summary.expiring_lots} expiring")
    return Digest(today=today, subject=subject, rows=rows, summary=summary, csv=digest_csv(rows),
                  text=digest_text(rows, summary, today=today, site_name=site_name, currency=currency,
                                   default_alert_days=default_alert_days, more=more))


def send_digest(settings: MailSettings, digest: Digest, *, timeout: float = 30) -> None:
    """E-mail the digest (text body, CSV attached); raises OSError or smtplib.SMTPException on failure."""
    msg = EmailMessage()
    msg["Subject"] = digest.subject
    msg["From"] = settings.sender
    msg["To"] = ", ".join(settings.recipients)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    msg.set_content(digest.text)
    msg.add_attachment(digest.csv.encode(), maintype="text", subtype="csv", filename=digest.filename)
    with smtplib.SMTP(settings.host, settings.port, timeout=timeout) as smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.user:
            smtp.login(settings.user, settings.password)
        smtp.send_message(msg)

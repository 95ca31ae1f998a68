"""What the public pages may show: a product and lot as printed on the pack, its recall status, and a
consignee's own deliveries. Nothing else (customers, stock, costs, suppliers) is read here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.formatting import qty
from app.models import Lot, Product, Recall, RecallLot, RecallNotice, RecallResponse, RecallStatus
from app.queries.recall import consignees


@dataclass(frozen=True)
class OpenRecall:
    number: str
    since: date


@dataclass(frozen=True)
class RecalledLot:
    code: str
    expiry: date | None


@dataclass(frozen=True)
class PublicProduct:
    gtin: str
    name: str
    lot_id: int | None = None
    lot_code: str | None = None
    expiry: date | None = None
    recall: OpenRecall | None = None
    # On the product page (no lot given): the lots under an open recall, to compare with the pack.
    recalled_lots: list[RecalledLot] = field(default_factory=list)

    @property
    def recalled(self) -> bool:
        return self.recall is not None or bool(self.recalled_lots)


def _open_recall(session: Session, lot_id: int) -> OpenRecall | None:
    row = session.execute(
        select(Recall.number, Recall.opened_at).join(RecallLot, RecallLot.recall_id == Recall.id)
        .where(RecallLot.lot_id == lot_id, Recall.status == RecallStatus.OPEN).order_by(Recall.id).limit(1)).first()
    return OpenRecall(row[0], row[1].date()) if row else None


def public_product(session: Session, gtin: str, lot_code: str | None) -> PublicProduct | None:
    """The product of a 14-digit GTIN and, when given, its lot; None when either is unknown."""
    product = session.scalar(select(Product).where(Product.gtin == gtin))
    if product is None:
        return None
    if lot_code is None:
        recalled = [RecalledLot(code, expiry) for code, expiry in session.execute(
            select(Lot.code, Lot.expiry).join(RecallLot, RecallLot.lot_id == Lot.id)
            .join(Recall, RecallLot.recall_id == Recall.id)
            .where(Lot.product_id == product.id, Recall.status == RecallStatus.OPEN)
            .distinct().order_by(Lot.code))]
        return PublicProduct(gtin=gtin, name=product.name, recalled_lots=recalled)
    lot = session.scalar(select(Lot).where(Lot.product_id == product.id, Lot.code == lot_code))
    if lot is None:
        return None
    return PublicProduct(gtin=gtin, name=product.name, lot_id=lot.id, lot_code=lot.code, expiry=lot.expiry,
                         recall=_open_recall(session, lot.id))


def recall_status(p: PublicProduct, anchor: str) -> dict[str, Any]:
    """The answer to `?linkType=gs1:recallStatus`."""
    doc: dict[str, Any] = {"@id": anchor, "gtin": p.gtin, "productName": p.name, "recalled": p.recalled}
    if p.lot_code is not None:
        doc["lot"] = p.lot_code
        doc["recall"] = ({"number": p.recall.number, "since": p.recall.since.isoformat(),
                          "advice": "Do not eat or use it. Return it to where you bought it, or throw it away."}
                         if p.recall else None)
    else:
        doc["recalledLots"] = [{"lot": r.code, "expiry": r.expiry.isoformat() if r.expiry else None}
                               for r in p.recalled_lots]
    return doc


@dataclass(frozen=True)
class ReceivedLot:
    lot_id: int
    sku: str
    product_name: str
    lot_code: str
    received: Decimal
    unit: str
    shipments: str  # "SH-000012 on 2026-11-02, …"

    @property
    def received_text(self) -> str:
        return f"{qty(self.received)} {self.unit}"


@dataclass(frozen=True)
class AnswerView:
    company: str
    contact: str
    recall_number: str
    customer_name: str
    closed: bool
    lots: list[ReceivedLot]
    latest: dict[str, str] | None
    latest_at: datetime | None


def answer_view(session: Session, notice: RecallNotice, *, company: str, contact: str) -> AnswerView:
    """What the answer page shows a consignee: its own deliveries of the recalled lots, and its latest answer."""
    recall = notice.recall
    lot_ids = {rl.lot_id for rl in recall.lots}
    found = consignees(session, lot_ids, [notice.customer_id])
    lots: dict[int, dict[str, Any]] = {}
    for c in found:
        for line in c.lines:
            row = lots.setdefault(line.lot_id, {"sku": line.sku, "name": line.product_name, "code": line.lot_code,
                                                "unit": line.unit, "q": Decimal(0), "shipments": []})
            row["q"] += line.quantity
            row["shipments"].append(f"{line.shipment_number} on {line.shipped_on.isoformat()}")
    received = [ReceivedLot(lot_id, r["sku"], r["name"] or r["sku"], r["code"], r["q"], r["unit"],
                            ", ".join(r["shipments"]))
                for lot_id, r in sorted(lots.items(), key=lambda kv: (kv[1]["sku"], kv[1]["code"]))]
    last = session.scalar(select(RecallResponse).where(RecallResponse.recall_id == recall.id,
                                                       RecallResponse.customer_id == notice.customer_id)
                          .order_by(RecallResponse.answered_at.desc(), RecallResponse.id.desc()).limit(1))
    latest = None
    if last is not None:
        latest = {"received": "on" if last.received else "", "answered_by": last.answered_by or "",
                  "note": last.note or ""}
        for answered in last.lines:
            for k in ("on_hand", "destroyed", "returned"):
                latest[f"{k}_{answered.lot_id}"] = qty(getattr(answered, k))
    return AnswerView(company=company, contact=contact, recall_number=recall.number,
                      customer_name=notice.customer.name, closed=recall.status is not RecallStatus.OPEN,
                      lots=received, latest=latest, latest_at=last.answered_at if last else None)

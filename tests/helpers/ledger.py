"""Booking straight through the services in a test, on a chosen day, with a fixed lot code pattern."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app.schemas import ReceiptIn
from app.services import stock

PATTERN = "{date:%y%m%d}-{seq_alpha}"


def receive_lots(session: Session, supplier: int, on: date, lines: list[dict[str, Any]]) -> dict[str, int]:
    """Receive `lines` from `supplier` on day `on`; {lot code: lot id}."""
    receipt = stock.receive(session, ReceiptIn.model_validate({"supplier_id": supplier, "lines": lines}),
                            user=None, today=on, lot_code_pattern=PATTERN)
    return {line.lot.code: line.lot_id for line in receipt.lines}

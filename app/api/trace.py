"""API for traces: one lot, or a starting point (supplier lot, shipment, scan, product and dates)."""

from __future__ import annotations

from app.api import endpoint
from app.models import User
from app.queries import traceability as tq
from app.schemas import (
    DirectionQuery,
    TraceOut,
    TraceQuery,
)
from app.web import db, gs1_separator, today


@endpoint("/trace/lots/<int:lot_id>", summary="Trace one lot backward to suppliers and forward to customers",
          tag="traceability", query=DirectionQuery, response=TraceOut, errors=(404,))
def trace_lot(user: User, lot_id: int, query: DirectionQuery) -> TraceOut:
    return tq.trace(db(), [lot_id], query.direction)


@endpoint("/trace", summary="Trace from a supplier lot code, a shipment, a scanned label, or a product and dates",
          tag="traceability", query=TraceQuery, response=TraceOut, errors=(404,))
def trace_search(user: User, query: TraceQuery) -> TraceOut:
    return tq.trace(db(), tq.start_lots(db(), query, separator=gs1_separator(), today=today()), query.direction)












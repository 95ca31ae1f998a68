"""API for expiry control, write-offs, the waste report, lot costing and stock valuation."""

from __future__ import annotations

from flask import current_app

from app.api import endpoint
from app.models import Role, User
from app.queries import costing, expiry, waste
from app.schemas import (
    CostBreakdown,
    ExpiredPreview,
    ExpiredPreviewQuery,
    ExpiredWriteOffIn,
    ExpiringQuery,
    ExpiringRow,
    ExpirySummary,
    ExpirySummaryQuery,
    RangeQuery,
    StockValuation,
    ValuationQuery,
    WasteReport,
    WriteOffBatchOut,
    WriteOffIn,
    WriteOffOut,
    WriteOffQuery,
)
from app.services import writeoffs
from app.services.idempotency import IdempotencyKey
from app.web import db, today

WRITE_OFF_ERRORS = (404, 409, 422)


@endpoint("/expiring", summary="A page of stock expired or expiring within its alert window, soonest expiry first, "
          "with who could still take it", tag="expiry", query=ExpiringQuery, response=ExpiringRow, many=True)
def list_expiring(user: User, query: ExpiringQuery) -> list[ExpiringRow]:
    return expiry.expiring_stock(db(), today=today(), default_alert_days=_alert_days(), warehouse=query.warehouse,
                                 sku=query.sku, expired_only=query.expired_only, expiring_only=query.expiring_only,
                                 max_customers=query.max_customers, limit=query.limit, offset=query.offset)


@endpoint("/expiring/summary", summary="Expired and expiring stock in lots and value, per product and week of expiry",
          tag="expiry", query=ExpirySummaryQuery, response=ExpirySummary)
def expiring_summary(user: User, query: ExpirySummaryQuery) -> ExpirySummary:
    filters = expiry.Filters(today(), _alert_days(), query.warehouse, query.sku, query.expired_only,
                             query.expiring_only)
    return expiry.expiry_summary(db(), filters, show=query.show, max_weeks=query.max_weeks)


def _alert_days() -> int:
    return int(current_app.config["EXPIRY_ALERT_DAYS"])


@endpoint("/write-offs", summary="List write-offs, newest first", tag="waste", query=WriteOffQuery,
          response=WriteOffOut, many=True)
def list_write_offs(user: User, query: WriteOffQuery) -> list[WriteOffOut]:
    return waste.write_off_rows(db(), date_from=query.date_from, date_to=query.date_to, reason=query.reason,
                                lot_id=query.lot_id, batch=query.batch, limit=query.limit, offset=query.offset)


@endpoint("/write-offs", "POST", summary="Write off part or all of a lot at a location, with a reason",
          tag="waste", role=Role.MANAGER, body=WriteOffIn, response=WriteOffOut, status=201,
          errors=WRITE_OFF_ERRORS, idempotent=True)
def create_write_off(user: User, body: WriteOffIn, request_key: IdempotencyKey | None) -> WriteOffOut:
    return waste.write_off_out(writeoffs.write_off(db(), body, user=user, today=today(), request_key=request_key))


@endpoint("/write-offs/<int:write_off_id>", summary="Get a write-off", tag="waste", response=WriteOffOut,
          errors=(404,))
def get_write_off(user: User, write_off_id: int) -> WriteOffOut:
    return waste.write_off_out(waste.get_write_off(db(), write_off_id))


@endpoint("/write-offs/expired", summary="Preview of writing off all expired stock (confirm with its version)",
          tag="waste", role=Role.MANAGER, query=ExpiredPreviewQuery, response=ExpiredPreview)
def preview_expired_write_off(user: User, query: ExpiredPreviewQuery) -> ExpiredPreview:
    return expiry.expired_stock(db(), today=today(), limit=query.limit)


@endpoint("/write-offs/expired", "POST", summary="Write off the previewed expired stock; 409 if the preview is stale",
          tag="waste", role=Role.MANAGER, body=ExpiredWriteOffIn, response=WriteOffBatchOut, status=201,
          errors=WRITE_OFF_ERRORS, idempotent=True)
def write_off_expired(user: User, body: ExpiredWriteOffIn, request_key: IdempotencyKey | None) -> WriteOffBatchOut:
    return waste.batch_out(writeoffs.write_off_expired(db(), body, user=user, today=today(),
                                                       request_key=request_key))


@endpoint("/reports/waste", summary="Waste by month × product, reason and location, against the previous period",
          tag="reports", query=RangeQuery, response=WasteReport, errors=(422,))
def waste_report(user: User, query: RangeQuery) -> WasteReport:
    return waste.waste_report(db(), date_from=query.date_from, date_to=query.date_to)


@endpoint("/lots/<int:lot_id>/cost", summary="How a lot's unit cost was built", tag="lots",
          response=CostBreakdown, errors=(404,))
def lot_cost(user: User, lot_id: int) -> CostBreakdown:
    return costing.cost_breakdown(db(), lot_id)


@endpoint("/reports/stock-valuation", summary="Stock on hand per product and lot, at each lot's unit cost",
          tag="reports", query=ValuationQuery, response=StockValuation)
def stock_valuation_report(user: User, query: ValuationQuery) -> StockValuation:
    return costing.stock_valuation(db(), on=query.on or today(), warehouse=query.warehouse,
                                   lots_per_product=query.lots_per_product)

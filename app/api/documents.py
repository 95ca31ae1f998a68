"""API for bookings: receipts, production runs, orders, shipments, returns, adjustments, transfers."""

from __future__ import annotations

from typing import Any

from flask import current_app

from app.api import endpoint
from app.models import (
    Adjustment,
    CustomerReturn,
    Order,
    ProductionRun,
    Receipt,
    Role,
    Shipment,
    Transfer,
    User,
)
from app.queries import documents as q
from app.schemas import (
    AdjustmentIn,
    AdjustmentOut,
    DateQuery,
    OrderIn,
    OrderOut,
    OrderQuery,
    Page,
    ProductionRunIn,
    ProductionRunOut,
    ReceiptIn,
    ReceiptOut,
    ReturnIn,
    ReturnOut,
    ShipmentIn,
    ShipmentOut,
    TransferIn,
    TransferOut,
)
from app.services import orders, production, stock
from app.services.idempotency import IdempotencyKey
from app.web import db, today

BOOKING_ERRORS = (404, 409, 422)


def _dates(query: DateQuery, column: Any) -> list[Any]:
    filters = []
    if query.date_from:
        filters.append(column >= query.date_from)
    if query.date_to:
        filters.append(column <= query.date_to)
    return filters


# --- receipts ---


@endpoint("/receipts", summary="List receipts", tag="receipts", query=DateQuery, response=ReceiptOut, many=True)
def list_receipts(user: User, query: DateQuery) -> list[ReceiptOut]:
    rows = q.listing(db(), Receipt, filters=_dates(query, Receipt.received_on), limit=query.limit, offset=query.offset)
    return [q.receipt_out(r) for r in rows]


@endpoint("/receipts", "POST", summary="Receive goods: one lot per line, new or topped up", tag="receipts",
          role=Role.OPERATOR, body=ReceiptIn, response=ReceiptOut, status=201, errors=BOOKING_ERRORS,
          idempotent=True)
def create_receipt(user: User, body: ReceiptIn, request_key: IdempotencyKey | None) -> ReceiptOut:
    receipt = stock.receive(db(), body, user=user, today=today(),
                            lot_code_pattern=current_app.config["LOT_CODE_PATTERN"], request_key=request_key)
    return q.receipt_out(receipt)


@endpoint("/receipts/<int:receipt_id>", summary="Get a receipt", tag="receipts", response=ReceiptOut, errors=(404,))
def get_receipt(user: User, receipt_id: int) -> ReceiptOut:
    return q.receipt_out(q.get(db(), Receipt, receipt_id, "receipt"))


# --- production runs ---


@endpoint("/production-runs", summary="List production runs", tag="production", query=DateQuery,
          response=ProductionRunOut, many=True)
def list_runs(user: User, query: DateQuery) -> list[ProductionRunOut]:
    rows = q.listing(db(), ProductionRun, filters=_dates(query, ProductionRun.produced_on), limit=query.limit,
                     offset=query.offset)
    return [q.run_out(r) for r in rows]


@endpoint("/production-runs", "POST", summary="Record a batch: consume input lots, make the output lot",
          tag="production", role=Role.OPERATOR, body=ProductionRunIn, response=ProductionRunOut, status=201,
          errors=BOOKING_ERRORS, idempotent=True)
def create_run(user: User, body: ProductionRunIn, request_key: IdempotencyKey | None) -> ProductionRunOut:
    run = production.produce(db(), body, user=user, today=today(),
                             lot_code_pattern=current_app.config["LOT_CODE_PATTERN"], request_key=request_key)
    return q.run_out(run)


@endpoint("/production-runs/<int:run_id>", summary="Get a production run", tag="production",
          response=ProductionRunOut, errors=(404,))
def get_run(user: User, run_id: int) -> ProductionRunOut:
    return q.run_out(q.get(db(), ProductionRun, run_id, "production run"))


# --- orders ---


@endpoint("/orders", summary="List orders", tag="orders", query=OrderQuery, response=OrderOut, many=True)
def list_orders(user: User, query: OrderQuery) -> list[OrderOut]:
    filters: list[Any] = []
    if query.status:
        filters.append(Order.status == query.status)
    if query.customer_id:
        filters.append(Order.customer_id == query.customer_id)
    if query.ship_by:
        filters.append(Order.ship_date <= query.ship_by)
    rows = q.listing(db(), Order, filters=filters, limit=query.limit, offset=query.offset)
    return [q.order_out(o) for o in rows]


@endpoint("/orders", "POST", summary="Enter a customer order", tag="orders", role=Role.OPERATOR,
          body=OrderIn, response=OrderOut, status=201, errors=BOOKING_ERRORS, idempotent=True)
def create_order(user: User, body: OrderIn, request_key: IdempotencyKey | None) -> OrderOut:
    return q.order_out(orders.create_order(db(), body, user=user, today=today(), request_key=request_key))


@endpoint("/orders/<int:order_id>", summary="Get an order", tag="orders", response=OrderOut, errors=(404,))
def get_order(user: User, order_id: int) -> OrderOut:
    return q.order_out(q.get(db(), Order, order_id, "order"))


@endpoint("/orders/<int:order_id>/cancel", "POST", summary="Cancel what is still open on an order",
          tag="orders", role=Role.OPERATOR, response=OrderOut, errors=(404, 409))
def cancel_order(user: User, order_id: int) -> OrderOut:
    return q.order_out(orders.cancel_order(db(), order_id, user=user))


# --- shipments ---


@endpoint("/shipments", summary="List shipments", tag="shipments", query=DateQuery, response=ShipmentOut, many=True)
def list_shipments(user: User, query: DateQuery) -> list[ShipmentOut]:
    rows = q.listing(db(), Shipment, filters=_dates(query, Shipment.shipped_on), limit=query.limit,
                     offset=query.offset)
    return [q.shipment_out(s) for s in rows]


@endpoint("/shipments", "POST", summary=(
    "Ship named lots against an order: each line must pass the stock gate (hold, recall, quarantine, expiry, "
    "the customer's shelf-life rule, free stock) or is refused with every reason (409); a manager may "
    "override the customer's rule with a reason"), tag="shipments",
          role=Role.OPERATOR, body=ShipmentIn, response=ShipmentOut, status=201, errors=BOOKING_ERRORS,
          idempotent=True)
def create_shipment(user: User, body: ShipmentIn, request_key: IdempotencyKey | None) -> ShipmentOut:
    return q.shipment_out(orders.ship(db(), body, user=user, today=today(), request_key=request_key))


@endpoint("/shipments/<int:shipment_id>", summary="Get a shipment", tag="shipments", response=ShipmentOut,
          errors=(404,))
def get_shipment(user: User, shipment_id: int) -> ShipmentOut:
    return q.shipment_out(q.get(db(), Shipment, shipment_id, "shipment"))


# --- returns, adjustments, transfers ---


@endpoint("/returns", summary="List customer returns", tag="stock", query=Page, response=ReturnOut, many=True)
def list_returns(user: User, query: Page) -> list[ReturnOut]:
    return [q.return_out(r) for r in q.listing(db(), CustomerReturn, limit=query.limit, offset=query.offset)]


@endpoint("/returns", "POST", summary="Take back stock from a customer (into quarantine by default)",
          tag="stock", role=Role.OPERATOR, body=ReturnIn, response=ReturnOut, status=201, errors=BOOKING_ERRORS,
          idempotent=True)
def create_return(user: User, body: ReturnIn, request_key: IdempotencyKey | None) -> ReturnOut:
    return q.return_out(stock.customer_return(db(), body, user=user, today=today(), request_key=request_key))


@endpoint("/returns/<int:return_id>", summary="Get a customer return", tag="stock", response=ReturnOut,
          errors=(404,))
def get_return(user: User, return_id: int) -> ReturnOut:
    return q.return_out(q.get(db(), CustomerReturn, return_id, "return"))


@endpoint("/adjustments", summary="List stock adjustments", tag="stock", query=Page, response=AdjustmentOut,
          many=True)
def list_adjustments(user: User, query: Page) -> list[AdjustmentOut]:
    return [q.adjustment_out(a) for a in q.listing(db(), Adjustment, limit=query.limit, offset=query.offset)]


@endpoint("/adjustments", "POST", summary="Correct a lot's count at a location, with a reason", tag="stock",
          role=Role.OPERATOR, body=AdjustmentIn, response=AdjustmentOut, status=201, errors=BOOKING_ERRORS,
          idempotent=True)
def create_adjustment(user: User, body: AdjustmentIn, request_key: IdempotencyKey | None) -> AdjustmentOut:
    return q.adjustment_out(stock.adjust(db(), body, user=user, today=today(), request_key=request_key))


@endpoint("/adjustments/<int:adjustment_id>", summary="Get a stock adjustment", tag="stock",
          response=AdjustmentOut, errors=(404,))
def get_adjustment(user: User, adjustment_id: int) -> AdjustmentOut:
    return q.adjustment_out(q.get(db(), Adjustment, adjustment_id, "adjustment"))


@endpoint("/transfers", summary="List transfers", tag="stock", query=Page, response=TransferOut, many=True)
def list_transfers(user: User, query: Page) -> list[TransferOut]:
    return [q.transfer_out(t) for t in q.listing(db(), Transfer, limit=query.limit, offset=query.offset)]


@endpoint("/transfers", "POST", summary="Move stock of a lot between locations", tag="stock",
          role=Role.OPERATOR, body=TransferIn, response=TransferOut, status=201, errors=BOOKING_ERRORS,
          idempotent=True)
def create_transfer(user: User, body: TransferIn, request_key: IdempotencyKey | None) -> TransferOut:
    return q.transfer_out(stock.transfer(db(), body, user=user, today=today(), request_key=request_key))


@endpoint("/transfers/<int:transfer_id>", summary="Get a transfer", tag="stock", response=TransferOut,
          errors=(404,))
def get_transfer(user: User, transfer_id: int) -> TransferOut:
    return q.transfer_out(q.get(db(), Transfer, transfer_id, "transfer"))

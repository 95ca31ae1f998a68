"""API for allocation: allocate orders and waves, pick lists, pick confirmation and shipping what was picked."""

from __future__ import annotations

from flask import current_app

from app.api import FileResult, endpoint, file_endpoint
from app.models import Role, User
from app.queries import documents as docs
from app.queries import picklists as q
from app.render import picklists as render
from app.schemas import (
    AllocateQuery,
    AllocationOut,
    AllocationRunOut,
    OrderAllocationsOut,
    PaperQuery,
    PickIn,
    PickListOut,
    PickResultOut,
    ReleaseOut,
    ShipmentOut,
    WaveIn,
    WavePdfQuery,
    WaveQuery,
)
from app.services import allocations as svc
from app.services.idempotency import IdempotencyKey
from app.web import db, today

ERRORS = (404, 409, 422)


@endpoint("/orders/<int:order_id>/allocate", "POST", summary="Allocate an order FEFO under its customer's rule",
          tag="allocation", role=Role.OPERATOR, query=AllocateQuery, response=AllocationRunOut, errors=ERRORS)
def allocate_order(user: User, order_id: int, query: AllocateQuery) -> AllocationRunOut:
    return svc.allocate_order(db(), order_id, today=today(), ship_date=query.ship_date, user=user)


@endpoint("/orders/<int:order_id>/deallocate", "POST", summary="Give back an order's unpicked allocations",
          tag="allocation", role=Role.OPERATOR, response=ReleaseOut, errors=(404, 409))
def deallocate_order(user: User, order_id: int) -> ReleaseOut:
    return svc.deallocate_order(db(), order_id, user=user)


@endpoint("/orders/<int:order_id>/reallocate", "POST", summary="Deallocate an order and allocate it afresh",
          tag="allocation", role=Role.OPERATOR, response=AllocationRunOut, errors=(404, 409))
def reallocate_order(user: User, order_id: int) -> AllocationRunOut:
    return svc.reallocate_order(db(), order_id, today=today(), user=user)


@endpoint("/allocations/wave", "POST", summary="Allocate every open order shipping by a date, as one wave",
          tag="allocation", role=Role.OPERATOR, body=WaveIn, response=AllocationRunOut, errors=ERRORS)
def allocate_wave(user: User, body: WaveIn) -> AllocationRunOut:
    return svc.allocate_wave(db(), body.ship_by, body.sku, today=today(), user=user)


@endpoint("/allocations/reallocate-shortages", "POST", summary="Allocate again every line left short (new stock)",
          tag="allocation", role=Role.OPERATOR, response=AllocationRunOut)
def reallocate_shortages(user: User) -> AllocationRunOut:
    return svc.reallocate_shortages(db(), today=today(), user=user)


@endpoint("/orders/<int:order_id>/allocations", summary="An order's allocations (with history) and shortages",
          tag="allocation", response=OrderAllocationsOut, errors=(404,))
def order_allocations(user: User, order_id: int) -> OrderAllocationsOut:
    return q.order_allocations(db(), order_id)


@endpoint("/lots/<int:lot_id>/allocations", summary="Every allocation of a lot, with why it was released",
          tag="allocation", response=AllocationOut, many=True, errors=(404,))
def lot_allocations(user: User, lot_id: int) -> list[AllocationOut]:
    return q.lot_allocations(db(), lot_id)


@endpoint("/orders/<int:order_id>/pick-list", summary="An order's pick list in walk order (by location)",
          tag="picking", response=PickListOut, errors=(404,))
def order_pick_list(user: User, order_id: int) -> PickListOut:
    return q.order_pick_list(db(), order_id)


@endpoint("/pick-lists/wave", summary="A wave's pick list: every open order shipping by a date",
          tag="picking", query=WaveQuery, response=PickListOut, errors=(404, 422))
def wave_pick_list(user: User, query: WaveQuery) -> PickListOut:
    return q.wave_pick_list(db(), query.ship_by, query.sku)


def _pdf(pick_list: PickListOut, paper: str, name: str) -> FileResult:
    content = render.pick_list_pdf(pick_list, q.gtins(db(), [r.sku for r in pick_list.rows]), paper=paper)
    return FileResult(content, f"{name}-{paper}.pdf")


@file_endpoint("/orders/<int:order_id>/pick-list.pdf", summary="An order's pick list as PDF (A4 or Letter)",
               tag="picking", media_type="application/pdf", query=PaperQuery, errors=(404, 422), inline=True)
def order_pick_list_pdf(user: User, order_id: int, query: PaperQuery) -> FileResult:
    pick_list = q.order_pick_list(db(), order_id)
    return _pdf(pick_list, query.paper, f"pick-list-{pick_list.order_number}")


@file_endpoint("/pick-lists/wave.pdf", summary="A wave's pick list as PDF (A4 or Letter)", tag="picking",
               media_type="application/pdf", query=WavePdfQuery, errors=(404, 422), inline=True)
def wave_pick_list_pdf(user: User, query: WavePdfQuery) -> FileResult:
    return _pdf(q.wave_pick_list(db(), query.ship_by, query.sku), query.paper, f"wave-{query.ship_by}")


@endpoint("/orders/<int:order_id>/picks", "POST", summary="Confirm a pick scan: lot, location and quantity",
          tag="picking", role=Role.OPERATOR, body=PickIn, response=PickResultOut, errors=ERRORS, idempotent=True)
def confirm_pick(user: User, order_id: int, body: PickIn, request_key: IdempotencyKey | None) -> PickResultOut:
    return svc.confirm_pick(db(), order_id, body, user=user, today=today(),
                            allow_substitutes=bool(current_app.config["ALLOW_PICK_SUBSTITUTES"]),
                            request_key=request_key)


@endpoint("/orders/<int:order_id>/ship-picked", "POST", summary="Ship everything picked for an order",
          tag="picking", role=Role.OPERATOR, response=ShipmentOut, status=201, errors=ERRORS, idempotent=True)
def ship_picked(user: User, order_id: int, request_key: IdempotencyKey | None) -> ShipmentOut:
    return docs.shipment_out(svc.ship_picked(db(), order_id, user=user, today=today(), request_key=request_key))

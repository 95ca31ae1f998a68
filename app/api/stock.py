"""API for lots: search, detail with stock and history, hold and release."""

from __future__ import annotations

from app.api import endpoint
from app.models import Role, User
from app.queries.lots import lot_detail, lot_rows
from app.schemas import HeldLotOut, HoldIn, LotDetailOut, LotOut, LotQuery
from app.services import stock
from app.web import db


@endpoint("/lots", summary="Search lots (soonest expiry first)", tag="lots", query=LotQuery, response=LotOut,
          many=True)
def list_lots(user: User, query: LotQuery) -> list[LotOut]:
    return lot_rows(db(), sku=query.sku, code=query.code, status=query.status,
                    expiring_before=query.expiring_before, in_stock=query.in_stock,
                    supplier_lot_code=query.supplier_lot_code, limit=query.limit, offset=query.offset)


@endpoint("/lots/<int:lot_id>", summary="A lot with on hand per location, history, inputs, outputs, shipments",
          tag="lots", response=LotDetailOut, errors=(404,))
def get_lot(user: User, lot_id: int) -> LotDetailOut:
    return lot_detail(db(), lot_id)


@endpoint("/lots/<int:lot_id>/hold", "POST",
          summary="Put a lot on hold; its allocations are released and their lines re-allocated", tag="lots",
          role=Role.OPERATOR, body=HoldIn, response=HeldLotOut, errors=(404, 409, 422))
def hold_lot(user: User, lot_id: int, body: HoldIn) -> HeldLotOut:
    held = stock.hold_lot(db(), lot_id, body, user=user)
    return HeldLotOut(**lot_detail(db(), lot_id).model_dump(), allocations=held.allocations)


@endpoint("/lots/<int:lot_id>/release", "POST", summary="Release a held lot", tag="lots", role=Role.MANAGER,
          body=HoldIn, response=LotDetailOut, errors=(404, 409, 422))
def release_lot(user: User, lot_id: int, body: HoldIn) -> LotDetailOut:
    stock.release_lot(db(), lot_id, body, user=user)
    return lot_detail(db(), lot_id)

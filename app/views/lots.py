"""Lot pages: search with filters, and one lot's facts, stock, genealogy, shipments and history."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from pydantic import ValidationError

from app.errors import NotFound, validation_error
from app.models import LotStatus, ProductionRun, Receipt, Role, Supplier
from app.queries import documents as q
from app.queries import traceability
from app.queries.costing import cost_breakdown
from app.queries.lots import lot_detail, lot_rows
from app.schemas import HoldIn, LotDetailOut, LotOut, LotQuery, TraceLotOut, TraceShipmentOut
from app.services import stock
from app.services.lookups import lot_by_sku_and_code
from app.views.forms import Form, Pager, attempt, hold_posted
from app.web import current_user, db, login_required

bp = Blueprint("lots", __name__, url_prefix="/lots")

FILTERS = ("sku", "code", "status", "expiring_before", "in_stock", "supplier_lot_code")


@bp.get("")
@login_required()
def index() -> Any:
    pager = Pager.from_request()
    args = {k: request.args.get(k, "").strip() for k in FILTERS}
    form = Form(args, {"sku": "SKU", "expiring_before": "Expiring before"})
    rows: list[LotOut] = []
    more = False
    try:
        query = LotQuery.model_validate({k: v for k, v in args.items() if v})
    except ValidationError as exc:
        form.fail(validation_error(exc))
    else:
        rows, more = pager.cut(lot_rows(
            db(), sku=query.sku, code=query.code, status=query.status, expiring_before=query.expiring_before,
            in_stock=query.in_stock, supplier_lot_code=query.supplier_lot_code, limit=pager.fetch,
            offset=pager.offset))
    return render_template("lots/index.html", lots=rows, more=more, pager=pager, form=form,
                           statuses=[(s.value, s.value) for s in LotStatus],
                           filtered=any(args.values())), form.status


def _shipped(lot: LotDetailOut) -> list[tuple[TraceLotOut | None, TraceShipmentOut]]:
    """Shipments of the lot and of every lot made from it, however many steps down (`via` the made lot).

    One recursive trace query finds the made lots; their lots and shipments come in one query each.
    """
    made = traceability.walk(db(), [lot.id], "forward").reached
    infos = traceability.lot_infos(db(), made)
    shipments = traceability.shipments_of(db(), [lot.id, *made])
    out: list[tuple[TraceLotOut | None, TraceShipmentOut]] = [(None, sh) for sh in shipments.get(lot.id, [])]
    for lot_id in made:
        out.extend((infos[lot_id], sh) for sh in shipments.get(lot_id, []))
    return sorted(out, key=lambda row: (row[1].shipped_on, row[1].shipment_id))


def _detail_page(lot_id: int, form: Form | None = None) -> Any:
    s = db()
    lot = lot_detail(s, lot_id)
    form = form or Form()
    receipts = [q.get(s, Receipt, ref_id, "receipt")
                for ref_id in dict.fromkeys(m.ref_id for m in lot.history if m.ref_type == "receipt")]
    made_by = [q.get(s, ProductionRun, m.ref_id, "production run")
               for m in lot.history if m.ref_type == "production_run" and m.kind == "produce"]
    supplier = s.get(Supplier, lot.supplier_id) if lot.supplier_id else None
    # Document numbers for the history's references, from what the page already loaded.
    documents: dict[tuple[str, int], tuple[str, str]] = {}
    for r in receipts:
        documents[("receipt", r.id)] = (r.number, url_for("receipts.detail", receipt_id=r.id))
    for run in made_by:
        documents[("production_run", run.id)] = (run.number, url_for("runs.detail", run_id=run.id))
    for link in lot.outputs:
        documents[("production_run", link.run_id)] = (link.run_number, url_for("runs.detail", run_id=link.run_id))
    for sh in lot.shipments:
        documents[("shipment", sh.shipment_id)] = (sh.shipment_number,
                                                   url_for("shipments.detail", shipment_id=sh.shipment_id))
    user = current_user()
    return render_template("lots/detail.html", lot=lot, receipts=receipts, made_by=made_by, supplier=supplier,
                           documents=documents, form=form, shipped=_shipped(lot),
                           breakdown=cost_breakdown(s, lot_id),
                           can_hold=user is not None and user.has_role(Role.OPERATOR),
                           can_release=user is not None and user.has_role(Role.MANAGER)), form.status


@bp.get("/find")
@login_required()
def find() -> Any:
    """Where a plain lot label's QR code points (…/lots/find?sku=SKU&code=LOT): that lot's page."""
    sku, code = request.args.get("sku", "").strip(), request.args.get("code", "").strip()
    lot = lot_by_sku_and_code(db(), sku, code) if sku and code else None
    if lot is None:
        raise NotFound(f"no lot {code!r} of sku {sku!r} is known here", "code")
    return redirect(url_for("lots.detail", lot_id=lot.id))


@bp.get("/<int:lot_id>")
@login_required()
def detail(lot_id: int) -> Any:
    return _detail_page(lot_id)


@bp.post("/<int:lot_id>/hold")
@login_required(Role.OPERATOR)
def hold(lot_id: int) -> Any:
    form, held = hold_posted(lot_id)
    return redirect(url_for("lots.detail", lot_id=lot_id)) if held else _detail_page(lot_id, form)


@bp.post("/<int:lot_id>/release")
@login_required(Role.MANAGER)
def release(lot_id: int) -> Any:
    form = Form.posted()
    lot = attempt(form, lambda: stock.release_lot(db(), lot_id, HoldIn.model_validate(form.data(HoldIn)),
                                                  user=current_user()))
    if lot is None:
        return _detail_page(lot_id, form)
    flash(f"Lot {lot.code} is released.", "success")
    return redirect(url_for("lots.detail", lot_id=lot_id))

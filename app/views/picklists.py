"""Allocation and pick list pages: allocate and deallocate an order, pick lists per order and per wave (HTML, PDF)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from markupsafe import Markup

from app.errors import Invalid
from app.formatting import qty as format_qty
from app.models import Role
from app.queries import picklists as q
from app.render import picklists as render
from app.schemas import AllocationRunOut, PickListOut, ReleaseOut, WaveQuery
from app.services import allocations as svc
from app.views.forms import Form, attempt, query_date
from app.web import current_user, db, login_required, today

bp = Blueprint("picklists", __name__)


def _summary(run: AllocationRunOut) -> str:
    text = f"Allocated {format_qty(run.allocated)} over {len(run.allocations)} lot pick(s)."
    if run.shortages:
        text += f" {len(run.shortages)} line(s) short — see the reasons below."
    return text


@bp.post("/orders/<int:order_id>/allocate")
@login_required(Role.OPERATOR)
def allocate(order_id: int) -> Any:
    form = Form.posted()
    run = attempt(form, lambda: svc.allocate_order(db(), order_id, today=today(), user=current_user()))
    _flash(form, run)
    return redirect(url_for("orders.detail", order_id=order_id) + "#allocation")


@bp.post("/orders/<int:order_id>/deallocate")
@login_required(Role.OPERATOR)
def deallocate(order_id: int) -> Any:
    form = Form.posted()
    released = attempt(form, lambda: svc.deallocate_order(db(), order_id, user=current_user()))
    _flash(form, released)
    return redirect(url_for("orders.detail", order_id=order_id) + "#allocation")


def _flash(form: Form, result: AllocationRunOut | ReleaseOut | None) -> None:
    if result is None:
        flash(f"Nothing was saved. {form.message}", "error")
    elif isinstance(result, AllocationRunOut):
        flash(_summary(result), "info" if result.shortages else "success")
    else:
        flash(f"Released {len(result.released)} allocation(s); picked stock stays allocated.", "success")


def _svg_barcodes(pick_list: PickListOut) -> dict[str, Any]:
    gtin_of = q.gtins(db(), [r.sku for r in pick_list.rows])
    # The SVG is made of bar rectangles and an escaped label only, so it is safe to embed as is.
    lots = []
    for row in pick_list.rows:
        pattern = render.lot_pattern(row, gtin_of.get(row.sku))
        lots.append(Markup(render.pattern_svg(pattern, height=44, label=f"lot {row.lot_code}"))  # noqa: S704
                    if pattern else None)
    order = None
    if pick_list.order_number:
        order = Markup(render.pattern_svg(render.code128_pattern(pick_list.order_number), height=48,  # noqa: S704
                                     module=1.5, label=f"order {pick_list.order_number}"))
    return {"lot_barcodes": lots, "order_barcode": order}


@bp.get("/orders/<int:order_id>/pick-list")
@login_required()
def order_pick_list(order_id: int) -> Any:
    pick_list = q.order_pick_list(db(), order_id)
    return render_template("picklists/show.html", pick=pick_list, **_svg_barcodes(pick_list),
                           pdf=lambda paper: url_for("picklists.order_pick_list_pdf", order_id=order_id, paper=paper),
                           back=url_for("orders.detail", order_id=order_id))


def _paper() -> str:
    paper = request.args.get("paper", "a4").lower()
    if paper not in render.PAPERS:
        raise Invalid(f"paper must be a4 or letter, not {paper!r}", "paper")
    return paper


def _pdf(pick_list: PickListOut, name: str) -> Response:
    paper = _paper()
    content = render.pick_list_pdf(pick_list, q.gtins(db(), [r.sku for r in pick_list.rows]), paper=paper)
    return Response(content, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}-{paper}.pdf"'})


@bp.get("/orders/<int:order_id>/pick-list.pdf")
@login_required()
def order_pick_list_pdf(order_id: int) -> Any:
    pick_list = q.order_pick_list(db(), order_id)
    return _pdf(pick_list, f"pick-list-{pick_list.order_number}")


def _wave_args() -> tuple[date, str | None]:
    return query_date("ship_by") or today(), request.args.get("sku", "").strip() or None


@bp.get("/pick-lists/wave")
@login_required()
def wave() -> Any:
    ship_by, sku = _wave_args()
    pick_list = q.wave_pick_list(db(), ship_by, sku)
    args: dict[str, Any] = {"ship_by": ship_by.isoformat(), **({"sku": sku} if sku else {})}
    return render_template("picklists/show.html", pick=pick_list, **_svg_barcodes(pick_list), wave=True,
                           wave_args=args,
                           pdf=lambda paper: url_for("picklists.wave_pdf", paper=paper, **args),
                           back=url_for("orders.index"))


@bp.post("/pick-lists/wave")
@login_required(Role.OPERATOR)
def allocate_wave() -> Any:
    form = Form.posted()
    ship_by, sku = form.value("ship_by"), form.value("sku") or None

    def run() -> AllocationRunOut:
        query = WaveQuery.model_validate({"ship_by": ship_by, **({"sku": sku} if sku else {})})
        return svc.allocate_wave(db(), query.ship_by, query.sku, today=today(), user=current_user())

    _flash(form, attempt(form, run))
    args: dict[str, Any] = {"ship_by": ship_by or None, "sku": sku}
    return redirect(url_for("picklists.wave", **args))


@bp.get("/pick-lists/wave.pdf")
@login_required()
def wave_pdf() -> Any:
    ship_by, sku = _wave_args()
    return _pdf(q.wave_pick_list(db(), ship_by, sku), f"wave-{ship_by.isoformat()}")

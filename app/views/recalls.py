"""Recall and mock recall drill pages: open, notify, close; drills and their history."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.db import get_or_404
from app.errors import Invalid, LotwiseError
from app.models import Recall, RecallCloseOutcome, RecallDrill, RecallScope, RecallStatus, Role
from app.queries import recall as rq
from app.queries import traceability as tq
from app.schemas import DrillIn, LotRef, NotificationIn, RecallCloseIn, RecallIn
from app.services import recall as svc
from app.views.forms import Form, attempt
from app.web import current_user, db, gs1_separator, login_required, today

R = TypeVar("R", bound=RecallIn)


bp = Blueprint("recalls", __name__, url_prefix="/recalls")


SCOPES = [(RecallScope.FORWARD.value, "Forward: the lots and everything made from them"),
          (RecallScope.UPSTREAM.value, "Upstream: back to the shared input lot, then forward")]


METHODS = [("phone", "Phone"), ("email", "Email"), ("letter", "Letter"), ("visit", "Visit"), ("other", "Other")]


OUTCOMES = [(RecallCloseOutcome.KEEP_RECALLED.value, "Keep the lots recalled"),
            (RecallCloseOutcome.RELEASE.value, "Release the lots (back to their status before the recall)")]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _resolve(lines: list[str], field: str) -> list[LotRef]:
    """Each line a lot: "SKU / LOT", a lot code, a supplier's lot code, a shipment number or a scanned label."""
    refs: list[LotRef] = []
    for i, line in enumerate(lines):
        if " / " in line:
            sku, code = (x.strip() for x in line.split(" / ", 1))
            refs.append(LotRef(lot_id=tq.lot_by_sku_code(db(), sku, code, field)))
            continue
        try:
            ids = tq.lots_by_scan(db(), line, separator=gs1_separator(), today=today(), field=field)
        except LotwiseError as exc:
            raise type(exc)(f"line {i + 1} ({line}): {exc.message}", field) from None
        refs.extend(LotRef(lot_id=lot_id) for lot_id in ids)
    return refs


def _selection_from(form: Form, model: type[R]) -> R:
    """The recall or drill command from the form's lines of lots (resolved to lot ids here, so errors name a line)."""
    lots = _resolve(_lines(form.value("lots")), "lots")
    if not lots:
        raise Invalid("name at least one lot", "lots")
    via = _resolve(_lines(form.value("via")), "via") if form.value("scope") == RecallScope.UPSTREAM.value else []
    data: dict[str, Any] = {"lots": lots, "scope": form.value("scope") or "forward", "via": via}
    if form.value("reason"):
        data["reason"] = form.value("reason")
    elif model is RecallIn:
        raise Invalid("say why the lots are recalled", "reason")
    return model.model_validate(data)


@bp.get("", endpoint="index")
@login_required()
def recall_list() -> Any:
    return render_template("recalls/index.html", recalls=rq.recall_list(db()), drills=[
        rq.drill_summary(d) for d in db().scalars(select(RecallDrill).order_by(RecallDrill.id.desc()).limit(10))])


@bp.route("/new", methods=["GET", "POST"])
@login_required(Role.MANAGER)
def new() -> Any:
    form = Form.posted({"lots": "Lots", "via": "Suspect input lots", "reason": "Reason"}) if request.method == "POST" \
        else Form({"lots": request.args.get("lots", ""), "scope": request.args.get("scope", "forward")})
    if request.method == "POST":
        def run() -> Recall:
            return svc.open_recall(db(), _selection_from(form, RecallIn), user=current_user(), today=today(),
                                   separator=gs1_separator())

        recall = attempt(form, run)
        if recall is not None:
            flash(f"Recall {recall.number} opened: {len(recall.lots)} lots recalled.", "success")
            return redirect(url_for("recalls.detail", recall_id=recall.id))
    return render_template("recalls/new.html", form=form, scopes=SCOPES, drill=False), form.status


def _recall(recall_id: int) -> Recall:
    recall = get_or_404(db(), Recall, recall_id, "recall_id", "recall")
    return recall


def _detail(recall_id: int, note_form: Form | None = None, close_form: Form | None = None, status: int = 200) -> Any:
    recall = _recall(recall_id)
    detail = rq.recall_detail(db(), recall)
    return render_template("recalls/detail.html", r=detail, note_form=note_form or Form({"method": "phone"}),
                           close_form=close_form or Form({}), methods=METHODS, outcomes=OUTCOMES,
                           consignee_options=[(c.customer.id, c.customer.name) for c in detail.report.consignees],
                           is_open=recall.status is RecallStatus.OPEN), status


@bp.get("/<int:recall_id>")
@login_required()
def detail(recall_id: int) -> Any:
    return _detail(recall_id)


@bp.post("/<int:recall_id>/notifications")
@login_required(Role.OPERATOR)
def notify(recall_id: int) -> Any:
    form = Form.posted({"customer_id": "Consignee", "quantity_returned": "Returned",
                        "quantity_destroyed": "Destroyed", "notified_at": "Notified at"})

    def run() -> object:
        data = form.data(NotificationIn)
        data.pop("request_key", None)
        if data.get("notified_at"):
            data["notified_at"] = f"{data['notified_at']}:00+00:00" if len(data["notified_at"]) == 16 \
                else data["notified_at"]
        return svc.record_notification(db(), recall_id, NotificationIn.model_validate(data), user=current_user())

    if attempt(form, run) is not None:
        flash("Notification recorded.", "success")
        return redirect(url_for("recalls.detail", recall_id=recall_id) + "#notifications")
    return _detail(recall_id, note_form=form, status=form.status)


@bp.post("/<int:recall_id>/close")
@login_required(Role.MANAGER)
def close(recall_id: int) -> Any:
    form = Form.posted({"outcome": "Outcome", "reason": "Reason"})

    def run() -> Recall:
        return svc.close_recall(db(), recall_id, RecallCloseIn.model_validate(form.data(RecallCloseIn)),
                                user=current_user())

    if attempt(form, run) is not None:
        flash("Recall closed.", "success")
        return redirect(url_for("recalls.detail", recall_id=recall_id))
    return _detail(recall_id, close_form=form, status=form.status)


@bp.get("/drills")
@login_required()
def drills() -> Any:
    rows = [rq.drill_summary(d) for d in db().scalars(select(RecallDrill).order_by(RecallDrill.id.desc()).limit(200))]
    last = rows[0].started_at.date() if rows else None
    return render_template("recalls/drills.html", drills=rows, days_since=(today() - last).days if last else None)


@bp.route("/drills/new", methods=["GET", "POST"])
@login_required(Role.MANAGER)
def new_drill() -> Any:
    form = Form.posted() if request.method == "POST" else Form({"lots": request.args.get("lots", ""),
                                                                "scope": "forward"})
    if request.method == "POST":
        def run() -> RecallDrill:
            return svc.run_drill(db(), _selection_from(form, DrillIn), user=current_user(), today=today(),
                                 separator=gs1_separator())

        drill = attempt(form, run)
        if drill is not None:
            return redirect(url_for("recalls.drill", drill_id=drill.id))
    return render_template("recalls/new.html", form=form, scopes=SCOPES, drill=True), form.status


@bp.get("/drills/<int:drill_id>")
@login_required()
def drill(drill_id: int) -> Any:
    found = get_or_404(db(), RecallDrill, drill_id, "drill_id", "drill")
    return render_template("recalls/drill.html", d=rq.drill_out(found))

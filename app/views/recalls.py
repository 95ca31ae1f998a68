"""Recall and mock recall drill pages: open, notify, close; drills and their history."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.adapters.mail import SmtpServer
from app.db import get_or_404
from app.errors import Invalid, LotwiseError
from app.models import (
    CheckLevel,
    Recall,
    RecallCloseOutcome,
    RecallDrill,
    RecallNotice,
    RecallScope,
    RecallStatus,
    Role,
)
from app.queries import notices as nq
from app.queries import recall as rq
from app.queries import traceability as tq
from app.render import notices as letter
from app.schemas import CheckLevelIn, DrillIn, LotRef, NoticeSendIn, NotificationIn, RecallCloseIn, RecallIn
from app.services import notices as notice_svc
from app.services import recall as svc
from app.views.forms import Form, attempt
from app.web import current_user, db, gs1_separator, login_required, now, today

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


LEVELS = [(CheckLevel.A.value, "A — every consignee (100 %)"),
          (CheckLevel.B.value, "B — a share between 10 % and 100 % (give it)"),
          (CheckLevel.C.value, "C — 10 % of consignees"), (CheckLevel.D.value, "D — 2 % of consignees"),
          (CheckLevel.E.value, "E — no effectiveness checks")]


def _email_on() -> bool:
    return SmtpServer.from_config(current_app.config) is not None


def _detail(recall_id: int, note_form: Form | None = None, close_form: Form | None = None, status: int = 200,
            level_form: Form | None = None) -> Any:
    recall = _recall(recall_id)
    detail = rq.recall_detail(db(), recall)
    notices = nq.notice_rows(db(), recall.id, email_on=_email_on())
    level = level_form or Form({"level": recall.check_level.value, "pct": str(recall.check_pct or "")})
    return render_template("recalls/detail.html", r=detail, note_form=note_form or Form({"method": "phone"}),
                           close_form=close_form or Form({}), methods=METHODS, outcomes=OUTCOMES,
                           consignee_options=[(c.customer.id, c.customer.name) for c in detail.report.consignees],
                           is_open=recall.status is RecallStatus.OPEN, n=notices, level_form=level, levels=LEVELS,
                           in_progress=notices.counts.queued + notices.counts.sending > 0), status


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


def _notice(recall_id: int, notice_id: int) -> RecallNotice:
    notice = get_or_404(db(), RecallNotice, notice_id, "notice_id", "notice")
    if notice.recall_id != recall_id:
        get_or_404(db(), RecallNotice, 0, "notice_id", "notice")
    return notice


@bp.get("/<int:recall_id>/notices/<int:notice_id>")
@login_required()
def notice(recall_id: int, notice_id: int) -> Any:
    found = _notice(recall_id, notice_id)
    cfg = current_app.config
    content = nq.letters(db(), [found], company=cfg["COMPANY_NAME"], contact=cfg["COMPANY_CONTACT"])[found.id]
    row = next(r for r in nq.notice_rows(db(), recall_id, email_on=_email_on()).notices if r.id == found.id)
    return render_template("recalls/notice.html", recall=found.recall, notice=row, subject=letter.subject(content),
                           text=letter.text(content), is_open=found.recall.status is RecallStatus.OPEN)


@bp.post("/<int:recall_id>/notices/send")
@login_required(Role.MANAGER)
def send_notices(recall_id: int) -> Any:
    """Queue notices for the worker: every one not yet sent, or the one consignee named (a re-send)."""
    form = Form.posted()

    def run() -> notice_svc.Queued:
        ids = [form.value("customer_id")] if form.value("customer_id") else []
        cmd = NoticeSendIn.model_validate({"customer_ids": ids})
        return notice_svc.queue(db(), recall_id, cmd, email_on=_email_on(), now=now())

    done = attempt(form, run)
    if done is None:
        flash(f"Not sent. {form.message}", "error")
    else:
        flash(f"{done.queued} notice(s) queued for sending." + (
            f" No e-mail address (print a letter): {', '.join(done.without_email)}." if done.without_email else ""),
            "success" if not done.without_email else "warning")
    return redirect(url_for("recalls.detail", recall_id=recall_id) + "#notices")


@bp.post("/<int:recall_id>/notices/<int:notice_id>/letter")
@login_required(Role.MANAGER)
def notice_letter(recall_id: int, notice_id: int) -> Any:
    """The notice as a PDF letter, with its own personal link (recorded as printed)."""
    _notice(recall_id, notice_id)
    try:
        found, token = notice_svc.print_letter(db(), recall_id, notice_id, user=current_user(), now=now())
    except LotwiseError as exc:
        db().rollback()
        flash(f"Not printed. {exc.message}", "error")
        return redirect(url_for("recalls.detail", recall_id=recall_id) + "#notices")
    cfg = current_app.config
    link = f"{str(cfg['BASE_URL']).rstrip('/')}{url_for('public.answer', token=token)}"
    content = nq.letters(db(), [found], company=cfg["COMPANY_NAME"], contact=cfg["COMPANY_CONTACT"],
                         links={found.id: link})[found.id]
    resp = Response(letter.pdf(content), mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'attachment; filename="{found.recall.number}-notice-{found.id}.pdf"'
    resp.headers["Cache-Control"] = "no-store"  # the letter carries a personal link
    return resp


@bp.post("/<int:recall_id>/level")
@login_required(Role.MANAGER)
def set_level(recall_id: int) -> Any:
    form = Form.posted({"level": "Level", "pct": "Share to verify"})

    def run() -> Recall:
        data = {"level": form.value("level")}
        if form.value("pct").strip() and form.value("level") == CheckLevel.B.value:
            data["pct"] = form.value("pct").strip()
        return notice_svc.set_check_level(db(), recall_id, CheckLevelIn.model_validate(data))

    if attempt(form, run) is not None:
        flash("Effectiveness-check level saved.", "success")
        return redirect(url_for("recalls.detail", recall_id=recall_id) + "#effectiveness")
    return _detail(recall_id, level_form=form, status=form.status)


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

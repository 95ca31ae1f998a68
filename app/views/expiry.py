"""Pages for expiring stock, write-offs, the waste report with its chart, lot costs and stock valuation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from pydantic import ValidationError

from app.errors import Invalid, validation_error
from app.formatting import qty
from app.models import Role
from app.queries.expiry import Filters, expired_stock, expiring_stock, expiry_summary
from app.schemas import (
    ExpiredWriteOffIn,
    ExpiringFilter,
    ExpiringRow,
    WriteOffIn,
)
from app.services import writeoffs
from app.views import choices
from app.views.forms import Form, Pager, attempt, hold_posted
from app.web import current_user, db, login_required, today

bp = Blueprint("expiry", __name__)

# Product-weeks listed above the rows; the rest are counted.
WEEKS_SHOWN = 60
# Expired rows offered for one bulk write-off, oldest first; the next ones come after it.
PREVIEW_ROWS = 500

def _alert_days() -> int:
    return int(current_app.config["EXPIRY_ALERT_DAYS"])


def _can(role: Role) -> bool:
    user = current_user()
    return user is not None and user.has_role(role)


# --- expiring stock ----------------------------------------------------------------------


def _expiring_page(form: Form | None = None) -> Any:
    args = {k: request.args.get(k, "").strip() for k in ("warehouse", "sku", "expired_only", "expiring_only")}
    filters = Form(args, {"sku": "SKU"})
    pager = Pager.from_request(size=50)
    rows: list[ExpiringRow] = []
    more = False
    summary = None
    try:
        query = ExpiringFilter.model_validate({k: v for k, v in args.items() if v})
    except ValidationError as exc:
        filters.fail(validation_error(exc))
    else:
        wanted = Filters(today(), _alert_days(), query.warehouse, query.sku, query.expired_only, query.expiring_only)
        summary = expiry_summary(db(), wanted, show=0, max_weeks=WEEKS_SHOWN)
        rows, more = pager.cut(expiring_stock(
            db(), today=wanted.today, default_alert_days=wanted.default_alert_days, warehouse=query.warehouse,
            sku=query.sku, expired_only=query.expired_only, expiring_only=query.expiring_only, max_customers=6,
            limit=pager.fetch, offset=pager.offset))
    form = form or Form()
    warehouses = choices.warehouses()
    return render_template("expiry/index.html", rows=rows, more=more, pager=pager, summary=summary, filters=filters,
                           form=form, row_key=Form().request_key, reasons=choices.write_off_reasons(),
                           warehouses=warehouses,
                           default_days=_alert_days(),
                           filtered=any(args.values()), can_hold=_can(Role.OPERATOR), can_write_off=_can(Role.MANAGER),
                           can_bulk=_can(Role.MANAGER)), (form.status if form.status != 200 else filters.status)


@bp.get("/expiring")
@login_required()
def index() -> Any:
    return _expiring_page()


def _back() -> Any:
    # Back to the list the action was taken from, with its filters; never to another site.
    target = request.form.get("next", "")
    if not (target == "/" or target.startswith("/expiring")):
        target = url_for("expiry.index")
    return redirect(target)


@bp.post("/expiring/<int:lot_id>/hold")
@login_required(Role.OPERATOR)
def hold(lot_id: int) -> Any:
    form, held = hold_posted(lot_id)
    return _back() if held else _expiring_page(form)


@bp.post("/expiring/write-off")
@login_required(Role.MANAGER)
def write_off() -> Any:
    form = Form.posted({"written_off_on": "Date"})
    done = attempt(form, lambda: writeoffs.write_off(
        db(), WriteOffIn.model_validate(form.data(WriteOffIn, checkboxes=("take_allocated",))), user=current_user(),
        today=today(), request_key=form.idempotency_key))
    if done is None:
        return _expiring_page(form)
    flash(f"Written off {qty(done.quantity)} {done.lot.product.unit} of lot {done.lot.code} at "
          f"{done.location.code} ({done.reason.value}): {done.value:.2f} {current_app.config['CURRENCY']} "
          f"— {done.number}.", "success")
    for taken in getattr(done, "taken_from_orders", []):
        flash(f"Allocated stock written off: {taken.message}.", "warning")
    return _back()


def _preview_page(message: str | None = None, status: int = 200) -> Any:
    preview = expired_stock(db(), today=today(), limit=PREVIEW_ROWS)
    return render_template("expiry/write_off_expired.html", preview=preview, message=message,
                           request_key=Form().request_key), status


@bp.get("/expiring/write-off-expired")
@login_required(Role.MANAGER)
def preview_expired() -> Any:
    return _preview_page()


@bp.post("/expiring/write-off-expired")
@login_required(Role.MANAGER)
def write_off_expired() -> Any:
    form = Form.posted()

    def confirm() -> Any:
        rows = []
        for i, raw in enumerate(request.form.getlist("row")):
            parts = raw.split(":")
            if len(parts) != 3:
                raise Invalid(f"row {raw!r} is not lot:location:quantity", f"rows.{i}")
            rows.append(dict(zip(("lot_id", "location_id", "quantity"), parts, strict=True)))
        if not rows:
            raise Invalid("tick at least one lot to write off", "rows")
        cmd = ExpiredWriteOffIn.model_validate({"version": form.value("version"), "rows": rows,
                                                "note": form.value("note") or None,
                                                "take_allocated": form.value("take_allocated") == "true"})
        return writeoffs.write_off_expired(db(), cmd, user=current_user(), today=today(),
                                           request_key=form.idempotency_key)

    batch = attempt(form, confirm)
    if batch is None:
        return _preview_page(form.message, form.status)
    total = sum((w.value for w in batch.write_offs), Decimal(0))
    n = len(batch.write_offs)
    flash(f"{batch.number}: wrote off {n} row{'' if n == 1 else 's'} of expired stock worth "
          f"{total:.2f} {current_app.config['CURRENCY']}.", "success")
    return redirect(url_for("waste.write_offs", batch=batch.number))


# --- write-offs and the waste report -----------------------------------------------------


# --- the chart ---------------------------------------------------------------------------



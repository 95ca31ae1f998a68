"""Trace, recall and mock recall drill pages: thin views over the trace and recall queries and services."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from app.errors import LotwiseError
from app.models import Role
from app.queries import traceability as tq
from app.schemas import DirectionQuery, TraceOut, TraceQuery
from app.views.forms import Form, attempt, query_id
from app.web import current_user, db, gs1_separator, login_required, today

bp = Blueprint("trace", __name__, url_prefix="/trace")

DIRECTIONS = [("both", "Both directions"), ("backward", "Backward: inputs and suppliers"),
              ("forward", "Forward: products made and customers")]


# --- trace ---


@bp.get("", endpoint="index")
@login_required()
def trace_page() -> Any:
    """The trace form; with a starting point filled in, the trace as two expandable trees."""
    keys = ("q", "sku", "from", "to", "direction", "lot_id")
    form = Form({k: request.args.get(k, "").strip() for k in keys},
                {"q": "Lot, supplier lot, shipment or scan", "sku": "Product SKU"})
    result: TraceOut | None = None
    candidates: list[dict[str, object]] = []
    if any(form.value(k) for k in ("q", "sku", "lot_id")):
        def run() -> TraceOut:
            try:
                return search()
            except LotwiseError as exc:
                candidates.extend(exc.candidates or [])
                raise

        def search() -> TraceOut:
            direction = form.value("direction") or "both"
            lot_id = query_id("lot_id")
            if lot_id is not None:
                lot_query = DirectionQuery.model_validate({"direction": direction})
                return tq.trace(db(), [lot_id], lot_query.direction)
            raw: dict[str, str | None] = {"direction": direction}
            if form.value("q"):
                if form.value("sku"):
                    raw.update(sku=form.value("sku"), lot_code=form.value("q"))
                else:
                    raw["scan"] = form.value("q")
            else:
                raw.update({"sku": form.value("sku"), "from": form.value("from") or None,
                            "to": form.value("to") or None})
            query = TraceQuery.model_validate({k: v for k, v in raw.items() if v})
            return tq.trace(db(), tq.start_lots(db(), query, separator=gs1_separator(), today=today()), query.direction)

        result = attempt(form, run)
    user = current_user()
    lots_text = "\n".join(f"{lot.sku} / {lot.code}" for lot in result.starts) if result else ""
    return render_template("trace/index.html", form=form, result=result, directions=DIRECTIONS, lots_text=lots_text,
                           candidates=candidates,
                           can_recall=user is not None and user.has_role(Role.MANAGER)), form.status


# --- recalls ---


# --- drills ---



"""Waste pages: write-offs, the waste report (page, CSV, XLSX), stock valuation and lot cost."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request
from pydantic import ValidationError

from app.errors import LotwiseError, validation_error
from app.exports.sheets import XLSX
from app.exports.waste import report_csv, report_xlsx
from app.queries.costing import cost_breakdown, stock_valuation
from app.queries.waste import waste_report, write_off_rows
from app.render.charts import waste_chart
from app.schemas import (
    RangeQuery,
    ValuationQuery,
    WasteReport,
    WriteOffOut,
    WriteOffQuery,
)
from app.views import choices
from app.views.forms import Form, Pager, attempt
from app.web import db, login_required, today

bp = Blueprint("waste", __name__)


@bp.get("/write-offs")
@login_required()
def write_offs() -> Any:
    pager = Pager.from_request()
    args = {k: request.args.get(k, "").strip() for k in ("from", "to", "reason", "batch")}
    form = Form(args, {"from": "From", "to": "To"})
    rows: list[WriteOffOut] = []
    more = False
    try:
        query = WriteOffQuery.model_validate({k: v for k, v in args.items() if v})
        rows, more = pager.cut(write_off_rows(db(), date_from=query.date_from, date_to=query.date_to,
                                              reason=query.reason, batch=query.batch, limit=pager.fetch,
                                              offset=pager.offset))
    except ValidationError as exc:
        form.fail(validation_error(exc))
    except LotwiseError as exc:
        form.fail(exc)
    return render_template("waste/write_offs.html", rows=rows, more=more, pager=pager, form=form,
                           reasons=choices.write_off_reasons(), batch=args["batch"],
                           currency=current_app.config["CURRENCY"]), form.status


def _default_range(on: date) -> tuple[date, date]:
    """The last six whole months up to the end of this one."""
    index = on.year * 12 + on.month - 1 - 5
    start = date(index // 12, index % 12 + 1, 1)
    end = (on.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return start, end


def _report_from_request() -> tuple[Form, WasteReport | None]:
    start, end = _default_range(today())
    args = {"from": request.args.get("from", "").strip() or start.isoformat(),
            "to": request.args.get("to", "").strip() or end.isoformat()}
    form = Form(args, {"from": "From", "to": "To"})

    def load() -> WasteReport:
        query = RangeQuery.model_validate(args)
        return waste_report(db(), date_from=query.date_from, date_to=query.date_to)

    return form, attempt(form, load)


@bp.get("/reports/waste")
@login_required()
def report() -> Any:
    form, result = _report_from_request()
    chart = waste_chart(result) if result else None
    return render_template("waste/report.html", form=form, report=result, chart=chart,
                           currency=current_app.config["CURRENCY"]), form.status


@bp.get("/reports/waste.<fmt>")
@login_required()
def export(fmt: str) -> Any:
    form, result = _report_from_request()
    if result is None:
        return render_template("error.html", status=form.status, message=form.message), form.status
    name = f"waste-{result.date_from}-{result.date_to}"
    currency = current_app.config["CURRENCY"]
    if fmt == "csv":
        return Response(report_csv(result, currency), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    if fmt == "xlsx":
        return Response(report_xlsx(result, currency),
                        mimetype=XLSX,
                        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
    return render_template("error.html", status=404, message=f"no export as {fmt!r}; use csv or xlsx"), 404


# Lots listed under each product on the valuation page (the soonest-expiring first); the "more lots"
# link opens the lots page with all of them. Five keep the page small at five-year scale.
LOTS_PER_PRODUCT = 5
# Products per page of the valuation, by SKU; the stock's totals above the table cover every page.
PRODUCTS_PER_PAGE = 50


@bp.get("/reports/valuation")
@login_required()
def valuation() -> Any:
    args = {k: request.args.get(k, "").strip() for k in ("on", "warehouse")}
    form = Form(args, {"on": "On"})
    pager = Pager.from_request(size=PRODUCTS_PER_PAGE)
    result = attempt(form, lambda: stock_valuation(db(), **_valuation_args(args), limit=pager.size,
                                                   offset=pager.offset))
    more = result is not None and result.offset + len(result.rows) < result.product_count
    warehouses = choices.warehouses()
    return render_template("waste/valuation.html", form=form, valuation=result, warehouses=warehouses,
                           pager=pager, more=more, currency=current_app.config["CURRENCY"]), form.status


def _valuation_args(args: dict[str, str]) -> dict[str, Any]:
    query = ValuationQuery.model_validate({k: v for k, v in args.items() if v})
    return {"on": query.on or today(), "warehouse": query.warehouse, "lots_per_product": LOTS_PER_PRODUCT}


@bp.get("/reports/lot-cost/<int:lot_id>")
@login_required()
def lot_cost(lot_id: int) -> Any:
    return render_template("waste/lot_cost.html", breakdown=cost_breakdown(db(), lot_id),
                           currency=current_app.config["CURRENCY"])

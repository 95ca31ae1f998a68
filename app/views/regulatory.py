"""The "Regulator exports" page: the FSMA 204 sortable spreadsheet (XLSX, CSV) and EPCIS 2.0 JSON-LD for a
recall, a lot with its trace, a product or a date range, for managers (QA)."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request
from sqlalchemy import select

from app.errors import BadInput, LotwiseError, NotFound
from app.exports import epcis, fsma204
from app.exports.sheets import XLSX
from app.models import Lot, Product, Recall, Role
from app.queries.regulatory import epcis_events, fsma204_events
from app.schemas import ExportQuery
from app.services.lookups import product_by_sku
from app.views import choices
from app.views.forms import Form, attempt, query_date, query_id
from app.web import db, login_required, streamed

bp = Blueprint("regulatory", __name__, url_prefix="/regulatory-exports")

FORMATS = {"xlsx": ("FSMA 204 spreadsheet (Excel)", XLSX), "csv": ("FSMA 204 spreadsheet (CSV)", "text/csv"),
           "epcis": ("EPCIS 2.0 (JSON-LD)", "application/ld+json")}
LABELS = {"recall": "Recall", "lot": "Lot", "lot_code": "Lot code", "product": "Product SKU", "from": "From",
          "to": "To", "format": "File"}
_KEYS = ("recall", "lot", "lot_code", "product", "from", "to")


def _recalls() -> list[tuple[str, str]]:
    rows = db().execute(select(Recall.id, Recall.number, Recall.reason, Recall.opened_at).order_by(Recall.id.desc()))
    return [(str(r.id), f"{r.number} · {r.opened_at:%Y-%m-%d} · {r.reason[:60]}") for r in rows]


def _lot_label(lot_id: int | None) -> str | None:
    if lot_id is None:
        return None
    row = db().execute(select(Lot.code, Product.sku).join(Product, Lot.product_id == Product.id)
                       .where(Lot.id == lot_id)).first()
    return f"{row.sku} · lot {row.code}" if row else None


def _query() -> ExportQuery:
    """The page's choice as the API's query: a recall, a lot (by id from a link, or by product and lot
    code), a product, and dates."""
    recall, lot, day_from, day_to = query_id("recall"), query_id("lot"), query_date("from"), query_date("to")
    sku, code = request.args.get("product", "").strip(), request.args.get("lot_code", "").strip()
    product_id: int | None = None
    if code:
        if lot is not None:
            raise BadInput("give the lot either from a link or by its code, not both", "lot_code")
        if not sku:
            raise BadInput("give the product SKU of the lot code", "product")
        product = product_by_sku(db(), sku, "product")
        found = db().scalar(select(Lot.id).where(Lot.product_id == product.id, Lot.code == code))
        if found is None:
            raise NotFound(f"{sku} has no lot {code!r}", "lot_code")
        lot = found
    elif sku:
        product_id = product_by_sku(db(), sku, "product").id
    query = ExportQuery.model_validate({"from": day_from, "to": day_to, "recall": recall, "lot": lot,
                                        "product": product_id})
    query.check()
    return query


def _file(query: ExportQuery, kind: str) -> Response:
    cfg = current_app.config
    sel = query.selection()
    if kind == "epcis":
        site = epcis.Site(base_url=cfg["BASE_URL"], company=cfg["COMPANY_NAME"], timezone=cfg["TIMEZONE"])
        body: Any = streamed(epcis.json_chunks(epcis_events(db(), sel.date_from, sel.date_to, site.timezone, sel),
                                               site))
        name = query.file_name("epcis", "jsonld")
    else:
        rows = fsma204.rows(fsma204_events(db(), sel), company=cfg["COMPANY_NAME"], web=cfg["BASE_URL"])
        body = streamed(fsma204.xlsx_chunks(rows) if kind == "xlsx" else fsma204.csv_chunks(rows))
        name = query.file_name("fsma204", kind)
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    return Response(body, 200, mimetype=FORMATS[kind][1],
                    headers={"Content-Disposition": f'attachment; filename="{safe}"'})


@bp.get("")
@login_required(Role.MANAGER)
def index() -> Any:
    """The choice of what to export; with a file format asked for, the file itself (or the page with the
    reason it cannot be made, in red)."""
    form = Form({k: request.args.get(k, "").strip() for k in _KEYS}, LABELS)
    kind = request.args.get("format", "").strip()
    if kind:
        def build() -> Response:
            if kind not in FORMATS:
                raise BadInput(f"no export format {kind!r}; choose one of {', '.join(FORMATS)}", "format")
            return _file(_query(), kind)

        response = attempt(form, build)
        if response is not None:
            return response
    lot_id = None
    try:
        lot_id = query_id("lot")
    except LotwiseError:
        pass
    return render_template("regulatory/index.html", form=form, recalls=_recalls(), products=choices.products(),
                           lot_label=_lot_label(lot_id), formats=FORMATS), form.status

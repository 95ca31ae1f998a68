"""Public pages, no login: the GS1 Digital Link resolver behind every lot label's QR code, and consignees'
answers to a recall through their personal links.

Nothing internal is shown here (customers, quantities other than a consignee's own, costs, suppliers, stock),
no session cookie is written on the resolver pages, every request counts against its address's rate limit,
and `LOTWISE_PUBLIC_PAGES=false` turns all of them into a 404.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, ParamSpec
from urllib.parse import quote

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from pydantic import ValidationError

from app.errors import Invalid, LotwiseError, NotFound, TooManyAttempts, validation_error
from app.queries import public as pq
from app.schemas import ConsigneeAnswerIn
from app.schemas.common import gtin_value
from app.services import notices as svc
from app.services.throttle import Counter, Limit, locked_until, record_failure, retry_after, wait_text
from app.web import client_address, current_user, db, now

P = ParamSpec("P")

bp = Blueprint("public", __name__)

LINKSET = "application/linkset+json"
GS1 = "https://gs1.org/voc/"
LINK_TYPES = {"gs1:pip": "pip", "gs1:recallStatus": "recallStatus", "gs1:defaultLink": "defaultLink"}


class _Hidden(Exception):
    """Public pages off: answer as if they did not exist."""


def _throttle() -> None:
    """Count this request against its address; past the limit, 429 until the window has passed."""
    cfg = current_app.config
    window = timedelta(seconds=max(1, int(cfg["PUBLIC_WINDOW_SECONDS"])))
    limit = Limit(max(1, int(cfg["PUBLIC_MAX_REQUESTS"])), window, window, window * 8)
    key = "public:" + (client_address() or "unknown")[:100]
    moment = now()
    until = locked_until(db(), key, moment)
    if until is None:
        record_failure(db(), [Counter(key, limit)], moment)
        return
    seconds = retry_after(until, moment)
    raise TooManyAttempts(f"Too many requests from your address; try again in {wait_text(seconds)}.", seconds)


def _page(status: int, title: str, message: str, headers: dict[str, str] | None = None) -> Any:
    return render_template("public/message.html", title=title, message=message), status, headers or {}


def public(fn: Callable[P, Any]) -> Callable[P, Any]:
    """A public page: on only when configured, rate-limited, and its refusals in the public layout."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
        if not current_app.config["PUBLIC_PAGES"]:
            return _page(404, "Not found", "There is nothing here.")
        try:
            _throttle()
            return fn(*args, **kwargs)
        except TooManyAttempts as exc:
            db().rollback()
            return _page(429, "Please wait", exc.message, exc.headers())
        except LotwiseError as exc:
            db().rollback()
            titles = {404: "Not found", 410: "This link has expired"}
            return _page(exc.status, titles.get(exc.status, "Please check"), exc.message)

    return wrapper


# --- the resolver ---------------------------------------------------------------------------------


def _unknown() -> NotFound:
    # The same words for a GTIN we do not know, a bad check digit and an unknown lot: nothing leaks.
    return NotFound("We do not know this product code. Please check the code on the pack, or ask where you "
                    "bought it.", None)


def _gtin(raw: str) -> str:
    try:
        return gtin_value(raw)
    except ValueError:
        raise _unknown() from None


def _base() -> str:
    return str(current_app.config["BASE_URL"]).rstrip("/")


def _anchor(gtin: str, lot_code: str | None) -> str:
    path = f"/01/{gtin}" + (f"/10/{quote(lot_code, safe='')}" if lot_code is not None else "")
    return _base() + path


def _linkset(info: pq.PublicProduct, anchor: str) -> dict[str, Any]:
    """RFC 9264 JSON linkset: one context (the anchor) with GS1 link types as relation URIs."""
    title = info.name + (f", lot {info.lot_code}" if info.lot_code else "")
    page = {"href": anchor, "title": title, "type": "text/html", "hreflang": ["en"]}
    status = {"href": f"{anchor}?linkType=gs1:recallStatus", "title": f"Recall status of {title}",
              "type": "application/json", "hreflang": ["en"]}
    return {"linkset": [{"anchor": anchor, GS1 + "pip": [page], GS1 + "defaultLink": [page],
                         GS1 + "recallStatus": [status]}]}


def _link_header(anchor: str) -> str:
    return ", ".join([
        f'<{anchor}?linkType=all>; rel="linkset"; type="{LINKSET}"',
        f'<{anchor}>; rel="{GS1}pip"; type="text/html"; hreflang="en"',
        f'<{anchor}?linkType=gs1:recallStatus>; rel="{GS1}recallStatus"; type="application/json"',
    ])


def _json(document: dict[str, Any], mimetype: str, anchor: str) -> Response:
    resp = Response(json.dumps(document, indent=1), mimetype=mimetype)
    resp.headers["Access-Control-Allow-Origin"] = "*"
    resp.headers["Link"] = _link_header(anchor)
    return resp


def _wants_linkset() -> bool:
    if request.args.get("linkType") == "all":
        return True
    accept = request.accept_mimetypes
    return accept.best_match([LINKSET, "text/html"], default="text/html") == LINKSET and accept[LINKSET] > 0


def _resolve(gtin_raw: str, lot_code: str | None) -> Any:
    gtin = _gtin(gtin_raw)
    info = pq.public_product(db(), gtin, lot_code)
    if info is None:
        raise _unknown()
    anchor = _anchor(gtin, lot_code)
    if _wants_linkset():
        return _json(_linkset(info, anchor), LINKSET, anchor)
    if request.args.get("linkType") == "gs1:recallStatus":
        return _json(pq.recall_status(info, anchor), "application/json", anchor)
    lot_url = None
    user = current_user()
    if user is not None and info.lot_id is not None:
        lot_url = url_for("lots.detail", lot_id=info.lot_id)
    cfg = current_app.config
    html = render_template("public/product.html", p=info, lot_url=lot_url, company=cfg["COMPANY_NAME"],
                           contact=cfg["COMPANY_CONTACT"], linkset_url=f"{anchor}?linkType=all")
    resp = Response(html, mimetype="text/html")
    resp.headers["Link"] = _link_header(anchor)
    resp.headers["Vary"] = "Accept, Cookie"
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.get("/01/<gtin>/10/<path:lot_code>")
@public
def lot_page(gtin: str, lot_code: str) -> Any:
    return _resolve(gtin, lot_code)


@bp.get("/01/<gtin>")
@public
def product_page(gtin: str) -> Any:
    return _resolve(gtin, None)


@bp.get("/.well-known/gs1resolver")
@public
def resolver_description() -> Any:
    base = _base()
    doc = {
        "name": f"{current_app.config['COMPANY_NAME']} GS1 Digital Link resolver",
        "resolverRoot": base,
        "supportedPrimaryKeys": ["01"],
        "supportedLinkType": [{"namespace": GS1, "prefix": "gs1:"}],
        "linkTypeDefaultCanBeLinkset": True,
        "linkTypeDefaultCanBeAll": True,
        "supportedContextValuesEnumerated": [],
        "supportedContextValuesExternal": [],
        "contact": current_app.config["COMPANY_CONTACT"] or None,
    }
    resp = Response(json.dumps(doc, indent=1), mimetype="application/json")
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


# --- a consignee's answer --------------------------------------------------------------------------


def _decimal(raw: str, field: str, label: str) -> Decimal:
    text = (raw or "").strip() or "0"
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise Invalid(f"{label}: {text!r} is not a number", field) from None
    if not value.is_finite():
        raise Invalid(f"{label}: {text!r} is not a number", field)
    if value < 0:
        raise Invalid(f"{label} cannot be negative", field)
    return value


def _answer_from_form(lots: list[pq.ReceivedLot]) -> ConsigneeAnswerIn:
    f = request.form
    lines = []
    for lot in lots:
        label = f"{lot.product_name}, lot {lot.lot_code}"
        values = {k: _decimal(f.get(f"{k}_{lot.lot_id}", ""), f"{k}_{lot.lot_id}", f"{label}: {k.replace('_', ' ')}")
                  for k in ("on_hand", "destroyed", "returned")}
        lines.append({"lot_id": lot.lot_id, **{k: str(v) for k, v in values.items()}})
    data = {"received": f.get("received") in ("on", "yes", "true", "1"), "lines": lines,
            "answered_by": f.get("answered_by", "").strip() or None, "note": f.get("note", "").strip() or None}
    try:
        return ConsigneeAnswerIn.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None


@bp.route("/answer/<token>", methods=["GET", "POST"])
@public
def answer(token: str) -> Any:
    notice = svc.notice_for_link(db(), token)
    cfg = current_app.config
    view = pq.answer_view(db(), notice, company=cfg["COMPANY_NAME"], contact=cfg["COMPANY_CONTACT"])
    if view.closed:
        raise svc.LinkExpired(f"Recall {view.recall_number} is closed, so this link no longer takes answers. "
                              f"Please call {view.contact or view.company}.", "token")
    error, field, values = None, None, dict(request.form)
    if request.method == "POST":
        try:
            svc.answer(db(), token, _answer_from_form(view.lots), now=now())
            return redirect(url_for("public.answer", token=token, saved=1), 303)
        except Invalid as exc:
            db().rollback()
            error, field = exc.message, exc.field
            if field and field.startswith("lines."):
                idx = int(field.split(".")[1])
                field = f"on_hand_{view.lots[idx].lot_id}" if idx < len(view.lots) else None
    elif view.latest is not None:
        values = view.latest
    html = render_template("public/answer.html", v=view, error=error, error_field=field, values=values,
                           saved=request.args.get("saved") == "1" and error is None)
    return html, (422 if error else 200)


"""Order and shipment pages: list, enter, cancel and ship orders; list and show shipments."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app.formatting import qty as format_qty
from app.models import Order, OrderStatus, Role, Shipment
from app.queries import documents as q
from app.queries.picklists import order_allocations
from app.schemas import OrderIn, OrderLineIn, OrderOut, ShipLineIn, ShipmentIn
from app.services import orders as svc
from app.views import choices
from app.views.forms import Form, Pager, attempt, query_id, require
from app.web import current_user, db, login_required, today

bp = Blueprint("orders", __name__, url_prefix="/orders")

LABELS = {"customer_id": "Customer", "ship_date": "Ship date", "customer_reference": "Customer reference",
          "sku": "SKU", "shipped_on": "Ship date", "carrier_reference": "Carrier reference",
          "override": "Override", "override_reason": "Override reason"}
SHIP_ALIASES = {"lot_id": "pick", "location": "pick", "sku": "pick", "lot_code": "pick", "order_line_id": "pick",
                "": "pick"}
BLANK_ROWS = 4
PRIORITIES = [("0", "0 · normal"), *((str(n), str(n)) for n in range(1, 10))]
OPEN = (OrderStatus.OPEN, OrderStatus.PARTIAL)


@bp.get("")
@login_required()
def index() -> Any:
    pager = Pager.from_request()
    status = request.args.get("status", "")
    filters: list[Any] = []
    if status == "active":
        filters.append(Order.status.in_(OPEN))
    elif status in {s.value for s in OrderStatus}:
        filters.append(Order.status == OrderStatus(status))
    customer_id = query_id("customer_id")
    customer = "" if customer_id is None else str(customer_id)
    if customer_id is not None:
        filters.append(Order.customer_id == customer_id)
    rows, more = pager.cut(q.listing(db(), Order, filters=filters, limit=pager.fetch, offset=pager.offset,
                                     order_by=Order.id.desc()))
    return render_template("orders/index.html", orders=rows, more=more, pager=pager, status=status,
                           statuses=[s.value for s in OrderStatus], customer=customer,
                           customers=choices.customers())


def _form_page(form: Form) -> Any:
    return render_template("orders/new.html", form=form, customers=choices.customers(),
                           warehouses=choices.warehouses(), products=choices.products(), priorities=PRIORITIES,
                           rows=form.row_indices("lines", BLANK_ROWS)), form.status


def _create(form: Form) -> Order:
    require(form, "customer_id", "Choose the customer.")
    data = form.data(OrderIn)
    data["lines"] = form.rows("lines", OrderLineIn, keys=("sku", "quantity"))
    return svc.create_order(db(), OrderIn.model_validate(data), user=current_user(), today=today(),
                            request_key=form.idempotency_key)


@bp.route("/new", methods=["GET", "POST"])
@login_required(Role.OPERATOR)
def new() -> Any:
    if request.method == "GET":
        warehouses = choices.warehouses()
        return _form_page(Form({"ship_date": today().isoformat(), "priority": "0",
                                "customer_id": request.args.get("customer_id", ""),
                                "warehouse": warehouses[0][0] if len(warehouses) == 1 else ""}))
    form = Form.posted(LABELS)
    order = attempt(form, lambda: _create(form))
    if order is None:
        return _form_page(form)
    flash(f"Order {order.number} for {order.customer.name} entered.", "success")
    return redirect(url_for("orders.detail", order_id=order.id))


def _ship_form(order: OrderOut) -> Form:
    """The ship form as first shown: a row per open line with its soonest-expiring usable stock,
    and a spare row to take the rest from another lot."""
    values: dict[str, str] = {"shipped_on": today().isoformat()}
    row = 0
    for line in order.lines:
        open_qty = line.quantity - line.shipped_quantity
        if open_qty <= 0:
            continue
        usable = [p for p in choices.picks(line.sku, order.warehouse, order.id) if p.usable]
        values[f"lines.{row}.order_line_id"] = str(line.id)
        if usable:
            values[f"lines.{row}.pick"] = usable[0].value
            values[f"lines.{row}.quantity"] = format_qty(min(open_qty, usable[0].free))
        row += 1
        if len(usable) > 1:
            values[f"lines.{row}.order_line_id"] = str(line.id)
            values[f"lines.{row}.pick"] = usable[1].value
            row += 1
    return Form(values)


def _detail_page(order_id: int, form: Form | None = None, cancel_form: Form | None = None) -> Any:
    s = db()
    order = q.order_out(q.get(s, Order, order_id, "order"))
    sent = [q.shipment_out(x) for x in q.listing(s, Shipment, filters=[Shipment.order_id == order_id],
                                                 order_by=Shipment.id, limit=1000)]
    is_open = order.status in OPEN
    form = form or (_ship_form(order) if is_open else Form())
    open_lines = [x for x in order.lines if x.quantity > x.shipped_quantity] if is_open else []
    picks = {x.sku: choices.picks(x.sku, order.warehouse, order.id) for x in open_lines}
    status = max(form.status, cancel_form.status if cancel_form else 200)
    return render_template("orders/detail.html", order=order, shipments=sent, form=form,
                           cancel_form=cancel_form or Form(), picks=picks, is_open=is_open,
                           lines_by_id={str(x.id): x for x in open_lines},
                           allocation=order_allocations(s, order_id)), status


@bp.get("/<int:order_id>")
@login_required()
def detail(order_id: int) -> Any:
    return _detail_page(order_id)


@bp.post("/<int:order_id>/cancel")
@login_required(Role.OPERATOR)
def cancel(order_id: int) -> Any:
    form = Form.posted()
    order = attempt(form, lambda: svc.cancel_order(db(), order_id, user=current_user()))
    if order is None:
        return _detail_page(order_id, cancel_form=form)
    flash(f"Order {order.number} cancelled.", "success")
    return redirect(url_for("orders.detail", order_id=order_id))


def _pick(raw: dict[str, str]) -> dict[str, str]:
    """A "lot id@location" choice as lot_id and location."""
    lot_id, _, location = raw.pop("pick", "").partition("@")
    if lot_id:
        raw["lot_id"], raw["location"] = lot_id, location
    return raw


def _ship(form: Form, order: OrderOut) -> Shipment:
    line_numbers = {str(x.id): x.line_no for x in order.lines}

    def labeler(row: int) -> str:
        return f"Line {line_numbers.get(form.value(f'lines.{row}.order_line_id'), row + 1)}"

    data = form.data(ShipmentIn, checkboxes=("take_allocated", "override"))
    data["order_id"] = order.id
    data["lines"] = form.rows("lines", ShipLineIn, keys=("quantity",), aliases=SHIP_ALIASES, convert=_pick,
                              labeler=labeler)
    return svc.ship(db(), ShipmentIn.model_validate(data), user=current_user(), today=today(),
                    request_key=form.idempotency_key)


@bp.post("/<int:order_id>/ship")
@login_required(Role.OPERATOR)
def ship(order_id: int) -> Any:
    order = q.order_out(q.get(db(), Order, order_id, "order"))
    form = Form.posted(LABELS)
    shipment = attempt(form, lambda: _ship(form, order))
    if shipment is None:
        return _detail_page(order_id, form=form)
    flash(f"Shipment {shipment.number} booked for {shipment.customer.name}.", "success")
    for taken in getattr(shipment, "taken_from_orders", []):
        flash(f"Allocated stock taken: {taken.message}.", "warning")
    if shipment.override_reason:
        flash(f"Customer rule overridden ({shipment.override_rules}); reason recorded: {shipment.override_reason}",
              "warning")
    return redirect(url_for("shipments.detail", shipment_id=shipment.id))


# --- shipments ---



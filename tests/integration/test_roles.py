"""Roles exactly as the README's "Security → Roles" table says, for every route the app has.

The role each endpoint needs is written out below by area, in the README's words, and not read from the code:
a route whose decorator asks for another role fails here, and so does a new route nobody has classified.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.api import ROUTES
from app.models import ROLE_RANK, Role
from tests.helpers.api import TODAY, Api, make_token
from tests.helpers.bookings import receive
from tests.helpers.pages import Browser, user
from tests.helpers.routes import Endpoint, endpoints, plausible_body

PUBLIC = "public"

# Anyone, logged in or not.
PUBLIC_ROUTES = {"auth.login", "auth.logout", "static", "main.favicon", "handheld.service_worker",
                 # the GS1 Digital Link resolver behind every label's QR code, and consignees' recall answers
                 "public.lot_page", "public.product_page", "public.resolver_description", "public.answer"}

# A viewer can look: every list, detail, report, export, trace and scan look-up.
LOOK = {
    "main.dashboard", "openapi.openapi_json", "digital_link.by_sku",
    "lots.index", "lots.detail", "lots.find", "api.get_company_prefix",
    "api.list_lots", "api.get_lot", "api.lot_allocations", "api.lot_cost",
    "receipts.index", "receipts.detail", "api.list_receipts", "api.get_receipt",
    "runs.index", "runs.detail", "api.list_runs", "api.get_run",
    "orders.index", "orders.detail", "api.list_orders", "api.get_order", "api.order_allocations",
    "shipments.index", "shipments.detail", "api.list_shipments", "api.get_shipment",
    "api.list_returns", "api.get_return", "api.list_transfers", "api.get_transfer",
    "api.list_adjustments", "api.get_adjustment",
    "picklists.order_pick_list", "picklists.order_pick_list_pdf", "picklists.wave", "picklists.wave_pdf",
    "api.order_pick_list", "api.order_pick_list_pdf", "api.wave_pick_list", "api.wave_pick_list_pdf",
    "products.index", "suppliers.index", "customers.index", "locations.index",
    "api.list_products", "api.get_product", "api.list_packaging", "api.list_suppliers", "api.get_supplier",
    "api.list_customers", "api.get_customer", "api.list_warehouses", "api.list_locations", "api.get_location",
    "api.list_printers", "api.get_printer", "api.get_label_settings",
    "expiry.index", "api.list_expiring", "api.expiring_summary",
    "waste.write_offs", "waste.report", "waste.export", "waste.valuation", "waste.lot_cost",
    "api.list_write_offs", "api.get_write_off", "api.waste_report", "api.stock_valuation_report",
    "trace.index", "api.trace_search", "api.trace_lot",
    "recalls.index", "recalls.detail", "recalls.drills", "recalls.drill", "recalls.notice", "api.list_notices",
    "api.list_recalls", "api.get_recall", "api.list_drills", "api.get_drill",
    "api.recall_csv", "api.recall_pdf", "api.recall_xlsx", "api.drill_pdf", "api.drill_xlsx",
    "api.fsma204_csv", "api.fsma204_xlsx", "api.epcis_json",
    "handheld.index", "handheld.lookup", "api.parse_scan", "api.decode_photo",
    "stations.index", "api.list_stations", "api.get_station",
    "api.lot_label_png", "api.lot_label_svg",
    "recipes.show", "api.get_recipe", "api.plan_recipe",
    # the onboarding workbook's template and the export of what Lotwise holds
    "api.import_template", "api.export_workbook",
}

# An operator books the day's work: receiving, production, orders, picking and shipping, holds
# (and the stock counts, transfers, returns and labels that come with them).
DAYS_WORK = {
    # receiving, including teaching a product without a GTIN the one on the supplier's label
    "receipts.new", "api.create_receipt", "handheld.receive", "api.remember_gtin",
    # production
    "runs.new", "api.create_run", "handheld.produce",
    # orders and allocation
    "orders.new", "orders.cancel", "api.create_order", "api.cancel_order",
    "picklists.allocate", "picklists.deallocate", "picklists.allocate_wave",
    "api.allocate_order", "api.deallocate_order", "api.reallocate_order", "api.allocate_wave",
    "api.reallocate_shortages",
    # picking and shipping
    "handheld.pick", "api.confirm_pick", "api.ship_picked", "orders.ship", "api.create_shipment",
    # holds (putting a lot on hold; releasing one is a manager's decision)
    "lots.hold", "expiry.hold", "api.hold_lot",
    # stock moves that come with the day's work
    "api.create_transfer", "api.create_return", "api.create_adjustment",
    # printing labels
    "labels.print_page", "labels.print_post", "api.print_labels", "api.lot_label_pdf", "api.lot_label_zpl",
    "api.receipt_labels_pdf", "api.receipt_labels_zpl", "api.run_labels_pdf", "api.run_labels_zpl",
    # telling a recall's consignees (the recall itself is a manager's decision)
    "recalls.notify", "api.notify_consignee",
}

# A manager also maintains master data and decides write-offs and recalls (and releases holds).
MANAGES = {
    # master data
    "products.new", "products.edit", "api.create_product", "api.update_product",
    "recipes.save", "api.put_recipe",
    "products.add_packaging", "products.remove_packaging", "api.add_packaging", "api.remove_packaging",
    "suppliers.new", "suppliers.edit", "api.create_supplier", "api.update_supplier",
    "customers.new", "customers.edit", "api.create_customer", "api.update_customer",
    "locations.new", "locations.edit", "locations.new_warehouse",
    "api.create_warehouse", "api.create_location", "api.update_location",
    "stations.new", "stations.edit", "api.create_station", "api.update_station",
    "printers.index", "printers.create", "printers.edit", "printers.update", "printers.save_defaults",
    "printers.test_print", "api.create_printer", "api.update_printer", "api.test_printer",
    "api.update_label_settings",
    # write-offs, single and in bulk
    "expiry.write_off", "expiry.preview_expired", "expiry.write_off_expired",
    "api.create_write_off", "api.preview_expired_write_off", "api.write_off_expired",
    # releasing a hold
    "lots.release", "api.release_lot",
    # recalls and mock recall drills
    "recalls.new", "recalls.close", "recalls.new_drill", "api.open_recall", "api.close_recall", "api.run_drill",
    # sending recall notices (e-mail and printed letters) and the effectiveness-check level
    "recalls.send_notices", "recalls.notice_letter", "recalls.set_level", "api.send_notices", "api.set_check_level",

    # importing the onboarding workbook
    "imports.index", "imports.upload", "imports.detail", "imports.status", "imports.confirm", "api.import_file",

    # the regulator's exports page (QA): FSMA 204 and EPCIS for a recall, a lot, a product or dates
    "regulatory.index",
}

# An admin can do everything: nothing needs more than a manager on the web (users are made with the CLI).
ADMIN_ONLY: set[str] = {
    "api.set_company_prefix", "api.assign_gtins",
    "products.gtins_page", "products.set_company_prefix", "products.assign_gtins",
}

NEEDS: dict[str, Role | str] = {
    **{e: PUBLIC for e in PUBLIC_ROUTES}, **{e: Role.VIEWER for e in LOOK}, **{e: Role.OPERATOR for e in DAYS_WORK},
    **{e: Role.MANAGER for e in MANAGES}, **{e: Role.ADMIN for e in ADMIN_ONLY},
}
ROLES = (None, Role.VIEWER, Role.OPERATOR, Role.MANAGER, Role.ADMIN)


def test_the_table_classifies_each_endpoint_once() -> None:
    groups = [PUBLIC_ROUTES, LOOK, DAYS_WORK, MANAGES, ADMIN_ONLY]
    assert sum(len(g) for g in groups) == len(NEEDS), "an endpoint is in two groups"


def test_every_route_is_classified(app: Flask) -> None:
    unknown = sorted({e.endpoint for e in endpoints(app)} - set(NEEDS))
    assert not unknown, f"classify these routes in tests/integration/test_roles.py (and the README): {unknown}"
    gone = sorted(set(NEEDS) - {e.endpoint for e in endpoints(app)})
    assert not gone, f"these endpoints no longer exist: {gone}"


class Caller:
    """One role (or nobody) calling pages with a browser session and the API with a bearer token."""

    def __init__(self, client: FlaskClient, session: Session, role: Role | None) -> None:
        self.role = role
        if role is None:
            self.browser = Browser(client.application.test_client())
            self.headers: dict[str, str] = {}
        else:
            self.browser = user(client, session, f"web-{role.value}", role)
            self.headers = Api(client, make_token(session, f"api-{role.value}", role)).headers
        self.csrf = self.browser.csrf()

    def call(self, endpoint: Endpoint, body: dict[str, Any]) -> Any:
        client = self.browser.client
        url = endpoint.url(fmt="csv", gtin="09506000134352", sku="RASP", lot_code="L1", filename="app.css")
        if endpoint.is_api:
            kwargs: dict[str, Any] = {"headers": self.headers}
            if endpoint.method != "GET":
                kwargs["json"] = body
            return client.open(url, method=endpoint.method, **kwargs)
        data = None if endpoint.method == "GET" else {"csrf_token": self.csrf}
        return client.open(url, method=endpoint.method, data=data)


@pytest.fixture
def callers(app: Flask, client: FlaskClient, session: Session, kitchen: dict[str, Any]) -> dict[Role | None, Caller]:
    app.config["LABEL_PRINTER_TIMEOUT"] = 0.2  # a test print to a made-up printer gives up at once
    admin = Api(client, make_token(session, "root", Role.ADMIN))
    receive(admin, kitchen["supplier"], "RASP", "10", expiry=TODAY.replace(year=TODAY.year + 1).isoformat())
    return {role: Caller(client, session, role) for role in ROLES}


def _bodies() -> dict[str, dict[str, Any]]:
    return {f"api.{r.name}": plausible_body(r.body) for r in ROUTES if r.body is not None}


def _verdict(endpoint: Endpoint, needs: Role | str, role: Role | None, r: Any) -> str | None:
    """What is wrong with this answer, if anything."""
    to_login = r.status_code in (301, 302, 303) and "/login" in r.headers.get("Location", "")
    if needs == PUBLIC:
        # (Posting empty credentials to /login is its own 401, and logging out leads to the login page.)
        if r.status_code == 403 or (endpoint.method == "GET" and (r.status_code == 401 or to_login)):
            return f"public, but {role} got {r.status_code}"
        return None
    assert isinstance(needs, Role)
    if role is None:
        if endpoint.is_api and r.status_code != 401:
            return f"anonymous got {r.status_code}, not 401"
        if not endpoint.is_api and not to_login:
            return f"anonymous got {r.status_code}, not a redirect to the login page"
        return None
    if ROLE_RANK[role] < ROLE_RANK[needs]:
        return None if r.status_code == 403 else f"{role.value} got {r.status_code}, not 403 (needs {needs.value})"
    if r.status_code in (401, 403) or to_login:
        return f"{role.value} got {r.status_code} (needs only {needs.value})"
    return None


def test_every_route_answers_each_role_as_the_readme_says(app: Flask, callers: dict[Role | None, Caller]) -> None:
    bodies = _bodies()
    wrong = []
    # Logging out ends the caller's session, so it comes last.
    walk = sorted(endpoints(app), key=lambda e: e.endpoint == "auth.logout")
    for endpoint in walk:
        needs = NEEDS.get(endpoint.endpoint)
        if needs is None:
            continue  # test_every_route_is_classified names it
        for role in ROLES:
            if role is not None and needs != PUBLIC and role not in (needs, Role.ADMIN) \
                    and ROLE_RANK[role] > ROLE_RANK[needs]:  # type: ignore[index]
                continue  # roles rank in a line: the one needed and the highest stand for those between
            r = callers[role].call(endpoint, bodies.get(endpoint.endpoint, {}))
            problem = _verdict(endpoint, needs, role, r)
            if problem:
                wrong.append(f"{endpoint.method} {endpoint.rule} ({endpoint.endpoint}): {problem}")
    assert not wrong, "\n".join(wrong)

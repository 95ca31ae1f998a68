"""HTML pages: thin views over services and queries."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, request
from markupsafe import Markup, escape

from allocation.usability import is_expired
from app.formatting import money, qty
from app.models import Role
from app.web import current_user, local, today
from labels.gs1 import GS, GS_SYMBOL

_GS_HTML = Markup('<span class="gs" title="GS1 group separator">{}</span>').format(GS_SYMBOL)

NAV = [
    ("lots.index", "Lots"),
    ("receipts.index", "Receipts"),
    ("runs.index", "Production"),
    ("orders.index", "Orders"),
    ("shipments.index", "Shipments"),
    ("trace.index", "Trace"),
    ("recalls.index", "Recalls"),
    ("expiry.index", "Expiring"),
    ("waste.report", "Waste"),
    ("products.index", "Products"),
    ("suppliers.index", "Suppliers"),
    ("customers.index", "Customers"),
    ("locations.index", "Locations"),
    ("stations.index", "Stations"),
    ("handheld.index", "Scan"),
]

# Entries shown only to users with at least the given role.
ROLE_NAV = [
    ("regulatory.index", "Regulator exports", Role.MANAGER),
    ("printers.index", "Printers", Role.MANAGER),
    ("imports.index", "Import", Role.MANAGER),
]

# The top bar groups the entries above into menus, so it fits on one line from 768 px up. A new page
# is added to NAV (or ROLE_NAV) and named in one menu here; an entry no menu names still shows, under
# "More". Entries in TOP_LINKS stay plain links beside the menus.
MENUS: list[tuple[str, list[str]]] = [
    ("Stock", ["lots.index", "receipts.index", "runs.index", "expiry.index", "waste.report"]),
    ("Orders", ["orders.index", "shipments.index"]),
    ("Trace & recall", ["trace.index", "recalls.index", "regulatory.index"]),
    ("Master data", ["products.index", "suppliers.index", "customers.index", "locations.index", "stations.index",
                     "printers.index", "imports.index"]),
]
TOP_LINKS = ["handheld.index"]


@dataclass(frozen=True)
class NavMenu:
    """One entry of the top bar: a menu of links, or (with one link and no label) a plain link."""

    label: str
    links: list[tuple[str, str]]
    active: bool
    plain: bool = False


def _section(endpoint: str | None) -> str | None:
    return endpoint.split(".")[0] if endpoint else None


def nav_menus(items: list[tuple[str, str]], endpoint: str | None) -> list[NavMenu]:
    """The visible nav entries grouped as MENUS says; `endpoint` (the page's) marks its menu active."""
    labels = dict(items)
    here = _section(endpoint) if endpoint != "main.dashboard" else None
    named = {e for _label, endpoints in MENUS for e in endpoints} | set(TOP_LINKS)
    groups = [(label, [e for e in endpoints if e in labels]) for label, endpoints in MENUS]
    groups.append(("More", [e for e, _ in items if e not in named]))
    menus = [NavMenu(label, [(e, labels[e]) for e in endpoints], any(_section(e) == here for e in endpoints))
             for label, endpoints in groups if endpoints]
    menus += [NavMenu(labels[e], [(e, labels[e])], _section(e) == here, plain=True) for e in TOP_LINKS if e in labels]
    return menus


def register(app: Flask) -> None:
    """Every page blueprint: one per module under app/views, named after it."""
    from app.views import (
        auth,
        customers,
        digital_link,
        expiry,
        handheld,
        imports,
        labels,
        locations,
        lots,
        main,
        orders,
        picklists,
        printers,
        products,
        public,
        recalls,
        receipts,
        recipes,
        regulatory,
        runs,
        shipments,
        stations,
        suppliers,
        trace,
        waste,
    )

    for module in (auth, main, lots, receipts, runs, orders, shipments, products, suppliers, customers, locations,
                   expiry, waste, trace, recalls, labels, printers, digital_link, picklists, handheld,
                   recipes, stations, public, imports, regulatory):
        app.register_blueprint(module.bp)

    @app.context_processor
    def _globals() -> dict[str, object]:
        nav = [(endpoint, label) for endpoint, label in NAV if endpoint in app.view_functions]
        user = current_user()
        nav += [(endpoint, label) for endpoint, label, role in ROLE_NAV
                if endpoint in app.view_functions and user is not None and user.has_role(role)]
        return {"current_user": user, "site_name": app.config["SITE_NAME"], "today": today,
                "nav_items": nav, "nav_menus": nav_menus(nav, request.endpoint)}

    app.jinja_env.filters["local"] = local
    app.jinja_env.filters["qty"] = qty
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["shown"] = shown_html
    # The one expiry rule, for pages that mark expired stock: `lot.expiry|expired`.
    app.jinja_env.filters["expired"] = lambda expiry: is_expired(expiry, today())




def shown_html(value: object) -> Markup:
    """Stored text on a page (`{{ lot.supplier_lot_code|shown }}`): escaped, and a GS1 group separator kept in
    it drawn as ␝ with a tooltip naming it, the symbol the exports use too (`app.formatting.shown`)."""
    text = "" if value is None else str(value)
    return _GS_HTML.join(escape(part) for part in text.split(GS))

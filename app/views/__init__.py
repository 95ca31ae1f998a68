"""HTML pages: thin views over services and queries."""

from __future__ import annotations

from flask import Flask

from app.web import current_user, local, today

NAV = [
    ("lots.index", "Lots"),
    ("receipts.index", "Receipts"),
    ("runs.index", "Production"),
    ("orders.index", "Orders"),
    ("shipments.index", "Shipments"),
    ("products.index", "Products"),
    ("suppliers.index", "Suppliers"),
    ("customers.index", "Customers"),
    ("locations.index", "Locations"),
]


def register(app: Flask) -> None:
    from app.views import auth, main

    app.register_blueprint(auth.bp)
    app.register_blueprint(main.bp)

    @app.context_processor
    def _globals() -> dict[str, object]:
        nav = [(endpoint, label) for endpoint, label in NAV if endpoint in app.view_functions]
        return {"current_user": current_user(), "site_name": app.config["SITE_NAME"], "today": today,
                "nav_items": nav}

    app.jinja_env.filters["local"] = local
    app.jinja_env.filters["qty"] = format_qty


def format_qty(value: object) -> str:
    """Decimals without trailing zeros: 12.500000 → 12.5, 3.000000 → 3."""
    from decimal import Decimal

    if value is None:
        return ""
    s = format(Decimal(str(value)), "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s

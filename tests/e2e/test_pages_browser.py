"""The pages in a real browser: the "add line" button and a receipt booked with the added line."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.models import Receipt, Role
from tests.helpers.api import TODAY, Api, make_user
from tests.helpers.pages import PASSWORD, count
from tests.helpers.requires import needs_chromium

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
def browser_page() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        yield page
        browser.close()


def test_add_line_renumbers_the_new_row_and_its_line_is_booked(live: str, browser_page: Any, session: Session,
                                                                site: dict[str, Any]) -> None:
    make_user(session, "otto", Role.OPERATOR)
    page = browser_page
    page.goto(f"{live}/receipts/new")
    page.fill("input[name=username]", "otto")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{live}/receipts/new")

    rows = page.locator("table[data-rows] tbody tr")
    assert rows.count() == 5
    page.select_option("select[name='lines.4.location']", "COLD-01")
    page.click("button:has-text('Add line')")
    assert rows.count() == 6
    assert page.locator("input[name='lines.5.sku']").evaluate("el => el === document.activeElement")
    assert page.locator("select[name='lines.5.location']").input_value() == "COLD-01"  # copied from the row above
    assert rows.nth(5).locator("[data-rowno]").inner_text() == "6"

    page.select_option("select[name=supplier_id]", label="Berry Farm")
    page.fill("input[name='lines.0.sku']", "RASP")
    page.fill("input[name='lines.0.quantity']", "10")
    page.fill("input[name='lines.5.sku']", "SUGAR")
    page.fill("input[name='lines.5.quantity']", "0")
    page.click("button:has-text('Book receipt')")
    page.wait_for_load_state()
    assert "Line 6 quantity must be greater than zero" in page.locator("[role=alert]").inner_text()
    assert page.locator("input[name='lines.5.quantity']").get_attribute("aria-invalid") == "true"
    assert count(session, Receipt) == 0

    page.fill("input[name='lines.5.quantity']", "25")
    page.click("button:has-text('Book receipt')")
    page.wait_for_load_state()
    # SQLite skips no number for the refused form; PostgreSQL may (numbers are unique, not gapless).
    assert re.search(r"Receipt R-00000[12] booked", page.locator(".flash").inner_text())
    assert page.locator("table tbody tr").count() == 2
    assert count(session, Receipt) == 1


def test_cancelling_an_order_asks_first(live: str, browser_page: Any, session: Session, site: dict[str, Any],
                                        api: Api) -> None:
    make_user(session, "otto", Role.OPERATOR)
    order = api.post("/orders", {"customer_id": site["deli"], "warehouse": "MAIN", "ship_date": TODAY.isoformat(),
                                 "lines": [{"sku": "JAM-RASP", "quantity": "1"}]}).json
    page = browser_page
    page.goto(f"{live}/orders/{order['id']}")
    page.fill("input[name=username]", "otto")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{live}/orders/{order['id']}")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("button:has-text('Cancel order')")
    page.wait_for_load_state()
    assert page.locator(".flash").count() == 0
    assert api.get(f"/orders/{order['id']}").json["status"] == "open"
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Cancel order')")
    page.wait_for_load_state()
    assert "cancelled" in page.locator(".flash").inner_text()
    assert api.get(f"/orders/{order['id']}").json["status"] == "cancelled"

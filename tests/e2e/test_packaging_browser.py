"""A supplier's case label scanned on the handheld receive page at 360 px books cases × content."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ReceiptLine, Role
from labels.gs1 import gtin_check_digit, yymmdd
from tests.helpers.api import TODAY, Api, make_user
from tests.helpers.pages import PASSWORD
from tests.helpers.requires import needs_chromium

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, needs_chromium]

SHOTS = Path("/tmp/shots-packaging")
GS = "\x1d"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]
JAM_CASE = "1950110153000" + str(gtin_check_digit("1950110153000"))
UNKNOWN_CASE = "1950600099999" + str(gtin_check_digit("1950600099999"))
EXPIRY = TODAY + timedelta(days=200)


@pytest.fixture
def phone() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2,
                                      is_mobile=True, has_touch=True)
        yield context
        browser.close()


def status(page: Any, text: str, kind: str = "ok") -> None:
    box = page.locator("#hh-status")
    sync_api.expect(box).to_contain_text(text)
    sync_api.expect(box).to_have_class(f"hh-status hh-{kind}")


def wedge(page: Any, raw: str) -> None:
    assert page.evaluate("document.activeElement.id") == "hh-scan"
    page.keyboard.type(raw)
    page.keyboard.press("Enter")


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_a_case_label_books_cases_times_content_and_an_unknown_case_keeps_what_it_read(
        live: str, phone: Any, session: Session, site: dict[str, Any], api: Api) -> None:
    r = api.post(f"/products/{site['JAM-RASP']}/packaging", {"level": "case", "gtin": JAM_CASE, "content": "12"})
    assert r.status_code == 201, r.json
    make_user(session, "otto", Role.OPERATOR)
    page = phone.new_page()
    page.goto(live + "/h/receive")
    page.fill("input[name=username]", "otto")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(live + "/h/receive")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'hh-scan'")

    # A pallet's content label: (02) the case GTIN, (37) two cases, the supplier's lot and expiry.
    wedge(page, f"]C102{JAM_CASE}372{GS}10SUP-9{GS}17{yymmdd(EXPIRY)}")
    status(page, "Raspberry jam 340 g: 2 cases × 12 ea = 24 ea, lot SUP-9")
    sync_api.expect(page.locator("#rc-conv")).to_have_text("2 cases × 12 ea = 24 ea")
    assert page.input_value("#rc-product") == "JAM-RASP"
    assert (page.input_value("#rc-qty"), page.input_value("#rc-lot"), page.input_value("#rc-expiry")) == (
        "24", "SUP-9", EXPIRY.isoformat())
    page.select_option("#rc-supplier", label="Berry Farm")
    page.select_option("#rc-location", "COLD-01")
    shot(page, "receive-case-label")
    page.click("#rc-confirm")
    status(page, "Received 24 ea JAM-RASP lot SUP-9")
    session.rollback()
    [line] = session.scalars(select(ReceiptLine)).all()
    assert line.quantity == Decimal(24) and line.lot.supplier_lot_code == "SUP-9"
    assert line.lot.product_id == site["JAM-RASP"]
    shot(page, "receive-case-done")

    # A case nobody has described yet: what the label says stays on the form, and the line says what is missing.
    wedge(page, f"01{UNKNOWN_CASE}17{yymmdd(EXPIRY)}10SUP-4{GS}376")
    status(page, f"Case GTIN {UNKNOWN_CASE} is not known: add it as a packaging level of a product, "
                 "or choose the product", "error")
    sync_api.expect(page.locator("#rc-conv")).to_have_text(
        "The label counts 6: enter the quantity in the product's unit")
    assert (page.input_value("#rc-lot"), page.input_value("#rc-expiry")) == ("SUP-4", EXPIRY.isoformat())
    assert page.input_value("#rc-product") == "" and page.input_value("#rc-qty") == ""
    shot(page, "receive-unknown-case")

"""Every office page of the demo company fits from a tablet to a wide screen, and axe-core finds nothing serious.

At 768, 1280 and 1920 px each page (listed from the app's routes, so a new page is covered without being
named here) must not overflow the window or any card (a wide table scrolls inside its card, with a cue),
must keep the top bar on one line from 1000 px, must not break a date, time, document number or code
across lines, and must pass axe-core with no violation of serious or critical impact.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.demo import DEMO_PASSWORD, DEMO_USER, site_today
from app.models import Lot
from tests.helpers.api import make_app
from tests.helpers.databases import clone, drop_database
from tests.helpers.office import (
    AXE_JS,
    BROKEN_TOKENS_JS,
    OVERFLOW_JS,
    complete_the_story,
    office_pages,
    served,
)
from tests.helpers.requires import AXE, CHROMIUM, needs_axe, needs_chromium

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, needs_chromium]

WIDTHS = [768, 1280, 1920]
# Set to a folder to keep a screenshot of every page at every width (to look at, not compared).
SHOTS = os.environ.get("LOTWISE_TEST_SCREENSHOTS")


@pytest.fixture(scope="module")
def office(demo_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, list[str]]]:
    """A copy of the demo company with a drill, a recall and a printer, and its office pages."""
    folder = tmp_path_factory.mktemp("office")
    url = clone(demo_template, folder)
    app = make_app(url, folder)
    app.config["TESTING"] = False
    with app.extensions["lotwise.sessions"]() as session:
        complete_the_story(session, site_today(app))
        pages = office_pages(app, session)
    yield app, pages
    app.extensions["lotwise.engine"].dispose()
    drop_database(url)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def signed_in(office: tuple[Flask, list[str]], browser: Any) -> Iterator[tuple[Any, str, list[str]]]:
    """One page, logged in as the demo's admin, over the live server."""
    app, pages = office
    with served(app) as live:
        # axe-core goes in as a <script> element, which the pages' Content-Security-Policy would refuse
        # (test_security_browser checks the policy itself).
        context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
        page = context.new_page()
        page.goto(f"{live}/login")
        page.fill("input[name=username]", DEMO_USER)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("button:has-text('Log in')")
        page.wait_for_url(f"{live}/")
        yield page, live, pages
        context.close()


def test_the_office_pages_are_every_html_page_outside_the_handhelds(office: tuple[Flask, list[str]]) -> None:
    _app, pages = office
    assert "/" in pages and "/lots" in pages and "/expiring" in pages and "/trace" in pages
    assert any(p.startswith("/lots/") for p in pages) and any(p.startswith("/recalls/drills/") for p in pages)
    assert not any(p.startswith(("/h/", "/api/", "/01/", "/login")) for p in pages)
    assert len(pages) >= 40


@pytest.mark.parametrize("width", WIDTHS)
def test_every_office_page_fits_and_keeps_values_whole(signed_in: tuple[Any, str, list[str]], width: int) -> None:
    page, live, pages = signed_in
    page.set_viewport_size({"width": width, "height": 900})
    problems: dict[str, list[str]] = {}
    for path in pages:
        page.goto(live + path)
        page.wait_for_load_state("load")
        found = page.evaluate(OVERFLOW_JS) + [f"broken across lines: {t}" for t in page.evaluate(BROKEN_TOKENS_JS)]
        if found:
            problems[path] = found
        if SHOTS:
            folder = Path(SHOTS) / str(width)
            folder.mkdir(parents=True, exist_ok=True)
            name = path.strip("/").replace("/", "_").replace("?", "_").replace("=", "-") or "dashboard"
            page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    assert problems == {}


@needs_axe
@pytest.mark.parametrize("width", WIDTHS)
def test_axe_finds_nothing_serious_on_any_office_page(signed_in: tuple[Any, str, list[str]], width: int) -> None:
    assert AXE is not None, "axe-core is required here (LOTWISE_TEST_REQUIRE) but missing: set LOTWISE_TEST_AXE"
    page, live, pages = signed_in
    page.set_viewport_size({"width": width, "height": 900})
    problems: dict[str, list[str]] = {}
    for path in pages:
        page.goto(live + path)
        page.wait_for_load_state("load")
        page.add_script_tag(path=AXE)
        found = page.evaluate(AXE_JS)
        if found:
            problems[path] = found
    assert problems == {}


def test_the_menus_open_by_keyboard_and_close_on_escape(signed_in: tuple[Any, str, list[str]]) -> None:
    page, live, _pages = signed_in
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live + "/")
    stock = page.locator("details.menu", has=page.locator("summary", has_text="Stock"))
    stock.locator("summary").focus()
    page.keyboard.press("Enter")
    assert stock.get_attribute("open") is not None
    assert page.locator(".menu-list a", has_text="Expiring").is_visible()
    page.keyboard.press("Escape")
    assert stock.get_attribute("open") is None
    stock.locator("summary").click()
    page.locator(".menu-list a", has_text="Lots").click()
    page.wait_for_url(live + "/lots")
    assert page.locator("details.menu.active summary").inner_text() == "Stock"


def test_an_expired_lot_is_never_badged_released(signed_in: tuple[Any, str, list[str]],
                                                  office: tuple[Flask, list[str]]) -> None:
    page, live, _pages = signed_in
    app, _ = office
    with app.extensions["lotwise.sessions"]() as session:
        expired = session.scalars(select(Lot).where(Lot.expiry < site_today(app), Lot.status == "released")
                                  .limit(1)).one()
    page.goto(f"{live}/lots/{expired.id}")
    head = page.locator("h1 .badge")
    assert head.inner_text() == "expired"
    assert page.locator("dl.facts .badge.expired-lot").inner_text() == "expired"
    assert page.locator(".badge.released").count() == 0

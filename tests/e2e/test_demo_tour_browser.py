"""docs/demo.md's tour, step by step, in a real browser over a fresh copy of the demo company.

Each step does what the tour tells a visitor to do and checks what the tour says they will see. With
LOTWISE_TOUR_SCREENSHOTS=docs the steps also write the tour's screenshots (docs/tour-*.png).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from app.demo import DEMO_PASSWORD, DEMO_USER, RECALL_SUPPLIER_LOT
from tests.helpers.api import make_app
from tests.helpers.databases import clone, drop_database
from tests.helpers.office import served
from tests.helpers.requires import CHROMIUM, needs_chromium

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, needs_chromium]

DOCS = Path(__file__).resolve().parents[2] / "docs"
SHOTS = os.environ.get("LOTWISE_TOUR_SCREENSHOTS")


def shot(page: Any, name: str) -> None:
    """The window as the tour shows it, kept small: 1280 × 800 scaled to 960 wide, 128 colours."""
    if not SHOTS:
        return
    image = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    image = image.resize((960, round(image.height * 960 / image.width)), Image.Resampling.LANCZOS)
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(Path(SHOTS) / f"tour-{name}.png", optimize=True)


@pytest.fixture
def tour(demo_template: str, tmp_path: Path) -> Iterator[tuple[Any, str]]:
    url = clone(demo_template, tmp_path)
    app = make_app(url, tmp_path)
    app.config["TESTING"] = False
    with served(app) as live, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        yield page, live
        browser.close()
    app.extensions["lotwise.engine"].dispose()
    drop_database(url)


def menu(page: Any, group: str, entry: str) -> None:
    """Open a menu of the top bar and follow one of its links, as a visitor does."""
    page.locator("details.menu > summary", has_text=group).click()
    page.locator("details.menu[open] .menu-list a", has_text=entry).click()
    page.wait_for_load_state()


def words(text: str) -> str:
    """Text as read aloud: a heading's parts laid out side by side come back on lines of their own."""
    return " ".join(text.split())


def number(text: str) -> int:
    found = re.search(r"\d+", text)
    assert found, text
    return int(found.group())


def test_the_demo_tour(tour: tuple[Any, str]) -> None:
    page, live = tour

    # 1. Log in: the dashboard shows open orders (overdue ones flagged), expiring stock and what is on hand.
    page.goto(live + "/login")
    page.fill("input[name=username]", DEMO_USER)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(live + "/")
    assert page.locator(".recall-tile").count() == 0  # no recall open yet
    assert page.locator("#orders-head").is_visible()
    tile = page.locator(".expiry-tile")
    assert number(tile.locator(".sub strong.late").inner_text()) >= 1
    assert tile.locator("tr.expired").count() >= 1
    assert page.locator(".onhand-list li").count() >= 40
    shot(page, "1-dashboard")

    # 2. Stock → Lots, supplier lot RB-7731: one lot of frozen raspberries from Bramblewood Berry Farm.
    menu(page, "Stock", "Lots")
    page.fill("input[name=supplier_lot_code]", RECALL_SUPPLIER_LOT)
    page.click("button:has-text('Filter')")
    rows = page.locator("main table tbody tr")
    assert rows.count() == 1
    assert "FR-RASP" in rows.inner_text() and "Bramblewood Berry Farm" in rows.inner_text()
    rows.locator("a").first.click()
    page.wait_for_load_state()
    assert words(page.locator("h1").inner_text()).startswith("Lot ")
    went = page.locator("section", has=page.locator("h2", has_text="Where it went"))
    made_into = went.inner_text()
    assert "JAM-RASP-340" in made_into and "JAM-RASP-220" in made_into
    lot_page = page.url
    shot(page, "2-lot")

    # 3. Trace forwards: jam batches, a gift box made from the jam, customers in both warehouses.
    page.get_by_role("link", name="Trace", exact=True).click()
    page.wait_for_load_state()
    forward = page.locator("section", has=page.locator("#forward-h"))
    text = forward.text_content()  # closed branches too
    assert "JAM-RASP-340" in text and "JAM-RASP-220" in text and "GB-" in text
    customers = number(forward.locator(".badge.customer").first.inner_text())
    assert customers >= 15
    shot(page, "3-trace")

    # 4. A mock recall drill from the lot page: the consignee list, stock on hand and mass balance, timed.
    page.goto(lot_page)
    page.get_by_role("link", name="Mock recall drill…", exact=True).click()
    page.wait_for_load_state()
    assert RECALL_SUPPLIER_LOT not in page.locator("textarea[name=lots]").input_value()
    assert page.locator("textarea[name=lots]").input_value().startswith("FR-RASP / ")
    page.click("button:has-text('Run the drill')")
    page.wait_for_load_state()
    assert words(page.locator("h1").inner_text()).startswith("Mock recall")
    assert "nothing was put on hold" in page.locator(".page-head .sub").inner_text()
    stats = page.locator(".stats").inner_text()
    assert "Report ready in" in stats
    assert number(page.locator(".stats > div", has_text="Consignees").locator(".stat").inner_text()) == customers
    assert number(page.locator(".stats > div", has_text="Affected lots").locator(".stat").inner_text()) >= 6
    shot(page, "4-drill")

    # 5. Stock → Expiring: the first reduced sugar jams expired on the shelf, the trial blackcurrant is
    #    about to, with the customers who could still take it; each expired row has its Write-off button.
    menu(page, "Stock", "Expiring")
    lots = page.locator("main table.table", has=page.locator("th", has_text="Could still take it"))
    expired = lots.locator("tr.expired")
    assert expired.count() >= 1 and all("RS-" in expired.nth(i).inner_text() for i in range(expired.count()))
    assert expired.first.locator("button", has_text="Write off").first.is_visible()
    trial = lots.locator("tr", has_text="RS-BLKC-340")
    assert trial.count() >= 1 and trial.first.locator(".chip").count() >= 1
    assert expired.first.locator(".badge", has_text="expired").count() >= 1
    shot(page, "5-expiring")

    # 6. The held lot: the newest strawberry jam batch, on hold after a vacuum check.
    menu(page, "Stock", "Lots")
    page.select_option("select[name=status]", "hold")
    page.click("button:has-text('Filter')")
    held = page.locator("main table tbody tr")
    assert held.count() == 1 and "JAM-STRAW-340" in held.inner_text()
    held.locator("a").first.click()
    page.wait_for_load_state()
    assert "Vacuum check" in page.locator(".banner.hold").inner_text()

    # 7. Orders: the next order due out is allocated (its pick list is ready); a shipped order lists the
    #    lots it took under Shipments.
    menu(page, "Orders", "Orders")
    page.goto(live + "/orders?status=open")
    page.wait_for_load_state()
    allocated = None
    for href in page.locator("main table tbody tr a[href^='/orders/']").evaluate_all("els => els.map(e => e.href)"):
        page.goto(href)
        if page.locator("#allocation tbody tr.state-open").count():
            allocated = href
            break
    assert allocated, "the demo allocates the next order due out"
    assert page.locator("#allocation a.button", has_text="Pick list").is_visible()
    assert page.locator("#allocation button", has_text="Allocate again").count() == 1
    shot(page, "6-order")
    page.goto(live + "/orders?status=shipped")
    page.locator("main table tbody tr a[href^='/orders/']").first.click()
    page.wait_for_load_state()
    assert "the order has shipped" in page.locator("#allocation").inner_text()
    assert page.locator("#shipments tbody a.chip").count() >= 1

    # 8. A real recall from the lot page: the affected stock goes on hold and the dashboard leads with it.
    page.goto(lot_page)
    page.get_by_role("link", name="Recall…", exact=True).click()
    page.wait_for_load_state()
    page.fill("textarea[name=reason]", "Bramblewood reports glass in raspberry lot RB-7731")
    page.click("button:has-text('Recall these lots')")
    page.wait_for_load_state()
    assert words(page.locator("h1").inner_text()).startswith("Recall RC-")
    page.goto(live + "/")
    first_card = page.locator("main .card").first
    tile = words(first_card.inner_text())
    assert tile.startswith("Recall RC-") and " is open " in tile
    assert "Consignees reached 0 / 25" in tile and "Not answered (25)" in tile
    shot(page, "7-recall-dashboard")

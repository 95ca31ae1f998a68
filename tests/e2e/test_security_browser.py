"""Every page keeps to its Content-Security-Policy in a real Chromium, and still works under it."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator

import pytest
from flask import Flask, url_for
from sqlalchemy import select
from werkzeug.serving import make_server

from app.models import Lot, Order, OrderStatus, Recall, Role
from app.views import NAV, ROLE_NAV
from tests.helpers.api import make_user
from tests.helpers.pages import PASSWORD
from tests.helpers.requires import needs_chromium

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, needs_chromium]

# Collects every violation the page reports, from the first script on, before the page's own scripts run.
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__violations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${where})`);
});
"""


@pytest.fixture
def live_demo(demo_app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, demo_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def _paths(app: Flask) -> list[str]:
    """The main pages, a page of each kind of record, the printable pages and the handheld scan pages."""
    with app.extensions["lotwise.sessions"]() as s:
        lot_id = s.scalar(select(Lot.id).order_by(Lot.id))
        order_id = s.scalar(select(Order.id).where(Order.status == OrderStatus.OPEN).order_by(Order.id))
        recall_id = s.scalar(select(Recall.id).order_by(Recall.id))
    assert lot_id and order_id
    with app.test_request_context():
        paths = ["/", *(url_for(endpoint) for endpoint, *_ in NAV + ROLE_NAV),
                 url_for("lots.detail", lot_id=lot_id), url_for("trace.index", lot_id=lot_id),
                 url_for("waste.lot_cost", lot_id=lot_id), url_for("waste.valuation"),
                 url_for("orders.detail", order_id=order_id),
                 url_for("picklists.order_pick_list", order_id=order_id),
                 url_for("labels.print_page", lot=lot_id), url_for("expiry.preview_expired"),
                 url_for("recalls.drills"), url_for("receipts.new"), url_for("orders.new"),
                 *(url_for(f"handheld.{name}") for name in ("index", "lookup", "receive", "produce", "pick"))]
        if recall_id:
            paths.append(url_for("recalls.detail", recall_id=recall_id))
    return list(dict.fromkeys(paths))


def test_no_page_breaks_the_content_security_policy(demo_app: Flask, live_demo: str) -> None:
    with demo_app.extensions["lotwise.sessions"]() as s:
        make_user(s, "inspector", Role.ADMIN)
    paths = _paths(demo_app)
    console: list[str] = []
    problems: dict[str, list[str]] = {}
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync"])
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.add_init_script(WATCH)
        page = context.new_page()
        page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)

        page.goto(live_demo + "/login")
        page.fill("input[name=username]", "inspector")
        page.fill("input[name=password]", PASSWORD)
        page.click("button:has-text('Log in')")
        page.wait_for_url(live_demo + "/")
        for path in paths:
            response = page.goto(live_demo + path)
            assert response is not None and response.status == 200, path
            assert "'unsafe-inline'" not in response.headers["content-security-policy"]
            page.wait_for_load_state("load")
            found = page.evaluate("window.__violations")
            # Every stylesheet the page links to is loaded and applied.
            unstyled = page.evaluate("[...document.querySelectorAll('link[rel=stylesheet]')]"
                                     ".filter((l) => !l.sheet).map((l) => l.href)")
            if found or unstyled:
                problems[path] = found + [f"stylesheet not loaded: {href}" for href in unstyled]

        # What moved from inline handlers to scripts still works.
        page.goto(live_demo + next(p for p in paths if p.endswith("/pick-list")))
        assert page.locator("button[data-print]").is_visible()
        page.goto(live_demo + next(p for p in paths if p.startswith("/labels/print")))
        sizes = page.locator("#f-preview-size option").evaluate_all("(os) => os.map((o) => o.value)")
        current = page.locator("#f-preview-size").input_value()
        other = next(v for v in sizes if v != current)
        with page.expect_navigation():
            page.select_option("#f-preview-size", other)
        assert f"size={other}" in page.url
        assert page.evaluate("window.__violations") == []
        browser.close()
    assert problems == {}
    assert [m for m in console if "Content Security Policy" in m] == []

"""In Chromium: a recalled jar's QR page on a phone, and a consignee answering through the link in its e-mail.

Screenshots of the public pages at 360, 768 and 1280 px are written to the test's temporary folder.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import worker as work
from app.models import RecallResponse, Role
from tests.helpers.api import Api, make_user
from tests.helpers.pages import PASSWORD
from tests.helpers.recall_case import build
from tests.helpers.requires import needs_chromium
from tests.helpers.smtp_sink import SmtpSink

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, needs_chromium]

WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(e.violatedDirective));
"""


def test_a_consignee_answers_on_a_phone_and_the_recall_page_shows_it(
        app: Flask, live: str, chromium: Any, api: Api, site: dict[str, Any], session: Session,
        tmp_path: Path) -> None:
    app.config["BASE_URL"] = live  # the personal links in the e-mails point at this server
    case = build(api, site, session)
    app.config.update(COMPANY_NAME="Jam Co", COMPANY_CONTACT="+44 1632 960999")
    with SmtpSink() as sink:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=sink.port)
        recall = api.post("/recalls", {"lots": [{"sku": "JAM-RASP", "lot_code": "J1"}], "reason": "glass"}).json
        assert api.post(f"/recalls/{recall['id']}/notices/send", {}).status_code == 200
        assert work.run_once(app.extensions["lotwise.sessions"], work.Settings.from_config(app.config)) == 2
        mail = next(m for m in sink.messages if m.recipients == ["dev@deli.example"])
    m = re.search(rf"{re.escape(live)}(/answer/\S+)", mail.body)
    assert m, mail.body
    link = live + m.group(1)

    phone = chromium.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    phone.add_init_script(WATCH)
    page = phone.new_page()
    # The recalled jar's QR code, scanned by a passer-by.
    page.goto(f"{live}/01/09501101530003/10/J1")
    assert page.locator("h1").first.inner_text() == "Recalled: do not eat or use this product."
    assert phone.cookies() == []  # a passer-by gets no cookie
    assert page.evaluate("window.__violations") == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(tmp_path / "public-recalled-360.png"), full_page=True)

    page.goto(link)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.check("input[name=received]")
    page.fill(f"#f-on_hand_{case.j1}", "-3")
    page.click("button[type=submit]")
    assert "cannot be negative" in page.locator("p.error").inner_text()
    page.screenshot(path=str(tmp_path / "answer-refused-360.png"), full_page=True)
    page.fill(f"#f-on_hand_{case.j1}", "40")
    page.fill(f"#f-destroyed_{case.j1}", "60")
    page.fill(f"#f-destroyed_{case.gb1}", "10")
    page.fill("#f-answered_by", "Dev Patel")
    page.click("button[type=submit]")
    assert "Thank you: your answer is recorded" in page.locator("p.saved").inner_text()
    assert page.input_value(f"#f-destroyed_{case.j1}") == "60"
    page.screenshot(path=str(tmp_path / "answer-saved-360.png"), full_page=True)
    assert page.evaluate("window.__violations") == []  # the public pages keep the Content-Security-Policy
    assert page.evaluate("[...document.querySelectorAll('link[rel=stylesheet]')].every((l) => l.sheet)")
    assert phone.cookies() and all(c["name"] == "lotwise_session" for c in phone.cookies())  # only the form's
    session.rollback()
    assert session.scalar(select(RecallResponse.answered_by)) == "Dev Patel"

    for width in (768, 1280):
        wide = chromium.new_page(viewport={"width": width, "height": 900})
        wide.goto(f"{live}/01/09501101530003/10/J1")
        wide.screenshot(path=str(tmp_path / f"public-recalled-{width}.png"), full_page=True)
        wide.goto(link)
        wide.screenshot(path=str(tmp_path / f"answer-{width}.png"), full_page=True)
        wide.close()

    # The manager sees the answer in the recall's effectiveness and on the dashboard.
    make_user(session, "mona", Role.MANAGER)
    office = chromium.new_page(viewport={"width": 1280, "height": 900})
    office.goto(f"{live}/login")
    office.fill("input[name=username]", "mona")
    office.fill("input[name=password]", PASSWORD)
    office.click("button:has-text('Log in')")
    office.wait_for_url(f"{live}/")
    tile = office.locator(".recall-tile")
    assert "Recall RC-" in tile.inner_text() and "Big Box, Farm Shop" in tile.inner_text()
    office.screenshot(path=str(tmp_path / "dashboard-1280.png"), full_page=True)
    office.goto(f"{live}/recalls/{recall['id']}")
    effect = office.locator("#effectiveness").inner_text()
    assert "1 / 3" in effect  # answered
    office.screenshot(path=str(tmp_path / "recall-1280.png"), full_page=True)
    print("screenshots in", tmp_path)

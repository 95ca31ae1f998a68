"""A manager uploads the onboarding workbook in Chromium, watches it being checked, reads the preview and
confirms; the stock and orders are there afterwards. Screenshots at 1280, 768 and 360 px."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Lot, Order, Role
from tests.helpers.api import make_user
from tests.helpers.pages import PASSWORD
from tests.helpers.requires import needs_chromium
from tests.helpers.workbooks import onboarding, xlsx

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, needs_chromium]

SHOTS = Path("/tmp/shots-imports")


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_upload_preview_and_confirm_the_workbook(live: str, chromium: Any, session: Session, tmp_path: Path) -> None:
    make_user(session, "mia", Role.MANAGER)
    rows = onboarding()
    rows["stock"].append(["JAM-RASP", "J-0009", -2, "DRY-01", None, None, None, None, None])
    (tmp_path / "bad.xlsx").write_bytes(xlsx(rows))
    (tmp_path / "onboarding.xlsx").write_bytes(xlsx(onboarding()))
    page = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(live + "/imports")
    page.fill("input[name=username]", "mia")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(live + "/imports")

    # A file with a bad row: the preview names it and offers no import.
    page.set_input_files("#f-file", str(tmp_path / "bad.xlsx"))
    page.click("button:has-text('Upload and check')")
    sync_api.expect(page.locator("#import-errors")).to_contain_text("greater than 0")
    sync_api.expect(page.locator("#import-state")).to_contain_text("Nothing can be imported yet")
    assert page.locator("#confirm-import").count() == 0
    shot(page, "preview-bad-1280")

    page.goto(live + "/imports")
    page.set_input_files("#f-file", str(tmp_path / "onboarding.xlsx"))
    page.click("button:has-text('Upload and check')")
    confirm = page.locator("#confirm-import")
    sync_api.expect(confirm).to_have_text("Import 20 new and 0 changed row(s)")
    sync_api.expect(page.locator("#import-sheets")).to_contain_text("stock")
    shot(page, "preview-1280")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Lot)) == 0
    confirm.click()
    sync_api.expect(page.locator("#import-state")).to_contain_text("Imported: 20 row(s) created", timeout=20000)
    shot(page, "done-1280")
    with page.expect_download() as download:
        page.goto(live + "/imports")
        page.click("#export-link")
    assert download.value.suggested_filename.startswith("lotwise-")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Lot)) == 5
    assert session.scalar(select(func.count()).select_from(Order)) == 2

    for width in (768, 360):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(live + "/imports")
        shot(page, f"upload-{width}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
        page.go_back()
        page.reload()
        shot(page, f"done-{width}")
        # Nothing runs off the side of a phone: the page is as wide as the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1

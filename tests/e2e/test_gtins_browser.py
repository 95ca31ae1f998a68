"""The GTINs page in a real browser, at phone, tablet and desktop widths: an admin sets the GS1 company prefix
and assigns GTINs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Product, ProductKind, Role
from tests.helpers.api import make_user
from tests.helpers.pages import PASSWORD
from tests.helpers.requires import needs_chromium

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, needs_chromium]


def test_an_admin_sets_the_prefix_and_assigns_gtins_at_every_width(live: str, chromium: Any, session: Session,
                                                                   kitchen: dict[str, Any], tmp_path: Path) -> None:
    make_user(session, "ada", Role.ADMIN)
    session.add(Product(sku="GB-TRIO", name="Breakfast trio gift box", kind=ProductKind.PRODUCT, unit="ea"))
    session.commit()
    shots = Path(os.environ.get("LOTWISE_SCREENSHOTS", tmp_path))
    for width in (360, 768, 1280):
        page = chromium.new_page(viewport={"width": width, "height": 800})
        page.goto(f"{live}/products/gtins")
        page.fill("input[name=username]", "ada")
        page.fill("input[name=password]", PASSWORD)
        page.click("button:has-text('Log in')")
        page.wait_for_url(f"{live}/products/gtins")
        if width == 360:
            page.fill("input[name=company_prefix]", "2012345")
            page.click("button:has-text('Save prefix')")
            page.wait_for_load_state()
            assert "Restricted Circulation" in page.locator("[role=alert]").inner_text()
            assert page.locator("input[name=company_prefix]").get_attribute("aria-invalid") == "true"
            page.fill("input[name=company_prefix]", "9506000")
            page.click("button:has-text('Save prefix')")
            page.wait_for_load_state()
            assert "GS1 company prefix set to 9506000" in page.locator(".flash").inner_text()
            page.screenshot(path=str(shots / f"gtins-{width}-before.png"), full_page=True)
            page.click("button:has-text('Assign GTINs')")
            page.wait_for_load_state()
            assert "1 product got a GTIN: GB-TRIO 0950600000000" in page.locator(".flash").inner_text()
        # Nothing sticks out sideways, on a phone either.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert "Every active product has a GTIN" in page.content()
        page.screenshot(path=str(shots / f"gtins-{width}.png"), full_page=True)
        page.close()
    session.rollback()
    gtin = session.scalar(select(Product.gtin).where(Product.sku == "GB-TRIO"))
    assert gtin is not None and gtin.startswith("09506000")

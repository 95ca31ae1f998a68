"""Allocation on the order page and the pick list pages, as a browser uses them."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.models import Role
from tests.helpers.api import Api
from tests.helpers.bookings import TODAY, receive
from tests.helpers.pages import user


def test_allocate_from_the_order_page_and_print_the_pick_list(
        api: Api, site: dict[str, Any], client: FlaskClient, session: Session) -> None:
    receive(api, site["supplier"], "JAM-RASP", "10", location="DRY-01", lot_code="L40",
            expiry=(TODAY + timedelta(days=40)).isoformat())
    order = api.post("/orders", {"customer_id": site["bigbox"], "warehouse": "MAIN", "ship_date": TODAY.isoformat(),
                                 "lines": [{"sku": "JAM-RASP", "quantity": "4"}]}).json
    deli = api.post("/orders", {"customer_id": site["deli"], "warehouse": "MAIN", "ship_date": TODAY.isoformat(),
                                "lines": [{"sku": "JAM-RASP", "quantity": "4"}]}).json
    browser = user(client, session, "olive", Role.OPERATOR)
    page = browser.get(f"/orders/{order['id']}")
    assert "Allocate" in page.text and "Deallocate" in page.text and "Pick list" in page.text
    page = browser.post(f"/orders/{order['id']}/allocate", {"csrf_token": browser.csrf()}, follow=True)
    assert page.status == 200
    assert "Big Box needs ≥ 90 days" in page.text and "4 could not be allocated" in page.text
    page = browser.post(f"/orders/{deli['id']}/allocate", {"csrf_token": browser.csrf()}, follow=True)
    assert "Allocated 4" in page.text and "L40" in page.text
    page = browser.get(f"/orders/{deli['id']}/pick-list")
    assert page.status == 200 and page.html.count("<svg") == 2 and "(10)L40" in page.text
    # Labels for every lot on the pick list, one print page away.
    link = re.search(r'href="(/labels/print\?[^"]+)">Print labels', page.html)
    assert link is not None, page.html
    labels = browser.get(link.group(1).replace("&amp;", "&"))
    assert labels.status == 200 and "L40" in labels.text
    pdf = browser.client.get(f"/orders/{deli['id']}/pick-list.pdf?paper=letter")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    wave = browser.get(f"/pick-lists/wave?ship_by={TODAY.isoformat()}")
    assert wave.status == 200 and "L40" in wave.text and deli["number"] in wave.text
    unknown = browser.post("/orders/999999/allocate", {"csrf_token": browser.csrf()}, follow=True)
    assert unknown.status == 404

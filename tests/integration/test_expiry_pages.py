"""The expiring-stock, write-off, waste, valuation and lot-cost pages as managers, operators and viewers use them."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from app.models import Role, WriteOff
from tests.helpers.api import TODAY, Api
from tests.helpers.pages import Browser, count, user


@pytest.fixture
def stock(api: Api, site: dict[str, Any]) -> dict[str, int]:
    """OLD expired yesterday (10 kg @ 2.50 in COLD-01); SOON expires in 10 days (8 kg @ 3); a cafe with no rule."""
    api.post("/customers", {"name": "Quick Cafe"})
    out = {}
    for code, qty, cost, expires in [("OLD", "10", "2.50", -1), ("SOON", "8", "3", 10)]:
        r = api.post("/receipts", {"supplier_id": site["supplier"], "received_on": str(TODAY - timedelta(30)),
                                   "lines": [{"sku": "RASP", "quantity": qty, "location": "COLD-01", "lot_code": code,
                                              "unit_cost": cost, "expiry": str(TODAY + timedelta(expires))}]})
        assert r.status_code == 201, r.json
        out[code] = r.json["lines"][0]["lot_id"]
    return out


def _link(page: Any, text: str) -> str:
    m = re.search(rf'<a class="button[^"]*" href="([^"]+)">{re.escape(text)}', page.html)
    assert m, f"no link {text!r} on {page.path}"
    return m.group(1)


def test_a_manager_writes_off_expired_stock_in_two_taps_from_the_dashboard(client: FlaskClient, session: Session,
                                                                            stock: dict[str, int], api: Api) -> None:
    manager = user(client, session, "maria", Role.MANAGER)
    dashboard = manager.get("/")
    assert "1 expired" in dashboard.text and "1 expiring" in dashboard.text
    assert "OLD" in dashboard.text and "Quick Cafe" in dashboard.text
    preview = manager.get(_link(dashboard, "Write off expired stock…"))          # tap 1
    assert preview.status == 200
    assert "Confirm: write off 1 row · 25.00 EUR" in preview.text
    done = manager.submit(preview, {"note": ""}, key="version")                     # tap 2
    assert done.status == 200 and done.path == "/write-offs"
    assert "WB-000001: wrote off 1 row of expired stock worth 25.00 EUR" in done.flashes[0]
    assert "W-000001" in done.text
    assert api.get(f"/lots/{stock['OLD']}").json["on_hand"] == "0"
    assert api.get(f"/lots/{stock['SOON']}").json["on_hand"] == "8"


def test_a_stale_preview_page_writes_nothing_off_and_shows_the_new_list(client: FlaskClient, session: Session,
                                                                        stock: dict[str, int], api: Api) -> None:
    manager = user(client, session, "maria", Role.MANAGER)
    preview = manager.get("/expiring/write-off-expired")
    api.post("/write-offs", {"lot_id": stock["OLD"], "location": "COLD-01", "quantity": "4", "reason": "expired"})
    page = manager.submit(preview, {"note": "late"}, key="version")
    assert page.status == 409
    assert "Nothing was written off" in page.alerts[0] and "changed since the preview" in page.alerts[0]
    assert "Confirm: write off 1 row · 15.00 EUR" in page.text
    assert count(session, WriteOff) == 1


def test_an_operator_holds_from_the_expiring_list_and_a_manager_writes_off(client: FlaskClient, session: Session,
                                                                           stock: dict[str, int], api: Api) -> None:
    operator = user(client, session, "otto", Role.OPERATOR)
    page = operator.get("/expiring")
    assert page.status == 200
    assert "Write off all expired stock" not in page.text  # managers only
    assert not [f for f in page.forms if f.action == "/expiring/write-off"]  # so are single write-offs
    refused = operator.post("/expiring/write-off", {"csrf_token": operator.csrf(), "lot_id": str(stock["OLD"]),
                                                    "location": "COLD-01", "quantity": "1", "reason": "expired"})
    assert refused.status == 403 and "manager" in refused.alerts[0]
    assert count(session, WriteOff) == 0
    assert "Quick Cafe · by" in page.text                   # SOON can still go to the cafe
    assert "Expired: no customer may receive it." in page.text
    hold_form = next(f for f in page.forms if f.action == f"/expiring/{stock['SOON']}/hold")
    page = operator.post(hold_form.action, hold_form.fields, follow=True)
    assert "is on hold" in page.flashes[0]
    assert api.get(f"/lots/{stock['SOON']}").json["status"] == "hold"
    assert "Hold: cannot be sold until released." in page.text
    manager = user(client, session, "maria", Role.MANAGER)
    page = manager.get("/expiring")
    one_tap = next(f for f in page.forms
                   if f.fields.get("reason") == "expired" and f.fields.get("lot_id") == str(stock["OLD"]))
    page = manager.post(one_tap.action, one_tap.fields, follow=True)
    assert page.path == "/expiring"
    assert "Written off 10 kg of lot OLD at COLD-01 (expired): 25.00 EUR" in page.flashes[0]
    assert api.get(f"/lots/{stock['OLD']}").json["on_hand"] == "0"
    assert operator.get("/expiring/write-off-expired").status == 403


def test_a_write_off_larger_than_on_hand_shows_the_error_and_changes_nothing(client: FlaskClient, session: Session,
                                                                             stock: dict[str, int], api: Api) -> None:
    manager = user(client, session, "maria", Role.MANAGER)
    page = manager.get("/expiring")
    form = next(f for f in page.forms if "note" in f.fields and f.fields.get("lot_id") == str(stock["SOON"]))
    page = manager.post(form.action, {**form.fields, "quantity": "9", "reason": "damaged"})
    assert page.status == 409
    assert "Nothing was saved" in page.alerts[0] and "has 8 kg at COLD-01" in page.alerts[0]
    page = manager.post(form.action, {**form.fields, "quantity": "2", "reason": ""})
    assert page.status == 422
    assert count(session, WriteOff) == 0
    assert api.get(f"/lots/{stock['SOON']}").json["on_hand"] == "8"


def test_a_viewer_sees_the_list_but_no_actions(client: FlaskClient, session: Session, stock: dict[str, int]) -> None:
    viewer = user(client, session, "vera", Role.VIEWER)
    page = viewer.get("/expiring")
    assert page.status == 200 and "OLD" in page.text
    assert not [f for f in page.forms if f.method == "post" and f.action.startswith("/expiring")]
    r = viewer.post("/expiring/write-off", {"csrf_token": viewer.csrf(), "lot_id": str(stock["OLD"]),
                                            "location": "COLD-01", "quantity": "1", "reason": "expired"})
    assert r.status == 403
    assert count(session, WriteOff) == 0


def test_the_waste_report_page_draws_its_chart_without_the_internet(client: FlaskClient, session: Session,
                                                                    history: dict[str, int]) -> None:
    viewer = user(client, session, "vera", Role.VIEWER)
    page = viewer.get("/reports/waste?from=2026-01-01&to=2026-06-30")
    assert page.status == 200
    svg = page.html[page.html.index("<svg"):page.html.index("</svg>")]
    assert svg.count("<rect") == 6  # six month × product cells with waste
    assert "2026-04 · JAM-RASP: 221.76 EUR" in svg
    # Nothing is fetched from elsewhere: no scripts, stylesheets or images from another host.
    assert not re.search(r'(src|href)="(https?:)?//', page.html)
    for figure in ("623.90 EUR", "41.70 %", "177.24", "421.76", "24.90", "589.76"):
        assert figure in page.text, figure
    csv_page = viewer.client.get("/reports/waste.csv?from=2026-01-01&to=2026-06-30")
    assert csv_page.mimetype == "text/csv"
    assert "2026-04,RASP,Raspberries IQF,40,kg,200" in csv_page.get_data(as_text=True)
    xlsx = viewer.client.get("/reports/waste.xlsx?from=2026-01-01&to=2026-06-30")
    assert xlsx.status_code == 200
    assert load_workbook(io.BytesIO(xlsx.data))["Reason"]["A2"].value == "expired"


def test_a_backwards_range_is_a_page_error(client: FlaskClient, session: Session) -> None:
    viewer = user(client, session, "vera", Role.VIEWER)
    page = viewer.get("/reports/waste?from=2026-06-01&to=2026-05-01")
    assert page.status == 422
    assert "backwards" in page.alerts[0]
    assert "<svg" not in page.html
    assert viewer.client.get("/reports/waste.csv?from=2026-06-01&to=2026-05-01").status_code == 422
    assert viewer.get("/write-offs?from=2026-06-01&to=2026-05-01").status == 422


def test_valuation_and_lot_cost_pages(client: FlaskClient, session: Session,
                                      history: dict[str, int]) -> None:
    viewer = user(client, session, "vera", Role.VIEWER)
    page = viewer.get("/reports/valuation?on=2026-02-28")
    assert page.status == 200
    assert "1,063.00 EUR" in page.text and "299.00" in page.text
    page = viewer.get(f"/reports/lot-cost/{history['J1']}")
    assert page.status == 200
    text = page.text
    for piece in ("Unit cost 0.77 EUR / ea", "R1", "60 kg", "4.2", "252.00", "36.00", "Extra cost of the run",
                  "20.00", "308.00", "÷ 400 ea made = unit cost"):
        assert piece in text, piece
    assert viewer.get("/reports/valuation?on=not-a-date").status == 422


def test_the_valuation_page_shows_fifty_products_a_page_under_the_totals_of_the_whole_stock(
        client: FlaskClient, session: Session, kitchen: dict[str, Any]) -> None:
    from app.schemas import ProductIn
    from app.services import masterdata
    from tests.helpers.ledger import receive_lots

    for i in range(52):
        masterdata.create_product(session, ProductIn.model_validate({
            "sku": f"P{i:02}", "name": f"Product {i}", "kind": "material", "unit": "kg", "shelf_life_days": 300}))
    # Product i holds 1 kg at i + 1 (two lots for P51): 1 + 2 + … + 52 = 1378, plus 1 kg at 0.50.
    receive_lots(session, kitchen["supplier"], TODAY, [
        {"sku": f"P{i:02}", "quantity": "1", "location": "COLD-01", "unit_cost": str(i + 1)} for i in range(52)]
        + [{"sku": "P51", "quantity": "1", "location": "DRY-01", "unit_cost": "0.5"}])
    viewer = user(client, session, "vera", Role.VIEWER)

    first = viewer.get("/reports/valuation")
    assert first.status == 200
    skus = re.findall(r'<span class="mono">(P\d\d)</span>', first.html)
    assert skus == [f"P{i:02}" for i in range(50)]
    for piece in ("Stock value on", "1,378.50 EUR", "Products in stock 52", "Lots in stock 53",
                  "Products 1–50 of 52, by SKU.", "Total, all 52 products 1,378.50", "Page 1"):
        assert piece in first.text, piece
    assert "Previous" not in first.text
    second = viewer.get(_link(first, "Next →"))
    assert re.findall(r'<span class="mono">(P\d\d)</span>', second.html) == ["P50", "P51"]
    for piece in ("1,378.50 EUR", "Products 51–52 of 52", "Total, all 52 products 1,378.50", "P51 · Product 51",
                  "2 kg 52.50 2 lots", "Page 2"):
        assert piece in second.text, piece
    assert "Next →" not in second.text
    assert viewer.get(_link(second, "← Previous")).text == first.text
    # A day and a warehouse chosen stay chosen from page to page.
    dated = viewer.get("/reports/valuation?on=" + TODAY.isoformat() + "&warehouse=MAIN")
    assert f"on={TODAY.isoformat()}" in _link(dated, "Next →") and "warehouse=MAIN" in _link(dated, "Next →")
    beyond = viewer.get("/reports/valuation?page=4")
    assert beyond.status == 200 and "No more products: the stock has 52." in beyond.text
    assert "1,378.50 EUR" in beyond.text


def test_the_navigation_offers_expiring_and_waste(client: FlaskClient, session: Session) -> None:
    browser: Browser = user(client, session, "vera", Role.VIEWER)
    page = browser.get("/")
    links = dict((label, href) for href, label in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', page.html))
    assert (links["Expiring"], links["Waste"]) == ("/expiring", "/reports/waste")


def test_on_the_demo_data_a_manager_sees_what_expires_who_could_take_it_and_writes_off_in_two_taps(
        demo_app: Flask) -> None:
    from app.demo import DEMO_PASSWORD

    manager = Browser(demo_app.test_client())
    manager.login("demo", DEMO_PASSWORD)
    dashboard = manager.get("/")
    tile = dashboard.html[dashboard.html.index('class="card expiry-tile"'):]
    tile = tile[:tile.index("</section>")]
    expired = int(re.search(r"(\d+) expired</strong>", tile).group(1))  # type: ignore[union-attr]
    assert expired > 0
    assert 'class="chip' in tile  # a lot still expiring names the customers who could take it
    preview = manager.get(_link(dashboard, "Write off expired stock…"))
    form = preview.form_with("version")
    # Every ticked box, as a browser sends them (the same name once per row).
    ticked = re.findall(r'name="row" value="([^"]+)" checked', preview.html)
    assert ticked
    response = manager.client.post(form.action, data={**form.fields, "row": ticked}, follow_redirects=True)
    assert response.status_code == 200
    assert f"wrote off {len(ticked)} row" in response.get_data(as_text=True)
    assert "No expired stock is on hand" in manager.get("/expiring/write-off-expired").text

"""Stations: a manager sets up where handhelds work; the handheld pages start from the station's locations,
and without one from a location of the right kind, never simply the first location."""

from __future__ import annotations

import json
import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.models import Role
from tests.helpers.api import Api
from tests.helpers.bookings import refused
from tests.helpers.pages import Browser, user

DOCK = {"code": "DOCK-1", "name": "Goods-in dock", "kind": "dock", "receiving_location": "RCV"}


def page_data(browser: Browser, path: str) -> dict[str, Any]:
    page = browser.get(path)
    assert page.status == 200, page.text[:300]
    m = re.search(r'<script type="application/json" id="hh-data">(.*?)</script>', page.html, re.S)
    assert m
    return json.loads(m.group(1))  # type: ignore[no-any-return]


def selected(browser: Browser, path: str, select_id: str) -> str:
    html = browser.get(path).html
    block = re.search(rf'<select id="{select_id}">(.*?)</select>', html, re.S)
    assert block, select_id
    chosen = re.findall(r'<option value="([^"]*)" selected>', block.group(1))
    assert len(chosen) <= 1
    # A select without a selected option shows its first option.
    return chosen[0] if chosen else re.findall(r'<option value="([^"]*)"', block.group(1))[0]


def test_a_manager_creates_lists_and_changes_a_station_through_the_api(api: Api, site: dict[str, Any]) -> None:
    r = api.post("/stations", {**DOCK, "shipping_location": "DOCK"})
    assert r.status_code == 201, r.json
    station = r.json
    assert station | {"id": 0} == {"id": 0, "code": "DOCK-1", "name": "Goods-in dock", "kind": "dock",
                                   "receiving_location": "RCV", "production_location": None,
                                   "shipping_location": "DOCK", "active": True}
    assert [s["code"] for s in api.get("/stations").json] == ["DOCK-1"]
    r = api.patch(f"/stations/{station['id']}", {"name": "Dock 1", "shipping_location": None,
                                                 "production_location": "KITCHEN"})
    assert r.status_code == 200, r.json
    assert (r.json["name"], r.json["shipping_location"], r.json["production_location"], r.json["receiving_location"]) \
        == ("Dock 1", None, "KITCHEN", "RCV")
    assert api.get(f"/stations/{station['id']}").json == r.json


def test_a_station_refuses_bad_locations_and_duplicates_naming_the_field(api: Api, site: dict[str, Any]) -> None:
    assert api.post("/stations", DOCK).status_code == 201
    refused(api.post("/stations", DOCK), 409, "code")
    refused(api.post("/stations", {**DOCK, "code": "X", "receiving_location": "NOWHERE"}), 404, "receiving_location")
    err = refused(api.post("/stations", {**DOCK, "code": "X", "receiving_location": "QUAR"}), 422,
                  "receiving_location")
    assert "quarantine" in err["message"]
    err = refused(api.post("/stations", {**DOCK, "code": "X", "shipping_location": "KITCHEN"}), 422,
                  "shipping_location")
    assert "storage or shipping" in err["message"]
    refused(api.post("/stations", {**DOCK, "code": "bad code"}), 422, "code")
    refused(api.post("/stations", {**DOCK, "code": "X", "kind": "moon"}), 422, "kind")
    refused(api.patch("/stations/999", {"name": "x"}), 404, "id")
    assert [s["code"] for s in api.get("/stations").json] == ["DOCK-1"]


def test_only_a_manager_sets_up_stations(api_as: Any, site: dict[str, Any]) -> None:
    operator = api_as(Role.OPERATOR)
    refused(operator.post("/stations", DOCK), 403, None)
    assert operator.get("/stations").status_code == 200


def test_the_stations_page_creates_and_edits_a_station(client: FlaskClient, session: Session,
                                                       site: dict[str, Any]) -> None:
    manager = user(client, session, "maud", Role.MANAGER)
    form = manager.get("/stations/new")
    page = manager.submit(form, {"code": "KIT", "name": "Kitchen line", "kind": "kitchen",
                                 "production_location": "KITCHEN", "receiving_location": "QUAR"})
    assert page.status == 422
    assert any("quarantine" in a for a in page.alerts), page.alerts
    page = manager.submit(manager.get("/stations/new"), {"code": "KIT", "name": "Kitchen line", "kind": "kitchen",
                                                          "production_location": "KITCHEN"})
    assert page.status == 200 and "Station KIT created." in page.text
    assert "Kitchen line" in page.text and "KITCHEN" in page.text
    edit = manager.get("/stations/1/edit")
    page = manager.submit(edit, {"name": "Kitchen line 1", "production_location": ""})
    assert page.status == 200 and "Kitchen line 1" in page.text
    viewer = user(client, session, "vera", Role.VIEWER)
    assert viewer.get("/stations").status == 200
    assert viewer.get("/stations/new").status == 403


def test_handheld_pages_offer_the_active_stations_with_their_locations(api: Api, client: FlaskClient,
                                                                       session: Session, site: dict[str, Any]) -> None:
    assert api.post("/stations", {**DOCK, "shipping_location": "DOCK"}).status_code == 201
    old = api.post("/stations", {"code": "OLD", "name": "Old bench", "active": False})
    assert old.status_code == 201
    clerk = user(client, session, "otto", Role.OPERATOR)
    for path in ("/h/", "/h/receive", "/h/produce", "/h/pick", "/h/lookup"):
        stations = page_data(clerk, path)["stations"]
        assert [(s["code"], s["receiving_location"], s["shipping_location"]) for s in stations] == \
            [("DOCK-1", "RCV", "DOCK")], path


def test_without_a_station_receive_and_produce_start_at_a_location_of_the_right_kind(
        client: FlaskClient, session: Session, site: dict[str, Any]) -> None:
    clerk = user(client, session, "otto", Role.OPERATOR)
    # COLD-01, a freezer, comes first by code; goods arrive at the dock and batches are made in the kitchen.
    assert selected(clerk, "/h/receive", "rc-location") == "RCV"
    assert selected(clerk, "/h/produce", "pr-location") == "KITCHEN"


def test_the_handheld_menu_is_four_big_buttons_and_a_station_choice(client: FlaskClient, session: Session,
                                                                    site: dict[str, Any]) -> None:
    clerk = user(client, session, "otto", Role.OPERATOR)
    page = clerk.get("/h/")
    tiles = re.findall(r'<a class="hh-tile" href="([^"]+)">([^<]+)</a>', page.html)
    assert tiles == [("/h/receive", "Receive"), ("/h/produce", "Produce"), ("/h/pick", "Pick"),
                     ("/h/lookup", "Look up")]
    assert 'id="hh-station-choice"' in page.html
    viewer = user(client, session, "vera", Role.VIEWER)
    assert re.findall(r'class="hh-tile" href="([^"]+)"', viewer.get("/h/").html) == ["/h/lookup"]


def test_the_scan_field_keeps_the_on_screen_keyboard_away_with_a_button_to_type(
        client: FlaskClient, session: Session, site: dict[str, Any]) -> None:
    clerk = user(client, session, "otto", Role.OPERATOR)
    for path in ("/h/receive", "/h/produce", "/h/pick", "/h/lookup"):
        html = clerk.get(path).html
        field = re.search(r'<input id="hh-scan"[^>]*>', html)
        assert field and 'inputmode="none"' in field.group(0), path
        assert '<button type="button" class="hh-btn" id="hh-type"' in html, path

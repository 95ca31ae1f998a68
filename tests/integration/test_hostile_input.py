"""No hostile input makes a server error: every route of the app, with ids beyond the database's integer range,
NUL characters, dates no calendar of ours holds and absurd page numbers, in the path, the query string, forms
and JSON bodies. Each answer is a 4xx that says what was wrong (or an ordinary answer), never a 5xx.

The first part walks `app.url_map`, so a new route is walked without being listed; the second names each server
error once found in the wild.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.api import ROUTES
from app.models import Role
from tests.helpers.api import TODAY, Api, make_token
from tests.helpers.bookings import receive, refused, snapshot
from tests.helpers.pages import Browser, Page, user
from tests.helpers.routes import Endpoint, endpoints, leaves, plausible_body, replaced

HUGE_IDS = ("4294967296", "99999999999999999999")
BAD_DATES = ("0001-01-01", "9999-12-01")
BAD_TIMES = ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00", "9999-12-31T23:59")
NUL = "a\x00b"
PATH_TEXT = (NUL, "9" * 40, "..%2F..")
# Hostile query strings sent to every GET route: the parameter names the pages and API read.
QUERIES: tuple[dict[str, str], ...] = (
    {"page": "99999999999999999999"}, {"page": "-1"}, {"page": "abc"}, {"page": "0"},
    {"q": NUL}, {"lot_id": "4294967296"}, {"lot_id": "99999999999999999999"},
    {"from": "0001-01-01"}, {"to": "9999-12-01"}, {"from": "9999-12-01", "to": "9999-12-31"},
    {"offset": "99999999999999999999"}, {"limit": "99999999999999999999"},
    {"on": "0001-01-01"}, {"ship_by": "9999-12-01"}, {"ship_date": "0001-01-01"},
    {"customer_id": "4294967296"}, {"product_id": "4294967296"}, {"supplier_id": "99999999999999999999"},
    {"order_id": "4294967296"}, {"receipt": "4294967296"}, {"run": "4294967296"}, {"shipment": "4294967296"},
    {"lots": "4294967296"}, {"expiring_before": "9999-12-01"}, {"next": NUL},
)


@dataclass
class World:
    client: FlaskClient
    api: Api
    browser: Browser
    headers: dict[str, str]
    csrf: str

    def call(self, endpoint: Endpoint, url: str, *, json: Any = None, form: dict[str, str] | None = None) -> Any:
        """Call as an admin: the API with the token, pages with the logged-in browser and its CSRF token."""
        if endpoint.is_api:
            kwargs: dict[str, Any] = {"headers": self.api.headers}
            if endpoint.method != "GET":
                kwargs["json"] = {} if json is None else json
        else:
            kwargs = {}
            if endpoint.method != "GET":
                kwargs["data"] = {"csrf_token": self.csrf, **(form or {})}
        return self.browser.client.open(url, method=endpoint.method, **kwargs)


@pytest.fixture
def world(app: Flask, client: FlaskClient, session: Session, kitchen: dict[str, Any]) -> World:
    api = Api(client, make_token(session, "root", Role.ADMIN))
    lot = receive(api, kitchen["supplier"], "RASP", "10", expiry=(TODAY.replace(year=TODAY.year + 1)).isoformat())
    r = api.post("/orders", {"customer_id": kitchen["deli"], "warehouse": "MAIN", "ship_date": TODAY.isoformat(),
                             "lines": [{"sku": "RASP", "quantity": "1"}]})
    assert r.status_code == 201, r.json
    assert lot["lot_id"]
    browser = user(client, session, "boss", Role.ADMIN)
    return World(client, api, browser, api.headers, browser.csrf())


def _server_errors(world: World, calls: Iterator[tuple[Endpoint, str, dict[str, Any]]], least: int) -> list[str]:
    """Each call that answered 5xx (the test app re-raises what would have been a 500: that counts too)."""
    errors = []
    calls = list(calls)
    assert len(calls) >= least, f"only {len(calls)} calls: the walk no longer reaches the routes"
    for endpoint, url, kwargs in calls:
        try:
            status = world.call(endpoint, url, **kwargs).status_code
        except Exception as exc:
            status, kwargs = 500, {**kwargs, "raised": repr(exc)[:200]}
        if status >= 500:
            errors.append(f"{endpoint.method} {url} {kwargs or ''} → {status}")
    return errors


def _path_calls(app: Flask) -> Iterator[tuple[Endpoint, str, dict[str, Any]]]:
    for endpoint in endpoints(app):
        for name, converter in endpoint.variables().items():
            for value in (HUGE_IDS if converter == "int" else PATH_TEXT):
                yield endpoint, endpoint.url(**{name: value}), {}


def test_hostile_path_values_never_make_a_server_error(app: Flask, world: World) -> None:
    errors = _server_errors(world, _path_calls(app), 150)
    assert not errors, "\n".join(errors)


def _query_calls(app: Flask) -> Iterator[tuple[Endpoint, str, dict[str, Any]]]:
    for endpoint in endpoints(app):
        # The API's query strings are walked field by field below (their models refuse unknown names).
        if endpoint.method != "GET" or endpoint.endpoint == "static" or endpoint.is_api:
            continue
        base = endpoint.url(fmt="csv")
        for query in QUERIES:
            yield endpoint, f"{base}?{urlencode(query)}", {}


def test_hostile_query_strings_never_make_a_server_error(app: Flask, world: World) -> None:
    errors = _server_errors(world, _query_calls(app), 1000)
    assert not errors, "\n".join(errors)


def _api_query_calls(app: Flask) -> Iterator[tuple[Endpoint, str, dict[str, Any]]]:
    """Each field of each API query model, alone, with values hostile to its type."""
    by_name = {f"api.{r.name}": r for r in ROUTES}
    for endpoint in endpoints(app):
        route = by_name.get(endpoint.endpoint)
        if route is None or route.query is None:
            continue
        base = plausible_body(route.query)
        for path, kind in leaves(route.query):
            values = {"integer": HUGE_IDS, "date": BAD_DATES, "date-time": BAD_TIMES,
                      "text": (NUL, "1,4294967296")}.get(kind, ())
            for value in values:
                query = {k: v for k, v in replaced(base, path, value).items() if k == path[0]}
                yield endpoint, f"{endpoint.url()}?{urlencode(query)}", {}


def test_hostile_api_query_fields_never_make_a_server_error(app: Flask, world: World) -> None:
    errors = _server_errors(world, _api_query_calls(app), 150)
    assert not errors, "\n".join(errors)


def _json_calls(app: Flask) -> Iterator[tuple[Endpoint, str, dict[str, Any]]]:
    """Each field of each API body, one at a time, with values hostile to its type; the others plausible."""
    by_name = {f"api.{r.name}": r for r in ROUTES}
    for endpoint in endpoints(app):
        route = by_name.get(endpoint.endpoint)
        if route is None or route.body is None:
            continue
        base = plausible_body(route.body)
        for path, kind in leaves(route.body):
            values: tuple[Any, ...] = {"date": BAD_DATES, "date-time": BAD_TIMES}.get(kind, ())
            if kind == "integer":
                values = (4294967296, 99999999999999999999)
            for value in values:
                yield endpoint, endpoint.url(), {"json": replaced(base, path, value)}
        yield endpoint, endpoint.url(), {"json": {**base, NUL: NUL}}


def test_hostile_json_bodies_never_make_a_server_error(app: Flask, world: World, session: Session) -> None:
    errors = _server_errors(world, _json_calls(app), 100)
    assert not errors, "\n".join(errors)


def _page_forms(app: Flask, world: World) -> Iterator[tuple[str, str, dict[str, str], dict[str, str]]]:
    """Every form on every page an admin can open: (action, method, fields, input types)."""
    seen = set()
    for endpoint in endpoints(app):
        if endpoint.is_api or endpoint.method != "GET" or endpoint.endpoint in ("static", "handheld.service_worker"):
            continue
        url = endpoint.url(fmt="csv")
        response = world.browser.client.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        page = Page(response)
        for form in page.forms:
            action = form.action or url
            key = (action.split("?")[0], form.method, tuple(sorted(form.fields)))
            if key in seen or action == "/logout":
                continue
            seen.add(key)
            types = {name: page.controls[name].attrs.get("type", page.controls[name].tag)
                     for name in form.fields if name in page.controls}
            yield action, form.method, dict(form.fields), types


def _hostile_for(name: str, kind: str) -> tuple[str, ...]:
    if kind.startswith("datetime") or name.endswith("_at"):
        return BAD_TIMES
    if kind == "date" or name in ("from", "to", "on") or name.endswith(("_on", "_date", "expiry", "_by")):
        return BAD_DATES
    if kind in ("number", "select", "hidden") or name.endswith(("id", "page", "quantity")):
        return HUGE_IDS
    return ()


def test_hostile_form_fields_never_make_a_server_error(app: Flask, world: World) -> None:
    errors = []
    client = world.browser.client
    forms = list(_page_forms(app, world))
    assert len(forms) >= 30, f"only {len(forms)} forms found: the walk no longer reaches the pages"
    for action, method, fields, types in forms:
        variants = [{**fields, name: value} for name in fields if name != "csrf_token"
                    for value in _hostile_for(name, types.get(name, "text"))]
        variants.append({**fields, next((n for n in fields if n != "csrf_token"), "x"): NUL})
        for data in variants:
            try:
                if method == "get":
                    status = client.get(action.split("?")[0], query_string=data).status_code
                else:
                    status = client.post(action, data={**data, "csrf_token": world.csrf}).status_code
            except Exception as exc:
                status, data = 500, {**data, "raised": repr(exc)[:200]}
            if status >= 500:
                errors.append(f"{method} {action} {data} → {status}")
    assert not errors, "\n".join(errors)


# --- the server errors found in the wild, each by name ------------------------------------------------


def test_remembering_a_gtin_with_a_wrong_check_digit_is_a_422_naming_gtin(world: World, kitchen: dict[str, Any],
                                                                          session: Session) -> None:
    before = snapshot(session)
    err = refused(world.api.post("/scans/remember-gtin", {"product_id": kitchen["JAM-RASP"], "gtin": "4006381333932"}),
                  422, "gtin")
    assert "check digit" in err["message"]
    assert snapshot(session) == before


@pytest.mark.parametrize("value", BAD_DATES)
def test_a_waste_report_from_a_date_out_of_range_says_so(world: World, value: str) -> None:
    page = Page(world.browser.client.get(f"/reports/waste?from={value}&to=2026-06-30"))
    assert page.status == 422
    assert "From" in page.alerts[0] and "1900-01-01" in page.alerts[0]
    for path in ("/reports/waste.csv", "/reports/waste.xlsx"):
        assert world.browser.client.get(f"{path}?from={value}&to=2026-06-30").status_code == 422
    refused(world.api.get(f"/reports/waste?from={value}&to=2026-06-30"), 422, "from")


def test_a_lot_id_beyond_any_integer_is_not_found(world: World) -> None:
    page = Page(world.browser.client.get("/lots/99999999999999999999"))
    assert page.status == 404 and "does not exist" in page.text
    refused(world.api.get("/lots/99999999999999999999"), 404, "lot_id", "not_found")


def test_an_absurd_page_number_is_refused_and_a_page_past_the_end_is_not_found(world: World) -> None:
    page = Page(world.browser.client.get("/orders?page=99999999999999999999"))
    assert page.status == 422 and "is not a page number" in page.alerts[0]
    for bad in ("0", "-1", "two"):
        assert world.browser.client.get(f"/orders?page={bad}").status_code == 422
    past = Page(world.browser.client.get("/orders?page=5"))
    assert past.status == 404 and "page 5" in past.text
    assert world.browser.client.get("/orders?page=1").status_code == 200
    refused(world.api.get("/orders?offset=99999999999999999999"), 422, "offset")
    assert world.api.get("/orders?offset=1000").json == []


def test_a_nul_in_a_search_is_a_400_naming_the_field(world: World) -> None:
    refused(world.api.get("/products?q=a%00b"), 400, "q", "bad_request")
    page = Page(world.browser.client.get("/products?q=a%00b"))
    assert page.status == 400 and "q must not contain NUL characters" in page.text


def test_a_nul_in_a_digital_link_is_a_400(world: World) -> None:
    page = Page(world.browser.client.get("/01/09506000134352/10/AB%00C"))
    assert page.status == 400 and "lot_code must not contain NUL characters" in page.text


def test_a_nul_in_the_login_user_name_is_a_400(client: FlaskClient) -> None:
    anonymous = Browser(client.application.test_client())
    page = anonymous.post("/login", {"csrf_token": anonymous.csrf(), "username": "ro\x00ot", "password": "x"})
    assert page.status == 400 and "username must not contain NUL characters" in page.text


def test_a_lot_id_beyond_32_bits_in_the_query_is_refused(world: World) -> None:
    refused(world.api.get("/write-offs?lot_id=4294967296"), 422, "lot_id")
    refused(world.api.get(f"/exports/fsma204.csv?from={TODAY}&to={TODAY}&lot_id=1,4294967296"), 422, "lot_id")
    page = Page(world.browser.client.get("/trace?lot_id=4294967296"))
    assert page.status == 422 and "4294967296' is not the id of anything" in page.alerts[0]
    assert world.browser.client.get("/labels/print?lot_id=4294967296").status_code in (404, 422)


def test_a_nul_in_a_json_body_names_the_field_and_books_nothing(world: World, kitchen: dict[str, Any],
                                                                session: Session) -> None:
    before = snapshot(session)
    refused(world.api.post("/receipts", {"supplier_id": kitchen["supplier"], "lines": [
        {"sku": "RASP", "quantity": "1", "location": "RCV", "supplier_lot_code": "A\x00B"}]}), 400,
        "lines.0.supplier_lot_code", "bad_request")
    refused(world.api.post("/receipts", {"supplier_id": kitchen["supplier"], "no\x00te": "x"}), 400, "no\\0te")
    assert snapshot(session) == before


def test_a_json_body_nested_too_deeply_is_a_400_not_a_crash(world: World, session: Session) -> None:
    before = snapshot(session)
    for body in ("[" * 100_000, '{"a":' * 5000 + "1" + "}" * 5000):
        r = world.client.post("/api/v1/receipts", data=body, content_type="application/json",
                              headers=world.api.headers)
        err = refused(r, 400, None, "bad_request")
        assert "nested too deeply" in err["message"]
    assert snapshot(session) == before

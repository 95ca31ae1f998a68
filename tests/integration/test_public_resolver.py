"""The public GS1 Digital Link resolver: a lot's page without a login, its recall notice, the RFC 9264 linkset,
the recall status, the resolver description, GTIN forms, 404s that tell nothing, the switch and the rate limit."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.models import Role
from app.schemas.common import gtin_ok
from tests.helpers.api import TODAY, Api
from tests.helpers.pages import Browser, Page, user
from tests.helpers.recall_case import Case, build

GTIN = "09501101530003"
J1 = f"/01/{GTIN}/10/J1"
GS1 = "https://gs1.org/voc/"

# RFC 9264, section 4.2: a linkset is an array of link context objects, each an anchor and, per relation type,
# an array of target objects that each carry an href; target attributes are strings, hreflang an array.
LINKSET_SCHEMA = {
    "type": "object", "required": ["linkset"], "additionalProperties": False,
    "properties": {"linkset": {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["anchor"],
        "properties": {"anchor": {"type": "string", "format": "uri"}},
        "additionalProperties": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["href"],
            "properties": {"href": {"type": "string", "format": "uri-reference"}, "type": {"type": "string"},
                           "title": {"type": "string"}, "hreflang": {"type": "array", "items": {"type": "string"}}},
        }},
    }}},
}

# What the public must never see: customers, suppliers and their lots, locations, costs, order numbers.
PRIVATE = ["Corner Deli", "Big Box", "Farm Shop", "Cafe Uno", "Berry Farm", "Sugar Co", "RB-7731", "Dev Patel",
           "KITCHEN", "COLD-01", "DRY-01", "4.20", "SO-0", "SH-0", "glass fragment", "RASP", "@deli.example"]


@pytest.fixture
def case(api: Api, site: dict[str, Any], session: Session, app: Flask) -> Case:
    app.config.update(COMPANY_NAME="Jam Co", COMPANY_CONTACT="+44 1632 960999 · care@jam.example",
                      BASE_URL="https://lots.example")
    return build(api, site, session)


@pytest.fixture
def anonymous(client: FlaskClient) -> Browser:
    return Browser(client.application.test_client())


def _recall(api: Api) -> dict[str, Any]:
    r = api.post("/recalls", {"lots": [{"sku": "JAM-RASP", "lot_code": "J1"}], "reason": "glass fragment"})
    assert r.status_code == 201, r.json
    return dict(r.json)


def _private_in(page: Page) -> list[str]:
    return [word for word in PRIVATE if word in page.html]


def _first_heading(page: Page) -> str:
    body = page.html.split("<body>", 1)[1]
    m = re.search(r"<h1[^>]*>(.*?)</h1>", body, re.S)
    assert m
    return " ".join(m.group(1).split())


def test_a_lot_page_without_a_recall_shows_the_product_and_nothing_private(
        anonymous: Browser, case: Case) -> None:
    page = anonymous.get(J1)
    assert page.status == 200
    assert _first_heading(page) == "Raspberry jam 340 g"
    assert "No recall for this lot." in page.text
    assert "Lot J1" in page.text
    assert re.search(r"Best before / use by \d{4}-\d{2}-\d{2}", page.text)
    assert "Made by Jam Co" in page.text and "+44 1632 960999" in page.text
    assert _private_in(page) == []
    assert "Set-Cookie" not in page.response.headers  # no session for a passer-by
    assert 'class="nav"' not in page.html and "/lots/" not in page.html
    assert page.response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert "style=" not in page.html and "<script" not in page.html


def test_a_recalled_lot_says_so_first_and_the_product_page_lists_it(
        anonymous: Browser, api: Api, case: Case) -> None:
    _recall(api)
    page = anonymous.get(J1)
    assert page.status == 200
    assert _first_heading(page) == "Recalled: do not eat or use this product."
    assert "Return it to the shop where you bought it" in page.text
    assert "Questions: +44 1632 960999" in page.text
    assert _private_in(page) == []
    # J2 was made from the same raspberries but is not in this (forward) recall.
    assert "No recall for this lot." in anonymous.get(f"/01/{GTIN}/10/J2").text

    page = anonymous.get(f"/01/{GTIN}")
    assert page.status == 200
    assert _first_heading(page) == "Recall: some lots of this product must not be eaten or used."
    assert re.search(r"J1 \(best before / use by \d{4}-\d{2}-\d{2}\)", page.text)
    assert "J2" not in page.text and _private_in(page) == []


def test_staff_get_a_link_to_the_lot_page(client: FlaskClient, session: Session, case: Case) -> None:
    viewer = user(client, session, "vera", Role.VIEWER)
    page = viewer.get(J1)
    assert page.status == 200 and f'href="/lots/{case.j1}"' in page.html
    # The older labels of products without a GTIN still open the lot for staff.
    r = viewer.get("/240/GIFT/10/GB1")
    assert r.status == 302 and r.location == f"/lots/{case.gb1}"


def test_every_gtin_form_resolves_and_a_wrong_one_tells_nothing(
        anonymous: Browser, api: Api, case: Case) -> None:
    assert anonymous.get(f"/01/{GTIN.lstrip('0')}/10/J1").status == 200  # GTIN-13
    for code in ("036000291452", "96385074"):  # a GTIN-12 and a GTIN-8 product
        assert gtin_ok(code)
        r = api.post("/products", {"sku": f"P{code}", "name": f"Product {code}", "kind": "product", "unit": "ea",
                                   "gtin": code})
        assert r.status_code == 201, r.json
        assert anonymous.get(f"/01/{code}").status == 200
        assert anonymous.get(f"/01/{code.zfill(14)}").status == 200
    unknown = [anonymous.get(path) for path in (
        f"/01/{GTIN[:-1]}4/10/J1",  # wrong check digit
        "/01/09506000134352/10/J1",  # a GTIN nobody here uses
        f"/01/{GTIN}/10/NOPE",  # an unknown lot
        "/01/abc/10/J1", "/01/123/10/J1")]
    assert {p.status for p in unknown} == {404}
    assert len({p.html for p in unknown}) == 1, "every unknown code gets the same answer"
    assert "We do not know this product code" in unknown[0].text and "Raspberry" not in unknown[0].text


def test_the_linkset_has_rfc_9264_shape_and_gs1_link_types(anonymous: Browser, api: Api, case: Case) -> None:
    by_query = anonymous.client.get(J1 + "?linkType=all")
    by_accept = anonymous.client.get(J1, headers={"Accept": "application/linkset+json"})
    for r in (by_query, by_accept):
        assert r.status_code == 200 and r.mimetype == "application/linkset+json"
        assert r.headers["Access-Control-Allow-Origin"] == "*"
    doc = by_query.get_json(force=True)
    assert doc == by_accept.get_json(force=True)
    jsonschema.validate(doc, LINKSET_SCHEMA, format_checker=jsonschema.FormatChecker())
    (context,) = doc["linkset"]
    anchor = "https://lots.example" + J1
    assert context["anchor"] == anchor
    assert set(context) == {"anchor", GS1 + "pip", GS1 + "defaultLink", GS1 + "recallStatus"}
    pip = context[GS1 + "pip"][0]
    assert pip == {"href": anchor, "title": "Raspberry jam 340 g, lot J1", "type": "text/html", "hreflang": ["en"]}
    assert context[GS1 + "recallStatus"][0]["href"] == anchor + "?linkType=gs1:recallStatus"
    # A browser asking for HTML first gets the page, with the links in a Link header.
    page = anonymous.client.get(J1, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.mimetype == "text/html"
    assert f'<{anchor}?linkType=all>; rel="linkset"; type="application/linkset+json"' in page.headers["Link"]
    assert f'rel="{GS1}recallStatus"' in page.headers["Link"]


def test_the_recall_status_link_answers_before_and_after_a_recall(anonymous: Browser, api: Api, case: Case) -> None:
    r = anonymous.client.get(J1 + "?linkType=gs1:recallStatus")
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.json == {"@id": "https://lots.example" + J1, "gtin": GTIN, "productName": "Raspberry jam 340 g",
                      "recalled": False, "lot": "J1", "recall": None}
    number = _recall(api)["number"]
    status = anonymous.client.get(J1 + "?linkType=gs1:recallStatus").json
    assert status["recalled"] is True and status["recall"]["number"] == number
    assert status["recall"]["since"] == TODAY.isoformat()
    assert "glass" not in str(status)  # the internal reason stays inside


def test_the_resolver_describes_itself(anonymous: Browser, case: Case) -> None:
    r = anonymous.client.get("/.well-known/gs1resolver")
    assert r.status_code == 200 and r.mimetype == "application/json"
    doc = r.json
    assert doc["resolverRoot"] == "https://lots.example"
    assert doc["supportedPrimaryKeys"] == ["01"]
    assert doc["linkTypeDefaultCanBeLinkset"] is True
    assert doc["supportedLinkType"] == [{"namespace": GS1, "prefix": "gs1:"}]


def test_the_public_pages_can_be_switched_off(app: Flask, anonymous: Browser, case: Case) -> None:
    app.config["PUBLIC_PAGES"] = False
    for path in (J1, f"/01/{GTIN}", "/.well-known/gs1resolver", "/answer/" + "x" * 43):
        page = anonymous.get(path)
        assert page.status == 404, path
        assert "Raspberry" not in page.text


def test_too_many_requests_from_one_address_wait(app: Flask, anonymous: Browser, case: Case) -> None:
    app.config.update(PUBLIC_MAX_REQUESTS=3, PUBLIC_WINDOW_SECONDS=60)
    assert [anonymous.get(J1).status for _ in range(3)] == [200, 200, 200]
    page = anonymous.get(J1)
    assert page.status == 429
    assert 0 < int(page.response.headers["Retry-After"]) <= 60
    assert "Too many requests from your address; try again in" in page.text
    assert anonymous.get("/01/09506000134352").status == 429  # an unknown code counts the same
    other = Browser(anonymous.client.application.test_client())
    assert other.client.get(J1, environ_base={"REMOTE_ADDR": "10.9.8.7"}).status_code == 200

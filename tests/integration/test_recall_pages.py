"""Trace, recall and drill pages: forms with CSRF, trees, errors in red (never a 500), exports linked."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.models import Role
from tests.helpers.api import Api, make_user
from tests.helpers.recall_case import Case, build

PASSWORD = "correct horse 1"


@pytest.fixture
def case(api: Api, site: dict[str, Any], session: Session) -> Case:
    return build(api, site, session)


def _token(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1)


def login(client: FlaskClient, session: Session, role: Role) -> None:
    name = f"page-{role.value}"
    make_user(session, name, role, PASSWORD)
    r = client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": _token(client)})
    assert r.status_code == 302


def _text(r: Any) -> str:
    return str(r.get_data(as_text=True))


def test_the_trace_page_shows_both_trees_with_counts(client: FlaskClient, session: Session, case: Case) -> None:
    login(client, session, Role.VIEWER)
    assert "Trace" in _text(client.get("/"))
    r = client.get("/trace?q=RB-7731")
    assert r.status_code == 200
    page = _text(r)
    assert "<details" in page and "Forward: products and customers" in page
    for text in ("J1", "J2", "GB1", "Corner Deli", "Big Box", "Farm Shop", "Cafe Uno", "3 lots", "4 customers",
                 "Berry Farm"):
        assert text in page, text
    assert "Open a recall" not in page  # viewers may trace but not recall


@pytest.mark.parametrize(("query", "status", "message"), [
    ("q=NOPE-123", 404, "nothing known as"),
    ("sku=JAM-RASP&from=2026-02-01&to=2026-01-01", 422, "backwards"),
    ("q=09501101530003", 422, "without a lot"),
])
def test_trace_errors_are_shown_in_red(client: FlaskClient, session: Session, case: Case, query: str,
                                       status: int, message: str) -> None:
    login(client, session, Role.VIEWER)
    r = client.get(f"/trace?{query}")
    assert r.status_code == status
    page = _text(r)
    assert 'role="alert"' in page and message in page.lower()


def test_open_notify_and_close_a_recall_through_the_pages(client: FlaskClient, session: Session, case: Case) -> None:
    login(client, session, Role.MANAGER)
    token = _token(client, "/recalls/new")
    # Missing reason: refused, shown in red, nothing recalled.
    r = client.post("/recalls/new", data={"csrf_token": token, "lots": "JAM-RASP / J1", "scope": "upstream",
                                          "via": "RB-7731", "reason": ""})
    assert r.status_code == 422 and 'role="alert"' in _text(r)
    r = client.post("/recalls/new", data={"csrf_token": token, "lots": "JAM-RASP / J1", "scope": "upstream",
                                          "via": "RB-7731", "reason": "glass fragment"})
    assert r.status_code == 302, _text(r)
    detail = r.headers["Location"]
    page = _text(client.get(detail))
    for text in ("Recall RC-000001", "Corner Deli", "Dev Patel", "+44 1632 960002", "dev@deli.example", "1 High St",
                 "Mass balance", "RB-7731", "Not yet notified", "export.pdf", "export.xlsx", "export.csv"):
        assert text in page, text
    assert client.get("/api/v1/recalls/1/export.pdf").status_code == 200  # the page's session downloads it

    rid = detail.rsplit("/", 1)[-1]
    r = client.post(f"/recalls/{rid}/notifications", data={"csrf_token": token, "customer_id": str(case.bigbox),
                                                          "method": "phone", "quantity_returned": "500"})
    assert r.status_code == 409 and 'role="alert"' in _text(r)
    r = client.post(f"/recalls/{rid}/notifications", data={
        "csrf_token": token, "customer_id": str(case.bigbox), "method": "phone", "contact": "Store manager",
        "response": "pulled", "quantity_returned": "120", "quantity_destroyed": "0",
        "notified_at": "2026-01-05T10:30"})
    assert r.status_code == 302
    assert "Store manager" in _text(client.get(detail))

    r = client.post(f"/recalls/{rid}/close", data={"csrf_token": token, "outcome": "", "reason": "done"})
    assert r.status_code == 422 and 'role="alert"' in _text(r)
    r = client.post(f"/recalls/{rid}/close", data={"csrf_token": token, "outcome": "keep_recalled",
                                                  "reason": "destroyed"})
    assert r.status_code == 302
    page = _text(client.get(detail))
    assert "keep recalled" in page and "Close recall" not in page
    r = client.post(f"/recalls/{rid}/close", data={"csrf_token": token, "outcome": "release", "reason": "again"})
    assert r.status_code == 409
    assert "RC-000001" in _text(client.get("/recalls"))


def test_forms_need_the_csrf_token(client: FlaskClient, session: Session, case: Case) -> None:
    login(client, session, Role.MANAGER)
    r = client.post("/recalls/new", data={"lots": "JAM-RASP / J1", "reason": "x"})
    assert r.status_code == 400
    assert client.get(f"/api/v1/lots/{case.j1}").json["status"] == "released"
    assert client.get("/api/v1/recalls").json == []


def test_operators_cannot_open_recalls_and_unknown_recalls_are_404(client: FlaskClient, session: Session,
                                                                   case: Case) -> None:
    login(client, session, Role.OPERATOR)
    assert client.get("/recalls/new").status_code == 403
    assert client.get("/recalls/999").status_code == 404
    assert client.get("/recalls/drills/999").status_code == 404


def test_a_drill_from_the_pages(client: FlaskClient, session: Session, case: Case) -> None:
    login(client, session, Role.MANAGER)
    token = _token(client, "/recalls/drills/new")
    r = client.post("/recalls/drills/new", data={"csrf_token": token, "lots": "", "scope": "forward"})
    assert r.status_code == 422 and 'role="alert"' in _text(r)
    r = client.post("/recalls/drills/new", data={"csrf_token": token, "lots": "(01)09501101530003(10)J1",
                                                 "scope": "forward", "reason": ""})
    assert r.status_code == 302
    page = _text(client.get(r.headers["Location"]))
    assert "Mock recall MD-000001" in page and "nothing was put on hold" in page and "Farm Shop" in page
    history = _text(client.get("/recalls/drills"))
    assert "MD-000001" in history and "0 days ago" in history

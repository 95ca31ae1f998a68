"""Who may call the API: bearer tokens, roles, browser sessions with their CSRF header, session cookies."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.api import ROUTES, openapi_path
from app.db import utcnow
from app.models import ROLE_RANK, ApiToken, Movement, Role, ScanEvent, User, WebSession
from app.services.throttle import Policy
from app.services.users import TokenCache, revoke_token, user_for_token
from app.sessions import COOKIE, NoSession
from tests.helpers.api import Api, make_token, make_user
from tests.helpers.bookings import receive, refused, snapshot

PASSWORD = "correct horse 1"


def _receipt(site: dict[str, Any]) -> dict[str, Any]:
    return {"supplier_id": site["supplier"], "lines": [{"sku": "RASP", "quantity": "1", "location": "RCV"}]}


# --- bearer tokens ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/lots", "/api/v1/receipts", "/api/openapi.json"])
def test_no_credentials_get_a_json_401(client: FlaskClient, path: str) -> None:
    r = client.get(path)
    refused(r, 401, None, "unauthorized")
    assert r.content_type == "application/json"


@pytest.mark.parametrize("header", ["Bearer lw_not-a-real-token", "Bearer ", "Bearer", "Basic YWRtaW46eA==",
                                    "lw_no_scheme"])
def test_a_wrong_token_or_scheme_gets_401(client: FlaskClient, site: dict[str, Any], session: Session,
                                         header: str) -> None:
    before = snapshot(session)
    for r in (client.get("/api/v1/lots", headers={"Authorization": header}),
              client.post("/api/v1/receipts", json=_receipt(site), headers={"Authorization": header})):
        refused(r, 401, None, "unauthorized")
    assert snapshot(session) == before


def test_a_401_says_how_to_authenticate(client: FlaskClient) -> None:
    for path in ["/api/v1/lots", "/api/openapi.json"]:
        assert client.get(path).headers["WWW-Authenticate"].startswith("Bearer")


def test_the_bearer_scheme_is_case_insensitive(client: FlaskClient, session: Session) -> None:
    token = make_token(session, "clerk", Role.OPERATOR)
    for scheme in ("Bearer", "bearer", "BEARER"):
        assert client.get("/api/v1/lots", headers={"Authorization": f"{scheme} {token}"}).status_code == 200


def test_a_revoked_token_stops_working(client: FlaskClient, session: Session) -> None:
    token = make_token(session, "clerk", Role.OPERATOR)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/lots", headers=headers).status_code == 200
    revoke_token(session, session.scalar(select(ApiToken.id).where(ApiToken.prefix == token[:10])))
    err = refused(client.get("/api/v1/lots", headers=headers), 401, None, "unauthorized")
    assert "revoked" in err["message"]


def test_the_token_of_a_deactivated_user_stops_working(client: FlaskClient, session: Session) -> None:
    token = make_token(session, "leaver", Role.MANAGER)
    session.execute(update(User).where(User.username == "leaver").values(active=False))
    session.commit()
    refused(client.get("/api/v1/lots", headers={"Authorization": f"Bearer {token}"}), 401, None)


class CacheClock:
    """The token cache's clock (seconds), moved on by the test instead of by sleeping."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds


@pytest.fixture
def cache_clock(app: Flask) -> CacheClock:
    fake = CacheClock()
    app.extensions["lotwise.tokens"] = TokenCache(app.config["TOKEN_CACHE_SECONDS"], clock=fake)
    return fake


def test_a_token_revoked_by_another_server_stops_working_within_seconds(client: FlaskClient, session: Session,
                                                                         cache_clock: CacheClock) -> None:
    token = make_token(session, "clerk", Role.OPERATOR)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/lots", headers=headers).status_code == 200
    # What `lotwise token revoke` in another process, or another worker, writes.
    session.execute(update(ApiToken).values(revoked_at=utcnow()))
    session.commit()
    cache_clock.seconds += 5
    err = refused(client.get("/api/v1/lots", headers=headers), 401, None, "unauthorized")
    assert "revoked" in err["message"]


def test_a_user_deactivated_or_demoted_elsewhere_loses_access_within_seconds(client: FlaskClient, session: Session,
                                                                           cache_clock: CacheClock) -> None:
    leaver, mover = make_token(session, "leaver", Role.OPERATOR), make_token(session, "mover", Role.MANAGER)
    for token in (leaver, mover):
        assert client.get("/api/v1/lots", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    session.execute(update(User).where(User.username == "leaver").values(active=False))
    session.execute(update(User).where(User.username == "mover").values(role=Role.VIEWER))
    session.commit()
    cache_clock.seconds += 5
    refused(client.get("/api/v1/lots", headers={"Authorization": f"Bearer {leaver}"}), 401, None)
    refused(client.post("/api/v1/customers", json={"name": "Shop"}, headers={"Authorization": f"Bearer {mover}"}),
            403, None, "forbidden")


def test_a_known_token_books_as_its_user(api: Api, site: dict[str, Any], session: Session,
                                         cache_clock: CacheClock) -> None:
    """The second receipt is booked with the token known from the first: both name the same user."""
    for _ in range(2):
        assert api.post("/receipts", _receipt(site)).status_code == 201
    users = session.scalars(select(Movement.user_id)).all()
    admin = session.scalar(select(User.id).where(User.username == "admin"))
    assert len(users) == 2 and set(users) == {admin}


def test_a_known_token_scans_as_its_user(api: Api, session: Session, cache_clock: CacheClock) -> None:
    """A scan with a token known from an earlier call logs its user, as the first one did: the user is not read
    again, and need not join the scan's session to be named."""
    for raw in ("RASP", "SUGAR", "NOTHING-KNOWN"):
        assert api.post("/scans/parse", {"raw": raw}).status_code == 200
    users = session.scalars(select(ScanEvent.user_id).order_by(ScanEvent.id)).all()
    admin = session.scalar(select(User.id).where(User.username == "admin"))
    assert users == [admin, admin, admin]


def test_a_known_token_s_user_joins_the_session_unless_the_call_only_reads_and_logs(
        app: Flask, session: Session, cache_clock: CacheClock) -> None:
    cache = app.extensions["lotwise.tokens"]
    token = make_token(session, "picker", Role.OPERATOR)
    policy = Policy.from_config(app.config)
    now = utcnow()
    first = user_for_token(session, token, address="10.0.0.9", now=now, policy=policy, cache=cache)
    assert first is not None and first in session  # read from the database: an object of the session
    for attach in (True, False):
        factory = app.extensions["lotwise.sessions"]
        with factory() as request_session:
            user = user_for_token(request_session, token, address="10.0.0.9", now=now, policy=policy, cache=cache,
                                  attach=attach)
            assert user is not None
            assert (user.id, user.username, user.role, user.active) == (first.id, "picker", Role.OPERATOR, True)
            assert (user in request_session) is attach


def test_wrong_tokens_are_never_remembered(client: FlaskClient, session: Session, cache_clock: CacheClock) -> None:
    """Each wrong token is read and counted against its address, however often the same one is sent."""
    wrong = {"Authorization": "Bearer lw_not-a-real-token"}
    for _ in range(19):
        refused(client.get("/api/v1/lots", headers=wrong), 401, None, "unauthorized")
    refused(client.get("/api/v1/lots", headers=wrong), 429, None, "too_many_attempts")


def test_tokens_are_stored_only_as_hashes(session: Session) -> None:
    token = make_token(session, "clerk", Role.OPERATOR)
    row = session.scalars(select(ApiToken)).one()
    assert token not in (row.token_hash, row.prefix) and len(row.token_hash) == 64


# --- roles -----------------------------------------------------------------------------------


def test_a_viewer_reads_but_cannot_book(api_as: Any, site: dict[str, Any], session: Session) -> None:
    viewer = api_as(Role.VIEWER)
    for path in ["/lots", "/receipts", "/orders", "/products", "/locations", "/customers"]:
        assert viewer.get(path).status_code == 200, path
    before = snapshot(session)
    err = refused(viewer.post("/receipts", _receipt(site)), 403, None, "forbidden")
    assert "operator" in err["message"] and "viewer" in err["message"]
    refused(viewer.post("/orders", {}), 403, None, "forbidden")
    assert snapshot(session) == before


def test_an_operator_books_but_cannot_change_master_data(api_as: Any, site: dict[str, Any],
                                                         session: Session) -> None:
    operator = api_as(Role.OPERATOR)
    assert operator.post("/receipts", _receipt(site)).status_code == 201
    before = snapshot(session)
    refused(operator.post("/products", {"sku": "NEW", "name": "New"}), 403, None, "forbidden")
    refused(operator.patch(f"/products/{site['RASP']}", {"name": "x"}), 403, None, "forbidden")
    refused(operator.post("/customers", {"name": "Shop"}), 403, None, "forbidden")
    refused(operator.post("/locations", {"code": "X", "name": "X", "warehouse": "MAIN"}), 403, None)
    assert snapshot(session) == before


def test_an_operator_holds_a_lot_but_only_a_manager_releases_it(api: Api, api_as: Any,
                                                                site: dict[str, Any]) -> None:
    lot_id = receive(api, site["supplier"], "RASP", "5")["lot_id"]
    operator, manager = api_as(Role.OPERATOR), api_as(Role.MANAGER)
    assert operator.post(f"/lots/{lot_id}/hold", {"reason": "smells off"}).status_code == 200
    refused(operator.post(f"/lots/{lot_id}/release", {"reason": "fine"}), 403, None, "forbidden")
    assert api.get(f"/lots/{lot_id}").json["status"] == "hold"
    assert manager.post(f"/lots/{lot_id}/release", {"reason": "lab says fine"}).json["status"] == "released"


def test_a_manager_creates_master_data(api_as: Any, site: dict[str, Any]) -> None:
    manager = api_as(Role.MANAGER)
    assert manager.post("/products", {"sku": "NEW", "name": "New"}).status_code == 201
    assert manager.post("/suppliers", {"name": "New Farm"}).status_code == 201
    assert manager.post("/customers", {"name": "Shop"}).status_code == 201
    assert manager.post("/warehouses", {"code": "W2", "name": "Second"}).status_code == 201
    assert manager.post("/locations", {"code": "W2-1", "name": "One", "warehouse": "W2"}).status_code == 201


_BELOW = {role: next((r for r, rank in ROLE_RANK.items() if rank == ROLE_RANK[role] - 1), None)
          for role in Role}


@pytest.mark.parametrize("role", sorted({r.role for r in ROUTES} - {Role.VIEWER}, key=ROLE_RANK.__getitem__))
def test_every_route_refuses_the_role_just_below_its_own(client: FlaskClient, session: Session,
                                                         role: Role) -> None:
    below = _BELOW[role]
    assert below is not None
    token = make_token(session, f"just-below-{role.value}", below)
    routes = [r for r in ROUTES if r.role is role]
    assert routes
    allowed = []
    for route in routes:
        path = "/api/v1" + re.sub(r"\{\w+\}", "1", openapi_path(route.rule))
        r = client.open(path, method=route.method, json={}, headers={"Authorization": f"Bearer {token}"})
        if r.status_code != 403 or r.json["error"]["code"] != "forbidden":
            allowed.append(f"{route.method} {route.rule} answered {r.status_code} to a {below.value}")
    assert allowed == []


# --- browser sessions ------------------------------------------------------------------------


def _csrf(client: FlaskClient) -> str:
    page = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf[-_]token"\s+(?:content|value)="([^"]+)"', page)
    assert match, "the login page carries a CSRF token"
    return match.group(1)


def _login(client: FlaskClient, username: str, password: str = PASSWORD) -> Any:
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": _csrf(client)})


def _sid(client: FlaskClient) -> str | None:
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie else None


def _sessions(session: Session) -> int:
    session.commit()
    return session.scalar(select(func.count()).select_from(WebSession)) or 0


def test_a_logged_in_browser_reads_the_api_with_its_cookie(client: FlaskClient, session: Session) -> None:
    make_user(session, "ann", Role.VIEWER)
    r = _login(client, "ann")
    assert r.status_code == 302, r.get_data(as_text=True)
    assert client.get("/api/v1/lots").status_code == 200


def test_a_browser_post_needs_the_csrf_header(client: FlaskClient, site: dict[str, Any],
                                              session: Session) -> None:
    make_user(session, "clerk", Role.OPERATOR)
    assert _login(client, "clerk").status_code == 302
    before = snapshot(session)
    for headers in ({}, {"X-CSRFToken": "forged"}):
        r = client.post("/api/v1/receipts", json=_receipt(site), headers=headers)
        assert r.status_code in (400, 403), r.status_code
        assert r.content_type == "application/json"
        assert r.json["error"]["field"] == "X-CSRFToken" and r.json["error"]["message"]
    assert snapshot(session) == before
    r = client.post("/api/v1/receipts", json=_receipt(site), headers={"X-CSRFToken": _csrf(client)})
    assert r.status_code == 201, r.json


def test_a_token_call_from_a_logged_in_browser_is_its_token_user_and_leaves_the_page_session_alone(
        client: FlaskClient, site: dict[str, Any], session: Session) -> None:
    make_user(session, "ann", Role.VIEWER)
    assert _login(client, "ann").status_code == 302
    sid, rows = _sid(client), _sessions(session)
    token = make_token(session, "clerk", Role.OPERATOR)
    # The token decides: the viewer's cookie neither lends its role nor asks for a CSRF header.
    r = client.post("/api/v1/receipts", json=_receipt(site), headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.json
    assert "Set-Cookie" not in r.headers and r.headers["X-Frame-Options"] == "DENY"
    assert client.post("/api/v1/receipts", json=_receipt(site)).status_code in (400, 403)  # the cookie still needs it
    assert _sid(client) == sid and _sessions(session) == rows
    assert client.get("/api/v1/lots").status_code == 200  # the page session is still there
    with pytest.raises(RuntimeError):
        NoSession()["uid"] = 1


def test_the_session_cookie_is_httponly_and_samesite_lax(client: FlaskClient, session: Session) -> None:
    make_user(session, "ann", Role.VIEWER)
    r = _login(client, "ann")
    cookies = [c for c in r.headers.getlist("Set-Cookie") if c.startswith(COOKIE + "=")]
    assert len(cookies) == 1
    attributes = {part.strip().split("=")[0].lower(): part for part in cookies[0].split(";")}
    assert "httponly" in attributes
    assert attributes["samesite"].strip().lower() == "samesite=lax"
    assert attributes["path"].strip() == "Path=/"
    assert "secure" not in attributes  # plain HTTP here; "auto" marks it Secure over HTTPS
    https = client.get("/login", base_url="https://localhost")
    assert any("Secure" in c for c in https.headers.getlist("Set-Cookie") if c.startswith(COOKIE + "="))


def test_the_session_id_changes_at_login(client: FlaskClient, session: Session) -> None:
    make_user(session, "ann", Role.VIEWER)
    token = _csrf(client)
    anonymous = _sid(client)
    assert anonymous
    client.post("/login", data={"username": "ann", "password": PASSWORD, "csrf_token": token})
    logged_in = _sid(client)
    assert logged_in and logged_in != anonymous
    assert _sessions(session) == 1  # the anonymous session is gone from the server
    client.set_cookie(COOKIE, anonymous)
    refused(client.get("/api/v1/lots"), 401, None, "unauthorized")


def test_a_session_id_planted_before_login_is_never_used(client: FlaskClient, session: Session) -> None:
    make_user(session, "ann", Role.VIEWER)
    client.set_cookie(COOKIE, "attacker-chosen-id")
    assert _login(client, "ann").status_code == 302
    assert _sid(client) != "attacker-chosen-id"
    other = client.application.test_client()
    other.set_cookie(COOKIE, "attacker-chosen-id")
    refused(other.get("/api/v1/lots"), 401, None)


def test_logout_deletes_the_session_on_the_server(client: FlaskClient, session: Session) -> None:
    make_user(session, "ann", Role.VIEWER)
    _login(client, "ann")
    sid = _sid(client)
    assert sid and client.get("/api/v1/lots").status_code == 200
    r = client.post("/logout", data={"csrf_token": _csrf(client)})
    assert r.status_code == 302
    refused(client.get("/api/v1/lots"), 401, None)
    client.set_cookie(COOKIE, sid)  # the old cookie, kept by someone
    refused(client.get("/api/v1/lots"), 401, None)


def test_logout_needs_the_csrf_token(client: FlaskClient, session: Session) -> None:
    make_user(session, "ann", Role.VIEWER)
    _login(client, "ann")
    assert client.post("/logout").status_code == 400
    assert client.get("/api/v1/lots").status_code == 200


def test_an_expired_session_no_longer_authenticates(client: FlaskClient, session: Session) -> None:
    make_user(session, "ann", Role.VIEWER)
    _login(client, "ann")
    session.execute(update(WebSession).values(expires_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    refused(client.get("/api/v1/lots"), 401, None)


def test_a_wrong_password_does_not_log_in(client: FlaskClient, session: Session) -> None:
    make_user(session, "ann", Role.VIEWER)
    assert _login(client, "ann", "wrong password").status_code == 401
    assert _login(client, "nobody").status_code == 401
    refused(client.get("/api/v1/lots"), 401, None)


def test_a_deactivated_user_is_logged_out(client: FlaskClient, session: Session) -> None:
    make_user(session, "ann", Role.VIEWER)
    _login(client, "ann")
    session.execute(update(User).where(User.username == "ann").values(active=False))
    session.commit()
    refused(client.get("/api/v1/lots"), 401, None)

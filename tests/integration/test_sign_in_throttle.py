"""Failed sign-ins and wrong API tokens are throttled per account and per client address, in the database."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.api.openapi import build
from app.db import make_engine
from app.errors import NotFound
from app.models import ApiToken, Role, SignInThrottle, WebSession
from app.services.users import set_password, unlock
from tests.helpers.api import make_app, make_token, make_user
from tests.helpers.bookings import refused

PASSWORD = "correct horse 1"
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Clock:
    """The site's clock, moved on by the test instead of by sleeping."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@pytest.fixture
def clock_at(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock(START)
    monkeypatch.setattr(clock, "now", fake)
    return fake


def _csrf(client: FlaskClient) -> str:
    page = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1)


def _login(client: FlaskClient, username: str, password: str = PASSWORD) -> Any:
    return client.post("/login", data={"username": username, "password": password, "csrf_token": _csrf(client)})


def _page_error(r: Any) -> str:
    match = re.search(r'<p class="error" role="alert">([^<]+)</p>', r.get_data(as_text=True))
    assert match, r.get_data(as_text=True)[:500]
    return match.group(1)


def _logged_in(client: FlaskClient) -> bool:
    return client.get("/api/v1/lots").status_code == 200


def _sessions(session: Session) -> int:
    session.commit()
    return session.scalar(select(func.count()).select_from(WebSession)) or 0


# --- the login form ------------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_account_until_the_lockout_ends(client: FlaskClient, session: Session,
                                                                      clock_at: Clock) -> None:
    make_user(session, "ann", Role.VIEWER)
    for _ in range(4):
        r = _login(client, "ann", "wrong password")
        assert r.status_code == 401 and _page_error(r) == "Wrong user name or password."
    r = _login(client, "ann", "wrong password")
    assert r.status_code == 429 and r.headers["Retry-After"] == "300"
    assert _page_error(r) == "Too many failed sign-ins for this account; try again in 5 minutes"

    clock_at.advance(seconds=60)
    r = _login(client, "ann")  # the right password, while the account is locked
    assert r.status_code == 429 and r.headers["Retry-After"] == "240"
    assert _page_error(r) == "Too many failed sign-ins for this account; try again in 4 minutes"
    assert not _logged_in(client) and _sessions(session) == 0

    clock_at.advance(seconds=240)
    assert _login(client, "ann").status_code == 302
    assert _logged_in(client)


def test_lockouts_in_a_row_grow_and_a_success_starts_afresh(client: FlaskClient, session: Session,
                                                            clock_at: Clock) -> None:
    make_user(session, "ann", Role.VIEWER)
    for _ in range(5):
        r = _login(client, "ann", "wrong")
    assert r.headers["Retry-After"] == "300"
    clock_at.advance(seconds=301)
    for _ in range(5):
        r = _login(client, "ann", "wrong")
    assert r.status_code == 429 and r.headers["Retry-After"] == "600"  # twice as long
    clock_at.advance(seconds=601)
    assert _login(client, "ann").status_code == 302  # the right password clears the account's count
    client.post("/logout", data={"csrf_token": _csrf(client)})
    for _ in range(4):
        assert _login(client, "ann", "wrong").status_code == 401
    r = _login(client, "ann", "wrong")
    assert r.status_code == 429 and r.headers["Retry-After"] == "300"  # back to the first lockout


def test_failures_spread_over_more_than_the_window_never_lock(client: FlaskClient, session: Session,
                                                              clock_at: Clock) -> None:
    make_user(session, "ann", Role.VIEWER)
    for _ in range(12):
        assert _login(client, "ann", "wrong").status_code == 401
        clock_at.advance(minutes=4)  # 4 failures per 15-minute window at most
    assert _login(client, "ann").status_code == 302


def test_a_locked_account_does_not_stop_another_account_at_the_same_address(client: FlaskClient, session: Session,
                                                                            clock_at: Clock) -> None:
    make_user(session, "ann", Role.VIEWER)
    make_user(session, "bob", Role.VIEWER)
    for _ in range(5):
        _login(client, "ann", "wrong")
    assert _login(client, "ann").status_code == 429
    other = client.application.test_client()
    assert _login(other, "bob").status_code == 302 and _logged_in(other)


def test_an_unknown_user_name_is_locked_like_a_real_one(client: FlaskClient, clock_at: Clock) -> None:
    for _ in range(4):
        assert _login(client, "nobody", "guess").status_code == 401
    r = _login(client, "nobody", "guess")
    assert r.status_code == 429
    assert _page_error(r) == "Too many failed sign-ins for this account; try again in 5 minutes"


def test_a_busy_address_refuses_wrong_passwords_but_lets_a_correct_one_in(app: Flask, session: Session,
                                                                          clock_at: Clock) -> None:
    app.config["LOGIN_ADDRESS_MAX_FAILURES"] = 6
    for name in ("ann", "bob", "cy"):
        make_user(session, name, Role.VIEWER)
    router = app.test_client()
    router.environ_base["REMOTE_ADDR"] = "10.0.0.7"
    for name in ("ann", "bob", "cy", "ann", "bob"):
        assert _login(router, name, "wrong").status_code == 401
    r = _login(router, "cy", "wrong")
    assert r.status_code == 429 and r.headers["Retry-After"] == "300"
    assert _page_error(r) == "Too many failed sign-ins from this address; try again in 5 minutes"
    assert _login(router, "ann", "still wrong").status_code == 429
    # The right password of an account that is not locked itself still logs in from that address.
    assert _login(router, "bob").status_code == 302 and _logged_in(router)
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.0.0.8"
    assert _login(elsewhere, "cy", "wrong").status_code == 401


def test_counts_of_names_nobody_uses_are_forgotten(client: FlaskClient, session: Session, clock_at: Clock) -> None:
    for name in ("guess1", "guess2", "guess3"):
        _login(client, name, "x")
    session.commit()
    assert session.scalar(select(func.count()).select_from(SignInThrottle)) == 4  # three names, one address
    clock_at.advance(minutes=16)
    _login(client, "guess4", "x")
    session.commit()
    assert set(session.scalars(select(SignInThrottle.key))) == {"account:guess4", "address:127.0.0.1"}


def test_two_app_servers_on_one_database_share_the_count(database_url: str, tmp_path: Path, clock_at: Clock) -> None:
    first, second = make_app(database_url, tmp_path / "one"), make_app(database_url, tmp_path / "two")
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            make_user(session, "ann", Role.VIEWER)
        a, b = first.test_client(), second.test_client()
        for client in (a, b, a, b):
            assert _login(client, "ann", "wrong").status_code == 401
        assert _login(a, "ann", "wrong").status_code == 429
        assert _login(b, "ann").status_code == 429  # the other server knows
        clock_at.advance(seconds=300)
        assert _login(b, "ann").status_code == 302
    finally:
        for application in (first, second):
            application.extensions["lotwise.engine"].dispose()
        engine.dispose()


# --- API tokens ----------------------------------------------------------------------------------


def test_wrong_tokens_from_one_address_get_429_but_a_valid_token_always_works(
        app: Flask, client: FlaskClient, session: Session, clock_at: Clock) -> None:
    token = make_token(session, "scanner", Role.OPERATOR)
    wrong = {"Authorization": "Bearer lw_not-a-real-token"}
    for _ in range(19):
        refused(client.get("/api/v1/lots", headers=wrong), 401, None, "unauthorized")
    r = client.get("/api/v1/lots", headers=wrong)
    err = refused(r, 429, None, "too_many_attempts")
    assert r.headers["Retry-After"] == "300"
    assert err["message"] == "Too many requests with a wrong API token from this address; try again in 5 minutes"
    assert client.post("/api/v1/receipts", json={}, headers=wrong).status_code == 429

    assert client.get("/api/v1/lots", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    make_user(session, "ann", Role.VIEWER)
    assert _login(client, "ann").status_code == 302  # the login form counts separately
    assert client.get("/api/v1/lots").status_code == 200  # and a browser session is not a wrong token

    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    refused(other.get("/api/v1/lots", headers=wrong), 401, None, "unauthorized")
    clock_at.advance(seconds=300)
    refused(client.get("/api/v1/lots", headers=wrong), 401, None, "unauthorized")


def test_a_token_records_its_last_use_at_most_once_a_minute(client: FlaskClient, session: Session,
                                                            clock_at: Clock) -> None:
    token = make_token(session, "scanner", Role.OPERATOR)
    headers = {"Authorization": f"Bearer {token}"}

    def last_used() -> datetime | None:
        session.commit()
        return session.scalar(select(ApiToken.last_used_at))

    assert last_used() is None
    assert client.get("/api/v1/lots", headers=headers).status_code == 200
    assert last_used() == START
    for _ in range(5):  # a scanner's scan a second
        clock_at.advance(seconds=1)
        assert client.get("/api/v1/lots", headers=headers).status_code == 200
    assert last_used() == START
    clock_at.advance(seconds=55)
    assert client.get("/api/v1/lots", headers=headers).status_code == 200
    assert last_used() == START + timedelta(seconds=60)


def test_every_api_operation_documents_429() -> None:
    paths = build()["paths"]
    missing = [f"{method} {path}" for path, ops in paths.items() for method, op in ops.items()
               if "429" not in op["responses"]]
    assert paths and missing == []



def test_an_administrator_unlocks_a_locked_account_at_once(client: FlaskClient, session: Session,
                                                           clock_at: Clock) -> None:
    make_user(session, "ann", Role.VIEWER)
    for _ in range(5):
        _login(client, "ann", "wrong password")
    assert _login(client, "ann").status_code == 429

    unlock(session, "ann")
    assert _login(client, "ann").status_code == 302 and _logged_in(client)
    with pytest.raises(NotFound):
        unlock(session, "nobody")


def test_a_new_password_ends_the_lockout(client: FlaskClient, session: Session, clock_at: Clock) -> None:
    make_user(session, "ann", Role.VIEWER)
    for _ in range(5):
        _login(client, "ann", "wrong password")
    set_password(session, "ann", "a brand new secret")
    assert _login(client, "ann", "a brand new secret").status_code == 302

"""Web sessions: visitors who have not logged in write nothing on the server; a login creates the session."""

from __future__ import annotations

import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from app.models import Role, SignInThrottle, WebSession
from app.sessions import COOKIE
from tests.helpers.api import make_user

PASSWORD = "correct horse 1"


def _sessions(session: Session) -> int:
    session.commit()
    return session.scalar(select(func.count()).select_from(WebSession)) or 0


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1)


@pytest.fixture
def live(app: Flask) -> Iterator[str]:
    """The app served by a threaded server, as a browser or a scanner fleet reaches it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def _open(opener: urllib.request.OpenerDirector, url: str, form: dict[str, str] | None = None) -> tuple[int, str]:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        with opener.open(url, data=data, timeout=60) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_anonymous_visits_to_the_login_page_write_no_session(client: FlaskClient, session: Session) -> None:
    for _ in range(50):
        fresh = client.application.test_client()
        assert fresh.get("/login").status_code == 200
    assert _sessions(session) == 0
    make_user(session, "ann", Role.VIEWER)
    page = client.get("/login").get_data(as_text=True)
    r = client.post("/login", data={"username": "ann", "password": PASSWORD, "csrf_token": _csrf(page)})
    assert r.status_code == 302 and _sessions(session) == 1
    client.post("/logout", data={"csrf_token": _csrf(client.get("/login").get_data(as_text=True))})
    assert _sessions(session) == 0


def test_the_login_form_still_refuses_a_missing_or_forged_csrf_token(client: FlaskClient, session: Session) -> None:
    make_user(session, "ann", Role.VIEWER)
    client.get("/login")
    assert client.post("/login", data={"username": "ann", "password": PASSWORD}).status_code == 400
    assert client.post("/login", data={"username": "ann", "password": PASSWORD,
                                       "csrf_token": "forged"}).status_code == 400
    assert _sessions(session) == 0


def test_a_cookie_signed_with_a_user_id_does_not_log_anyone_in(app: Flask, client: FlaskClient,
                                                               session: Session) -> None:
    ann = make_user(session, "ann", Role.ADMIN)
    signer = URLSafeTimedSerializer(str(app.secret_key), salt="lotwise-anonymous-session")
    client.set_cookie(COOKIE, signer.dumps({"uid": ann.id}))
    assert client.get("/api/v1/lots").status_code == 401
    client.set_cookie(COOKIE, "tampered." + signer.dumps({"uid": ann.id}))
    assert client.get("/api/v1/lots").status_code == 401
    assert client.get("/login").status_code == 200


def test_concurrent_anonymous_visits_and_wrong_passwords_never_fail(live: str, session: Session) -> None:
    make_user(session, "ann", Role.VIEWER)

    def visit(_: int) -> list[int]:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        statuses = [_open(opener, live + "/login")[0] for _ in range(4)]
        status, page = _open(opener, live + "/login")
        statuses.append(status)
        wrong = {"username": "ann", "password": "wrong", "csrf_token": _csrf(page)}
        return [*statuses, _open(opener, live + "/login", wrong)[0]]

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(visit, range(10)))
    gets = [s for r in results for s in r[:-1]]
    posts = sorted(r[-1] for r in results)
    assert gets == [200] * 50
    # Ten wrong passwords at once: four are told so, the fifth locks the account, the rest find it locked.
    assert posts == [401] * 4 + [429] * 6
    session.commit()
    assert session.scalar(select(SignInThrottle.lockouts).where(SignInThrottle.key == "account:ann")) == 1
    assert _sessions(session) == 0

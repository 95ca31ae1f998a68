"""Web sessions: a signed cookie before login, a server-side row after it.

A visitor who has not logged in (the login page, a consignee's recall page) needs only a CSRF token,
kept in a cookie signed with the app's secret key: nothing is written on the server, so anonymous
requests can neither grow a table nor queue for the database's write lock. Logging in creates the
`web_session` row under a new random id, which is all the cookie then holds; logging out deletes it.
A call to the API with a bearer token has no page session at all (`NoSession`): its token is all it is judged by.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.datastructures import CallbackDict

from app.db import utcnow
from app.models import WebSession

COOKIE = "lotwise_session"
# Where the logged-in user's id is kept; only a server-side session may carry it.
USER_KEY = "uid"


class ServerSession(CallbackDict[str, Any], SessionMixin):
    def __init__(self, initial: dict[str, Any] | None = None, sid: str | None = None, new: bool = False) -> None:
        def on_update(_: Any) -> None:
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.sid = sid
        self.new = new
        self.modified = False


class NoSession(ServerSession):
    """The session of a call to the API with a bearer token: empty, and refusing writes.

    Such a call is authenticated by its token alone and never reads the page session, so none is looked up or
    saved (a handheld sends one with every scan). One shared instance serves them all: it can never change.
    """

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a call authenticated with an API token has no page session")

    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = _refuse


_NO_SESSION = NoSession()


def bearer_token(request: Request) -> str | None:
    """The API token the request sends (`Authorization: Bearer <token>`), or None when it sends none."""
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None  # the scheme is case-insensitive (RFC 7235)


def token_call(request: Request) -> bool:
    """Whether the request is an API call that `api.authenticate` will judge by its bearer token alone."""
    return request.path.startswith("/api/") and bearer_token(request) is not None


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


class DatabaseSessionInterface(SessionInterface):
    """Sessions stored in `web_session`; logging out or expiry deletes them on the server."""

    def __init__(self, factory: sessionmaker[Session], hours: int, secure: bool | str) -> None:
        self.factory = factory
        self.lifetime = timedelta(hours=hours)
        self.secure = secure

    def _signer(self, app: Flask) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(str(app.secret_key), salt="lotwise-anonymous-session")

    def is_null_session(self, obj: object) -> bool:
        return isinstance(obj, NoSession) or super().is_null_session(obj)

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        if token_call(request):
            return _NO_SESSION
        value = request.cookies.get(COOKIE)
        if value and "." in value:  # signed anonymous data (server ids are URL-safe base64, no dots)
            try:
                data = self._signer(app).loads(value, max_age=int(self.lifetime.total_seconds()))
            except BadSignature:
                data = None
            if isinstance(data, dict):
                data.pop(USER_KEY, None)  # who is logged in is only ever read from the server
                return ServerSession(data)
        elif value:
            with self.factory() as db:
                row = db.scalar(select(WebSession).where(WebSession.sid_hash == _hash(value)))
                if row is not None and row.expires_at > utcnow():
                    return ServerSession(dict(row.data), sid=value)
        return ServerSession(new=True)

    def _cookie_secure(self, request: Request) -> bool:
        return request.is_secure if self.secure == "auto" else bool(self.secure)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        from flask import request

        assert isinstance(session, ServerSession)
        if USER_KEY not in session:
            self._save_anonymous(app, session, request, response)
            return
        if not session.modified and not session.new:
            return
        if session.get("_rotate") or session.sid is None:
            # A new id after login, so a session id planted before login is worthless.
            old = session.sid
            session.sid = secrets.token_urlsafe(32)
            session.pop("_rotate", None)
            if old:
                with self.factory() as db, db.begin():
                    db.execute(delete(WebSession).where(WebSession.sid_hash == _hash(old)))
        expires = utcnow() + self.lifetime
        with self.factory() as db, db.begin():
            row = db.scalar(select(WebSession).where(WebSession.sid_hash == _hash(session.sid)))
            if row is None:
                db.add(WebSession(sid_hash=_hash(session.sid), data=dict(session), expires_at=expires))
            else:
                row.data = dict(session)
                row.expires_at = expires
            db.execute(delete(WebSession).where(WebSession.expires_at < utcnow()))
        response.set_cookie(COOKIE, session.sid, expires=expires, httponly=True, samesite="Lax",
                            secure=self._cookie_secure(request), path="/")

    def _save_anonymous(self, app: Flask, session: ServerSession, request: Request, response: Response) -> None:
        if session.sid:  # logged out: the server forgets the session
            with self.factory() as db, db.begin():
                db.execute(delete(WebSession).where(WebSession.sid_hash == _hash(session.sid)))
            session.sid = None
            session.modified = True
        if not session.modified:
            return
        if not session:
            if request.cookies.get(COOKIE):
                response.delete_cookie(COOKIE, path="/")
            return
        response.set_cookie(COOKIE, self._signer(app).dumps(dict(session)), max_age=self.lifetime,
                            httponly=True, samesite="Lax", secure=self._cookie_secure(request), path="/")

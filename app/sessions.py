"""Server-side web sessions: the cookie holds only a random id; the data lives in the database."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.datastructures import CallbackDict

from app.db import utcnow
from app.models import WebSession

COOKIE = "lotwise_session"


class ServerSession(CallbackDict[str, Any], SessionMixin):
    def __init__(self, initial: dict[str, Any] | None = None, sid: str | None = None, new: bool = False) -> None:
        def on_update(_: Any) -> None:
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.sid = sid
        self.new = new
        self.modified = False


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


class DatabaseSessionInterface(SessionInterface):
    """Sessions stored in `web_session`; logging out or expiry deletes them on the server."""

    def __init__(self, factory: sessionmaker[Session], hours: int, secure: bool | str) -> None:
        self.factory = factory
        self.lifetime = timedelta(hours=hours)
        self.secure = secure

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        sid = request.cookies.get(COOKIE)
        if sid:
            with self.factory() as db:
                row = db.scalar(select(WebSession).where(WebSession.sid_hash == _hash(sid)))
                if row is not None and row.expires_at > utcnow():
                    return ServerSession(dict(row.data), sid=sid)
        return ServerSession(new=True)

    def _cookie_secure(self, request: Request) -> bool:
        return request.is_secure if self.secure == "auto" else bool(self.secure)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        from flask import request

        assert isinstance(session, ServerSession)
        if not session:
            if session.sid and session.modified:
                with self.factory() as db, db.begin():
                    db.execute(delete(WebSession).where(WebSession.sid_hash == _hash(session.sid)))
                response.delete_cookie(COOKIE, path="/")
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

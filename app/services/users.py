"""User and API token use cases; passwords and tokens are stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.db import utcnow
from app.errors import Conflict, NotFound
from app.models import ApiToken, User
from app.schemas import UserIn
from app.services.base import transactional

TOKEN_PREFIX = "lw_"  # noqa: S105  (a visible prefix, not a secret)


def hash_token(token: str) -> str:
    """Tokens are long random strings, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(token.encode()).hexdigest()


@transactional
def create_user(session: Session, cmd: UserIn) -> User:
    if session.scalar(select(User.id).where(User.username == cmd.username)) is not None:
        raise Conflict(f"user {cmd.username} already exists", "username")
    user = User(username=cmd.username, role=cmd.role, password_hash=generate_password_hash(cmd.password))
    session.add(user)
    session.flush()
    return user


@transactional
def set_password(session: Session, username: str, password: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username}", "username")
    UserIn(username=username, role=user.role, password=password)  # same password rules
    user.password_hash = generate_password_hash(password)
    return user


@transactional
def create_token(session: Session, username: str, name: str) -> tuple[ApiToken, str]:
    """A new API token for `username`; the token text is returned once and never stored."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username}", "username")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, token_hash=hash_token(token), prefix=token[:10])
    session.add(row)
    session.flush()
    return row, token


@transactional
def revoke_token(session: Session, token_id: int) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"token {token_id} does not exist", "token_id")
    row.revoked_at = utcnow()
    return row


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, or None (same answer for either mistake)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        # Hash anyway so a wrong name takes as long as a wrong password.
        check_password_hash(generate_password_hash("x"), password)
        return None
    if not user.active or not check_password_hash(user.password_hash, password):
        return None
    return user


def user_for_token(session: Session, token: str) -> User | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    return row.user

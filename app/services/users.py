"""User and API token use cases; passwords and tokens are stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session, joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from app.db import utcnow
from app.errors import Conflict, NotFound, TooManyAttempts
from app.models import ApiToken, User
from app.schemas import UserIn
from app.services.base import one_statement, transactional
from app.services.throttle import (
    Counter,
    Policy,
    account_key,
    address_key,
    forget,
    locked_until,
    record_failure,
    retry_after,
    token_key,
    wait_text,
)

TOKEN_PREFIX = "lw_"  # noqa: S105  (a visible prefix, not a secret)
# A scanner calls the API about once a second; its token's last use is written at most this often.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


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
    forget(session, account_key(username))  # a new password is how a locked-out user gets back in
    return user


@transactional
def unlock(session: Session, username: str) -> User:
    """Lift a lockout of the account after failed sign-ins (someone guessing, or a forgetful user).

    Anyone can lock a named account by failing on purpose, so an administrator must be able to
    end it at once rather than wait for the lockout to run out.
    """
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username}", "username")
    forget(session, account_key(username))
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


def _too_many(what: str, until: datetime, now: datetime) -> TooManyAttempts:
    seconds = retry_after(until, now)
    return TooManyAttempts(f"{what}; try again in {wait_text(seconds)}", seconds)


def sign_in(session: Session, username: str, password: str, *, address: str | None, now: datetime,
            policy: Policy) -> User | None:
    """The login form: the user for this name and password, None for a wrong one, or TooManyAttempts.

    A locked account is refused before its password is looked at, so guessing stops even for the right
    password. A locked client address refuses only wrong passwords: a correct password still logs in.
    A warehouse's handhelds all sign in from its router's one address, and one mistyping colleague or a
    misconfigured script must not lock the whole shift out; each password stays protected by its own
    account's lock, which a correct password never bypasses.
    """
    account = Counter(account_key(username), policy.account)
    source = Counter(address_key(address), policy.address)
    until = locked_until(session, account.key, now)
    if until is not None:
        raise _too_many("Too many failed sign-ins for this account", until, now)
    user = authenticate(session, username, password)
    if user is not None:
        forget(session, account.key)
        return user
    locked = record_failure(session, [account, source], now)
    if account.key in locked:
        raise _too_many("Too many failed sign-ins for this account", locked[account.key], now)
    if source.key in locked:
        raise _too_many("Too many failed sign-ins from this address", locked[source.key], now)
    return None


# The token and its user in one query: every API call of every handheld comes through here. Built once: composing
# the statement (with its eager load) cost as much CPU as running it.
_TOKEN_WITH_USER = (select(ApiToken).options(joinedload(ApiToken.user))
                    .where(ApiToken.token_hash == bindparam("token_hash")))


def user_for_token(session: Session, token: str, *, address: str | None, now: datetime,
                   policy: Policy) -> User | None:
    """The user of a valid API token, None for a wrong one, or TooManyAttempts from a guessing address.

    A valid token is checked first and always works, even from an address others filled with wrong
    tokens. Wrong tokens count per client address only: tokens are 256-bit random strings, so no one
    guesses one, and a per-token count would only let anyone lock a known token's scanner out.
    """
    row = session.scalar(_TOKEN_WITH_USER, {"token_hash": hash_token(token)})
    if row is not None and row.revoked_at is None and row.user.active:
        if row.last_used_at is None or now - row.last_used_at >= TOKEN_USE_RESOLUTION:
            note_token_use(session, row.id, now)
        return row.user
    counter = Counter(token_key(address), policy.address)
    until = locked_until(session, counter.key, now)
    if until is None:
        until = record_failure(session, [counter], now).get(counter.key)
    if until is not None:
        raise _too_many("Too many requests with a wrong API token from this address", until, now)
    return None


@one_statement
def note_token_use(session: Session, token_id: int, now: datetime) -> None:
    """Record when a token was last used, to the minute: at most one write a minute per token."""
    session.execute(update(ApiToken)
                    .where(ApiToken.id == token_id,
                           or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - TOKEN_USE_RESOLUTION))
                    .values(last_used_at=now))

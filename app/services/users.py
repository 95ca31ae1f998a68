"""User and API token use cases; passwords and tokens are stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session, joinedload, make_transient_to_detached
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
    # This process stops accepting it at once; other processes within their cache's few seconds.
    forget_token_everywhere(row.token_hash)
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

# The user's columns a cached token keeps: the whole row, so the user handed to a request is the one it would read.
_USER_COLUMNS = tuple(c.key for c in User.__table__.columns)
_USER_MAPPER = User.__mapper__
_USER_MANAGER = _USER_MAPPER.class_manager


@dataclass(frozen=True)
class _Known:
    """A valid token as last read from the database, and until when (monotonic seconds) it may be trusted."""

    token_id: int
    user: dict[str, object]
    last_used_at: datetime | None
    until: float
    # The user's key in a session's identity map, worked out once rather than on every call.
    identity: tuple[Any, ...]


class TokenCache:
    """Valid API tokens of this process, each trusted for a few seconds after it was read from the database.

    Every handheld sends its token with every scan, about once a second: reading the token and its user each
    time was one round trip and a sixth of a scan's CPU. A token revoked or a user deactivated elsewhere (another
    worker, `lotwise token revoke`) stops working here once its entry is `seconds` old; `revoke_token` in this
    process drops it at once. Only valid tokens are kept: a wrong one is never cached and always counts toward its
    address's lockout. Entries are keyed by the token's hash, never the token itself.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._known: dict[str, _Known] = {}
        self._lock = threading.Lock()
        _CACHES.add(self)

    def get(self, token_hash: str) -> _Known | None:
        known = self._known.get(token_hash)
        if known is None or known.until <= self._clock():
            return None
        return known

    def keep(self, token_hash: str, row: ApiToken, last_used_at: datetime | None) -> None:
        if self.seconds <= 0:
            return
        user = {key: getattr(row.user, key) for key in _USER_COLUMNS}
        known = _Known(row.id, user, last_used_at, self._clock() + self.seconds,
                       _USER_MAPPER.identity_key_from_primary_key((row.user.id,)))
        with self._lock:
            if len(self._known) >= _MAX_CACHED_TOKENS:
                self._drop_stale()
            self._known[token_hash] = known

    def noted_use(self, token_hash: str, at: datetime) -> None:
        """The token's last use was just written: the next minute's calls need not write it again."""
        with self._lock:
            known = self._known.get(token_hash)
            if known is not None:
                self._known[token_hash] = replace(known, last_used_at=at)

    def forget(self, token_hash: str) -> None:
        with self._lock:
            self._known.pop(token_hash, None)

    def clear(self) -> None:
        with self._lock:
            self._known.clear()

    def _drop_stale(self) -> None:
        moment = self._clock()
        for key in [k for k, v in self._known.items() if v.until <= moment]:
            del self._known[key]
        if len(self._known) >= _MAX_CACHED_TOKENS:
            self._known.clear()


# A site has tens of handhelds; the cache never grows past this many tokens, whatever a client sends.
_MAX_CACHED_TOKENS = 10_000
_CACHES: weakref.WeakSet[TokenCache] = weakref.WeakSet()


def forget_token_everywhere(token_hash: str) -> None:
    """Drop a token from every cache of this process (it was revoked here)."""
    for cache in list(_CACHES):
        cache.forget(token_hash)


def forget_all_tokens() -> None:
    """Empty every token cache of this process: call after changing a user's role or deactivating a user here."""
    for cache in list(_CACHES):
        cache.clear()


def _cached_user(session: Session, known: _Known, attach: bool) -> User:
    """The cached user without reading it: as an object of this session (services may link rows to it), or with
    `attach` false, on its own (every column is loaded and a user has no relationships to load)."""
    existing: User | None = session.identity_map.get(known.identity)
    if existing is not None:
        return existing
    # Made as a query makes a loaded row (no constructor, no attribute events): half the CPU of User(**columns).
    user: User = _USER_MANAGER.new_instance()
    user.__dict__.update(known.user)
    make_transient_to_detached(user)
    if attach:
        session.add(user)  # a new object for each request: sessions never share one
    return user


def _use_due(last_used_at: datetime | None, now: datetime) -> bool:
    """Whether a token's use is to be written: at most once a minute (`TOKEN_USE_RESOLUTION`)."""
    return last_used_at is None or now - last_used_at >= TOKEN_USE_RESOLUTION


def user_for_token(session: Session, token: str, *, address: str | None, now: datetime,
                   policy: Policy, cache: TokenCache | None = None, attach: bool = True) -> User | None:
    """The user of a valid API token, None for a wrong one, or TooManyAttempts from a guessing address.

    A valid token is checked first and always works, even from an address others filled with wrong
    tokens. Wrong tokens count per client address only: tokens are 256-bit random strings, so no one
    guesses one, and a per-token count would only let anyone lock a known token's scanner out. With a `cache`,
    a token read from the database within its last few seconds is not read again; such a user joins the session
    unless `attach` is false (a request that only reads and logs: adding it, and taking it out again when the
    session closes, was about a thirtieth of a scan's CPU in the app).
    """
    token_hash = hash_token(token)
    known = cache.get(token_hash) if cache is not None else None
    if known is not None:
        if _use_due(known.last_used_at, now):
            note_token_use(session, known.token_id, now)
            cache.noted_use(token_hash, now)  # type: ignore[union-attr]
        return _cached_user(session, known, attach)
    row = session.scalar(_TOKEN_WITH_USER, {"token_hash": token_hash})
    if row is not None and row.revoked_at is None and row.user.active:
        last_used_at = row.last_used_at
        if _use_due(last_used_at, now):
            note_token_use(session, row.id, now)
            last_used_at = now
        if cache is not None:
            cache.keep(token_hash, row, last_used_at)
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

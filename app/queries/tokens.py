"""API tokens as an administrator lists them: id (what `lotwise token revoke` takes), owner, purpose, use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ApiToken, User


@dataclass(frozen=True)
class TokenRow:
    id: int
    username: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def api_tokens(session: Session, *, username: str | None = None, revoked: bool = False) -> list[TokenRow]:
    """Tokens by id; only live ones unless `revoked`; only `username`'s when given."""
    query = select(ApiToken, User.username).join(User, User.id == ApiToken.user_id).order_by(ApiToken.id)
    if username is not None:
        query = query.where(User.username == username)
    if not revoked:
        query = query.where(ApiToken.revoked_at.is_(None))
    return [TokenRow(t.id, name, t.name, t.prefix, t.created_at, t.last_used_at, t.revoked_at)
            for t, name in session.execute(query)]

"""Recall notices: prepared when a recall opens, queued by a manager, sent by the worker, answered by consignees.

A notice's row is its own sending job: `queue` marks it queued, the worker `claim`s a batch (a claim is a lease:
a worker that dies leaves rows `sending` until `claimed_until`, after which any worker claims them again), sends
them and `record_delivery` says what the mail server answered. Temporary failures are retried with a doubling
wait; a refusal (5xx) or too many failures stop, and a manager may re-send. Each delivery carries a fresh
personal link, stored only as its SHA-256; every link of a notice works until the recall closes.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from app.db import get_or_404, utcnow
from app.errors import Conflict, Invalid, NotFound
from app.formatting import qty
from app.models import (
    CheckLevel,
    Customer,
    Lot,
    NoticeStatus,
    Recall,
    RecallNotice,
    RecallNoticeDelivery,
    RecallResponse,
    RecallResponseLine,
    RecallStatus,
    Shipment,
    ShipmentLine,
    User,
)
from app.queries.traceability import chunks
from app.schemas import CheckLevelIn, ConsigneeAnswerIn, NoticeSendIn
from app.services.base import transactional

MAX_ATTEMPTS = 5
FIRST_RETRY = timedelta(seconds=30)
LEASE = timedelta(minutes=5)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A personal link's secret (256 bits, URL-safe) and the hash that is stored."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def received_by(session: Session, lot_ids: set[int]) -> dict[int, dict[int, Decimal]]:
    """Per consignee, per lot, what it received of these lots."""
    out: dict[int, dict[int, Decimal]] = {}
    for part in chunks(lot_ids):
        for cid, lot_id, q in session.execute(
            select(Shipment.customer_id, ShipmentLine.lot_id, ShipmentLine.quantity)
            .join(Shipment, ShipmentLine.shipment_id == Shipment.id).where(ShipmentLine.lot_id.in_(part))
        ):
            lots = out.setdefault(cid, {})
            lots[lot_id] = lots.get(lot_id, Decimal(0)) + q
    return out


def prepare(session: Session, recall: Recall, lot_ids: set[int]) -> int:
    """One notice per consignee of the recall's lots (called inside the transaction that opens it)."""
    customers = received_by(session, lot_ids)
    emails: dict[int, str | None] = {}
    for part in chunks(set(customers)):
        emails.update({cid: email for cid, email in session.execute(
            select(Customer.id, Customer.email).where(Customer.id.in_(part)))})
    for cid in sorted(customers):
        session.add(RecallNotice(recall_id=recall.id, customer_id=cid, email=(emails.get(cid) or "").strip() or None,
                                 status=NoticeStatus.PREPARED, attempts=0))
    session.flush()
    return len(customers)


def _open_recall(session: Session, recall_id: int) -> Recall:
    recall: Recall = get_or_404(session, Recall, recall_id, "recall_id", "recall")
    if recall.status is not RecallStatus.OPEN:
        raise Conflict(f"recall {recall.number} is closed: its notices can no longer be sent", "recall_id")
    return recall


@dataclass(frozen=True)
class Queued:
    queued: int
    without_email: list[str]


@transactional
def queue(session: Session, recall_id: int, cmd: NoticeSendIn, *, email_on: bool, now: datetime | None = None
          ) -> Queued:
    """Queue notices for the worker: the named consignees' (also re-sending), or every one not yet sent.

    The address is read again from the customer now, so a corrected address is used. Consignees without
    one are named in the answer (print their letter instead).
    """
    if not email_on:  # the server's state, not the request, is at fault: a conflict
        raise Conflict("e-mail is off: set LOTWISE_SMTP_HOST (and the other LOTWISE_SMTP_* settings) first", None)
    recall = _open_recall(session, recall_id)
    which = [RecallNotice.recall_id == recall.id]
    if cmd.customer_ids:
        known = set(session.scalars(select(RecallNotice.customer_id).where(*which)))
        for i, cid in enumerate(cmd.customer_ids):
            if cid not in known:
                raise NotFound(f"recall {recall.number} has no notice for customer {cid}: it received none of "
                               "the recalled lots", f"customer_ids.{i}")
        which.append(RecallNotice.customer_id.in_(set(cmd.customer_ids)))
        which.append(RecallNotice.status.not_in((NoticeStatus.QUEUED, NoticeStatus.SENDING)))  # on their way
    else:
        which.append(RecallNotice.status.in_((NoticeStatus.PREPARED, NoticeStatus.FAILED, NoticeStatus.REFUSED)))
    # One statement for any number of notices, so the request that queues 2,000 stays short.
    address = func.nullif(func.trim(func.coalesce(
        select(Customer.email).where(Customer.id == RecallNotice.customer_id).scalar_subquery(), "")), "")
    session.execute(update(RecallNotice).where(*which).values(email=address))
    missing = sorted(session.scalars(select(Customer.name).join(RecallNotice, RecallNotice.customer_id == Customer.id)
                                     .where(*which, RecallNotice.email.is_(None))))
    ready = [*which, RecallNotice.email.is_not(None)]
    queued = session.scalar(select(func.count()).select_from(RecallNotice).where(*ready)) or 0
    session.execute(update(RecallNotice).where(*ready).values(
        status=NoticeStatus.QUEUED, attempts=0, next_attempt_at=now or utcnow(), claimed_until=None, last_error=None))
    session.expire_all()
    return Queued(int(queued), missing)


@transactional
def claim(session: Session, now: datetime, limit: int = 100, lease: timedelta = LEASE) -> list[int]:
    """Take up to `limit` notices due for sending (and any a dead worker left behind), oldest first.

    One UPDATE over a sub-select: PostgreSQL skips rows another worker has locked (FOR UPDATE SKIP LOCKED);
    SQLite runs it under the write lock the transaction took at its start, so two workers never share a row.
    """
    due = (select(RecallNotice.id)
           .where(or_((RecallNotice.status == NoticeStatus.QUEUED) & (RecallNotice.next_attempt_at <= now),
                      (RecallNotice.status == NoticeStatus.SENDING) & (RecallNotice.claimed_until < now)))
           .order_by(RecallNotice.next_attempt_at, RecallNotice.id).limit(limit)
           .with_for_update(skip_locked=True))
    ids = list(session.scalars(
        update(RecallNotice).where(RecallNotice.id.in_(due.scalar_subquery()))
        .values(status=NoticeStatus.SENDING, claimed_until=now + lease, attempts=RecallNotice.attempts + 1)
        .returning(RecallNotice.id)))
    return sorted(ids)


@transactional
def record_delivery(session: Session, notice_id: int, digest: str, kind: str, detail: str, now: datetime) -> None:
    """What the mail server said about one notice: sent, refused for good, or try again later."""
    n = session.get_one(RecallNotice, notice_id)
    outcome = {"delivered": "delivered", "refused": "refused"}.get(kind, "failed")
    session.add(RecallNoticeDelivery(notice_id=n.id, channel="email", token_hash=digest, at=now, outcome=outcome,
                                     detail=detail[:2000]))
    n.claimed_until = None
    if kind == "delivered":
        n.status, n.sent_at, n.last_error = NoticeStatus.SENT, now, None
    elif kind == "refused":
        n.status, n.last_error = NoticeStatus.REFUSED, detail[:2000]
    elif n.attempts >= MAX_ATTEMPTS:
        n.status, n.last_error = NoticeStatus.FAILED, f"gave up after {n.attempts} attempts: {detail}"[:2000]
    else:
        n.status, n.last_error = NoticeStatus.QUEUED, detail[:2000]
        n.next_attempt_at = now + FIRST_RETRY * 2 ** (n.attempts - 1)


@transactional
def abandon(session: Session, notice_id: int, why: str) -> None:
    """A claimed notice that cannot be sent at all (the recall closed meanwhile, no address)."""
    n = session.get_one(RecallNotice, notice_id)
    n.status, n.claimed_until, n.last_error = NoticeStatus.FAILED, None, why


@transactional
def print_letter(session: Session, recall_id: int, notice_id: int, *, user: User | None,
                 now: datetime | None = None) -> tuple[RecallNotice, str]:
    """Record a printed letter with its own personal link; the link's secret is returned, never stored."""
    recall = _open_recall(session, recall_id)
    n: RecallNotice = get_or_404(session, RecallNotice, notice_id, "notice_id", "notice")
    if n.recall_id != recall.id:
        raise NotFound(f"notice {notice_id} does not exist", "notice_id")
    token, digest = new_token()
    session.add(RecallNoticeDelivery(notice_id=n.id, channel="letter", token_hash=digest, at=now or utcnow(),
                                     outcome="printed", user_id=user.id if user else None))
    session.flush()
    return n, token


def notice_for_link(session: Session, token: str) -> RecallNotice:
    """The notice a personal link belongs to; a link nobody was given is simply not found."""
    if not token or len(token) > 100:
        raise NotFound("this answer link is not valid: check it against your notice, or call us", "token")
    notice = session.scalar(select(RecallNotice).join(RecallNoticeDelivery,
                                                      RecallNoticeDelivery.notice_id == RecallNotice.id)
                            .where(RecallNoticeDelivery.token_hash == token_hash(token)))
    if notice is None:
        raise NotFound("this answer link is not valid: check it against your notice, or call us", "token")
    return notice


class LinkExpired(Conflict):
    status = 410
    code = "gone"


@transactional
def answer(session: Session, token: str, cmd: ConsigneeAnswerIn, *, now: datetime | None = None) -> RecallResponse:
    """Record a consignee's answer. Answering again corrects it: the latest answer counts, earlier ones are kept.

    Per lot the consignee received, on hand + destroyed + returned may not exceed what it received.
    """
    notice = notice_for_link(session, token)
    recall = notice.recall
    if recall.status is not RecallStatus.OPEN:
        raise LinkExpired(f"recall {recall.number} is closed, so this link no longer takes answers; "
                          "please call us instead", "token")
    got = received_by(session, {rl.lot_id for rl in recall.lots}).get(notice.customer_id, {})
    seen: set[int] = set()
    for i, line in enumerate(cmd.lines):
        if line.lot_id not in got:
            raise Invalid(f"lot {line.lot_id} is not one you received in this recall", f"lines.{i}.lot_id")
        if line.lot_id in seen:
            raise Invalid("each lot once", f"lines.{i}.lot_id")
        seen.add(line.lot_id)
        total = line.on_hand + line.destroyed + line.returned
        if total > got[line.lot_id]:
            lot = session.get_one(Lot, line.lot_id)
            unit = lot.product.unit
            raise Invalid(f"{lot.product.name}, lot {lot.code}: on hand + destroyed + returned come to "
                          f"{qty(total)} {unit}, more than the {qty(got[line.lot_id])} {unit} you received",
                          f"lines.{i}.on_hand")
    response = RecallResponse(notice_id=notice.id, recall_id=recall.id, customer_id=notice.customer_id,
                              answered_at=now or utcnow(), received=cmd.received, answered_by=cmd.answered_by,
                              note=cmd.note)
    response.lines = [RecallResponseLine(lot_id=line.lot_id, on_hand=line.on_hand, destroyed=line.destroyed,
                                         returned=line.returned) for line in cmd.lines]
    session.add(response)
    session.flush()
    return response


@transactional
def set_check_level(session: Session, recall_id: int, cmd: CheckLevelIn) -> Recall:
    """Set the recall's effectiveness-check level (and, for level B, the percentage to verify)."""
    recall: Recall = get_or_404(session, Recall, recall_id, "recall_id", "recall")
    recall.check_level = cmd.level
    recall.check_pct = cmd.pct if cmd.level is CheckLevel.B else None
    session.flush()
    return recall


@transactional
def stop_queued(session: Session, recall_id: int) -> None:
    """Closing a recall stops its notices still waiting to be sent."""
    session.execute(update(RecallNotice).where(
        RecallNotice.recall_id == recall_id, RecallNotice.status.in_((NoticeStatus.QUEUED, NoticeStatus.SENDING)))
        .values(status=NoticeStatus.FAILED, claimed_until=None, last_error="the recall was closed before it was sent"))

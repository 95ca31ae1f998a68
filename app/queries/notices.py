"""Recall notices as the pages and the worker read them: each notice's letter, and the sending progress."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.models import NoticeStatus, Recall, RecallLot, RecallNotice, RecallNoticeDelivery, RecallResponse
from app.queries.recall import consignees
from app.schemas import NoticeCountsOut, NoticeLetterOut, NoticeOut, NoticesOut


def letters(session: Session, notices: Sequence[RecallNotice], *, company: str, contact: str,
            links: Mapping[int, str | None] | None = None) -> dict[int, NoticeLetterOut]:
    """Each notice's letter: what its consignee received of its recall's lots, and its link (if one is given)."""
    by_recall: dict[int, list[RecallNotice]] = defaultdict(list)
    for n in notices:
        by_recall[n.recall_id].append(n)
    out: dict[int, NoticeLetterOut] = {}
    for recall_id, group in by_recall.items():
        recall = session.get_one(Recall, recall_id)
        lot_ids = set(session.scalars(select(RecallLot.lot_id).where(RecallLot.recall_id == recall_id)))
        people = {c.customer.id: c for c in consignees(session, lot_ids, [n.customer_id for n in group])}
        for n in group:
            c = people.get(n.customer_id)
            out[n.id] = NoticeLetterOut(
                recall_number=recall.number, opened_on=recall.opened_at.date(), company=company,
                company_contact=contact, customer_name=n.customer.name, contact_name=n.customer.contact_name,
                address=n.customer.address, email=n.email, lines=c.lines if c else [],
                link=(links or {}).get(n.id))
    return out


def notice_rows(session: Session, recall_id: int, *, email_on: bool) -> NoticesOut:
    """Every notice of a recall with its state, and the counts the page shows as progress."""
    notices = list(session.scalars(select(RecallNotice).where(RecallNotice.recall_id == recall_id)
                                   .options(selectinload(RecallNotice.customer)).order_by(RecallNotice.id)))
    answered = {nid: at for nid, at in session.execute(
        select(RecallResponse.notice_id, func.max(RecallResponse.answered_at))
        .where(RecallResponse.recall_id == recall_id).group_by(RecallResponse.notice_id))}
    letters_printed = {nid: n for nid, n in session.execute(
        select(RecallNoticeDelivery.notice_id, func.count()).join(RecallNotice)
        .where(RecallNotice.recall_id == recall_id, RecallNoticeDelivery.channel == "letter")
        .group_by(RecallNoticeDelivery.notice_id))}
    rows = [NoticeOut(id=n.id, customer_id=n.customer_id, customer_name=n.customer.name,
                      email=n.email if n.email else (n.customer.email or None), status=n.status,
                      attempts=n.attempts, next_attempt_at=n.next_attempt_at, sent_at=n.sent_at,
                      last_error=n.last_error, answered_at=answered.get(n.id), letters=letters_printed.get(n.id, 0))
            for n in notices]
    rows.sort(key=lambda r: r.customer_name)
    count = {s: sum(1 for r in rows if r.status is s) for s in NoticeStatus}
    counts = NoticeCountsOut(
        total=len(rows), prepared=count[NoticeStatus.PREPARED], queued=count[NoticeStatus.QUEUED],
        sending=count[NoticeStatus.SENDING], sent=count[NoticeStatus.SENT], refused=count[NoticeStatus.REFUSED],
        failed=count[NoticeStatus.FAILED], without_email=sum(1 for r in rows if not r.email),
        answered=sum(1 for r in rows if r.answered_at is not None))
    return NoticesOut(email_configured=email_on, counts=counts, notices=rows)

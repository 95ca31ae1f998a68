"""The background worker (`lotwise worker`): sends queued recall notices by e-mail.

Everything it knows is in the database, so it survives a restart: a notice is claimed for a lease, sent, and
its outcome recorded; a worker killed in between leaves the notice `sending` until the lease runs out, and then
any worker sends it again. Several workers may run at once (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: one
writer at a time). The web request that queues notices only marks them, so it never waits for a mail server.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from app import clock
from app.adapters.mail import Mailer, SmtpServer, message
from app.models import RecallNotice, RecallStatus
from app.queries.notices import letters
from app.render import notices as render
from app.services import notices as svc

log = logging.getLogger("lotwise.worker")


@dataclass(frozen=True)
class Settings:
    server: SmtpServer | None
    base_url: str
    company: str
    contact: str
    batch: int = 100
    lease: timedelta = svc.LEASE

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        return cls(server=SmtpServer.from_config(config), base_url=str(config["BASE_URL"]).rstrip("/"),
                   company=str(config["COMPANY_NAME"]), contact=str(config.get("COMPANY_CONTACT") or ""))


def answer_url(base_url: str, token: str) -> str:
    """The personal link a notice carries."""
    return f"{base_url.rstrip('/')}/answer/{token}"


def run_once(factory: sessionmaker[Session], settings: Settings,
             now: Callable[[], datetime] = clock.now) -> int:
    """Claim one batch of due notices and send them over one SMTP connection; how many were handled."""
    if settings.server is None:
        return 0
    with factory() as session:
        ids = svc.claim(session, now(), settings.batch, settings.lease)
    if not ids:
        return 0
    with factory() as session:
        notices = list(session.scalars(select(RecallNotice).where(RecallNotice.id.in_(ids))
                                       .options(selectinload(RecallNotice.customer), selectinload(RecallNotice.recall))
                                       .order_by(RecallNotice.id)))
        tokens = {n.id: svc.new_token() for n in notices}
        texts = letters(session, notices, company=settings.company, contact=settings.contact,
                        links={i: answer_url(settings.base_url, t[0]) for i, t in tokens.items()})
        work = [(n.id, n.email, n.recall.status is RecallStatus.OPEN) for n in notices]
    with Mailer(settings.server) as mailer:
        for notice_id, email, is_open in work:
            with factory() as session:
                if not is_open:
                    svc.abandon(session, notice_id, "the recall was closed before it was sent")
                    continue
                if not email:
                    svc.abandon(session, notice_id, "no e-mail address: print the letter instead")
                    continue
                letter = texts[notice_id]
                outcome = mailer.send(message(settings.server.sender, email, render.subject(letter),
                                              render.text(letter)))
                svc.record_delivery(session, notice_id, tokens[notice_id][1], outcome.kind, outcome.detail, now())
            log.info("notice %s to %s: %s (%s)", notice_id, email, outcome.kind, outcome.detail)
    return len(ids)


def run(factory: sessionmaker[Session], settings: Settings, stop: threading.Event, poll: float = 2.0) -> None:
    """Send notices until `stop` is set, looking for new ones every `poll` seconds when idle."""
    if settings.server is None:
        log.warning("LOTWISE_SMTP_HOST is not set: notices stay queued until e-mail is configured")
    while not stop.is_set():
        try:
            handled = run_once(factory, settings)
        except Exception:  # a database hiccup must not end the worker; the claims' leases make it safe
            log.exception("sending notices failed; trying again")
            handled = 0
        if not handled:
            stop.wait(poll)

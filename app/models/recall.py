"""Recalls, the lots they cover, consignee notifications and mock recall drills."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, Exact, UTCDateTime, utcnow
from app.models.common import TimestampMixin, enum_column
from app.models.lots import Lot, LotStatus
from app.models.parties import Customer
from app.models.users import User

__all__ = [
    "CheckLevel",
    "NoticeStatus",
    "Recall",
    "RecallCloseOutcome",
    "RecallDrill",
    "RecallLot",
    "RecallLotRole",
    "RecallNotice",
    "RecallNoticeDelivery",
    "RecallNotification",
    "RecallResponse",
    "RecallResponseLine",
    "RecallScope",
    "RecallStatus",
]


class RecallScope(enum.StrEnum):
    # Forward from the start lots only, or back to their (chosen) input lots and forward from those.
    FORWARD = "forward"
    UPSTREAM = "upstream"


class RecallStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class RecallCloseOutcome(enum.StrEnum):
    KEEP_RECALLED = "keep_recalled"
    RELEASE = "release"


class CheckLevel(enum.StrEnum):
    """FDA effectiveness-check levels (21 CFR 7.42(b)(3)): the share of consignees to verify."""

    A = "A"  # 100 %
    B = "B"  # more than 10 % and less than 100 %: the recall says how many
    C = "C"  # 10 %
    D = "D"  # 2 %
    E = "E"  # no effectiveness checks


class NoticeStatus(enum.StrEnum):
    PREPARED = "prepared"  # written, not yet sent (a manager reviews it first)
    QUEUED = "queued"  # waiting for the worker (also after a temporary failure, until next_attempt_at)
    SENDING = "sending"  # claimed by a worker until claimed_until; a crashed worker's claim runs out
    SENT = "sent"  # the SMTP server took it
    REFUSED = "refused"  # the SMTP server refused it for good (5xx); a manager may re-send
    FAILED = "failed"  # temporary failures until the attempts ran out; a manager may re-send


class RecallLotRole(enum.StrEnum):
    START = "start"
    INPUT = "input"
    OUTPUT = "output"


class Recall(TimestampMixin, Base):
    __tablename__ = "recall"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[RecallStatus] = mapped_column(enum_column(RecallStatus, "recall_status"), index=True)
    scope: Mapped[RecallScope] = mapped_column(enum_column(RecallScope, "recall_scope"))
    reason: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    outcome: Mapped[RecallCloseOutcome | None] = mapped_column(enum_column(RecallCloseOutcome, "recall_outcome"))
    close_reason: Mapped[str | None] = mapped_column(Text)
    # How many consignees must be verified (FDA levels); B says its percentage in check_pct.
    check_level: Mapped[CheckLevel] = mapped_column(enum_column(CheckLevel, "check_level"), default=CheckLevel.A,
                                                    server_default="A")
    check_pct: Mapped[int | None] = mapped_column(Integer)
    opened_by: Mapped[User | None] = relationship(foreign_keys=[opened_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    lots: Mapped[list[RecallLot]] = relationship(back_populates="recall", order_by="RecallLot.id")
    notifications: Mapped[list[RecallNotification]] = relationship(
        back_populates="recall", order_by="RecallNotification.id")


class RecallLot(Base):
    """A lot a recall covers, how it was reached, and the status it had before the recall."""

    __tablename__ = "recall_lot"
    __table_args__ = (UniqueConstraint("recall_id", "lot_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    recall_id: Mapped[int] = mapped_column(ForeignKey("recall.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), index=True)
    role: Mapped[RecallLotRole] = mapped_column(enum_column(RecallLotRole, "recall_lot_role"))
    depth: Mapped[int] = mapped_column(Integer, default=0)
    # Restored when the recall closes with "release", so a lot held before the recall stays held.
    previous_status: Mapped[LotStatus] = mapped_column(enum_column(LotStatus, "previous_status"))
    previous_hold_reason: Mapped[str | None] = mapped_column(Text)
    recall: Mapped[Recall] = relationship(back_populates="lots")
    lot: Mapped[Lot] = relationship()


class RecallNotification(TimestampMixin, Base):
    """One contact with a consignee about a recall: when, how, what they said, what came back."""

    __tablename__ = "recall_notification"
    id: Mapped[int] = mapped_column(primary_key=True)
    recall_id: Mapped[int] = mapped_column(ForeignKey("recall.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    notified_at: Mapped[datetime] = mapped_column(UTCDateTime())
    method: Mapped[str] = mapped_column(String(20))
    contact: Mapped[str | None] = mapped_column(String(200))
    response: Mapped[str | None] = mapped_column(Text)
    quantity_returned: Mapped[Decimal] = mapped_column(Exact(), default=Decimal(0))
    quantity_destroyed: Mapped[Decimal] = mapped_column(Exact(), default=Decimal(0))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recall: Mapped[Recall] = relationship(back_populates="notifications")
    customer: Mapped[Customer] = relationship()
    user: Mapped[User | None] = relationship()


class RecallNotice(TimestampMixin, Base):
    """The notice one consignee gets about a recall; its row is also the sending job the worker claims."""

    __tablename__ = "recall_notice"
    __table_args__ = (UniqueConstraint("recall_id", "customer_id"),
                      Index("ix_recall_notice_status_next_attempt_at", "status", "next_attempt_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    recall_id: Mapped[int] = mapped_column(ForeignKey("recall.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    # The address when the notice was prepared or last queued (the customer's record may change later).
    email: Mapped[str | None] = mapped_column(String(320))
    status: Mapped[NoticeStatus] = mapped_column(enum_column(NoticeStatus, "notice_status"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    recall: Mapped[Recall] = relationship()
    customer: Mapped[Customer] = relationship()
    deliveries: Mapped[list[RecallNoticeDelivery]] = relationship(
        back_populates="notice", order_by="RecallNoticeDelivery.id")


class RecallNoticeDelivery(Base):
    """One try to deliver a notice (an e-mail, a printed letter), with its outcome and its personal link.

    Each try carries a fresh link; only its SHA-256 is stored, so the database alone never yields one.
    """

    __tablename__ = "recall_notice_delivery"
    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("recall_notice.id"), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    notice: Mapped[RecallNotice] = relationship(back_populates="deliveries")


class RecallResponse(Base):
    """A consignee's answer through its personal link; a later answer corrects it (history kept)."""

    __tablename__ = "recall_response"
    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("recall_notice.id"), index=True)
    recall_id: Mapped[int] = mapped_column(ForeignKey("recall.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    received: Mapped[bool] = mapped_column(Boolean)
    answered_by: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    lines: Mapped[list[RecallResponseLine]] = relationship(back_populates="response",
                                                           order_by="RecallResponseLine.id")


class RecallResponseLine(Base):
    """Per lot the consignee received: what it still holds, destroyed and returned."""

    __tablename__ = "recall_response_line"
    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("recall_response.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"))
    on_hand: Mapped[Decimal] = mapped_column(Exact())
    destroyed: Mapped[Decimal] = mapped_column(Exact())
    returned: Mapped[Decimal] = mapped_column(Exact())
    response: Mapped[RecallResponse] = relationship(back_populates="lines")


class RecallDrill(TimestampMixin, Base):
    """A mock recall: the full report built without holds, timed, and kept with its result."""

    __tablename__ = "recall_drill"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    scope: Mapped[RecallScope] = mapped_column(enum_column(RecallScope, "drill_scope"))
    reason: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_ms: Mapped[int] = mapped_column(Integer)
    lot_count: Mapped[int] = mapped_column(Integer)
    consignee_count: Mapped[int] = mapped_column(Integer)
    # Lots whose mass balance leaves a remainder: the figure an auditor looks at first.
    unbalanced_count: Mapped[int] = mapped_column(Integer)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    user: Mapped[User | None] = relationship()

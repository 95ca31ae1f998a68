"""Traceability, recalls, drills and their reports."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from app.models import (
    CheckLevel,
    LotOrigin,
    LotStatus,
    NoticeStatus,
    RecallCloseOutcome,
    RecallLotRole,
    RecallScope,
    RecallStatus,
)
from app.schemas.common import Command, Day, Id, LongText, Moment, NonNegativeQty, Out, Text, with_rules
from app.schemas.stock import LotRef

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


Direction = Literal["backward", "forward", "both"]


ScanText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4096)]


NotificationMethod = Literal["phone", "email", "letter", "visit", "other"]


class RecallIn(Command):
    """Lots to recall (by id, sku + lot code, or a scanned label) and how far the recall reaches.

    Name at least one lot (lots) or scan (scans); `via` only with scope 'upstream'.
    """

    model_config = ConfigDict(json_schema_extra=with_rules(
        {"anyOf": [{"required": ["lots"], "properties": {"lots": {"minItems": 1}}},
                   {"required": ["scans"], "properties": {"scans": {"minItems": 1}}}]},
        {"anyOf": [{"properties": {"via": {"maxItems": 0}}},
                   {"required": ["scope"], "properties": {"scope": {"const": "upstream"}}}]}))

    lots: list[LotRef] = Field(default_factory=list, max_length=500)
    scans: list[ScanText] = Field(default_factory=list, max_length=500,
                                  description="scanned labels or typed lot codes")
    scope: RecallScope = RecallScope.FORWARD
    via: list[LotRef] = Field(default_factory=list, max_length=500,
                              description="with scope 'upstream': the suspect input lots to recall "
                                          "through; empty means every input lot")
    reason: Reason

    scan_fields = frozenset({"scans"})

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not self.lots and not self.scans:
            raise ValueError("name at least one lot (lots) or scan a label (scans)")
        if self.via and self.scope is not RecallScope.UPSTREAM:
            raise ValueError("'via' lots only apply to scope 'upstream'")
        return self


class NotificationIn(Command):
    customer_id: Id
    notified_at: Moment | None = None
    method: NotificationMethod
    contact: Text | None = None
    response: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
    quantity_returned: NonNegativeQty = Decimal(0)
    quantity_destroyed: NonNegativeQty = Decimal(0)

    @field_validator("quantity_returned", "quantity_destroyed")
    @classmethod
    def _not_negative(cls, v: Decimal) -> Decimal:
        if v < 0:
            raise ValueError("must not be negative")
        return v

    @field_validator("notified_at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2026-11-22T10:30:00+00:00")
        return v


class RecallCloseIn(Command):
    outcome: RecallCloseOutcome
    reason: Reason


class DateRange(BaseModel):
    """A closed range of business dates; both ends optional."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    date_from: Day | None = Field(None, alias="from")
    date_to: Day | None = Field(None, alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"the range runs backwards: from {self.date_from} is after to {self.date_to}")
        return self


class TraceLotOut(Out):
    id: int
    sku: str
    product_name: str
    gtin: str | None
    unit: str
    code: str
    origin: LotOrigin
    status: LotStatus
    made_on: date
    expiry: date | None
    supplier_id: int | None
    supplier_name: str | None
    supplier_lot_code: str | None


class TraceShipmentOut(Out):
    shipment_id: int
    shipment_number: str
    shipped_on: date
    customer_id: int
    customer_name: str
    quantity: Decimal
    override_reason: str | None = Field(default=None, description=(
        "a manager's reason for shipping outside the customer's rule"))


class TraceReceiptOut(Out):
    receipt_id: int
    receipt_number: str
    received_on: date
    supplier_id: int
    supplier_name: str
    quantity: Decimal


class TraceNodeOut(Out):
    """One lot in a trace tree; children are its outputs (forward) or its inputs (backward)."""

    lot: TraceLotOut
    depth: int
    quantity: Decimal | None = Field(description="quantity of the input lot used on the edge to the parent")
    run_id: int | None
    run_number: str | None
    # A lot reached a second time is shown without its children (they are listed where it first
    # appears), so shared inputs cannot blow the tree up.
    repeated: bool = False
    lot_count: int = Field(description="distinct lots below this one")
    partner_count: int = Field(description="distinct customers (forward) or suppliers (backward) below")
    shipments: list[TraceShipmentOut] = Field(default_factory=list)
    receipts: list[TraceReceiptOut] = Field(default_factory=list)
    children: list[TraceNodeOut] = Field(default_factory=list)


class TraceRowOut(Out):
    lot: TraceLotOut
    direction: Literal["start", "backward", "forward"]
    depth: int


class TraceOut(Out):
    direction: Direction
    starts: list[TraceLotOut]
    backward: list[TraceNodeOut]
    forward: list[TraceNodeOut]
    lots: list[TraceRowOut]
    suppliers: list[TraceReceiptOut]
    shipments: list[TraceShipmentOut]


class PartyOut(Out):
    id: int
    name: str
    contact_name: str | None
    phone: str | None
    email: str | None
    address: str | None


class AffectedLotOut(Out):
    lot: TraceLotOut
    role: RecallLotRole
    depth: int
    on_hand: Decimal


class ConsigneeLineOut(Out):
    shipment_id: int
    shipment_number: str
    shipped_on: date
    order_number: str
    customer_reference: str | None
    lot_id: int
    sku: str
    lot_code: str
    quantity: Decimal
    unit: str
    override_reason: str | None = Field(default=None, description=(
        "a manager's reason for shipping outside the customer's rule"))
    product_name: str = ""


class ConsigneeOut(Out):
    customer: PartyOut
    lines: list[ConsigneeLineOut]
    shipped: dict[str, Decimal] = Field(description="total shipped per unit")
    returned: dict[str, Decimal] = Field(description="taken back as customer returns, per unit")


class StockLineOut(Out):
    lot_id: int
    sku: str
    lot_code: str
    warehouse: str
    location: str
    location_kind: str
    on_hand: Decimal
    unit: str


class MassBalanceOut(Out):
    """received + produced + returned ± adjusted ± moved = consumed + shipped + written off + on hand + remainder."""

    lot_id: int
    sku: str
    lot_code: str
    unit: str
    received: Decimal
    produced: Decimal
    returned: Decimal
    adjusted: Decimal
    moved: Decimal = Field(description="net of transfers and picks between locations (0 when sound)")
    consumed: Decimal
    shipped: Decimal
    written_off: Decimal
    on_hand: Decimal
    remainder: Decimal = Field(description="quantity not accounted for; 0 when the balance closes")

    @property
    def balanced(self) -> bool:
        return self.remainder == 0


class UpstreamLotOut(Out):
    supplier: PartyOut
    lot: TraceLotOut
    receipts: list[TraceReceiptOut]


class ReportTotalsOut(Out):
    lots: int
    consignees: int
    shipment_lines: int
    unbalanced_lots: int
    shipped: dict[str, Decimal]
    on_hand: dict[str, Decimal]


class RecallReportOut(Out):
    scope: RecallScope
    starts: list[TraceLotOut]
    lots: list[AffectedLotOut]
    consignees: list[ConsigneeOut]
    stock: list[StockLineOut]
    mass_balance: list[MassBalanceOut]
    suppliers: list[UpstreamLotOut]
    totals: ReportTotalsOut


class NotificationOut(Out):
    id: int
    customer_id: int
    customer_name: str
    notified_at: datetime
    method: str
    contact: str | None
    response: str | None
    quantity_returned: Decimal
    quantity_destroyed: Decimal
    recorded_by: str | None


class LotEffectivenessOut(Out):
    """One recalled lot: what went to consignees and what their answers account for."""

    lot_id: int
    sku: str
    lot_code: str
    unit: str
    shipped: Decimal
    on_hand: Decimal = Field(description="still held by consignees, as they answered")
    destroyed: Decimal
    returned: Decimal
    accounted: Decimal = Field(description="on hand + destroyed + returned, from consignees' latest answers")
    accounted_pct: Decimal


class EffectivenessOut(Out):
    consignees: int
    notified: int = Field(description="consignees reached: a notice sent or printed, or a contact recorded")
    responded: int = Field(description="consignees who answered (through their link, or as recorded)")
    notified_pct: Decimal
    shipped: dict[str, Decimal]
    recovered: dict[str, Decimal] = Field(description="returned + destroyed as reported by consignees, per unit")
    recovered_pct: dict[str, Decimal]
    not_notified: list[str]
    accounted: dict[str, Decimal] = Field(default_factory=dict, description=(
        "on hand + destroyed + returned as consignees answered, per unit; a consignee without an answer "
        "through its link counts what was recorded as returned or destroyed"))
    accounted_pct: dict[str, Decimal] = Field(default_factory=dict)
    lots: list[LotEffectivenessOut] = Field(default_factory=list)
    level: CheckLevel = CheckLevel.A
    level_pct: Decimal = Field(default=Decimal(100), description="share of consignees to verify")
    to_verify: int = Field(default=0, description="consignees to verify at this level (rounded up)")
    not_answered: list[str] = Field(default_factory=list)


class CheckLevelIn(Command):
    """FDA effectiveness-check level: A 100 %, B a percentage above 10 and below 100 (give `pct`), C 10 %,
    D 2 %, E none. `pct` is given with level B only."""

    model_config = ConfigDict(json_schema_extra=with_rules(
        {"anyOf": [{"required": ["level", "pct"], "properties": {"level": {"const": "B"},
                                                                  "pct": {"type": "integer"}}},
                   {"properties": {"level": {"enum": ["A", "C", "D", "E"]}, "pct": {"type": "null"}}}]}))

    level: CheckLevel
    pct: Annotated[int, Field(ge=11, le=99)] | None = None

    @model_validator(mode="after")
    def _pct_with_b(self) -> Self:
        if self.level is CheckLevel.B and self.pct is None:
            raise ValueError("level B needs pct: the percentage of consignees to verify (11 to 99)")
        if self.level is not CheckLevel.B and self.pct is not None:
            raise ValueError("pct goes with level B only")
        return self


class NoticeSendIn(Command):
    """Queue notices for sending by e-mail: the given consignees' (re-sending one already sent), or, with
    no `customer_ids`, every notice not yet sent. The `lotwise worker` sends them; this only queues.

    Refused (409) while e-mail is off (no LOTWISE_SMTP_HOST) and once the recall is closed; a customer who
    received none of the recall's lots has no notice (404). Consignees without an e-mail address are left
    as they are (print their letter)."""

    customer_ids: list[Id] = Field(default_factory=list, max_length=10000)


class NoticeOut(Out):
    id: int
    customer_id: int
    customer_name: str
    email: str | None
    status: NoticeStatus
    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None
    answered_at: datetime | None = Field(description="the consignee's latest answer through its link")
    letters: int = Field(description="letters printed")


class NoticeCountsOut(Out):
    total: int
    prepared: int
    queued: int
    sending: int
    sent: int
    refused: int
    failed: int
    without_email: int
    answered: int


class NoticesOut(Out):
    email_configured: bool
    counts: NoticeCountsOut
    notices: list[NoticeOut]


class ConsigneeAnswerLineIn(Command):
    lot_id: Id
    on_hand: NonNegativeQty = Decimal(0)
    destroyed: NonNegativeQty = Decimal(0)
    returned: NonNegativeQty = Decimal(0)


class ConsigneeAnswerIn(Command):
    """A consignee's answer: receipt confirmed, and per lot received what it still holds, destroyed and
    returned (together at most what it received of that lot)."""

    received: bool
    answered_by: Text | None = None
    note: LongText | None = None
    lines: list[ConsigneeAnswerLineIn] = Field(default_factory=list, max_length=500)


class RecallSummaryOut(Out):
    id: int
    number: str
    status: RecallStatus
    check_level: CheckLevel = CheckLevel.A
    check_pct: int | None = None
    scope: RecallScope
    reason: str
    opened_at: datetime
    opened_by: str | None
    closed_at: datetime | None
    outcome: RecallCloseOutcome | None
    close_reason: str | None
    lot_count: int


class RecallOut(RecallSummaryOut):
    closed_by: str | None
    report: RecallReportOut
    notifications: list[NotificationOut]
    effectiveness: EffectivenessOut


class DrillIn(RecallIn):
    """The same selection as a recall; a drill needs no reason beyond being a drill."""

    reason: Reason = "mock recall drill"


class DrillSummaryOut(Out):
    id: int
    number: str
    scope: RecallScope
    reason: str
    started_at: datetime
    finished_at: datetime
    duration_ms: int
    lot_count: int
    consignee_count: int
    unbalanced_count: int
    run_by: str | None


class DrillOut(DrillSummaryOut):
    report: RecallReportOut


class NoticeLetterOut(Out):
    """What a consignee's notice says: the recall, what it received, whom to call and its personal link."""

    recall_number: str
    opened_on: date
    company: str
    company_contact: str
    customer_name: str
    contact_name: str | None
    address: str | None
    email: str | None
    lines: list[ConsigneeLineOut]
    link: str | None = Field(description="the personal answer link; made only when the notice is sent or printed")

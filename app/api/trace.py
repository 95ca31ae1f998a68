"""API for traces, recalls, mock recall drills and the traceability exports (FSMA 204, EPCIS)."""

from __future__ import annotations

from datetime import date
from typing import Self

from flask import current_app
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select

from app.api import FileResult, endpoint, file_endpoint
from app.api.masterdata import Page
from app.errors import Invalid, NotFound
from app.exports import epcis, fsma204, recall_files
from app.models import Recall, RecallDrill, Role, User
from app.queries import recall as rq
from app.queries import traceability as tq
from app.schemas import (
    Direction,
    DrillIn,
    DrillOut,
    DrillSummaryOut,
    NotificationIn,
    RecallCloseIn,
    RecallIn,
    RecallOut,
    RecallReportOut,
    RecallSummaryOut,
    TraceOut,
)
from app.services import recall as svc
from app.web import db, today

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class DirectionQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    direction: Direction = "both"


class TraceQuery(DirectionQuery):
    """Exactly one starting point: a supplier's lot code, a shipment, a scan, a lot code or a product."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    supplier_lot_code: str | None = None
    supplier_id: int | None = Field(None, description="narrows supplier_lot_code to one supplier")
    shipment: str | None = Field(None, description="shipment number (SH-000042) or id")
    scan: str | None = Field(None, description="a scanned label (GS1 element string, Digital Link) or typed text")
    sku: str | None = Field(None, description="with lot_code: that lot; with from/to: the product's lots")
    lot_code: str | None = None
    date_from: date | None = Field(None, alias="from")
    date_to: date | None = Field(None, alias="to")

    @model_validator(mode="after")
    def _one_start(self) -> Self:
        starts = [self.supplier_lot_code, self.shipment, self.scan, self.sku]
        if sum(1 for s in starts if s) != 1:
            raise ValueError("give exactly one of supplier_lot_code, shipment, scan, or sku (with lot_code, "
                             "or from/to)")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"the range runs backwards: from {self.date_from} is after to {self.date_to}")
        return self


def _separator() -> str | None:
    return current_app.config.get("GS1_SEPARATOR") or None


def trace_start(query: TraceQuery) -> list[int]:
    """The lots a trace query starts from."""
    s = db()
    if query.supplier_lot_code:
        return tq.lots_by_supplier_lot(s, query.supplier_lot_code, query.supplier_id)
    if query.shipment:
        return tq.lots_in_shipment(s, query.shipment)
    if query.scan:
        return tq.lots_by_scan(s, query.scan, separator=_separator(), today=today())
    assert query.sku
    if query.lot_code:
        return [tq.lot_by_sku_code(s, query.sku, query.lot_code)]
    return tq.lots_of_product(s, query.sku, query.date_from, query.date_to)


@endpoint("/trace/lots/<int:lot_id>", summary="Trace one lot backward to suppliers and forward to customers",
          tag="traceability", query=DirectionQuery, response=TraceOut, errors=(404,))
def trace_lot(user: User, lot_id: int, query: DirectionQuery) -> TraceOut:
    return tq.trace(db(), [lot_id], query.direction)


@endpoint("/trace", summary="Trace from a supplier lot code, a shipment, a scanned label, or a product and dates",
          tag="traceability", query=TraceQuery, response=TraceOut, errors=(404,))
def trace_search(user: User, query: TraceQuery) -> TraceOut:
    return tq.trace(db(), trace_start(query), query.direction)


# --- recalls ---


def _recall(recall_id: int) -> Recall:
    recall = db().get(Recall, recall_id)
    if recall is None:
        raise NotFound(f"recall {recall_id} does not exist", "recall_id")
    return recall


@endpoint("/recalls", summary="List recalls, newest first", tag="recalls", query=Page, response=RecallSummaryOut,
          many=True)
def list_recalls(user: User, query: Page) -> list[RecallSummaryOut]:
    return rq.recall_list(db(), limit=query.limit, offset=query.offset)


@endpoint("/recalls", "POST", summary="Open a recall: every affected lot is recalled (held) at once",
          tag="recalls", role=Role.MANAGER, body=RecallIn, response=RecallOut, status=201,
          errors=(404, 409, 422))
def open_recall(user: User, body: RecallIn) -> RecallOut:
    recall = svc.open_recall(db(), body, user=user, today=today(), separator=_separator())
    return rq.recall_detail(db(), recall)


@endpoint("/recalls/<int:recall_id>", summary="A recall with its report, notifications and effectiveness",
          tag="recalls", response=RecallOut, errors=(404,))
def get_recall(user: User, recall_id: int) -> RecallOut:
    return rq.recall_detail(db(), _recall(recall_id))


@endpoint("/recalls/<int:recall_id>/notifications", "POST",
          summary="Record a consignee notification: when, how, response, quantity returned or destroyed",
          tag="recalls", role=Role.OPERATOR, body=NotificationIn, response=RecallOut, status=201,
          errors=(404, 409, 422))
def notify_consignee(user: User, recall_id: int, body: NotificationIn) -> RecallOut:
    svc.record_notification(db(), recall_id, body, user=user)
    return rq.recall_detail(db(), _recall(recall_id))


@endpoint("/recalls/<int:recall_id>/close", "POST",
          summary="Close a recall, keeping its lots recalled or releasing them with a reason",
          tag="recalls", role=Role.MANAGER, body=RecallCloseIn, response=RecallOut, errors=(404, 409, 422))
def close_recall(user: User, recall_id: int, body: RecallCloseIn) -> RecallOut:
    svc.close_recall(db(), recall_id, body, user=user)
    return rq.recall_detail(db(), _recall(recall_id))


def recall_file(recall_id: int) -> recall_files.ReportFile:
    detail = rq.recall_detail(db(), _recall(recall_id))
    facts = [("Recall", detail.number), ("Status", detail.status.value), ("Scope", detail.scope.value),
             ("Reason", detail.reason), ("Opened", detail.opened_at.isoformat(timespec="minutes")),
             ("Opened by", detail.opened_by or "")]
    if detail.closed_at:
        facts += [("Closed", detail.closed_at.isoformat(timespec="minutes")),
                  ("Outcome", detail.outcome.value if detail.outcome else ""),
                  ("Closing reason", detail.close_reason or "")]
    return recall_files.ReportFile(title=f"Recall {detail.number}", facts=facts, report=detail.report,
                                   notifications=detail.notifications, effectiveness=detail.effectiveness)


@file_endpoint("/recalls/<int:recall_id>/export.csv", summary="The recall report as CSV", tag="recalls",
               media_type="text/csv", errors=(404,))
def recall_csv(user: User, recall_id: int) -> FileResult:
    doc = recall_file(recall_id)
    return FileResult(recall_files.to_csv(doc), f"{doc.title.split()[-1]}.csv")


@file_endpoint("/recalls/<int:recall_id>/export.xlsx", summary="The recall report as an XLSX workbook",
               tag="recalls", media_type=XLSX, errors=(404,))
def recall_xlsx(user: User, recall_id: int) -> FileResult:
    doc = recall_file(recall_id)
    return FileResult(recall_files.to_xlsx(doc), f"{doc.title.split()[-1]}.xlsx")


@file_endpoint("/recalls/<int:recall_id>/export.pdf", summary="The recall report as PDF", tag="recalls",
               media_type="application/pdf", errors=(404,))
def recall_pdf(user: User, recall_id: int) -> FileResult:
    doc = recall_file(recall_id)
    return FileResult(recall_files.to_pdf(doc), f"{doc.title.split()[-1]}.pdf")


# --- drills ---


def drill_out(drill: RecallDrill) -> DrillOut:
    return DrillOut(**drill_summary(drill).model_dump(), report=RecallReportOut.model_validate(drill.result))


def drill_summary(drill: RecallDrill) -> DrillSummaryOut:
    return DrillSummaryOut(id=drill.id, number=drill.number, scope=drill.scope, reason=drill.reason,
                           started_at=drill.started_at, finished_at=drill.finished_at,
                           duration_ms=drill.duration_ms, lot_count=drill.lot_count,
                           consignee_count=drill.consignee_count, unbalanced_count=drill.unbalanced_count,
                           run_by=drill.user.username if drill.user else None)


def _drill(drill_id: int) -> RecallDrill:
    drill = db().get(RecallDrill, drill_id)
    if drill is None:
        raise NotFound(f"drill {drill_id} does not exist", "drill_id")
    return drill


@endpoint("/drills", summary="Mock recall drill history, newest first", tag="recalls", query=Page,
          response=DrillSummaryOut, many=True)
def list_drills(user: User, query: Page) -> list[DrillSummaryOut]:
    rows = db().scalars(select(RecallDrill).order_by(RecallDrill.id.desc()).limit(query.limit).offset(query.offset))
    return [drill_summary(d) for d in rows]


@endpoint("/drills", "POST", summary="Run a mock recall drill: the full report without holds, timed and kept",
          tag="recalls", role=Role.MANAGER, body=DrillIn, response=DrillOut, status=201, errors=(404, 422))
def run_drill(user: User, body: DrillIn) -> DrillOut:
    return drill_out(svc.run_drill(db(), body, user=user, today=today(), separator=_separator()))


@endpoint("/drills/<int:drill_id>", summary="A drill with the report it produced", tag="recalls",
          response=DrillOut, errors=(404,))
def get_drill(user: User, drill_id: int) -> DrillOut:
    return drill_out(_drill(drill_id))


def drill_file(drill_id: int) -> recall_files.ReportFile:
    d = drill_out(_drill(drill_id))
    facts = [("Mock recall drill", d.number), ("Scope", d.scope.value), ("Reason", d.reason),
             ("Started", d.started_at.isoformat(timespec="seconds")),
             ("Report finished in", f"{d.duration_ms} ms"), ("Run by", d.run_by or "")]
    return recall_files.ReportFile(title=f"Mock recall {d.number}", facts=facts, report=d.report)


@file_endpoint("/drills/<int:drill_id>/export.pdf", summary="A drill's report as PDF", tag="recalls",
               media_type="application/pdf", errors=(404,))
def drill_pdf(user: User, drill_id: int) -> FileResult:
    doc = drill_file(drill_id)
    return FileResult(recall_files.to_pdf(doc), f"{doc.title.split()[-1]}.pdf")


@file_endpoint("/drills/<int:drill_id>/export.xlsx", summary="A drill's report as an XLSX workbook",
               tag="recalls", media_type=XLSX, errors=(404,))
def drill_xlsx(user: User, drill_id: int) -> FileResult:
    doc = drill_file(drill_id)
    return FileResult(recall_files.to_xlsx(doc), f"{doc.title.split()[-1]}.xlsx")


# --- regulatory exports ---


class RangeQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    date_from: date = Field(alias="from")
    date_to: date = Field(alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.date_from > self.date_to:
            raise ValueError(f"the range runs backwards: from {self.date_from} is after to {self.date_to}")
        return self


class FsmaQuery(RangeQuery):
    sku: str | None = Field(None, description="comma-separated skus; none means every product")
    lot_id: str | None = Field(None, description="comma-separated lot ids")

    def selection(self) -> fsma204.Selection:
        skus = tuple(s.strip() for s in (self.sku or "").split(",") if s.strip())
        try:
            lots = tuple(int(x) for x in (self.lot_id or "").split(",") if x.strip())
        except ValueError:
            raise Invalid("lot_id must be comma-separated whole numbers", "lot_id") from None
        return fsma204.Selection(self.date_from, self.date_to, skus, lots)


def _fsma_rows(query: FsmaQuery) -> list[fsma204.Row]:
    return fsma204.rows(db(), query.selection(), company=current_app.config["COMPANY_NAME"])


def _range_name(prefix: str, query: RangeQuery, ext: str) -> str:
    return f"{prefix}-{query.date_from}-{query.date_to}.{ext}"


@file_endpoint("/exports/fsma204.xlsx", summary="FSMA 204 electronic sortable spreadsheet (XLSX)",
               tag="exports", media_type=XLSX, query=FsmaQuery, errors=(404,))
def fsma204_xlsx(user: User, query: FsmaQuery) -> FileResult:
    return FileResult(fsma204.to_xlsx(_fsma_rows(query)), _range_name("fsma204", query, "xlsx"))


@file_endpoint("/exports/fsma204.csv", summary="FSMA 204 electronic sortable spreadsheet (CSV)",
               tag="exports", media_type="text/csv", query=FsmaQuery, errors=(404,))
def fsma204_csv(user: User, query: FsmaQuery) -> FileResult:
    return FileResult(fsma204.to_csv(_fsma_rows(query)), _range_name("fsma204", query, "csv"))


def site() -> epcis.Site:
    cfg = current_app.config
    return epcis.Site(base_url=cfg["BASE_URL"], company=cfg["COMPANY_NAME"], timezone=cfg["TIMEZONE"])


@file_endpoint("/exports/epcis.json", summary="EPCIS 2.0 JSON-LD document of the events in a date range",
               tag="exports", media_type="application/ld+json", query=RangeQuery)
def epcis_json(user: User, query: RangeQuery) -> FileResult:
    doc = epcis.document(db(), query.date_from, query.date_to, site())
    return FileResult(epcis.to_json(doc), _range_name("epcis", query, "jsonld"))

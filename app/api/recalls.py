"""API for recalls and mock recall drills, with their reports as CSV, XLSX and PDF."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from app.adapters.mail import SmtpServer
from app.api import FileResult, endpoint, file_endpoint
from app.db import get_or_404
from app.exports import recall_files
from app.exports.sheets import XLSX
from app.models import Recall, RecallDrill, Role, User
from app.queries import notices as nq
from app.queries import recall as rq
from app.schemas import (
    CheckLevelIn,
    DrillIn,
    DrillOut,
    DrillSummaryOut,
    NoticeSendIn,
    NoticesOut,
    NotificationIn,
    Page,
    RecallCloseIn,
    RecallIn,
    RecallOut,
    RecallSummaryOut,
)
from app.services import notices as notice_svc
from app.services import recall as svc
from app.web import db, gs1_separator, now, today


def _recall(recall_id: int) -> Recall:
    recall = get_or_404(db(), Recall, recall_id, "recall_id", "recall")
    return recall


@endpoint("/recalls", summary="List recalls, newest first", tag="recalls", query=Page, response=RecallSummaryOut,
          many=True)
def list_recalls(user: User, query: Page) -> list[RecallSummaryOut]:
    return rq.recall_list(db(), limit=query.limit, offset=query.offset)


@endpoint("/recalls", "POST", summary="Open a recall: every affected lot is recalled (held) at once",
          tag="recalls", role=Role.MANAGER, body=RecallIn, response=RecallOut, status=201,
          errors=(404, 409, 422))
def open_recall(user: User, body: RecallIn) -> RecallOut:
    recall = svc.open_recall(db(), body, user=user, today=today(), separator=gs1_separator())
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


def _email_on() -> bool:
    return SmtpServer.from_config(current_app.config) is not None


@endpoint("/recalls/<int:recall_id>/notices",
          summary="The recall's notices to consignees: each one's state, and the sending progress",
          tag="recalls", response=NoticesOut, errors=(404,))
def list_notices(user: User, recall_id: int) -> NoticesOut:
    return nq.notice_rows(db(), _recall(recall_id).id, email_on=_email_on())


@endpoint("/recalls/<int:recall_id>/notices/send", "POST",
          summary="Queue notices for e-mail: the named consignees' (re-sending), or every one not yet sent",
          tag="recalls", role=Role.MANAGER, body=NoticeSendIn, response=NoticesOut, errors=(404, 409, 422))
def send_notices(user: User, recall_id: int, body: NoticeSendIn) -> NoticesOut:
    notice_svc.queue(db(), recall_id, body, email_on=_email_on(), now=now())
    return nq.notice_rows(db(), recall_id, email_on=_email_on())


@endpoint("/recalls/<int:recall_id>/check-level", "PUT",
          summary="Set the FDA effectiveness-check level (A 100 %, B a share you give, C 10 %, D 2 %, E none)",
          tag="recalls", role=Role.MANAGER, body=CheckLevelIn, response=RecallOut, errors=(404, 422))
def set_check_level(user: User, recall_id: int, body: CheckLevelIn) -> RecallOut:
    notice_svc.set_check_level(db(), recall_id, body)
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


def _drill(drill_id: int) -> RecallDrill:
    drill = get_or_404(db(), RecallDrill, drill_id, "drill_id", "drill")
    return drill


@endpoint("/drills", summary="Mock recall drill history, newest first", tag="recalls", query=Page,
          response=DrillSummaryOut, many=True)
def list_drills(user: User, query: Page) -> list[DrillSummaryOut]:
    rows = db().scalars(select(RecallDrill).order_by(RecallDrill.id.desc()).limit(query.limit).offset(query.offset))
    return [rq.drill_summary(d) for d in rows]


@endpoint("/drills", "POST", summary="Run a mock recall drill: the full report without holds, timed and kept",
          tag="recalls", role=Role.MANAGER, body=DrillIn, response=DrillOut, status=201, errors=(404, 422))
def run_drill(user: User, body: DrillIn) -> DrillOut:
    return rq.drill_out(svc.run_drill(db(), body, user=user, today=today(), separator=gs1_separator()))


@endpoint("/drills/<int:drill_id>", summary="A drill with the report it produced", tag="recalls",
          response=DrillOut, errors=(404,))
def get_drill(user: User, drill_id: int) -> DrillOut:
    return rq.drill_out(_drill(drill_id))


def drill_file(drill_id: int) -> recall_files.ReportFile:
    d = rq.drill_out(_drill(drill_id))
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

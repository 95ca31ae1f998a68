"""API for lot labels (PDF, ZPL, PNG, SVG), printing to network label printers, and printer settings."""

from __future__ import annotations

from flask import current_app

from app.api import FileResult, endpoint, file_endpoint
from app.models import LabelPrintJob, Role, User
from app.queries import labels as q
from app.schemas import (
    PDF_LAYOUTS,
    THERMAL_SIZES,
    FileQuery,
    LabelSettingsOut,
    LabelSettingsPatch,
    PdfQuery,
    PngQuery,
    PrinterIn,
    PrinterOut,
    PrinterPatch,
    PrintIn,
    PrintJobOut,
    ZplQuery,
)
from app.services import printing
from app.services.idempotency import IdempotencyKey
from app.web import db
from labels import SIZES

PDF = "application/pdf"
ZPL = "application/vnd.zebra-zpl"
FILE_ERRORS = (404, 422)


def site() -> q.LabelSite:
    """Company name and Digital Link base URL from the configuration."""
    return q.LabelSite.from_config(current_app.config)


def timeout() -> float:
    """Seconds to wait for a printer."""
    return float(current_app.config["LABEL_PRINTER_TIMEOUT"])


def preview_size(defaults: q.LabelDefaults) -> str:
    """The size a preview shows when none is asked for: the PDF size if it is a single label."""
    return defaults.pdf_size if defaults.pdf_size in SIZES else defaults.zpl_size


def pdf_file(batch: q.LabelBatch, query: PdfQuery) -> FileResult:
    layout = query.size or q.label_defaults(db()).pdf_size
    f = q.render_pdf(batch, layout, query.copies)
    return FileResult(f.content, f.filename)


def zpl_file(batch: q.LabelBatch, query: ZplQuery) -> FileResult:
    defaults = q.label_defaults(db())
    f = q.render_zpl(batch, query.size or defaults.zpl_size, query.dpi or defaults.zpl_dpi, query.copies)
    return FileResult(f.content, f.filename)


def job_out(job: LabelPrintJob) -> PrintJobOut:
    message = (f"Sent {job.labels} label{'s' if job.labels != 1 else ''} ({job.subject}, {job.size}) "
               f"to printer {job.printer.name!r}.")
    return PrintJobOut(id=job.id, printer_id=job.printer_id, printer_name=job.printer.name, subject=job.subject,
                       labels=job.labels, copies=job.copies, size=job.size, dpi=job.dpi, bytes_sent=job.bytes_sent,
                       created_at=job.created_at, message=message)


# --- files -------------------------------------------------------------------------------------


@file_endpoint("/labels/lots/<int:lot_id>.pdf", summary="A lot's label as PDF, ready to print", tag="labels",
               media_type=PDF, role=Role.OPERATOR, query=PdfQuery, errors=FILE_ERRORS, inline=True)
def lot_label_pdf(user: User, lot_id: int, query: PdfQuery) -> FileResult:
    return pdf_file(q.labels_for_lot(db(), lot_id, site=site()), query)


@file_endpoint("/labels/lots/<int:lot_id>.zpl", summary="A lot's label as ZPL for a thermal printer", tag="labels",
               media_type=ZPL, role=Role.OPERATOR, query=ZplQuery, errors=FILE_ERRORS)
def lot_label_zpl(user: User, lot_id: int, query: ZplQuery) -> FileResult:
    return zpl_file(q.labels_for_lot(db(), lot_id, site=site()), query)


@file_endpoint("/labels/lots/<int:lot_id>.png", summary="A preview of a lot's label as PNG at printer resolution",
               tag="labels", media_type="image/png", query=PngQuery, errors=FILE_ERRORS, inline=True)
def lot_label_png(user: User, lot_id: int, query: PngQuery) -> FileResult:
    size = query.size or preview_size(q.label_defaults(db()))
    f = q.render_png(q.labels_for_lot(db(), lot_id, site=site()), size, query.dpi)
    return FileResult(f.content, f.filename)


@file_endpoint("/labels/lots/<int:lot_id>.svg", summary="A preview of a lot's label as SVG", tag="labels",
               media_type="image/svg+xml", query=FileQuery, errors=FILE_ERRORS, inline=True)
def lot_label_svg(user: User, lot_id: int, query: FileQuery) -> FileResult:
    size = query.size or preview_size(q.label_defaults(db()))
    f = q.render_svg(q.labels_for_lot(db(), lot_id, site=site()), size)
    return FileResult(f.content, f.filename)


@file_endpoint("/labels/receipts/<int:receipt_id>.pdf", summary="Labels for every lot of a receipt as PDF",
               tag="labels", media_type=PDF, role=Role.OPERATOR, query=PdfQuery, errors=FILE_ERRORS, inline=True)
def receipt_labels_pdf(user: User, receipt_id: int, query: PdfQuery) -> FileResult:
    return pdf_file(q.labels_for_receipt(db(), receipt_id, site=site()), query)


@file_endpoint("/labels/receipts/<int:receipt_id>.zpl", summary="Labels for every lot of a receipt as ZPL",
               tag="labels", media_type=ZPL, role=Role.OPERATOR, query=ZplQuery, errors=FILE_ERRORS)
def receipt_labels_zpl(user: User, receipt_id: int, query: ZplQuery) -> FileResult:
    return zpl_file(q.labels_for_receipt(db(), receipt_id, site=site()), query)


@file_endpoint("/labels/production-runs/<int:run_id>.pdf", summary="Labels for a production run's output lot as PDF",
               tag="labels", media_type=PDF, role=Role.OPERATOR, query=PdfQuery, errors=FILE_ERRORS, inline=True)
def run_labels_pdf(user: User, run_id: int, query: PdfQuery) -> FileResult:
    return pdf_file(q.labels_for_run(db(), run_id, site=site()), query)


@file_endpoint("/labels/production-runs/<int:run_id>.zpl", summary="Labels for a production run's output lot as ZPL",
               tag="labels", media_type=ZPL, role=Role.OPERATOR, query=ZplQuery, errors=FILE_ERRORS)
def run_labels_zpl(user: User, run_id: int, query: ZplQuery) -> FileResult:
    return zpl_file(q.labels_for_run(db(), run_id, site=site()), query)


# --- printing ----------------------------------------------------------------------------------


def batch_for(body: PrintIn) -> q.LabelBatch:
    """The labels a print request names: lots, a receipt's lots or a run's output lot."""
    if body.receipt_id is not None:
        return q.labels_for_receipt(db(), body.receipt_id, site=site())
    if body.run_id is not None:
        return q.labels_for_run(db(), body.run_id, site=site())
    assert body.lot_ids is not None  # the schema demands exactly one subject
    return q.labels_for_lots(db(), body.lot_ids, site=site())


@endpoint("/labels/print", "POST", summary="Print labels on a network label printer (raw ZPL to its port)",
          tag="labels", role=Role.OPERATOR, body=PrintIn, response=PrintJobOut, status=201,
          errors=(404, 409, 422, 502, 504), idempotent=True, keep_answer=False)
def print_labels(user: User, body: PrintIn, request_key: IdempotencyKey | None) -> PrintJobOut:
    s = db()
    q.printer(s, body.printer_id)  # an unknown printer is named before anything about the labels
    job = printing.print_labels(s, body.printer_id, batch_for(body), size=body.size, copies=body.copies, user=user,
                                timeout=timeout(), request_key=request_key)
    return job_out(job)


# --- printers and defaults ---------------------------------------------------------------------


@endpoint("/printers", summary="List label printers", tag="printers", response=PrinterOut, many=True)
def list_printers(user: User) -> list[PrinterOut]:
    return [PrinterOut.model_validate(p) for p in q.printers(db())]


@endpoint("/printers", "POST", summary="Add a network label printer", tag="printers", role=Role.MANAGER,
          body=PrinterIn, response=PrinterOut, status=201, errors=(409, 422))
def create_printer(user: User, body: PrinterIn) -> PrinterOut:
    return PrinterOut.model_validate(printing.create_printer(db(), body))


@endpoint("/printers/<int:printer_id>", summary="Get a label printer", tag="printers", response=PrinterOut,
          errors=(404,))
def get_printer(user: User, printer_id: int) -> PrinterOut:
    return PrinterOut.model_validate(q.printer(db(), printer_id))


@endpoint("/printers/<int:printer_id>", "PATCH", summary="Change a label printer's settings", tag="printers",
          role=Role.MANAGER, body=PrinterPatch, response=PrinterOut, errors=(404, 409, 422))
def update_printer(user: User, printer_id: int, body: PrinterPatch) -> PrinterOut:
    return PrinterOut.model_validate(printing.update_printer(db(), printer_id, body))


@endpoint("/printers/<int:printer_id>/test", "POST", summary="Print a test label showing the printer's settings",
          tag="printers", role=Role.MANAGER, response=PrintJobOut, status=201, errors=(404, 409, 502, 504))
def test_printer(user: User, printer_id: int) -> PrintJobOut:
    return job_out(printing.print_check_label(db(), printer_id, user=user, timeout=timeout()))


def settings_out() -> LabelSettingsOut:
    d = q.label_defaults(db())
    return LabelSettingsOut(pdf_size=d.pdf_size, zpl_size=d.zpl_size, zpl_dpi=d.zpl_dpi, pdf_sizes=list(PDF_LAYOUTS),
                            zpl_sizes=list(THERMAL_SIZES))


@endpoint("/label-settings", summary="The site's default label sizes", tag="printers", response=LabelSettingsOut)
def get_label_settings(user: User) -> LabelSettingsOut:
    return settings_out()


@endpoint("/label-settings", "PATCH", summary="Change the site's default label sizes", tag="printers",
          role=Role.MANAGER, body=LabelSettingsPatch, response=LabelSettingsOut, errors=(422,))
def update_label_settings(user: User, body: LabelSettingsPatch) -> LabelSettingsOut:
    printing.save_label_settings(db(), body)
    return settings_out()


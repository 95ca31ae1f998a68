"""Label pages: print labels (PDF, ZPL download, network printer), printer settings, Digital Link lookups."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from pydantic import ValidationError

from app.errors import Invalid, LotwiseError, NotFound, validation_error
from app.models import ProductionRun, Receipt, Role
from app.queries import labels as q
from app.schemas import (
    PrintForm,
    pdf_layout,
    thermal_size,
)
from app.services import printing
from app.views import choices
from app.views.forms import Form, attempt
from app.web import current_user, db, login_required, printer_timeout
from labels import SIZES

bp = Blueprint("labels", __name__, url_prefix="/labels")

T = TypeVar("T")

PREVIEWS = 6
"""Distinct labels previewed on the print page; a long receipt shows its first few."""
PREVIEW_DPI = 203




# --- what to print -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """What the print page prints, read from its query string, and the page it came from."""

    args: dict[str, Any]
    batch: q.LabelBatch
    back_url: str
    back_text: str


def _ident(name: str) -> int:
    raw = request.args.get(name, "")
    if not raw.isdigit():
        raise NotFound(f"{name} {raw!r} does not exist", name)
    return int(raw)


def _quantities() -> list[Decimal | None] | None:
    """The ?qty= values, one per ?lot= (blank for none), as a pick list passes them."""
    raw = request.args.getlist("qty")
    if not raw:
        return None
    out: list[Decimal | None] = []
    for x in raw:
        try:
            out.append(Decimal(x) if x.strip() else None)
        except InvalidOperation:
            raise Invalid(f"quantity {x!r} is not a number", "qty") from None
    return out


def _subject() -> Subject:
    """The lot(s), receipt or production run named by ?lot=ID (repeatable, with ?qty=), ?receipt=ID or ?run=ID."""
    s = db()
    site = q.LabelSite.from_config(current_app.config)
    given = [name for name in ("lot", "receipt", "run") if name in request.args]
    if len(given) != 1:
        raise Invalid("say what to print: ?lot=ID, ?receipt=ID or ?run=ID", None)
    if given[0] == "receipt":
        receipt_id = _ident("receipt")
        batch = q.labels_for_receipt(s, receipt_id, site=site)
        receipt = s.get_one(Receipt, receipt_id)
        return Subject({"receipt": receipt_id}, batch, url_for("receipts.detail", receipt_id=receipt_id),
                       f"Receipt {receipt.number}")
    if given[0] == "run":
        run_id = _ident("run")
        batch = q.labels_for_run(s, run_id, site=site)
        run = s.get_one(ProductionRun, run_id)
        return Subject({"run": run_id}, batch, url_for("runs.detail", run_id=run_id), f"Run {run.number}")
    raw = request.args.getlist("lot")
    if not all(x.isdigit() for x in raw):
        raise NotFound(f"lot {', '.join(x for x in raw if not x.isdigit())!r} does not exist", "lot")
    lot_ids = [int(x) for x in raw]
    quantities = _quantities()
    batch = q.labels_for_lots(s, lot_ids, quantities, site=site)
    args: dict[str, Any] = {"lot": lot_ids}
    if quantities is not None:
        args["qty"] = request.args.getlist("qty")
    if len(set(lot_ids)) == 1:
        return Subject(args, batch, url_for("lots.detail", lot_id=lot_ids[0]), f"Lot {batch.labels[0].lot_code}")
    return Subject(args, batch, url_for("lots.index"), "Lots")


# --- the print page ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    """One label as the print page shows it."""

    lot_code: str
    sku: str
    product_name: str
    quantity: str
    expiry: str
    image: str | None
    """A data: URL of the label as the printer prints it, or None when it cannot be laid out."""


def _previews(batch: q.LabelBatch, size: str) -> tuple[list[Preview], str | None]:
    """The first few distinct labels drawn at `size`, and the error if they cannot be."""
    seen: dict[tuple[str, str, str], Preview] = {}
    error: str | None = None
    for label in batch.labels:
        key = (label.sku, label.lot_code, label.quantity_text)
        if key in seen or len(seen) >= PREVIEWS:
            continue
        image = None
        if error is None:
            try:
                png = q.render_png(q.LabelBatch(batch.subject, batch.stem, [], [label]), size, PREVIEW_DPI).content
                image = "data:image/png;base64," + base64.b64encode(png).decode()
            except LotwiseError as exc:
                error = exc.message
        seen[key] = Preview(label.lot_code, label.sku, label.product_name, label.quantity_text,
                            label.expiry.isoformat() if label.expiry else "", image)
    return list(seen.values()), error


def _print_page(subject: Subject | None, form: Form, *, problem: str | None = None) -> Any:
    defaults = q.label_defaults(db())
    preview_size = request.args.get("size") or (defaults.pdf_size if defaults.pdf_size in SIZES
                                                 else defaults.zpl_size)
    previews: list[Preview] = []
    if subject is not None:
        if preview_size not in SIZES:
            preview_size = defaults.zpl_size
        previews, problem_here = _previews(subject.batch, preview_size)
        problem = problem or problem_here
    if problem:
        problem = problem[:1].upper() + problem[1:]
    active = q.printers(db(), active_only=True)
    return render_template(
        "labels/print.html", subject=subject, form=form, previews=previews, preview_size=preview_size,
        preview_choices=choices.size_choices(tuple(SIZES)), pdf_choices=choices.PDF_CHOICES,
        zpl_choices=choices.ZPL_CHOICES, dpi_choices=choices.DPI_CHOICES,
        printers=[(str(p.id), f"{p.name} · {p.default_size} · {p.dpi} dpi") for p in active],
        problem=problem, defaults=defaults, preview_dpi=PREVIEW_DPI,
    ), form.status


def _form_defaults(defaults: q.LabelDefaults) -> Form:
    active = q.printers(db(), active_only=True)
    return Form({"pdf_size": defaults.pdf_size, "zpl_size": "", "pdf_copies": "1", "zpl_copies": "1",
                 "dpi": str(defaults.zpl_dpi),
                 "printer_id": str(active[0].id) if len(active) == 1 else ""})


@bp.get("/print")
@login_required(Role.OPERATOR)
def print_page() -> Any:
    form = _form_defaults(q.label_defaults(db()))
    try:
        subject = _subject()
    except LotwiseError as exc:
        form.status = exc.status
        return _print_page(None, form, problem=exc.message)
    return _print_page(subject, form)


def _file(f: q.LabelFile, *, inline: bool) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(f.content, mimetype=f.media_type,
                    headers={"Content-Disposition": f'{disposition}; filename="{f.filename}"'})


def _checked(form: Form, prefix: str) -> PrintForm:
    """The PDF or ZPL form's size and copies (fields named `prefix`_size, `prefix`_copies), resolution and printer."""
    data = {"size": form.value(f"{prefix}_size").strip() or None,
            "copies": form.value(f"{prefix}_copies").strip() or "1"}
    if prefix == "zpl":
        data["dpi"] = form.value("dpi").strip() or None
        data["printer_id"] = form.value("printer_id").strip() or None
    cmd = PrintForm.model_validate(data)
    try:
        (pdf_layout if prefix == "pdf" else thermal_size)(cmd.size)
    except ValueError as exc:
        raise Invalid(str(exc), "size") from None
    return cmd


def _for_form(prefix: str, action: Callable[[], T]) -> T:
    """`action()`, with errors about the size or copies pointed at the PDF or ZPL form's own fields."""
    try:
        return action()
    except ValidationError as exc:
        error = validation_error(exc)
    except Invalid as exc:
        error = exc
    if error.field in ("size", "copies"):
        named = f"{prefix}_{error.field}"
        if error.message.startswith(error.field):
            error.message = named + error.message[len(error.field):]
        error.field = named
    raise error


def _pdf(subject: Subject, form: Form) -> Response:
    cmd = _checked(form, "pdf")
    layout = cmd.size or q.label_defaults(db()).pdf_size
    return _file(q.render_pdf(subject.batch, layout, cmd.copies), inline=True)


def _zpl(subject: Subject, form: Form) -> Response:
    cmd = _checked(form, "zpl")
    defaults = q.label_defaults(db())
    return _file(q.render_zpl(subject.batch, cmd.size or defaults.zpl_size, cmd.dpi or defaults.zpl_dpi,
                              cmd.copies), inline=False)


def _send(subject: Subject, form: Form) -> str:
    cmd = _checked(form, "zpl")
    if cmd.printer_id is None:
        raise Invalid("choose a printer, or download the ZPL instead", "printer_id")
    job = printing.print_labels(db(), cmd.printer_id, subject.batch, size=cmd.size, copies=cmd.copies,
                                user=current_user(), timeout=printer_timeout(), request_key=form.idempotency_key)
    plural = "s" if job.labels != 1 else ""
    return f"Sent {job.labels} label{plural} ({job.subject}, {job.size}) to printer {job.printer.name!r}."


@bp.post("/print")
@login_required(Role.OPERATOR)
def print_post() -> Any:
    form = Form.posted({"pdf_size": "Size", "zpl_size": "Size", "pdf_copies": "Copies", "zpl_copies": "Copies",
                        "printer_id": "Printer", "dpi": "Resolution"})
    # Only one of the page's two forms was sent; the other shows its defaults again.
    for name, value in _form_defaults(q.label_defaults(db())).values.items():
        form.values.setdefault(name, value)
    try:
        subject = _subject()
    except LotwiseError as exc:
        form.status = exc.status
        return _print_page(None, form, problem=exc.message)
    action = form.value("action")
    if action == "pdf":
        pdf = attempt(form, lambda: _for_form("pdf", lambda: _pdf(subject, form)))
        return pdf if pdf is not None else _print_page(subject, form)
    if action == "zpl":
        zpl = attempt(form, lambda: _for_form("zpl", lambda: _zpl(subject, form)))
        return zpl if zpl is not None else _print_page(subject, form)
    if action == "print":
        message = attempt(form, lambda: _for_form("zpl", lambda: _send(subject, form)))
        if message is None:
            return _print_page(subject, form)
        flash(message, "success")
        return redirect(url_for("labels.print_page", size=request.args.get("size") or None, **subject.args))
    form.fail(Invalid("choose PDF, ZPL download or a printer", "action"))
    return _print_page(subject, form)


# --- printer settings --------------------------------------------------------------------------


# --- GS1 Digital Link: the URL in a label's QR code opens the lot's page ----------------------



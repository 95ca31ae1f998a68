"""Label printer pages (managers): network printers, their test print, and the label defaults."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for

from app.errors import Invalid, LotwiseError, NotFound
from app.models import Role
from app.queries import labels as q
from app.schemas import (
    LabelSettingsPatch,
    PrinterIn,
    PrinterPatch,
)
from app.services import printing
from app.views import choices
from app.views.forms import Form, attempt
from app.web import current_user, db, login_required, printer_timeout

bp = Blueprint("printers", __name__, url_prefix="/printers")


PRINTER_LABELS = {"name": "Name", "host": "Host", "port": "Port", "dpi": "Resolution",
                  "default_size": "Label size", "check_status": "Status check", "printer_id": "Printer"}


CHECKBOXES = ("check_status", "active")


def _printers_page(form: Form, defaults_form: Form) -> Any:
    s = db()
    jobs = q.recent_jobs(s)
    return render_template("labels/printers.html", printers=q.printers(s), form=form, defaults_form=defaults_form,
                           jobs=jobs, zpl_choices=choices.ZPL_CHOICES, pdf_choices=choices.PDF_CHOICES,
                           dpi_choices=choices.DPI_CHOICES,
                           ), max(form.status, defaults_form.status)


def _defaults_form() -> Form:
    d = q.label_defaults(db())
    return Form({"pdf_size": d.pdf_size, "zpl_size": d.zpl_size, "zpl_dpi": str(d.zpl_dpi)})


def _new_printer_form() -> Form:
    return Form({"port": "9100", "dpi": "203", "default_size": "4x6", "check_status": "true", "active": "true"})


@bp.get("")
@login_required(Role.MANAGER)
def index() -> Any:
    return _printers_page(_new_printer_form(), _defaults_form())


@bp.post("")
@login_required(Role.MANAGER)
def create() -> Any:
    form = Form.posted(PRINTER_LABELS)
    row = attempt(form, lambda: printing.create_printer(
        db(), PrinterIn.model_validate(form.data(PrinterIn, checkboxes=CHECKBOXES))))
    if row is None:
        return _printers_page(form, _defaults_form())
    flash(f"Printer {row.name!r} added. Print a test label to check it.", "success")
    return redirect(url_for("printers.index"))


@bp.post("/defaults")
@login_required(Role.MANAGER)
def save_defaults() -> Any:
    form = Form.posted({"pdf_size": "PDF size", "zpl_size": "ZPL size", "zpl_dpi": "ZPL resolution"})
    saved = attempt(form, lambda: printing.save_label_settings(
        db(), LabelSettingsPatch.model_validate(form.data(LabelSettingsPatch))))
    if saved is None:
        return _printers_page(_new_printer_form(), form)
    flash("Default label sizes saved.", "success")
    return redirect(url_for("printers.index"))


def _edit_page(printer_id: int, form: Form) -> Any:
    return render_template("labels/printer_form.html", printer=q.printer(db(), printer_id), form=form,
                           zpl_choices=choices.ZPL_CHOICES, dpi_choices=choices.DPI_CHOICES), form.status


@bp.get("/<int:printer_id>")
@login_required(Role.MANAGER)
def edit(printer_id: int) -> Any:
    row = q.printer(db(), printer_id)
    return _edit_page(printer_id, Form({
        "name": row.name, "host": row.host, "port": str(row.port), "dpi": str(row.dpi),
        "default_size": row.default_size, "check_status": str(row.check_status).lower(),
        "active": str(row.active).lower()}))


@bp.post("/<int:printer_id>")
@login_required(Role.MANAGER)
def update(printer_id: int) -> Any:
    form = Form.posted(PRINTER_LABELS)

    def save() -> Any:
        data = form.data(PrinterPatch, checkboxes=CHECKBOXES)
        for name in ("name", "host", "port"):
            if data.get(name) is None:
                raise Invalid(f"{PRINTER_LABELS[name].lower()} must not be blank", name)
        return printing.update_printer(db(), printer_id, PrinterPatch.model_validate(data))

    row = attempt(form, save)
    if row is None:
        return _edit_page(printer_id, form)
    flash(f"Printer {row.name!r} saved.", "success")
    return redirect(url_for("printers.index"))


@bp.post("/<int:printer_id>/test")
@login_required(Role.MANAGER)
def test_print(printer_id: int) -> Any:
    try:
        job = printing.print_check_label(db(), printer_id, user=current_user(), timeout=printer_timeout())
    except LotwiseError as exc:
        if isinstance(exc, NotFound):
            raise
        db().rollback()
        flash(exc.message, "error")
    else:
        flash(f"Test label sent to printer {job.printer.name!r}.", "success")
    return redirect(url_for("printers.index"))

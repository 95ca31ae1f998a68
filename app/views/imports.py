"""Onboarding pages (managers): upload a workbook, watch it being checked, read the preview, confirm the import.

The check and the import run in a background thread of the server that took the upload, so no request
waits a minute for 50,000 rows; the page polls the upload's status. The file and the report are kept in
the database (`data_import`), so any server can show them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.errors import Invalid, LotwiseError
from app.models import DataImport, ImportStatus, Role
from app.schemas import SheetName
from app.services import imports as service
from app.views.forms import Form, attempt
from app.web import current_user, db, login_required

bp = Blueprint("imports", __name__, url_prefix="/imports")
log = logging.getLogger(__name__)

# (rows read, rows in the file) of the runs in this process, fresher than the database while an import's
# transaction holds SQLite's write lock; another process reads the row's own counts.
_PROGRESS: dict[int, tuple[int, int]] = {}

SHEET_CHOICES = [("", "— an .xlsx workbook, or a CSV named after its sheet —"),
                 *((s.value, f"CSV: {s.value}") for s in SheetName)]


def _max_bytes() -> int:
    return int(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024


def _in_background(app: Flask, import_id: int, job: Callable[[Session, service.Progress], Any]) -> None:
    """Run `job` on its own session in a thread; a refusal or a crash is recorded on the upload."""
    factory = app.extensions["lotwise.sessions"]
    # SQLite has one writer: while the import's transaction holds it, progress stays in this process.
    shared = app.extensions["lotwise.engine"].dialect.name != "sqlite"

    def target() -> None:
        with factory() as s, factory() as side:
            def progress(done: int, total: int) -> None:
                _PROGRESS[import_id] = (done, total)
                status = s.get(DataImport, import_id)
                if shared or (status is not None and status.status is ImportStatus.CHECKING):
                    try:
                        service.note_progress(side, import_id, done, total)
                    except Exception:  # progress is a nicety; the run goes on
                        side.rollback()

            try:
                job(s, progress)
            except LotwiseError as exc:
                s.rollback()
                service.set_status(s, import_id, ImportStatus.FAILED, message=exc.message)
            except Exception:
                log.exception("import %s failed", import_id)
                s.rollback()
                service.set_status(s, import_id, ImportStatus.FAILED,
                                   message="the import stopped on an unexpected error; nothing was written")
            finally:
                _PROGRESS.pop(import_id, None)

    threading.Thread(target=target, name=f"import-{import_id}", daemon=True).start()


def _index_page(form: Form) -> Any:
    recent = db().scalars(select(DataImport).order_by(DataImport.id.desc()).limit(20)).all()
    return render_template("imports/index.html", form=form, recent=recent, sheet_choices=SHEET_CHOICES), form.status


@bp.get("")
@login_required(Role.MANAGER)
def index() -> Any:
    return _index_page(Form())


@bp.post("")
@login_required(Role.MANAGER)
def upload() -> Any:
    form = Form.posted({"file": "File", "sheet": "Sheet", "update": "Update", "skip_bad": "Skip bad rows"})
    file = request.files.get("file")

    def store() -> DataImport:
        if file is None or not file.filename:
            raise Invalid("choose the file to import", "file")
        sheet = SheetName(form.value("sheet")) if form.value("sheet") in {s.value for s in SheetName} else None
        options = service.Options(update=form.checked("update"), skip_bad=form.checked("skip_bad"))
        return service.store_upload(db(), file.read(), filename=file.filename, sheet=sheet, options=options,
                                    user=current_user(), max_bytes=_max_bytes())

    record = attempt(form, store)
    if record is None:
        return _index_page(form)
    app, day, limit = current_app._get_current_object(), clock.today(current_app.config["TIMEZONE"]), _max_bytes()  # type: ignore[attr-defined]
    _in_background(app, record.id, lambda s, progress: service.check_upload(
        s, record.id, today=day, max_bytes=limit, progress=progress))
    return redirect(url_for("imports.detail", import_id=record.id))


@bp.get("/<int:import_id>")
@login_required(Role.MANAGER)
def detail(import_id: int) -> Any:
    record = service.upload(db(), import_id)
    done, total = _PROGRESS.get(import_id, (record.rows_done, record.rows_total))
    return render_template("imports/detail.html", record=record, report=record.report, done=done, total=total,
                           running=record.status in (ImportStatus.UPLOADED, ImportStatus.CHECKING,
                                                     ImportStatus.IMPORTING))


@bp.get("/<int:import_id>/status")
@login_required(Role.MANAGER)
def status(import_id: int) -> Any:
    record = service.upload(db(), import_id)
    done, total = _PROGRESS.get(import_id, (record.rows_done, record.rows_total))
    return jsonify({"status": record.status.value, "rows_done": done, "rows_total": total,
                    "message": record.message})


@bp.post("/<int:import_id>/confirm")
@login_required(Role.MANAGER)
def confirm(import_id: int) -> Any:
    service.claim_upload(db(), import_id)
    app, day, limit = current_app._get_current_object(), clock.today(current_app.config["TIMEZONE"]), _max_bytes()  # type: ignore[attr-defined]
    user_id = current_user().id  # type: ignore[union-attr]

    def job(s: Session, progress: service.Progress) -> None:
        from app.models import User

        service.confirm_upload(s, import_id, user=s.get(User, user_id), today=day, max_bytes=limit,
                               progress=progress)

    _in_background(app, import_id, job)
    return redirect(url_for("imports.detail", import_id=import_id))

"""API for onboarding: import the workbook (or check it), download its template, export what Lotwise holds."""

from __future__ import annotations

from flask import current_app, request

from app.api import FileResult, file_endpoint, upload_endpoint
from app.exports.sheets import XLSX
from app.exports.workbook import export, template
from app.models import Role, User
from app.queries.workbook import workbook_rows
from app.schemas import ImportForm, ImportOut
from app.schemas.imports import sheet_named
from app.services.imports import Options, import_workbook
from app.web import db, today


@upload_endpoint("/imports", summary="Import (or with dry_run, check) the onboarding workbook", tag="imports",
                 form=ImportForm, role=Role.MANAGER, response=ImportOut, errors=(409, 413, 422))
def import_file(user: User, body: ImportForm) -> ImportOut:
    upload = request.files.get("file")
    filename = body.filename or (upload.filename if upload is not None else None)
    return import_workbook(db(), body.file, filename=filename, sheet=sheet_named(body.sheet),
                           options=Options(dry_run=body.dry_run, update=body.update, skip_bad=body.skip_bad),
                           user=user, today=today(), max_bytes=int(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024)


@file_endpoint("/imports/template.xlsx", summary="The empty onboarding workbook, with a notes sheet on each column",
               tag="imports", media_type=XLSX)
def import_template(user: User) -> FileResult:
    return FileResult(template(), "lotwise-onboarding.xlsx")


@file_endpoint("/imports/export.xlsx", summary="What Lotwise holds as the onboarding workbook (imports back unchanged)",
               tag="imports", media_type=XLSX)
def export_workbook(user: User) -> FileResult:
    return FileResult(export(workbook_rows(db())), f"lotwise-{today().isoformat()}.xlsx")

"""API for the regulatory exports: the FSMA 204 sortable spreadsheet and EPCIS 2.0 events, for a recall, a lot
with its trace, a product or a date range."""

from __future__ import annotations

from collections.abc import Iterator

from flask import current_app

from app.api import FileResult, file_endpoint
from app.exports import epcis, fsma204
from app.exports.sheets import XLSX
from app.models import User
from app.queries.regulatory import epcis_events, fsma204_events
from app.schemas import ExportQuery, FsmaQuery
from app.web import db


def _fsma_rows(query: FsmaQuery) -> Iterator[fsma204.Row]:
    cfg = current_app.config
    return fsma204.rows(fsma204_events(db(), query.selection()), company=cfg["COMPANY_NAME"], web=cfg["BASE_URL"])


@file_endpoint("/exports/fsma204.xlsx", summary="FSMA 204 electronic sortable spreadsheet (XLSX)",
               tag="exports", media_type=XLSX, query=FsmaQuery, errors=(400, 404))
def fsma204_xlsx(user: User, query: FsmaQuery) -> FileResult:
    # Streamed: the rows are read, written, zipped and sent in batches.
    return FileResult(fsma204.xlsx_chunks(_fsma_rows(query)), query.file_name("fsma204", "xlsx"))


@file_endpoint("/exports/fsma204.csv", summary="FSMA 204 electronic sortable spreadsheet (CSV)",
               tag="exports", media_type="text/csv", query=FsmaQuery, errors=(400, 404))
def fsma204_csv(user: User, query: FsmaQuery) -> FileResult:
    # Streamed: the rows are read, written and sent in batches.
    return FileResult(fsma204.csv_chunks(_fsma_rows(query)), query.file_name("fsma204", "csv"))


def site() -> epcis.Site:
    cfg = current_app.config
    return epcis.Site(base_url=cfg["BASE_URL"], company=cfg["COMPANY_NAME"], timezone=cfg["TIMEZONE"])


@file_endpoint("/exports/epcis.json", summary="EPCIS 2.0 JSON-LD document of a recall, a lot, a product or a "
               "date range", tag="exports", media_type="application/ld+json", query=ExportQuery, errors=(400, 404))
def epcis_json(user: User, query: ExportQuery) -> FileResult:
    here = site()
    sel = query.selection()
    events = epcis_events(db(), sel.date_from, sel.date_to, here.timezone, sel)
    return FileResult(epcis.json_chunks(events, here), query.file_name("epcis", "jsonld"))

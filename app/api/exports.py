"""API for the regulatory exports: the FSMA 204 sortable spreadsheet and EPCIS 2.0 events."""

from __future__ import annotations

from flask import current_app

from app.api import FileResult, file_endpoint
from app.exports import epcis, fsma204
from app.exports.sheets import XLSX
from app.models import User
from app.queries.regulatory import epcis_events, fsma204_events
from app.schemas import (
    FsmaQuery,
    FsmaSelection,
    RangeQuery,
)
from app.web import db


def _fsma_rows(query: FsmaQuery) -> list[fsma204.Row]:
    selection = FsmaSelection(query.date_from, query.date_to, query.skus(), query.lot_ids())
    return fsma204.rows(fsma204_events(db(), selection), company=current_app.config["COMPANY_NAME"])


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
    here = site()
    doc = epcis.document(epcis_events(db(), query.date_from, query.date_to, here.timezone), here)
    return FileResult(epcis.to_json(doc), _range_name("epcis", query, "jsonld"))

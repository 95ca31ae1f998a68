"""Workbook imports: one row per uploaded file, its options, progress and report.

The row is the reference of the opening-stock movements it books (`ref_type` "opening"), and it is
where a page that polls an import running in the background reads its state from.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime
from app.models.common import TimestampMixin, enum_column


class ImportStatus(enum.StrEnum):
    UPLOADED = "uploaded"  # stored, not yet checked
    CHECKING = "checking"  # the dry run is reading it
    CHECKED = "checked"  # the dry run's report is ready; waiting for a confirmation
    IMPORTING = "importing"
    DONE = "done"
    FAILED = "failed"  # the file could not be read, or the import was refused; nothing written


class DataImport(TimestampMixin, Base):
    __tablename__ = "data_import"
    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    status: Mapped[ImportStatus] = mapped_column(enum_column(ImportStatus, "import_status"),
                                                 default=ImportStatus.UPLOADED)
    update_existing: Mapped[bool] = mapped_column(Boolean, default=False)
    skip_bad: Mapped[bool] = mapped_column(Boolean, default=False)
    sheet: Mapped[str | None] = mapped_column(String(40))
    # The uploaded file, kept between the page's preview and its confirmation (any server may take
    # the confirmation), and dropped once the import has run.
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    # The last report (dry run or import), as the API answers it.
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    message: Mapped[str | None] = mapped_column(String(500))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

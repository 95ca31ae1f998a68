"""Label printers, label settings and print jobs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, utcnow
from app.models.common import TimestampMixin
from app.models.users import User

__all__ = ["LabelPrintJob", "LabelPrinter", "LabelSettings"]


class LabelPrinter(TimestampMixin, Base):
    """A thermal printer that takes raw ZPL on a TCP port (9100 on Zebra and compatible printers)."""

    __tablename__ = "label_printer"
    __table_args__ = (
        CheckConstraint("port BETWEEN 1 AND 65535", name="port_range"),
        CheckConstraint("dpi IN (203, 300)", name="dpi_supported"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer, default=9100)
    dpi: Mapped[int] = mapped_column(Integer, default=203)
    # One of the thermal sizes in labels.SIZES: what is loaded in the printer.
    default_size: Mapped[str] = mapped_column(String(20), default="4x6")
    # Ask the printer for its status (~HS) before sending labels, so a printer that is out of
    # labels, paused or has its head open refuses the job up front instead of printing it later.
    check_status: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class LabelSettings(Base):
    """The site's label settings (a single row, id 1; absent until first saved): default sizes, and the GS1
    company prefix the site's own GTINs are made from."""

    __tablename__ = "label_settings"
    __table_args__ = (CheckConstraint("zpl_dpi IN (203, 300)", name="dpi_supported"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    # A single-label size or a sheet name (labels.SIZES or labels.SHEETS).
    pdf_size: Mapped[str] = mapped_column(String(20), default="4x6")
    # For ZPL downloads; a printer's own size and resolution win when printing to it.
    zpl_size: Mapped[str] = mapped_column(String(20), default="4x6")
    zpl_dpi: Mapped[int] = mapped_column(Integer, default=203)
    # The GS1 company prefix GS1 gave the site (4-12 digits); None until an admin sets it.
    gs1_company_prefix: Mapped[str | None] = mapped_column(String(12))
    # The next item reference to try under that prefix. It only grows, so a GTIN once given out is never
    # given again (GS1 forbids reusing one), even if its product later loses it.
    gs1_next_item_reference: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class LabelPrintJob(TimestampMixin, Base):
    """Labels a printer accepted: written only after every byte of the job was sent."""

    __tablename__ = "label_print_job"
    id: Mapped[int] = mapped_column(primary_key=True)
    printer_id: Mapped[int] = mapped_column(ForeignKey("label_printer.id"), index=True)
    # What was printed, in words: "lot 261030-A (JAM-RASP)", "receipt R-000012", "test label".
    subject: Mapped[str] = mapped_column(String(200))
    labels: Mapped[int] = mapped_column(Integer)
    copies: Mapped[int] = mapped_column(Integer)
    size: Mapped[str] = mapped_column(String(20))
    dpi: Mapped[int] = mapped_column(Integer)
    bytes_sent: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    printer: Mapped[LabelPrinter] = relationship()
    user: Mapped[User | None] = relationship()

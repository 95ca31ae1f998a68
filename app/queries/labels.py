"""Lot labels for a lot, a receipt, a production run or a list of lots, and their files."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Invalid, NotFound
from app.formatting import shown
from app.models import LabelPrinter, LabelPrintJob, LabelSettings, Lot, LotOrigin, ProductionRun, Receipt
from app.schemas import MAX_ID
from labels import SHEETS, LabelDataError, LabelFitError, LabelSizeError, LotLabel, to_pdf, to_png, to_svg, to_zpl
from labels.gs1 import GS_PRINTED

T = TypeVar("T")

MAX_LABELS = 1000
"""Labels (copies included) in one file or print job: a receipt's worth, never a runaway loop."""

# Control characters would be refused on a label; supplier lot codes come from other systems.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
# Lot codes may hold quotes, slashes and other GS1 punctuation that do not belong in a file name.
_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class LabelSite:
    """Who prints the labels and where their QR codes point."""

    company: str
    base_url: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LabelSite:
        return cls(company=str(config["COMPANY_NAME"]), base_url=str(config["BASE_URL"]))


@dataclass(frozen=True)
class LabelBatch:
    """The labels of one printing subject, in print order."""

    subject: str
    """What the labels are for, in words: "lot 261030-A (JAM-RASP)", "receipt R-000012"."""
    stem: str
    """File name stem: "labels-JAM-RASP-261030-A"; characters other than letters, digits, . _ - become _."""
    lot_ids: list[int]
    labels: list[LotLabel]

    def __post_init__(self) -> None:
        object.__setattr__(self, "stem", _UNSAFE_IN_NAME.sub("_", self.stem))


@dataclass(frozen=True)
class LabelDefaults:
    """The site's label sizes; a printer's own size and resolution win when printing to it."""

    pdf_size: str = "4x6"
    zpl_size: str = "4x6"
    zpl_dpi: int = 203


@dataclass(frozen=True)
class LabelFile:
    """A rendered label file."""

    content: bytes
    media_type: str
    filename: str


def _get(session: Session, model: type[T], ident: int, label: str, field: str) -> T:
    # An id beyond what the database stores names nothing, and must not reach a query.
    row = session.get(model, ident) if 0 < ident <= MAX_ID else None
    if row is None:
        raise NotFound(f"{label} {ident} does not exist", field)
    return row


def label_defaults(session: Session) -> LabelDefaults:
    """The saved site defaults, or the built-in ones until a manager saves some."""
    row = session.get(LabelSettings, 1)
    if row is None:
        return LabelDefaults()
    return LabelDefaults(pdf_size=row.pdf_size, zpl_size=row.zpl_size, zpl_dpi=row.zpl_dpi)


# --- building labels ---------------------------------------------------------------------------


def _received_text(lot: Lot) -> str:
    text = f"Received {lot.made_on.isoformat()}"
    if lot.supplier is not None:
        text += f" from {lot.supplier.name}"
    if lot.supplier_lot_code:
        # A GS1 separator in their lot code is part of it: printed as "<GS>", not lost as a space.
        text += f", their lot {shown(lot.supplier_lot_code, GS_PRINTED)}"
    return _CONTROL.sub(" ", text)


def lot_label(lot: Lot, site: LabelSite, quantity: Decimal | None = None) -> LotLabel:
    """The label of one lot; Invalid naming the lot when its data cannot go in its barcodes."""
    product = lot.product
    produced = lot.origin == LotOrigin.PRODUCTION
    try:
        return LotLabel(
            company=_CONTROL.sub(" ", site.company),
            product_name=_CONTROL.sub(" ", product.name),
            sku=product.sku,
            lot_code=lot.code,
            base_url=site.base_url,
            gtin=product.gtin,
            expiry=lot.expiry,
            production_date=lot.made_on if produced else None,
            quantity=quantity,
            unit=product.unit,
            free_text="" if produced else _received_text(lot),
        )
    except LabelDataError as exc:
        raise Invalid(f"cannot make a label for {product.sku} lot {lot.code!r}: {exc}") from exc


def labels_for_lot(session: Session, lot_id: int, *, site: LabelSite) -> LabelBatch:
    """One lot's label, without a quantity: a lot has none of its own, only its documents do."""
    lot = _get(session, Lot, lot_id, "lot", "lot_id")
    return LabelBatch(subject=f"lot {lot.code} ({lot.product.sku})", stem=f"labels-{lot.product.sku}-{lot.code}",
                      lot_ids=[lot.id], labels=[lot_label(lot, site)])


def labels_for_receipt(session: Session, receipt_id: int, *, site: LabelSite) -> LabelBatch:
    """A label for every line of a receipt, with the quantity received on that line."""
    receipt = _get(session, Receipt, receipt_id, "receipt", "receipt_id")
    return LabelBatch(subject=f"receipt {receipt.number}", stem=f"labels-{receipt.number}",
                      lot_ids=[line.lot_id for line in receipt.lines],
                      labels=[lot_label(line.lot, site, line.quantity) for line in receipt.lines])


def labels_for_run(session: Session, run_id: int, *, site: LabelSite) -> LabelBatch:
    """The label of a production run's output lot, with the quantity made."""
    run = _get(session, ProductionRun, run_id, "production run", "run_id")
    return LabelBatch(subject=f"production run {run.number}", stem=f"labels-{run.number}",
                      lot_ids=[run.output_lot_id], labels=[lot_label(run.output_lot, site, run.output_quantity)])


def labels_for_lots(
    session: Session,
    lot_ids: Sequence[int],
    quantities: Sequence[Decimal | None] | None = None,
    *,
    site: LabelSite,
    subject: str | None = None,
) -> LabelBatch:
    """Labels of the given lots in the given order (a pick list's lines), each with its quantity if given.

    A lot may appear more than once, e.g. picked from two locations. `quantities`, when given, runs
    parallel to `lot_ids`.
    """
    if not lot_ids:
        raise Invalid("name at least one lot", "lot_ids")
    if quantities is not None and len(quantities) != len(lot_ids):
        raise Invalid(f"{len(quantities)} quantities for {len(lot_ids)} lots; give one per lot", "quantities")
    known = {i for i in lot_ids if 0 < i <= MAX_ID}
    lots = {lot.id: lot for lot in session.scalars(select(Lot).where(Lot.id.in_(known)))}
    missing = [str(i) for i in dict.fromkeys(lot_ids) if i not in lots]
    if missing:
        raise NotFound(f"lot {', '.join(missing)} does not exist", "lot_ids")
    qty: Sequence[Decimal | None] = quantities if quantities is not None else [None] * len(lot_ids)
    labels = [lot_label(lots[i], site, q) for i, q in zip(lot_ids, qty, strict=True)]
    if subject is None:
        first = lots[lot_ids[0]]
        subject = (f"lot {first.code} ({first.product.sku})" if len(set(lot_ids)) == 1
                   else f"{len(set(lot_ids))} lots")
    stem = "labels-" + ("-".join(str(i) for i in lot_ids[:5]) + ("-etc" if len(lot_ids) > 5 else ""))
    return LabelBatch(subject=subject, stem=stem, lot_ids=list(lot_ids), labels=labels)


# --- rendering ---------------------------------------------------------------------------------


def _copies(labels: Sequence[LotLabel], copies: int) -> list[LotLabel]:
    # Collated per lot: a lot's copies come out together, ready to stick on its cases.
    total = len(labels) * copies
    if total > MAX_LABELS:
        raise Invalid(f"that is {total} labels ({len(labels)} × {copies} copies); print at most {MAX_LABELS} "
                      "at a time", "copies")
    return [label for label in labels for _ in range(copies)]


def _rendered(label: LotLabel, render: Callable[[LotLabel], T]) -> T:
    """`render(label)`, with label errors as Invalid naming the size or the lot."""
    try:
        return render(label)
    except LabelFitError as exc:
        raise Invalid(f"{label.sku} lot {label.lot_code}: {exc}", "size") from exc
    except LabelSizeError as exc:
        raise Invalid(str(exc), "size") from exc
    except LabelDataError as exc:
        raise Invalid(f"{label.sku} lot {label.lot_code}: {exc}") from exc


def render_pdf(batch: LabelBatch, layout: str, copies: int = 1) -> LabelFile:
    """A PDF on `layout`: a single-label size (one label per page) or a sheet name."""
    labels = _copies(batch.labels, copies)
    sheet = layout if layout in SHEETS else None
    size = None if sheet else layout
    try:
        content = to_pdf(labels, size, sheet=sheet)
    except LabelDataError as exc:
        # Find the lot the error is about; the whole file is refused either way.
        for label in batch.labels:
            _rendered(label, lambda one: to_pdf([one], size, sheet=sheet))
        raise Invalid(str(exc), "size") from exc
    return LabelFile(content, "application/pdf", f"{batch.stem}.pdf")


def zpl_labels(batch: LabelBatch, size: str, dpi: int, copies: int = 1) -> list[str]:
    """The ZPL of every label to print, copies included, one format (^XA…^XZ) per printed label."""
    _copies(batch.labels, copies)
    formats = [_rendered(label, lambda one: to_zpl(one, size, dpi)) for label in batch.labels]
    return [zpl for zpl in formats for _ in range(copies)]


def render_zpl(batch: LabelBatch, size: str, dpi: int, copies: int = 1) -> LabelFile:
    """A ZPL file for a thermal printer of `dpi`."""
    content = "".join(zpl_labels(batch, size, dpi, copies)).encode()
    return LabelFile(content, "application/vnd.zebra-zpl", f"{batch.stem}-{size}-{dpi}dpi.zpl")


def render_png(batch: LabelBatch, size: str, dpi: int = 300) -> LabelFile:
    """A PNG preview of the batch's first label, one pixel per printer dot."""
    content = _rendered(batch.labels[0], lambda one: to_png(one, size, dpi))
    return LabelFile(content, "image/png", f"{batch.stem}-{size}.png")


def render_svg(batch: LabelBatch, size: str) -> LabelFile:
    """An SVG preview of the batch's first label."""
    content = _rendered(batch.labels[0], lambda one: to_svg(one, size)).encode()
    return LabelFile(content, "image/svg+xml", f"{batch.stem}-{size}.svg")


# --- printers ----------------------------------------------------------------------------------


def printers(session: Session, *, active_only: bool = False) -> list[LabelPrinter]:
    """Configured label printers by name."""
    q = select(LabelPrinter).order_by(LabelPrinter.name)
    if active_only:
        q = q.where(LabelPrinter.active.is_(True))
    return list(session.scalars(q))


def printer(session: Session, printer_id: int) -> LabelPrinter:
    """One printer, or NotFound."""
    return _get(session, LabelPrinter, printer_id, "printer", "printer_id")


def recent_jobs(session: Session, limit: int = 20) -> list[LabelPrintJob]:
    """The latest print jobs, newest first."""
    return list(session.scalars(select(LabelPrintJob).order_by(LabelPrintJob.id.desc()).limit(limit)))

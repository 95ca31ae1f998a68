"""Query-string models of the list and report endpoints (pages parse the same ones)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from app.errors import BadInput, Invalid
from app.models import (
    LocationKind,
    LotStatus,
    OrderStatus,
    ProductKind,
    WriteOffReason,
)
from app.schemas.common import MAX_ID, Code, Day, Id, Offset, fnc1_trimmed, no_nul
from app.schemas.recall import Direction
from app.schemas.regulatory import FsmaSelection


class Page(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(100, ge=1, le=1000)
    offset: Offset = 0

    _no_nul = field_validator("*", mode="before")(classmethod(lambda cls, v: no_nul(v)))


class ProductQuery(Page):
    kind: ProductKind | None = None
    q: str | None = Field(None, description="part of the sku or name")
    gtin: str | None = None


class NameQuery(Page):
    q: str | None = Field(None, description="part of the name")


class LocationQuery(Page):
    warehouse: str | None = None
    kind: LocationKind | None = None


def ordered_range(start: date | None, end: date | None) -> None:
    """A range given backwards is a mistake to point out, not an empty answer."""
    if start and end and start > end:
        raise ValueError(f"the range runs backwards: from {start} is after to {end}")


class DateQuery(Page):
    """`from` must not be after `to` (a 422 otherwise)."""

    date_from: Day | None = Field(None, alias="from")
    date_to: Day | None = Field(None, alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        ordered_range(self.date_from, self.date_to)
        return self


class OrderQuery(Page):
    status: OrderStatus | None = None
    customer_id: Id | None = None
    ship_by: Day | None = None


class ExpiringFilter(BaseModel):
    """expired_only and expiring_only exclude each other: both true is a 422."""

    model_config = ConfigDict(extra="forbid")
    warehouse: str | None = Field(None, description="warehouse code")
    sku: str | None = None
    expired_only: bool = Field(False, description="only stock already past its expiry")
    expiring_only: bool = Field(False, description="only stock not yet expired (what can still be sold)")

    @model_validator(mode="after")
    def _one_state(self) -> Self:
        if self.expired_only and self.expiring_only:
            raise ValueError("choose expired_only or expiring_only, not both")
        return self


class ExpiringQuery(ExpiringFilter):
    """A page of expiring stock, soonest expiry first (expired stock comes first)."""

    limit: int = Field(50, ge=1, le=200)
    offset: Offset = 0
    max_customers: int = Field(20, ge=0, le=1000, description="customers named per row; the rest are counted")


class ExpiredPreviewQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(1000, ge=1, le=5000, description="the oldest rows to list (one write-off takes at most 5000)")


class ExpirySummaryQuery(ExpiringFilter):
    max_weeks: int = Field(100, ge=0, le=1000, description="product-weeks listed, soonest first; the rest counted")
    show: int = Field(0, ge=0, le=50, description="the first rows to include, with up to 3 customers each")


class WriteOffQuery(Page):
    """`from` must not be after `to` (a 422 otherwise)."""

    date_from: Day | None = Field(None, alias="from")
    date_to: Day | None = Field(None, alias="to")
    reason: WriteOffReason | None = None
    lot_id: Id | None = None
    batch: str | None = Field(None, description="number of a bulk write-off of expired stock, e.g. WB-000001")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        ordered_range(self.date_from, self.date_to)
        return self


class RangeQuery(BaseModel):
    """`from` must not be after `to` (a 422 otherwise)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    date_from: Day = Field(alias="from", description="first day, included")
    date_to: Day = Field(alias="to", description="last day, included")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.date_from > self.date_to:
            raise ValueError(f"the range runs backwards: from {self.date_from} is after to {self.date_to}")
        return self


class ExportQuery(BaseModel):
    """What a regulator's export covers: a recall (its affected lots), a lot with its trace (every lot
    backward to the suppliers and forward to the customers), a product, or a date range alone. At most one of
    `recall`, `lot` and `product` (two are a 400 naming the second); without any of them both `from` and `to`
    are needed (a 400 naming the missing one); with one, `from` and `to` are optional and narrow it by
    business date. `from` after `to` is a 400 naming `from`. An unknown recall, lot or product is a 404."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    date_from: Day | None = Field(None, alias="from", description="first day, included")
    date_to: Day | None = Field(None, alias="to", description="last day, included")
    recall: Id | None = Field(None, description="id of a recall: the events of its affected lots")
    lot: Id | None = Field(None, description="id of a lot: the events of the lot and of every lot in its trace")
    product: Id | None = Field(None, description="id of a product: the events of its lots")

    _no_nul = field_validator("*", mode="before")(classmethod(lambda cls, v: no_nul(v)))

    def _chosen(self) -> list[str]:
        return [name for name in ("recall", "lot", "product") if getattr(self, name) is not None]

    def check(self) -> None:
        """The combination rules above, as 400s naming the field."""
        chosen = self._chosen()
        if len(chosen) > 1:
            raise BadInput(f"choose one of recall, lot and product, not {' and '.join(chosen)}", chosen[1])
        if not chosen and not self._narrowed():
            for name, value in (("from", self.date_from), ("to", self.date_to)):
                if value is None:
                    raise BadInput(f"without a recall, lot or product the export needs a date range: give the "
                                   f"{name} date", name)
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise BadInput(f"the range runs backwards: from {self.date_from} is after to {self.date_to}", "from")

    def _narrowed(self) -> bool:
        return False

    def selection(self) -> FsmaSelection:
        self.check()
        return FsmaSelection(self.date_from, self.date_to, recall_id=self.recall, lot_id=self.lot,
                             product_id=self.product)

    def file_name(self, prefix: str, ext: str) -> str:
        parts = [prefix]
        for name in ("recall", "lot", "product"):
            if getattr(self, name) is not None:
                parts.append(f"{name}{getattr(self, name)}")
        if self.date_from:
            parts.append(str(self.date_from))
        if self.date_to:
            parts.append(str(self.date_to))
        return "-".join(parts) + "." + ext


class FsmaQuery(ExportQuery):
    """As for every regulator's export (see EPCIS); besides, `sku` and `lot_id` choose products or lots
    within a date range (both `from` and `to` needed) and cannot be combined with `recall`, `lot` or
    `product` (a 400 naming them)."""

    sku: str | None = Field(None, description="comma-separated skus, within a date range")
    lot_id: str | None = Field(None, description="comma-separated lot ids, within a date range",
                               pattern=r"^[0-9, ]*$")

    def skus(self) -> tuple[str, ...]:
        return tuple(s.strip() for s in (self.sku or "").split(",") if s.strip())

    def lot_ids(self) -> tuple[int, ...]:
        try:
            ids = tuple(int(x) for x in (self.lot_id or "").split(",") if x.strip())
        except ValueError:
            raise Invalid("lot_id must be comma-separated whole numbers", "lot_id") from None
        beyond = [i for i in ids if not 0 < i <= MAX_ID]
        if beyond:
            raise Invalid(f"lot_id {beyond[0]} is not the id of any lot", "lot_id")
        return ids

    def check(self) -> None:
        old = [name for name, value in (("sku", self.sku), ("lot_id", self.lot_id)) if value]
        if old and self._chosen():
            raise BadInput(f"{old[0]} chooses within a date range; it cannot be combined with {self._chosen()[0]}",
                           old[0])
        super().check()

    def selection(self) -> FsmaSelection:
        base = super().selection()
        return FsmaSelection(base.date_from, base.date_to, self.skus(), self.lot_ids(), base.recall_id, base.lot_id,
                             base.product_id)


class ValuationQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: Day | None = Field(None, description="end of this day; today when not given")
    warehouse: str | None = Field(None, description="warehouse code")
    lots_per_product: int = Field(20, ge=0, le=100000, description="lots listed per product, soonest expiry "
                                  "first; quantity, value and lot_count cover them all")


class LotQuery(Page):
    sku: str | None = None
    code: str | None = None
    status: LotStatus | None = None
    expiring_before: Day | None = Field(None, description="expiry strictly before this date")
    in_stock: bool | None = None
    supplier_lot_code: Annotated[str, BeforeValidator(fnc1_trimmed)] | None = None


class AllocateQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ship_date: Day | None = Field(None, description="today or later (an earlier day is a 422)")


class WaveQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ship_by: Day
    sku: Code | None = None


class PaperQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    paper: Literal["a4", "letter"] = "a4"


class WavePdfQuery(WaveQuery):
    paper: Literal["a4", "letter"] = "a4"


class DirectionQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    direction: Direction = "both"


class TraceQuery(DirectionQuery):
    """Exactly one starting point: a supplier's lot code, a shipment, a scan, a lot code or a product.

    Give exactly one of supplier_lot_code, shipment, scan or sku (sku with lot_code, or with from/to); `from`
    must not be after `to`. Anything else is a 422.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    supplier_lot_code: Annotated[str, BeforeValidator(fnc1_trimmed)] | None = None
    supplier_id: Id | None = Field(None, description="narrows supplier_lot_code to one supplier")
    shipment: str | None = Field(None, description="shipment number (SH-000042) or id")
    scan: str | None = Field(None, description="a scanned label (GS1 element string, Digital Link) or typed text")
    sku: str | None = Field(None, description="with lot_code: that lot; with from/to: the product's lots")
    lot_code: str | None = None
    date_from: Day | None = Field(None, alias="from")
    date_to: Day | None = Field(None, alias="to")

    @model_validator(mode="after")
    def _one_start(self) -> Self:
        starts = [self.supplier_lot_code, self.shipment, self.scan, self.sku]
        if sum(1 for s in starts if s) != 1:
            raise ValueError("give exactly one of supplier_lot_code, shipment, scan, or sku (with lot_code, "
                             "or from/to)")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"the range runs backwards: from {self.date_from} is after to {self.date_to}")
        return self

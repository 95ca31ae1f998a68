"""The rows the regulatory exports are formatted from: FSMA 204 tracking events and EPCIS events.

Plain values only (codes, dates, quantities, party names and identifiers), read by `app.queries.regulatory`
and turned into spreadsheets and JSON-LD by `app.exports.fsma204` and `app.exports.epcis`. Frozen dataclasses,
not pydantic models: a month of a busy site is tens of thousands of lines, and they are never validated input.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from app.models import LotOrigin

# --- FSMA 204 ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FsmaSelection:
    """Which events an FSMA 204 export covers.

    Business dates (both ends included; none means no bound) and at most one of: a recall (its affected
    lots), a lot with its trace (backward and forward lots), a product; plus, as before, chosen skus or lot
    ids. No choice at all means every product.
    """

    date_from: date | None = None
    date_to: date | None = None
    skus: tuple[str, ...] = ()
    lot_ids: tuple[int, ...] = ()
    recall_id: int | None = None
    lot_id: int | None = None
    product_id: int | None = None


@dataclass(frozen=True, slots=True)
class FsmaProduct:
    sku: str
    name: str
    unit: str
    gtin: str | None


@dataclass(frozen=True, slots=True)
class FsmaLot:
    code: str
    origin: LotOrigin
    supplier_lot_code: str | None


@dataclass(frozen=True, slots=True)
class FsmaPlace:
    """A party or one of our warehouses: its name, postal address (lines separated by newlines) and phone;
    for our warehouses also the business operating it (none: the configured company), and a party's GLN."""

    name: str
    address: str | None
    phone: str | None = None
    business: str | None = None
    gln: str | None = None


@dataclass(frozen=True, slots=True)
class FsmaOrigin:
    """Harvest, cooling, initial packing and landing details the supplier sent with a receipt."""

    harvested_on: date | None = None
    harvest_location: str | None = None
    harvester: str | None = None
    cooled_on: date | None = None
    cooling_location: str | None = None
    packed_on: date | None = None
    packing_location: str | None = None
    landed_on: date | None = None


@dataclass(frozen=True, slots=True)
class FsmaReceiving:
    """One receipt line."""

    received_on: date
    receipt_number: str
    supplier_reference: str | None
    supplier: FsmaPlace
    lot: FsmaLot
    product: FsmaProduct
    quantity: Decimal
    warehouse: FsmaPlace
    location: str
    origin: FsmaOrigin = FsmaOrigin()


@dataclass(frozen=True, slots=True)
class FsmaTransformation:
    """One input lot of one production run."""

    produced_on: date
    run_number: str
    output_lot: FsmaLot
    output_product: FsmaProduct
    output_quantity: Decimal
    input_lot: FsmaLot
    input_product: FsmaProduct
    input_quantity: Decimal
    warehouse: FsmaPlace
    location: str


@dataclass(frozen=True, slots=True)
class FsmaShipping:
    """The quantity of one lot on one shipment (its lines added up)."""

    shipped_on: date
    shipment_number: str
    carrier_reference: str | None
    customer: FsmaPlace
    warehouse: FsmaPlace
    lot: FsmaLot
    product: FsmaProduct
    lot_supplier: FsmaPlace | None
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class FsmaEvents:
    """The critical tracking events of a selection, each kind by business date (then document, lot code and
    input lot code). Iterables, read once: the queries stream them from the database."""

    receiving: Iterable[FsmaReceiving] = ()
    transformation: Iterable[FsmaTransformation] = ()
    shipping: Iterable[FsmaShipping] = ()


# --- EPCIS -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EpcisLot:
    """A lot named in an event: its product's GTIN (if any), sku and unit, its code, and the quantity
    the event is about (none where the event names the lot only)."""

    gtin: str | None
    sku: str
    unit: str
    code: str
    quantity: Decimal | None


@dataclass(frozen=True, slots=True)
class EpcisReceiving:
    """A receipt with its lines in entry order; the location is the first line's."""

    number: str
    received_on: date
    recorded_at: datetime
    supplier_id: int
    supplier_gln: str | None
    location: str
    lots: tuple[EpcisLot, ...]


@dataclass(frozen=True, slots=True)
class EpcisProduction:
    """A production run: its output lot and the input lots consumed (genealogy links in entry order)."""

    number: str
    produced_on: date
    recorded_at: datetime
    location: str
    output: EpcisLot
    expiry: date | None
    inputs: tuple[EpcisLot, ...]


@dataclass(frozen=True, slots=True)
class EpcisShipping:
    """A shipment with its lines in entry order; the location is the first line's."""

    number: str
    shipped_on: date
    recorded_at: datetime
    customer_id: int
    customer_gln: str | None
    location: str
    lots: tuple[EpcisLot, ...]


@dataclass(frozen=True, slots=True)
class EpcisWriteOff:
    """A write-off movement; the lot's quantity is the quantity destroyed (positive)."""

    movement_id: int
    booked_on: date
    recorded_at: datetime
    location: str
    lot: EpcisLot


@dataclass(frozen=True, slots=True)
class EpcisRecall:
    """A recall (or its opening) with the lots it covers, by sku and lot code."""

    number: str
    opened_at: datetime
    lots: tuple[EpcisLot, ...]


@dataclass(frozen=True, slots=True)
class EpcisEvents:
    """Every event of a selection, each kind in order of its business date (recalls in any order): streams read
    once, as the document is written, so a year of events never sits in memory."""

    receiving: Iterable[EpcisReceiving] = field(default_factory=list)
    production: Iterable[EpcisProduction] = field(default_factory=list)
    shipping: Iterable[EpcisShipping] = field(default_factory=list)
    write_offs: Iterable[EpcisWriteOff] = field(default_factory=list)
    recalls: Iterable[EpcisRecall] = field(default_factory=list)

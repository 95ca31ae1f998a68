"""The onboarding workbook: rows of the stock and orders sheets, the upload form and the import report.

Rows of the products, suppliers, customers and locations sheets go through the API's own commands
(`ProductIn`, `SupplierIn`, `CustomerIn`, `LocationIn`), so a rule about them is written once.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, field_validator

from app.errors import Invalid
from app.schemas.common import Code, Command, Day, Money, PositiveQty, Scanned, Text, blank_to_none
from app.schemas.scans import FormFlag


class SheetName(StrEnum):
    PRODUCTS = "products"
    SUPPLIERS = "suppliers"
    CUSTOMERS = "customers"
    LOCATIONS = "locations"
    STOCK = "stock"
    ORDERS = "orders"


class StockRowIn(Command):
    """One row of opening stock: how much of a lot lies at a location today."""

    sku: Code
    lot_code: Code
    quantity: PositiveQty
    location: Code
    expiry: Day | None = None
    made_on: Day | None = None
    supplier: Text | None = None
    supplier_lot_code: Scanned | None = None
    unit_cost: Money | None = None

    _blank = field_validator("expiry", "made_on", "supplier", "supplier_lot_code", "unit_cost", mode="before")(
        classmethod(lambda cls, v: blank_to_none(v)))


class OrderRowIn(Command):
    """One line of a customer order; rows with the same order_ref form one order."""

    order_ref: Scanned = Field(min_length=1)
    customer: Text
    sku: Code
    quantity: PositiveQty
    ship_date: Day
    warehouse: Code | None = None

    _blank = field_validator("warehouse", mode="before")(classmethod(lambda cls, v: blank_to_none(v)))


class ImportForm(BaseModel):
    """The onboarding workbook (docs/onboarding.md): sheets products, suppliers, customers, locations, stock and
    orders, the first row of each naming its columns. The answer reports, per sheet, the rows created, updated,
    skipped and bad, and every bad row with its sheet, row, column and reason; a file with any bad row imports
    nothing unless skip_bad is true. Records are matched by sku, name, code and order_ref; re-importing a file
    changes nothing. A file that cannot be read (not a spreadsheet, encrypted, damaged, no known sheet, a CSV
    without a sheet name) is a 422 naming the field "file"; a file over the upload limit is a 413.
    """

    file: bytes = Field(description="the workbook (.xlsx) or one sheet as CSV (UTF-8, comma-separated, "
                                    "first row the column names); at most the server's upload limit")
    filename: Annotated[str, Field(max_length=200)] | None = Field(
        None, description="the file's name; a CSV named after a sheet (stock.csv) is that sheet")
    sheet: Annotated[str, Field(max_length=40)] | None = Field(
        None, description="the sheet a CSV file holds: products, suppliers, customers, locations, stock or orders "
                          "(another name is a 422); default: the file's name")
    dry_run: FormFlag = Field(False, description="check the file and report what would happen; write nothing")
    update: FormFlag = Field(False, description="update existing products, suppliers, customers, locations and "
                                                "open orders that differ from the file (default: leave them)")
    skip_bad: FormFlag = Field(False, description="import the good rows even if some are bad (default: a file with "
                                                  "any bad row imports nothing)")


def sheet_named(value: str | None) -> SheetName | None:
    """The sheet a form names (blank for none), or a 422 naming the field."""
    if value is None or not value.strip():
        return None
    try:
        return SheetName(value.strip().lower())
    except ValueError:
        raise Invalid(f"sheet must be one of {', '.join(s.value for s in SheetName)}, not {value!r}", "sheet") from None


class ImportSheetOut(BaseModel):
    sheet: SheetName
    rows: int = Field(description="data rows read (blank rows are not counted)")
    created: int
    updated: int
    skipped: int = Field(description="rows that match what Lotwise already holds, or are left as they are")
    bad: int


class ImportErrorOut(BaseModel):
    sheet: str
    row: int = Field(description="the row number in the sheet, the header being row 1")
    column: str | None
    message: str


class ImportOut(BaseModel):
    import_id: int | None = Field(description="the import's reference on its opening-stock movements")
    dry_run: bool
    imported: bool = Field(description="whether anything was written")
    sheets: list[ImportSheetOut]
    errors: list[ImportErrorOut] = Field(description="the bad rows, at most the first 1,000")
    error_count: int
    notes: list[str] = Field(description="what was ignored: unknown sheets and columns")
    message: str

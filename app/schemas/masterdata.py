"""Products, suppliers, customers, warehouses and locations: commands and outputs."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StringConstraints,
    field_validator,
)

from app.models import LocationKind, ProductKind
from app.schemas.common import (
    Amount,
    Command,
    LongText,
    Out,
    Percent,
    PositiveQty,
    Text,
    blank_to_none,
    gtin_ok,
    gtin_value,
)
from labels.gs1 import company_prefix_problem

# Whitespace as Python and JSON Schema's ECMA regexes both read it, and no control characters.
_EMAIL_PART = r"[^@\s\x00-\x1f\x7f\x85]+"
EMAIL_PATTERN = rf"^{_EMAIL_PART}@{_EMAIL_PART}\.{_EMAIL_PART}$"
GTIN_PATTERN = r"^[ \t\r\n]*([0-9]{8}|[0-9]{12,14})?[ \t\r\n]*$"


class ProductIn(Command):
    """With the site's GS1 company prefix set, a product of kind product created without a GTIN gets the next GTIN
    made from it (a 409 when the prefix has no item reference left)."""

    sku: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30,
                                          pattern=r"^[A-Za-z0-9._/-]+$")]
    name: Text
    gtin: Annotated[str, Field(pattern=GTIN_PATTERN)] | None = Field(
        None, description="8, 12, 13 or 14 digits, the last a GS1 check digit (a wrong one is a 422); blank for none")
    kind: ProductKind = ProductKind.PRODUCT
    unit: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10)] = "ea"
    shelf_life_days: Annotated[int, Field(ge=1, le=36500)] | None = None
    expiry_alert_days: Annotated[int, Field(ge=0, le=3650)] | None = None
    lot_tracked: bool = True
    active: bool = True

    _blank = field_validator("gtin", "shelf_life_days", "expiry_alert_days", mode="before")(
        classmethod(lambda cls, v: blank_to_none(v)))

    @field_validator("gtin")
    @classmethod
    def _gtin(cls, v: str | None) -> str | None:
        return None if v is None else gtin_value(v)


class ProductPatch(ProductIn):
    """Fields left out keep their value."""

    sku: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30,
                                          pattern=r"^[A-Za-z0-9._/-]+$")] | None = None  # type: ignore[assignment]
    name: Text | None = None  # type: ignore[assignment]
    kind: ProductKind | None = None  # type: ignore[assignment]
    unit: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10)] | None = None  # type: ignore[assignment]
    lot_tracked: bool | None = None  # type: ignore[assignment]
    active: bool | None = None  # type: ignore[assignment]


GtinText = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^([0-9]{8}|[0-9]{12,14})$"),
                     AfterValidator(gtin_value)]


class PackagingIn(Command):
    """A case or pallet of a product: its GTIN and how much of the product it holds, in the product's unit."""

    level: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=20,
                                            pattern=r"^[A-Za-z][A-Za-z -]*$"),
                     Field(description="what the pack is called: case, pallet, tray …")] = "case"
    gtin: Annotated[GtinText, Field(description="the pack's own GTIN (check digit checked); no other product or "
                                                "pack may have it")]
    content: Annotated[PositiveQty, Field(description="how much of the product one pack holds, in the product's unit")]


class PartyIn(Command):
    name: Text
    gln: Annotated[str, StringConstraints(pattern=r"^[0-9]{13}$")] | None = Field(
        None, description="13 digits, the last a GS1 check digit (a wrong one is a 422)")
    contact_name: Text | None = None
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] | None = None
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200,
                                            pattern=EMAIL_PATTERN)] | None = None
    address: LongText | None = None

    _blank = field_validator("gln", "contact_name", "phone", "email", "address", mode="before")(
        classmethod(lambda cls, v: blank_to_none(v)))

    @field_validator("gln")
    @classmethod
    def _gln(cls, v: str | None) -> str | None:
        if v is not None and not gtin_ok(v):
            raise ValueError(f"GLN {v} has a wrong check digit")
        return v


class SupplierIn(PartyIn):
    pass


class SupplierPatch(SupplierIn):
    name: Text | None = None  # type: ignore[assignment]


class CustomerIn(PartyIn):
    min_remaining_days: Annotated[int, Field(ge=0, le=3650)] | None = None
    min_remaining_pct: Percent | None = None
    transit_days: Annotated[int, Field(ge=0, le=365)] = 0
    max_lots_per_line: Annotated[int, Field(ge=1, le=100)] | None = None
    no_date_reversal: bool = False

    _blank2 = field_validator("min_remaining_days", "min_remaining_pct", "max_lots_per_line",
                              mode="before")(classmethod(lambda cls, v: blank_to_none(v)))


class CustomerPatch(CustomerIn):
    name: Text | None = None  # type: ignore[assignment]
    transit_days: Annotated[int, Field(ge=0, le=365)] | None = None  # type: ignore[assignment]
    no_date_reversal: bool | None = None  # type: ignore[assignment]


class WarehouseIn(Command):
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
    name: Text
    address: LongText | None = None
    business_name: Text | None = Field(None, description="the business operating the site, as regulators' "
                                       "location descriptions name it; default: the configured company name")
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] | None = None

    _blank = field_validator("address", "business_name", "phone", mode="before")(
        classmethod(lambda cls, v: blank_to_none(v)))


class LocationIn(Command):
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30,
                                           pattern=r"^[A-Za-z0-9._/-]+$")]
    name: Text
    kind: LocationKind = LocationKind.STORAGE
    warehouse: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    active: bool = True


class LocationPatch(Command):
    name: Text | None = None
    kind: LocationKind | None = None
    active: bool | None = None


class ProductOut(Out):
    id: int
    sku: str
    name: str
    gtin: str | None
    kind: ProductKind
    unit: str
    shelf_life_days: int | None
    expiry_alert_days: int | None
    lot_tracked: bool
    active: bool


class PackagingOut(Out):
    id: int
    product_id: int
    level: str
    gtin: str
    content: Amount = Field(description="how much of the product one pack holds, in the product's unit")


class SupplierOut(Out):
    id: int
    name: str
    gln: str | None
    contact_name: str | None
    phone: str | None
    email: str | None
    address: str | None


class CustomerOut(SupplierOut):
    min_remaining_days: int | None
    min_remaining_pct: Amount | None
    transit_days: int
    max_lots_per_line: int | None
    no_date_reversal: bool


class WarehouseOut(Out):
    id: int
    code: str
    name: str
    address: str | None
    business_name: str | None = None
    phone: str | None = None


class LocationOut(Out):
    id: int
    code: str
    name: str
    kind: LocationKind
    active: bool
    warehouse: str
    pickable: bool


# --- the site's GS1 company prefix and the GTINs made from it -----------------------------------

SKU_PATTERN = r"^[A-Za-z0-9._/-]+$"


def _company_prefix(v: str | None) -> str | None:
    if v is None:
        return None
    problem = company_prefix_problem(v)
    if problem is not None:
        raise ValueError(problem)
    return v


class CompanyPrefixIn(Command):
    """The GS1 company prefix GS1 gave the site, or null to stop making GTINs."""

    company_prefix: Annotated[Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{4,12}$"),
                                        AfterValidator(_company_prefix)] | None, Field(
        description="4 to 12 digits, from a range GS1 gives to companies (not a restricted-circulation, "
                    "coupon, ISBN/ISSN or reserved range: those are a 422); null stops making GTINs. A new prefix "
                    "starts its item references at 0; GTINs already given keep their value")]


class CompanyPrefixOut(BaseModel):
    company_prefix: str | None
    capacity: int | None = Field(description="how many GTIN-13s the prefix makes (10 ^ (12 - its length))")
    next_item_reference: int = Field(description="the next item reference to try; item references only grow")
    remaining: int | None = Field(description="item references not yet tried")
    products_without_gtin: int = Field(description="active products (kind product) that have no GTIN")


class AssignGtinsIn(Command):
    """Nothing is assigned unless every product can get one: a site without a company prefix, or a prefix with too
    few item references left, is a 409."""

    skus: Annotated[list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30,
                                                          pattern=SKU_PATTERN)]],
                    Field(max_length=1000)] | None = Field(
        None, description="the products to give a GTIN (any kind; each must have none yet: one that has is a 409); "
                          "left out: every active product of kind product without a GTIN")


class AssignedGtinOut(BaseModel):
    sku: str
    name: str
    gtin: str


class AssignGtinsOut(BaseModel):
    assigned: list[AssignedGtinOut]
    message: str

"""The demo: six months of a small jam maker, booked through the services so the ledger is sound."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any

from flask import Flask
from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session

from app import clock
from app.migrate import upgrade
from app.models import LocationKind, Lot, Product, ProductKind, RecipeBasis, Role, StationKind, User, WriteOffReason
from app.schemas import (
    AdjustmentIn,
    CustomerIn,
    HoldIn,
    LocationIn,
    OrderIn,
    OrderLineIn,
    PackagingIn,
    ProductIn,
    ProductionRunIn,
    ReceiptIn,
    ReceiptLineIn,
    RecipeIn,
    RecipeInputIn,
    ReturnIn,
    RunInputIn,
    ShipLineIn,
    ShipmentIn,
    StationIn,
    SupplierIn,
    TransferIn,
    UserIn,
    WarehouseIn,
    WriteOffIn,
)
from app.services import allocations, masterdata, orders, production, recipes, stations, stock, users, writeoffs
from app.services.base import STAMP_CLOCK

DEMO_USER = "demo"
DEMO_PASSWORD = "demo-lotwise"  # noqa: S105  (the published password of the demo users)
RECALL_SUPPLIER_LOT = "RB-7731"
"""The supplier lot of raspberries the demo's recall story starts from."""

HISTORY_DAYS = 182
SEED = 7731
ZERO = Decimal(0)


def gs1_check_digit(body: str) -> str:
    """The GS1 mod-10 check digit for the digits of a GTIN or GLN without its last digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def gs1(body: str) -> str:
    """`body` with its check digit appended (12 digits → a GTIN-13 or GLN)."""
    return body + gs1_check_digit(body)


def _ceil_to(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(rounding=ROUND_CEILING) * step


# --- master data ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """A product or material, and for materials how it is bought."""

    sku: str
    name: str
    kind: ProductKind
    unit: str
    shelf_life: int | None
    alert: int | None
    gtin: str | None
    home: str
    supplier: str = ""
    pack: Decimal = Decimal(1)
    cost: Decimal = ZERO
    every: int = 1
    lot_style: str = "{n}"


KG, EA, M = "kg", "ea", "m"
MAT, PRD = ProductKind.MATERIAL, ProductKind.PRODUCT
JAM_GTIN = "950110153"  # our company prefix; item reference follows

MATERIALS: list[Item] = [
    Item("FR-RASP", "Raspberries, IQF frozen", MAT, KG, 540, 45, "501234500011", "COLD-01",
         "bramblewood", Decimal(10), Decimal("4.20"), 1, "RB-{n:04d}"),
    Item("FR-STRAW", "Strawberries, IQF frozen", MAT, KG, 540, 45, "501234600012", "COLD-01",
         "sunfield", Decimal(10), Decimal("3.10"), 1, "SF{d:%y}{j:03d}-{k}"),
    Item("FR-BLKC", "Blackcurrants, IQF frozen", MAT, KG, 540, 45, "501234500028", "COLD-01",
         "bramblewood", Decimal(10), Decimal("3.80"), 1, "BC-{n:04d}"),
    Item("FR-APRI", "Apricot halves, IQF frozen", MAT, KG, 540, 45, "376543200015", "COLD-01",
         "rhone", Decimal(10), Decimal("2.90"), 1, "AB{d:%y}/{n:04d}"),
    Item("ING-SUGAR", "Cane sugar, granulated (25 kg sack)", MAT, KG, 730, 60, "509876500013", "DRY-A1",
         "silverline", Decimal(25), Decimal("0.92"), 2, "SSR{d:%y%m%d}{a}"),
    Item("ING-PECTIN", "Apple pectin, rapid set (HM)", MAT, KG, 730, 60, "540123400016", "DRY-A2",
         "citrine", Decimal(20), Decimal("14.50"), 4, "CI-{n:05d}"),
    Item("ING-PECTIN-LM", "Citrus pectin, amidated low-methoxyl", MAT, KG, 730, 60, "540123400023",
         "DRY-A2", "citrine", Decimal(5), Decimal("18.00"), 4, "CI-{n:05d}"),
    Item("ING-LEMON", "Lemon juice concentrate", MAT, KG, 180, 21, "800123400019", "COLD-02",
         "sicilia", Decimal(25), Decimal("2.40"), 2, "LJ{d:%y}-{n:03d}"),
    Item("ING-VANILLA", "Vanilla extract, Madagascar bourbon", MAT, KG, 365, 60, "540123400030",
         "DRY-A2", "citrine", Decimal(1), Decimal("96.00"), 4, "CI-{n:05d}"),
    Item("PK-JAR-340", "Glass jar 340 g, round", MAT, EA, None, None, "500432100018", "DRY-B1",
         "clearview", Decimal(1800), Decimal("0.31"), 2, "CG{d:%y%m%d}-L{k}"),
    Item("PK-JAR-220", "Glass jar 220 g, round", MAT, EA, None, None, "500432100025", "DRY-B1",
         "clearview", Decimal(2400), Decimal("0.26"), 2, "CG{d:%y%m%d}-L{k}"),
    Item("PK-LID-70", "Twist-off lid 70 mm, gingham print", MAT, EA, None, None, "500555100014", "DRY-B1",
         "capstone", Decimal(2000), Decimal("0.07"), 2, "CC-{n:06d}"),
    Item("PK-LID-58", "Twist-off lid 58 mm, gingham print", MAT, EA, None, None, "500555100021", "DRY-B1",
         "capstone", Decimal(2000), Decimal("0.06"), 2, "CC-{n:06d}"),
    Item("PK-GIFT-3", "Gift box for 3 × 220 g, kraft", MAT, EA, None, None, "500777100017", "DRY-B2",
         "kraftbox", Decimal(50), Decimal("1.10"), 4, "KB{n:05d}"),
    Item("PK-GIFT-2", "Gift box for 2 × 340 g, kraft", MAT, EA, None, None, "500777100024", "DRY-B2",
         "kraftbox", Decimal(50), Decimal("0.95"), 4, "KB{n:05d}"),
    Item("PK-RIBBON", "Satin ribbon 10 mm, red", MAT, M, None, None, "500777100031", "DRY-B2",
         "kraftbox", Decimal(100), Decimal("0.08"), 4, "KB{n:05d}"),
]

_JAMS: list[tuple[str, str, int, int, int]] = [
    # sku, name, shelf life, alert days, GTIN item reference
    ("JAM-RASP-340", "Raspberry jam 340 g", 365, 60, 1),
    ("JAM-RASP-220", "Raspberry jam 220 g", 365, 60, 2),
    ("JAM-STRAW-340", "Strawberry jam 340 g", 365, 60, 3),
    ("JAM-STRAW-220", "Strawberry jam 220 g", 365, 60, 4),
    ("JAM-APRI-340", "Apricot jam 340 g", 365, 60, 5),
    ("JAM-APRI-220", "Apricot jam 220 g", 365, 60, 6),
    ("JAM-BLKC-340", "Blackcurrant jam 340 g", 365, 60, 7),
    ("JAM-BLKC-220", "Blackcurrant jam 220 g", 365, 60, 8),
    ("JAM-STRVAN-340", "Strawberry & vanilla jam 340 g", 365, 60, 9),
    ("RS-RASP-340", "Reduced sugar raspberry jam 340 g", 150, 30, 10),
    ("RS-STRAW-340", "Reduced sugar strawberry jam 340 g", 150, 30, 11),
    ("RS-APRI-340", "Reduced sugar apricot jam 340 g", 150, 30, 12),
    ("RS-BLKC-340", "Reduced sugar blackcurrant jam 340 g (trial)", 150, 30, 15),
]
GIFTS: list[tuple[str, str, int]] = [
    ("GB-TRIO", "Breakfast trio gift box, 3 × 220 g", 13),
    ("GB-BERRY", "Berry duo gift box, 2 × 340 g", 14),
]
JAM_SKUS = [sku for sku, *_ in _JAMS]
GIFT_SKUS = [sku for sku, *_ in GIFTS]


def _jam_home(sku: str) -> str:
    if sku.startswith("RS-") or sku.endswith("-220"):
        return "DRY-C2"
    return "DRY-C1"


PRODUCTS: list[Item] = [
    Item(sku, name, PRD, EA, life, alert, JAM_GTIN + f"{ref:03d}", _jam_home(sku))
    for sku, name, life, alert, ref in _JAMS
] + [
    # A gift box keeps the shortest expiry of the jars inside it.
    Item(sku, name, PRD, EA, 365, 60, JAM_GTIN + f"{ref:03d}", "DRY-C3") for sku, name, ref in GIFTS
]
LABELS: list[Item] = [
    Item("LBL-" + sku.removeprefix("JAM-"), f"Front label, {name.lower()}", MAT, EA, None, None, None,
         "DRY-B2", "printwell", Decimal(1000), Decimal("0.035"), 4, "PW{n:05d}")
    for sku, name, *_ in _JAMS
]
ITEMS: dict[str, Item] = {i.sku: i for i in MATERIALS + LABELS + PRODUCTS}


def case_gtin(indicator: int, item_gtin: str) -> str:
    """The GTIN-14 of a pack of a trade item: an indicator digit, the item's GTIN-13 body, a new check digit."""
    return gs1(f"{indicator}{item_gtin}")


# Cases and pallets: (sku, pack, its GTIN, how much of the product one holds). Bramblewood's raspberries
# come in 10 kg cases whose label carries (02) the case GTIN and (37) the number of cases.
PACKS: list[tuple[str, str, str, Decimal]] = [
    ("FR-RASP", "case", case_gtin(1, "501234500011"), Decimal(10)),
    ("FR-RASP", "pallet", case_gtin(2, "501234500011"), Decimal(600)),
    ("JAM-RASP-340", "case", case_gtin(1, JAM_GTIN + "001"), Decimal(12)),
]


def _label(sku: str) -> str:
    return "LBL-" + sku.removeprefix("JAM-")


def _recipe(sku: str) -> dict[str, Decimal]:
    """Inputs per unit of output: fruit and sugar in about equal parts, a little is boiled off."""
    if sku == "GB-TRIO":
        return {"JAM-RASP-220": Decimal(1), "JAM-STRAW-220": Decimal(1), "JAM-APRI-220": Decimal(1),
                "PK-GIFT-3": Decimal(1), "PK-RIBBON": Decimal("0.6")}
    if sku == "GB-BERRY":
        return {"JAM-RASP-340": Decimal(1), "JAM-BLKC-340": Decimal(1), "PK-GIFT-2": Decimal(1),
                "PK-RIBBON": Decimal("0.5")}
    fruit = {"RASP": "FR-RASP", "STRAW": "FR-STRAW", "APRI": "FR-APRI", "BLKC": "FR-BLKC",
             "STRVAN": "FR-STRAW"}[sku.split("-")[1]]
    scale = Decimal(220) / Decimal(340) if sku.endswith("-220") else Decimal(1)
    if sku.startswith("RS-"):
        kg = {fruit: Decimal("0.230"), "ING-SUGAR": Decimal("0.115"), "ING-PECTIN-LM": Decimal("0.004"),
              "ING-LEMON": Decimal("0.004")}
    else:
        pectin = Decimal("0.001") if fruit == "FR-BLKC" else Decimal("0.0025")
        kg = {fruit: Decimal("0.175"), "ING-SUGAR": Decimal("0.175"), "ING-PECTIN": pectin,
              "ING-LEMON": Decimal("0.004")}
        if "STRVAN" in sku:
            kg["ING-VANILLA"] = Decimal("0.0008")
    recipe = {k: v * scale for k, v in kg.items()}
    small = sku.endswith("-220")
    recipe["PK-JAR-220" if small else "PK-JAR-340"] = Decimal(1)
    recipe["PK-LID-58" if small else "PK-LID-70"] = Decimal(1)
    recipe[_label(sku)] = Decimal(1)
    return recipe


# A batch as the recipes on the product pages state it: a kettle makes 240 jars, the packing bench 48
# gift boxes; lemon juice goes into the kettle by the batch; labour and energy as the runs book them.
def _batch(sku: str) -> Decimal:
    return Decimal(48) if sku in GIFT_SKUS else Decimal(240)


def _recipe_in(sku: str) -> RecipeIn:
    batch = _batch(sku)
    inputs = []
    for material, per_unit in _recipe(sku).items():
        if material == "ING-LEMON":
            quantity, basis = per_unit * batch, RecipeBasis.PER_BATCH
        else:
            quantity, basis = per_unit, RecipeBasis.PER_UNIT
        inputs.append(RecipeInputIn(sku=material, quantity=quantity.quantize(Decimal("0.000001")), basis=basis))
    per_jar = Decimal("0.14") if sku in GIFT_SKUS else Decimal("0.11")
    note = "Assembled on the packing bench" if sku in GIFT_SKUS else "Boiled in one kettle, hot-filled"
    return RecipeIn(batch_quantity=batch, run_cost=per_jar * batch + 35, note=note, inputs=inputs)


# Packaging lost on the line (broken jars, misprinted labels), as a fraction of the batch.
_SPOILAGE = {"PK-JAR-340": Decimal("0.004"), "PK-JAR-220": Decimal("0.004"), "PK-LID-70": Decimal("0.002"),
             "PK-LID-58": Decimal("0.002")}


def _needed(material: str, per_unit: Decimal, units: int) -> Decimal:
    item = ITEMS[material]
    if item.unit == EA:
        waste = _SPOILAGE.get(material, Decimal("0.01") if material.startswith("LBL-") else ZERO)
        return _ceil_to(per_unit * units * (1 + waste), Decimal(1))
    return (per_unit * units).quantize(Decimal("0.001"))


@dataclass(frozen=True)
class SupplierSpec:
    key: str
    name: str
    contact: str
    phone: str
    email: str
    address: str
    gln: str | None
    weekday: int


SUPPLIERS: list[SupplierSpec] = [
    SupplierSpec("bramblewood", "Bramblewood Berry Farm", "Ann Berry", "+44 1632 960101",
                 "dispatch@bramblewood.example", "Bramblewood Lane, Ashcombe AC4 7RB", "501234500001", 0),
    SupplierSpec("sunfield", "Sunfield Fruit Growers", "Tom Hale", "+44 1632 960102",
                 "orders@sunfield.example", "Unit 4, Packhouse Road, Sunfield SF2 9TH", "501234600001", 0),
    SupplierSpec("rhone", "Rhône Valley Orchards", "Camille Roux", "+33 4 75 00 12 34",
                 "export@rhone-orchards.example", "12 chemin des Abricotiers, 26000 Valence, France",
                 "376543200001", 1),
    SupplierSpec("silverline", "Silverline Sugar Refiners", "Priya Nair", "+44 1632 960104",
                 "sales@silverline-sugar.example", "Refinery Wharf, Port Sallow PS1 2SR", "509876500001", 2),
    SupplierSpec("citrine", "Citrine Ingredients Ltd", "Mark Ellison", "+44 1632 960105",
                 "service@citrine.example", "3 Commerce Park, Wexley WX7 1CI", None, 2),
    SupplierSpec("sicilia", "Sicilia Citrus Cooperative", "Giulia Ferrante", "+39 095 555 0107",
                 "export@siciliacitrus.example", "Contrada Arance 5, 95100 Catania, Italy", None, 3),
    SupplierSpec("clearview", "Clearview Glassworks", "Dan Okafor", "+44 1632 960107",
                 "orders@clearview-glass.example", "Furnace Street, Glassford GF3 8CG", "500432100001", 3),
    SupplierSpec("capstone", "Capstone Closures", "Rita Gomes", "+44 1632 960108",
                 "orders@capstone-closures.example", "Capstone House, Millfield MF5 2CC", None, 3),
    SupplierSpec("printwell", "Printwell Labels", "Sam Whitaker", "+44 1632 960109",
                 "studio@printwell.example", "9 Press Yard, Inkerton IK1 4PW", None, 4),
    SupplierSpec("kraftbox", "Kraftbox Packaging", "Lena Fischer", "+44 1632 960110",
                 "hello@kraftbox.example", "Kraft Mill, Boxley BX2 6KB", None, 4),
]


@dataclass(frozen=True)
class CustomerSpec:
    """A customer's details, its shelf-life rule and how it orders (assortment: sku → usual quantity)."""

    name: str
    contact: str
    phone: str
    address: str
    assortment: dict[str, int]
    email: str = ""
    gln: str | None = None
    min_days: int | None = None
    min_pct: int | None = None
    transit: int = 0
    max_lots: int | None = None
    no_reversal: bool = False
    warehouse: str = "MAIN"
    every: int = 1
    weekday: int = 0
    lead: int = 1
    backorders: bool = True
    split: bool = False


def _c(name: str, contact: str, n: int, address: str, assortment: dict[str, int], **kw: object) -> CustomerSpec:
    slug = "".join(ch for ch in name.lower() if ch.isalnum())[:18]
    return CustomerSpec(name=name, contact=contact, phone=f"+44 1632 960{n:03d}", address=address,
                        assortment=assortment, email=f"orders@{slug}.example", **kw)  # type: ignore[arg-type]


R3, R2, S3, S2 = "JAM-RASP-340", "JAM-RASP-220", "JAM-STRAW-340", "JAM-STRAW-220"
A3, A2, B3, B2 = "JAM-APRI-340", "JAM-APRI-220", "JAM-BLKC-340", "JAM-BLKC-220"
SV, RSR, RSS, RSA = "JAM-STRVAN-340", "RS-RASP-340", "RS-STRAW-340", "RS-APRI-340"
TRIAL = "RS-BLKC-340"
"""A flavour tried once, about 19 weeks ago, that sold slowly: its last jars expire soon."""
TRIO, DUO = "GB-TRIO", "GB-BERRY"

CUSTOMERS: list[CustomerSpec] = [
    _c("Big Box Supermarkets", "Helen Marsh", 201, "Big Box House, Distribution Way, Carrow CR1 1BB",
       {R3: 144, S3: 144, A3: 72, B3: 48}, gln="501234510001", min_days=120, transit=2, max_lots=2,
       no_reversal=True, weekday=0, lead=3, backorders=False),
    _c("FreshWay Foods", "Omar Haddad", 202, "FreshWay Depot, Junction 9, Lowbridge LB4 2FW",
       {R3: 96, S3: 96, SV: 48, RSS: 24}, gln="501234510002", min_pct=66, transit=1, max_lots=1,
       no_reversal=True, weekday=2, lead=2, backorders=False),
    _c("Valley Co-operative", "Gwen Pryce", 203, "Co-op Buildings, Market Street, Valeford VF3 7VC",
       {R3: 72, A3: 48, B3: 36, RSR: 24, R2: 48}, gln="501234510003", min_pct=50, transit=1,
       every=2, weekday=1, lead=2),
    _c("Hartley & Finch Food Hall", "Julian Finch", 204, "1 Regent Arcade, Kingsbury KB1 1HF",
       {SV: 36, B3: 24, TRIO: 24, DUO: 18, R2: 24}, gln="501234510004", min_pct=66, transit=1,
       no_reversal=True, weekday=3, lead=2),
    _c("Delica Distribution", "Marta Kowalska", 205, "Unit 12, Eastgate Trading Estate, Carrow CR4 8DD",
       {R3: 120, S3: 96, A3: 60, B3: 48, R2: 72, S2: 72}, gln="501234510005", min_pct=75, transit=2,
       max_lots=3, weekday=1, lead=2, split=True),
    _c("Jarful Online Shop", "Kit Summers", 206, "Studio 3, The Sidings, Ashcombe AC1 5JO",
       {R3: 24, S3: 24, SV: 12, RSA: 12, RSR: 12, TRIAL: 6, TRIO: 12, DUO: 6}, min_days=60, weekday=0),
    _c("Corner Deli", "Dev Patel", 207, "1 High Street, Ashcombe AC1 1CD", {R3: 24, A3: 12, S2: 12},
       min_days=14, every=2, weekday=3),
    _c("Harbour Farm Shop", "Rosie Tremain", 208, "Harbour Farm, Coast Road, Porthwell PW2 3HF",
       {R3: 36, S3: 24, B3: 12, TRIO: 6, R2: 12}, min_days=30, every=2, weekday=4),
    _c("Orchard Lane Farm Shop", "Bill Aldous", 209, "Orchard Lane, Little Pippin LP6 2OL",
       {A3: 24, R3: 24, A2: 12}, min_days=30, no_reversal=True, every=2, weekday=2),
    _c("The Pantry at Millbrook", "Fiona Grant", 210, "The Old Dairy, Millbrook MB3 9PM",
       {SV: 12, R3: 24, RSS: 12}, min_days=45, every=2, weekday=0),
    _c("Saltmarsh Deli", "Ivan Petrov", 211, "4 Quay Row, Saltmarsh SM1 4SD", {R3: 12, B3: 12, B2: 12},
       min_days=21, every=4, weekday=1),
    _c("Hilltop Village Stores", "Maggie Doyle", 212, "The Green, Hilltop HT5 1VS",
       {R3: 12, S3: 12, A2: 12, RSA: 6}, every=2, weekday=3),
    _c("Blackthorn Garden Centre", "Graham Yates", 213, "Blackthorn Nurseries, Ring Road, Wexley WX2 8BG",
       {TRIO: 24, DUO: 12, S2: 24, R2: 24}, gln="501234510006", min_days=90, transit=1, every=2,
       weekday=2),
    _c("Meadowsweet Wholefoods", "Ayesha Khan", 214, "22 Mill Street, Valeford VF1 2MW",
       {RSR: 24, RSS: 24, RSA: 12, B3: 12, TRIAL: 12}, min_pct=50, every=2, weekday=1),
    _c("Green Basket Organics", "Noah Fielding", 215, "Unit 2, Beacon Yard, Lowbridge LB1 6GB",
       {RSR: 12, RSS: 12, RSA: 12, TRIAL: 12}, min_days=60, transit=1, every=2, weekday=3),
    _c("The Copper Kettle Café", "Lucy Brennan", 216, "7 Abbey Walk, Kingsbury KB2 3CK",
       {R2: 24, S2: 24, A2: 12}, min_days=30, every=2, weekday=0),
    _c("Grand Harbour Hotel", "Pierre Laurent", 217, "The Esplanade, Porthwell PW1 1GH",
       {R2: 48, S2: 48, A2: 24, B2: 24}, gln="501234510007", min_days=45, max_lots=1, every=2, weekday=2),
    _c("Bramble & Vine Bakery", "Chloe Martin", 218, "15 Baker's Row, Ashcombe AC2 4BV",
       {R3: 36, A3: 24, B3: 12}, min_days=14, every=2, weekday=3),
    _c("Kingfisher Tea Rooms", "Edith Lowe", 219, "Riverside Walk, Millbrook MB1 2KT",
       {S2: 24, R2: 24}, min_days=30, every=2, weekday=4),
    _c("The Old Mill Bakery", "Sunil Mehta", 220, "Mill Race, Wexley WX4 1OM", {S3: 24, R3: 24},
       min_days=14, every=2, weekday=1),
    _c("Westgate Convenience", "Karen Holt", 221, "88 Westgate, Carrow CR2 5WC", {R3: 12, S3: 12},
       min_days=30, every=4, weekday=0),
    _c("Sunrise Bed & Breakfast", "Alan Frost", 222, "Sunrise Cottage, Cliff Lane, Porthwell PW3 9SB",
       {S2: 12, A2: 12}, every=4, weekday=2),
    _c("St Aidan's School Kitchen", "Mrs J. Okoye", 223, "St Aidan's School, Church Road, Valeford VF2 8SA",
       {S3: 24, RSS: 24}, min_days=60, max_lots=1, every=2, weekday=0),
    _c("Riverside Sunday Market", "Joe Bright", 224, "Pitch 14, Riverside Market, Kingsbury KB3 1RM",
       {R3: 12, SV: 12, B2: 12, TRIO: 6}, every=2, weekday=4),
    _c("Northern Fine Foods Wholesale", "Callum Reid", 225, "Unit 7, Fellgate Park, Northam NM3 4NF",
       {R3: 96, S3: 72, A3: 48, B3: 36}, gln="501234510008", min_days=90, transit=2, max_lots=2,
       warehouse="NORTH", weekday=1, lead=2),
    _c("Moorland Larder", "Isla Murray", 226, "2 Moor Road, Heatherby HB1 2ML", {R3: 24, B3: 24, R2: 12},
       min_days=30, warehouse="NORTH", every=2, weekday=3),
    _c("Lakeside Deli", "Ewan Scott", 227, "The Boathouse, Lakeside LK4 1LD", {S3: 12, SV: 12, A3: 12},
       min_days=30, no_reversal=True, warehouse="NORTH", every=2, weekday=0),
    _c("Fell Top Outdoor Centre", "Rhona Bell", 228, "Fell Top, Upper Heatherby HB5 9FT",
       {R2: 24, S2: 24}, min_days=60, transit=1, warehouse="NORTH", every=4, weekday=2),
    _c("Highland Gift Company", "Morag Fraser", 229, "14 Castle Street, Northam NM1 1HG",
       {TRIO: 24, DUO: 12, R3: 12}, gln="501234510009", min_pct=66, transit=3, warehouse="NORTH",
       every=2, weekday=1, lead=2),
    _c("Kirkby Farm Shop", "Dougie Kirk", 230, "Kirkby Farm, Northam NM6 3KF", {R3: 24, S3: 24, A2: 12},
       min_days=21, warehouse="NORTH", every=2, weekday=4),
]

LOCATIONS: list[tuple[str, str, LocationKind, str]] = [
    ("RCV-DOCK", "Receiving dock", LocationKind.RECEIVING, "MAIN"),
    ("DRY-A1", "Dry store aisle A, bay 1 (sugar)", LocationKind.STORAGE, "MAIN"),
    ("DRY-A2", "Dry store aisle A, bay 2 (pectin, flavourings)", LocationKind.STORAGE, "MAIN"),
    ("DRY-B1", "Dry store aisle B, bay 1 (glass and lids)", LocationKind.STORAGE, "MAIN"),
    ("DRY-B2", "Dry store aisle B, bay 2 (labels, gift packaging)", LocationKind.STORAGE, "MAIN"),
    ("DRY-C1", "Dry store aisle C, bay 1 (finished jam 340 g)", LocationKind.STORAGE, "MAIN"),
    ("DRY-C2", "Dry store aisle C, bay 2 (220 g and reduced sugar)", LocationKind.STORAGE, "MAIN"),
    ("DRY-C3", "Dry store aisle C, bay 3 (gift boxes)", LocationKind.STORAGE, "MAIN"),
    ("COLD-01", "Cold store 1, frozen −18 °C", LocationKind.STORAGE, "MAIN"),
    ("COLD-02", "Cold store 2, chilled +4 °C", LocationKind.STORAGE, "MAIN"),
    ("KITCHEN", "Jam kitchen", LocationKind.PRODUCTION, "MAIN"),
    ("PACK-01", "Gift packing bench", LocationKind.PRODUCTION, "MAIN"),
    ("QUARANTINE", "Quarantine cage", LocationKind.QUARANTINE, "MAIN"),
    ("DISPATCH", "Dispatch bay", LocationKind.SHIPPING, "MAIN"),
    ("N-RCV", "North depot goods in", LocationKind.RECEIVING, "NORTH"),
    ("N-01", "North depot racking 1", LocationKind.STORAGE, "NORTH"),
    ("N-02", "North depot racking 2", LocationKind.STORAGE, "NORTH"),
    ("N-DISPATCH", "North depot dispatch", LocationKind.SHIPPING, "NORTH"),
]
# Where the handhelds work (chosen once per device on the /h/ menu) and the locations their pages start from.
STATIONS: list[tuple[str, str, StationKind, str | None, str | None, str | None]] = [
    ("DOCK", "Goods-in dock", StationKind.DOCK, "RCV-DOCK", None, None),
    ("KITCHEN", "Jam kitchen line", StationKind.KITCHEN, "RCV-DOCK", "KITCHEN", None),
    ("PACKING", "Gift packing bench", StationKind.KITCHEN, None, "PACK-01", "DRY-C3"),
    ("DISPATCH", "Dispatch", StationKind.DISPATCH, None, None, "DISPATCH"),
    ("NORTH", "North depot", StationKind.DOCK, "N-RCV", None, "N-DISPATCH"),
]
PICKABLE = {"MAIN": ("DISPATCH", "DRY-C1", "DRY-C2", "DRY-C3"), "NORTH": ("N-01", "N-02", "N-DISPATCH")}
MATERIAL_STORES = ("COLD-01", "COLD-02", "DRY-A1", "DRY-A2", "DRY-B1", "DRY-B2")

# Why a customer sends jars back, and what inspection makes of them (None: fit to sell again).
RETURN_REASONS: list[tuple[str, WriteOffReason | None]] = [
    ("Jar broken in transit", WriteOffReason.DAMAGED),
    ("Lid not sealed, customer complaint", WriteOffReason.QUALITY),
    ("Label smudged", WriteOffReason.DAMAGED),
    ("Delivered twice, driver brought back", None),
    ("Refused at delivery: wrong date code for the shelf", None),
]


# --- the simulation -------------------------------------------------------------------------


@dataclass
class SimLot:
    """What the builder knows of a lot, mirrored from every booking it makes."""

    id: int
    sku: str
    code: str
    made_on: date
    expiry: date | None
    supplier_lot: str | None = None
    stock: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    inputs: set[int] = field(default_factory=set)

    def fefo(self) -> tuple[date, date, str]:
        return (self.expiry or date.max, self.made_on, self.code)

    def total(self, locations: Iterable[str]) -> Decimal:
        return sum((self.stock.get(loc, ZERO) for loc in locations), ZERO)


@dataclass
class SimOrder:
    """An order the builder placed, with what is still to ship per order line."""

    id: int
    spec: CustomerSpec
    customer_id: int
    ship_date: date
    open: dict[int, tuple[str, Decimal]]  # order line id → (sku, quantity still to ship)
    shipped_any: bool = False


@dataclass
class AfterSale:
    """A customer return still to come (returned=False), or returned stock waiting for inspection."""

    due: date
    customer_id: int
    lot: SimLot
    quantity: Decimal
    returned: bool = False
    reason: str = ""
    waste: WriteOffReason | None = None


class StoryClock:
    """Event times on the day and at the hour the story books them, not when the demo is built.

    The services stamp what they write with the real clock (`created_at`, a cancellation's time …); the
    demo books six months in a minute, so without this every record would be "entered" at build time,
    after shipments dated months earlier. Each flush of the demo's session stamps its new rows (and
    times the services set on existing ones) with the story's moment, which moves on a little with
    every use and never passes the real now.
    """

    STAMPS = ("created_at", "recorded_at", "opened_at", "cancelled_at", "override_at", "released_at")

    def __init__(self, zone_name: str) -> None:
        self.zone = clock.zone(zone_name)
        self.moment = clock.now()

    def at(self, day: date, hour: int, minute: int = 0) -> None:
        """The story moves to `day` at `hour`:`minute`, site time."""
        self.moment = datetime.combine(day, time(hour, minute), self.zone).astimezone(UTC)

    def stamp(self) -> datetime:
        moment = min(self.moment, clock.now())
        self.moment += timedelta(seconds=53)
        return moment

    def watch(self, session: Session) -> None:
        event.listen(session, "before_flush", self._before_flush)
        session.info[STAMP_CLOCK] = self.stamp  # rows the services write without a flush

    def _before_flush(self, session: Session, _context: object, _instances: object) -> None:
        for obj in session.new:
            for name in self.STAMPS:
                if hasattr(obj, name) and (name == "created_at" or getattr(obj, name) is not None):
                    setattr(obj, name, self.stamp())
        for obj in session.dirty:
            state = inspect(obj)
            for name in self.STAMPS:
                if name in state.attrs and state.attrs[name].history.added and getattr(obj, name) is not None:
                    setattr(obj, name, self.stamp())


class _Demo:
    """Builds the demo day by day; every booking goes through a service with that day as today."""

    def __init__(self, session: Session, today: date, pattern: str, zone_name: str = "UTC") -> None:
        self.s = session
        self.clock = StoryClock(zone_name)
        self.clock.watch(session)
        self.today = today
        self.start = today - timedelta(days=HISTORY_DAYS)
        self.start -= timedelta(days=self.start.weekday())  # a Monday
        self.pattern = pattern
        self.rng = random.Random(SEED)
        self.lots: dict[str, list[SimLot]] = defaultdict(list)
        self.by_id: dict[int, SimLot] = {}
        self.supplier_ids: dict[str, int] = {}
        self.customers: list[tuple[CustomerSpec, int]] = []
        self.orders: list[SimOrder] = []
        self.last_expiry: dict[tuple[int, str], date] = {}
        self.counters: dict[str, int] = defaultdict(int)
        self.pending: list[AfterSale] = []
        self.demand = self._weekly_demand()
        self.recall_week = (self.today - self.start).days // 7 - 11
        self.trial_day = self.today - timedelta(days=135)
        self.trial_day -= timedelta(days=(self.trial_day.weekday() - 1) % 7)  # a Tuesday
        self.gift_with_recall = False

    # -- set-up -------------------------------------------------------------------------------

    def _weekly_demand(self) -> dict[str, dict[str, Decimal]]:
        """Expected units a week per warehouse and sku, from the customers' usual orders."""
        demand: dict[str, dict[str, Decimal]] = {"MAIN": defaultdict(Decimal), "NORTH": defaultdict(Decimal)}
        for spec in CUSTOMERS:
            for sku, qty in spec.assortment.items():
                demand[spec.warehouse][sku] += Decimal(qty) * Decimal("0.85") / spec.every
        return demand

    def _total_demand(self, sku: str) -> Decimal:
        return self.demand["MAIN"].get(sku, ZERO) + self.demand["NORTH"].get(sku, ZERO)

    def _material_usage(self) -> dict[str, Decimal]:
        usage: dict[str, Decimal] = defaultdict(Decimal)
        for sku in GIFT_SKUS:
            for material, per in _recipe(sku).items():
                if material in ITEMS and ITEMS[material].kind is MAT:
                    usage[material] += per * self._total_demand(sku)
        for sku in JAM_SKUS:
            made = self._total_demand(sku) + sum(
                (self._total_demand(g) for g in GIFT_SKUS if sku in _recipe(g)), ZERO)
            for material, per in _recipe(sku).items():
                usage[material] += per * made
        return usage

    def _user(self, name: str, role: Role) -> User:
        existing = self.s.scalar(select(User).where(User.username == name))
        if existing is not None:
            return existing
        return users.create_user(self.s, UserIn(username=name, role=role, password=DEMO_PASSWORD))

    def master_data(self) -> tuple[User, User]:
        s = self.s
        admin = self._user(DEMO_USER, Role.ADMIN)
        clerk = self._user("clerk", Role.OPERATOR)
        self._user("viewer", Role.VIEWER)
        masterdata.create_warehouse(s, WarehouseIn(
            code="MAIN", name="Jam kitchen and main store", address="Hollow Lane, Ashcombe AC3 2HL",
            business_name="Ashcombe Preserves Ltd", phone="+44 1632 960500"))
        masterdata.create_warehouse(s, WarehouseIn(
            code="NORTH", name="North depot", address="Unit 3, Fellgate Park, Northam NM3 4ND",
            business_name="Ashcombe Preserves Ltd", phone="+44 1632 960501"))
        for code, name, kind, warehouse in LOCATIONS:
            masterdata.create_location(s, LocationIn(code=code, name=name, kind=kind, warehouse=warehouse))
        for code, name, station_kind, receive_at, produce_at, ship_from in STATIONS:
            stations.create_station(s, StationIn(code=code, name=name, kind=station_kind, receiving_location=receive_at,
                                                 production_location=produce_at, shipping_location=ship_from))
        for item in MATERIALS + LABELS + PRODUCTS:
            masterdata.create_product(s, ProductIn(
                sku=item.sku, name=item.name, kind=item.kind, unit=item.unit, shelf_life_days=item.shelf_life,
                expiry_alert_days=item.alert, gtin=gs1(item.gtin) if item.gtin else None))
        for sku in JAM_SKUS + GIFT_SKUS:
            recipes.save_recipe(s, sku, _recipe_in(sku))
        for sku, level, gtin, content in PACKS:
            product_id = s.scalar(select(Product.id).where(Product.sku == sku))
            assert product_id is not None
            masterdata.add_packaging(s, product_id, PackagingIn(level=level, gtin=gtin, content=content))
        for sup in SUPPLIERS:
            supplier = masterdata.create_supplier(s, SupplierIn(
                name=sup.name, gln=gs1(sup.gln) if sup.gln else None, contact_name=sup.contact,
                phone=sup.phone, email=sup.email, address=sup.address))
            self.supplier_ids[sup.key] = supplier.id
        for spec in CUSTOMERS:
            customer = masterdata.create_customer(s, CustomerIn(
                name=spec.name, gln=gs1(spec.gln) if spec.gln else None, contact_name=spec.contact, phone=spec.phone,
                email=spec.email, address=spec.address, min_remaining_days=spec.min_days,
                min_remaining_pct=Decimal(spec.min_pct) if spec.min_pct is not None else None,
                transit_days=spec.transit, max_lots_per_line=spec.max_lots,
                no_date_reversal=spec.no_reversal))
            self.customers.append((spec, customer.id))
        return admin, clerk

    # -- stock mirror -------------------------------------------------------------------------

    def _track(self, lot: Lot, sku: str) -> SimLot:
        sim = SimLot(id=lot.id, sku=sku, code=lot.code, made_on=lot.made_on, expiry=lot.expiry,
                     supplier_lot=lot.supplier_lot_code)
        self.lots[sku].append(sim)
        self.by_id[lot.id] = sim
        return sim

    def _usable(self, sku: str, day: date, locations: Iterable[str]) -> list[SimLot]:
        locs = tuple(locations)
        found = [lot for lot in self.lots[sku] if (lot.expiry is None or lot.expiry >= day)
                 and lot.total(locs) > 0]
        return sorted(found, key=SimLot.fefo)

    def _sellable(self, sku: str, day: date, locations: Iterable[str]) -> Decimal:
        """Stock most customers would still take: at least 40 % of its life left."""
        life = ITEMS[sku].shelf_life or 365
        locs = tuple(locations)
        return sum((lot.total(locs) for lot in self.lots[sku]
                    if lot.expiry is None or (lot.expiry - day).days >= life * 0.4), ZERO)

    def _next_code(self, item: Item, day: date) -> str:
        self.counters[item.supplier] += 1
        n = self.counters[item.supplier]
        while True:
            code = item.lot_style.format(
                n=self.rng.randint(1000, 9999) if "RB-" in item.lot_style or "BC-" in item.lot_style
                else 1000 + n * 7 + self.rng.randint(0, 6),
                d=day, j=day.timetuple().tm_yday, k=self.rng.randint(1, 4), a="ABC"[n % 3])
            if code != RECALL_SUPPLIER_LOT and all(lot.supplier_lot != code for lot in self.lots[item.sku]):
                return code

    # -- one working day ------------------------------------------------------------------------

    def receive(self, day: date, clerk: User) -> None:
        """Each supplier delivers on its day what brings its materials back up to a few weeks' use."""
        usage = self._material_usage()
        week = (day - self.start).days // 7
        first = day == self.start
        for sup in SUPPLIERS:
            if not first and sup.weekday != day.weekday():
                continue
            lines: list[ReceiptLineIn] = []
            for item in MATERIALS + LABELS:
                if item.supplier != sup.key or (not first and week % item.every):
                    continue
                weekly = usage.get(item.sku, ZERO)
                on_hand = sum((lot.total((*MATERIAL_STORES, "RCV-DOCK"))
                               for lot in self._usable(item.sku, day + timedelta(days=14),
                                                       (*MATERIAL_STORES, "RCV-DOCK"))), ZERO)
                quantity = ZERO
                if on_hand < weekly * (item.every + 1):
                    quantity = _ceil_to(weekly * (item.every + 2) - on_hand, item.pack)
                code = None
                if item.sku == "FR-RASP" and week == self.recall_week:
                    quantity, code = Decimal(400), RECALL_SUPPLIER_LOT
                if quantity <= 0:
                    continue
                expiry = None
                if item.shelf_life:
                    expiry = day + timedelta(days=item.shelf_life - self.rng.randint(3, 20))
                cost = (item.cost * Decimal(self.rng.choice(["0.96", "0.98", "1", "1", "1.02", "1.05"])))
                lines.append(ReceiptLineIn(
                    sku=item.sku, quantity=quantity, location=item.home if day < self.today else "RCV-DOCK",
                    supplier_lot_code=code or self._next_code(item, day), expiry=expiry,
                    unit_cost=cost.quantize(Decimal("0.0001"))))
            if not lines:
                continue
            self.counters["dn"] += 1
            receipt = stock.receive(self.s, ReceiptIn(
                supplier_id=self.supplier_ids[sup.key], received_on=day,
                reference=f"DN-{day:%y}{self.counters['dn']:04d}", lines=lines, **self._origin(sup, lines, day)),
                user=clerk, today=day, lot_code_pattern=self.pattern)
            for line, cmd in zip(receipt.lines, lines, strict=True):
                sim = self._track(line.lot, cmd.sku)
                sim.stock[cmd.location] += cmd.quantity

    @staticmethod
    def _origin(sup: SupplierSpec, lines: list[ReceiptLineIn], day: date) -> dict[str, Any]:
        """Fresh fruit arrives with its harvest, cooling and packing details, as growers send them (FSMA 204)."""
        if not any(line.sku == "FR-RASP" for line in lines):
            return {}
        farm = f"{sup.name}, {sup.phone}, {sup.address}"
        return {"harvested_on": day - timedelta(days=2), "harvest_location": f"{farm}; field: Long Acre",
                "harvester": f"{sup.name}, {sup.phone}", "cooled_on": day - timedelta(days=2),
                "cooling_location": farm, "packed_on": day - timedelta(days=1), "packing_location": farm}

    def _inputs(self, sku: str, units: int, day: date, freshest: bool) -> list[RunInputIn] | None:
        """The lots to consume for `units` of `sku`, FEFO (or freshest first, for gift boxes)."""
        result: list[RunInputIn] = []
        for material, per in _recipe(sku).items():
            item = ITEMS[material]
            locations = MATERIAL_STORES if item.kind is MAT else PICKABLE["MAIN"]
            need = _needed(material, per, units) if item.kind is MAT else per * units
            lots = self._usable(material, day, locations)
            if freshest and item.kind is PRD:
                lots.reverse()
            for lot in lots:
                for loc in locations:
                    take = min(lot.stock.get(loc, ZERO), need)
                    if take > 0:
                        result.append(RunInputIn(lot_id=lot.id, quantity=take, location=loc))
                        need -= take
                    if need == 0:
                        break
                if need == 0:
                    break
            if need > 0:
                return None
        return result

    def _produce(self, sku: str, units: int, day: date, clerk: User, at: str) -> SimLot | None:
        """Make up to `units` (fewer if materials are short), then put the batch away."""
        freshest = sku in GIFT_SKUS
        step = 6 if freshest else 12
        while units >= step * 4:
            inputs = self._inputs(sku, units, day, freshest)
            if inputs is not None:
                break
            units = units * 3 // 4 // step * step
        else:
            return None
        used = [self.by_id[i.lot_id] for i in inputs if i.lot_id is not None]
        expiry: date | None
        if freshest:
            expiry = min(lot.expiry or date.max for lot in used if ITEMS[lot.sku].kind is PRD)
            reason = "A gift box keeps as long as its jars; its packaging does not expire with it"
        else:
            # Cooked and sealed, jam keeps its own validated shelf life, longer than the raw fruit's.
            life = ITEMS[sku].shelf_life
            expiry = day + timedelta(days=life) if life else None
            reason = "Cooked and hot-filled: the jam's validated shelf life applies, not the raw fruit's"
        extra = (Decimal("0.14") if freshest else Decimal("0.11")) * units + Decimal(35)
        self.counters["batch"] += 1
        run = production.produce(self.s, ProductionRunIn(
            sku=sku, quantity=Decimal(units), planned_quantity=Decimal(units), location=at, produced_on=day,
            expiry=expiry, expiry_reason=reason,
            extra_cost=extra.quantize(Decimal("0.01")), inputs=inputs,
            note=f"Kettle {1 + self.counters['batch'] % 3}" if not freshest else "Assembled on the packing bench"),
            user=clerk, today=day, lot_code_pattern=self.pattern)
        for i in inputs:
            assert i.location is not None and i.lot_id is not None
            self.by_id[i.lot_id].stock[i.location] -= i.quantity
        out = self._track(run.output_lot, sku)
        out.stock[at] += Decimal(units)
        out.inputs = {i.lot_id for i in inputs if i.lot_id is not None}
        self._move(out, at, ITEMS[sku].home, Decimal(units), day, clerk)
        return out

    def _move(self, lot: SimLot, source: str, target: str, quantity: Decimal, day: date, user: User) -> None:
        """Transfer stock of a lot between locations (also between warehouses)."""
        stock.transfer(self.s, TransferIn(lot_id=lot.id, from_location=source, to_location=target,
                                          quantity=quantity, moved_on=day), user=user, today=day)
        lot.stock[source] -= quantity
        lot.stock[target] += quantity

    def _uses_recall_lot(self, lot: SimLot) -> bool:
        """Whether the lot was made (directly) from the raspberries of the recall story."""
        return any(self.by_id[i].supplier_lot == RECALL_SUPPLIER_LOT for i in lot.inputs)

    def produce(self, day: date, clerk: User) -> None:
        """Jam on Monday to Thursday (the two with the least cover), gift boxes on Friday."""
        if day.weekday() == 4:
            self._gift_boxes(day, clerk)
            return
        if day.weekday() > 3:
            return
        if day == self.trial_day:
            self._produce(TRIAL, 480, day, clerk, "KITCHEN")
        everywhere = PICKABLE["MAIN"] + PICKABLE["NORTH"]
        cover = []
        for sku in JAM_SKUS:
            if sku == TRIAL:
                continue
            weekly = self._total_demand(sku) + sum(
                (self._total_demand(g) for g in GIFT_SKUS if sku in _recipe(g)), ZERO)
            have = self._sellable(sku, day, everywhere)
            cover.append((have / weekly, sku, weekly, have))
        cover.sort()
        plan = [c for c in cover if c[0] < Decimal("1.5")][:2]
        recall = [lot for lot in self.lots["FR-RASP"] if lot.supplier_lot == RECALL_SUPPLIER_LOT
                  and lot.total(MATERIAL_STORES) > 0]
        small_done = any(self._uses_recall_lot(lot) for lot in self.lots[R2])
        if recall and not small_done and all(c[1] != R2 for c in plan):
            plan = [c for c in cover if c[1] == R2] + plan[:1]
        for _cover, sku, weekly, have in plan:
            units = int(_ceil_to(max(weekly * 4 - have, Decimal(480)), Decimal(12)))
            self._produce(sku, min(units, 2400 if sku.startswith("JAM-") else 1440), day, clerk, "KITCHEN")

    def _gift_boxes(self, day: date, clerk: User) -> None:
        """Gift boxes are packed from the freshest jars, so they keep as long as possible."""
        for sku in GIFT_SKUS:
            weekly = self._total_demand(sku)
            have = self._sellable(sku, day, PICKABLE["MAIN"] + PICKABLE["NORTH"])
            recall_jam = sku == TRIO and not self.gift_with_recall and any(
                self._uses_recall_lot(lot) and lot.total(PICKABLE["MAIN"]) > 0 for lot in self.lots[R2])
            if have < weekly * Decimal("1.5") or recall_jam:
                units = int(_ceil_to(max(weekly * 4 - have, Decimal(120)), Decimal(6)))
                out = self._produce(sku, min(units, 360), day, clerk, "PACK-01")
                if out is not None and any(self._uses_recall_lot(self.by_id[i]) for i in out.inputs):
                    self.gift_with_recall = True

    def replenish_north(self, day: date, clerk: User) -> None:
        """Monday's lorry to the North depot: two and a half weeks of its customers' demand."""
        if day.weekday() != 0 or day == self.start:
            return
        for sku, weekly in sorted(self.demand["NORTH"].items()):
            have = self._sellable(sku, day, PICKABLE["NORTH"])
            if have >= weekly * Decimal("1.5"):
                continue
            need = _ceil_to(weekly * Decimal("2.5") - have, Decimal(6))
            life = ITEMS[sku].shelf_life or 365
            for lot in self._usable(sku, day, PICKABLE["MAIN"]):
                if lot.expiry is None or (lot.expiry - day).days < life * 0.6:
                    continue
                for loc in PICKABLE["MAIN"]:
                    take = min(lot.stock.get(loc, ZERO), need)
                    if take > 0:
                        self._move(lot, loc, "N-01", take, day, clerk)
                        need -= take
                if need <= 0:
                    break

    def _eligible(self, lot: SimLot, spec: CustomerSpec, customer_id: int, day: date) -> bool:
        """The customer's shelf-life rule for a lot shipped on `day`."""
        if lot.expiry is None:
            return True
        if lot.expiry < day:
            return False
        remaining = (lot.expiry - (day + timedelta(days=spec.transit))).days
        if spec.min_days is not None and remaining < spec.min_days:
            return False
        if spec.min_pct is not None:
            life = (lot.expiry - lot.made_on).days
            if life <= 0 or Decimal(remaining) * 100 < Decimal(spec.min_pct) * life:
                return False
        last = self.last_expiry.get((customer_id, lot.sku))
        return not (spec.no_reversal and last is not None and lot.expiry < last)

    def place_orders(self, day: date, admin: User) -> None:
        """Customers order on their own weekday and rhythm, most of their usual assortment."""
        week = (day - self.start).days // 7
        if week < 1:
            return
        for n, (spec, customer_id) in enumerate(self.customers):
            if spec.weekday != day.weekday() or (week + n) % spec.every:
                continue
            lines = []
            for sku, usual in spec.assortment.items():
                if sku == TRIAL and not self.trial_day < day <= self.trial_day + timedelta(weeks=10):
                    continue  # listed after the trial batch, delisted ten weeks later
                if self.rng.random() < 0.85:
                    case = 6 if sku in GIFT_SKUS else 12
                    qty = _ceil_to(Decimal(usual) * Decimal(self.rng.choice(
                        ["0.5", "0.75", "1", "1", "1", "1.25", "1.5"])), Decimal(case))
                    lines.append(OrderLineIn(sku=sku, quantity=qty))
            if not lines:
                continue
            ship_date = day
            for _ in range(spec.lead):
                ship_date += timedelta(days=3 if ship_date.weekday() == 4 else 1)
            self.counters["po"] += 1
            order = orders.create_order(self.s, OrderIn(
                customer_id=customer_id, warehouse=spec.warehouse, ship_date=ship_date,
                customer_reference=f"PO-{4100 + self.counters['po']}" if spec.gln else None, lines=lines),
                user=admin, today=day)
            self.orders.append(SimOrder(
                id=order.id, spec=spec, customer_id=customer_id, ship_date=ship_date,
                open={line.id: (line.product.sku, line.quantity) for line in order.lines}))

    def _picks(self, order: SimOrder, line_id: int, sku: str, need: Decimal, day: date) -> list[ShipLineIn]:
        """First-expiry-first-out among the lots this customer may receive, within its lot limit."""
        spec = order.spec
        picks: list[ShipLineIn] = []
        used = 0
        for lot in self._usable(sku, day, PICKABLE[spec.warehouse]):
            if need == 0 or (spec.max_lots is not None and used >= spec.max_lots):
                break
            if not self._eligible(lot, spec, order.customer_id, day):
                continue
            used += 1
            for loc in PICKABLE[spec.warehouse]:
                take = min(lot.stock.get(loc, ZERO), need)
                if take > 0:
                    picks.append(ShipLineIn(lot_id=lot.id, quantity=take, location=loc, order_line_id=line_id))
                    need -= take
        return picks

    def ship_orders(self, day: date, clerk: User, admin: User) -> None:
        """Ship what is due; short lines wait a week for backorders, or are cancelled."""
        for order in self.orders:
            if not order.open or order.ship_date > day:
                continue
            lines = list(order.open.items())
            if order.spec.split and not order.shipped_any and len(lines) > 2:
                lines = lines[: len(lines) // 2]  # the rest goes on the next van
            picks: list[ShipLineIn] = []
            for line_id, (sku, need) in lines:
                picks += self._picks(order, line_id, sku, need, day)
            if picks:
                self.counters["carrier"] += 1
                ref = (f"Own van, route {1 + self.counters['carrier'] % 4}" if order.spec.warehouse == "MAIN"
                       and order.spec.transit == 0 else f"DPD 1550{self.rng.randint(1000000, 9999999)}")
                orders.ship(self.s, ShipmentIn(
                    order_id=order.id, shipped_on=day, carrier_reference=ref, lines=picks),
                    user=clerk, today=day)
                order.shipped_any = True
                for pick in picks:
                    assert pick.lot_id is not None and pick.order_line_id is not None
                    lot = self.by_id[pick.lot_id]
                    lot.stock[pick.location] -= pick.quantity
                    sku, left = order.open[pick.order_line_id]
                    order.open[pick.order_line_id] = (sku, left - pick.quantity)
                    key = (order.customer_id, sku)
                    if lot.expiry and (key not in self.last_expiry or lot.expiry > self.last_expiry[key]):
                        self.last_expiry[key] = lot.expiry
                order.open = {k: v for k, v in order.open.items() if v[1] > 0}
                if self.rng.random() < 0.03:
                    pick = self.rng.choice(picks)
                    assert pick.lot_id is not None
                    self.pending.append(AfterSale(day + timedelta(days=self.rng.randint(2, 6)), order.customer_id,
                                                  self.by_id[pick.lot_id], pick.quantity))
            late = (day - order.ship_date).days
            give_up = late >= 7 or not (order.spec.backorders or order.spec.split)
            if order.open and give_up:
                orders.cancel_order(self.s, order.id, user=admin)
                order.open = {}

    def after_sales(self, day: date, clerk: User, admin: User) -> None:
        """Returns into quarantine, then their inspection: back to stock or destroyed."""
        due = [p for p in self.pending if p.due <= day]
        self.pending = [p for p in self.pending if p.due > day]
        for item in due:
            lot = item.lot
            if not item.returned:
                reason, waste = self.rng.choice(RETURN_REASONS)
                qty = min(item.quantity, Decimal(self.rng.choice([1, 2, 3, 6, 12])))
                stock.customer_return(self.s, ReturnIn(
                    customer_id=item.customer_id, lot_id=lot.id, quantity=qty, location="QUARANTINE",
                    returned_on=day, reason=reason), user=clerk, today=day)
                lot.stock["QUARANTINE"] += qty
                self.pending.append(AfterSale(day + timedelta(days=self.rng.randint(1, 4)), item.customer_id,
                                              lot, qty, True, reason, waste))
            elif item.waste is None and (lot.expiry is None or lot.expiry > day + timedelta(days=60)):
                self._move(lot, "QUARANTINE", ITEMS[lot.sku].home, item.quantity, day, admin)
            else:
                writeoffs.write_off(self.s, WriteOffIn(
                    lot_id=lot.id, location="QUARANTINE", quantity=item.quantity,
                    reason=item.waste or WriteOffReason.OTHER, written_off_on=day,
                    note=f"Returned by the customer ({item.reason.lower()}); destroyed after inspection"),
                    user=admin, today=day)
                lot.stock["QUARANTINE"] -= item.quantity

    def cycle_count(self, day: date, admin: User) -> None:
        """On the first Monday of a month three bins are counted; small differences are booked."""
        if day.weekday() != 0 or day.day > 7 or day == self.start:
            return
        candidates = [(lot, loc) for lots in self.lots.values() for lot in lots
                      for loc, qty in lot.stock.items() if qty >= 24 and loc != "QUARANTINE"
                      and not loc.startswith("N-")]
        candidates.sort(key=lambda x: (x[0].id, x[1]))
        rng = random.Random(f"{SEED}:{day.isoformat()}")  # counts do not shift the rest of the story
        for lot, loc in rng.sample(candidates, min(3, len(candidates))):
            if ITEMS[lot.sku].unit == EA:
                qty = Decimal(rng.choice([-3, -2, -1, -1, 1]))
                glass = ITEMS[lot.sku].kind is PRD or lot.sku.startswith("PK-JAR")
                short = "jars broken on the pallet" if glass else "count short"
                reason = "Cycle count: " + (short if qty < 0 else "found behind a pallet")
            else:
                qty = Decimal(rng.choice(["-0.8", "-0.5", "-1.2", "0.4"]))
                reason = "Cycle count: spillage" if qty < 0 else "Cycle count: scale difference"
            stock.adjust(self.s, AdjustmentIn(lot_id=lot.id, location=loc, quantity=qty, reason=reason,
                                              adjusted_on=day), user=admin, today=day)
            lot.stock[loc] += qty

    def hold_one_lot(self, admin: User) -> None:
        """The newest strawberry batch failed a seal check and waits for QA."""
        for sku in (S3, R3, *JAM_SKUS):
            held = [lot for lot in self.lots[sku] if lot.total(PICKABLE["MAIN"]) > 0]
            if held:
                lot = max(held, key=lambda x: (x.made_on, x.id))
                stock.hold_lot(self.s, lot.id, HoldIn(
                    reason="Vacuum check: 3 of 40 sampled jars had loose lids; whole batch to be checked"),
                    user=admin)
                return

    def run(self) -> None:
        # A working day: deliveries from half past six, the kettles from eight, the North lorry at
        # eleven, vans out after lunch, the day's orders typed in at four, returns and counts after.
        self.clock.at(self.start - timedelta(days=7), 9)
        admin, clerk = self.master_data()
        day = self.start
        while day <= self.today:
            if day.weekday() < 5:
                self.clock.at(day, 6, 30)
                self.receive(day, clerk)
                self.clock.at(day, 8)
                self.produce(day, clerk)
                self.clock.at(day, 11)
                self.replenish_north(day, clerk)
                if day < self.today:
                    self.clock.at(day, 13, 30)
                    self.ship_orders(day, clerk, admin)
                self.clock.at(day, 16)
                self.place_orders(day, admin)
                self.clock.at(day, 16, 45)
                self.after_sales(day, clerk, admin)
                self.clock.at(day, 17, 30)
                self.cycle_count(day, admin)
            day += timedelta(days=1)
        self.clock.at(self.today, 9, 15)
        self.hold_one_lot(admin)
        self.clock.at(self.today, 9, 30)
        self.allocate_next_order()

    def allocate_next_order(self) -> None:
        """The next order due out is allocated, so the handheld Pick page has a pick list to walk (and to
        keep on the device for picking without a connection)."""
        due = [o for o in self.orders if o.ship_date >= self.today and any(q > 0 for _, q in o.open.values())]
        if due:
            nxt = min(due, key=lambda o: (o.ship_date, o.id))
            allocations.allocate_order(self.s, nxt.id, today=self.today)


def site_today(app: Flask) -> date:
    """Today in the site's time zone, the anchor of the demo's dates."""
    return clock.today(app.config["TIMEZONE"])


def build_demo(app: Flask, today: date | None = None) -> bool:
    """Migrate the app's database and fill it with the demo company; False if it already has data."""
    engine = app.extensions["lotwise.engine"]
    upgrade(engine)
    with app.extensions["lotwise.sessions"]() as session:
        if session.scalar(select(func.count(Product.id))):
            return False
        _Demo(session, today or site_today(app), app.config["LOT_CODE_PATTERN"], app.config["TIMEZONE"]).run()
    return True


"""Onboarding from a workbook: products, suppliers, customers, locations, opening stock and orders.

One pass over the file, row by row, validated against natural-key maps loaded once (sku, name, code,
lot code, order reference), so a file of 50,000 stock rows costs a handful of queries per thousand
rows, not several per row. Rows go through the API's commands (`ProductIn`, `CustomerIn` …, and
`StockRowIn`/`OrderRowIn` for the rest), so each rule is written once.

A real import is one transaction: what it writes is inserted in chunks as the rows stream by, and
if any row is bad (and bad rows are not to be skipped) the transaction is rolled back and the
report says why — nothing is written. Opening stock is booked through the ledger: a `receive`
movement and its balance per lot and location, referenced `opening` + the import's id, so
`lotwise check`, traces and mass balances hold from the first day.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import Table, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import Conflict, Invalid, NotFound
from app.exports.workbook import RowProblem, SheetReader, WorkbookError, WorkbookReader
from app.models import (
    Balance,
    Customer,
    DataImport,
    ImportStatus,
    Location,
    Lot,
    LotOrigin,
    LotStatus,
    Movement,
    MovementKind,
    Order,
    OrderAllocation,
    OrderLine,
    OrderStatus,
    PackagingLevel,
    Product,
    ProductKind,
    Shipment,
    Supplier,
    User,
    Warehouse,
)
from app.schemas import (
    CustomerIn,
    ImportErrorOut,
    ImportOut,
    ImportSheetOut,
    LocationIn,
    OrderRowIn,
    ProductIn,
    SheetName,
    StockRowIn,
    SupplierIn,
)
from app.services.base import reserve_numbers, unit

OPENING = "opening"
"""The reference type of opening-stock movements; the reference id is the import's."""

CHUNK = 1000
"""Rows written per bulk insert."""

MAX_LISTED_ERRORS = 1000

Progress = Callable[[int, int], None]
"""Called now and then with (rows read, rows in the file) — the total is the sheets' own estimate."""

_FIELD_OF = {"contact": "contact_name"}
_COLUMN_OF = {v: k for k, v in _FIELD_OF.items()}


@dataclass
class Options:
    dry_run: bool = False
    update: bool = False
    skip_bad: bool = False


@dataclass
class _Count:
    rows: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    bad: int = 0


class _Refused(Exception):
    """Raised inside the import's transaction to roll it back when bad rows stop the import."""


@dataclass
class _Party:
    id: int | None
    values: dict[str, Any]
    row: int | None = None  # the row of the file that defines it, if any


@dataclass
class _NewLot:
    row: int
    attrs: tuple[Any, ...]
    locations: set[str] = field(default_factory=set)
    id: int | None = None


@dataclass
class _Order:
    ref: str
    row: int
    customer: str
    ship_date: date
    warehouse: str | None
    lines: list[tuple[int, str, Decimal]] = field(default_factory=list)
    bad: bool = False


class _Run:
    """One pass over one file: the natural-key maps, the counts, the errors, and the writes."""

    def __init__(self, session: Session, options: Options, *, user: User | None, today: date,
                 import_id: int | None, progress: Progress | None, total: int) -> None:
        self.s = session
        self.o = options
        self.write = not options.dry_run
        self.user_id = user.id if user else None
        self.today = today
        self.import_id = import_id or 0
        self.progress = progress
        self.total = total
        self.done = 0
        self.counts: dict[SheetName, _Count] = {}
        self.errors: list[ImportErrorOut] = []
        self.error_count = 0
        self.products = {r.sku: _Party(r.id, {"unit": r.unit, "shelf_life_days": r.shelf_life_days,
                                              "active": r.active, "gtin": r.gtin, "kind": r.kind,
                                              "name": r.name, "expiry_alert_days": r.expiry_alert_days,
                                              "lot_tracked": r.lot_tracked})
                         for r in session.scalars(select(Product))}
        # A GTIN names one thing: a product, or a case or pallet of one (as the product form checks).
        self.gtins = {p.values["gtin"]: f"product {sku}" for sku, p in self.products.items() if p.values["gtin"]}
        self.gtins.update({gtin: f"a {level} of {sku}" for gtin, level, sku in session.execute(
            select(PackagingLevel.gtin, PackagingLevel.level, Product.sku).join(Product))})
        self.suppliers = {r.name: _Party(r.id, _party_values(r)) for r in session.scalars(select(Supplier))}
        self.customers = {r.name: _Party(r.id, _party_values(r) | {
            "min_remaining_days": r.min_remaining_days, "min_remaining_pct": r.min_remaining_pct,
            "transit_days": r.transit_days, "max_lots_per_line": r.max_lots_per_line,
            "no_date_reversal": r.no_date_reversal}) for r in session.scalars(select(Customer))}
        self.warehouses: dict[str, int | None] = {r.code: r.id for r in session.scalars(select(Warehouse))}
        self.locations = {r.code: _Party(r.id, {"name": r.name, "kind": r.kind, "active": r.active,
                                                "warehouse": r.warehouse.code})
                          for r in session.scalars(select(Location).join(Location.warehouse))}

    # -- reporting ---------------------------------------------------------------------------------

    def count(self, sheet: SheetName) -> _Count:
        return self.counts.setdefault(sheet, _Count())

    def bad(self, sheet: SheetName | str, row: int, column: str | None, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_LISTED_ERRORS:
            self.errors.append(ImportErrorOut(sheet=str(sheet), row=row, column=column, message=message))

    def invalid(self, sheet: SheetName, row: int, exc: ValidationError) -> None:
        """Each problem pydantic found in the row, naming the workbook's column."""
        for err in exc.errors(include_url=False):
            loc = [str(x) for x in err["loc"] if not str(x).startswith("function-")]
            column = _COLUMN_OF.get(loc[0], loc[0]) if loc else None
            msg = err["msg"].removeprefix("Value error, ")
            self.bad(sheet, row, column, msg)

    def tick(self, n: int = 1) -> None:
        self.done += n
        if self.progress is not None and self.done % 500 == 0:
            self.progress(self.done, max(self.total, self.done))

    def rows(self, sheet: SheetReader) -> Iterator[tuple[int, dict[str, str | None]]]:
        for p in sheet.problems:
            self.bad(p.sheet, p.row, p.column, p.message)
            self.count(sheet.name).bad += 1
        for row in sheet.rows():
            self.count(sheet.name).rows += 1
            yield row
            self.tick()

    # -- master data -------------------------------------------------------------------------------

    def master(self, sheet: SheetReader, command: type[BaseModel], key: str, known: dict[str, _Party],
               model: Any, extra: Callable[[int, BaseModel], str | None] | None = None) -> None:
        """Products, suppliers, customers: created if new, updated (with the option) if they differ."""
        count = self.count(sheet.name)
        present = [_FIELD_OF.get(c, c) for c in sheet.columns if c is not None]
        new: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        seen: dict[str, int] = {}
        for number, row in self.rows(sheet):
            data = {_FIELD_OF.get(k, k): v for k, v in row.items() if v is not None}
            try:
                cmd = command.model_validate(data)
            except ValidationError as exc:
                self.invalid(sheet.name, number, exc)
                count.bad += 1
                continue
            name = getattr(cmd, key)
            if name in seen:
                self.bad(sheet.name, number, key, f"{key} {name!r} is already on row {seen[name]}")
                count.bad += 1
                continue
            seen[name] = number
            if extra is not None and extra(number, cmd) is not None:
                count.bad += 1
                continue
            values = cmd.model_dump()
            existing = known.get(name)
            if existing is None:
                known[name] = _Party(None, values, number)
                new.append(values)
                count.created += 1
                continue
            diff = {f: values[f] for f in present if f in values and f != key and existing.values.get(f) != values[f]}
            if not diff or not self.o.update:
                count.skipped += 1
                continue
            existing.values.update(diff)
            if existing.id is not None:
                changed.append({"id": existing.id, **diff})
            count.updated += 1
        if self.write:
            self.s.flush()
            column = getattr(model, key)
            for part in _chunks(new):
                names = [values[key] for values in part]
                for ident, name in self.added(model, part, select(model.id, column).where(column.in_(names))):
                    known[name].id = ident
            if changed:
                self.s.execute(update(model), changed)

    def added(self, model: Any, rows: list[dict[str, Any]], query: Any) -> list[Any]:
        """Insert `rows` with one executemany, then read back what `query` selects (their ids, by natural key).

        A plain executemany and one SELECT per chunk: an INSERT … RETURNING of many rows costs far more here.
        """
        self.s.execute(insert(_table(model)), rows)
        return list(self.s.execute(query))

    def product_rules(self, number: int, cmd: BaseModel) -> str | None:
        assert isinstance(cmd, ProductIn)
        if cmd.gtin is not None:
            owner = self.gtins.get(cmd.gtin)
            if owner is not None and owner != f"product {cmd.sku}":
                self.bad(SheetName.PRODUCTS, number, "gtin", f"GTIN {cmd.gtin} is already the GTIN of {owner}")
                return "gtin"
            self.gtins[cmd.gtin] = f"product {cmd.sku}"
        return None

    def products_sheet(self, sheet: SheetReader) -> None:
        self.master(sheet, ProductIn, "sku", self.products, Product, self.product_rules)

    def suppliers_sheet(self, sheet: SheetReader) -> None:
        self.master(sheet, SupplierIn, "name", self.suppliers, Supplier)

    def customers_sheet(self, sheet: SheetReader) -> None:
        self.master(sheet, CustomerIn, "name", self.customers, Customer)

    def locations_sheet(self, sheet: SheetReader) -> None:
        count = self.count(sheet.name)
        present = [c for c in sheet.columns if c is not None]
        new: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        new_warehouses: list[str] = []
        seen: dict[str, int] = {}
        for number, row in self.rows(sheet):
            try:
                cmd = LocationIn.model_validate({k: v for k, v in row.items() if v is not None})
            except ValidationError as exc:
                self.invalid(sheet.name, number, exc)
                count.bad += 1
                continue
            if cmd.code in seen:
                self.bad(sheet.name, number, "code", f"code {cmd.code!r} is already on row {seen[cmd.code]}")
                count.bad += 1
                continue
            seen[cmd.code] = number
            if cmd.warehouse not in self.warehouses:
                self.warehouses[cmd.warehouse] = None
                new_warehouses.append(cmd.warehouse)
            values = {"name": cmd.name, "kind": cmd.kind, "active": cmd.active, "warehouse": cmd.warehouse}
            existing = self.locations.get(cmd.code)
            if existing is None:
                self.locations[cmd.code] = _Party(None, values, number)
                new.append({"code": cmd.code, **values})
                count.created += 1
                continue
            diff = {f: values[f] for f in present if f in values and existing.values.get(f) != values[f]}
            if not diff or not self.o.update:
                count.skipped += 1
                continue
            existing.values.update(diff)
            changed.append({"id": existing.id, **diff})
            count.updated += 1
        if not self.write:
            return
        for code in new_warehouses:
            self.warehouses[code] = self.s.scalar(insert(Warehouse).values(code=code, name=code)
                                                  .returning(Warehouse.id))
        for part in _chunks(new):
            rows = [{"code": v["code"], "name": v["name"], "kind": v["kind"], "active": v["active"],
                     "warehouse_id": self.warehouses[v["warehouse"]]} for v in part]
            codes = [v["code"] for v in part]
            for ident, code in self.added(Location, rows, select(Location.id, Location.code)
                                          .where(Location.code.in_(codes))):
                self.locations[code].id = ident
        for c in changed:
            if "warehouse" in c:
                c["warehouse_id"] = self.warehouses[c.pop("warehouse")]
        if changed:
            self.s.execute(update(Location), changed)

    # -- opening stock -----------------------------------------------------------------------------

    def stock_sheet(self, sheet: SheetReader) -> None:
        count = self.count(sheet.name)
        existing: dict[tuple[str, str], tuple[Any, ...]] = {
            (sku, code): (expiry, made_on, supplier, supplier_lot, cost)
            for sku, code, expiry, made_on, supplier, supplier_lot, cost in self.s.execute(
                select(Product.sku, Lot.code, Lot.expiry, Lot.made_on, Supplier.name, Lot.supplier_lot_code,
                       Lot.unit_cost).join(Product, Lot.product_id == Product.id)
                .outerjoin(Supplier, Lot.supplier_id == Supplier.id))}
        new_lots: dict[tuple[str, str], _NewLot] = {}
        places: dict[tuple[str, str, str], int] = {}
        pending: list[tuple[tuple[str, str], str, Decimal]] = []
        for number, row in self.rows(sheet):
            try:
                cmd = StockRowIn.model_validate({k: v for k, v in row.items() if v is not None})
            except ValidationError as exc:
                self.invalid(sheet.name, number, exc)
                count.bad += 1
                continue
            attrs = self.lot_attrs(number, cmd)
            if attrs is None:
                count.bad += 1
                continue
            key = (cmd.sku, cmd.lot_code)
            place = (cmd.sku, cmd.lot_code, cmd.location)
            if place in places:
                self.bad(sheet.name, number, "lot_code", f"duplicate lot code: lot {cmd.lot_code} of {cmd.sku} at "
                                                         f"{cmd.location} is already on row {places[place]}")
                count.bad += 1
                continue
            if key in existing:
                if _same_lot(existing[key], attrs):
                    places[place] = number
                    count.skipped += 1
                else:
                    self.bad(sheet.name, number, "lot_code",
                             f"duplicate lot code: {cmd.sku} already has lot {cmd.lot_code} "
                             f"({_lot_words(existing[key])}); stock already in Lotwise is corrected with an "
                             "adjustment, not an import")
                    count.bad += 1
                continue
            lot = new_lots.get(key)
            if lot is not None and not _same_lot(lot.attrs, attrs):
                self.bad(sheet.name, number, "lot_code",
                         f"duplicate lot code: lot {cmd.lot_code} of {cmd.sku} is on row {lot.row} with "
                         f"{_lot_words(lot.attrs)}; one lot has one expiry, supplier and cost")
                count.bad += 1
                continue
            if lot is None:
                new_lots[key] = lot = _NewLot(number, attrs)
            places[place] = number
            lot.locations.add(cmd.location)
            count.created += 1
            if self.write:
                pending.append((key, cmd.location, cmd.quantity))
                if len(pending) >= CHUNK:
                    self.book_stock(pending, new_lots)
                    pending = []
        if self.write and pending:
            self.book_stock(pending, new_lots)

    def lot_attrs(self, number: int, cmd: StockRowIn) -> tuple[Any, ...] | None:
        """(expiry, made on, supplier, supplier lot, unit cost) of the row's lot, or None if the row is bad."""
        sheet = SheetName.STOCK
        ok = True
        product = self.products.get(cmd.sku)
        if product is None:
            self.bad(sheet, number, "sku", f"unknown sku {cmd.sku!r}: not in the products sheet nor in Lotwise")
            ok = False
        elif not product.values.get("active", True):
            self.bad(sheet, number, "sku", f"product {cmd.sku} is inactive")
            ok = False
        location = self.locations.get(cmd.location)
        if location is None:
            self.bad(sheet, number, "location", f"unknown location {cmd.location!r}: not in the locations sheet "
                                                "nor in Lotwise")
            ok = False
        elif not location.values.get("active", True):
            self.bad(sheet, number, "location", f"location {cmd.location} is inactive")
            ok = False
        if cmd.supplier is not None and cmd.supplier not in self.suppliers:
            self.bad(sheet, number, "supplier", f"unknown supplier {cmd.supplier!r}: not in the suppliers sheet "
                                                "nor in Lotwise")
            ok = False
        if not ok or product is None:
            return None
        life = product.values.get("shelf_life_days")
        made_on, expiry = cmd.made_on, cmd.expiry
        if made_on is None:
            made_on = expiry - timedelta(days=life) if expiry is not None and life else self.today
            made_on = min(made_on, self.today)
        elif made_on > self.today:
            self.bad(sheet, number, "made_on", f"made_on {made_on} is in the future (today is {self.today})")
            return None
        if expiry is None and life:
            expiry = made_on + timedelta(days=life)
        if expiry is not None and expiry < made_on:
            self.bad(sheet, number, "expiry", f"expiry {expiry} is before made_on {made_on}")
            return None
        return (expiry, made_on, cmd.supplier, cmd.supplier_lot_code, cmd.unit_cost or Decimal(0))

    def book_stock(self, pending: list[tuple[tuple[str, str], str, Decimal]], lots: dict[tuple[str, str], _NewLot]
                   ) -> None:
        """Insert the chunk's new lots, their opening movements and balances: three statements."""
        fresh = [(key, lots[key]) for key in dict.fromkeys(k for k, _, _ in pending) if lots[key].id is None]
        rows = []
        for (sku, code), lot in fresh:
            product = self.products[sku]
            expiry, made_on, supplier, supplier_lot, cost = lot.attrs
            bought = supplier is not None or product.values.get("kind") == ProductKind.MATERIAL
            rows.append({"product_id": product.id, "code": code,
                         "origin": LotOrigin.RECEIPT if bought else LotOrigin.PRODUCTION,
                         "supplier_id": self.suppliers[supplier].id if supplier else None,
                         "supplier_lot_code": supplier_lot, "made_on": made_on, "expiry": expiry,
                         "unit_cost": cost, "status": LotStatus.RELEASED})
        if rows:
            wanted = {(r["product_id"], r["code"]): lot for r, (_, lot) in zip(rows, fresh, strict=True)}
            # By code alone (its own index); the pairs are picked out here. A condition on product_id too
            # would lead SQLite to walk every lot of those products instead.
            found = self.added(Lot, rows, select(Lot.id, Lot.product_id, Lot.code).where(
                Lot.code.in_({r["code"] for r in rows})))
            for ident, product_id, code in found:
                if (product_id, code) in wanted:
                    wanted[(product_id, code)].id = ident
        now = utcnow()
        moves = []
        balances = []
        for key, code, quantity in pending:
            lot_id, location_id = lots[key].id, self.locations[code].id
            moves.append({"lot_id": lot_id, "location_id": location_id, "quantity": quantity,
                          "kind": MovementKind.RECEIVE, "ref_type": OPENING, "ref_id": self.import_id,
                          "user_id": self.user_id, "created_at": now, "booked_on": self.today,
                          "reason": "opening stock"})
            balances.append({"lot_id": lot_id, "location_id": location_id, "on_hand": quantity})
        self.s.execute(insert(_table(Movement)), moves)
        self.s.execute(insert(_table(Balance)), balances)

    # -- orders ------------------------------------------------------------------------------------

    def orders_sheet(self, sheet: SheetReader) -> None:
        count = self.count(sheet.name)
        orders: dict[str, _Order] = {}
        for number, row in self.rows(sheet):
            try:
                cmd = OrderRowIn.model_validate({k: v for k, v in row.items() if v is not None})
            except ValidationError as exc:
                self.invalid(sheet.name, number, exc)
                count.bad += 1
                self._spoil(orders, row.get("order_ref"))
                continue
            order = orders.get(cmd.order_ref)
            if order is None:
                order = orders[cmd.order_ref] = _Order(cmd.order_ref, number, cmd.customer, cmd.ship_date,
                                                       cmd.warehouse)
            problem = self.order_row_problem(cmd, order)
            if problem is not None:
                self.bad(sheet.name, number, *problem)
                count.bad += 1
                order.bad = True
                continue
            order.lines.append((number, cmd.sku, cmd.quantity))
        self.resolve_orders(sheet.name, orders, count)

    def _spoil(self, orders: dict[str, _Order], ref: str | None) -> None:
        if ref is not None and (order := orders.get(ref.strip())) is not None:
            order.bad = True

    def order_row_problem(self, cmd: OrderRowIn, order: _Order) -> tuple[str, str] | None:
        if (cmd.customer, cmd.ship_date, cmd.warehouse) != (order.customer, order.ship_date, order.warehouse):
            return ("order_ref", f"order {cmd.order_ref} is on row {order.row} with another customer, "
                                 "ship_date or warehouse; one order has one of each")
        if cmd.customer not in self.customers:
            return ("customer", f"unknown customer {cmd.customer!r}: not in the customers sheet nor in Lotwise")
        product = self.products.get(cmd.sku)
        if product is None:
            return ("sku", f"unknown sku {cmd.sku!r}: not in the products sheet nor in Lotwise")
        if not product.values.get("active", True):
            return ("sku", f"product {cmd.sku} is inactive")
        if cmd.ship_date < self.today:
            return ("ship_date", f"ship_date {cmd.ship_date} is in the past (today is {self.today})")
        if cmd.warehouse is not None and cmd.warehouse not in self.warehouses:
            return ("warehouse", f"unknown warehouse {cmd.warehouse!r}")
        if cmd.warehouse is None and len(self.warehouses) != 1:
            return ("warehouse", "name the warehouse the order ships from: "
                                 + ("there is none yet" if not self.warehouses else "there are several"))
        return None

    def resolve_orders(self, sheet: SheetName, orders: dict[str, _Order], count: _Count) -> None:
        existing = self.existing_orders(list(orders))
        create: list[_Order] = []
        replace: list[tuple[int, _Order]] = []
        for ref, order in orders.items():
            if order.bad:
                for number, _, _ in order.lines:
                    self.bad(sheet, number, "order_ref", f"order {ref} is not imported: another of its rows is bad")
                count.bad += len(order.lines)
                continue
            found = existing.get(ref, [])
            if len(found) > 1:
                for number, _, _ in order.lines:
                    self.bad(sheet, number, "order_ref", f"order_ref {ref!r} names {len(found)} orders in Lotwise "
                                                         f"({', '.join(o.number for o in found)})")
                count.bad += len(order.lines)
                continue
            if not found:
                create.append(order)
                count.created += len(order.lines)
                continue
            current = found[0]
            if self.same_order(current, order) or not self.o.update:
                count.skipped += len(order.lines)
                continue
            if not self.changeable(current):
                for number, _, _ in order.lines:
                    self.bad(sheet, number, "order_ref",
                             f"order {current.number} ({ref}) is {current.status.value} or has allocated or shipped "
                             "stock; change it on its page")
                count.bad += len(order.lines)
                continue
            replace.append((current.id, order))
            count.updated += len(order.lines)
        if self.write:
            self.write_orders(create, replace)

    def existing_orders(self, refs: list[str]) -> dict[str, list[Order]]:
        found: dict[str, list[Order]] = {}
        for part in _chunks(refs):
            for o in self.s.scalars(select(Order).where(
                    or_(Order.customer_reference.in_(part), Order.number.in_(part)),
                    Order.status != OrderStatus.CANCELLED)):
                for ref in {o.customer_reference, o.number} & set(part):
                    if ref is not None:
                        found.setdefault(ref, []).append(o)
        return found

    def warehouse_of(self, order: _Order) -> int | None:
        code = order.warehouse if order.warehouse is not None else next(iter(self.warehouses))
        return self.warehouses[code]

    def same_order(self, current: Order, order: _Order) -> bool:
        customer = self.customers[order.customer]
        lines = [(line.product.sku, line.quantity) for line in current.lines]
        return (current.customer_id == customer.id and current.ship_date == order.ship_date
                and current.warehouse_id == self.warehouse_of(order)
                and lines == [(sku, qty) for _, sku, qty in order.lines])

    def changeable(self, current: Order) -> bool:
        if current.status is not OrderStatus.OPEN:
            return False
        line_ids = [line.id for line in current.lines]
        allocated = self.s.scalar(select(OrderAllocation.id).where(OrderAllocation.order_line_id.in_(line_ids))
                                  .limit(1))
        shipped = self.s.scalar(select(Shipment.id).where(Shipment.order_id == current.id).limit(1))
        return allocated is None and shipped is None

    def write_orders(self, create: list[_Order], replace: list[tuple[int, _Order]]) -> None:
        self.s.flush()
        lines: list[dict[str, Any]] = []
        if create:
            first = reserve_numbers(self.s, "doc:SO", len(create))
            for offset, part in enumerate(_chunks(create)):
                rows = [{"number": f"SO-{first + offset * CHUNK + i:06d}",
                         "customer_id": self.customers[o.customer].id, "warehouse_id": self.warehouse_of(o),
                         "ship_date": o.ship_date, "status": OrderStatus.OPEN, "customer_reference": o.ref,
                         "priority": 0, "user_id": self.user_id} for i, o in enumerate(part)]
                ids = dict(self.added(Order, rows, select(Order.number, Order.id)
                                      .where(Order.number.in_([r["number"] for r in rows]))))
                for o, row in zip(part, rows, strict=True):
                    lines.extend(self.line_rows(ids[row["number"]], o))
        for order_id, o in replace:
            self.s.execute(update(Order).where(Order.id == order_id).values(
                customer_id=self.customers[o.customer].id, warehouse_id=self.warehouse_of(o), ship_date=o.ship_date))
            self.s.execute(delete(OrderLine).where(OrderLine.order_id == order_id))
            lines.extend(self.line_rows(order_id, o))
        for part in _chunks(lines):
            self.s.execute(insert(_table(OrderLine)), part)
        if replace:
            self.s.expire_all()

    def line_rows(self, order_id: int, order: _Order) -> list[dict[str, Any]]:
        return [{"order_id": order_id, "line_no": n, "product_id": self.products[sku].id, "quantity": qty,
                 "shipped_quantity": Decimal(0)} for n, (_, sku, qty) in enumerate(order.lines, start=1)]

    # -- the whole file ----------------------------------------------------------------------------

    def run(self, reader: WorkbookReader) -> None:
        steps = {SheetName.PRODUCTS: self.products_sheet, SheetName.SUPPLIERS: self.suppliers_sheet,
                 SheetName.CUSTOMERS: self.customers_sheet, SheetName.LOCATIONS: self.locations_sheet,
                 SheetName.STOCK: self.stock_sheet, SheetName.ORDERS: self.orders_sheet}
        for sheet in reader.sheets:
            steps[sheet.name](sheet)
        if self.progress is not None:
            self.progress(self.done, self.done)

    def report(self, reader: WorkbookReader, *, imported: bool) -> ImportOut:
        sheets = [ImportSheetOut(sheet=name, rows=c.rows, created=c.created, updated=c.updated, skipped=c.skipped,
                                 bad=c.bad) for name, c in self.counts.items()]
        created = sum(c.created for c in self.counts.values())
        updated = sum(c.updated for c in self.counts.values())
        skipped = sum(c.skipped for c in self.counts.values())
        bad = sum(c.bad for c in self.counts.values())
        tally = f"{created} row(s) to create, {updated} to update, {skipped} to skip, {bad} bad"
        if self.o.dry_run:
            message = f"Checked, nothing written: {tally}."
        elif imported:
            message = (f"Imported: {created} row(s) created, {updated} updated, {skipped} skipped"
                       + (f", {bad} bad row(s) left out." if bad else "."))
        else:
            message = (f"Nothing imported: {bad} bad row(s). Correct them, or choose to skip bad rows. ({tally})")
        return ImportOut(import_id=self.import_id if imported else None, dry_run=self.o.dry_run, imported=imported,
                         sheets=sheets, errors=self.errors, error_count=self.error_count, notes=reader.notes,
                         message=message)


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def _party_values(row: Supplier | Customer) -> dict[str, Any]:
    return {"gln": row.gln, "contact_name": row.contact_name, "phone": row.phone, "email": row.email,
            "address": row.address}


def _same_lot(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return a[0] == b[0] and a[2] == b[2] and (a[3] or None) == (b[3] or None) and Decimal(a[4]) == Decimal(b[4])


def _lot_words(attrs: tuple[Any, ...]) -> str:
    expiry, _, supplier, supplier_lot, cost = attrs
    words = [f"expiry {expiry or 'none'}"]
    if supplier:
        words.append(f"supplier {supplier}")
    if supplier_lot:
        words.append(f"supplier lot {supplier_lot}")
    words.append(f"unit cost {Decimal(cost).normalize():f}")
    return ", ".join(words)


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]


def open_workbook(data: bytes, *, filename: str | None, sheet: SheetName | None, max_bytes: int) -> WorkbookReader:
    """The file as a workbook, or a 422 naming the file and saying why it cannot be read."""
    if len(data) > max_bytes:
        raise Invalid(f"the file is {len(data) / 1024 / 1024:.1f} MB; the limit is {max_bytes // (1024 * 1024)} MB "
                      "(split it into several files, e.g. one per sheet)", "file")
    try:
        return WorkbookReader(data, filename=filename, sheet=sheet)
    except WorkbookError as exc:
        raise Invalid(exc.message, "file") from None


def import_workbook(session: Session, data: bytes, *, filename: str | None, sheet: SheetName | None,
                    options: Options, user: User | None, today: date, max_bytes: int,
                    import_id: int | None = None, progress: Progress | None = None) -> ImportOut:
    """Check (dry run) or import a workbook; a file with a bad row imports nothing unless `skip_bad`.

    A file that cannot be read at all is a 422 (`Invalid`, field "file"); bad rows are not errors of
    the call but lines of the report. `import_id` is an upload kept by `store_upload`, marked done here.
    """
    with open_workbook(data, filename=filename, sheet=sheet, max_bytes=max_bytes) as reader:
        if options.dry_run:
            run = _Run(session, options, user=user, today=today, import_id=None, progress=progress,
                       total=reader.total())
            try:
                run.run(reader)
            finally:
                session.rollback()
            return run.report(reader, imported=False)
        try:
            with unit(session):
                record = session.get(DataImport, import_id) if import_id is not None else None
                if record is None:
                    record = DataImport(filename=(filename or "upload")[:200], status=ImportStatus.IMPORTING,
                                        update_existing=options.update, skip_bad=options.skip_bad,
                                        sheet=sheet.value if sheet else None, rows_total=0, rows_done=0,
                                        user_id=user.id if user else None)
                    session.add(record)
                    session.flush()
                run = _Run(session, options, user=user, today=today, import_id=record.id, progress=progress,
                           total=reader.total())
                run.run(reader)
                if run.error_count and not options.skip_bad:
                    raise _Refused
                out = run.report(reader, imported=True)
                record.status = ImportStatus.DONE
                record.report = out.model_dump(mode="json")
                record.message = out.message[:500]
                record.rows_total = record.rows_done = run.done
                record.content = None
                record.finished_at = utcnow()
                return out
        except _Refused:
            return run.report(reader, imported=False)


# -- the page's uploads: kept in the database, checked and imported in the background ---------------


def store_upload(session: Session, data: bytes, *, filename: str, sheet: SheetName | None, options: Options,
                 user: User | None, max_bytes: int) -> DataImport:
    """Keep an uploaded file until it is checked and confirmed; a file that cannot be read is refused now."""
    open_workbook(data, filename=filename, sheet=sheet, max_bytes=max_bytes).close()
    with unit(session):
        record = DataImport(filename=filename[:200] or "upload", status=ImportStatus.UPLOADED,
                            update_existing=options.update, skip_bad=options.skip_bad,
                            sheet=sheet.value if sheet else None, content=data, rows_total=0, rows_done=0,
                            user_id=user.id if user else None)
        session.add(record)
        session.flush()
        return record


def upload(session: Session, import_id: int) -> DataImport:
    record = session.get(DataImport, import_id)
    if record is None:
        raise NotFound(f"import {import_id} does not exist", "import_id")
    return record


def set_status(session: Session, import_id: int, status: ImportStatus, *, report: ImportOut | None = None,
               message: str | None = None) -> None:
    """Record where an upload stands (its own short transaction)."""
    with unit(session):
        record = upload(session, import_id)
        record.status = status
        if report is not None:
            record.report = report.model_dump(mode="json")
            message = message or report.message
        if message is not None:
            record.message = message[:500]
        if status in (ImportStatus.DONE, ImportStatus.FAILED):
            record.finished_at = utcnow()


def note_progress(session: Session, import_id: int, done: int, total: int) -> None:
    """How far the background run has read, for pages polling from any server."""
    with unit(session):
        session.execute(update(DataImport).where(DataImport.id == import_id)
                        .values(rows_done=done, rows_total=total))


def check_upload(session: Session, import_id: int, *, today: date, max_bytes: int,
                 progress: Progress | None = None) -> ImportOut:
    """The dry run of a kept upload; its report is kept for the page."""
    record = upload(session, import_id)
    if record.content is None:
        raise Conflict(f"import {import_id} has already run", "import_id")
    data, filename = record.content, record.filename
    sheet = SheetName(record.sheet) if record.sheet else None
    options = Options(dry_run=True, update=record.update_existing, skip_bad=record.skip_bad)
    session.rollback()
    set_status(session, import_id, ImportStatus.CHECKING)
    out = import_workbook(session, data, filename=filename, sheet=sheet, options=options, user=None, today=today,
                          max_bytes=max_bytes, progress=progress)
    set_status(session, import_id, ImportStatus.CHECKED, report=out)
    return out


def claim_upload(session: Session, import_id: int) -> None:
    """Mark a checked upload as importing, once: a second confirmation (a double click) is refused."""
    with unit(session):
        claimed = session.execute(update(DataImport).where(DataImport.id == import_id,
                                                           DataImport.status == ImportStatus.CHECKED,
                                                           DataImport.content.is_not(None))
                                  .values(status=ImportStatus.IMPORTING, rows_done=0))
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            record = upload(session, import_id)
            raise Conflict(f"import {import_id} is {record.status.value}; only a checked upload can be imported",
                           "import_id")


def confirm_upload(session: Session, import_id: int, *, user: User | None, today: date, max_bytes: int,
                   progress: Progress | None = None) -> ImportOut:
    """Import a kept upload claimed by `claim_upload`; a refusal keeps the report so the page can say why."""
    record = upload(session, import_id)
    if record.status is not ImportStatus.IMPORTING or record.content is None:
        raise Conflict(f"import {import_id} is {record.status.value}, not claimed for importing", "import_id")
    data, filename = record.content, record.filename
    sheet = SheetName(record.sheet) if record.sheet else None
    options = Options(update=record.update_existing, skip_bad=record.skip_bad)
    session.rollback()
    out = import_workbook(session, data, filename=filename, sheet=sheet, options=options, user=user, today=today,
                          max_bytes=max_bytes, import_id=import_id, progress=progress)
    if not out.imported:
        set_status(session, import_id, ImportStatus.FAILED, report=out)
    return out


__all__ = ["OPENING", "Options", "RowProblem", "check_upload", "claim_upload", "confirm_upload", "import_workbook",
           "note_progress", "open_workbook", "set_status", "store_upload", "upload"]

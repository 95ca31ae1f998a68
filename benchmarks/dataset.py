"""A five-year food maker's ledger, generated straight into the tables (bulk inserts), consistent throughout.

At scale 1.0: 500 skus (180 raw materials, 40 produced components, 280 finished products), 300
suppliers, 2,000 customers, about 150,000 lots, a million shipment lines and 1.5 million movements.
Every balance equals the sum of its movements, every lot link matches a consume movement, and no
lot ever goes negative, so `check_ledger` passes on the result. Deterministic for a given seed.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.engine import Connection, Engine

from app.db import Base
from app.models import LocationKind, LotOrigin, LotStatus, MovementKind, OrderStatus, ProductKind

START = date(2021, 11, 23)
DAYS = 1826
MATERIALS = 180
COMMON = 20  # materials nearly every recipe uses (sugar, pectin, salt …)
COMPONENTS = 40
FINISHED = 280
SUPPLIERS = 300
CUSTOMERS = 2000
# At scale 1.0: lots received, components made and finished batches made over the five years.
RAW_LOTS = 60_000
COMPONENT_LOTS = 15_000
FINISHED_LOTS = 75_000
SHIPMENT_LINES = 1_000_000
LINES_PER_SHIPMENT = 7
FLUSH_ROWS = 50_000

LOC_DRY, LOC_COLD, LOC_KITCHEN, LOC_FG, LOC_DOCK = 1, 2, 3, 4, 5


def _gtin(n: int) -> str:
    body = f"0950110{n:06d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def _alpha(n: int) -> str:
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


@dataclass
class OpenLot:
    id: int
    product_id: int
    location_id: int
    remaining: Decimal
    made_on: date


@dataclass
class Stats:
    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class Loader:
    """Buffers rows per table and inserts them in foreign-key order."""

    ORDER = ("product", "supplier", "customer", "warehouse", "location", "lot", "receipt", "receipt_line",
             "production_run", "run_input", "lot_link", "sales_order", "order_line", "shipment", "shipment_line",
             "movement", "balance")

    def __init__(self, conn: Connection, stats: Stats) -> None:
        self.conn = conn
        self.stats = stats
        self.buffers: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.pending = 0

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.buffers[table].append(row)
        self.pending += 1
        if self.pending >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        for name in self.ORDER:
            rows = self.buffers.pop(name, [])
            if not rows:
                continue
            if self.conn.dialect.name == "postgresql":
                self._copy(name, rows)
            else:
                table: Table = Base.metadata.tables[name]
                self.conn.execute(table.insert(), rows)
            self.stats.rows[name] += len(rows)
        self.pending = 0

    def _copy(self, name: str, rows: list[dict[str, Any]]) -> None:
        """PostgreSQL's COPY, on the same connection and transaction: several times faster than INSERTs."""
        cols = list(rows[0])
        raw = self.conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cur, cur.copy(f'COPY "{name}" ({", ".join(cols)}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([v.value if isinstance(v, Enum) else v for v in (row[c] for c in cols)])


def generate(engine: Engine, scale: float, seed: int = 20261122,
             progress: Callable[[str], None] = lambda _m: None) -> Stats:
    """Fill an empty, migrated database with the dataset at `scale` (1.0 = the full five years)."""
    rng = random.Random(seed)
    stats = Stats()
    stamp = datetime.combine(START, time(12), tzinfo=UTC)
    with engine.begin() as conn:
        load = Loader(conn, stats)
        _master_data(load, rng, stamp)
        load.flush()
        _history(load, rng, scale, progress)
        load.flush()
        if engine.dialect.name == "postgresql":
            # Rows were inserted with explicit ids: move each id sequence past them.
            for name in Loader.ORDER:
                if "id" in Base.metadata.tables[name].c:
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                      f"coalesce((SELECT max(id) FROM {name}), 0) + 1, false)"))
            conn.execute(text("ANALYZE"))
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    return stats


def _master_data(load: Loader, rng: random.Random, stamp: datetime) -> None:
    for pid in range(1, MATERIALS + COMPONENTS + FINISHED + 1):
        if pid <= MATERIALS:
            kind, unit, name, life = ProductKind.MATERIAL, "kg", f"Material {pid:03d}", 365
            gtin = None
        elif pid <= MATERIALS + COMPONENTS:
            kind, unit, name, life, gtin = ProductKind.MATERIAL, "kg", f"Component {pid:03d}", 120, None
        else:
            kind, unit, name, life = ProductKind.PRODUCT, "ea", f"Product {pid:03d}", 270
            gtin = _gtin(pid) if pid % 2 == 0 else None
        load.add("product", {"id": pid, "sku": f"SKU-{pid:03d}", "name": name, "gtin": gtin, "kind": kind,
                             "unit": unit, "shelf_life_days": life, "expiry_alert_days": 30, "lot_tracked": True,
                             "active": True, "created_at": stamp})
    for sid in range(1, SUPPLIERS + 1):
        load.add("supplier", {"id": sid, "name": f"Supplier {sid:03d}", "gln": None,
                              "contact_name": f"Contact {sid}", "phone": f"+44 1632 {sid:06d}",
                              "email": f"orders@supplier{sid}.example", "address": f"{sid} Farm Road",
                              "created_at": stamp})
    for cid in range(1, CUSTOMERS + 1):
        load.add("customer", {"id": cid, "name": f"Customer {cid:04d}", "gln": None,
                              "contact_name": f"Buyer {cid}", "phone": f"+44 20 7946 {cid:04d}",
                              "email": f"buyer@customer{cid}.example", "address": f"{cid} High Street",
                              "min_remaining_days": rng.choice((None, 30, 60)), "min_remaining_pct": None,
                              "transit_days": rng.choice((0, 1, 2)), "max_lots_per_line": None,
                              "no_date_reversal": False, "created_at": stamp})
    load.add("warehouse", {"id": 1, "code": "MAIN", "name": "Main site", "address": "Mill Lane",
                           "created_at": stamp})
    for lid, code, kind in ((LOC_DRY, "DRY-01", LocationKind.STORAGE), (LOC_COLD, "COLD-01", LocationKind.STORAGE),
                            (LOC_KITCHEN, "KITCHEN", LocationKind.PRODUCTION), (LOC_FG, "FG-01", LocationKind.STORAGE),
                            (LOC_DOCK, "DOCK", LocationKind.SHIPPING)):
        load.add("location", {"id": lid, "warehouse_id": 1, "code": code, "name": code.title(), "kind": kind,
                              "active": True, "created_at": stamp})


def _recipes(rng: random.Random) -> dict[int, tuple[int | None, list[int]]]:
    """For each produced product: an optional component and its raw materials (common ones first)."""
    recipes: dict[int, tuple[int | None, list[int]]] = {}
    for pid in range(MATERIALS + 1, MATERIALS + COMPONENTS + FINISHED + 1):
        common = rng.sample(range(1, COMMON + 1), rng.choice((1, 1, 2)))
        other = rng.sample(range(COMMON + 1, MATERIALS + 1), rng.choice((1, 2, 3)))
        component = None
        if pid > MATERIALS + COMPONENTS and rng.random() < 0.5:
            component = rng.randint(MATERIALS + 1, MATERIALS + COMPONENTS)
        recipes[pid] = (component, common + other)
    return recipes


def _history(load: Loader, rng: random.Random, scale: float, progress: Callable[[str], None]) -> None:
    recipes = _recipes(rng)
    ids: dict[str, int] = defaultdict(int)

    def next_id(name: str) -> int:
        ids[name] += 1
        return ids[name]

    current: dict[int, OpenLot] = {}  # newest usable lot of each material or component
    finished: list[OpenLot] = []      # finished lots that can still ship
    ageing: list[OpenLot] = []        # raw and component lots, for write-offs of leftovers at expiry
    codes: dict[tuple[int, date], int] = defaultdict(int)

    def movement(lot: OpenLot, qty: Decimal, kind: MovementKind, ref_type: str, ref_id: int, day: date,
                 at: datetime) -> None:
        load.add("movement", {"id": next_id("movement"), "lot_id": lot.id, "location_id": lot.location_id,
                              "quantity": qty, "kind": kind, "ref_type": ref_type, "ref_id": ref_id,
                              "user_id": None, "created_at": at, "booked_on": day, "reason": None,
                              "request_key": None})

    def new_lot(product_id: int, day: date, at: datetime, origin: LotOrigin, location: int, qty: Decimal,
                supplier: int | None, life: int) -> OpenLot:
        lot_id = next_id("lot")
        codes[(product_id, day)] += 1
        seq = codes[(product_id, day)]
        code = f"{day:%y%m%d}-{_alpha(seq)}"
        load.add("lot", {"id": lot_id, "product_id": product_id, "code": code, "origin": origin,
                         "supplier_id": supplier, "supplier_lot_code": f"S{supplier}-{lot_id}" if supplier else None,
                         "made_on": day, "expiry": day + timedelta(days=life), "unit_cost": Decimal("1.50"),
                         "status": LotStatus.RELEASED, "hold_reason": None, "created_at": at})
        return OpenLot(lot_id, product_id, location, qty, day)

    raw_period = max(1.0, MATERIALS * DAYS / (RAW_LOTS * scale))
    next_receipt = {m: rng.uniform(0, raw_period) for m in range(1, MATERIALS + 1)}
    components_per_day = COMPONENT_LOTS * scale / DAYS
    finished_per_day = FINISHED_LOTS * scale / DAYS
    lines_per_day = SHIPMENT_LINES * scale / DAYS
    carry = defaultdict(float)
    balances: dict[int, OpenLot] = {}

    for n in range(DAYS):
        day = START + timedelta(days=n)
        at = datetime.combine(day, time(8), tzinfo=UTC)
        # Receiving: each material arrives on its own rhythm, one new lot per delivery.
        for m in range(1, MATERIALS + 1):
            if next_receipt[m] > n:
                continue
            next_receipt[m] += raw_period * rng.uniform(0.7, 1.3)
            qty = Decimal(rng.randint(4000, 8000) if m <= COMMON else rng.randint(800, 2500))
            supplier = (m * 7) % SUPPLIERS + 1
            lot = new_lot(m, day, at, LotOrigin.RECEIPT, LOC_COLD if m % 2 else LOC_DRY, qty, supplier, 365)
            rid = next_id("receipt")
            load.add("receipt", {"id": rid, "number": f"R-{rid:07d}", "supplier_id": supplier, "received_on": day,
                                 "reference": f"DN-{rid}", "note": None, "user_id": None, "created_at": at})
            load.add("receipt_line", {"id": rid, "receipt_id": rid, "lot_id": lot.id, "location_id": lot.location_id,
                                      "quantity": qty, "unit_cost": Decimal("1.50")})
            movement(lot, qty, MovementKind.RECEIVE, "receipt", rid, day, at)
            current[m] = lot
            balances[lot.id] = lot
            ageing.append(lot)

        # Production: components first (finished goods may use today's component lots).
        for kind, per_day, first, count in (("component", components_per_day, MATERIALS + 1, COMPONENTS),
                                            ("finished", finished_per_day, MATERIALS + COMPONENTS + 1, FINISHED)):
            carry[kind] += per_day
            while carry[kind] >= 1:
                carry[kind] -= 1
                pid = rng.randint(first, first + count - 1)
                component, materials = recipes[pid]
                wanted = [(m, Decimal(rng.randint(10, 60))) for m in materials]
                if component is not None:
                    wanted.append((component, Decimal(rng.randint(20, 80))))
                inputs = [(current[m], min(q, current[m].remaining)) for m, q in wanted
                          if m in current and current[m].remaining > 0]
                if not inputs:
                    continue
                run_at = datetime.combine(day, time(11), tzinfo=UTC)
                made = Decimal(rng.randint(150, 400)) if kind == "component" else Decimal(rng.randint(400, 1600))
                out = new_lot(pid, day, run_at, LotOrigin.PRODUCTION, LOC_FG if kind == "finished" else LOC_KITCHEN,
                              made, None, 120 if kind == "component" else 270)
                run_id = next_id("production_run")
                load.add("production_run", {"id": run_id, "number": f"P-{run_id:07d}", "product_id": pid,
                                            "output_lot_id": out.id, "output_quantity": made,
                                            "location_id": LOC_KITCHEN, "produced_on": day,
                                            "extra_cost": Decimal(0), "note": None, "user_id": None,
                                            "created_at": run_at})
                for src, qty in inputs:
                    src.remaining -= qty
                    load.add("run_input", {"id": next_id("run_input"), "run_id": run_id, "lot_id": src.id,
                                           "location_id": src.location_id, "quantity": qty,
                                           "unit_cost": Decimal("1.50")})
                    load.add("lot_link", {"id": next_id("lot_link"), "input_lot_id": src.id, "output_lot_id": out.id,
                                          "run_id": run_id, "quantity": qty})
                    movement(src, -qty, MovementKind.CONSUME, "production_run", run_id, day, run_at)
                movement(out, made, MovementKind.PRODUCE, "production_run", run_id, day, run_at)
                balances[out.id] = out
                if kind == "component":
                    current[pid] = out
                    ageing.append(out)
                else:
                    finished.append(out)

        # Shipping: a day's lines, seven to a shipment, from finished lots still in stock.
        carry["lines"] += lines_per_day
        lines_today = int(carry["lines"])
        carry["lines"] -= lines_today
        ship_at = datetime.combine(day, time(15), tzinfo=UTC)
        while lines_today > 0 and finished:
            customer = rng.randint(1, CUSTOMERS)
            order_id = next_id("sales_order")
            load.add("sales_order", {"id": order_id, "number": f"SO-{order_id:07d}", "customer_id": customer,
                                     "warehouse_id": 1, "ship_date": day, "status": OrderStatus.SHIPPED,
                                     "customer_reference": f"PO-{customer}-{order_id}", "priority": 0, "note": None,
                                     "user_id": None, "cancelled_at": None, "created_at": ship_at})
            shipment_id = order_id
            load.add("shipment", {"id": shipment_id, "number": f"SH-{shipment_id:07d}", "order_id": order_id,
                                  "customer_id": customer, "warehouse_id": 1, "shipped_on": day,
                                  "carrier_reference": None, "user_id": None, "created_at": ship_at})
            for line_no in range(1, min(LINES_PER_SHIPMENT, lines_today) + 1):
                if not finished:
                    break
                i = rng.randrange(len(finished))
                lot = finished[i]
                qty = min(lot.remaining, Decimal(rng.randint(6, 48)))
                lot.remaining -= qty
                if lot.remaining == 0:
                    finished[i] = finished[-1]
                    finished.pop()
                line_id = next_id("order_line")
                load.add("order_line", {"id": line_id, "order_id": order_id, "line_no": line_no,
                                        "product_id": lot.product_id, "quantity": qty, "shipped_quantity": qty})
                load.add("shipment_line", {"id": line_id, "shipment_id": shipment_id, "order_line_id": line_id,
                                           "lot_id": lot.id, "location_id": lot.location_id, "quantity": qty})
                movement(lot, -qty, MovementKind.SHIP, "shipment", shipment_id, day, ship_at)
                lines_today -= 1

        # Expiry: finished lots older than 150 days stop shipping; half their leftovers are written off.
        if n % 7 == 0:
            keep: list[OpenLot] = []
            for pool in (finished, ageing):
                keep = []
                for lot in pool:
                    limit = 150 if pool is finished else 200
                    if (day - lot.made_on).days < limit:
                        keep.append(lot)
                    elif lot.remaining > 0 and rng.random() < 0.5:
                        movement(lot, -lot.remaining, MovementKind.WRITE_OFF, "write_off", lot.id, day, ship_at)
                        lot.remaining = Decimal(0)
                pool[:] = keep
        if n % 365 == 364:
            progress(f"  year {n // 365 + 1} of 5 generated")

    for lot in balances.values():
        load.add("balance", {"lot_id": lot.id, "location_id": lot.location_id, "on_hand": lot.remaining})

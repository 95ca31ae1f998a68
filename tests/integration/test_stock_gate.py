"""One gate for stock: every rule refused on every path that takes stock out, and nothing written.

Each rule is arranged once (a lot, a location, a quantity and an order that break it); each path is
one way a user takes stock (API route or page form). The table runs every rule on every path the
rule applies to: hold, recall, quarantine and expiry stop any use of stock (ship, pick, consume);
the customer's rules stop shipping and picking to that customer; allocations to other orders and
what is on hand stop everything that takes stock out, moves and write-offs included.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import LotStatus, Role
from tests.helpers.api import TODAY, Api
from tests.helpers.bookings import receive, refused, set_status, snapshot
from tests.helpers.pages import lot_id, user

USES = ("hold", "recalled", "quarantine", "expired")
CUSTOMER = ("min_days", "min_pct", "transit_days", "date_reversal")
STOCK = ("allocated", "on_hand")


@dataclass
class Case:
    """Taking `quantity` of `lot_id` at `location` for order `order_id` breaks the rule."""

    lot_id: int
    code: str
    order_id: int
    line_id: int
    location: str = "COLD-01"
    quantity: str = "100"
    words: list[str] = dataclasses.field(default_factory=list)
    field: str = "lot_id"
    # Lines shipped before the refused one in the same shipment: (lot_id, quantity).
    before: list[tuple[int, str]] = dataclasses.field(default_factory=list)


@dataclass
class World:
    api: Api
    site: dict[str, Any]
    session: Session
    client: FlaskClient

    def customer(self, name: str, **rule: Any) -> int:
        r = self.api.post("/customers", {"name": name, **rule})
        assert r.status_code == 201, r.json
        return int(r.json["id"])

    def order(self, customer_id: int, quantity: str = "1000") -> tuple[int, int]:
        r = self.api.post("/orders", {"customer_id": customer_id, "warehouse": "MAIN", "ship_date": TODAY.isoformat(),
                                      "lines": [{"sku": "JAM-RASP", "quantity": quantity}]})
        assert r.status_code == 201, r.json
        return r.json["id"], r.json["lines"][0]["id"]

    def lot(self, code: str, days_left: int, quantity: str = "100", made_days_ago: int = 0) -> int:
        line = receive(self.api, self.site["supplier"], "JAM-RASP", quantity, lot_code=code,
                       received_on=(TODAY - timedelta(days=made_days_ago)).isoformat(),
                       expiry=(TODAY + timedelta(days=days_left)).isoformat())
        return int(line["lot_id"])


def arrange(rule: str, w: World) -> Case:
    deli = w.site["deli"]
    if rule in ("hold", "recalled", "quarantine", "allocated", "on_hand"):
        lot = w.lot("GOOD", 300)
        order, line = w.order(deli)
        case = Case(lot, "GOOD", order, line)
        if rule == "hold":
            assert w.api.post(f"/lots/{lot}/hold", {"reason": "seal damaged"}).status_code == 200
            case.words = ["GOOD", "on hold", "seal damaged"]
        elif rule == "recalled":
            set_status(w.session, lot, LotStatus.RECALLED)
            case.words = ["GOOD", "recalled"]
        elif rule == "quarantine":
            assert w.api.post("/transfers", {"lot_id": lot, "from_location": "COLD-01", "to_location": "QUAR",
                                             "quantity": "100"}).status_code == 201
            case.location, case.field, case.words = "QUAR", "location", ["GOOD", "quarantine", "QUAR"]
        elif rule == "allocated":
            other, _ = w.order(w.customer("Other Shop"), quantity="60")
            r = w.api.post(f"/orders/{other}/allocate")
            assert r.status_code == 200 and Decimal(r.json["allocated"]) == 60, r.json
            number = w.api.get(f"/orders/{other}").json["number"]
            case.field, case.words = "quantity", ["GOOD", f"allocated to order {number} (60 ea)", "40 ea free"]
        else:
            case.quantity, case.field, case.words = "1000", "quantity", ["GOOD", "100 ea", "1000 ea"]
        return case
    if rule == "expired":
        lot = w.lot("OLD", -1, made_days_ago=30)
        order, line = w.order(deli)
        return Case(lot, "OLD", order, line, words=["OLD", "expired on"])
    if rule == "min_days":
        order, line = w.order(w.customer("Ninety Days", min_remaining_days=90))
        return Case(w.lot("SHORT", 50), "SHORT", order, line, words=["SHORT", "needs ≥ 90 days on arrival"])
    if rule == "min_pct":
        order, line = w.order(w.customer("Eighty Percent", min_remaining_pct="80"))
        lot = w.lot("HALF", 100, made_days_ago=100)
        return Case(lot, "HALF", order, line, words=["HALF", "needs ≥ 80% of the lot's life left"])
    if rule == "transit_days":
        order, line = w.order(w.customer("Far Away", transit_days=10))
        return Case(w.lot("SOON", 5), "SOON", order, line, words=["SOON", "before they arrive at Far Away"])
    if rule == "date_reversal":
        customer = w.customer("No Reversal", no_date_reversal=True)
        late = w.lot("LATE", 300)
        first, _ = w.order(customer)
        r = w.api.post("/shipments", {"order_id": first, "lines": [
            {"lot_id": late, "location": "COLD-01", "quantity": "10"}]})
        assert r.status_code == 201, r.json
        order, line = w.order(customer)
        return Case(w.lot("EARLY", 200), "EARLY", order, line,
                    words=["EARLY", f"already received expiry {(TODAY + timedelta(days=300)).isoformat()}"])
    assert rule == "lots_per_line"
    order, line = w.order(w.customer("One Lot", max_lots_per_line=1))
    first = w.lot("A1", 300)
    return Case(w.lot("A2", 300), "A2", order, line, quantity="10", before=[(first, "10")],
                words=["One Lot takes at most 1 lot per line", "A2"])


# --- the paths -----------------------------------------------------------------------------------


def _refused_page(page: Any, case: Case) -> None:
    assert page.status in (403, 409, 422), (page.status, page.alerts, page.flashes)
    text = " ".join(page.alerts) + page.text
    for word in case.words:
        assert word in text, (word, page.alerts)


def api_ship(w: World, case: Case) -> None:
    lines = [{"lot_id": lot, "location": "COLD-01", "quantity": q, "order_line_id": case.line_id}
             for lot, q in case.before]
    lines.append({"lot_id": case.lot_id, "location": case.location, "quantity": case.quantity,
                  "order_line_id": case.line_id})
    err = refused(w.api.post("/shipments", {"order_id": case.order_id, "lines": lines}), 409,
                  f"lines.{len(case.before)}.{case.field}")
    for word in case.words:
        assert word in err["message"], err


def page_ship(w: World, case: Case) -> None:
    browser = user(w.client, w.session, "olive", Role.OPERATOR)
    data = {"csrf_token": browser.csrf(), "shipped_on": TODAY.isoformat()}
    rows = [*case.before, (case.lot_id, case.quantity)]
    for i, (lot, q) in enumerate(rows):
        location = case.location if i == len(rows) - 1 else "COLD-01"
        data |= {f"lines.{i}.order_line_id": str(case.line_id), f"lines.{i}.pick": f"{lot}@{location}",
                 f"lines.{i}.quantity": q}
    _refused_page(browser.post(f"/orders/{case.order_id}/ship", data), case)


def api_pick(w: World, case: Case) -> None:
    err = refused(w.api.post(f"/orders/{case.order_id}/picks", {
        "lot_id": case.lot_id, "location": case.location, "quantity": case.quantity}), 409, case.field)
    for word in case.words:
        assert word in err["message"], err


def _run(case: Case, location: bool = True) -> dict[str, Any]:
    item: dict[str, Any] = {"lot_id": case.lot_id, "quantity": case.quantity}
    if location:
        item["location"] = case.location
    return {"sku": "GIFT", "quantity": "5", "location": "KITCHEN", "inputs": [item]}


def api_consume(w: World, case: Case) -> None:
    err = refused(w.api.post("/production-runs", _run(case)), 409, f"inputs.0.{case.field}")
    for word in case.words:
        assert word in err["message"], err


def page_consume(w: World, case: Case) -> None:
    browser = user(w.client, w.session, "olive", Role.OPERATOR)
    page = browser.post("/runs/new", {"csrf_token": browser.csrf(), "sku": "GIFT", "quantity": "5",
                                      "location": "KITCHEN", "produced_on": TODAY.isoformat(),
                                      "inputs.0.lot": f"JAM-RASP / {case.code}", "inputs.0.quantity": case.quantity})
    _refused_page(page, case)


def api_transfer(w: World, case: Case) -> None:
    err = refused(w.api.post("/transfers", {"lot_id": case.lot_id, "from_location": case.location,
                                            "to_location": "DRY-01", "quantity": case.quantity}), 409, case.field)
    for word in case.words:
        assert word in err["message"], err


def api_write_off(w: World, case: Case) -> None:
    err = refused(w.api.post("/write-offs", {"lot_id": case.lot_id, "location": case.location,
                                             "quantity": case.quantity, "reason": "damaged"}), 409, case.field)
    for word in case.words:
        assert word in err["message"], err


def page_write_off(w: World, case: Case) -> None:
    browser = user(w.client, w.session, "maud", Role.MANAGER)
    page = browser.post("/expiring/write-off", {"csrf_token": browser.csrf(), "lot_id": str(case.lot_id),
                                                "location": case.location, "quantity": case.quantity,
                                                "reason": "damaged"})
    _refused_page(page, case)


PATHS: dict[str, tuple[Callable[[World, Case], None], tuple[str, ...]]] = {
    "api ship": (api_ship, (*USES, *CUSTOMER, "lots_per_line", *STOCK)),
    "page ship": (page_ship, (*USES, *CUSTOMER, "lots_per_line", *STOCK)),
    "api pick": (api_pick, (*USES, *CUSTOMER)),
    "api consume": (api_consume, (*USES, *STOCK)),
    "page consume": (page_consume, ("hold", "recalled", "quarantine", "expired", *STOCK)),
    "api transfer": (api_transfer, STOCK),
    "api write-off": (api_write_off, STOCK),
    "page write-off": (page_write_off, STOCK),
}
TABLE = [pytest.param(path, rule, id=f"{path}: {rule}") for path, (_, rules) in PATHS.items() for rule in rules]


@pytest.fixture
def world(api: Api, site: dict[str, Any], session: Session, client: FlaskClient) -> World:
    assert api.post("/products", {"sku": "GIFT", "name": "Gift box", "kind": "product", "unit": "ea",
                                  "shelf_life_days": 400}).status_code == 201
    return World(api, site, session, client)


@pytest.mark.parametrize(("path", "rule"), TABLE)
def test_every_rule_is_refused_on_every_path_and_nothing_is_written(world: World, path: str, rule: str) -> None:
    case = arrange(rule, world)
    before = snapshot(world.session)
    PATHS[path][0](world, case)
    assert snapshot(world.session) == before


def test_a_pick_never_confirms_more_than_is_on_hand(world: World) -> None:
    lot = world.lot("GOOD", 300)
    order, _ = world.order(world.site["deli"], quantity="60")
    assert Decimal(world.api.post(f"/orders/{order}/allocate").json["allocated"]) == 60
    # A count correction finds only 20 left: the order loses the 40 that are not there, and says so.
    r = world.api.post("/adjustments", {"lot_id": lot, "location": "COLD-01", "quantity": "-80", "reason": "count"})
    assert r.status_code == 201, r.json
    (taken,) = r.json["taken_from_orders"]
    assert (Decimal(taken["lost"]), Decimal(taken["short"])) == (40, 40), taken
    before = snapshot(world.session)
    err = refused(world.api.post(f"/orders/{order}/picks", {"lot_id": lot, "location": "COLD-01", "quantity": "60"}),
                  409, "quantity")
    assert "20 ea of lot GOOD at COLD-01 left to pick; 60 is too many" in err["message"]
    assert snapshot(world.session) == before
    assert world.api.post(f"/orders/{order}/picks", {"lot_id": lot, "location": "COLD-01",
                                                     "quantity": "20"}).status_code == 200


# --- the repro steps of the issue, and what a user can do instead ------------------------------------


def _ship(case_order: int, lot: int, quantity: str, **kw: Any) -> dict[str, Any]:
    return {"order_id": case_order, "lines": [{"lot_id": lot, "location": "COLD-01", "quantity": quantity}], **kw}


def test_taking_stock_allocated_to_another_order_is_explicit_and_says_who_lost_what(
        world: World, session: Session) -> None:
    api = world.api
    lot = world.lot("GOOD", 300)
    a, _ = world.order(world.site["deli"], quantity="60")
    b, _ = world.order(world.customer("Other Shop"), quantity="100")
    assert Decimal(api.post(f"/orders/{a}/allocate").json["allocated"]) == 60
    a_number = api.get(f"/orders/{a}").json["number"]
    refused(api.post("/shipments", _ship(b, lot, "100")), 409, "lines.0.quantity", "insufficient_stock")
    r = api.post("/shipments", _ship(b, lot, "100", take_allocated=True))
    assert r.status_code == 201, r.json
    (taken,) = r.json["taken_from_orders"]
    assert (taken["order_number"], taken["lot_code"], Decimal(taken["lost"]), Decimal(taken["short"])) == (
        a_number, "GOOD", 60, 60)
    assert taken["message"] == (f"order {a_number} line 1 lost 60 ea of lot GOOD at COLD-01; "
                                "re-allocated 0 ea, 60 ea short")
    # Order A no longer counts on stock that left, and its pick is refused instead of confirmed.
    allocations = api.get(f"/orders/{a}/allocations").json
    assert not [x for x in allocations["allocations"] if x["state"] in ("open", "picked")]
    assert allocations["shortages"] and "not enough stock" in allocations["shortages"][0]["reasons"][0]
    refused(api.post(f"/orders/{a}/picks", {"lot_id": lot, "location": "COLD-01", "quantity": "60"}), 409, "quantity")
    from app.queries.check import check_ledger

    session.rollback()
    assert check_ledger(session) == []


def test_a_manager_overrides_a_customer_rule_with_a_reason_recorded_operators_cannot(
        world: World, api_as: Any, session: Session) -> None:
    short = world.lot("SHORT", 50)
    order, _ = world.order(world.customer("Ninety Days", min_remaining_days=90))
    body = _ship(order, short, "10")
    before = snapshot(session)
    refused(api_as(Role.OPERATOR).post("/shipments", {**body, "override": True, "override_reason": "agreed"}),
            403, "override", "forbidden")
    manager = api_as(Role.MANAGER)
    refused(manager.post("/shipments", {**body, "override": True}), 422, "override_reason", "invalid")
    refused(manager.post("/shipments", {**body, "override": True, "override_reason": "   "}), 422, "override_reason")
    assert snapshot(session) == before
    r = manager.post("/shipments", {**body, "override": True,
                                    "override_reason": "Ana at Ninety Days agreed by phone to take 50 days"})
    assert r.status_code == 201, r.json
    shipment = r.json
    assert shipment["override_reason"] == "Ana at Ninety Days agreed by phone to take 50 days"
    assert shipment["override_by"] == "u-manager" and shipment["override_at"]
    assert "needs ≥ 90 days on arrival" in shipment["override_rules"]
    # The lot page and the recall report show it.
    lot = world.api.get(f"/lots/{short}").json
    assert lot["shipments"][0]["override_reason"] == "Ana at Ninety Days agreed by phone to take 50 days"
    browser = user(world.client, session, "quinn", Role.MANAGER)
    assert "agreed by phone" in browser.get(f"/lots/{short}").text
    assert "agreed by phone" in browser.get(f"/shipments/{shipment['id']}").text
    # A hold is never overridden.
    assert world.api.post(f"/lots/{short}/hold", {"reason": "seal damaged"}).status_code == 200
    err = refused(manager.post("/shipments", {**body, "override": True, "override_reason": "agreed"}), 409,
                  "lines.0.lot_id", "lot_blocked")
    assert "on hold: seal damaged" in err["message"]


def test_ship_picked_after_a_hold_names_the_held_lot_and_why(world: World) -> None:
    api = world.api
    lot = world.lot("GOOD", 300)
    order, _ = world.order(world.site["deli"], quantity="10")
    assert Decimal(api.post(f"/orders/{order}/allocate").json["allocated"]) == 10
    picked = api.post(f"/orders/{order}/picks", {"lot_id": lot, "location": "COLD-01", "quantity": "10"})
    assert picked.status_code == 200, picked.json
    assert api.post(f"/lots/{lot}/hold", {"reason": "metal detector alarm"}).status_code == 200
    err = refused(api.post(f"/orders/{order}/ship-picked"), 409, "order_id")
    assert "10 ea of lot GOOD picked at COLD-01 were released" in err["message"]
    assert "put on hold: metal detector alarm" in err["message"]


def test_a_short_line_where_no_lot_meets_the_rule_names_the_rule(world: World) -> None:
    world.lot("YEAR", 365)
    order, _ = world.order(world.customer("Long Life", min_remaining_days=400), quantity="20")
    (shortage,) = world.api.post(f"/orders/{order}/allocate").json["shortages"]
    assert shortage["reasons"][0] == ("not enough eligible stock for Long Life: 20 ea requested, 0 ea available; "
                                      "100 ea on hand may not go to them")
    assert "Long Life needs ≥ 400 days on arrival" in shortage["reasons"][1]


def test_check_proves_open_allocations_never_exceed_on_hand(world: World, session: Session) -> None:
    from app.queries.check import check_ledger

    lot = world.lot("GOOD", 300)
    order, _ = world.order(world.site["deli"], quantity="60")
    world.api.post(f"/orders/{order}/allocate")
    session.rollback()
    assert check_ledger(session) == []
    # Stock allocated twice over (as a faulty import or a hand edit of the database could leave it): check says so.
    from app.models import AllocationState, OrderAllocation

    held = session.scalars(select(OrderAllocation).where(OrderAllocation.lot_id == lot)).one()
    session.add(OrderAllocation(order_line_id=held.order_line_id, lot_id=lot, location_id=held.location_id,
                                quantity=Decimal(50), picked_quantity=Decimal(0), state=AllocationState.OPEN))
    session.commit()
    problems = check_ledger(session)
    assert [p.kind for p in problems] == ["allocation"]
    assert "open allocations 110, on hand 100" in problems[0].message


def test_the_ship_form_offers_only_what_the_customer_may_get_and_a_manager_overrides_on_the_page(
        world: World, session: Session) -> None:
    short = world.lot("SHORT", 50)
    held = world.lot("HELD", 300)
    world.api.post(f"/lots/{held}/hold", {"reason": "loose lids"})
    back = world.lot("BACK", 300)
    world.api.post("/transfers", {"lot_id": back, "from_location": "COLD-01", "to_location": "QUAR", "quantity": "100"})
    order, line = world.order(world.customer("Ninety Days", min_remaining_days=90), quantity="10")
    clerk = user(world.client, session, "olive", Role.OPERATOR)
    page = clerk.get(f"/orders/{order}")
    options = {value: (text, disabled) for value, text, disabled in page.options("lines.0.pick")}
    # Neither lot is filled in; the short one is marked with the rule it breaks, the held one cannot be chosen.
    assert page.value("lines.0.quantity") == ""
    assert "min days" in options[f"{short}@COLD-01"][0] and not options[f"{short}@COLD-01"][1]
    assert "on hold" in options[f"{held}@COLD-01"][0] and options[f"{held}@COLD-01"][1]
    assert "quarantine" in options[f"{back}@QUAR"][0] and options[f"{back}@QUAR"][1]
    assert "override" not in page.form_with("lines.0.pick").checkboxes
    ship = {"shipped_on": TODAY.isoformat(), "lines.0.order_line_id": str(line),
            "lines.0.pick": f"{short}@COLD-01", "lines.0.quantity": "10"}
    refusal = clerk.post(f"/orders/{order}/ship", {"csrf_token": clerk.csrf(), **ship, "override": "true",
                                                   "override_reason": "agreed"})
    assert refusal.status == 403 and "only a manager may override" in " ".join(refusal.alerts).lower()
    boss = user(world.client, session, "mona", Role.MANAGER)
    assert "override" in boss.get(f"/orders/{order}").form_with("lines.0.pick").checkboxes
    missing = boss.post(f"/orders/{order}/ship", {"csrf_token": boss.csrf(), **ship, "override": "true"})
    assert missing.status == 422 and "written reason" in missing.text
    done = boss.post(f"/orders/{order}/ship", {"csrf_token": boss.csrf(), **ship, "override": "true",
                                               "override_reason": "Ana agreed by phone"}, follow=True)
    assert done.status == 200 and "/shipments/" in done.path, done.text[:300]
    assert "Ana agreed by phone" in done.text and "by mona" in done.text
    assert any("Customer rule overridden" in f for f in done.flashes), done.flashes


def test_the_bulk_write_off_of_expired_stock_takes_allocated_stock_only_when_told(
        world: World, session: Session) -> None:
    from app.models import Lot

    api = world.api
    lot = world.lot("OLD", 30)
    order, _ = world.order(world.site["deli"], quantity="10")
    assert Decimal(api.post(f"/orders/{order}/allocate").json["allocated"]) == 10
    number = api.get(f"/orders/{order}").json["number"]
    session.get_one(Lot, lot).expiry = TODAY - timedelta(days=1)  # time passes: the lot expired on the shelf
    session.commit()
    preview = api.get("/write-offs/expired").json
    body = {"version": preview["version"],
            "rows": [{"lot_id": r["lot_id"], "location_id": r["location_id"], "quantity": r["on_hand"]}
                     for r in preview["rows"]]}
    before = snapshot(session)
    err = refused(api.post("/write-offs/expired", body), 409, "rows.0.quantity", "insufficient_stock")
    assert f"allocated to order {number} (10 ea)" in err["message"] and "OLD" in err["message"]
    assert snapshot(session) == before
    r = api.post("/write-offs/expired", {**body, "take_allocated": True})
    assert r.status_code == 201, r.json
    assert [(t["order_number"], Decimal(t["lost"])) for t in r.json["taken_from_orders"]] == [(number, 10)]


def _judged_one_row_at_a_time(session: Session, order_id: int, sku: str) -> list[tuple[str, str, bool, bool, Decimal]]:
    """The ship form's choices as they were judged before: the gate asked row by row, allocations read per row."""
    from app.formatting import qty as format_qty
    from app.models import Balance, Location, Lot, Order, Product
    from app.rules.gate import Purpose, ShipTo, allocated_elsewhere, refusals

    order = session.get_one(Order, order_id)
    line = next(x for x in order.lines if x.product.sku == sku)
    rows = session.execute(
        select(Balance.on_hand, Lot, Location).join(Lot, Lot.id == Balance.lot_id)
        .join(Product, Product.id == Lot.product_id).join(Location, Location.id == Balance.location_id)
        .where(Product.sku == sku, Balance.on_hand > 0)
        .order_by(Lot.expiry.is_(None), Lot.expiry, Lot.made_on, Lot.code, Location.code)).all()
    out = []
    for on_hand, lot, location in rows:
        problems, _ = refusals(session, lot, location, Decimal(0), Purpose.SHIP, on=TODAY,
                               ship_to=ShipTo(order, line, TODAY))
        free = max(on_hand - sum((q for _, q in allocated_elsewhere(session, lot.id, location.id, order_id)),
                                 Decimal(0)), Decimal(0))
        notes = [p.rule.replace("_", " ").replace("hold", "on hold") for p in problems]
        if free < on_hand:
            notes.append(f"{format_qty(on_hand - free)} allocated to other orders")
        label = (f"{lot.code} · exp {lot.expiry or 'none'} · {location.code} · {format_qty(on_hand)} {lot.product.unit}"
                 + (f" ({'; '.join(notes)})" if notes else ""))
        out.append((f"{lot.id}@{location.code}", label, not problems and free > 0,
                    any(not p.overridable for p in problems), free))
    out.sort(key=lambda p: (p[3], not p[2]))
    return out


def test_the_ship_form_judges_every_lot_as_the_gate_does_in_the_same_queries_however_many_lots(
        world: World, session: Session) -> None:
    from app.views import choices
    from tests.helpers.databases import statements
    from tests.helpers.ledger import receive_lots

    api, app = world.api, world.client.application
    # Another shop's order holds 60 of TAKEN; the customer already received a lot expiring in 200 days.
    taken = world.lot("TAKEN", 250)
    other, _ = world.order(world.customer("Other Shop"), quantity="60")
    assert Decimal(api.post(f"/orders/{other}/allocate").json["allocated"]) == 60
    other_number = api.get(f"/orders/{other}").json["number"]
    picky = world.customer("Picky", min_remaining_days=90, no_date_reversal=True)
    sent = world.lot("SENT", 200)
    first, _ = world.order(picky, quantity="10")
    assert api.post("/shipments", {"order_id": first, "lines": [
        {"lot_id": sent, "location": "COLD-01", "quantity": "10"}]}).status_code == 201
    held = world.lot("HELD", 300)
    assert api.post(f"/lots/{held}/hold", {"reason": "loose lids"}).status_code == 200
    old = world.lot("OLD", -1, made_days_ago=30)
    short = world.lot("SHORT", 50)
    early = world.lot("EARLY", 150)
    back = world.lot("BACK", 300)
    assert api.post("/transfers", {"lot_id": back, "from_location": "COLD-01", "to_location": "QUAR",
                                   "quantity": "40"}).status_code == 201
    order, _ = world.order(picky, quantity="5000")
    clerk = user(world.client, session, "olive", Role.OPERATOR)
    engine = app.extensions["lotwise.engine"]

    def filler(first: int, n: int) -> None:
        receive_lots(session, world.site["supplier"], TODAY, [
            {"sku": "JAM-RASP", "quantity": "20", "location": "COLD-01" if i % 3 else "DRY-01", "lot_code": f"F{i:02}",
             "expiry": (TODAY + timedelta(days=210 + i)).isoformat()} for i in range(first, first + n)])

    def ship_form() -> tuple[Any, int]:
        with statements(engine) as seen:
            page = clerk.get(f"/orders/{order}")
        assert page.status == 200
        return page, len(seen)

    filler(0, 3)
    page, queries_for_few = ship_form()
    few = page.options("lines.0.pick")
    filler(3, 40)
    page, queries_for_many = ship_form()
    many = page.options("lines.0.pick")
    assert len(many) == len(few) + 40 > 50
    # The page asks the database the same number of times for 10 choices or 50 (it asked about 4 more per row).
    assert queries_for_many == queries_for_few

    # What a clerk sees: usable lots first, soonest expiry first; refused ones marked with the rule they break.
    options = {value: (text, disabled) for value, text, disabled in many}
    assert options[f"{held}@COLD-01"] == (f"HELD · exp {TODAY + timedelta(days=300)} · COLD-01 · 100 ea (on hold)",
                                          True)
    assert options[f"{old}@COLD-01"][0].endswith("(expired)") and options[f"{old}@COLD-01"][1]
    assert options[f"{back}@QUAR"][0].endswith("· QUAR · 40 ea (quarantine)") and options[f"{back}@QUAR"][1]
    assert options[f"{back}@COLD-01"][0].endswith("· COLD-01 · 60 ea") and not options[f"{back}@COLD-01"][1]
    assert options[f"{short}@COLD-01"][0].endswith("(min days)") and not options[f"{short}@COLD-01"][1]
    assert options[f"{early}@COLD-01"][0].endswith("(date reversal)") and not options[f"{early}@COLD-01"][1]
    assert options[f"{taken}@COLD-01"][0].endswith("· 100 ea (60 allocated to other orders)")
    assert options[f"{sent}@COLD-01"][0].endswith("· COLD-01 · 90 ea")
    # The form offers the first usable lot for what it has free, the next usable one on a spare row.
    assert (page.value("lines.0.pick"), page.value("lines.0.quantity")) == (f"{sent}@COLD-01", "90")
    assert page.value("lines.1.pick") == f"{lot_id(session, 'F00')}@DRY-01"
    assert other_number not in " ".join(t for _v, t, _d in many)

    # The same verdicts, labels and free stock as asking the gate one row at a time.
    with app.test_request_context():
        batched = [(p.value, p.label, p.usable, p.blocked, p.free) for p in choices.picks("JAM-RASP", "MAIN", order)]
    assert batched == _judged_one_row_at_a_time(session, order, "JAM-RASP")
    assert [(v, t) for v, t, _u, _b, _f in batched] == [(v, t) for v, t, _d in many]


# Each rule's short line, as a handheld shows it in bold above the full message.
TITLES = {
    "hold": "Lot on hold", "recalled": "Lot recalled", "quarantine": "Lot in quarantine", "expired": "Lot expired",
    "min_days": "Too short-dated for Ninety Days", "min_pct": "Too short-dated for Eighty Percent",
    "transit_days": "Expires before reaching Far Away", "date_reversal": "Older than No Reversal already has",
    "lots_per_line": "Too many lots for One Lot", "allocated": "Held for another order",
    "on_hand": "Not enough at COLD-01",
}


@pytest.mark.parametrize("rule", list(TITLES))
def test_every_refusal_carries_its_rule_in_a_few_words_and_the_whole_reason(world: World, rule: str) -> None:
    case = arrange(rule, world)
    lines = [{"lot_id": lot, "location": "COLD-01", "quantity": q, "order_line_id": case.line_id}
             for lot, q in case.before]
    lines.append({"lot_id": case.lot_id, "location": case.location, "quantity": case.quantity,
                  "order_line_id": case.line_id})
    err = refused(world.api.post("/shipments", {"order_id": case.order_id, "lines": lines}), 409,
                  f"lines.{len(case.before)}.{case.field}")
    assert err["title"] == TITLES[rule]
    assert len(err["title"].split()) <= 8
    for word in case.words:  # the message keeps every detail
        assert word in err["message"], err
    if rule in (*USES, *CUSTOMER):
        err = refused(world.api.post(f"/orders/{case.order_id}/picks", {
            "lot_id": case.lot_id, "location": case.location, "quantity": case.quantity}), 409, case.field)
        assert err["title"] == TITLES[rule]


def test_a_pick_of_the_wrong_lot_says_which_lot_to_pick(world: World) -> None:
    right = world.lot("RIGHT", 100)
    world.lot("WRONG", 300)
    order, _ = world.order(world.site["deli"], quantity="10")
    assert world.api.post(f"/orders/{order}/allocate").status_code == 200
    wrong = world.api.get("/lots?code=WRONG").json[0]["id"]
    err = refused(world.api.post(f"/orders/{order}/picks", {"lot_id": wrong, "location": "COLD-01",
                                                            "quantity": "10"}), 409, "lot_id")
    assert err["title"] == "Wrong lot: pick RIGHT"
    assert "lot WRONG is not allocated to order" in err["message"] and "take lot RIGHT at COLD-01" in err["message"]
    err = refused(world.api.post(f"/orders/{order}/picks", {"lot_id": right, "location": "COLD-01",
                                                            "quantity": "11"}), 409, "quantity")
    assert err["title"] == "Too many: 10 ea left"

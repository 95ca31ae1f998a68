"""The demo jam company: what someone exploring `lotwise demo` finds, and that its books balance."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from allocation import CustomerRule, OrderLine, StockLot, is_eligible
from app.db import Base
from app.demo import DEMO_PASSWORD, DEMO_USER, RECALL_SUPPLIER_LOT, build_demo, gs1_check_digit, site_today
from app.models import (
    Adjustment,
    Balance,
    Customer,
    CustomerReturn,
    Lot,
    LotLink,
    LotStatus,
    Order,
    OrderStatus,
    Product,
    ProductKind,
    Shipment,
    ShipmentLine,
    Station,
    Transfer,
    User,
    WriteOff,
)
from app.models import OrderLine as OrderLineRow
from app.queries.check import check_ledger
from app.queries.expiry import Filters, expiring_stock, expiry_summary
from tests.helpers.api import make_app
from tests.helpers.databases import clone, drop_database


def _table_counts(app: Flask) -> dict[str, int]:
    with app.extensions["lotwise.engine"].connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in Base.metadata.sorted_tables}


@pytest.fixture(scope="module")
def demo(demo_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One copy of the demo company (built once per run) for the whole module."""
    folder = tmp_path_factory.mktemp("demo-module")
    url = clone(demo_template, folder)
    app = make_app(url, folder)
    yield app
    app.extensions["lotwise.engine"].dispose()
    drop_database(url)


@pytest.fixture
def s(demo: Flask) -> Iterator[Session]:
    with demo.extensions["lotwise.sessions"]() as session:
        yield session


@pytest.fixture
def today(demo: Flask) -> date:
    return site_today(demo)


def _on_hand(s: Session) -> dict[int, Decimal]:
    rows = s.execute(select(Balance.lot_id, func.sum(Balance.on_hand)).group_by(Balance.lot_id)
                     .having(func.sum(Balance.on_hand) > 0))
    return {lot_id: quantity for lot_id, quantity in rows}


def test_about_forty_products_most_with_valid_gtins(s: Session) -> None:
    products = list(s.scalars(select(Product)))
    assert 35 <= len(products) <= 50
    with_gtin = [p for p in products if p.gtin]
    assert len(with_gtin) >= len(products) * 0.6
    for p in with_gtin:
        assert gs1_check_digit(p.gtin[:-1]) == p.gtin[-1], p.gtin
    kinds = {p.kind for p in products}
    assert kinds == {ProductKind.MATERIAL, ProductKind.PRODUCT}
    names = " ".join(p.name.lower() for p in products)
    for word in ("raspberr", "strawberr", "blackcurrant", "apricot", "sugar", "pectin", "lemon", "jar", "lid",
                 "label", "gift box", "reduced sugar", "340 g", "220 g"):
        assert word in names, word
    jams = [p for p in products if p.kind is ProductKind.PRODUCT]
    assert all(p.shelf_life_days and p.expiry_alert_days for p in jams)


def test_customers_have_contact_details_and_varied_shelf_life_rules(s: Session) -> None:
    customers = list(s.scalars(select(Customer)))
    assert 25 <= len(customers) <= 40
    assert {"Corner Deli", "Big Box Supermarkets", "Harbour Farm Shop"} <= {c.name for c in customers}
    for c in customers:
        assert c.contact_name and c.phone and c.address, c.name
        assert c.email and re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", c.email), c.email
    assert sum(1 for c in customers if c.gln) >= 5
    assert len({c.min_remaining_days for c in customers}) >= 5
    assert {Decimal(50), Decimal(66), Decimal(75)} <= {c.min_remaining_pct for c in customers if c.min_remaining_pct}
    assert {c.transit_days for c in customers} >= {0, 1, 2, 3}
    assert {c.max_lots_per_line for c in customers} >= {None, 1, 2, 3}
    assert any(c.no_date_reversal for c in customers) and not all(c.no_date_reversal for c in customers)


def test_the_raspberry_lot_of_the_recall_story_reached_jam_batches_gift_boxes_and_many_customers(
        s: Session) -> None:
    raw = s.scalars(select(Lot).where(Lot.supplier_lot_code == RECALL_SUPPLIER_LOT)).one()
    assert raw.product.sku == "FR-RASP"
    batches = list(s.scalars(select(Lot).join(LotLink, LotLink.output_lot_id == Lot.id)
                             .where(LotLink.input_lot_id == raw.id)))
    assert len(batches) >= 3
    assert all("raspberry" in b.product.name.lower() for b in batches)
    second = list(s.scalars(select(Lot).join(LotLink, LotLink.output_lot_id == Lot.id)
                            .where(LotLink.input_lot_id.in_([b.id for b in batches]))))
    gift_boxes = [lot for lot in second if "gift box" in lot.product.name.lower()]
    assert gift_boxes

    def customers_of(lots: list[Lot]) -> set[int]:
        return set(s.scalars(select(Shipment.customer_id).join(ShipmentLine)
                             .where(ShipmentLine.lot_id.in_([lot.id for lot in lots]))))

    assert len(customers_of(batches)) >= 5
    assert customers_of(gift_boxes)
    assert raw.status is LotStatus.RELEASED  # the recall is for the user to run


def test_some_stock_is_about_to_expire_and_some_has_expired_on_the_shelf(s: Session, today: date) -> None:
    on_hand = _on_hand(s)
    lots = list(s.scalars(select(Lot).where(Lot.id.in_(on_hand))))
    expiring = [lot for lot in lots if lot.expiry and today <= lot.expiry
                <= today + timedelta(days=lot.product.expiry_alert_days or 0)]
    expired = [lot for lot in lots if lot.expiry and lot.expiry < today]
    assert expiring and expired
    assert any(lot.product.kind is ProductKind.PRODUCT for lot in expired)


def test_exactly_one_lot_is_on_hold_with_its_reason(s: Session) -> None:
    held = list(s.scalars(select(Lot).where(Lot.status == LotStatus.HOLD)))
    assert len(held) == 1
    assert held[0].hold_reason and len(held[0].hold_reason) > 10
    assert _on_hand(s).get(held[0].id, 0) > 0


def test_six_months_of_history_up_to_today(s: Session, today: date) -> None:
    first_receipt = s.scalar(select(func.min(Lot.made_on)))
    assert first_receipt is not None
    assert 175 <= (today - first_receipt).days <= 195
    last_shipped = s.scalar(select(func.max(Shipment.shipped_on)))
    assert last_shipped is not None and 1 <= (today - last_shipped).days <= 4
    statuses = set(s.scalars(select(Order.status)))
    assert {OrderStatus.SHIPPED, OrderStatus.OPEN} <= statuses
    split = s.scalar(select(func.count()).select_from(
        select(Shipment.order_id).group_by(Shipment.order_id).having(func.count() > 1).subquery()))
    assert split and split >= 3
    assert s.scalar(select(func.count(Order.id)).where(Order.ship_date >= today)) >= 1
    assert s.scalar(select(func.count(CustomerReturn.id))) >= 3
    assert s.scalar(select(func.count(WriteOff.id))) >= 1
    assert s.scalar(select(func.count(Adjustment.id))) >= 5
    north = s.scalar(select(func.count(Transfer.id)).where(
        Transfer.to_location.has(code="N-01")))
    assert north and north >= 10


def test_the_ledger_balances(s: Session) -> None:
    assert check_ledger(s) == []


def test_the_demo_users_can_log_in(demo: Flask, s: Session) -> None:
    roles = {u.username: u.role.value for u in s.scalars(select(User))}
    assert roles == {DEMO_USER: "admin", "clerk": "operator", "viewer": "viewer"}
    client = demo.test_client()
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert token
    r = client.post("/login", data={"username": DEMO_USER, "password": DEMO_PASSWORD,
                                    "csrf_token": token.group(1)})
    assert r.status_code == 302
    assert client.get("/").status_code == 200
    products = client.get("/api/v1/products")
    assert products.status_code == 200
    assert "JAM-RASP-340" in {p["sku"] for p in products.json}


def test_building_again_reuses_the_data_and_changes_nothing(demo: Flask, tmp_path: Path) -> None:
    before = _table_counts(demo)
    assert build_demo(demo) is False
    assert _table_counts(demo) == before


# --- expiring stock on the demo: the scalable answers equal the brute force they replaced -------

ALERT = 30


def _last_ship_date(lot: StockLot, line: OrderLine) -> date | None:
    """The old way: bisection over ship dates with the eligibility rule itself."""
    if not is_eligible(lot, line) or lot.expiry is None:
        return None
    lo, hi = line.ship_date.toordinal(), lot.expiry.toordinal()
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if is_eligible(lot, replace(line, ship_date=date.fromordinal(mid))):
            lo = mid
        else:
            hi = mid - 1
    return date.fromordinal(lo)


def _brute_force(session: Session, lot: StockLot, product_id: int, today: date,
                limit: int) -> tuple[list[tuple[str, date, bool]], int]:
    """Every customer tested against the lot, sorted: buyers first, then who can wait longest, then name."""
    found = []
    for c in session.scalars(select(Customer)):
        latest = session.scalar(select(func.max(Lot.expiry)).join(ShipmentLine, ShipmentLine.lot_id == Lot.id)
                                .join(Shipment, ShipmentLine.shipment_id == Shipment.id)
                                .where(Shipment.customer_id == c.id, Lot.product_id == product_id))
        rule = CustomerRule(customer_name=c.name, min_remaining_days=c.min_remaining_days,
                            min_remaining_pct=c.min_remaining_pct, transit_days=c.transit_days,
                            max_lots_per_line=c.max_lots_per_line, no_date_reversal=c.no_date_reversal)
        until = _last_ship_date(lot, OrderLine(line_id=0, sku=lot.sku, quantity=lot.available, ship_date=today,
                                               rule=rule, latest_shipped_expiry=latest))
        if until is None:
            continue
        buys = session.scalar(select(func.count()).select_from(OrderLineRow).join(Order)
                              .where(Order.customer_id == c.id, OrderLineRow.product_id == product_id)) > 0
        found.append((not buys, -until.toordinal(), c.name, c.id))
    found.sort()
    return ([(name, date.fromordinal(-until), not other) for other, until, name, _id in found[:limit]],
            max(0, len(found) - limit))


def _rows(session: Session, today: date, customers: int, **kw: object) -> Sequence:
    return expiring_stock(session, today=today, default_alert_days=ALERT, max_customers=customers, **kw)  # type: ignore[arg-type]


def test_expiring_stock_names_the_same_customers_as_testing_every_customer_against_every_lot(
        s: Session, today: date) -> None:
    session, start = s, today
    checked = 0
    for today in (start, start + timedelta(days=9), start + timedelta(days=40)):
        rows = _rows(session, today, 4)
        assert rows
        for r in rows:
            stock = StockLot(lot_id=r.lot_id, lot_code=r.lot_code, sku=r.sku, expiry=r.expiry, made_on=r.made_on,
                             available=r.on_hand, status=r.status.value, unit=r.unit)  # type: ignore[arg-type]
            product_id = session.get(Lot, r.lot_id).product_id  # type: ignore[union-attr]
            expected = _brute_force(session, stock, product_id, today, 4)
            assert ([(c.name, c.until, c.buys_it) for c in r.customers], r.more_customers) == expected, r.lot_code
            checked += bool(r.customers)
    assert checked >= 3  # the comparison is not only of empty lists


def test_expiring_pages_totals_and_weeks_add_up_to_the_whole_list(s: Session, today: date) -> None:
    session, today = s, today + timedelta(days=9)
    everything = _rows(session, today, 2)
    paged = [r for offset in range(0, len(everything) + 3, 3) for r in _rows(session, today, 2, limit=3,
                                                                             offset=offset)]
    assert [r.model_dump() for r in paged] == [r.model_dump() for r in everything]
    assert [r.lot_code for r in _rows(session, today, 2, expiring_only=True)] == [
        r.lot_code for r in everything if not r.expired]
    summary = expiry_summary(session, Filters(today, ALERT), show=3, max_customers=2)
    assert summary.rows == everything[:3]
    expired = [r for r in everything if r.expired]
    expiring = [r for r in everything if not r.expired]
    assert (summary.expired_lots, summary.expired_value, summary.expiring_lots, summary.expiring_value) == (
        len({r.lot_id for r in expired}), sum((r.value for r in expired), Decimal(0)),
        len({r.lot_id for r in expiring}), sum((r.value for r in expiring), Decimal(0)))
    assert sum(w.lots for w in summary.weeks) == summary.expired_lots + summary.expiring_lots
    for w in summary.weeks:
        if not w.expired:
            assert w.week.weekday() == 0 and w.week <= w.first_expiry < w.week + timedelta(days=7)
        inside = [r for r in everything if r.sku == w.sku and r.expired == w.expired
                  and (w.expired or w.week <= r.expiry < w.week + timedelta(days=7))]
        assert (w.on_hand, w.value) == (sum((r.on_hand for r in inside), Decimal(0)),
                                        sum((r.value for r in inside), Decimal(0)))
    tile = expiry_summary(session, Filters(today, ALERT), show=0, max_weeks=0)
    assert (tile.expired_lots, tile.expired_value, tile.expiring_lots, tile.expiring_value) == (
        summary.expired_lots, summary.expired_value, summary.expiring_lots, summary.expiring_value)


def test_every_page_the_pages_benchmark_times_answers_on_the_demo(demo: Flask, s: Session) -> None:
    from benchmarks.bench_pages import targets

    client = demo.test_client()
    with client.session_transaction() as browser:
        browser["uid"] = s.scalar(select(User.id).where(User.username == DEMO_USER))
    paths = targets(s)
    assert len(paths) > 40
    answers = {path: client.get(path) for _what, path in paths}
    # The benchmark's five years of data fill a third page of expiring stock; the demo's six months need not,
    # and a page past the end of a list is not found.
    past_the_end = {path for path, r in answers.items()
                    if r.status_code == 404 and "page=" in path and b"there is no page" in r.data}
    wrong = {path: r.status_code for path, r in answers.items() if r.status_code != 200 and path not in past_the_end}
    assert wrong == {}
    assert len(past_the_end) <= 1


def test_handheld_stations_and_lot_codes_that_several_jams_share(s: Session) -> None:
    stations = {st.code: st for st in s.scalars(select(Station))}
    assert set(stations) == {"DOCK", "KITCHEN", "PACKING", "DISPATCH", "NORTH"}
    assert stations["DOCK"].receiving_location is not None
    assert stations["DOCK"].receiving_location.code == "RCV-DOCK"
    assert stations["KITCHEN"].production_location is not None
    assert stations["KITCHEN"].production_location.code == "KITCHEN"
    shared = s.scalar(select(func.count()).select_from(
        select(Lot.code).group_by(Lot.code).having(func.count(Lot.product_id.distinct()) > 1).subquery()))
    assert shared and shared > 10  # what Look up and Trace ask to choose between


def test_records_are_stamped_on_the_days_the_story_booked_them(s: Session, today: date) -> None:
    from app.models import ProductionRun, Receipt

    def local_day(moment: datetime) -> date:
        return moment.astimezone(UTC).date()  # the demo fixture's site runs on UTC

    orders = {o.id: o for o in s.scalars(select(Order))}
    shipments = list(s.scalars(select(Shipment)))
    assert shipments
    for shipment in shipments:
        assert local_day(shipment.created_at) == shipment.shipped_on, shipment.number
        entered = orders[shipment.order_id].created_at
        assert entered < shipment.created_at, f"order {orders[shipment.order_id].number} entered after shipping"
    for receipt in s.scalars(select(Receipt)):
        assert local_day(receipt.created_at) == receipt.received_on
    for run in s.scalars(select(ProductionRun)):
        assert local_day(run.created_at) == run.produced_on
    for order in orders.values():
        assert order.created_at.astimezone(UTC).weekday() < 5 and local_day(order.created_at) <= order.ship_date
    # Nothing but today's work is stamped today.
    midnight = datetime.combine(today, time(), UTC)
    assert s.scalar(select(func.count(Shipment.id)).where(Shipment.created_at >= midnight)) == 0


def test_a_shipped_order_shows_what_shipped_instead_of_nothing_allocated(demo: Flask, s: Session) -> None:
    client = demo.test_client()
    with client.session_transaction() as browser:
        browser["uid"] = s.scalar(select(User.id).where(User.username == DEMO_USER))
    shipped = s.scalar(select(Order.id).where(Order.status == OrderStatus.SHIPPED).order_by(Order.id).limit(1))
    page = client.get(f"/orders/{shipped}").get_data(as_text=True)
    assert "Nothing allocated yet" not in page
    assert "the order has shipped; the lots it took are under" in page
    assert re.search(r'id="shipments".*?/lots/\d+', page, re.S)

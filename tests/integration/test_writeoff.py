"""Write-offs: one lot at a location, or all expired stock from a preview; bad requests change nothing."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import Conflict
from app.models import Movement, MovementKind, Role, WriteOff
from app.queries.check import check_ledger
from app.queries.expiry import expired_stock
from app.schemas import ExpiredWriteOffIn
from app.services.writeoffs import write_off_expired
from tests.helpers.api import TODAY, Api
from tests.helpers.bookings import refused
from tests.helpers.ledger import receive_lots

D = Decimal


@pytest.fixture
def lots(api: Api, site: dict[str, Any]) -> dict[str, int]:
    """OLD expired yesterday: 10 kg @ 2.50 in COLD-01, 4 kg in QUAR; FRESH 20 kg @ 3 in COLD-01 expires in 60 days."""
    out = {}
    for code, qty, cost, expires in [("OLD", "10", "2.50", -1), ("FRESH", "20", "3", 60)]:
        r = api.post("/receipts", {"supplier_id": site["supplier"], "received_on": str(TODAY - timedelta(30)),
                                   "lines": [{"sku": "RASP", "quantity": qty, "location": "COLD-01", "lot_code": code,
                                              "unit_cost": cost, "expiry": str(TODAY + timedelta(expires))}]})
        assert r.status_code == 201, r.json
        out[code] = r.json["lines"][0]["lot_id"]
    r = api.post("/receipts", {"supplier_id": site["supplier"], "received_on": str(TODAY - timedelta(30)),
                               "lines": [{"sku": "RASP", "quantity": "4", "location": "QUAR", "lot_code": "OLD",
                                          "top_up": True}]})
    assert r.status_code == 201, r.json
    return out


def _state(api: Api, session: Session) -> tuple[Any, ...]:
    """Write-offs, stock of every lot and the number of movements: what a refused request must not change."""
    session.rollback()
    return (api.get("/write-offs").json, [(x["id"], x["on_hand"]) for x in api.get("/lots").json],
            session.scalar(select(func.count()).select_from(Movement)))


def test_writing_off_part_of_a_lot_books_a_valued_movement(api: Api, lots: dict[str, int], session: Session) -> None:
    r = api.post("/write-offs", {"lot_id": lots["FRESH"], "location": "COLD-01", "quantity": "7.5",
                                 "reason": "damaged", "note": "pallet dropped"})
    assert r.status_code == 201, r.json
    w = r.json
    assert (w["number"], w["quantity"], w["unit_cost"], w["value"], w["reason"], w["user"]) == (
        "W-000001", "7.5", "3", "22.5", "damaged", "admin")
    assert w["written_off_on"] == str(TODAY)
    lot = api.get(f"/lots/{lots['FRESH']}").json
    assert lot["on_hand"] == "12.5"
    last = lot["history"][-1]
    assert (last["kind"], last["quantity"], last["ref_type"], last["ref_id"]) == ("write_off", "-7.5", "write_off",
                                                                                 w["id"])
    assert api.get(f"/write-offs/{w['id']}").json == w
    assert [x["number"] for x in api.get("/write-offs?reason=damaged").json] == ["W-000001"]
    assert api.get("/write-offs?reason=expired").json == []
    assert check_ledger(session) == []


@pytest.mark.parametrize("body, status, field, words", [
    ({"quantity": "10.5"}, 409, "quantity", "has 10 kg at COLD-01"),
    ({"location": "DRY-01"}, 409, "location", "it is at COLD-01, QUAR"),
    ({"reason": None}, 422, "reason", ""),
    ({"reason": "lost"}, 422, "reason", ""),
    ({"quantity": "0"}, 422, "quantity", "greater than zero"),
    ({"quantity": "-3"}, 422, "quantity", "greater than zero"),
    ({"location": "NOWHERE"}, 404, "location", ""),
    ({"lot_id": 999}, 404, "lot_id", ""),
    ({"written_off_on": str(TODAY + timedelta(1))}, 422, "written_off_on", "future"),
])
def test_a_bad_write_off_is_refused_and_nothing_changes(api: Api, lots: dict[str, int], session: Session,
                                                        body: dict[str, Any], status: int, field: str,
                                                        words: str) -> None:
    before = _state(api, session)
    request = {"lot_id": lots["OLD"], "location": "COLD-01", "quantity": "5", "reason": "expired", **body}
    r = api.post("/write-offs", {k: v for k, v in request.items() if v is not None})
    assert r.status_code == status, r.json
    assert r.json["error"]["field"] == field
    assert words in r.json["error"]["message"]
    assert _state(api, session) == before


def test_expired_is_not_a_reason_for_a_lot_that_has_not_expired(api: Api, lots: dict[str, int]) -> None:
    r = api.post("/write-offs", {"lot_id": lots["FRESH"], "location": "COLD-01", "quantity": "1",
                                 "reason": "expired"})
    assert r.status_code == 422
    assert "not expired" in r.json["error"]["message"]


def test_a_replayed_write_off_books_once(api: Api, lots: dict[str, int]) -> None:
    body = {"lot_id": lots["OLD"], "location": "COLD-01", "quantity": "2", "reason": "expired"}
    first = api.post("/write-offs", body, headers={"Idempotency-Key": "wo-1"})
    again = api.post("/write-offs", body, headers={"Idempotency-Key": "wo-1"})
    assert first.status_code == again.status_code == 201
    assert first.json == again.json
    assert api.get(f"/lots/{lots['OLD']}").json["on_hand"] == "12"


def test_roles_viewers_and_operators_read_only_managers_write_off(api_as: Any, lots: dict[str, int]) -> None:
    viewer, operator, manager = api_as(Role.VIEWER), api_as(Role.OPERATOR), api_as(Role.MANAGER)
    body = {"lot_id": lots["OLD"], "location": "COLD-01", "quantity": "1", "reason": "expired"}
    assert viewer.post("/write-offs", body).status_code == 403
    assert viewer.get("/write-offs").status_code == 200
    assert viewer.get("/reports/waste?from=2026-01-01&to=2026-01-31").status_code == 200
    assert operator.post("/write-offs", body).status_code == 403
    assert operator.get("/write-offs/expired").status_code == 403
    assert operator.post("/write-offs/expired", {"version": "0" * 64, "rows": []}).status_code == 403
    assert manager.get("/write-offs").json == []
    assert manager.post("/write-offs", body).status_code == 201


def test_all_expired_stock_is_written_off_from_the_preview(api: Api, lots: dict[str, int], session: Session) -> None:
    preview = api.get("/write-offs/expired").json
    assert [(r["lot_code"], r["location"], r["on_hand"], r["value"]) for r in preview["rows"]] == [
        ("OLD", "COLD-01", "10", "25"), ("OLD", "QUAR", "4", "10")]
    assert preview["total_value"] == "35"
    rows = [{"lot_id": r["lot_id"], "location_id": r["location_id"], "quantity": r["on_hand"]} for r in preview["rows"]]
    r = api.post("/write-offs/expired", {"version": preview["version"], "rows": rows, "note": "monthly clean-up"},
                 headers={"Idempotency-Key": "bulk-1"})
    assert r.status_code == 201, r.json
    batch = r.json
    assert (batch["number"], batch["total_value"]) == ("WB-000001", "35")
    assert [(w["location"], w["quantity"], w["reason"], w["note"], w["batch_number"]) for w in batch["write_offs"]] == [
        ("COLD-01", "10", "expired", "monthly clean-up", "WB-000001"), ("QUAR", "4", "expired", "monthly clean-up",
                                                                        "WB-000001")]
    assert api.get(f"/lots/{lots['OLD']}").json["on_hand"] == "0"
    assert api.get(f"/lots/{lots['FRESH']}").json["on_hand"] == "20"
    assert api.get("/write-offs/expired").json["rows"] == []
    again = api.post("/write-offs/expired", {"version": preview["version"], "rows": rows, "note": "monthly clean-up"},
                     headers={"Idempotency-Key": "bulk-1"})
    assert (again.status_code, again.json) == (201, batch)
    other = api.post("/write-offs/expired", {"version": preview["version"], "rows": rows},
                     headers={"Idempotency-Key": "bulk-1"})
    assert "write off batch WB-000001" in refused(other, 422, "Idempotency-Key")["message"]
    assert len(api.get("/write-offs?batch=WB-000001").json) == 2
    assert check_ledger(session) == []


def test_a_preview_is_confirmed_in_part_when_rows_are_left_out(api: Api, lots: dict[str, int]) -> None:
    preview = api.get("/write-offs/expired").json
    kept = preview["rows"][0]
    r = api.post("/write-offs/expired", {"version": preview["version"], "rows": [
        {"lot_id": kept["lot_id"], "location_id": kept["location_id"], "quantity": kept["on_hand"]}]})
    assert r.status_code == 201, r.json
    assert [row["location"] for row in api.get("/write-offs/expired").json["rows"]] == ["QUAR"]


def test_a_stale_preview_is_refused_and_nothing_is_written_off(api: Api, lots: dict[str, int],
                                                               session: Session) -> None:
    preview = api.get("/write-offs/expired").json
    rows = [{"lot_id": r["lot_id"], "location_id": r["location_id"], "quantity": r["on_hand"]} for r in preview["rows"]]
    # Someone moves some of the expired stock after the preview was shown.
    assert api.post("/transfers", {"lot_id": lots["OLD"], "from_location": "COLD-01", "to_location": "QUAR",
                                   "quantity": "1"}).status_code == 201
    before = _state(api, session)
    r = api.post("/write-offs/expired", {"version": preview["version"], "rows": rows})
    assert r.status_code == 409
    assert r.json["error"]["field"] == "version"
    assert "changed since the preview" in r.json["error"]["message"]
    assert _state(api, session) == before


@pytest.mark.parametrize("change, status, field", [
    (lambda rows: [*rows, {**rows[0], "lot_id": 2}], 422, "rows.2"),
    (lambda rows: [*rows, rows[0]], 422, "rows.2"),
    (lambda rows: [{**rows[0], "quantity": "3"}], 409, "rows.0.quantity"),
    (lambda rows: [], 422, "rows"),
])
def test_rows_that_are_not_the_preview_are_refused(api: Api, lots: dict[str, int], session: Session, change: Any,
                                                   status: int, field: str) -> None:
    preview = api.get("/write-offs/expired").json
    rows = [{"lot_id": r["lot_id"], "location_id": r["location_id"], "quantity": r["on_hand"]} for r in preview["rows"]]
    before = _state(api, session)
    r = api.post("/write-offs/expired", {"version": preview["version"], "rows": change(rows)})
    assert r.status_code == status, r.json
    assert r.json["error"]["field"] == field
    assert _state(api, session) == before


def test_a_lot_that_expires_overnight_makes_yesterdays_preview_stale(site: dict[str, Any], session: Session) -> None:
    receive_lots(session, site["supplier"], date(2026, 1, 5), [
        {"sku": "RASP", "quantity": "5", "location": "COLD-01", "lot_code": "A", "expiry": "2026-03-01"},
        {"sku": "RASP", "quantity": "5", "location": "COLD-01", "lot_code": "B", "expiry": "2026-03-02"}])
    monday = expired_stock(session, today=date(2026, 3, 2))
    tuesday = expired_stock(session, today=date(2026, 3, 3))
    assert [r.lot_code for r in monday.rows] == ["A"]
    assert [r.lot_code for r in tuesday.rows] == ["A", "B"]
    cmd = ExpiredWriteOffIn(version=monday.version, rows=[
        {"lot_id": r.lot_id, "location_id": r.location_id, "quantity": r.on_hand} for r in monday.rows])
    with pytest.raises(Conflict):
        write_off_expired(session, cmd, user=None, today=date(2026, 3, 3))
    assert session.scalar(select(func.count()).select_from(WriteOff)) == 0
    batch = write_off_expired(session, cmd, user=None, today=date(2026, 3, 2))
    assert [(w.lot.code, w.quantity, w.written_off_on) for w in batch.write_offs] == [("A", D(5), date(2026, 3, 2))]
    kinds = session.scalars(select(Movement.kind).where(Movement.ref_type == "write_off")).all()
    assert kinds == [MovementKind.WRITE_OFF]


def _confirm_all(api: Api, preview: dict[str, Any]) -> Any:
    rows = [{"lot_id": r["lot_id"], "location_id": r["location_id"], "quantity": r["on_hand"]} for r in preview["rows"]]
    return api.post("/write-offs/expired", {"version": preview["version"], "rows": rows})


@pytest.mark.parametrize("path, body", [
    ("/write-offs", {"location": "QUAR", "quantity": "1", "reason": "damaged"}),
    ("/adjustments", {"location": "QUAR", "quantity": "-1", "reason": "recount"}),
    ("/transfers", {"from_location": "COLD-01", "to_location": "QUAR", "quantity": "1"}),
    ("/transfers", {"from_location": "QUAR", "to_location": "KITCHEN", "quantity": "4"}),
    ("/receipts", None),
])
def test_any_movement_of_an_expired_lot_makes_the_preview_stale(api: Api, site: dict[str, Any], lots: dict[str, int],
                                                                 session: Session, path: str,
                                                                 body: dict[str, Any] | None) -> None:
    preview = api.get("/write-offs/expired").json
    if body is None:  # a top-up of the expired lot
        r = api.post(path, {"supplier_id": site["supplier"], "lines": [
            {"sku": "RASP", "quantity": "2", "location": "QUAR", "lot_code": "OLD", "top_up": True}]})
    else:
        r = api.post(path, {"lot_id": lots["OLD"], **body})
    assert r.status_code == 201, r.json
    assert api.get("/write-offs/expired").json["version"] != preview["version"]
    before = _state(api, session)
    r = _confirm_all(api, preview)
    assert (r.status_code, r.json["error"]["field"]) == (409, "version")
    assert _state(api, session) == before


def test_stock_moved_between_two_locations_of_an_expired_lot_changes_the_digest_too(api: Api, lots: dict[str, int],
                                                                                   session: Session) -> None:
    # Same rows, same lots, same total on hand: only where it is differs, and the digest still sees it.
    before = expired_stock(session, today=TODAY)
    assert api.post("/transfers", {"lot_id": lots["OLD"], "from_location": "COLD-01", "to_location": "QUAR",
                                   "quantity": "1"}).status_code == 201
    session.rollback()
    after = expired_stock(session, today=TODAY)
    assert (after.total_rows, after.all_value) == (before.total_rows, before.all_value)
    assert after.version[16:] != before.version[16:]


def test_movements_of_other_stock_do_not_make_the_preview_stale(api: Api, site: dict[str, Any],
                                                                lots: dict[str, int], session: Session) -> None:
    preview = api.get("/write-offs/expired").json
    assert api.post("/transfers", {"lot_id": lots["FRESH"], "from_location": "COLD-01", "to_location": "QUAR",
                                   "quantity": "5"}).status_code == 201
    assert api.post("/write-offs", {"lot_id": lots["FRESH"], "location": "QUAR", "quantity": "1",
                                    "reason": "damaged"}).status_code == 201
    receive_lots(session, site["supplier"], TODAY, [
        {"sku": "RASP", "quantity": "7", "location": "COLD-01", "lot_code": "NEW",
         "expiry": str(TODAY + timedelta(days=90))}])
    session.commit()
    r = _confirm_all(api, preview)
    assert r.status_code == 201, r.json
    assert api.get("/write-offs/expired").json["rows"] == []
    assert check_ledger(session) == []


def test_movements_that_cancel_out_still_make_the_preview_stale(api: Api, lots: dict[str, int],
                                                                session: Session) -> None:
    # One kilogram taken out and put back: the stock is as it was, but someone handled it since the preview.
    preview = api.get("/write-offs/expired").json
    for count in ("-1", "1"):
        assert api.post("/adjustments", {"lot_id": lots["OLD"], "location": "QUAR", "quantity": count,
                                         "reason": "recount"}).status_code == 201
    now = api.get("/write-offs/expired").json
    assert (now["rows"], now["version"][16:]) == (preview["rows"], preview["version"][16:])
    r = _confirm_all(api, preview)
    assert (r.status_code, r.json["error"]["field"]) == (409, "version")

"""Production runs through the API: refusals name their field and write nothing; cost and genealogy."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.models import LotStatus
from tests.helpers.api import Api
from tests.helpers.bookings import TODAY, receive, refused, set_status, snapshot


@pytest.fixture
def stocked(api: Api, site: dict[str, Any]) -> dict[str, Any]:
    """100 kg raspberries (lot R1) in the cold store and 500 kg sugar (lot S1) in the dry store."""
    rasp = receive(api, site["supplier"], "RASP", "100", lot_code="R1", unit_cost="4.20")
    sugar = receive(api, site["sugar_supplier"], "SUGAR", "500", location="DRY-01", lot_code="S1",
                    unit_cost="0.90")
    return {**site, "R1": rasp["lot_id"], "S1": sugar["lot_id"]}


def _run(stocked: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {"sku": "JAM-RASP", "quantity": "400", "location": "KITCHEN",
            "inputs": [{"lot_id": stocked["R1"], "quantity": "60"},
                       {"sku": "SUGAR", "lot_code": "S1", "quantity": "40"}], **kw}


def _inputs(stocked: dict[str, Any], **first: Any) -> list[dict[str, Any]]:
    return [{"lot_id": stocked["R1"], "quantity": "60", **first}]


BAD_RUNS: list[tuple[str, Any, int, str | None]] = [
    ("unknown sku", lambda s: {"sku": "NOPE"}, 404, "sku"),
    ("unknown location", lambda s: {"location": "NOWHERE"}, 404, "location"),
    ("unknown input lot id", lambda s: {"inputs": [{"lot_id": 999_999, "quantity": "1"}]}, 404,
     "inputs.0.lot_id"),
    ("unknown input sku", lambda s: {"inputs": [{"sku": "NOPE", "lot_code": "R1", "quantity": "1"}]}, 404,
     "inputs.0.sku"),
    ("unknown input lot code", lambda s: {"inputs": [{"sku": "RASP", "lot_code": "R404", "quantity": "1"}]},
     404, "inputs.0.lot_code"),
    ("input lot id and sku disagree", lambda s: {"inputs": _inputs(s, sku="SUGAR")}, 422, "inputs.0.sku"),
    ("input lot id and code disagree", lambda s: {"inputs": _inputs(s, lot_code="S1")}, 422,
     "inputs.0.lot_code"),
    ("input named by nothing", lambda s: {"inputs": [{"quantity": "1"}]}, 422, "inputs.0"),
    ("unknown input location", lambda s: {"inputs": _inputs(s, location="NOWHERE")}, 404,
     "inputs.0.location"),
    ("impossible date", lambda s: {"produced_on": "2026-02-30"}, 422, "produced_on"),
    ("date in words", lambda s: {"produced_on": "yesterday"}, 422, "produced_on"),
    ("future date", lambda s: {"produced_on": (TODAY + timedelta(days=1)).isoformat()}, 422, "produced_on"),
    ("expiry before production", lambda s: {"expiry": (TODAY - timedelta(days=1)).isoformat()}, 422,
     "expiry"),
    ("zero output", lambda s: {"quantity": "0"}, 422, "quantity"),
    ("negative output", lambda s: {"quantity": "-1"}, 422, "quantity"),
    ("output not a number", lambda s: {"quantity": "abc"}, 422, "quantity"),
    ("zero input", lambda s: {"inputs": [{"lot_id": s["R1"], "quantity": "0"}]}, 422, "inputs.0.quantity"),
    ("negative input", lambda s: {"inputs": [{"lot_id": s["R1"], "quantity": "-3"}]}, 422,
     "inputs.0.quantity"),
    ("more than on hand", lambda s: {"inputs": [{"lot_id": s["R1"], "quantity": "100.5"}]}, 409,
     "inputs.0.quantity"),
    ("none at the named location", lambda s: {"inputs": _inputs(s, location="DRY-01")}, 409,
     "inputs.0.quantity"),
    ("second input short", lambda s: {"inputs": [{"lot_id": s["R1"], "quantity": "60"},
                                                 {"lot_id": s["S1"], "quantity": "501"}]}, 409,
     "inputs.1.quantity"),
    ("same lot twice, together too much",
     lambda s: {"inputs": [{"lot_id": s["R1"], "quantity": "60"}, {"lot_id": s["R1"], "quantity": "41"}]},
     409, "inputs.1.quantity"),
    ("no inputs", lambda s: {"inputs": []}, 422, "inputs"),
    ("unknown field", lambda s: {"batch": "7"}, 422, "batch"),
    ("negative extra cost", lambda s: {"extra_cost": "-1"}, 422, "extra_cost"),
]


@pytest.mark.parametrize(("change", "status", "field"), [c[1:] for c in BAD_RUNS], ids=[c[0] for c in BAD_RUNS])
def test_a_bad_run_is_refused_naming_the_field_and_writes_nothing(
        api: Api, stocked: dict[str, Any], session: Session, change: Any, status: int, field: str) -> None:
    before = snapshot(session)
    refused(api.post("/production-runs", _run(stocked, **change(stocked))), status, field)
    assert snapshot(session) == before


@pytest.mark.parametrize("status", [LotStatus.HOLD, LotStatus.RECALLED])
def test_a_blocked_input_lot_is_refused(api: Api, stocked: dict[str, Any], session: Session,
                                        status: LotStatus) -> None:
    set_status(session, stocked["S1"], status)
    before = snapshot(session)
    err = refused(api.post("/production-runs", _run(stocked)), 409, "inputs.1.lot_id", "lot_blocked")
    assert "S1" in err["message"]
    assert snapshot(session) == before


def test_an_expired_input_lot_is_refused(api: Api, site: dict[str, Any], session: Session) -> None:
    old = receive(api, site["supplier"], "RASP", "10", lot_code="OLD",
                  received_on=(TODAY - timedelta(days=10)).isoformat(),
                  expiry=(TODAY - timedelta(days=1)).isoformat())
    before = snapshot(session)
    r = api.post("/production-runs", {"sku": "JAM-RASP", "quantity": "10", "location": "KITCHEN",
                                      "inputs": [{"lot_id": old["lot_id"], "quantity": "5"}]})
    err = refused(r, 409, "inputs.0.lot_id", "lot_blocked")
    assert "expired" in err["message"]
    assert snapshot(session) == before


def test_a_duplicate_output_lot_code_is_refused(api: Api, stocked: dict[str, Any], session: Session) -> None:
    assert api.post("/production-runs", _run(stocked, lot_code="J1")).status_code == 201
    before = snapshot(session)
    refused(api.post("/production-runs", _run(stocked, lot_code="J1")), 409, "lot_code")
    assert snapshot(session) == before


def test_a_run_consumes_its_inputs_and_makes_a_costed_lot(api: Api, stocked: dict[str, Any]) -> None:
    r = api.post("/production-runs", _run(stocked, lot_code="J1", extra_cost="20", note="morning batch"))
    assert r.status_code == 201, r.json
    run = r.json
    assert run["number"] == "P-000001"
    assert run["output_lot_code"] == "J1"
    assert Decimal(run["unit_cost"]) == Decimal("0.77")  # (60 × 4.20 + 40 × 0.90 + 20) / 400
    # Jam keeps 365 days, but its raspberries (180 days) expire first: the jam expires with them.
    assert run["expiry"] == (TODAY + timedelta(days=180)).isoformat()
    assert [(i["lot_code"], i["location"], Decimal(i["quantity"])) for i in run["inputs"]] == [
        ("R1", "COLD-01", 60), ("S1", "DRY-01", 40)]
    assert api.get(f"/production-runs/{run['id']}").json == run
    assert Decimal(api.get(f"/lots/{stocked['R1']}").json["on_hand"]) == 40
    assert Decimal(api.get(f"/lots/{stocked['S1']}").json["on_hand"]) == 460
    jam = api.get(f"/lots/{run['output_lot_id']}").json
    assert jam["origin"] == "production"
    assert [(s["location"], Decimal(s["on_hand"])) for s in jam["stock"]] == [("KITCHEN", 400)]


def test_an_input_split_over_two_locations_is_taken_from_both(api: Api, stocked: dict[str, Any]) -> None:
    assert api.post("/transfers", {"lot_id": stocked["R1"], "from_location": "COLD-01",
                                   "to_location": "KITCHEN", "quantity": "30"}).status_code == 201
    r = api.post("/production-runs", {"sku": "JAM-RASP", "quantity": "100", "location": "KITCHEN",
                                      "inputs": [{"lot_id": stocked["R1"], "quantity": "50"}]})
    assert r.status_code == 201, r.json
    # The run's own location first, then the rest.
    assert [(i["location"], Decimal(i["quantity"])) for i in r.json["inputs"]] == [
        ("KITCHEN", 30), ("COLD-01", 20)]
    lot = api.get(f"/lots/{stocked['R1']}").json
    assert [(s["location"], Decimal(s["on_hand"])) for s in lot["stock"]] == [("COLD-01", 50)]
    assert [(o["lot_id"], Decimal(o["quantity"])) for o in lot["outputs"]] == [(r.json["output_lot_id"], 50)]


def test_quarantined_stock_is_not_consumed(api: Api, stocked: dict[str, Any], session: Session) -> None:
    assert api.post("/transfers", {"lot_id": stocked["R1"], "from_location": "COLD-01",
                                   "to_location": "QUAR", "quantity": "90"}).status_code == 201
    before = snapshot(session)
    r = api.post("/production-runs", {"sku": "JAM-RASP", "quantity": "100", "location": "KITCHEN",
                                      "inputs": [{"lot_id": stocked["R1"], "quantity": "50"}]})
    refused(r, 409, "inputs.0.quantity", "insufficient_stock")
    r = api.post("/production-runs", {"sku": "JAM-RASP", "quantity": "100", "location": "KITCHEN",
                                      "inputs": [{"lot_id": stocked["R1"], "quantity": "5",
                                                  "location": "QUAR"}]})
    refused(r, 409, "inputs.0.location", "lot_blocked")
    assert snapshot(session) == before
    r = api.post("/production-runs", {"sku": "JAM-RASP", "quantity": "100", "location": "KITCHEN",
                                      "inputs": [{"lot_id": stocked["R1"], "quantity": "10"}]})
    assert r.status_code == 201, r.json
    assert [i["location"] for i in r.json["inputs"]] == ["COLD-01"]


def test_a_replayed_run_consumes_once(api: Api, stocked: dict[str, Any], session: Session) -> None:
    key = {"Idempotency-Key": "batch-2024-001"}
    first = api.post("/production-runs", _run(stocked), headers=key)
    assert first.status_code == 201, first.json
    before = snapshot(session)
    assert api.post("/production-runs", _run(stocked), headers=key).json == first.json
    assert snapshot(session) == before
    assert api.get(f"/lots/{stocked['R1']}").json["on_hand"] == "40"


def test_a_batch_cannot_use_a_lot_received_after_it(api: Api, stocked: dict[str, Any], session: Session) -> None:
    before = snapshot(session)
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    refused(api.post("/production-runs", _run(stocked, produced_on=yesterday)), 422, "produced_on")
    assert snapshot(session) == before


def test_a_made_lot_expires_no_later_than_its_earliest_input(api: Api, stocked: dict[str, Any]) -> None:
    """A gift box made from jars expiring sooner than the box's own shelf life expires with the jars."""
    r = api.post("/production-runs", _run(stocked, lot_code="J1"))
    assert r.json["expiry"] == (TODAY + timedelta(days=180)).isoformat()
    assert r.json["expiry_reason"] is None
    # Without inputs that expire sooner, the product's own shelf life decides.
    sugar_only = {"sku": "JAM-RASP", "quantity": "10", "location": "KITCHEN", "lot_code": "J2",
                  "inputs": [{"lot_id": stocked["S1"], "quantity": "5"}]}
    assert api.post("/production-runs", sugar_only).json["expiry"] == (TODAY + timedelta(days=365)).isoformat()


def test_a_later_explicit_expiry_needs_a_recorded_reason(api: Api, stocked: dict[str, Any],
                                                          session: Session) -> None:
    later = (TODAY + timedelta(days=200)).isoformat()
    before = snapshot(session)
    err = refused(api.post("/production-runs", _run(stocked, lot_code="J1", expiry=later)), 422, "expiry_reason")
    assert "R1" in err["message"] and (TODAY + timedelta(days=180)).isoformat() in err["message"]
    assert snapshot(session) == before
    r = api.post("/production-runs", _run(stocked, lot_code="J1", expiry=later,
                                          expiry_reason="berries cooked at 85 °C; lab shelf-life study 2026-11"))
    assert r.status_code == 201, r.json
    assert (r.json["expiry"], r.json["expiry_reason"]) == (
        later, "berries cooked at 85 °C; lab shelf-life study 2026-11")
    earlier = (TODAY + timedelta(days=100)).isoformat()
    r = api.post("/production-runs", _run(stocked, lot_code="J2", expiry=earlier,
                                          inputs=[{"lot_id": stocked["R1"], "quantity": "10"}]))
    assert r.json["expiry"] == earlier and r.json["expiry_reason"] is None


def test_a_lot_code_pattern_without_a_sequence_refuses_a_second_batch_of_the_day(
        database_url: str, tmp_path: Any, session: Session, stocked: dict[str, Any]) -> None:
    """Production draws its lot codes as receiving does (`lot_codes`): a pattern that can make only one code a day
    gives the second batch a 409 naming lot_code, and nothing is booked."""
    from app import create_app
    from app.models import Role
    from tests.helpers.api import make_token

    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test-secret", "INSTANCE_DIR": str(tmp_path),
                      "LOT_CODE_PATTERN": "{sku}-{date:%y%m%d}"})
    try:
        api = Api(app.test_client(), make_token(session, "cook", Role.OPERATOR))
        batch = {**_run(stocked), "quantity": "40", "inputs": _inputs(stocked, quantity="6")}
        first = api.post("/production-runs", batch)
        assert first.status_code == 201, first.json
        assert first.json["output_lot_code"] == f"JAM-RASP-{TODAY:%y%m%d}"
        before = snapshot(session)
        refused(api.post("/production-runs", batch), 409, "lot_code")
        assert snapshot(session) == before
        assert api.post("/production-runs", {**batch, "lot_code": "J2"}).status_code == 201
    finally:
        app.extensions["lotwise.engine"].dispose()

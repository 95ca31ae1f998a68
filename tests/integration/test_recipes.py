"""Recipes: set and read through the API, scaled to a batch, input lots proposed FEFO through the stock
gate, and a batch made from the recipe recording planned against actual, its yield and its run cost."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.models import LotStatus
from tests.helpers.api import Api
from tests.helpers.bookings import TODAY, receive, refused, set_status, snapshot

# 100 jars per batch; each jar takes 0.2 kg of raspberries; each batch takes 10 kg of sugar; a batch's
# labour and energy cost 30.
JAM_RECIPE = {"batch_quantity": "100", "run_cost": "30", "note": "boil 4 minutes",
              "inputs": [{"sku": "RASP", "quantity": "0.2", "basis": "per_unit"},
                         {"sku": "SUGAR", "quantity": "10", "basis": "per_batch"}]}


def _day(days: int) -> str:
    return (TODAY + timedelta(days=days)).isoformat()


@pytest.fixture
def recipe(api: Api, site: dict[str, Any]) -> dict[str, Any]:
    r = api.put("/products/JAM-RASP/recipe", JAM_RECIPE)
    assert r.status_code == 200, r.json
    return r.json  # type: ignore[no-any-return]


@pytest.fixture
def stocked(api: Api, site: dict[str, Any], recipe: dict[str, Any]) -> dict[str, Any]:
    """Raspberries in four lots (earliest expiry first: held, short, long; one in quarantine), sugar in one."""
    lots = {
        "R-HELD": receive(api, site["supplier"], "RASP", "50", lot_code="R-HELD", expiry=_day(5), unit_cost="4"),
        "R-SHORT": receive(api, site["supplier"], "RASP", "12", lot_code="R-SHORT", expiry=_day(10), unit_cost="4"),
        "R-QUAR": receive(api, site["supplier"], "RASP", "50", location="QUAR", lot_code="R-QUAR", expiry=_day(12),
                          unit_cost="4"),
        "R-LONG": receive(api, site["supplier"], "RASP", "300", lot_code="R-LONG", expiry=_day(90), unit_cost="5"),
        "S1": receive(api, site["sugar_supplier"], "SUGAR", "500", location="DRY-01", lot_code="S1",
                      unit_cost="1"),
    }
    return {**site, **{code: line["lot_id"] for code, line in lots.items()}}


def test_a_recipe_is_saved_and_read_back(api: Api, recipe: dict[str, Any]) -> None:
    assert recipe["sku"] == "JAM-RASP"
    assert Decimal(recipe["batch_quantity"]) == 100
    assert Decimal(recipe["run_cost"]) == 30
    assert [(i["sku"], Decimal(i["quantity"]), i["basis"]) for i in recipe["inputs"]] == [
        ("RASP", Decimal("0.2"), "per_unit"), ("SUGAR", 10, "per_batch")]
    assert api.get("/products/JAM-RASP/recipe").json == recipe


def test_saving_again_replaces_the_recipe(api: Api, recipe: dict[str, Any]) -> None:
    changed = {"batch_quantity": "50", "inputs": [{"sku": "SUGAR", "quantity": "6", "basis": "per_batch"},
                                                  {"sku": "RASP", "quantity": "0.25"}]}
    r = api.put("/products/JAM-RASP/recipe", changed)
    assert r.status_code == 200, r.json
    assert [(i["sku"], Decimal(i["quantity"]), i["basis"]) for i in r.json["inputs"]] == [
        ("SUGAR", 6, "per_batch"), ("RASP", Decimal("0.25"), "per_unit")]
    assert Decimal(r.json["run_cost"]) == 0


def test_a_product_without_a_recipe_answers_404(api: Api, site: dict[str, Any]) -> None:
    refused(api.get("/products/RASP/recipe"), 404, "sku")
    refused(api.get("/products/NOPE/recipe"), 404, "sku")


def _with(**change: Any) -> dict[str, Any]:
    return {**JAM_RECIPE, **change}


BAD_RECIPES: list[tuple[str, dict[str, Any], int, str]] = [
    ("unknown input", _with(inputs=[{"sku": "NOPE", "quantity": "1"}]), 404, "inputs.0.sku"),
    ("the product itself", _with(inputs=[{"sku": "RASP", "quantity": "1"}, {"sku": "JAM-RASP", "quantity": "1"}]),
     422, "inputs.1.sku"),
    ("the same input twice", _with(inputs=[{"sku": "RASP", "quantity": "1"}, {"sku": "SUGAR", "quantity": "1"},
                                           {"sku": "RASP", "quantity": "2"}]), 422, "inputs.2.sku"),
    ("zero input quantity", _with(inputs=[{"sku": "RASP", "quantity": "0"}]), 422, "inputs.0.quantity"),
    ("negative input quantity", _with(inputs=[{"sku": "RASP", "quantity": "-1"}]), 422, "inputs.0.quantity"),
    ("unknown basis", _with(inputs=[{"sku": "RASP", "quantity": "1", "basis": "per_jar"}]), 422, "inputs.0.basis"),
    ("zero batch", _with(batch_quantity="0"), 422, "batch_quantity"),
    ("no batch", {k: v for k, v in JAM_RECIPE.items() if k != "batch_quantity"}, 422, "batch_quantity"),
    ("negative run cost", _with(run_cost="-5"), 422, "run_cost"),
    ("no inputs", _with(inputs=[]), 422, "inputs"),
]


@pytest.mark.parametrize(("body", "status", "field"), [c[1:] for c in BAD_RECIPES], ids=[c[0] for c in BAD_RECIPES])
def test_a_bad_recipe_is_refused_naming_the_field_and_keeps_the_old_one(
        api: Api, recipe: dict[str, Any], session: Session, body: dict[str, Any], status: int, field: str) -> None:
    before = snapshot(session)
    refused(api.put("/products/JAM-RASP/recipe", body), status, field)
    assert snapshot(session) == before
    assert api.get("/products/JAM-RASP/recipe").json == recipe


def test_a_recipe_for_an_unknown_product_is_404(api: Api, site: dict[str, Any]) -> None:
    refused(api.put("/products/NOPE/recipe", JAM_RECIPE), 404, "sku")


def test_an_operator_cannot_change_a_recipe(api_as: Any, recipe: dict[str, Any]) -> None:
    from app.models import Role

    assert api_as(Role.OPERATOR).put("/products/JAM-RASP/recipe", JAM_RECIPE).status_code == 403
    assert api_as(Role.VIEWER).get("/products/JAM-RASP/recipe").status_code == 200


def _plan(api: Api, quantity: str, **query: str) -> dict[str, Any]:
    r = api.get("/products/JAM-RASP/recipe/plan", query_string={"quantity": quantity, **query})
    assert r.status_code == 200, r.json
    return r.json  # type: ignore[no-any-return]


def test_the_recipe_scales_per_unit_and_per_batch_inputs(api: Api, stocked: dict[str, Any]) -> None:
    plan = _plan(api, "250")
    assert Decimal(plan["batches"]) == Decimal("2.5")
    assert Decimal(plan["run_cost"]) == 75  # 30 per batch × 2.5
    planned = {i["sku"]: Decimal(i["planned"]) for i in plan["inputs"]}
    assert planned == {"RASP": 50, "SUGAR": 25}  # 0.2 kg × 250 jars; 10 kg × 2.5 batches


def test_input_lots_are_proposed_first_expiry_first_among_usable_stock(
        api: Api, stocked: dict[str, Any], session: Session) -> None:
    set_status(session, stocked["R-HELD"], LotStatus.HOLD)
    plan = _plan(api, "250", location="KITCHEN")
    rasp = next(i for i in plan["inputs"] if i["sku"] == "RASP")
    # The held lot expires first and the quarantined one before the long lot: neither may be consumed.
    # The short lot is used up and the rest comes from the next expiry.
    assert [(x["lot_code"], x["location"], Decimal(x["quantity"])) for x in rasp["lots"]] == [
        ("R-SHORT", "COLD-01", 12), ("R-LONG", "COLD-01", 38)]
    assert Decimal(rasp["short"]) == 0
    sugar = next(i for i in plan["inputs"] if i["sku"] == "SUGAR")
    assert [(x["lot_code"], Decimal(x["quantity"])) for x in sugar["lots"]] == [("S1", 25)]


def test_an_expired_lot_is_never_proposed_and_a_shortage_is_reported(
        api: Api, site: dict[str, Any], recipe: dict[str, Any]) -> None:
    receive(api, site["supplier"], "RASP", "40", lot_code="R-OLD", received_on=_day(-20), expiry=_day(-1))
    receive(api, site["supplier"], "RASP", "8", lot_code="R-NEW", expiry=_day(30))
    rasp = next(i for i in _plan(api, "100")["inputs"] if i["sku"] == "RASP")
    assert [(x["lot_code"], Decimal(x["quantity"])) for x in rasp["lots"]] == [("R-NEW", 8)]
    assert Decimal(rasp["short"]) == 12
    sugar = next(i for i in _plan(api, "100")["inputs"] if i["sku"] == "SUGAR")
    assert sugar["lots"] == [] and Decimal(sugar["short"]) == 10


def test_a_plan_for_a_bad_batch_size_is_refused(api: Api, recipe: dict[str, Any]) -> None:
    refused(api.get("/products/JAM-RASP/recipe/plan", query_string={"quantity": "0"}), 422, "quantity")
    refused(api.get("/products/JAM-RASP/recipe/plan", query_string={"quantity": "ten"}), 422, "quantity")
    refused(api.get("/products/JAM-RASP/recipe/plan", query_string={"quantity": "5", "location": "NOWHERE"}),
            404, "location")


def test_a_batch_from_the_recipe_records_planned_against_actual_yield_and_run_cost(
        api: Api, stocked: dict[str, Any]) -> None:
    # Planned 250 jars (50 kg raspberries, 25 kg sugar); the operator used 52 kg and 25 kg and made 240.
    r = api.post("/production-runs", {
        "sku": "JAM-RASP", "planned_quantity": "250", "quantity": "240", "location": "KITCHEN",
        "inputs": [{"lot_id": stocked["R-SHORT"], "quantity": "12"}, {"lot_id": stocked["R-LONG"], "quantity": "40"},
                   {"lot_id": stocked["S1"], "quantity": "25"}]})
    assert r.status_code == 201, r.json
    run = r.json
    assert Decimal(run["planned_quantity"]) == 250
    assert Decimal(run["yield_pct"]) == 96  # 240 of 250
    assert [(p["sku"], Decimal(p["planned"]), Decimal(p["actual"])) for p in run["plan"]] == [
        ("RASP", 50, 52), ("SUGAR", 25, 25)]
    # The recipe's run cost for 2.5 batches is the run's extra cost, and the lot's cost includes it:
    # (12 × 4 + 40 × 5 + 25 × 1 + 75) / 240 jars.
    assert Decimal(run["extra_cost"]) == 75
    assert Decimal(run["unit_cost"]) == (Decimal(48 + 200 + 25 + 75) / 240).quantize(Decimal("0.000001"))
    cost = api.get(f"/lots/{run['output_lot_id']}/cost").json
    assert Decimal(cost["extra_cost"]) == 75
    assert api.get(f"/production-runs/{run['id']}").json == run


def test_an_extra_cost_given_for_the_batch_wins_over_the_recipes(api: Api, stocked: dict[str, Any]) -> None:
    r = api.post("/production-runs", {
        "sku": "JAM-RASP", "planned_quantity": "100", "quantity": "100", "location": "KITCHEN", "extra_cost": "12",
        "inputs": [{"lot_id": stocked["R-LONG"], "quantity": "20"}, {"lot_id": stocked["S1"], "quantity": "10"}]})
    assert r.status_code == 201, r.json
    assert Decimal(r.json["extra_cost"]) == 12


def test_a_batch_without_a_plan_has_no_plan_or_yield(api: Api, stocked: dict[str, Any]) -> None:
    r = api.post("/production-runs", {"sku": "JAM-RASP", "quantity": "10", "location": "KITCHEN",
                                      "inputs": [{"lot_id": stocked["R-LONG"], "quantity": "2"}]})
    assert r.status_code == 201, r.json
    assert r.json["planned_quantity"] is None and r.json["yield_pct"] is None and r.json["plan"] == []
    assert Decimal(r.json["extra_cost"]) == 0


def test_a_planned_batch_of_a_product_without_a_recipe_is_refused(
        api: Api, stocked: dict[str, Any], session: Session) -> None:
    api.post("/products", {"sku": "JAM-PLAIN", "name": "Plain jam", "unit": "ea"})
    before = snapshot(session)
    refused(api.post("/production-runs", {
        "sku": "JAM-PLAIN", "planned_quantity": "10", "quantity": "10", "location": "KITCHEN",
        "inputs": [{"lot_id": stocked["R-LONG"], "quantity": "2"}]}), 422, "planned_quantity")
    refused(api.post("/production-runs", {
        "sku": "JAM-RASP", "planned_quantity": "0", "quantity": "10", "location": "KITCHEN",
        "inputs": [{"lot_id": stocked["R-LONG"], "quantity": "2"}]}), 422, "planned_quantity")
    assert snapshot(session) == before

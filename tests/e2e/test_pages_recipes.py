"""Recipe pages: a manager sets a product's recipe, a bad one is shown in red at its field, and a run made
from the recipe shows planned against actual and its yield."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.models import Role
from tests.helpers.api import Api
from tests.helpers.bookings import receive
from tests.helpers.pages import Browser, user


@pytest.fixture
def boss(client: FlaskClient, session: Session, site: dict[str, Any]) -> Browser:
    return user(client, session, "mona", Role.MANAGER)


def test_a_manager_sets_a_recipe_on_its_page(boss: Browser, site: dict[str, Any], api: Api) -> None:
    page = boss.get("/products?q=JAM-RASP")
    assert f'/products/{site["JAM-RASP"]}/recipe' in page.html
    page = boss.get(f"/products/{site['JAM-RASP']}/recipe")
    assert page.status == 200 and page.value("batch_quantity") == ""
    page = boss.submit(page, {"batch_quantity": "100", "run_cost": "30",
                              "inputs.0.sku": "RASP", "inputs.0.quantity": "0.2", "inputs.0.basis": "per_unit",
                              "inputs.1.sku": "SUGAR", "inputs.1.quantity": "10", "inputs.1.basis": "per_batch"})
    assert page.status == 200, page.alerts
    assert page.flashes == ["Recipe of JAM-RASP saved."]
    assert (page.value("batch_quantity"), page.value("inputs.0.quantity"), page.value("inputs.1.basis")) == (
        "100", "0.2", "per_batch")
    recipe = api.get("/products/JAM-RASP/recipe").json
    assert [(i["sku"], i["quantity"], i["basis"]) for i in recipe["inputs"]] == [
        ("RASP", "0.2", "per_unit"), ("SUGAR", "10", "per_batch")]


def test_a_bad_recipe_is_shown_at_its_field_and_not_saved(boss: Browser, site: dict[str, Any], api: Api) -> None:
    page = boss.get(f"/products/{site['JAM-RASP']}/recipe")
    page = boss.submit(page, {"batch_quantity": "100",
                              "inputs.0.sku": "RASP", "inputs.0.quantity": "0.2",
                              "inputs.1.sku": "RASP", "inputs.1.quantity": "1"})
    assert page.status == 422
    assert "RASP is already input 1" in page.alerts[0]
    assert page.invalid() == ["inputs.1.sku"]
    page = boss.submit(page, {"inputs.1.sku": "JAM-RASP"}, key="batch_quantity")
    assert page.status == 422 and page.invalid() == ["inputs.1.sku"]
    assert "cannot use JAM-RASP itself" in page.alerts[0]
    page = boss.submit(page, {"inputs.1.sku": "", "inputs.1.quantity": "", "batch_quantity": "0"},
                       key="batch_quantity")
    assert page.status == 422 and page.invalid() == ["batch_quantity"]
    assert api.get("/products/JAM-RASP/recipe").status_code == 404


def test_a_viewer_sees_the_recipe_without_a_save_button(client: FlaskClient, session: Session, site: dict[str, Any],
                                                         api: Api) -> None:
    api.put("/products/JAM-RASP/recipe", {"batch_quantity": "50", "inputs": [{"sku": "RASP", "quantity": "0.2"}]})
    page = user(client, session, "vera", Role.VIEWER).get(f"/products/{site['JAM-RASP']}/recipe")
    assert page.status == 200 and page.value("batch_quantity") == "50"
    assert "Save recipe" not in page.text


def test_the_run_page_shows_planned_against_actual_and_the_yield(boss: Browser, site: dict[str, Any],
                                                                  api: Api) -> None:
    api.put("/products/JAM-RASP/recipe", {"batch_quantity": "100", "run_cost": "30",
                                          "inputs": [{"sku": "RASP", "quantity": "0.2"}]})
    rasp = receive(api, site["supplier"], "RASP", "100", lot_code="R1", unit_cost="4")
    run = api.post("/production-runs", {"sku": "JAM-RASP", "planned_quantity": "200", "quantity": "190",
                                        "location": "KITCHEN",
                                        "inputs": [{"lot_id": rasp["lot_id"], "quantity": "41"}]}).json
    page = boss.get(f"/runs/{run['id']}")
    assert "Planned against actual" in page.text
    assert "yield 95 %" in page.text
    assert "200 ea 190 ea -10" in page.text
    assert "RASP · Raspberries IQF 40 kg 41 kg 1" in page.text
    assert "extra 60" in page.text  # the recipe's run cost for two batches


def _plan(boss: Browser, fill: dict[str, str]) -> Any:
    """Press "Plan inputs from recipe" on the new-run form with `fill` typed in."""
    page = boss.get("/runs/new")
    form = page.form_with("planned_quantity")
    return boss.post(form.action or page.url, {**form.fields, **fill, "action": "plan"})


def test_the_desktop_run_form_plans_the_inputs_from_the_recipe(boss: Browser, site: dict[str, Any],
                                                               api: Api) -> None:
    api.put("/products/JAM-RASP/recipe", {"batch_quantity": "100", "run_cost": "30",
                                          "inputs": [{"sku": "RASP", "quantity": "0.2"},
                                                     {"sku": "SUGAR", "quantity": "10", "basis": "per_batch"}]})
    later = receive(api, site["supplier"], "RASP", "100", lot_code="R-LATE", expiry="2031-03-01", unit_cost="4")
    early = receive(api, site["supplier"], "RASP", "30", lot_code="R-EARLY", expiry="2031-01-01", unit_cost="4")
    receive(api, site["supplier"], "SUGAR", "500", lot_code="S1", unit_cost="1")
    page = _plan(boss, {"sku": "JAM-RASP", "planned_quantity": "200", "location": "KITCHEN"})
    assert page.status == 200, page.alerts
    # 200 jars × 0.2 kg: the earlier raspberries first, all 30 kg, then 10 kg of the later lot; sugar per batch.
    assert [(page.value(f"inputs.{i}.lot"), page.value(f"inputs.{i}.quantity")) for i in range(3)] == [
        ("RASP / R-EARLY", "30"), ("RASP / R-LATE", "10"), ("SUGAR / S1", "20")]
    assert page.value("quantity") == "200"
    assert "Planned for 200 ea" in page.text
    assert api.get("/production-runs").json == []  # planning books nothing
    # The operator used 11 kg of the later lot and made 196 jars: recorded against the plan.
    page = boss.submit(page, {"inputs.1.quantity": "11", "quantity": "196"}, key="planned_quantity")
    assert page.status == 200, page.alerts
    assert "yield 98 %" in page.text
    assert "RASP · Raspberries IQF 40 kg 41 kg 1" in page.text
    assert api.get(f"/lots/{early['lot_id']}").json["on_hand"] == "0"
    assert api.get(f"/lots/{later['lot_id']}").json["on_hand"] == "89"


def test_planning_without_a_recipe_or_batch_size_says_what_is_missing(boss: Browser, site: dict[str, Any]) -> None:
    page = _plan(boss, {"sku": "JAM-RASP", "planned_quantity": "50"})
    assert page.status == 422 and page.invalid() == ["planned_quantity"]
    assert "JAM-RASP has no recipe to plan from" in page.alerts[0]
    page = _plan(boss, {"sku": "JAM-RASP", "planned_quantity": ""})
    assert page.status == 422 and page.invalid() == ["planned_quantity"]
    page = _plan(boss, {"sku": "JAM-RASP", "planned_quantity": "-3"})
    assert page.status == 422 and page.invalid() == ["planned_quantity"]

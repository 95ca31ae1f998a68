"""A product's cases and pallets through its page: a manager adds and removes them; bad input is shown in red."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.models import Role
from labels.gs1 import gtin_check_digit
from tests.helpers.api import Api
from tests.helpers.pages import user

JAM_CASE = "1950110153000" + str(gtin_check_digit("1950110153000"))


def test_a_manager_gives_a_product_a_case_on_its_page(client: FlaskClient, session: Session, site: dict[str, Any],
                                                      api: Api) -> None:
    boss = user(client, session, "mona", Role.MANAGER)
    jam = site["JAM-RASP"]
    page = boss.get(f"/products/{jam}/edit")
    assert "Cases and pallets" in page.text and "No cases or pallets yet." in page.text
    assert page.value("level") == "case"

    wrong = JAM_CASE[:-1] + str((int(JAM_CASE[-1]) + 1) % 10)
    page = boss.submit(page, {"content": "12", "gtin": wrong}, key="content")
    assert page.status == 422
    assert "wrong check digit" in page.text
    assert page.value("content") == "12"
    page = boss.submit(page, {"content": "0", "gtin": JAM_CASE}, key="content")
    assert page.status == 422 and "greater than 0" in page.text
    page = boss.submit(page, {"content": "12", "gtin": "09501101530003"}, key="content")
    assert page.status == 409 and "already the GTIN of product JAM-RASP" in page.text

    page = boss.submit(page, {"content": "12", "gtin": JAM_CASE}, key="content")
    assert page.status == 200, page.alerts
    assert page.flashes == [f"Case GTIN {JAM_CASE} of JAM-RASP added: one holds 12 ea."]
    assert f"case {JAM_CASE} 12 ea Remove" in page.text
    assert [(p["level"], p["gtin"], p["content"]) for p in api.get(f"/products/{jam}/packaging").json] == [
        ("case", JAM_CASE, "12")]

    remove = next(f for f in page.forms if f.action and f.action.endswith("/remove"))
    page = boss.post(remove.action, dict(remove.fields), follow=True)
    assert page.flashes == ["Packaging level removed."]
    assert api.get(f"/products/{jam}/packaging").json == []


def test_an_operator_sees_no_packaging_form(client: FlaskClient, session: Session, site: dict[str, Any]) -> None:
    clerk = user(client, session, "otto", Role.OPERATOR)
    page = clerk.get(f"/products/{site['JAM-RASP']}/edit")
    assert page.status == 403
    token = clerk.csrf()
    page = clerk.post(f"/products/{site['JAM-RASP']}/packaging", {"csrf_token": token, "gtin": JAM_CASE,
                                                                    "content": "12"})
    assert page.status == 403

"""The site's GS1 company prefix and the GTINs Lotwise makes from it; plain labels of products without one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.cli import main
from app.models import Role
from tests.helpers.api import Api
from tests.helpers.bookings import snapshot
from tests.helpers.pages import user

PREFIX = "9506000"  # GS1's own example prefix: 7 digits, 5 of item reference


def check_digit_ok(gtin: str) -> bool:
    body, check = gtin[:-1], int(gtin[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def with_check(body: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def product(api: Api, sku: str, **fields: Any) -> dict[str, Any]:
    r = api.post("/products", {"sku": sku, "name": f"Product {sku}", "kind": "product", **fields})
    assert r.status_code == 201, r.json
    return r.json  # type: ignore[no-any-return]


def test_without_a_prefix_nothing_is_assigned_and_new_products_have_no_gtin(api: Api, site: dict) -> None:
    assert api.get("/gs1/company-prefix").json["company_prefix"] is None
    assert product(api, "JAM-NEW")["gtin"] is None
    r = api.post("/gs1/assign-gtins", {})
    assert r.status_code == 409 and r.json["error"]["field"] == "company_prefix"
    assert "company prefix" in r.json["error"]["message"]


def test_assigned_gtins_carry_the_prefix_a_check_digit_and_never_collide(api: Api, site: dict) -> None:
    # A product already holds item reference 00001 under the prefix: it is skipped, never given twice.
    product(api, "HAND", gtin=with_check("950600000001"))
    r = api.put("/gs1/company-prefix", {"company_prefix": PREFIX})
    assert r.status_code == 200, r.json
    assert r.json == {"company_prefix": PREFIX, "capacity": 100000, "next_item_reference": 0, "remaining": 100000,
                      "products_without_gtin": 0} | {"products_without_gtin": r.json["products_without_gtin"]}
    for sku in ("GB-A", "GB-B", "GB-C"):
        api.post("/products", {"sku": sku, "name": sku, "kind": "product"})
    got = {p["sku"]: p["gtin"] for p in api.get("/products").json}
    assert got["RASP"] is None and got["SUGAR"] is None, "materials are not given our GTINs"
    made = [got[s] for s in ("GB-A", "GB-B", "GB-C")]
    assert all(g.startswith("0" + PREFIX) and len(g) == 14 and check_digit_ok(g) for g in made)
    assert len(set(made) | {got["HAND"], got["JAM-RASP"]}) == 5
    assert [g[8:13] for g in made] == ["00000", "00002", "00003"]


def test_assign_gtins_gives_existing_products_one_and_says_which(api: Api, site: dict, session: Session) -> None:
    for sku in ("GB-1", "GB-2"):
        product(api, sku)
    named = product(api, "PK-X", kind="material")
    api.put("/gs1/company-prefix", {"company_prefix": PREFIX})
    r = api.post("/gs1/assign-gtins", {})
    assert r.status_code == 200, r.json
    assert [a["sku"] for a in r.json["assigned"]] == ["GB-1", "GB-2"]
    assert r.json["message"] == "2 products got a GTIN"
    # Named products may be materials; one that already has a GTIN is refused and nothing changes.
    before = snapshot(session)
    r = api.post("/gs1/assign-gtins", {"skus": ["PK-X", "GB-1"]})
    assert r.status_code == 409 and "GB-1 already has a GTIN" in r.json["error"]["message"]
    assert snapshot(session) == before
    r = api.post("/gs1/assign-gtins", {"skus": ["PK-X"]})
    assert r.status_code == 200 and r.json["assigned"][0]["gtin"].startswith("0" + PREFIX)
    assert api.get(f"/products/{named['id']}").json["gtin"] == r.json["assigned"][0]["gtin"]
    assert api.get("/gs1/company-prefix").json["next_item_reference"] == 3


def test_an_exhausted_prefix_is_a_clear_refusal_and_assigns_nothing(api: Api, site: dict, session: Session) -> None:
    for sku in ("GB-1", "GB-2"):
        product(api, sku)
    api.put("/gs1/company-prefix", {"company_prefix": "950600013435"})  # 12 digits: room for one GTIN
    before = snapshot(session)
    r = api.post("/gs1/assign-gtins", {})
    assert r.status_code == 409
    assert "950600013435 has room for 1 GTINs" in r.json["error"]["message"]
    assert "ask GS1 for another company prefix" in r.json["error"]["message"]
    assert snapshot(session) == before
    assert api.post("/gs1/assign-gtins", {"skus": ["GB-1"]}).json["assigned"][0]["gtin"] == "09506000134352"
    r = api.post("/products", {"sku": "GB-3", "name": "GB-3", "kind": "product"})
    assert r.status_code == 409 and r.json["error"]["field"] == "company_prefix"


def test_prefixes_gs1_does_not_give_companies_are_refused_naming_the_field(api: Api, site: dict) -> None:
    for bad, words in (("2012345", "Restricted Circulation"), ("9781234", "Bookland"), ("123", "pattern"),
                       ("95060001234567", "pattern")):
        r = api.put("/gs1/company-prefix", {"company_prefix": bad})
        assert r.status_code == 422, bad
        assert r.json["error"]["field"] == "company_prefix" and words in r.json["error"]["message"], r.json
    assert api.get("/gs1/company-prefix").json["company_prefix"] is None


def test_only_admins_set_the_prefix_or_assign(api_as: Any, site: dict) -> None:
    manager = api_as(Role.MANAGER)
    assert manager.put("/gs1/company-prefix", {"company_prefix": PREFIX}).status_code == 403
    assert manager.post("/gs1/assign-gtins", {}).status_code == 403
    assert api_as(Role.VIEWER).get("/gs1/company-prefix").status_code == 200


def test_the_cli_sets_the_prefix_and_assigns(database_url: str, tmp_path: Path, kitchen: dict,
                                            session: Session) -> None:
    runner = CliRunner()
    env = {"LOTWISE_DATABASE_URL": database_url, "LOTWISE_INSTANCE_DIR": str(tmp_path)}
    r = runner.invoke(main, ["gs1", "prefix", "2012345"], env=env)
    assert r.exit_code != 0 and "Restricted Circulation" in r.output
    r = runner.invoke(main, ["gs1", "prefix", PREFIX], env=env)
    assert r.exit_code == 0 and "GS1 company prefix 9506000: 100000 of 100000 item references left" in r.output
    r = runner.invoke(main, ["gs1", "assign-gtins", "RASP"], env=env)
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("RASP\t09506000000009") or r.stdout.startswith("RASP\t0950600000000")
    r = runner.invoke(main, ["gs1", "prefix", "--clear"], env=env)
    assert r.exit_code == 0 and "no GS1 company prefix" in r.output


def test_admins_set_the_prefix_and_assign_on_the_gtins_page(client: FlaskClient, session: Session, api: Api,
                                                           site: dict) -> None:
    product(api, "GB-9")
    admin = user(client, session, "boss", Role.ADMIN)
    page = admin.get("/products", follow=True)
    assert "/products/gtins" in page.html
    page = admin.get("/products/gtins")
    assert "GB-9" in page.text and "No prefix set" in page.text
    page = admin.submit(page, {"company_prefix": "2012345"})
    assert page.status == 422 and "Restricted Circulation" in page.field_error("company_prefix")
    page = admin.submit(admin.get("/products/gtins"), {"company_prefix": PREFIX})
    assert page.status == 200 and "GS1 company prefix set to 9506000" in page.text
    page = admin.post("/products/gtins/assign", {"csrf_token": admin.csrf()}, follow=True)
    assert "got a GTIN: GB-9 0950600000000" in page.text, page.text[-900:]
    manager = user(client, session, "mgr", Role.MANAGER)
    assert manager.get("/products/gtins").status == 403
    assert "/products/gtins" not in manager.get("/products").html


# --- plain labels are looked up by what they say ---------------------------------------------


def test_a_plain_labels_text_and_qr_url_find_the_lot(api: Api, site: dict, client: FlaskClient,
                                                      session: Session) -> None:
    r = api.post("/receipts", {"supplier_id": site["supplier"], "lines": [
        {"sku": "RASP", "quantity": "10", "location": "COLD-01", "lot_code": "R 7/A^1"},
        {"sku": "SUGAR", "quantity": "10", "location": "DRY-01", "lot_code": "R 7/A^1"}]})
    assert r.status_code == 201, r.json
    lot_id = r.json["lines"][0]["lot_id"]
    for raw in ("RASP R 7/A^1", "http://127.0.0.1:8000/lots/find?sku=RASP&code=R%207%2FA%5E1"):
        scan = api.post("/scans/parse", {"raw": raw}).json
        assert scan["kind"] == "text"
        assert scan["found_lot"]["id"] == lot_id, raw
        assert (scan["sku"], scan["lot"]) == ("RASP", "R 7/A^1")
        assert scan["message"] == "Raspberries IQF, lot R 7/A^1"
    # The lot code alone names two lots: the person chooses, as before.
    scan = api.post("/scans/parse", {"raw": "R 7/A^1"}).json
    assert scan["found_lot"] is None and len(scan["candidates"]) == 2
    viewer = user(client, session, "looker", Role.VIEWER)
    page = viewer.get("/lots/find?sku=RASP&code=R%207%2FA%5E1")
    assert page.status == 302 and page.location.endswith(f"/lots/{lot_id}")
    page = viewer.get("/lots/find?sku=RASP&code=NOPE")
    assert page.status == 404 and "no lot &#39;NOPE&#39; of sku &#39;RASP&#39; is known here" in page.html

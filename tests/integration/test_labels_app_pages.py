"""Label pages: print from a lot, receipt, run or pick list; printer settings; the print button; Digital Link."""

from __future__ import annotations

import base64
import html
import io
import re
import socket
from typing import Any

import numpy as np
import pytest
from flask import Flask, g, render_template_string
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import LabelPrinter, LabelPrintJob, Role, User
from tests.helpers.api import Api, make_user
from tests.helpers.label_files import expected, gs1_reads, pdf_pages, read, receive_two
from tests.helpers.printer import FakeZebra

PASSWORD = "correct horse 1"


class Browser:
    """A logged-in user's test client that finds CSRF tokens and red and green messages on pages."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.html = ""

    def get(self, path: str, **kw: Any) -> Any:
        r = self.client.get(path, **kw)
        self.html = r.get_data(as_text=True)
        return r

    def post(self, path: str, data: dict[str, Any], **kw: Any) -> Any:
        r = self.client.post(path, data=data, **kw)
        if r.mimetype == "text/html" and not r.status_code // 100 == 3:
            self.html = r.get_data(as_text=True)
        return r

    @property
    def token(self) -> str:
        m = re.search(r'name="csrf_token" value="([^"]+)"', self.html)
        assert m, "no CSRF token on the page"
        return m.group(1)

    def field(self, name: str) -> str:
        m = re.search(rf'name="{re.escape(name)}"[^>]*? value="([^"]*)"', self.html)
        assert m, f"no field {name}"
        return m.group(1)

    @property
    def alerts(self) -> list[str]:
        return [html.unescape(" ".join(re.sub(r"<[^>]+>", " ", m).split()))
                for m in re.findall(r'role="alert">(.*?)</(?:div|p)>', self.html, flags=re.S)]

    @property
    def flashes(self) -> list[tuple[str, str]]:
        found = re.findall(r'<div class="flash (\w+)" role="status">(.*?)</div>', self.html, flags=re.S)
        return [(kind, html.unescape(text)) for kind, text in found]


def login(client: FlaskClient, session: Session, name: str, role: Role) -> Browser:
    make_user(session, name, role)
    browser = Browser(client.application.test_client())
    browser.get("/login")
    r = browser.post("/login", {"csrf_token": browser.token, "username": name, "password": PASSWORD})
    assert r.status_code == 302, browser.html[:300]
    return browser


@pytest.fixture
def operator(client: FlaskClient, session: Session) -> Browser:
    return login(client, session, "olga", Role.OPERATOR)


@pytest.fixture
def manager(client: FlaskClient, session: Session) -> Browser:
    return login(client, session, "maria", Role.MANAGER)


@pytest.fixture
def zebra() -> Any:
    printer = FakeZebra()
    yield printer
    printer.close()


def count(session: Session, model: type[Any]) -> int:
    session.rollback()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def previews(html: str) -> list[Image.Image]:
    return [Image.open(io.BytesIO(base64.b64decode(data)))
            for data in re.findall(r'src="data:image/png;base64,([^"]+)"', html)]


# --- the print page ----------------------------------------------------------------------------


def test_the_print_page_previews_each_lot_of_a_receipt_as_printed(api: Api, site: dict, operator: Browser) -> None:
    receipt = receive_two(api, site)
    r = operator.get(f"/labels/print?receipt={receipt['id']}&size=4x2")
    assert r.status_code == 200
    assert f"Receipt {receipt['number']}" in operator.html
    images = previews(operator.html)
    assert len(images) == 2
    for image, line in zip(images, receipt["lines"], strict=True):
        assert image.size == (812, 406), "4×2 in at 203 dpi"
        assert gs1_reads(read(np.asarray(image.convert("L")))) == [expected(api, line["lot_id"])] * 2
    for name in ("pdf_size", "pdf_copies", "zpl_size", "zpl_copies", "printer_id", "dpi"):
        assert f'name="{name}"' in operator.html
    assert operator.html.count('name="csrf_token"') >= 3, "the logout, PDF and ZPL forms"
    assert 'target="_blank"' in operator.html, "the PDF opens in a new tab"


def test_the_pdf_opens_inline_and_the_zpl_downloads(api: Api, site: dict, operator: Browser) -> None:
    receipt = receive_two(api, site)
    page = f"/labels/print?receipt={receipt['id']}"
    operator.get(page)
    r = operator.post(page, {"csrf_token": operator.token, "action": "pdf", "pdf_size": "4x2", "pdf_copies": "2"})
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert r.headers["Content-Disposition"].startswith("inline;")
    pages = pdf_pages(r.data)
    assert len(pages) == 4
    assert gs1_reads(read(pages[3]))[0] == expected(api, receipt["lines"][1]["lot_id"])
    r = operator.post(page, {"csrf_token": operator.token, "action": "zpl", "zpl_size": "", "zpl_copies": "1",
                             "dpi": "300", "printer_id": ""})
    assert r.status_code == 200 and r.mimetype == "application/vnd.zebra-zpl"
    assert r.headers["Content-Disposition"].startswith("attachment;")
    assert r.data == api.get(f"/labels/receipts/{receipt['id']}.zpl?dpi=300").data


def test_sending_to_a_printer_shows_green_and_a_double_submit_prints_once(
        api: Api, site: dict, session: Session, operator: Browser, zebra: FakeZebra) -> None:
    receipt = receive_two(api, site)
    printer = api.post("/printers", {"name": "Dock Zebra", "host": "127.0.0.1", "port": zebra.port}).json
    page = f"/labels/print?receipt={receipt['id']}"
    operator.get(page)
    form = {"csrf_token": operator.token, "request_key": operator.field("request_key"), "action": "print",
            "zpl_size": "4x2", "zpl_copies": "2", "dpi": "203", "printer_id": str(printer["id"])}
    r = operator.post(page, form)
    assert r.status_code == 302 and r.headers["Location"].endswith(page)
    operator.get(page)
    assert operator.flashes == [("success", f"Sent 4 labels (receipt {receipt['number']}, 4x2) to printer "
                                            "'Dock Zebra'.")]
    zebra.wait()
    assert zebra.jobs == [api.get(f"/labels/receipts/{receipt['id']}.zpl?size=4x2&copies=2").data]
    assert operator.post(page, form).status_code == 302
    assert len(zebra.received) == 1 and count(session, LabelPrintJob) == 1


def test_an_unreachable_printer_shows_red_and_records_nothing(
        api: Api, site: dict, app: Flask, session: Session, operator: Browser) -> None:
    app.config["LABEL_PRINTER_TIMEOUT"] = 0.3
    hung = FakeZebra(read=False)
    try:
        receipt = receive_two(api, site)
        printer = api.post("/printers", {"name": "Dock Zebra", "host": "127.0.0.1", "port": hung.port}).json
        page = f"/labels/print?receipt={receipt['id']}"
        operator.get(page)
        r = operator.post(page, {"csrf_token": operator.token, "request_key": "k1", "action": "print",
                                 "zpl_size": "", "zpl_copies": "1", "dpi": "203", "printer_id": str(printer["id"])})
    finally:
        hung.close()
    assert r.status_code == 504
    assert operator.alerts == [f"Printer 'Dock Zebra' at 127.0.0.1:{hung.port} did not answer within 0.3 s; nothing "
                               "was printed. A Zebra printer stays silent while it is out of labels or ribbon or has "
                               "its head open"]
    assert previews(operator.html), "the page is shown again, ready to retry"
    assert count(session, LabelPrintJob) == 0


def test_bad_choices_are_shown_in_red_on_their_field(api: Api, site: dict, operator: Browser) -> None:
    receipt = receive_two(api, site)
    page = f"/labels/print?receipt={receipt['id']}"
    operator.get(page)
    r = operator.post(page, {"csrf_token": operator.token, "action": "print", "zpl_size": "", "zpl_copies": "1",
                             "dpi": "203", "printer_id": ""})
    assert r.status_code == 422
    assert operator.alerts == ["Choose a printer, or download the ZPL instead"]
    assert 'name="printer_id" id="f-printer_id" aria-invalid="true"' in operator.html
    r = operator.post(page, {"csrf_token": operator.token, "action": "pdf", "pdf_size": "4x6", "pdf_copies": "500"})
    assert r.status_code == 422 and r.mimetype == "text/html"
    assert operator.alerts == ["Copies: Input should be less than or equal to 100"]
    r = operator.post(page, {"csrf_token": operator.token, "action": "zpl", "zpl_size": "62mm", "zpl_copies": "1",
                             "dpi": "203"})
    assert r.status_code == 422
    assert "'62mm' is not a thermal label size" in operator.alerts[0]
    r = operator.post(page, {"action": "pdf", "pdf_size": "4x6", "pdf_copies": "1"})
    assert r.status_code == 400, "every form needs its CSRF token"


def test_a_lot_code_gs1_cannot_carry_is_named_in_red_not_a_crash(api: Api, site: dict, operator: Browser) -> None:
    r = api.post("/receipts", {"supplier_id": site["supplier"], "lines": [
        {"sku": "JAM-RASP", "quantity": "5", "location": "COLD-01", "lot_code": "LOT 7"}]})
    receipt = r.json
    for page in (f"/labels/print?receipt={receipt['id']}", f"/labels/print?lot={receipt['lines'][0]['lot_id']}"):
        r = operator.get(page)
        assert r.status_code == 422
        [alert] = operator.alerts
        assert alert.startswith("Cannot print. Cannot make a label for JAM-RASP lot 'LOT 7': lot code 'LOT 7' "
                                "cannot go in a GS1 barcode (AI 10)")
        assert 'name="action"' not in operator.html
    long = api.post("/receipts", {"supplier_id": site["supplier"], "lines": [
        {"sku": "JAM-RASP", "quantity": "5", "location": "COLD-01", "lot_code": "WWWWWWWWWWWWWWWWWWWW"}]}).json
    r = operator.get(f"/labels/print?receipt={long['id']}&size=2x1")
    assert r.status_code == 200
    assert "WWWWWWWWWWWWWWWWWWWW" in operator.alerts[0] and "larger label" in operator.alerts[0]
    assert operator.get("/labels/print?receipt=999").status_code == 404
    assert operator.get("/labels/print?run=99999999999999999999").status_code == 404
    assert operator.get("/labels/print?lot=99999999999999999999").status_code == 404
    assert operator.get("/labels/print").status_code == 422


def test_a_production_run_and_a_pick_list_of_lots_print_with_their_quantities(
        api: Api, site: dict, operator: Browser) -> None:
    receipt = receive_two(api, site)
    rasp, jam = (line["lot_id"] for line in receipt["lines"])
    run = api.post("/production-runs", {"sku": "JAM-RASP", "quantity": "400", "location": "KITCHEN",
                                        "inputs": [{"lot_id": rasp, "quantity": "60"}]}).json
    assert operator.get(f"/labels/print?run={run['id']}").status_code == 200
    assert f"Run {run['number']}" in operator.html and "400 ea" in operator.html
    r = operator.get(f"/labels/print?lot={jam}&lot={rasp}&qty=12&qty=7.5")
    assert r.status_code == 200
    assert "12 ea" in operator.html and "7.5 kg" in operator.html
    operator.get(f"/labels/print?lot={jam}&lot={rasp}&qty=12&qty=7.5")
    r = operator.post(f"/labels/print?lot={jam}&lot={rasp}&qty=12&qty=7.5",
                      {"csrf_token": operator.token, "action": "pdf", "pdf_size": "4x6", "pdf_copies": "1"})
    assert r.mimetype == "application/pdf" and len(pdf_pages(r.data)) == 2
    assert operator.get(f"/labels/print?lot={jam}&lot={rasp}&qty=12").status_code == 422
    assert operator.alerts == ["Cannot print. 1 quantities for 2 lots; give one per lot"]
    assert operator.get(f"/labels/print?lot={jam}&qty=a").status_code == 422
    assert operator.alerts == ["Cannot print. Quantity 'a' is not a number"]


def test_viewers_cannot_open_the_print_page(api: Api, site: dict, client: FlaskClient, session: Session) -> None:
    receipt = receive_two(api, site)
    viewer = login(client, session, "vic", Role.VIEWER)
    assert viewer.get(f"/labels/print?receipt={receipt['id']}").status_code == 403


# --- the print button other pages include ------------------------------------------------------


INCLUDE = '{% with target=t, target_id=i %}{% include "labels/_print_button.html" %}{% endwith %}'


@pytest.mark.parametrize(("role", "shown"), [(Role.VIEWER, False), (Role.OPERATOR, True), (Role.MANAGER, True)])
def test_the_print_button_links_to_the_print_page_for_operators(app: Flask, session: Session, role: Role,
                                                                shown: bool) -> None:
    user = make_user(session, f"b-{role.value}", role)
    with app.test_request_context("/"):
        g.user = session.get(User, user.id)
        for target, param in (("lot", "lot"), ("receipt", "receipt"), ("run", "run")):
            rendered = render_template_string(INCLUDE, t=target, i=7).strip()
            if shown:
                assert rendered == f'<a class="button" href="/labels/print?{param}=7">Print labels</a>'
            else:
                assert rendered == ""
        assert render_template_string(INCLUDE, t="order", i=7).strip() == ""


# --- printer settings pages --------------------------------------------------------------------


def test_managers_add_edit_and_test_printers_from_the_settings_page(
        manager: Browser, session: Session, zebra: FakeZebra) -> None:
    assert manager.get("/printers/99999999999999999999").status_code == 404
    assert manager.get("/printers").status_code == 200
    assert ">Printers</a>" in manager.html, "in the menu for managers"
    form = {"csrf_token": manager.token, "name": "Dock Zebra", "host": "127.0.0.1", "port": str(zebra.port),
            "dpi": "203", "default_size": "4x2", "check_status": "true", "active": "true"}
    r = manager.post("/printers", {**form, "host": "127.0.0.1:9100"})
    assert r.status_code == 422
    assert manager.alerts == ["Not added. Host: give the port in its own field, not after the host"]
    r = manager.post("/printers", form)
    assert r.status_code == 302
    manager.get("/printers")
    assert manager.flashes == [("success", "Printer 'Dock Zebra' added. Print a test label to check it.")]
    session.rollback()
    printer = session.scalars(select(LabelPrinter)).one()
    assert (printer.port, printer.default_size, printer.check_status) == (zebra.port, "4x2", True)

    r = manager.post(f"/printers/{printer.id}/test", {"csrf_token": manager.token})
    assert r.status_code == 302
    manager.get("/printers")
    assert manager.flashes == [("success", "Test label sent to printer 'Dock Zebra'.")]
    zebra.wait()
    assert b"Label printer test" in zebra.jobs[0]
    assert "test label" in manager.html, "listed under recent print jobs"

    manager.get(f"/printers/{printer.id}")
    assert manager.field("name") == "Dock Zebra"
    r = manager.post(f"/printers/{printer.id}", {**form, "csrf_token": manager.token, "name": "Dock Zebra 2",
                                                 "dpi": "300", "check_status": ""})
    assert r.status_code == 302
    session.rollback()
    session.refresh(printer)
    assert (printer.name, printer.dpi, printer.check_status) == ("Dock Zebra 2", 300, False)
    r = manager.post(f"/printers/{printer.id}", {**form, "csrf_token": manager.token, "host": ""})
    assert r.status_code == 422 and manager.alerts == ["Not saved. Host must not be blank"]


def test_a_test_print_to_a_dead_printer_shows_red(manager: Browser, session: Session) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    manager.get("/printers")
    manager.post("/printers", {"csrf_token": manager.token, "name": "Gone", "host": "127.0.0.1", "port": str(port),
                               "dpi": "203", "default_size": "4x6", "active": "true"})
    session.rollback()
    printer = session.scalars(select(LabelPrinter)).one()
    manager.get("/printers")
    r = manager.post(f"/printers/{printer.id}/test", {"csrf_token": manager.token})
    assert r.status_code == 302
    manager.get("/printers")
    [(kind, message)] = manager.flashes
    assert kind == "error"
    assert message.startswith(f"Printer 'Gone' at 127.0.0.1:{port} refused the connection")


def test_managers_set_the_default_sizes(manager: Browser, operator: Browser, api: Api) -> None:
    manager.get("/printers")
    r = manager.post("/printers/defaults", {"csrf_token": manager.token, "pdf_size": "letter-30",
                                            "zpl_size": "4x2", "zpl_dpi": "300"})
    assert r.status_code == 302
    settings = api.get("/label-settings").json
    assert (settings["pdf_size"], settings["zpl_size"], settings["zpl_dpi"]) == ("letter-30", "4x2", 300)
    r = manager.post("/printers/defaults", {"csrf_token": manager.token, "pdf_size": "A4", "zpl_size": "4x2",
                                            "zpl_dpi": "300"})
    assert r.status_code == 422
    assert manager.alerts == ["Not saved. PDF size: 'A4' is not a label size or sheet; choose one of 4x6, 4x2, 2x1, "
                              "100x50mm, 62mm, letter-30, a4-21"]


def test_operators_cannot_manage_printers_and_do_not_see_them_in_the_menu(operator: Browser) -> None:
    assert operator.get("/printers").status_code == 403
    assert operator.get("/printers/1").status_code == 403
    operator.get("/")
    assert ">Printers</a>" not in operator.html


# --- GS1 Digital Link ----------------------------------------------------------------------------


def test_the_qr_codes_digital_link_opens_the_lots_page(api: Api, site: dict, operator: Browser) -> None:
    receipt = receive_two(api, site)
    rasp, jam = (line["lot_id"] for line in receipt["lines"])
    # The GS1 form is the public product page; staff get a link to the lot's page on it.
    r = operator.get("/01/09501101530003/10/J1?17=270630")
    assert r.status_code == 200 and f'href="/lots/{jam}"' in r.get_data(as_text=True)
    r = operator.get("/240/RASP/10/R-7%2FA?17=270131")
    assert r.status_code == 302 and r.headers["Location"] == f"/lots/{rasp}"
    assert operator.get("/01/09501101530003/10/NOPE").status_code == 404
    anonymous = api.client.application.test_client()
    r = anonymous.get("/01/09501101530003/10/J1")
    assert r.status_code == 200 and "/lots/" not in r.get_data(as_text=True)
    r = anonymous.get("/240/RASP/10/R-7%2FA")
    assert r.status_code == 302 and "/login" in r.headers["Location"]

"""Handheld pages in a real phone-sized Chromium: wedge scans, photos, the live camera, and offline replays."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Lot, LotStatus, Movement, MovementKind, OrderAllocation, Receipt, Role, ScanEvent
from labels.gs1 import gtin_check_digit, yymmdd
from labels.model import LotLabel
from labels.png import to_png
from tests.helpers.api import TODAY, Api, make_user
from tests.helpers.pages import PASSWORD, count
from tests.helpers.requires import needs_chromium

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
sync_api = pytest.importorskip("playwright.sync_api")
cv2 = pytest.importorskip("cv2")

pytestmark = [pytest.mark.browser, needs_chromium]

SHOTS = Path("/tmp/handheld")
GS = "\x1d"
SUPPLIER_GTIN = "0950600013435" + str(gtin_check_digit("0950600013435"))
EXPIRY = TODAY + timedelta(days=150)
CASE_LABEL = f"]C101{SUPPLIER_GTIN}17{yymmdd(EXPIRY)}10BF-2291{GS}3040"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]


def _phone(extra: list[str]) -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS + extra)
        context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2,
                                      is_mobile=True, has_touch=True)
        yield context
        browser.close()


@pytest.fixture
def phone() -> Iterator[Any]:
    yield from _phone([])


def login(context: Any, live: str, path: str, user: str = "otto") -> Any:
    page = context.new_page()
    page.goto(live + path)
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(live + path)
    page.wait_for_function("document.activeElement && document.activeElement.id === 'hh-scan'")
    return page


def wedge(page: Any, raw: str, end: str = "Enter") -> None:
    """Type a scan the way a keyboard-wedge scanner does: every character, then Enter (or Tab)."""
    assert page.evaluate("document.activeElement.id") == "hh-scan"
    page.keyboard.type(raw)
    page.keyboard.press(end)


def status(page: Any, text: str, kind: str = "ok") -> str:
    box = page.locator("#hh-status")
    sync_api.expect(box).to_contain_text(text)
    sync_api.expect(box).to_have_class(f"hh-status hh-{kind}")
    return str(box.inner_text())


def refusal(page: Any, title: str, detail: str) -> None:
    """A refusal as the handheld shows it: one short line in bold, the full reason below."""
    status(page, detail, "error")
    line = page.locator("#hh-status .hh-title")
    sync_api.expect(line).to_have_text(title)
    assert int(line.evaluate("el => getComputedStyle(el).fontWeight")) >= 700
    sync_api.expect(page.locator("#hh-status .hh-detail")).to_contain_text(detail)


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def focused(page: Any) -> bool:
    page.wait_for_timeout(50)
    return bool(page.evaluate("document.activeElement.id === 'hh-scan'"))


def test_receive_then_produce_driven_by_wedge_scans(live: str, phone: Any, session: Session, site: dict[str, Any],
                                                    api: Api) -> None:
    make_user(session, "otto", Role.OPERATOR)
    page = login(phone, live, "/h/receive")
    shot(page, "receive-empty")

    wedge(page, CASE_LABEL)
    status(page, "Unknown product, lot BF-2291", "error")
    sync_api.expect(page.locator("#rc-gtin")).to_contain_text(f"New GTIN {SUPPLIER_GTIN}")
    assert page.input_value("#rc-lot") == "BF-2291"
    assert page.input_value("#rc-expiry") == EXPIRY.isoformat()
    assert page.input_value("#rc-qty") == "40"
    page.select_option("#rc-product", "RASP")
    status(page, f"GTIN {SUPPLIER_GTIN} is now RASP")
    assert focused(page)
    assert api.get(f"/products/{site['RASP']}").json["gtin"] == SUPPLIER_GTIN

    page.select_option("#rc-supplier", label="Berry Farm")
    page.select_option("#rc-location", "COLD-01")
    shot(page, "receive-filled")
    page.click("#rc-confirm")
    status(page, "Received 40 kg RASP lot BF-2291")
    sync_api.expect(page.locator("#rc-done")).to_be_visible()
    lot_code = page.locator("#rc-done-lot").inner_text()
    href = page.get_attribute("#rc-print", "href")
    assert href and href.startswith("/labels/print?lot=")
    shot(page, "receive-done")
    assert focused(page)

    # The same case again: recognised now by its GTIN, and it tops up the lot it was received as.
    wedge(page, CASE_LABEL, end="Tab")
    status(page, f"Raspberries IQF, lot BF-2291 (tops up lot {lot_code})")
    page.select_option("#rc-supplier", label="Berry Farm")
    page.fill("#rc-qty", "10")
    page.click("#rc-confirm")
    status(page, "Received 10 kg RASP")
    rasp = api.get(f"/lots?sku=RASP&code={lot_code}").json
    assert [(x["on_hand"], x["supplier_lot_code"]) for x in rasp] == [("50", "BF-2291")]

    # A label whose check digit is wrong is refused in words, and nothing is filled in from it.
    wedge(page, f"01{SUPPLIER_GTIN[:-1]}{(int(SUPPLIER_GTIN[-1]) + 1) % 10}10X")
    message = status(page, "Not accepted", "error")
    assert "check digit" in message.lower()
    shot(page, "receive-bad-scan")

    page.goto(f"{live}/h/produce")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'hh-scan'")
    page.select_option("#pr-product", "JAM-RASP")
    page.fill("#pr-qty", "24")
    page.keyboard.press("Enter")
    assert focused(page)
    wedge(page, CASE_LABEL)
    status(page, f"Added RASP lot {lot_code}")
    assert page.locator("#pr-inputs input").input_value() == ""  # without a recipe: never the whole lot
    page.locator("#pr-inputs input").fill("12")
    page.keyboard.press("Enter")  # back to the scan field, as after any edit
    wedge(page, f"(240)RASP(10){lot_code}")
    status(page, f"Lot {lot_code} is already in the list", "error")

    held = api.post("/receipts", {"supplier_id": site["sugar_supplier"], "lines": [
        {"sku": "SUGAR", "quantity": "5", "location": "DRY-01", "lot_code": "SG-HELD"}]}).json["lines"][0]
    assert api.post(f"/lots/{held['lot_id']}/hold", {"reason": "bag torn"}).status_code == 200
    wedge(page, "(240)SUGAR(10)SG-HELD")
    refusal(page, "Lot on hold", "lot SG-HELD is on hold: bag torn")
    shot(page, "produce-inputs")

    page.click("#pr-finish")
    sync_api.expect(page.locator("#pr-done")).to_be_visible()
    jam_code = page.locator("#pr-done-lot").inner_text()
    sync_api.expect(page.locator("#pr-done-expiry")).to_contain_text("Use by ")
    shot(page, "produce-done")
    [jam] = api.get(f"/lots?sku=JAM-RASP&code={jam_code}").json
    assert jam["on_hand"] == "24"
    assert api.get(f"/lots?sku=RASP&code={lot_code}").json[0]["on_hand"] == "38"
    assert count(session, Receipt) == 3
    session.rollback()
    outcomes = session.scalars(select(ScanEvent.outcome).order_by(ScanEvent.id)).all()
    assert outcomes.count("error") == 1 and len(outcomes) == 6


def _label_png(lot_code: str, gtin: str = "09501101530003") -> bytes:
    return to_png(LotLabel(company="Lotwise", product_name="Raspberry jam", sku="JAM-RASP", lot_code=lot_code,
                           base_url="https://lots.example", gtin=gtin, expiry=EXPIRY), size="2x1", dpi=300)


@pytest.fixture
def jam_lot(api: Api, site: dict[str, Any]) -> dict[str, Any]:
    line = api.post("/receipts", {"supplier_id": site["supplier"], "lines": [
        {"sku": "RASP", "quantity": "20", "location": "COLD-01"}]}).json["lines"][0]
    run = api.post("/production-runs", {"sku": "JAM-RASP", "quantity": "12", "location": "DRY-01",
                                         "lot_code": "J7", "expiry": EXPIRY.isoformat(),
                                         "inputs": [{"lot_id": line["lot_id"], "quantity": "5"}]}).json
    return {"id": run["output_lot_id"], "code": "J7"}


def test_a_photo_is_decoded_on_the_server_and_the_lot_can_be_held(live: str, phone: Any, session: Session,
                                                                    jam_lot: dict[str, Any], tmp_path: Path) -> None:
    make_user(session, "otto", Role.OPERATOR)
    photo = tmp_path / "label.png"
    photo.write_bytes(_label_png("J7"))
    page = login(phone, live, "/h/lookup")
    shot(page, "lookup-empty")
    page.set_input_files("#hh-photo", str(photo))
    status(page, "Raspberry jam 340 g, lot J7")
    sync_api.expect(page.locator("#lk-onhand")).to_have_text("12 ea")
    sync_api.expect(page.locator("#lk-from")).to_have_text("made from 1 lot(s)")
    sync_api.expect(page.locator("#lk-stock")).to_contain_text("DRY-01 (MAIN): 12 ea")
    assert page.get_attribute("#lk-link", "href") == f"/lots/{jam_lot['id']}"
    shot(page, "lookup-lot")
    assert focused(page)

    page.click("#lk-hold-open")
    page.fill("#lk-reason", "seal damaged")
    page.click("#lk-hold-confirm")
    status(page, "Lot J7 is on hold")
    sync_api.expect(page.locator("#lk-status")).to_have_text("on hold")
    session.rollback()
    lot = session.get_one(Lot, jam_lot["id"])
    assert (lot.status, lot.hold_reason) == (LotStatus.HOLD, "seal damaged")
    wedge(page, "(01)09501101530003(10)J7")
    refusal(page, "Do not use: Lot on hold", "lot J7 is on hold: seal damaged")
    shot(page, "lookup-held")


def _dark_photo(png: bytes) -> bytes:
    """The label photographed in a dim cold room, out of focus: nothing to read, and too dark."""
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    canvas = np.full((960, 1280, 3), 120, np.uint8)
    scale = min(900 / image.shape[1], 600 / image.shape[0])
    image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    y, x = (960 - image.shape[0]) // 2, (1280 - image.shape[1]) // 2
    canvas[y:y + image.shape[0], x:x + image.shape[1]] = image
    dim = cv2.GaussianBlur(canvas, (0, 0), 9) * 0.15
    ok, jpeg = cv2.imencode(".jpg", dim.astype(np.uint8))
    assert ok
    return bytes(jpeg.tobytes())


def test_a_photo_that_cannot_be_read_says_what_to_do(live: str, phone: Any, session: Session,
                                                     jam_lot: dict[str, Any], tmp_path: Path) -> None:
    make_user(session, "otto", Role.OPERATOR)
    photo = tmp_path / "dark.jpg"
    photo.write_bytes(_dark_photo(_label_png("J7")))
    page = login(phone, live, "/h/lookup")
    page.set_input_files("#hh-photo", str(photo))
    refusal(page, "No barcode read", "The photo is too dark: turn on a light or the phone's torch, then try again.")
    assert focused(page)
    for width in (360, 768, 1280):
        page.set_viewport_size({"width": width, "height": 740})
        shot(page, f"lookup-photo-hint-{width}")
    # The next, good photo reads as usual.
    good = tmp_path / "label.png"
    good.write_bytes(_label_png("J7"))
    page.set_input_files("#hh-photo", str(good))
    status(page, "Raspberry jam 340 g, lot J7")


def test_the_camera_sends_the_sharper_frames(live: str, phone: Any, session: Session, site: dict[str, Any]) -> None:
    make_user(session, "otto", Role.OPERATOR)
    page = login(phone, live, "/h/lookup")
    url = page.evaluate("[...document.scripts].map((s) => s.src).find((src) => src.endsWith('lookup.js'))")
    result = page.evaluate("""async (url) => {
        const scan = await import(url.replace("lookup.js", "scan.js"));
        const canvas = document.createElement("canvas");
        canvas.width = 64; canvas.height = 48;
        const ctx = canvas.getContext("2d", { willReadFrequently: true });
        ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, 64, 48);
        ctx.fillStyle = "#000";
        for (let x = 4; x < 60; x += 6) ctx.fillRect(x, 8, 3, 32);
        const sharp = scan.sharpness(ctx, 64, 48);
        ctx.filter = "blur(3px)"; ctx.drawImage(canvas, 0, 0); ctx.filter = "none";
        const blurred = scan.sharpness(ctx, 64, 48);
        const picker = new scan.FramePicker(3);
        const sent = [10, 4, 3, 5, 9, 2, 6, 3, 1].map((s) => (picker.offer({ sharpness: s }) || {}).sharpness ?? null);
        return { sharp, blurred, sent };
    }""", url)
    assert result["sharp"] > 5 * result["blurred"] > 0
    # The first frame goes; blurrier ones wait; a sharp one goes at once; after three waits the
    # sharpest of those kept goes.
    assert result["sent"] == [10, None, None, None, 9, None, None, None, 6]


def _y4m(png: bytes, path: Path, frames: int = 20) -> None:
    """A raw 640×480 video of the label, as Chromium's fake camera plays it."""
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    canvas = np.full((480, 640, 3), 255, np.uint8)
    scale = min(600 / image.shape[1], 440 / image.shape[0])
    image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    y, x = (480 - image.shape[0]) // 2, (640 - image.shape[1]) // 2
    canvas[y:y + image.shape[0], x:x + image.shape[1]] = image
    i420 = cv2.cvtColor(canvas, cv2.COLOR_BGR2YUV_I420).tobytes()
    with path.open("wb") as fh:
        fh.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        for _ in range(frames):
            fh.write(b"FRAME\n" + i420)


def test_the_live_camera_reads_a_label_through_the_server(live: str, session: Session, jam_lot: dict[str, Any],
                                                          tmp_path: Path) -> None:
    make_user(session, "otto", Role.OPERATOR)
    video = tmp_path / "label.y4m"
    _y4m(_label_png("J7"), video)
    for context in _phone(["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                           f"--use-file-for-fake-video-capture={video}"]):
        context.grant_permissions(["camera"], origin=live)
        page = login(context, live, "/h/lookup")
        assert page.evaluate("'BarcodeDetector' in window") is False  # so this proves the server path
        page.click("#hh-camera")
        status(page, "Raspberry jam 340 g, lot J7")
        sync_api.expect(page.locator("#hh-video")).to_be_hidden()
        assert focused(page)
        shot(page, "lookup-camera")


def test_offline_receipt_is_queued_then_booked_exactly_once(live: str, phone: Any, session: Session,
                                                            site: dict[str, Any], api: Api) -> None:
    make_user(session, "otto", Role.OPERATOR)
    page = login(phone, live, "/h/receive")
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    phone.set_offline(True)
    sync_api.expect(page.locator("#hh-net")).to_contain_text("offline")
    wedge(page, f"(240)SUGAR(10)SC-88(17){yymmdd(EXPIRY)}(30)25")
    status(page, "Cane sugar, lot SC-88 — read offline")
    page.select_option("#rc-supplier", label="Sugar Co")
    page.select_option("#rc-location", "DRY-01")
    page.click("#rc-confirm")
    status(page, "No connection: 25 kg SUGAR lot SC-88 will be sent when it returns", "info")
    sync_api.expect(page.locator("#hh-outbox")).to_contain_text("25 kg SUGAR lot SC-88 — pending")
    sync_api.expect(page.locator("#hh-net")).to_contain_text("1 pending")
    shot(page, "receive-offline")
    assert count(session, Receipt) == 0
    [queued] = page.evaluate("import('/static/handheld/outbox.js').then((o) => o.pending())")

    # The page itself still opens without a network, from the service worker's cache.
    offline_page = phone.new_page()
    offline_page.goto(f"{live}/h/receive")
    sync_api.expect(offline_page.locator("h1")).to_have_text("Receive")
    offline_page.close()

    phone.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    status(page, "Received 25 kg SUGAR lot SC-88")
    sync_api.expect(page.locator("#hh-outbox")).to_be_hidden()
    # Sent again with its key (as after an answer lost on the way back), it books nothing more.
    replay = page.evaluate("""async (item) => {
        const r = await fetch(item.url, {method: 'POST', headers: {'Content-Type': 'application/json',
            'X-CSRFToken': document.querySelector('meta[name=csrf-token]').content,
            'Idempotency-Key': item.key}, body: JSON.stringify(item.body)});
        return [r.status, (await r.json()).number];
    }""", queued)
    assert replay == [201, "R-000001"]
    lots = api.get("/lots?sku=SUGAR").json
    assert [(x["supplier_lot_code"], x["on_hand"], x["expiry"]) for x in lots] == [("SC-88", "25", EXPIRY.isoformat())]
    assert count(session, Receipt) == 1


def test_picking_an_order_by_scans_refuses_the_wrong_lot_and_ships(live: str, phone: Any, session: Session,
                                                                   jam_lot: dict[str, Any], site: dict[str, Any],
                                                                   api: Api) -> None:
    make_user(session, "otto", Role.OPERATOR)
    other = api.post("/production-runs", {"sku": "JAM-RASP", "quantity": "5", "location": "COLD-01",
                                          "lot_code": "J8", "expiry": (EXPIRY + timedelta(days=30)).isoformat(),
                                          "inputs": [{"sku": "RASP", "lot_code": api.get("/lots?sku=RASP").json[0]
                                                      ["code"], "quantity": "1"}]})
    assert other.status_code == 201, other.json
    order = api.post("/orders", {"customer_id": site["deli"], "warehouse": "MAIN", "ship_date": TODAY.isoformat(),
                                 "lines": [{"sku": "JAM-RASP", "quantity": "4"}]}).json
    assert api.post(f"/orders/{order['id']}/allocate").status_code == 200
    page = login(phone, live, "/h/pick")
    wedge(page, order["number"])
    status(page, f"Order {order['number']}")
    sync_api.expect(page.locator("#pk-location")).to_have_text("DRY-01")
    sync_api.expect(page.locator("#pk-lot")).to_have_text("JAM-RASP lot J7")
    sync_api.expect(page.locator("#pk-qty")).to_have_text("4 ea")
    shot(page, "pick-next")
    wedge(page, "(01)09501101530003(10)J8")
    refusal(page, "Wrong lot: pick J7", "take lot J7 at DRY-01")
    assert len(page.locator("#hh-status .hh-title").inner_text().split()) <= 8
    shot(page, "pick-refused")
    station_shot(page, "pick-refused")
    wedge(page, "(01)09501101530003(10)J7")
    status(page, "picked 4 ea of lot J7")
    sync_api.expect(page.locator("#pk-ship")).to_be_visible()
    page.click("#pk-ship")
    status(page, f"Shipped {order['number']}")
    shot(page, "pick-shipped")
    assert api.get(f"/orders/{order['id']}").json["status"] == "shipped"
    assert api.get(f"/lots/{jam_lot['id']}").json["on_hand"] == "8"


def _allocated_order(api: Api, site: dict[str, Any], quantity: str = "4") -> dict[str, Any]:
    order = api.post("/orders", {"customer_id": site["deli"], "warehouse": "MAIN", "ship_date": TODAY.isoformat(),
                                 "lines": [{"sku": "JAM-RASP", "quantity": quantity}]}).json
    assert api.post(f"/orders/{order['id']}/allocate").status_code == 200
    return order


def _picked(session: Session, order_id: int) -> list[tuple[str, str]]:
    session.rollback()
    rows = session.execute(select(Lot.code, OrderAllocation.picked_quantity).join(Lot, OrderAllocation.lot_id == Lot.id)
                           .where(OrderAllocation.picked_quantity > 0)).all()
    return [(code, f"{picked.normalize():f}") for code, picked in rows]


def _open_offline(phone: Any, page: Any, order: dict[str, Any]) -> None:
    """Store the order's list on the device online, then reopen the page and the order without a network."""
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.select_option("#pk-order", str(order["id"]))
    sync_api.expect(page.locator("#pk-lot")).to_have_text("JAM-RASP lot J7")
    sync_api.expect(page.locator("#pk-stored")).to_contain_text("1 pick list(s) on this device")
    phone.set_offline(True)
    page.reload()
    page.wait_for_function("document.activeElement && document.activeElement.id === 'hh-scan'")
    sync_api.expect(page.locator(f"#pk-order option[value='{order['id']}']")).to_contain_text("on device")
    page.select_option("#pk-order", str(order["id"]))
    status(page, f"No connection: order {order['number']} as saved", "info")
    sync_api.expect(page.locator("#pk-offline")).to_contain_text("From this device, saved")
    sync_api.expect(page.locator("#pk-location")).to_have_text("DRY-01")


REPLAY = """async (item) => {
    const r = await fetch(item.url, {method: 'POST', headers: {'Content-Type': 'application/json',
        'X-CSRFToken': document.querySelector('meta[name=csrf-token]').content,
        'Idempotency-Key': item.key}, body: JSON.stringify(item.body)});
    return [r.status, (await r.json()).message];
}"""


def test_offline_pick_is_checked_on_the_device_then_booked_exactly_once(live: str, phone: Any, session: Session,
                                                                       jam_lot: dict[str, Any],
                                                                       site: dict[str, Any], api: Api) -> None:
    make_user(session, "otto", Role.OPERATOR)
    order = _allocated_order(api, site)
    page = login(phone, live, "/h/pick")
    _open_offline(phone, page, order)

    # Checked against the stored list at once: a lot not on it is refused with the reason.
    wedge(page, "(01)09501101530003(10)J9")
    status(page, f"Refused: lot J9 is not on the pick list of order {order['number']}; take lot J7 at DRY-01",
           "error")
    wedge(page, "(01)09501101530003(10)J7")
    status(page, f"Saved, will be sent: pick of 4 ea JAM-RASP lot J7 from DRY-01 for {order['number']}", "saved")
    sync_api.expect(page.locator("#hh-outbox")).to_contain_text("lot J7 from DRY-01")
    sync_api.expect(page.locator("#pk-progress")).to_have_text("1 of 1 picks done")
    sync_api.expect(page.locator("#pk-ship")).to_be_hidden()  # nothing ships before the pick is booked
    shot(page, "pick-offline-saved")
    wedge(page, "(01)09501101530003(10)J7")
    status(page, f"Refused: lot J7 is already picked in full for order {order['number']}", "error")
    [queued] = page.evaluate("import('/static/handheld/outbox.js').then((o) => o.pending())")
    assert _picked(session, order["id"]) == []

    phone.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    status(page, "Sent: picked 4 ea of lot J7")
    sync_api.expect(page.locator("#hh-outbox")).to_be_hidden()
    sync_api.expect(page.locator("#pk-ship")).to_be_visible()
    # The same pick sent again with its key (an answer lost on the way back) gets the first answer and
    # books nothing more.
    assert page.evaluate(REPLAY, queued) == [200, f"picked 4 ea of lot J7 for order {order['number']}"]
    assert _picked(session, order["id"]) == [("J7", "4")]

    page.click("#pk-ship")
    status(page, f"Shipped {order['number']}")
    session.rollback()
    out = session.scalars(select(Movement.quantity).where(Movement.lot_id == jam_lot["id"],
                                                          Movement.kind == MovementKind.SHIP)).all()
    assert [f"{q.normalize():f}" for q in out] == ["-4"]
    assert api.get(f"/lots/{jam_lot['id']}").json["on_hand"] == "8"
    sync_api.expect(page.locator("#pk-conflicts")).to_be_hidden()


def test_an_offline_pick_of_a_lot_held_meanwhile_comes_back_as_a_conflict(live: str, phone: Any, session: Session,
                                                                         jam_lot: dict[str, Any],
                                                                         site: dict[str, Any], api: Api) -> None:
    make_user(session, "otto", Role.OPERATOR)
    run = api.post("/production-runs", {"sku": "JAM-RASP", "quantity": "5", "location": "DRY-01",
                                        "lot_code": "J8", "expiry": (EXPIRY + timedelta(days=30)).isoformat(),
                                        "inputs": [{"sku": "RASP", "lot_code": api.get("/lots?sku=RASP").json[0]
                                                    ["code"], "quantity": "1"}]})
    assert run.status_code == 201, run.json
    order = _allocated_order(api, site)
    page = login(phone, live, "/h/pick")
    _open_offline(phone, page, order)
    wedge(page, "(01)09501101530003(10)J7")
    status(page, "Saved, will be sent: pick of 4 ea JAM-RASP lot J7", "saved")

    # While the handheld is offline, QA puts the lot on hold: its allocation moves to lot J8.
    assert api.post(f"/lots/{jam_lot['id']}/hold", {"reason": "seal damaged"}).status_code == 200
    phone.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    status(page, "Conflict: pick of 4 ea JAM-RASP lot J7 from DRY-01", "error")
    conflicts = page.locator("#pk-conflicts")
    sync_api.expect(conflicts).to_contain_text("on hold: seal damaged")
    sync_api.expect(conflicts).to_contain_text("Put the lot back at DRY-01, then pick what the list shows next.")
    sync_api.expect(page.locator("#pk-lot")).to_have_text("JAM-RASP lot J8")
    sync_api.expect(page.locator("#hh-outbox")).to_be_hidden()
    shot(page, "pick-offline-conflict")
    assert _picked(session, order["id"]) == []

    # The conflict stays on the device until the picker has put the lot back.
    page.reload()
    sync_api.expect(conflicts).to_contain_text("seal damaged")
    page.click("#pk-conflicts button")
    sync_api.expect(conflicts).to_be_hidden()
    page.select_option("#pk-order", str(order["id"]))
    sync_api.expect(page.locator("#pk-lot")).to_have_text("JAM-RASP lot J8")
    wedge(page, "(01)09501101530003(10)J8")
    status(page, "picked 4 ea of lot J8")
    assert _picked(session, order["id"]) == [("J8", "4")]


CACHE_NAMES = "caches.keys().then((keys) => keys.filter((k) => k.startsWith('lotwise-handheld-')))"
CONTROLLER = "navigator.serviceWorker.controller && navigator.serviceWorker.controller.scriptURL"


def settles(page: Any, script: str, expected: Any, tries: int = 100) -> None:
    """Wait until the page's `script` gives `expected` (the service worker installs in the background)."""
    seen = None
    for _ in range(tries):
        seen = page.evaluate(script)
        if seen == expected:
            return
        page.wait_for_timeout(100)
    assert seen == expected


def test_a_new_build_takes_over_the_handheld_at_the_next_page_load(live: str, phone: Any, session: Session,
                                                                   app: Flask) -> None:
    make_user(session, "otto", Role.OPERATOR)
    old = app.config["BUILD_VERSION"]
    page = login(phone, live, "/h/lookup")
    sync_api.expect(page.locator("#hh-version")).to_have_text(old)
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    settles(page, CACHE_NAMES, [f"lotwise-handheld-{old}"])

    app.config["BUILD_VERSION"] = "9.9.9-0123456789ab"
    page.reload()
    sync_api.expect(page.locator("#hh-version")).to_have_text("9.9.9-0123456789ab")
    settles(page, CACHE_NAMES, ["lotwise-handheld-9.9.9-0123456789ab"])
    settles(page, CONTROLLER, f"{live}/h/sw.js?v=9.9.9-0123456789ab")
    # The new cache holds this build's files, and the pages still open offline from it.
    assert page.evaluate("caches.open('lotwise-handheld-9.9.9-0123456789ab')"
                         ".then((c) => c.match('/static/handheld/pick.js')).then((r) => Boolean(r))")
    phone.set_offline(True)
    page.reload()
    sync_api.expect(page.locator("h1")).to_have_text("Lookup")
    shot(page, "sw-upgraded")


RECIPE_SHOTS = Path("/tmp/shots-recipes")


def test_a_recipe_batch_is_scanned_with_quantities_from_the_recipe(live: str, phone: Any, session: Session,
                                                                   site: dict[str, Any], api: Api) -> None:
    # 100 jars a batch: 0.2 kg raspberries a jar, 10 kg sugar a batch, 30 of labour a batch.
    assert api.put("/products/JAM-RASP/recipe", {
        "batch_quantity": "100", "run_cost": "30",
        "inputs": [{"sku": "RASP", "quantity": "0.2", "basis": "per_unit"},
                   {"sku": "SUGAR", "quantity": "10", "basis": "per_batch"}]}).status_code == 200
    soon, later = (TODAY + timedelta(days=20)).isoformat(), (TODAY + timedelta(days=60)).isoformat()
    for sku, qty, code, expiry, where in (("RASP", "347.741", "R-BIG", later, "COLD-01"),
                                          ("RASP", "5", "R-END", soon, "COLD-01"),
                                          ("SUGAR", "775", "S-BAG", None, "DRY-01")):
        line = {"sku": sku, "quantity": qty, "location": where, "lot_code": code, "unit_cost": "2"}
        supplier = site["sugar_supplier"] if sku == "SUGAR" else site["supplier"]
        body = {"supplier_id": supplier, "lines": [{**line, **({"expiry": expiry} if expiry else {})}]}
        assert api.post("/receipts", body).status_code == 201
    make_user(session, "otto", Role.OPERATOR)
    page = login(phone, live, "/h/produce")
    page.select_option("#pr-product", "JAM-RASP")
    page.fill("#pr-qty", "100")
    page.keyboard.press("Enter")
    status(page, "Recipe for 100 ea: scan RASP, SUGAR", "info")
    needs = page.locator("#pr-needs li")
    sync_api.expect(needs.nth(0)).to_contain_text("planned 20 kg · scanned 0 kg")
    sync_api.expect(needs.nth(0)).to_contain_text("still 20 kg")
    # First expiry first: the 5 kg lot, then the big one.
    sync_api.expect(needs.nth(0)).to_contain_text("take lot R-END (COLD-01")
    sync_api.expect(needs.nth(0)).to_contain_text("then lot R-BIG")
    sync_api.expect(needs.nth(1)).to_contain_text("still 10 kg")
    RECIPE_SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(RECIPE_SHOTS / "produce-recipe-planned.png"), full_page=True)

    wedge(page, "(240)RASP(10)R-END")
    status(page, "Added RASP lot R-END: 5 kg")
    wedge(page, "(240)RASP(10)R-BIG")
    status(page, "Added RASP lot R-BIG: 15 kg")  # what the recipe still needs, not the lot's 347.741 kg
    wedge(page, "(240)SUGAR(10)S-BAG")
    status(page, "Added SUGAR lot S-BAG: 10 kg")
    quantities = page.locator("#pr-inputs input")
    assert [quantities.nth(i).input_value() for i in range(3)] == ["5", "15", "10"]
    sync_api.expect(needs.nth(0)).to_contain_text("done")
    # The operator used a little more sugar than planned, and the batch made 96 jars.
    quantities.nth(2).fill("11")
    page.keyboard.press("Enter")
    sync_api.expect(needs.nth(1)).to_contain_text("planned 10 kg · scanned 11 kg")
    sync_api.expect(needs.nth(1)).to_contain_text("done, 1 kg over")
    page.fill("#pr-made", "96")
    page.screenshot(path=str(RECIPE_SHOTS / "produce-recipe-scanned.png"), full_page=True)

    page.click("#pr-finish")
    sync_api.expect(page.locator("#pr-done")).to_be_visible()
    status(page, "(yield 96 %)")
    page.screenshot(path=str(RECIPE_SHOTS / "produce-recipe-done.png"), full_page=True)
    [run] = api.get("/production-runs").json
    assert (run["planned_quantity"], run["output_quantity"], run["yield_pct"], run["extra_cost"]) == (
        "100", "96", "96", "30")
    assert [(p["sku"], p["planned"], p["actual"]) for p in run["plan"]] == [("RASP", "20", "20"),
                                                                           ("SUGAR", "10", "11")]
    assert [(x["lot_code"], x["quantity"]) for x in run["inputs"]] == [("R-END", "5"), ("R-BIG", "15"),
                                                                       ("S-BAG", "11")]
    assert api.get("/lots?sku=RASP&code=R-BIG").json[0]["on_hand"] == "332.741"


STATION_SHOTS = Path("/tmp/shots-stations")


def station_shot(page: Any, name: str) -> None:
    STATION_SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(STATION_SHOTS / f"{name}.png"), full_page=True)


def open_menu(context: Any, live: str, user: str = "otto") -> Any:
    page = context.new_page()
    page.goto(live + "/h/")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(live + "/h/")
    sync_api.expect(page.locator(".hh-tile").first).to_be_visible()
    return page


def tile_boxes(page: Any) -> list[dict[str, float]]:
    return [page.locator(".hh-tile").nth(i).bounding_box() for i in range(page.locator(".hh-tile").count())]


def test_the_menu_is_four_big_buttons_one_column_on_a_phone_two_from_480(live: str, phone: Any, session: Session,
                                                                       site: dict[str, Any]) -> None:
    make_user(session, "otto", Role.OPERATOR)
    page = open_menu(phone, live)
    sync_api.expect(page.locator(".hh-tile")).to_have_text(["Receive", "Produce", "Pick", "Look up"])
    menu = page.locator(".hh-menu").bounding_box()
    boxes = tile_boxes(page)
    assert len(boxes) == 4
    for box in boxes:
        assert box["height"] >= 48
        assert abs(box["x"] - menu["x"]) < 1 and abs(box["width"] - menu["width"]) < 1  # full width
    assert [b["y"] for b in boxes] == sorted(b["y"] for b in boxes) and len({b["y"] for b in boxes}) == 4
    station_shot(page, "menu-360")
    page.set_viewport_size({"width": 480, "height": 800})
    page.wait_for_timeout(100)
    boxes = tile_boxes(page)
    menu = page.locator(".hh-menu").bounding_box()
    assert boxes[0]["y"] == boxes[1]["y"] and boxes[2]["y"] == boxes[3]["y"] and boxes[2]["y"] > boxes[0]["y"]
    assert all(b["height"] >= 48 and b["width"] < menu["width"] / 2 + 1 for b in boxes)
    station_shot(page, "menu-480")


def test_a_station_chosen_once_on_the_menu_sets_where_receive_starts(live: str, phone: Any, session: Session,
                                                                     site: dict[str, Any], api: Api) -> None:
    make_user(session, "otto", Role.OPERATOR)
    assert api.post("/stations", {"code": "DOCK-1", "name": "Goods-in dock", "kind": "dock",
                                  "receiving_location": "DRY-01", "production_location": "KITCHEN"}).status_code == 201
    page = open_menu(phone, live)
    sync_api.expect(page.locator("#hh-station")).to_have_text("no station")
    # Without a station Receive starts at the receiving location, not at the first location (a freezer).
    page.click(".hh-tile:has-text('Receive')")
    page.wait_for_url(live + "/h/receive")
    assert page.input_value("#rc-location") == "RCV"
    page.click(".hh-home")
    page.wait_for_url(live + "/h/")
    page.select_option("#hh-station-choice", "DOCK-1")
    sync_api.expect(page.locator("#hh-station")).to_have_text("DOCK-1")
    sync_api.expect(page.locator("#hh-station-note")).to_contain_text("Receive into DRY-01")
    station_shot(page, "menu-station")
    page.click(".hh-tile:has-text('Receive')")
    page.wait_for_url(live + "/h/receive")
    sync_api.expect(page.locator("#hh-station")).to_have_text("DOCK-1")
    assert page.input_value("#rc-location") == "DRY-01"
    assert page.get_attribute("#hh-scan", "inputmode") == "none"
    station_shot(page, "receive-station")
    # The device remembers its station: a new visit starts from it too.
    page.goto(live + "/h/produce")
    assert page.input_value("#pr-location") == "KITCHEN"
    sync_api.expect(page.locator("#hh-station")).to_have_text("DOCK-1")
    # "Type" turns the on-screen keyboard on for a code typed by hand.
    page.click("#hh-type")
    assert page.get_attribute("#hh-scan", "inputmode") == "text"
    assert focused(page)


def test_lookup_of_a_code_two_products_share_lists_both_to_choose_from(live: str, phone: Any, session: Session,
                                                                       site: dict[str, Any], api: Api) -> None:
    make_user(session, "otto", Role.OPERATOR)
    for sku, location in (("RASP", "COLD-01"), ("SUGAR", "DRY-01")):
        r = api.post("/receipts", {"supplier_id": site["supplier"], "lines": [
            {"sku": sku, "quantity": "7", "location": location, "lot_code": "261123-A"}]})
        assert r.status_code == 201, r.json
    page = login(phone, live, "/h/lookup")
    wedge(page, "261123-A")
    status(page, "Several products share this code", "info")
    choices = page.locator("#lk-choices button")
    sync_api.expect(choices).to_have_count(2)
    sync_api.expect(choices.nth(0)).to_contain_text("RASP · Raspberries IQF")
    sync_api.expect(choices.nth(1)).to_contain_text("Lot 261123-A")
    sync_api.expect(choices.nth(1)).to_contain_text("7 kg on hand")
    station_shot(page, "lookup-choices")
    choices.nth(1).click()
    sync_api.expect(page.locator("#lk-product")).to_have_text("SUGAR · Cane sugar")
    sync_api.expect(page.locator("#lookup-choices")).to_be_hidden()


def test_a_station_lists_the_orders_of_its_own_warehouse_first_on_pick(live: str, phone: Any, session: Session,
                                                                      site: dict[str, Any], api: Api) -> None:
    make_user(session, "otto", Role.OPERATOR)
    assert api.post("/warehouses", {"code": "DEPOT", "name": "Second depot"}).status_code == 201
    assert api.post("/locations", {"code": "D-SHIP", "name": "Depot dispatch", "kind": "shipping",
                                   "warehouse": "DEPOT"}).status_code == 201
    assert api.post("/stations", {"code": "DISPATCH-2", "name": "Depot dispatch", "kind": "dispatch",
                                  "shipping_location": "D-SHIP"}).status_code == 201
    main = api.post("/orders", {"customer_id": site["deli"], "warehouse": "MAIN", "ship_date": TODAY.isoformat(),
                                "lines": [{"sku": "JAM-RASP", "quantity": "1"}]}).json
    depot = api.post("/orders", {"customer_id": site["deli"], "warehouse": "DEPOT",
                                 "ship_date": (TODAY + timedelta(days=1)).isoformat(),
                                 "lines": [{"sku": "JAM-RASP", "quantity": "1"}]}).json
    page = open_menu(phone, live)
    page.select_option("#hh-station-choice", "DISPATCH-2")
    page.click(".hh-tile:has-text('Pick')")
    page.wait_for_url(live + "/h/pick")
    groups = page.eval_on_selector_all("#pk-order optgroup", """gs => gs.map(g => [g.label,
        [...g.querySelectorAll('option')].map(o => o.textContent.split(' · ')[0])])""")
    # The order shipping later but from the station's own depot comes first.
    assert groups == [["DEPOT · DISPATCH-2", [depot["number"]]], ["Other warehouses", [main["number"]]]]
    station_shot(page, "pick-station")

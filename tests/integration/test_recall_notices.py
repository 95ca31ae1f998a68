"""Recall notices: prepared when a recall opens, sent by the worker to a local SMTP server, refused and timed-out
sends kept for a retry, consignees answering through their personal links, letters, and the effectiveness."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pypdfium2 as pdfium
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app import worker as work
from app.adapters.mail import SmtpServer
from app.models import NoticeStatus, RecallNotice, RecallResponse, Role
from app.services import notices as svc
from tests.helpers.api import Api
from tests.helpers.pages import Browser, Page, user
from tests.helpers.recall_case import Case, build
from tests.helpers.smtp_sink import SilentServer, SmtpSink

D = Decimal
DELI, FARM = "dev@deli.example", "flo@farm.example"


@pytest.fixture
def case(api: Api, site: dict[str, Any], session: Session) -> Case:
    return build(api, site, session)


@pytest.fixture
def sink(app: Flask) -> Any:
    with SmtpSink() as s:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=s.port, SMTP_FROM="recalls@jam.example",
                          COMPANY_NAME="Jam Co", COMPANY_CONTACT="+44 1632 960999", BASE_URL="https://lots.example")
        yield s


@pytest.fixture
def manager(client: FlaskClient, session: Session) -> Browser:
    return user(client, session, "mona", Role.MANAGER)


def _open(api: Api) -> int:
    r = api.post("/recalls", {"lots": [{"sku": "JAM-RASP", "lot_code": "J1"}], "reason": "glass fragment"})
    assert r.status_code == 201, r.json
    return int(r.json["id"])


def _settings(app: Flask, **kw: Any) -> work.Settings:
    settings = work.Settings.from_config(app.config)
    if kw:
        assert settings.server is not None
        settings = replace(settings, server=replace(settings.server, **kw))
    return settings


def _run(app: Flask, settings: work.Settings | None = None, at: Any = None) -> int:
    factory = app.extensions["lotwise.sessions"]
    return work.run_once(factory, settings or _settings(app), now=(lambda: at) if at else clock.now)


def _statuses(session: Session, recall_id: int) -> dict[str, str]:
    session.rollback()
    rows = session.scalars(select(RecallNotice).where(RecallNotice.recall_id == recall_id))
    return {n.customer.name: n.status.value for n in rows}


def _send(manager: Browser, recall_id: int, customer_id: int | None = None) -> Page:
    data = {"csrf_token": manager.csrf()}
    if customer_id:
        data["customer_id"] = str(customer_id)
    return manager.post(f"/recalls/{recall_id}/notices/send", data, follow=True)


def _link(body: str) -> str:
    m = re.search(r"https://lots\.example(/answer/[A-Za-z0-9_-]+)", body)
    assert m, body
    return m.group(1)


def test_opening_a_recall_prepares_a_notice_per_consignee_and_the_worker_sends_them(
        app: Flask, api: Api, case: Case, session: Session, sink: SmtpSink, manager: Browser) -> None:
    recall_id = _open(api)
    assert _statuses(session, recall_id) == {"Big Box": "prepared", "Corner Deli": "prepared",
                                             "Farm Shop": "prepared"}
    page = manager.get(f"/recalls/{recall_id}")
    assert "3 notice(s): 3 prepared, 0 queued, 0 sending, 0 sent" in page.text
    assert "1 without e-mail (print a letter)" in page.text

    page = _send(manager, recall_id)
    assert page.flashes == ["2 notice(s) queued for sending. No e-mail address (print a letter): Big Box."]
    assert sink.messages == []  # the web request only queued them
    assert _run(app) == 2
    assert _statuses(session, recall_id) == {"Big Box": "prepared", "Corner Deli": "sent", "Farm Shop": "sent"}

    mails = {m.recipients[0]: m for m in sink.messages}
    assert set(mails) == {DELI, FARM}
    deli = mails[DELI]
    assert deli.message["From"] == "recalls@jam.example"
    assert deli.message["Subject"].startswith("RECALL RC-")
    body = deli.body
    assert "Raspberry jam 340 g (JAM-RASP), lot J1: 100 ea" in body
    assert "Jam gift box (GIFT), lot GB1: 10 ea" in body
    assert "Questions: +44 1632 960999" in body
    assert "Farm Shop" not in body and "Big Box" not in body  # a consignee sees only its own deliveries
    assert _link(body) != _link(mails[FARM].body)

    page = manager.get(f"/recalls/{recall_id}")
    assert "3 notice(s): 1 prepared, 0 queued, 0 sending, 2 sent" in page.text
    detail = api.get(f"/recalls/{recall_id}").json
    assert detail["effectiveness"]["notified"] == 2
    assert detail["effectiveness"]["not_notified"] == ["Big Box"]
    assert _run(app) == 0  # nothing sent twice


def test_a_refusing_server_is_recorded_and_a_resend_delivers(
        app: Flask, api: Api, case: Case, session: Session, sink: SmtpSink, manager: Browser) -> None:
    recall_id = _open(api)
    sink.refuse.add(FARM)
    _send(manager, recall_id)
    _run(app)
    assert _statuses(session, recall_id)["Farm Shop"] == "refused"
    page = manager.get(f"/recalls/{recall_id}")
    assert "550 5.1.1 no such mailbox" in page.text
    assert _run(app) == 0  # a refusal is not retried by itself

    sink.refuse.clear()
    page = _send(manager, recall_id, case.farm)
    assert page.flashes == ["1 notice(s) queued for sending."]
    _run(app)
    assert _statuses(session, recall_id)["Farm Shop"] == "sent"
    assert [m.recipients for m in sink.messages] == [[DELI], [FARM]]


def test_a_server_that_times_out_or_is_down_keeps_the_notices_for_a_retry(
        app: Flask, api: Api, case: Case, session: Session, sink: SmtpSink, manager: Browser) -> None:
    recall_id = _open(api)
    _send(manager, recall_id)
    with SilentServer() as silent:
        assert _run(app, _settings(app, port=silent.port, timeout=0.3)) == 2
    session.rollback()
    notices = list(session.scalars(select(RecallNotice).where(RecallNotice.status == NoticeStatus.QUEUED)))
    assert len(notices) == 2
    assert all("no answer from 127.0.0.1" in (n.last_error or "") for n in notices)
    retry_at = min(n.next_attempt_at for n in notices if n.next_attempt_at)
    assert retry_at > clock.now()
    assert _run(app) == 0  # not due yet: the retry waits

    # A server that is not there at all: a temporary failure too, retried later with a longer wait.
    closed = SmtpServer("127.0.0.1", 9, "", "", "x@y", False, 1.0)
    later = retry_at + timedelta(seconds=1)
    assert _run(app, replace(_settings(app), server=closed), at=later) == 2
    session.rollback()
    assert {n.status for n in session.scalars(select(RecallNotice).where(RecallNotice.email.is_not(None)))} == {
        NoticeStatus.QUEUED}

    # Then the server answers again: everything goes out, nothing was lost.
    assert _run(app, at=later + timedelta(hours=1)) == 2
    assert sorted(m.recipients[0] for m in sink.messages) == [DELI, FARM]
    assert _statuses(session, recall_id) == {"Big Box": "prepared", "Corner Deli": "sent", "Farm Shop": "sent"}


def test_after_five_failures_a_notice_fails_and_a_manager_can_send_it_again(
        app: Flask, api: Api, case: Case, session: Session, sink: SmtpSink, manager: Browser) -> None:
    recall_id = _open(api)
    sink.defer.add(FARM)
    _send(manager, recall_id, case.farm)
    at = clock.now()
    for _ in range(svc.MAX_ATTEMPTS):
        at += timedelta(hours=1)
        assert _run(app, at=at) == 1
    assert _statuses(session, recall_id)["Farm Shop"] == "failed"
    assert "gave up after 5 attempts: 451 4.3.0 try again later" in manager.get(f"/recalls/{recall_id}").text
    sink.defer.clear()
    _send(manager, recall_id, case.farm)
    _run(app)
    assert _statuses(session, recall_id)["Farm Shop"] == "sent"


def test_notices_a_dead_worker_claimed_are_sent_once_its_lease_runs_out(
        app: Flask, api: Api, case: Case, session: Session, sink: SmtpSink, manager: Browser) -> None:
    recall_id = _open(api)
    _send(manager, recall_id)
    factory = app.extensions["lotwise.sessions"]
    with factory() as s:
        claimed = svc.claim(s, clock.now())  # ... and the worker dies before sending
    assert len(claimed) == 2
    assert _run(app) == 0  # still leased
    assert _run(app, at=clock.now() + svc.LEASE + timedelta(seconds=1)) == 2
    assert len(sink.messages) == 2
    assert set(_statuses(session, recall_id).values()) == {"prepared", "sent"}


def _d(values: dict[str, str]) -> dict[str, Decimal]:
    return {k: D(v) for k, v in values.items()}


def _answer_page(client: FlaskClient, path: str) -> tuple[Browser, Page]:
    anonymous = Browser(client.application.test_client())
    return anonymous, anonymous.get(path)


def test_consignees_answer_through_their_links_and_the_effectiveness_rises(
        app: Flask, api: Api, case: Case, session: Session, sink: SmtpSink, manager: Browser,
        client: FlaskClient) -> None:
    recall_id = _open(api)
    _send(manager, recall_id)
    _run(app)
    link = _link(next(m.body for m in sink.messages if m.recipients == [DELI]))
    lots = {code: lot for code, lot in ((c, getattr(case, c.lower())) for c in ("J1", "GB1"))}

    visitor, page = _answer_page(client, link)
    assert page.status == 200
    assert "Corner Deli" in page.text and "You received 100 ea" in page.text and "You received 10 ea" in page.text
    assert "Big Box" not in page.text and "Farm Shop" not in page.text and "Berry Farm" not in page.text

    def send(values: dict[str, str], received: bool = True) -> Page:
        fill: dict[str, str | bool] = {"received": received, **values}
        return visitor.submit(visitor.get(link), fill, key="answered_by", follow=False)

    refused = send({f"on_hand_{lots['J1']}": "-1"})
    assert refused.status == 422
    assert refused.alerts == ["Not saved. Raspberry jam 340 g, lot J1: on hand cannot be negative"]
    refused = send({f"on_hand_{lots['J1']}": "60", f"destroyed_{lots['J1']}": "30", f"returned_{lots['J1']}": "20"})
    assert refused.status == 422
    assert refused.alerts == ["Not saved. Raspberry jam 340 g, lot J1: on hand + destroyed + returned come to 110 ea, "
                              "more than the 100 ea you received"]
    assert refused.invalid() == [f"on_hand_{lots['J1']}"]
    refused = send({f"returned_{lots['GB1']}": "lots"})
    assert refused.status == 422 and "'lots' is not a number" in refused.alerts[0]
    assert session.scalar(select(func.count()).select_from(RecallResponse)) == 0

    saved = send({f"on_hand_{lots['J1']}": "20", f"destroyed_{lots['J1']}": "50", f"returned_{lots['J1']}": "30",
                  f"destroyed_{lots['GB1']}": "10", "answered_by": "Dev Patel"})
    assert saved.status == 303
    page = visitor.get(saved.location)
    assert "Thank you: your answer is recorded" in page.text
    assert page.value(f"destroyed_{lots['J1']}") == "50"

    e = api.get(f"/recalls/{recall_id}").json["effectiveness"]
    assert (e["responded"], e["consignees"]) == (1, 3)
    assert _d(e["accounted"]) == {"ea": 110} and _d(e["accounted_pct"]) == {"ea": D("42.3")}  # of 260 ea shipped
    assert _d(e["recovered"]) == {"ea": 90}
    j1 = next(x for x in e["lots"] if x["lot_code"] == "J1")
    assert [D(j1[k]) for k in ("shipped", "on_hand", "destroyed", "returned", "accounted")] == [250, 20, 50, 30, 100]
    assert e["not_answered"] == ["Big Box", "Farm Shop"]

    # Answering again corrects the answer: the latest counts, the earlier one is kept.
    send({f"on_hand_{lots['J1']}": "0", f"destroyed_{lots['J1']}": "100", f"returned_{lots['J1']}": "0",
          f"destroyed_{lots['GB1']}": "10"})
    e = api.get(f"/recalls/{recall_id}").json["effectiveness"]
    assert _d(e["accounted"]) == {"ea": 110} and _d(e["recovered"]) == {"ea": 110}
    session.rollback()
    assert session.scalar(select(func.count()).select_from(RecallResponse)) == 2

    page = manager.get("/")
    tile = page.html.split('class="card recall-tile"')[1].split("</section>")[0]
    assert "1 / 3" in tile and "Big Box, Farm Shop" in tile

    # Once the recall is closed, the link takes no more answers, and says so.
    assert api.post(f"/recalls/{recall_id}/close", {"outcome": "keep_recalled", "reason": "done"}).status_code == 200
    page = visitor.get(link)
    assert page.status == 410 and "is closed, so this link no longer takes answers" in page.text
    late = visitor.post(link, {"csrf_token": visitor.csrf(), f"on_hand_{lots['J1']}": "1"})
    assert late.status == 410
    session.rollback()
    assert session.scalar(select(func.count()).select_from(RecallResponse)) == 2


def test_a_wrong_link_is_not_found_and_tells_nothing(client: FlaskClient, api: Api, case: Case,
                                                     session: Session) -> None:
    _open(api)
    _, page = _answer_page(client, "/answer/" + "A" * 43)
    assert page.status == 404
    assert page.text.count("this answer link is not valid") == 1
    assert "Corner Deli" not in page.text and "RC-" not in page.text
    assert "nav" not in page.html


def test_a_letter_carries_its_own_working_link_and_counts_as_reached(
        app: Flask, api: Api, case: Case, session: Session, manager: Browser, client: FlaskClient) -> None:
    recall_id = _open(api)
    app.config.update(BASE_URL="https://lots.example", COMPANY_NAME="Jam Co")
    notice_id = session.scalar(select(RecallNotice.id).where(RecallNotice.customer_id == case.bigbox))
    r = manager.client.post(f"/recalls/{recall_id}/notices/{notice_id}/letter",
                            data={"csrf_token": manager.csrf()})
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    pdf = pdfium.PdfDocument(r.data)
    text = "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert "PRODUCT RECALL RC-" in text and "Big Box" in text and "J1" in text
    link = _link(text)
    _, page = _answer_page(client, link)
    assert page.status == 200 and "Big Box" in page.text
    e = api.get(f"/recalls/{recall_id}").json["effectiveness"]
    assert e["notified"] == 1 and e["not_notified"] == ["Corner Deli", "Farm Shop"]
    assert "letter printed" in manager.get(f"/recalls/{recall_id}").text


def test_without_smtp_sending_is_refused_with_the_reason(api: Api, case: Case, manager: Browser) -> None:
    recall_id = _open(api)
    page = manager.get(f"/recalls/{recall_id}")
    assert "E-mail is off: set LOTWISE_SMTP_HOST" in page.text
    page = _send(manager, recall_id)
    assert page.flashes == ["Not sent. E-mail is off: set LOTWISE_SMTP_HOST (and the other LOTWISE_SMTP_* settings) "
                            "first"]


@pytest.mark.parametrize(("level", "pct", "to_verify"), [("A", "", 3), ("B", "50", 2), ("C", "", 1), ("D", "", 1),
                                                         ("E", "", 0)])
def test_the_effectiveness_check_level_says_how_many_consignees_to_verify(
        api: Api, case: Case, manager: Browser, level: str, pct: str, to_verify: int) -> None:
    recall_id = _open(api)
    page = manager.post(f"/recalls/{recall_id}/level", {"csrf_token": manager.csrf(), "level": level, "pct": pct},
                        follow=True)
    assert page.flashes == ["Effectiveness-check level saved."]
    e = api.get(f"/recalls/{recall_id}").json["effectiveness"]
    assert (e["level"], e["to_verify"]) == (level, to_verify)


def test_level_b_needs_its_share(api: Api, case: Case, manager: Browser) -> None:
    recall_id = _open(api)
    page = manager.post(f"/recalls/{recall_id}/level", {"csrf_token": manager.csrf(), "level": "B", "pct": ""})
    assert page.status == 422
    assert page.alerts == ["Nothing was saved. Level B needs pct: the percentage of consignees to verify (11 to 99)"]
    assert api.get(f"/recalls/{recall_id}").json["effectiveness"]["level"] == "A"


def test_a_drill_prepares_no_notices(api: Api, case: Case, session: Session) -> None:
    assert api.post("/drills", {"lots": [{"sku": "JAM-RASP", "lot_code": "J1"}]}).status_code == 201
    assert session.scalar(select(func.count()).select_from(RecallNotice)) == 0


def test_the_api_lists_queues_and_sets_the_level(app: Flask, api: Api, case: Case, api_as: Any,
                                                 sink: SmtpSink) -> None:
    recall_id = _open(api)
    listed = api.get(f"/recalls/{recall_id}/notices").json
    assert listed["email_configured"] is True
    assert (listed["counts"]["total"], listed["counts"]["prepared"], listed["counts"]["without_email"]) == (3, 3, 1)
    operator = api_as(Role.OPERATOR)
    assert operator.post(f"/recalls/{recall_id}/notices/send", {}).status_code == 403
    r = api.post(f"/recalls/{recall_id}/notices/send", {"customer_ids": [case.cafe]})
    assert r.status_code == 404 and r.json["error"]["field"] == "customer_ids.0"
    r = api.post(f"/recalls/{recall_id}/notices/send", {"customer_ids": [case.deli]})
    assert r.status_code == 200 and r.json["counts"]["queued"] == 1
    assert _run(app) == 1 and [m.recipients for m in sink.messages] == [[DELI]]
    r = api.put(f"/recalls/{recall_id}/check-level", {"level": "B"})
    assert r.status_code == 422 and "level B needs pct" in r.json["error"]["message"]
    r = api.put(f"/recalls/{recall_id}/check-level", {"level": "B", "pct": 34})
    assert r.status_code == 200 and (r.json["check_level"], r.json["effectiveness"]["to_verify"]) == ("B", 2)
    api.post(f"/recalls/{recall_id}/close", {"outcome": "keep_recalled", "reason": "done"})
    assert api.post(f"/recalls/{recall_id}/notices/send", {}).status_code == 409


def test_lotwise_worker_once_sends_what_is_due(app: Flask, api: Api, case: Case, sink: SmtpSink, manager: Browser,
                                                database_url: str, tmp_path: Any) -> None:
    from click.testing import CliRunner

    from app.cli import main

    recall_id = _open(api)
    _send(manager, recall_id)
    env = {"LOTWISE_DATABASE_URL": database_url, "LOTWISE_INSTANCE_DIR": str(tmp_path), "LOTWISE_SECRET_KEY": "x",
           "LOTWISE_SMTP_HOST": "127.0.0.1", "LOTWISE_SMTP_PORT": str(sink.port)}
    result = CliRunner().invoke(main, ["worker", "--once"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "handled 2 notice(s)" in result.output
    assert sorted(m.recipients[0] for m in sink.messages) == [DELI, FARM]

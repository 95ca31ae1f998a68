"""The benchmark dataset is a sound ledger, and the naive per-lot recall agrees with the recursive one."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from app.models import RecallScope
from app.queries.check import check_ledger
from app.queries.recall import report, select_lots
from app.queries.traceability import trace
from benchmarks.bench_recall import naive_report, naive_trace, widest_raw_lot
from benchmarks.dataset import generate


def test_a_small_dataset_balances_and_both_ways_of_recalling_agree(app: Flask, session: Session) -> None:
    stats = generate(app.extensions["lotwise.engine"], 0.004)
    assert stats.rows["lot"] > 400 and stats.rows["shipment_line"] > 2000
    assert check_ledger(session) == []
    lot_id, runs = widest_raw_lot(session)
    assert runs >= 2
    rep = report(session, select_lots(session, [lot_id], RecallScope.FORWARD))
    naive = naive_report(session, lot_id)
    assert {a.lot.id for a in rep.lots} == naive["lots"]
    assert {c.customer.id for c in rep.consignees} == set(naive["consignees"])
    assert {a.lot.id: a.on_hand for a in rep.lots} == naive["on_hand"]
    assert rep.totals.unbalanced_lots == 0
    forward, backward = naive_trace(session, lot_id)
    t = trace(session, [lot_id], "both")
    assert {r.lot.id for r in t.lots if r.direction != "backward"} == forward
    assert {r.lot.id for r in t.lots if r.direction != "forward"} == backward

"""The office pages of the demo company in a real browser: which pages there are, and what a page must not do.

`office_pages` lists every HTML page of the app from its routes (no list to keep up to date: a new page is
covered as soon as it exists), with path variables filled from the demo company's own rows.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from app.demo import DEMO_USER, RECALL_SUPPLIER_LOT
from app.exports.workbook import template
from app.models import (
    Customer,
    DataImport,
    LabelPrinter,
    Location,
    Lot,
    LotLink,
    Order,
    OrderAllocation,
    OrderLine,
    ProductionRun,
    Recall,
    RecallDrill,
    RecallNotice,
    Receipt,
    Recipe,
    Shipment,
    Station,
    Supplier,
    User,
)
from app.schemas import DrillIn, LotRef, PrinterIn, RecallIn
from app.services import imports, printing, recall
from tests.helpers.routes import endpoints

# Not office pages: the handheld pages (phones, their own tests), the public Digital Link resolver, the
# login page (no menu to fit), and files rather than pages.
# The public resolver and answer pages have no staff layout; tests/integration/test_public_resolver.py and
# tests/e2e/test_recall_answer_browser.py check them.
NOT_OFFICE = ("handheld.", "digital_link.", "auth.", "static", "main.favicon", "public.",
              "lots.find")  # a redirect to the lot page a plain label names


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """The app on a free local port while the block runs."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def recall_lot(session: Session) -> Lot:
    """The raspberry lot of the demo's recall story."""
    return session.scalars(select(Lot).where(Lot.supplier_lot_code == RECALL_SUPPLIER_LOT)).one()


def complete_the_story(session: Session, today: date) -> None:
    """What the demo leaves to the visitor, done once so every page has something to show: a drill, a
    recall (of one jam batch made from the raspberries) and a label printer."""
    admin = session.scalars(select(User).where(User.username == DEMO_USER)).one()
    raw = recall_lot(session)
    if not session.scalar(select(func.count(RecallDrill.id))):
        recall.run_drill(session, DrillIn(lots=[LotRef(lot_id=raw.id)]), user=admin, today=today)
    if not session.scalar(select(func.count(Recall.id))):
        batch = session.scalar(select(LotLink.output_lot_id).where(LotLink.input_lot_id == raw.id)
                               .order_by(LotLink.output_lot_id).limit(1))
        recall.open_recall(session, RecallIn(lots=[LotRef(lot_id=batch)], reason="Glass fragment found in a jar"),
                           user=admin, today=today)
    if not session.scalar(select(func.count(LabelPrinter.id))):
        printing.create_printer(session, PrinterIn(name="Dispatch Zebra", host="192.0.2.10"))
    if not session.scalar(select(func.count(DataImport.id))):
        # A checked workbook (the empty template), so the import's own page has a report to show.
        record = imports.store_upload(session, template(), filename="onboarding.xlsx", sheet=None,
                                      options=imports.Options(), user=admin, max_bytes=20 * 1024 * 1024)
        imports.check_upload(session, record.id, today=today, max_bytes=20 * 1024 * 1024)
    session.commit()


def _values(session: Session) -> dict[str, Any]:
    """A value for each path variable an office page takes: the rows with the most to show."""
    # The order the demo allocated (its page shows allocations), else the newest.
    allocated = select(OrderLine.order_id).join(OrderAllocation, OrderAllocation.order_line_id == OrderLine.id)
    order = session.scalar(allocated.limit(1)) or session.scalar(select(func.max(Order.id)))
    recipe_product = session.scalar(select(Recipe.product_id).order_by(Recipe.product_id).limit(1))
    return {
        "lot_id": recall_lot(session).id,
        "order_id": order,
        "shipment_id": session.scalar(select(func.max(Shipment.id))),
        "receipt_id": session.scalar(select(func.max(Receipt.id))),
        "run_id": session.scalar(select(func.max(ProductionRun.id))),
        "product_id": recipe_product,
        "customer_id": session.scalar(select(func.min(Customer.id))),
        "supplier_id": session.scalar(select(func.min(Supplier.id))),
        "location_id": session.scalar(select(func.min(Location.id))),
        "station_id": session.scalar(select(func.min(Station.id))),
        "printer_id": session.scalar(select(func.min(LabelPrinter.id))),
        "recall_id": session.scalar(select(func.max(Recall.id))),
        "drill_id": session.scalar(select(func.max(RecallDrill.id))),
        "notice_id": session.scalar(select(func.max(RecallNotice.id))),
        "import_id": session.scalar(select(func.max(DataImport.id))),
        "fmt": "csv",
    }


# Pages that need a query string to show anything.
QUERIES = {"labels.print_page": "?receipt={receipt_id}"}


def office_pages(app: Flask, session: Session) -> list[str]:
    """Every office page (GET, HTML) of the app, as a path with the demo's ids; ones that answer a file are left
    out by their content type. A page whose path variable has no value here fails loudly."""
    values = _values(session)
    client = app.test_client()
    with client.session_transaction() as browser:
        browser["uid"] = session.scalar(select(User.id).where(User.username == DEMO_USER))
    paths: list[str] = []
    for e in endpoints(app):
        if e.method != "GET" or e.is_api or e.endpoint.startswith(NOT_OFFICE):
            continue
        missing = [name for name in e.variables() if values.get(name) is None]
        assert not missing, f"{e.rule}: give tests/helpers/office.py a value for {missing}"
        path = e.url(**{name: values[name] for name in e.variables()}) + QUERIES.get(e.endpoint, "").format(**values)
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.status_code)
        if answer.mimetype == "text/html":
            paths.append(path)
    return paths


# --- what a page must not do -------------------------------------------------------------------------

# Horizontal overflow: the page wider than the window, or a card (or the top bar) wider than itself.
# A table may be wider than its card only inside the scrolling frame static/js/layout.js gives it, and
# then the frame must show its cue and take the keyboard focus.
OVERFLOW_JS = """() => {
  const problems = [];
  const name = (el) => {
    const head = el.querySelector('h1, h2, summary');
    return el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).trim().split(/\\s+/).join('.') : '')
      + (head ? ` "${head.textContent.trim().slice(0, 40)}"` : '');
  };
  const doc = document.documentElement;
  if (doc.scrollWidth > doc.clientWidth + 1) problems.push(`page is ${doc.scrollWidth} px wide in ${doc.clientWidth}`);
  for (const el of document.querySelectorAll('.topbar, main .card, main .page-head')) {
    if (el.scrollWidth > el.clientWidth + 1) {
      problems.push(`${name(el)} overflows: ${el.scrollWidth} > ${el.clientWidth}`);
    }
  }
  for (const wrap of document.querySelectorAll('.table-scroll')) {
    const cued = wrap.classList.contains('scrolls') && wrap.getAttribute('tabindex') === '0'
      && wrap.getAttribute('aria-label');
    if (wrap.scrollWidth > wrap.clientWidth + 1 && !cued) {
      problems.push(`${name(wrap.closest('.card') || wrap)}: a table scrolls without its cue`);
    }
  }
  const topbar = document.querySelector('.topbar');
  if (topbar && window.innerWidth >= 1000) {
    const tops = new Set([...topbar.querySelectorAll('.nav > a, .nav > details > summary')]
      .map((el) => Math.round(el.getBoundingClientRect().top)));
    if (tops.size > 1) problems.push('the menu wraps onto ' + tops.size + ' lines');
  }
  return problems;
}"""

# Values broken across lines: a date, a time stamp, a document number or a code with hyphens whose text
# lies on more than one line box.
BROKEN_TOKENS_JS = """() => {
  const token = /\\d{4}-\\d{2}-\\d{2}(?: \\d{2}:\\d{2})?|[A-Z]{1,4}-\\d{4,}|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+/g;
  const broken = [];
  const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const parent = node.parentElement;
    if (!parent || parent.closest('script, style, option, select, textarea, svg')) continue;
    if (!parent.getClientRects().length) continue;
    for (const m of node.nodeValue.matchAll(token)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
      if (lines.size > 1) broken.push(m[0]);
    }
  }
  return broken.slice(0, 10);
}"""

AXE_JS = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.length} element(s), e.g. ${v.nodes[0].target.join(' ')}`);
}"""

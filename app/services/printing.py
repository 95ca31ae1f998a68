"""Label printing use cases: printer settings, site label defaults, and ZPL sent raw to a printer's port."""

from __future__ import annotations

import re
import socket
import struct
import time
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict, LotwiseError
from app.models import LabelPrinter, LabelPrintJob, LabelSettings, User
from app.queries.labels import LabelBatch, printer, zpl_labels
from app.schemas import LabelSettingsPatch, PrinterIn, PrinterPatch
from app.services.base import transactional
from app.services.idempotency import IdempotencyKey, remember, remembered
from labels import SIZES

STATUS_QUERY = b"~HS"
"""Zebra's host status query: the printer answers with three <STX>…<ETX> strings and prints nothing."""
STATUS_MAX = 1024
"""Bytes of a status reply read at most; a real one is about 100."""


class PrinterUnreachable(LotwiseError):
    """The printer refused the connection, could not be reached or dropped it."""

    status = 502
    code = "printer_unreachable"


class PrinterTimeout(LotwiseError):
    """The printer did not answer, or stopped taking data, within the configured timeout."""

    status = 504
    code = "printer_timeout"


class PrinterNotReady(Conflict):
    """The printer answered that it cannot print now (out of labels, paused, head open …)."""

    code = "printer_not_ready"


# --- settings ----------------------------------------------------------------------------------


def _unique_name(session: Session, name: str, ident: int | None) -> None:
    existing = session.scalar(select(LabelPrinter.id).where(LabelPrinter.name == name))
    if existing is not None and existing != ident:
        raise Conflict(f"a printer named {name!r} already exists", "name")


@transactional
def create_printer(session: Session, cmd: PrinterIn) -> LabelPrinter:
    """Add a network label printer."""
    _unique_name(session, cmd.name, None)
    row = LabelPrinter(**cmd.model_dump())
    session.add(row)
    session.flush()
    return row


@transactional
def update_printer(session: Session, printer_id: int, cmd: PrinterPatch) -> LabelPrinter:
    """Change a printer's settings; fields left out (or null) keep their value."""
    row = printer(session, printer_id)
    data = {k: v for k, v in cmd.model_dump(exclude_unset=True).items() if v is not None}
    if "name" in data:
        _unique_name(session, data["name"], row.id)
    for key, value in data.items():
        setattr(row, key, value)
    session.flush()
    return row


@transactional
def save_label_settings(session: Session, cmd: LabelSettingsPatch) -> LabelSettings:
    """Change the site's default label sizes; fields left out keep their value."""
    row = session.get(LabelSettings, 1)
    if row is None:
        row = LabelSettings(id=1, pdf_size="4x6", zpl_size="4x6", zpl_dpi=203)
        session.add(row)
    for key, value in cmd.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(row, key, value)
    session.flush()
    return row


# --- talking to a printer ----------------------------------------------------------------------


def _where(row: LabelPrinter) -> str:
    host = f"[{row.host}]" if ":" in row.host else row.host
    return f"Printer {row.name!r} at {host}:{row.port}"


def status_problems(reply: bytes) -> list[str]:
    """Why a printer cannot print, from its answer to ~HS (empty when it is ready).

    ValueError when the reply is not a Zebra host status. String 1 carries the paper-out and pause
    flags (fields 2 and 3), string 2 the head-up, ribbon-out and thermal-transfer flags (fields 3-5).
    """
    strings = re.findall(rb"\x02([^\x02\x03]*)\x03", reply)
    if len(strings) < 2:
        raise ValueError("not a host status reply")
    first = strings[0].decode("latin-1").split(",")
    second = strings[1].decode("latin-1").split(",")
    if len(first) < 3 or len(second) < 5 or not all(f.strip().isdigit() for f in (*first[:3], *second[:5])):
        raise ValueError("not a host status reply")
    problems = []
    if first[1].strip() == "1":
        problems.append("is out of labels")
    if second[2].strip() == "1":
        problems.append("has its print head open")
    # The ribbon flag only means something when the printer prints through a ribbon.
    if second[3].strip() == "1" and second[4].strip() == "1":
        problems.append("is out of ribbon")
    if first[2].strip() == "1":
        problems.append("is paused (press PAUSE on the printer to resume)")
    return problems


def _read_status(sock: socket.socket, timeout: float) -> bytes:
    deadline = time.monotonic() + timeout
    reply = b""
    while reply.count(b"\x03") < 3:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        sock.settimeout(remaining)
        chunk = sock.recv(1024)
        if not chunk:
            break
        reply += chunk
        if not reply.startswith(b"\x02") or len(reply) > STATUS_MAX:
            break  # not a host status; no use waiting for the rest
    sock.settimeout(timeout)
    return reply


def _check_ready(sock: socket.socket, row: LabelPrinter, timeout: float) -> None:
    where = _where(row)
    try:
        sock.sendall(STATUS_QUERY)
        reply = _read_status(sock, timeout)
    except TimeoutError:
        raise PrinterTimeout(f"{where} did not answer within {timeout:g} s; nothing was printed. A Zebra printer "
                             "stays silent while it is out of labels or ribbon or has its head open") from None
    except OSError as exc:
        raise PrinterUnreachable(f"{where} dropped the connection ({exc.strerror or exc}); nothing was printed") \
            from None
    if not reply:
        raise PrinterUnreachable(f"{where} closed the connection without answering; nothing was printed")
    try:
        problems = status_problems(reply)
    except ValueError:
        raise PrinterUnreachable(
            f"{where} did not answer the status query as a Zebra printer does; nothing was printed. "
            "If it is not Zebra-compatible, turn off its status check in the printer settings") from None
    if problems:
        raise PrinterNotReady(f"Printer {row.name!r} {' and '.join(problems)}; nothing was printed", "printer_id")


def _send(sock: socket.socket, row: LabelPrinter, formats: Sequence[bytes], timeout: float) -> None:
    done = 0
    try:
        for data in formats:
            sock.sendall(data)
            done += 1
        sock.shutdown(socket.SHUT_WR)
    except OSError as exc:
        # Reset instead of a graceful close, so bytes still queued here are dropped rather than
        # trickling out to the printer later.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        outcome = ("nothing was printed" if done == 0
                   else f"the first {done} of {len(formats)} labels may print, the rest were not sent")
        if isinstance(exc, TimeoutError):
            raise PrinterTimeout(f"{_where(row)} stopped taking labels for {timeout:g} s; {outcome}") from None
        raise PrinterUnreachable(f"{_where(row)} dropped the connection ({exc.strerror or exc}); {outcome}") \
            from None


def send_zpl(row: LabelPrinter, formats: Sequence[str], timeout: float) -> int:
    """Send label formats to a printer over one TCP connection; the number of bytes sent.

    With the printer's status check on, it is asked (~HS) first and must say it is ready. Each
    connect, answer and send waits at most `timeout` seconds. PrinterUnreachable (502),
    PrinterTimeout (504) or PrinterNotReady (409) say what went wrong and whether anything printed.
    """
    payload = [f.encode() for f in formats]
    where = _where(row)
    try:
        sock = socket.create_connection((row.host, row.port), timeout=timeout)
    except TimeoutError:
        raise PrinterTimeout(f"{where} did not answer within {timeout:g} s; nothing was printed") from None
    except ConnectionRefusedError:
        raise PrinterUnreachable(f"{where} refused the connection (is it switched on, and is {row.port} its raw "
                                 "printing port?); nothing was printed") from None
    except socket.gaierror:
        raise PrinterUnreachable(f"{where} cannot be reached: the host name {row.host!r} is unknown; "
                                 "nothing was printed") from None
    except OSError as exc:
        raise PrinterUnreachable(f"{where} cannot be reached ({exc.strerror or exc}); nothing was printed") \
            from None
    with sock:
        if row.check_status:
            _check_ready(sock, row, timeout)
        _send(sock, row, payload, timeout)
    return sum(len(p) for p in payload)


@transactional
def _record(session: Session, job: LabelPrintJob, request_key: IdempotencyKey | None = None) -> LabelPrintJob:
    session.add(job)
    session.flush()
    remember(session, request_key, "label_print", job.id, job.user)
    return job


def _job(row: LabelPrinter, subject: str, formats: Sequence[str], copies: int, size: str, sent: int,
         user: User | None) -> LabelPrintJob:
    return LabelPrintJob(printer_id=row.id, subject=subject[:200], labels=len(formats), copies=copies, size=size,
                         dpi=row.dpi, bytes_sent=sent, user=user)


def print_labels(session: Session, printer_id: int, batch: LabelBatch, *, size: str | None = None, copies: int = 1,
                 user: User | None, timeout: float, request_key: IdempotencyKey | None = None) -> LabelPrintJob:
    """Print a batch of lot labels on a network printer: every label over one connection, or a clear error.

    The ZPL is made before the printer is contacted, so data that cannot go in a barcode or does
    not fit the size is refused with nothing printed; the job is recorded only once it was sent.
    A request replayed with the same `request_key` returns the first job and prints nothing again.
    """
    earlier = remembered(session, request_key, "label_print", user)
    if earlier is not None:
        return session.get_one(LabelPrintJob, earlier)
    row = printer(session, printer_id)
    if not row.active:
        raise Conflict(f"printer {row.name!r} is switched off in the printer settings", "printer_id")
    size = size or row.default_size
    formats = zpl_labels(batch, size, row.dpi, copies)
    # The printer is talked to outside any write transaction: a slow or silent printer must never
    # hold the database's write lock.
    sent = send_zpl(row, formats, timeout)
    return _record(session, _job(row, batch.subject, formats, copies, size, sent, user), request_key)


def _zpl_text(text: str) -> str:
    # ^ and ~ start ZPL commands; written as hex under ^FH\ like the lot labels do.
    text = re.sub(r"[\x00-\x1f\x7f]", " ", text)
    return "".join({"^": "\\5E", "~": "\\7E", "\\": "\\5C"}.get(c, c) for c in text)


def check_label_zpl(row: LabelPrinter) -> str:
    """A label that shows a printer works: its name, address and resolution, in a frame at the label's edges."""
    size = SIZES[row.default_size]
    dpi = row.dpi
    width, height = round(size.width_in * dpi), round(size.height_in * dpi)
    margin, border = dpi // 25, max(2, dpi // 100)
    big = max(20, min(height // 7, dpi // 4))
    small = max(18, big * 2 // 3)
    inner = width - 2 * (margin + border + margin)
    lines = [(big, "Label printer test"), (small, f"Printer {row.name}"),
             (small, f"{row.host}:{row.port} · {dpi} dpi"), (small, f"{size.title} label; the frame marks its edges")]
    out = ["^XA", "^CI28", f"^PW{width}", f"^LL{height}", "^LH0,0",
           f"^FO{margin},{margin}^GB{width - 2 * margin},{height - 2 * margin},{border}^FS"]
    y = margin + border + margin
    for font, text in lines:
        out.append(f"^FO{margin + border + margin},{y}^A0N,{font},{font}^FB{inner},1,0,L^FH\\^FD{_zpl_text(text)}^FS")
        y += font * 5 // 4
    out.append("^XZ")
    return "\n".join(out) + "\n"


def print_check_label(session: Session, printer_id: int, *, user: User | None, timeout: float) -> LabelPrintJob:
    """Print one test label on a printer (switched off or not), to check its address, size and resolution."""
    row = printer(session, printer_id)
    formats = [check_label_zpl(row)]
    sent = send_zpl(row, formats, timeout)
    return _record(session, _job(row, "test label", formats, 1, row.default_size, sent, user))

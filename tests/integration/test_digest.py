"""`lotwise expiring`: the daily digest as text or CSV, e-mailed through a local SMTP server the test runs."""

from __future__ import annotations

import base64
import csv
import email
import io
import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.orm import Session

from app.cli import main

Run = Callable[..., Result]


class _Sink(socketserver.StreamRequestHandler):
    """Just enough SMTP to take a message: EHLO, optional AUTH PLAIN, MAIL, RCPT, DATA, QUIT."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        server: SmtpSink = self.server  # type: ignore[assignment]
        self.reply("220 sink ESMTP")
        sender, recipients = "", []
        while line := self.rfile.readline():
            command = line.decode().strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250-sink")
                self.reply("250 AUTH PLAIN")
            elif verb == "AUTH":
                _, user, password = base64.b64decode(command.split()[-1]).decode().split("\0")
                server.logins.append((user, password))
                self.reply("235 ok")
            elif verb == "MAIL":
                sender = command.split(":", 1)[1].strip(" <>")
                self.reply("250 ok")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip(" <>"))
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go on")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                server.messages.append((sender, recipients, email.message_from_bytes(data)))
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


class SmtpSink(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Sink)
        self.messages: list[tuple[str, list[str], Message]] = []
        self.logins: list[tuple[str, str]] = []


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    server = SmtpSink()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def lotwise(database_url: str, tmp_path: Path) -> Run:
    """Run `lotwise ARGS` on the test database with LOTWISE_* variables, as a scheduled job would."""

    def run(*args: str, **env: str) -> Result:
        variables = {"LOTWISE_DATABASE_URL": database_url, "LOTWISE_INSTANCE_DIR": str(tmp_path),
                     "LOTWISE_SECRET_KEY": "test", **{f"LOTWISE_{k}": v for k, v in env.items()}}
        return CliRunner().invoke(main, list(args), env=variables, catch_exceptions=False)

    return run


def test_the_text_digest_lists_expired_and_expiring_stock_with_who_could_take_it(
        shelf: dict[str, int], lotwise: Run) -> None:
    result = lotwise("expiring", "--today", "2026-03-01")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "expiry digest for 2026-03-01" in text
    assert "Expired, still on hand: 1 lot(s), 120.00 EUR" in text
    assert "Expiring within their alert window: 2 lot(s), 399.00 EUR" in text
    expired, expiring = text.split("EXPIRED — write off or investigate")[1].split("EXPIRING — sell first")
    assert "lot R0 at COLD-01 (MAIN): 30 kg, 120.00 EUR, expired 2026-02-20 (9 d ago)" in expired
    assert "lot J1 at KITCHEN (MAIN): 250 ea, 192.50 EUR, expires 2026-04-10 (in 40 d)" in expiring
    assert "could still go to: Corner Deli (ship by 2026-03-11); Quick Cafe (ship by 2026-04-10)" in expiring
    assert "could still go to: Quick Cafe (ship by 2026-03-15)" in expiring  # R1
    assert result.stderr == ""  # no SMTP configured: nothing mailed, nothing said about it


def test_the_csv_digest_goes_to_a_file(shelf: dict[str, int], lotwise: Run, tmp_path: Path) -> None:
    target = tmp_path / "digest.csv"
    result = lotwise("expiring", "--today", "2026-03-01", "--format", "csv", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [(r["state"], r["lot"], r["location"], r["days_left"], r["on_hand"], r["value"]) for r in rows] == [
        ("expired", "R0", "COLD-01", "-9", "30", "120.00"), ("expiring", "R1", "COLD-01", "14", "40", "168.00"),
        ("expiring", "J1", "DOCK", "40", "50", "38.50"), ("expiring", "J1", "KITCHEN", "40", "250", "192.50")]
    assert rows[3]["could_still_go_to"] == "Corner Deli (ship by 2026-03-11); Quick Cafe (ship by 2026-04-10)"


def test_the_digest_is_emailed_to_the_managers(shelf: dict[str, int], lotwise: Run,
                                               smtp: SmtpSink) -> None:
    result = lotwise("expiring", "--today", "2026-03-01", SMTP_HOST="127.0.0.1",
                     SMTP_PORT=str(smtp.server_address[1]), SMTP_FROM="lotwise@jam.example",
                     SMTP_USER="digest", SMTP_PASSWORD="s3cret",
                     DIGEST_TO="maria@jam.example, otto@jam.example")
    assert result.exit_code == 0, result.output
    assert "e-mailed to maria@jam.example, otto@jam.example" in result.stderr
    assert smtp.logins == [("digest", "s3cret")]
    [(sender, recipients, message)] = smtp.messages
    assert (sender, recipients) == ("lotwise@jam.example", ["maria@jam.example", "otto@jam.example"])
    assert message["Subject"] == "[Lotwise] Expiry digest 2026-03-01: 1 expired, 2 expiring"
    body, attachment = [part for part in message.walk() if not part.is_multipart()]
    assert body.get_payload(decode=True).decode().replace("\r\n", "\n") == result.stdout
    assert attachment.get_filename() == "expiring-2026-03-01.csv"
    assert "expired,RASP,Raspberries IQF,R0,COLD-01" in attachment.get_payload(decode=True).decode()


def test_a_mail_failure_is_reported_but_the_digest_is_still_written(shelf: dict[str, int],
                                                                    lotwise: Run) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = lotwise("expiring", "--today", "2026-03-01", SMTP_HOST="127.0.0.1", SMTP_PORT=str(port),
                     DIGEST_TO="maria@jam.example")
    assert result.exit_code == 0
    assert "expiry digest not e-mailed via 127.0.0.1" in result.stderr
    assert "EXPIRED — write off or investigate" in result.stdout


def test_no_mail_skips_sending_and_an_empty_day_says_so(lotwise: Run, smtp: SmtpSink, session: Session,
                                                        site: dict[str, Any]) -> None:
    result = lotwise("expiring", "--today", "2026-03-01", "--no-mail", SMTP_HOST="127.0.0.1",
                     SMTP_PORT=str(smtp.server_address[1]), DIGEST_TO="maria@jam.example")
    assert result.exit_code == 0, result.output
    assert "Nothing is expired or expiring within its alert window." in result.stdout
    assert smtp.messages == []

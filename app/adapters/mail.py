"""Sending e-mail through the configured SMTP server, one connection for many messages.

Every outcome is one of three: the server took the message (`delivered`), refused it for good
(`refused`: a 5xx answer, so retrying the same message is pointless), or something temporary went
wrong (`temporary`: a 4xx answer, a refused connection, a timeout, a dropped line), worth a retry.
"""

from __future__ import annotations

import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from types import TracebackType
from typing import Any, Literal

Kind = Literal["delivered", "refused", "temporary"]


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    user: str
    password: str
    sender: str
    starttls: bool
    timeout: float = 30.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SmtpServer | None:
        """The configured server (`LOTWISE_SMTP_*`, shared with the expiry digest), or None when e-mail is off."""
        host = str(config.get("SMTP_HOST") or "").strip()
        if not host:
            return None
        return cls(host=host, port=int(config.get("SMTP_PORT") or 25), user=str(config.get("SMTP_USER") or ""),
                   password=str(config.get("SMTP_PASSWORD") or ""),
                   sender=str(config.get("SMTP_FROM") or "lotwise@localhost"),
                   starttls=bool(config.get("SMTP_STARTTLS")))


@dataclass(frozen=True)
class Outcome:
    kind: Kind
    detail: str


def message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = to
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg.set_content(body)
    return msg


def _coded(code: int, text: bytes | str) -> Outcome:
    said = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    kind: Kind = "refused" if 500 <= code < 600 else "temporary"
    return Outcome(kind, f"{code} {said}".strip())


class Mailer:
    """An SMTP session opened on first use and reused; reopened after a connection-level failure."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc: object | TracebackType) -> None:
        self.close()

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None

    def _connect(self) -> smtplib.SMTP:
        if self._smtp is None:
            s = self.server
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            try:
                if s.starttls:
                    smtp.starttls()
                if s.user:
                    smtp.login(s.user, s.password)
            except BaseException:
                smtp.close()
                raise
            self._smtp = smtp
        return self._smtp

    def send(self, msg: EmailMessage) -> Outcome:
        """Hand one message to the server and say what became of it; never raises for the server's sake."""
        try:
            smtp = self._connect()
            refused = smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            return _coded(code, text)
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            return _coded(exc.smtp_code, exc.smtp_error)
        except smtplib.SMTPResponseException as exc:
            self._drop()
            return _coded(exc.smtp_code, exc.smtp_error)
        except TimeoutError:
            self._drop()
            return Outcome("temporary", f"no answer from {self.server.host}:{self.server.port} "
                                        f"within {self.server.timeout:g} s")
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            if "timed out" in str(exc):  # smtplib reports a read timeout as a closed connection
                return Outcome("temporary", f"no answer from {self.server.host}:{self.server.port} "
                                            f"within {self.server.timeout:g} s")
            return Outcome("temporary", f"{self.server.host}:{self.server.port}: {exc or type(exc).__name__}")
        if refused:  # several recipients, some refused: ours is one recipient, so this is the refusal
            code, text = next(iter(refused.values()))
            return _coded(code, text)
        return Outcome("delivered", f"accepted by {self.server.host}:{self.server.port}")

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None

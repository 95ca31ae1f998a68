"""Configuration: defaults overridden by LOTWISE_* environment variables (nothing else reads os.environ)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

DEFAULTS: dict[str, Any] = {
    # SQLite file in the current directory unless LOTWISE_DATABASE_URL says otherwise.
    "DATABASE_URL": "sqlite:///lotwise.db",
    # Signing key for session cookies and CSRF tokens; generated into INSTANCE_DIR when not given.
    "SECRET_KEY": None,
    "INSTANCE_DIR": ".",
    "SITE_NAME": "Lotwise",
    "COMPANY_NAME": "Lotwise",
    "TIMEZONE": "UTC",
    "CURRENCY": "EUR",
    # Placeholders: {date:%y%m%d} (production/receipt date), {sku}, {seq} (1, 2, …) and
    # {seq_alpha} (A, B, …, Z, AA, …), counted per product and day.
    "LOT_CODE_PATTERN": "{date:%y%m%d}-{seq_alpha}",
    "EXPIRY_ALERT_DAYS": 30,
    # Base of the GS1 Digital Link URLs printed in lot QR codes.
    "BASE_URL": "http://127.0.0.1:8000",
    # Character a wedge scanner sends instead of ASCII 29 (GS), if configured so.
    "GS1_SEPARATOR": "",
    # True / False, or "auto": Secure cookies whenever the request came over HTTPS.
    "COOKIE_SECURE": "auto",
    "SESSION_HOURS": 12,
    # How long an idempotency key is remembered; a key older than this counts as new.
    "IDEMPOTENCY_HOURS": 24,
    # Failed sign-ins (login form) and wrong API tokens: after LOGIN_MAX_FAILURES for one account, or
    # LOGIN_ADDRESS_MAX_FAILURES from one client address, within LOGIN_WINDOW_SECONDS, that account or
    # address is locked out for LOGIN_LOCKOUT_SECONDS, twice as long after each further lockout in a
    # row, at most LOGIN_LOCKOUT_MAX_SECONDS.
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_ADDRESS_MAX_FAILURES": 20,
    "LOGIN_WINDOW_SECONDS": 900,
    "LOGIN_LOCKOUT_SECONDS": 300,
    "LOGIN_LOCKOUT_MAX_SECONDS": 3600,
    # Seconds a worker trusts an API token it has read (every scan sends one): a token revoked or a user
    # deactivated in another process stops working within this time; 0 reads the token on every call.
    "TOKEN_CACHE_SECONDS": 5,
    "PROXY_FIX": False,
    "ALLOW_PICK_SUBSTITUTES": False,
    "MAX_UPLOAD_MB": 20,
    # The daily expiry digest (`lotwise expiring`) is e-mailed to DIGEST_TO (comma-separated) through
    # this SMTP server when SMTP_HOST is set. SMTP_PASSWORD comes only from LOTWISE_SMTP_PASSWORD.
    "SMTP_HOST": "",
    "SMTP_PORT": 25,
    "SMTP_USER": "",
    "SMTP_PASSWORD": "",
    "SMTP_FROM": "lotwise@localhost",
    "SMTP_STARTTLS": False,
    "DIGEST_TO": "",
    # The public pages a lot label's QR code opens (GS1 Digital Link resolver, consignees' recall answers):
    # off answers 404 there. Each client address may make PUBLIC_MAX_REQUESTS of them within
    # PUBLIC_WINDOW_SECONDS, then waits (429 with Retry-After).
    "PUBLIC_PAGES": True,
    "PUBLIC_MAX_REQUESTS": 60,
    "PUBLIC_WINDOW_SECONDS": 60,
    # How the public reaches the company (phone, e-mail): shown on the public pages and in recall notices.
    "COMPANY_CONTACT": "",
    # Seconds to wait for a network label printer to connect, answer or take the labels.
    "LABEL_PRINTER_TIMEOUT": 5.0,
}

_BOOL = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


def _coerce(key: str, raw: str) -> Any:
    default = DEFAULTS.get(key)
    if isinstance(default, bool):
        try:
            return _BOOL[raw.strip().lower()]
        except KeyError:
            raise ValueError(f"LOTWISE_{key} must be true or false, not {raw!r}") from None
    if isinstance(default, float):
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"LOTWISE_{key} must be a number, not {raw!r}") from None
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"LOTWISE_{key} must be a whole number, not {raw!r}") from None
    if key == "COOKIE_SECURE" and raw.strip().lower() in _BOOL:
        return _BOOL[raw.strip().lower()]
    return raw


def load(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Defaults, then LOTWISE_* variables from the environment, then explicit overrides."""
    env = os.environ if environ is None else environ
    config = dict(DEFAULTS)
    for name, raw in env.items():
        if name.startswith("LOTWISE_"):
            key = name.removeprefix("LOTWISE_")
            if key in DEFAULTS:
                config[key] = _coerce(key, raw)
    if overrides:
        config.update(overrides)
    return config


def configured(key: str, environ: Mapping[str, str] | None = None) -> bool:
    """Whether the environment sets LOTWISE_`key` (rather than leaving it at its default)."""
    env = os.environ if environ is None else environ
    return bool(env.get(f"LOTWISE_{key}", "").strip())

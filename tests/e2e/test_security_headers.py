"""Security headers on every answer: a strict Content-Security-Policy on pages, HSTS over HTTPS, Allow on 405."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.models import Role
from tests.helpers.api import make_token

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates"


def _policy(header: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (d.split() for d in header.split(";") if d.strip())}


def test_pages_carry_a_strict_content_security_policy(client: FlaskClient) -> None:
    for path in ("/login", "/no-such-page"):
        r = client.get(path)
        assert r.mimetype == "text/html"
        policy = _policy(r.headers["Content-Security-Policy"])
        assert policy["default-src"] == ["'self'"]
        assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
        assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
        assert policy["base-uri"] == ["'self'"] and policy["form-action"] == ["'self'"]
        assert "'unsafe-inline'" not in r.headers["Content-Security-Policy"]
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "same-origin"
        assert r.headers["X-Frame-Options"] == "DENY"


def test_api_answers_are_not_sniffed(client: FlaskClient, session: Session) -> None:
    token = make_token(session, "clerk", Role.OPERATOR)
    r = client.get("/api/v1/lots", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.headers["X-Content-Type-Options"] == "nosniff"


def test_hsts_only_over_https(client: FlaskClient) -> None:
    assert "Strict-Transport-Security" not in client.get("/login").headers
    r = client.get("/login", base_url="https://lotwise.example")
    assert r.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_a_wrong_method_says_which_methods_are_allowed(client: FlaskClient) -> None:
    r = client.put("/login")
    assert r.status_code == 405 and r.mimetype == "text/html"
    assert set(re.split(r",\s*", r.headers["Allow"])) >= {"GET", "POST"}
    r = client.delete("/api/v1/lots")
    assert r.status_code == 405 and r.json["error"]["code"] == "method_not_allowed"
    assert "GET" in r.headers["Allow"] and "DELETE" not in r.headers["Allow"]


def test_templates_have_no_inline_scripts_handlers_or_styles() -> None:
    inline = re.compile(r"\son[a-z]+\s*=|\sstyle\s*=|<style\b|<script(?![^>]*\b(?:src=|type=\"application/json\"))")
    found = [f"{path.relative_to(TEMPLATES)}:{n}: {line.strip()}"
             for path in sorted(TEMPLATES.rglob("*.html"))
             for n, line in enumerate(path.read_text().splitlines(), 1) if inline.search(line)]
    assert found == []

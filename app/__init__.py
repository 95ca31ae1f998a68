"""Lotwise web application: create_app() wires configuration, database, pages, API and CLI."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from app import config as config_module
from app.db import make_engine, make_session_factory
from app.errors import LotwiseError
from app.rules.lotcodes import PatternError, check_pattern
from app.sessions import DatabaseSessionInterface
from app.version import build_version

ROOT = Path(__file__).resolve().parent.parent

# Pages load scripts, styles, fonts and fetches only from the site itself, and nothing inline, so an
# injected <script> or on…= attribute does not run. Label previews are data: PNGs; the handheld camera
# shows its stream through `srcObject`, which needs no media source.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
])

# Sent with every answer (unless a view set its own): no MIME sniffing, no framing, no full URL sent elsewhere.
ALWAYS_HEADERS = (("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
                  ("Referrer-Policy", "same-origin"))


def _secret_key(cfg: dict[str, Any]) -> str:
    """The configured key, or one generated once and kept beside the data (never in the repo)."""
    if cfg["SECRET_KEY"]:
        return str(cfg["SECRET_KEY"])
    path = Path(cfg["INSTANCE_DIR"]) / ".lotwise-secret"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


class LotwiseFlask(Flask):
    """Flask, asking once per function rather than on every call whether a view or hook is a coroutine.

    Flask asks it of the view and of every before/after/teardown hook of every request (six times a scan), and
    inspect's answer is costlier than a set look-up; a coroutine is still handed to Flask's own wrapping each time.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plain_functions: set[Any] = set()

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        try:
            if func in self._plain_functions:
                return func
        except TypeError:  # an unhashable callable: asked every time, as Flask does
            return super().ensure_sync(func)
        sync = super().ensure_sync(func)
        if sync is func:
            self._plain_functions.add(func)
        return sync


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The Flask app for the configured database (defaults < LOTWISE_* environment < `config`)."""
    cfg = config_module.load(config)
    try:
        check_pattern(cfg["LOT_CODE_PATTERN"])
    except PatternError as exc:
        raise ValueError(f"LOTWISE_LOT_CODE_PATTERN: {exc}") from None
    app = LotwiseFlask(__name__, static_folder=str(ROOT / "static"), template_folder="templates")
    app.config.update(cfg)
    app.config["SECRET_KEY"] = _secret_key(cfg)
    app.config["MAX_CONTENT_LENGTH"] = int(cfg["MAX_UPLOAD_MB"]) * 1024 * 1024 + 64 * 1024
    app.config["WTF_CSRF_TIME_LIMIT"] = None  # the token lives as long as the server-side session
    app.config["WTF_CSRF_SSL_STRICT"] = False  # SameSite=Lax cookies already stop cross-site posts
    # Computed once at start: the handheld service worker's cache is named after it.
    app.config["BUILD_VERSION"] = build_version(ROOT / "static")

    engine = make_engine(cfg["DATABASE_URL"])
    factory = make_session_factory(engine)
    app.extensions["lotwise.engine"] = engine
    app.extensions["lotwise.sessions"] = factory
    from app.services.users import TokenCache

    app.extensions["lotwise.tokens"] = TokenCache(float(cfg["TOKEN_CACHE_SECONDS"]))
    app.session_interface = DatabaseSessionInterface(factory, int(cfg["SESSION_HOURS"]), cfg["COOKIE_SECURE"])
    if cfg["PROXY_FIX"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

    csrf = CSRFProtect(app)

    from app import api, web
    from app.api import openapi
    from app.views import register as register_views

    csrf.exempt(api.bp)  # the API checks CSRF itself for cookie-authenticated calls
    app.register_blueprint(api.bp)
    app.register_blueprint(openapi.bp)
    register_views(app)
    app.teardown_appcontext(web.close_db)
    app.before_request(web.guard_request)

    @app.after_request
    def _security_headers(resp: Response) -> Response:
        # Every answer passes here: the headers already set are read once, not once per header added.
        headers = resp.headers
        present = {name.lower() for name, _ in headers.items()}
        for name, value in ALWAYS_HEADERS:
            if name.lower() not in present:
                headers.add(name, value)
        if resp.mimetype == "text/html" and "content-security-policy" not in present:
            headers.add("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        # After ProxyFix, so also behind a TLS-terminating proxy.
        if request.is_secure and "strict-transport-security" not in present:
            headers.add("Strict-Transport-Security", "max-age=31536000")
        return resp

    def _wants_json() -> bool:
        return request.path.startswith("/api/")

    @app.errorhandler(LotwiseError)
    def _domain_error(exc: LotwiseError) -> tuple[Any, int, dict[str, str]]:
        web.db().rollback()
        if _wants_json():
            return jsonify(exc.to_dict()), exc.status, exc.headers()
        return render_template("error.html", status=exc.status, message=exc.message), exc.status, exc.headers()

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> tuple[Any, int]:
        message = "The form expired or came from another site; reload the page and try again."
        if _wants_json():
            return jsonify({"error": {"code": "csrf", "message": message, "field": "csrf_token"}}), 400
        return render_template("error.html", status=400, message=message), 400

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        if exc.code == 413:
            message = f"The upload is larger than the {cfg['MAX_UPLOAD_MB']} MB limit"
        else:
            message = exc.description or exc.name
        # Keep what the exception says in headers (a 405's Allow, RFC 9110), not its HTML content type.
        headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
        if _wants_json():
            code = (exc.name or "error").lower().replace(" ", "_")
            return jsonify({"error": {"code": code, "message": message, "field": None}}), exc.code, headers
        return render_template("error.html", status=exc.code, message=message), exc.code, headers

    return app

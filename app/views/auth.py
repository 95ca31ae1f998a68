"""Login and logout."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for

from app.errors import TooManyAttempts
from app.services.users import sign_in
from app.web import client_address, db, now, throttle_policy

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    # Only same-site paths, so the login form cannot be used to bounce users elsewhere.
    if not target or urlsplit(target).netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("main.dashboard")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    if request.method == "POST":
        try:
            user = sign_in(db(), request.form.get("username", "").strip(), request.form.get("password", ""),
                           address=client_address(), now=now(), policy=throttle_policy())
        except TooManyAttempts as exc:
            return render_template("login.html", error=exc.message), exc.status, exc.headers()
        if user is None:
            error = "Wrong user name or password."
        else:
            session.clear()
            session["uid"] = user.id
            session["_rotate"] = True
            return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", error=error), (401 if error else 200)


@bp.post("/logout")
def logout() -> Any:
    session.clear()
    return redirect(url_for("auth.login"))

"""Shared by the supplier and customer pages: field labels, form values and the list page."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from sqlalchemy import select

from app.models import Customer, Supplier
from app.views.forms import Pager
from app.web import db

LABELS = {"gln": "GLN", "contact_name": "Contact", "min_remaining_days": "Minimum remaining days",
          "min_remaining_pct": "Minimum remaining %", "transit_days": "Transit days",
          "max_lots_per_line": "Most lots per line", "no_date_reversal": "No date reversal"}
PARTY_FIELDS = ("name", "gln", "contact_name", "phone", "email", "address")
RULE_FIELDS = ("min_remaining_days", "min_remaining_pct", "transit_days", "max_lots_per_line")


def values(obj: Supplier | Customer, fields: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in fields:
        value = getattr(obj, name)
        out[name] = "" if value is None else str(value)
    return out


def listing(model: type[Supplier] | type[Customer], template: str, kind: str) -> Any:
    pager = Pager.from_request()
    text = request.args.get("q", "").strip()
    q = select(model).order_by(model.name)
    if text:
        q = q.where(model.name.ilike(f"%{text}%"))
    rows, more = pager.cut(list(db().scalars(q.limit(pager.fetch).offset(pager.offset))))
    return render_template(template, parties=rows, more=more, pager=pager, text=text, kind=kind)


# --- suppliers ---


# --- customers ---



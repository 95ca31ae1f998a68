"""A tiny browser over the Flask test client: log in, read pages, fill in and submit their forms."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Lot, Role
from tests.helpers.api import make_user

PASSWORD = "correct horse 1"


@dataclass
class HtmlForm:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    checkboxes: dict[str, str] = field(default_factory=dict)  # unchecked boxes and their value


@dataclass
class Control:
    tag: str
    attrs: dict[str, str]
    options: list[tuple[str, str, bool]] = field(default_factory=list)  # value, text, disabled


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[HtmlForm] = []
        self.controls: dict[str, Control] = {}
        self.alerts: list[str] = []
        self.flashes: list[str] = []
        self._form: HtmlForm | None = None
        self._select: tuple[str, Control, str | None, str | None] | None = None  # name, control, selected, first
        self._option: dict[str, str] | None = None
        self._option_text = ""
        self._textarea: str | None = None
        self._capture: list[Any] | None = None
        self._depth = 0

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: v or "" for k, v in attrs_list}
        if self._capture is not None:
            self._depth += 1
        if attrs.get("role") == "alert" or "flash" in attrs.get("class", "").split():
            self._capture = [self.alerts if attrs.get("role") == "alert" else self.flashes, ""]
            self._depth = 1
        if tag == "form":
            self._form = HtmlForm(attrs.get("action", ""), attrs.get("method", "get").lower())
            self.forms.append(self._form)
        elif tag == "input":
            name = attrs.get("name")
            if not name:
                return
            self.controls[name] = Control(tag, attrs)
            if self._form is None:
                return
            kind = attrs.get("type", "text")
            if kind == "checkbox":
                if "checked" in attrs:
                    self._form.fields[name] = attrs.get("value", "on")
                else:
                    self._form.checkboxes[name] = attrs.get("value", "on")
            elif kind not in ("submit", "button"):
                self._form.fields[name] = attrs.get("value", "")
        elif tag == "select" and attrs.get("name"):
            control = Control(tag, attrs)
            self.controls[attrs["name"]] = control
            self._select = (attrs["name"], control, None, None)
        elif tag == "option" and self._select is not None:
            self._option = attrs
            self._option_text = ""
        elif tag == "textarea" and attrs.get("name"):
            self.controls[attrs["name"]] = Control(tag, attrs)
            self._textarea = attrs["name"]
            if self._form is not None:
                self._form.fields[attrs["name"]] = ""

    def handle_endtag(self, tag: str) -> None:
        if self._capture is not None:
            self._depth -= 1
            if self._depth == 0:
                self._capture[0].append(" ".join(self._capture[1].split()))
                self._capture = None
        if tag == "form":
            self._form = None
        elif tag == "option" and self._option is not None and self._select is not None:
            name, control, selected, first = self._select
            value = self._option.get("value", self._option_text.strip())
            disabled = "disabled" in self._option
            control.options.append((value, self._option_text.strip(), disabled))
            if "selected" in self._option:
                selected = value
            if first is None and not disabled:
                first = value
            self._select = (name, control, selected, first)
            self._option = None
        elif tag == "select" and self._select is not None:
            name, _, selected, first = self._select
            if self._form is not None:
                self._form.fields[name] = selected if selected is not None else (first or "")
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._capture is not None:
            self._capture[1] += data
        if self._option is not None:
            self._option_text += data
        if self._textarea is not None and self._form is not None:
            self._form.fields[self._textarea] += data


class Page:
    """A response as a user sees it: status, text, forms, fields, and the messages shown."""

    def __init__(self, response: Any) -> None:
        self.response = response
        self.status = response.status_code
        self.html = response.get_data(as_text=True)
        parser = _Parser()
        parser.feed(self.html)
        self.forms = parser.forms
        self.controls = parser.controls
        self.alerts = parser.alerts
        self.flashes = parser.flashes
        self.text = " ".join(re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)[\s\S]*?</\1>", "", self.html)).split())

    @property
    def path(self) -> str:
        return str(self.response.request.path)

    @property
    def url(self) -> str:
        """Path and query string: where a form without an action posts to."""
        query = self.response.request.query_string.decode()
        return self.path + (f"?{query}" if query else "")

    @property
    def location(self) -> str:
        return str(self.response.headers.get("Location", ""))

    def value(self, name: str) -> str:
        """The value a field shows (for a select: the selected option)."""
        for form in self.forms:
            if name in form.fields:
                return form.fields[name]
        control = self.controls.get(name)
        return control.attrs.get("value", "") if control else ""

    def invalid(self) -> list[str]:
        """Names of the fields marked aria-invalid."""
        return [name for name, c in self.controls.items() if c.attrs.get("aria-invalid") == "true"]

    def field_error(self, name: str) -> str:
        """The message shown under a field (found through its aria-describedby)."""
        control = self.controls.get(name)
        if control is None or "aria-describedby" not in control.attrs:
            return ""
        m = re.search(rf'id="{re.escape(control.attrs["aria-describedby"])}">([^<]*)<', self.html)
        return m.group(1) if m else ""

    def options(self, name: str) -> list[tuple[str, str, bool]]:
        return self.controls[name].options

    def form_with(self, name: str) -> HtmlForm:
        for form in self.forms:
            if name in form.fields or name in form.checkboxes:
                return form
        raise AssertionError(f"no form with a field {name!r} on the page")


class Browser:
    """A logged-in (or anonymous) user clicking through the pages."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.page: Page | None = None

    def get(self, path: str, follow: bool = False, **kw: Any) -> Page:
        self.page = Page(self.client.get(path, follow_redirects=follow, **kw))
        return self.page

    def post(self, path: str, data: dict[str, str], follow: bool = False) -> Page:
        self.page = Page(self.client.post(path, data=data, follow_redirects=follow))
        return self.page

    def csrf(self) -> str:
        page = self.page if self.page and "csrf_token" in self.page.html else self.get("/login")
        m = re.search(r'name="csrf_token" value="([^"]+)"', page.html)
        assert m, "no CSRF token on the page"
        return m.group(1)

    def login(self, username: str, password: str = PASSWORD) -> Page:
        token = self.csrf()
        return self.post("/login", {"csrf_token": token, "username": username, "password": password}, follow=True)

    def submit(self, page: Page, fill: dict[str, str | bool], *, key: str | None = None,
               follow: bool = True) -> Page:
        """Fill in the form holding field `key` (or the first field of `fill`) and submit it as a browser would."""
        form = page.form_with(key or next(iter(fill)))
        data = dict(form.fields)
        for name, value in fill.items():
            if isinstance(value, bool):
                if value:
                    data[name] = form.checkboxes.get(name, data.get(name, "true"))
                else:
                    data.pop(name, None)
            else:
                assert name in form.fields or name in form.checkboxes, f"the form has no field {name!r}"
                data[name] = value
        if form.method == "get":
            return self.get(form.action or page.path, query_string=data, follow=follow)
        return self.post(form.action or page.url, data, follow=follow)


def user(client: FlaskClient, session: Session, name: str, role: Role) -> Browser:
    """A browser logged in as a new user with `role`."""
    make_user(session, name, role)
    browser = Browser(client.application.test_client())
    page = browser.login(name)
    assert page.status == 200 and name in page.text, page.text[:500]
    return browser


def lot_id(session: Session, code: str) -> int:
    """The id of the lot with `code`, as committed by the pages so far."""
    session.rollback()  # end the test's read snapshot
    found = session.scalar(select(Lot.id).where(Lot.code == code))
    assert found is not None, f"no lot {code}"
    return int(found)


def count(session: Session, model: type[Any]) -> int:
    """How many rows of `model` the pages have committed."""
    session.rollback()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)

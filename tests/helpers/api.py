"""Talking to the JSON API as a user of one role, and making users and tokens for tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app import create_app
from app.models import Role

TODAY = datetime.now(UTC).date()  # the test app's site time zone is UTC
D = Decimal


class ReadingClient(FlaskClient):
    """A test client that reads every answer to its end, as a browser does: a streamed file's request (and its
    database transaction) is over before the test goes on, even when the test only looks at the status."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


def make_app(database_url: str, instance_dir: Path) -> Flask:
    """The app as the tests configure it: the site's time zone is UTC."""
    application = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
                              "INSTANCE_DIR": str(instance_dir), "TIMEZONE": "UTC"})
    application.config["TESTING"] = True
    application.test_client_class = ReadingClient
    return application


class Api:
    """A test client that talks JSON with a bearer token for one role."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get("/api/v1" + path, headers=self.headers, **kw)

    def post(self, path: str, json: Any = None, headers: dict[str, str] | None = None) -> Any:
        return self.client.post("/api/v1" + path, json=json, headers={**self.headers, **(headers or {})})

    def patch(self, path: str, json: Any = None) -> Any:
        return self.client.patch("/api/v1" + path, json=json, headers=self.headers)

    def put(self, path: str, json: Any = None) -> Any:
        return self.client.put("/api/v1" + path, json=json, headers=self.headers)

    def delete(self, path: str) -> Any:
        return self.client.delete("/api/v1" + path, headers=self.headers)


def make_user(session: Session, name: str, role: Role, password: str = "correct horse 1") -> Any:
    from app.schemas import UserIn
    from app.services.users import create_user

    return create_user(session, UserIn(username=name, role=role, password=password))


def make_token(session: Session, name: str, role: Role) -> str:
    from app.services.users import create_token

    make_user(session, name, role)
    return create_token(session, name, "tests")[1]

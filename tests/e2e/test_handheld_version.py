"""The handheld build's version: computed from the static files, written into the service worker, shown on the pages."""

from __future__ import annotations

import shutil
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.models import Role
from app.version import build_version, package_version
from tests.helpers.pages import user

STATIC = Path(__file__).resolve().parents[2] / "static"


def test_any_change_to_a_static_file_changes_the_build_version(tmp_path: Path) -> None:
    copy = tmp_path / "static"
    shutil.copytree(STATIC, copy)
    version = build_version(copy)
    assert version == build_version(STATIC) and version.startswith(f"{package_version()}-")
    script = copy / "handheld" / "pick.js"
    script.write_text(script.read_text() + "\n// changed\n")
    assert build_version(copy) != version
    script.write_text(script.read_text().removesuffix("\n// changed\n"))
    assert build_version(copy) == version
    (copy / "handheld" / "new.js").write_text("")
    assert build_version(copy) != version


def test_the_service_worker_carries_the_version_and_is_never_cached(client: FlaskClient, app: Flask) -> None:
    version = app.config["BUILD_VERSION"]
    r = client.get(f"/h/sw.js?v={version}")
    assert r.status_code == 200 and r.mimetype == "text/javascript"
    assert r.headers["Cache-Control"] == "no-cache"
    body = r.get_data(as_text=True)
    assert f'const VERSION = "{version}";' in body and "__LOTWISE_BUILD__" not in body
    app.config["BUILD_VERSION"] = "2.0.0-abcdef012345"
    assert 'const VERSION = "2.0.0-abcdef012345";' in client.get("/h/sw.js").get_data(as_text=True)


def test_handheld_pages_show_the_version_and_register_its_worker(client: FlaskClient, app: Flask,
                                                                 session: Session) -> None:
    otto = user(client, session, "otto", Role.OPERATOR)
    version = app.config["BUILD_VERSION"]
    for path in ("/h/", "/h/lookup", "/h/receive", "/h/produce", "/h/pick"):
        page = otto.get(path).html
        assert f'<span id="hh-version">{version}</span>' in page, path
        assert f'data-sw="/h/sw.js?v={version}"' in page, path

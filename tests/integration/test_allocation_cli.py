"""`lotwise allocate`: an order or a wave from the command line, with shortages and their reasons."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from app.cli import main
from tests.helpers.api import Api
from tests.helpers.bookings import TODAY, receive


def _run(database_url: str, tmp_path: Path, *args: str) -> Any:
    env = {"LOTWISE_DATABASE_URL": database_url, "LOTWISE_INSTANCE_DIR": str(tmp_path), "LOTWISE_TIMEZONE": "UTC"}
    return CliRunner().invoke(main, list(args), env=env)


def test_allocate_an_order_and_a_wave(api: Api, site: dict[str, Any], database_url: str, tmp_path: Path) -> None:
    receive(api, site["supplier"], "JAM-RASP", "10", location="DRY-01", lot_code="L40",
            expiry=(TODAY + timedelta(days=40)).isoformat())
    orders = []
    for customer in ("deli", "bigbox"):
        r = api.post("/orders", {"customer_id": site[customer], "warehouse": "MAIN", "ship_date": TODAY.isoformat(),
                                 "lines": [{"sku": "JAM-RASP", "quantity": "4"}]})
        orders.append(r.json)
    result = _run(database_url, tmp_path, "allocate", "--order", orders[0]["number"])
    assert result.exit_code == 0, result.output
    assert f"{orders[0]['number']}/1 JAM-RASP: 4 of lot L40 at DRY-01" in result.output
    result = _run(database_url, tmp_path, "allocate", "--wave", TODAY.isoformat(), "--sku", "JAM-RASP")
    assert result.exit_code == 0, result.output
    assert "Big Box needs ≥ 90 days" in result.output and "1 line(s) short" in result.output


def test_allocate_refuses_bad_arguments(api: Api, site: dict[str, Any], database_url: str, tmp_path: Path) -> None:
    assert _run(database_url, tmp_path, "allocate").exit_code != 0
    result = _run(database_url, tmp_path, "allocate", "--order", "999999")
    assert result.exit_code == 1 and "does not exist" in result.output
    past = (TODAY - timedelta(days=1)).isoformat()
    result = _run(database_url, tmp_path, "allocate", "--wave", past)
    assert result.exit_code == 1 and "in the past" in result.output

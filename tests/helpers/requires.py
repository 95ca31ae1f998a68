"""Tests that need something outside Python (a system library, a browser, an npm package) skip without it.

A developer's `pytest` on a machine with only Python stays green and says in the skip reason what to
install. CI installs everything and sets `LOTWISE_TEST_REQUIRE` (comma-separated names, or `all`): a
required thing that is missing then fails its tests instead of skipping them, so nothing CI should
run is skipped quietly.
"""

from __future__ import annotations

import os
import shutil
from functools import cache
from pathlib import Path

import pytest

REQUIRED = {name.strip() for name in os.environ.get("LOTWISE_TEST_REQUIRE", "").split(",") if name.strip()}


def required(name: str) -> bool:
    """Whether the run insists on `name` (CI does, for everything)."""
    return "all" in REQUIRED or name in REQUIRED


def needs(name: str, present: bool, install: str) -> pytest.MarkDecorator:
    """Skip when `name` is absent, with the way to install it, unless the run requires it."""
    return pytest.mark.skipif(not present and not required(name), reason=f"needs {name} ({install})")


@cache
def libzbar_present() -> bool:
    from scanning import _zbar

    try:
        _zbar.load()
    except (ImportError, OSError):
        return False
    return True


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# axe-core (npm) for the accessibility checks: `npm install --prefix DIR axe-core@4` and point
# LOTWISE_TEST_AXE at DIR/node_modules/axe-core/axe.min.js, or install it into ./node_modules.
_AXE_CANDIDATES = [
    os.environ.get("LOTWISE_TEST_AXE", ""),
    str(Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"),
]
AXE = next((p for p in _AXE_CANDIDATES if p and Path(p).is_file()), None)

needs_libzbar = needs("libzbar", libzbar_present(), "apt install libzbar0")
needs_chromium = needs("chromium", CHROMIUM is not None, "apt install chromium")
needs_axe = needs("axe-core", AXE is not None, "npm install axe-core@4 in the repository root, "
                  "or set LOTWISE_TEST_AXE to axe.min.js")

"""The test suite's own layout: shared code lives in tests/helpers or a conftest, never in a test module."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_test_module_imports_another_test_module() -> None:
    offenders = {
        f"{path.relative_to(TESTS.parent)} imports {name}"
        for path in TESTS.rglob("*.py")
        for name in _imported_modules(path)
        if name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_")
    }
    assert not offenders, "move what they share to tests/helpers/ or a conftest fixture:\n" + "\n".join(
        sorted(offenders))


def test_helpers_never_import_fixtures_from_conftest() -> None:
    offenders = {
        str(path.relative_to(TESTS.parent))
        for path in (TESTS / "helpers").rglob("*.py")
        if any(name.startswith("tests.") and name.endswith("conftest") for name in _imported_modules(path))
    }
    assert not offenders

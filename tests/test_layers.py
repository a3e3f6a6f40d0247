"""The domain does not import the HTTP layer: routers convert between their schemas and the
domain's own types."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_the_sync_domain_never_imports_the_api() -> None:
    offenders = {
        str(path.relative_to(APP)): sorted(
            n for n in _imports(path) if n == "app.api" or n.startswith("app.api.")
        )
        for path in (APP / "sync").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}

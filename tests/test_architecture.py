"""The dependency direction of the design card, checked on the source (not at runtime).

geo imports nothing of ours; planner imports geo; the faces (maps, api, the dianmian CLI)
import planner/geo; nothing imports a face.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = {"geo", "planner", "maps", "api", "dianmian"}
ALLOWED = {
    "geo": {"geo"},
    "planner": {"geo", "planner"},
    "maps": {"geo", "planner", "maps"},
    "api": {"geo", "planner", "api"},
    "dianmian": OURS,
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & OURS


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_dependency_direction(package):
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) - ALLOWED[package])
        for path in (ROOT / package).rglob("*.py")
        if _imports(path) - ALLOWED[package]
    }
    assert offenders == {}

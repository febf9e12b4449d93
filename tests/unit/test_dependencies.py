"""Every runtime dependency pinned in pyproject.toml is imported by the product code, or is
named here with the reason it is needed without an import (issue 14: two pins that nothing
imported had stayed for months)."""

from __future__ import annotations

import ast
import re
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("schemas", "services", "auction")

NEEDED_WITHOUT_IMPORT = {
    "greenlet": "SQLAlchemy's asyncio engine, which runs the migrations, needs it",
    "httptools": "uvicorn loads it by the name given in services/ingest/server.py",
    "uvloop": "uvicorn loads it by the name given in services/ingest/server.py",
    "tzdata": "zoneinfo reads it where the system has no timezone database",
}


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pinned() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {
        _normalized(re.split(r"[\[=<>~!; ]", spec, maxsplit=1)[0])
        for spec in project["dependencies"]
    }


def _imported_distributions() -> set[str]:
    top_levels: set[str] = set()
    for root in (ROOT / name for name in PRODUCT):
        for path in root.rglob("*.py") if root.is_dir() else ():
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    top_levels |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    top_levels.add(node.module.split(".")[0])
    owners = packages_distributions()
    return {_normalized(d) for top in top_levels for d in owners.get(top, [])}


def test_every_runtime_dependency_is_imported_or_explained():
    unused = _pinned() - _imported_distributions() - set(NEEDED_WITHOUT_IMPORT)
    assert unused == set(), f"pinned but imported by no product module: {sorted(unused)}"


def test_the_explained_exceptions_are_still_pinned():
    assert set(NEEDED_WITHOUT_IMPORT) <= _pinned()

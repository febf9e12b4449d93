"""The runtime dependencies in pyproject.toml and the product code's imports agree both ways:
every pin is imported, or named here with the reason it is needed without an import (issue
14: two pins that nothing imported had stayed for months); and nothing the product code
imports comes only with the dev extra (the service image installs no extra)."""

from __future__ import annotations

import ast
import re
import tomllib
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("schemas", "services", "auction")

NEEDED_WITHOUT_IMPORT = {
    "greenlet": "SQLAlchemy's asyncio engine, which runs the migrations, needs it",
    "httptools": "uvicorn loads it by the name given in services/ingest/server.py",
    "uvloop": "uvicorn loads it by the name given in services/ingest/server.py",
    "tzdata": "zoneinfo reads it where the system has no timezone database",
    "python-multipart": "FastAPI parses form bodies with it (the OAuth2 login, POST /auth/token)",
}


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pinned() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {_name(spec) for spec in project["dependencies"]}


def _name(requirement: str) -> str:
    return _normalized(re.split(r"[\[=<>~!; (]", requirement, maxsplit=1)[0])


def _runtime_install() -> set[str]:
    """The pins and everything they require (as installed here), extras of theirs aside."""
    seen: set[str] = set()
    todo = sorted(_pinned())
    while todo:
        dist = todo.pop()
        if dist in seen:
            continue
        seen.add(dist)
        try:
            needs = requires(dist) or []
        except PackageNotFoundError:
            continue
        todo += [_name(r) for r in needs if "extra ==" not in r]
    return seen


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
    third_party = top_levels - set(PRODUCT)
    return {_normalized(d) for top in third_party for d in owners.get(top, [])}


def test_every_runtime_dependency_is_imported_or_explained():
    unused = _pinned() - _imported_distributions() - set(NEEDED_WITHOUT_IMPORT)
    assert unused == set(), f"pinned but imported by no product module: {sorted(unused)}"


def test_the_explained_exceptions_are_still_pinned():
    assert set(NEEDED_WITHOUT_IMPORT) <= _pinned()


def test_product_code_imports_only_what_a_runtime_install_brings():
    dev_only = _imported_distributions() - _runtime_install()
    assert dev_only == set(), (
        f"imported by product code, installed only by .[dev]: {sorted(dev_only)}"
    )

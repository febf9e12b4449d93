"""The rules of the house (docs/architecture.md, "Rules of the house"), read from the imports.

Every `import` and `from ... import` of the product code is read with `ast` (at module level
and inside functions alike), so a rule cannot be broken by a lazy import either. What a
module loads through importlib is not seen here; the console script and the development
toolbox, the two places that do, are also imported in a fresh interpreter and their loaded
modules listed.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = ("schemas", "services", "auction")

# The auction engine: a top-level package beside schemas/ once it moves there (issue 14).
AUCTION = "auction"

# Every package under services/ but the runtime library and the toolbox is a service.
SERVICES = sorted(
    p.name
    for p in (ROOT / "services").iterdir()
    if (p / "__init__.py").exists() and p.name not in ("common", "devstack")
)

# Third-party packages that mean Kafka, a database or the web: none in the auction engine.
IO_PACKAGES = {
    "aiokafka", "kafka", "confluent_kafka", "asyncpg", "psycopg", "psycopg2", "sqlalchemy",
    "alembic", "fastapi", "starlette", "uvicorn", "httpx", "requests", "aiohttp", "sqladmin",
}  # fmt: skip


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the module imported (for `from m import name`: m.name when that is a module)
    names: tuple[str, ...]  # the names taken by `from m import ...`
    line: int

    def __str__(self) -> str:
        taken = f" ({', '.join(self.names)})" if self.names else ""
        return f"{self.source}:{self.line} imports {self.target}{taken}"


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(dotted: str) -> bool:
    base = ROOT.joinpath(*dotted.split("."))
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


@cache
def _product_files() -> tuple[Path, ...]:
    roots = [ROOT / name for name in FIRST_PARTY if (ROOT / name).is_dir()]
    return tuple(sorted(p for root in roots for p in root.rglob("*.py") if ".venv" not in p.parts))


@cache
def _imports(path: Path) -> tuple[Import, ...]:
    return _read(path.read_text(), _module(path), path.name == "__init__.py")


def _read(code: str, source: str, is_package: bool) -> tuple[Import, ...]:
    package = source if is_package else source.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            found += [Import(source, a.name, (), node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the importing package upwards
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            for alias in node.names:
                child = f"{base}.{alias.name}"
                target = child if _is_module(child) else base
                found.append(Import(source, target, (alias.name,), node.lineno))
    return tuple(found)


def _files_of(package: str) -> list[Path]:
    return [p for p in _product_files() if _within(_module(p), package)]


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _first_party(imp: Import) -> bool:
    return imp.target.split(".")[0] in FIRST_PARTY


def _outside(package: str, allowed: tuple[str, ...], but: tuple[str, ...] = ()) -> list[str]:
    """First-party imports of `package`'s modules that fall outside `allowed` (or inside one
    of `but`, a part of an allowed package that is itself off limits)."""
    return [
        str(imp)
        for path in _files_of(package)
        for imp in _imports(path)
        if _first_party(imp)
        and (
            not any(_within(imp.target, a) for a in allowed)
            or any(_within(imp.target, b) for b in but)
        )
    ]


def test_the_rules_see_every_layer():
    """A rule over an empty or misnamed package would hold trivially: each one has files."""
    for package in ("schemas", "services.common", "services.devstack", AUCTION):
        assert _files_of(package), package
    assert {"ingest", "aggregator", "decisions", "market"} <= set(SERVICES)


def test_imports_inside_functions_and_relative_imports_are_read():
    code = "def f():\n    from services.ingest import app\nfrom . import clock\nimport numpy\n"
    found = {(i.target, i.names) for i in _read(code, "services.common.x", is_package=False)}
    assert found == {
        ("services.ingest.app", ("app",)),
        ("services.common.clock", ("clock",)),
        ("numpy", ()),
    }


def test_schemas_import_nothing_of_services_or_the_engine():
    assert _outside("schemas", ("schemas",)) == []


def test_the_runtime_library_imports_only_schemas_and_the_engine():
    # "auction" is the engine only as a top-level package; inside the aggregator it is a
    # service's module and the rule below forbids it.
    assert _outside("services.common", ("schemas", "services.common", "auction")) == []


@pytest.mark.parametrize("service", SERVICES)
def test_no_service_imports_another_or_the_toolbox(service):
    own = f"services.{service}"
    allowed = ("schemas", "services.common", own, "auction")
    assert _outside(own, allowed) == []


def test_the_toolbox_imports_no_service_module():
    allowed = ("schemas", "services.common", "services.devstack")
    assert _outside("services.devstack", allowed) == []


def test_the_auction_engine_imports_no_kafka_database_or_web_code():
    foreign = [
        str(imp)
        for path in _files_of(AUCTION)
        for imp in _imports(path)
        if imp.target.split(".")[0] in IO_PACKAGES
    ]
    assert foreign == []
    assert _outside(AUCTION, ("schemas", AUCTION)) == []


def test_no_module_takes_a_private_name_of_another():
    private = [
        str(imp)
        for path in _product_files()
        for imp in _imports(path)
        if _first_party(imp)
        and imp.target != imp.source
        and any(n.startswith("_") and not n.startswith("__") for n in imp.names)
    ]
    assert private == []


def _loaded_by(*modules: str, then: str = "") -> set[str]:
    """The first-party modules a fresh interpreter holds after importing `modules` (and
    running the statement `then`)."""
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + then + "\n"
    code += f"print('\\n'.join(m for m in sys.modules if m.split('.')[0] in {FIRST_PARTY!r}))"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def _service_modules(loaded: set[str]) -> list[str]:
    return sorted(m for m in loaded for s in SERVICES if _within(m, f"services.{s}"))


def test_the_console_script_loads_no_part_before_its_verb_runs():
    loaded = _loaded_by("services.cli")
    assert _service_modules(loaded) == []
    assert not any(_within(m, "services.devstack") for m in loaded)


def test_the_toolbox_loads_no_service_module_even_lazily():
    toolbox = [_module(p) for p in _files_of("services.devstack")]
    loaded = _loaded_by(*toolbox)
    assert set(toolbox) <= loaded
    assert _service_modules(loaded) == []


@pytest.mark.parametrize(
    ("verb", "service"),
    [("ingest", "ingest"), ("decisions", "decisions"), ("market", "market"),
     ("aggregator", "aggregator"), ("config", "aggregator")],
)  # fmt: skip
def test_a_service_verb_loads_that_service_alone(verb, service):
    loaded = _loaded_by("services.cli", then=f"services.cli.load_verb({verb!r})")
    assert f"services.{service}.cli" in loaded
    others = [m for m in _service_modules(loaded) if not _within(m, f"services.{service}")]
    assert others == []
    assert not any(_within(m, "services.devstack") for m in loaded)

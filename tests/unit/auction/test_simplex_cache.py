"""numba's cache notices edits to a cached function's own file only; the simplex's entry
is keyed by a digest of every module of its package instead (auction/simplex/jit.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from auction.simplex import jit, kernel

ROOT = Path(__file__).resolve().parents[3]


def test_the_digest_changes_with_any_module_of_the_package(tmp_path: Path) -> None:
    for name in ("kernel.py", "pivot.py"):
        (tmp_path / name).write_text("x = 1\n")
    before = jit.sources_digest(tmp_path)
    (tmp_path / "pivot.py").write_text("x = 2\n")  # not the entry's own file
    assert jit.sources_digest(tmp_path) != before


def test_the_cached_entry_is_keyed_by_the_digest_of_the_sources_it_runs() -> None:
    closure = kernel.run.py_func.__closure__
    assert closure is not None
    assert jit.sources_digest() in [cell.cell_contents for cell in closure]


@pytest.mark.slow
def test_an_edited_callee_is_compiled_again_not_loaded_stale(tmp_path: Path) -> None:
    """A copy of the package in a scratch cache: solve, edit a callee's file (not the entry's),
    solve again in a fresh process: the edit shows."""
    package = tmp_path / "auction"
    subprocess.run(["cp", "-r", str(ROOT / "auction"), str(package)], check=True)
    for cache in package.rglob("__pycache__"):
        subprocess.run(["rm", "-rf", str(cache)], check=True)
    probe = (
        "import numpy as np\n"
        "from auction.simplex import network_simplex\n"
        "a = np.array\n"
        "f, pi, piv = network_simplex(3, a([0, 2, 0]), a([2, 1, 1]), a([5, 5, 5]),"
        " a([1, 1, 9]), a([5, -5, 0]))\n"
        "print(piv)\n"
    )

    def pivots() -> str:
        env = os.environ | {"PYTHONPATH": str(tmp_path), "NUMBA_CACHE_DIR": str(tmp_path / "nb")}
        done = subprocess.run(
            [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True,
            text=True, timeout=600, check=True,
        )  # fmt: skip
        return done.stdout.strip()

    first = pivots()
    search = package / "simplex" / "search.py"
    code = search.read_text()
    # block_search counts every pivot twice: an edit in a callee's file that the result shows
    edited = code.replace(
        "        pivots += 1\n    return True", "        pivots += 2\n    return True"
    )
    assert edited != code
    search.write_text(edited)
    assert int(pivots()) > int(first) > 0

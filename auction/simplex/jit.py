"""How the simplex's kernels are compiled: numba, with an on-disk cache that stays true.

Only one kernel is cached, the entry `kernel.run`; the others are compiled into it.
numba checks a cached function against its own source file only, so an edit to a kernel
in another file would leave the entry running the old code from the cache ("changes in
symbols defined in another file are not recognised", numba's notes on caching). The entry
is therefore made as a closure over `sources_digest()`, a hash of every module of this
package: numba keys its cache by the closure's contents too, so any edit here compiles
the entry again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from numba import njit

HERE = Path(__file__).resolve().parent


def sources_digest(folder: Path = HERE) -> str:
    """SHA-256 of the package's Python sources (names and contents, in name order)."""
    h = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def kernel(fn: Callable[..., Any]) -> Any:
    """A kernel called only from other kernels: compiled into its caller, never cached alone."""
    return njit(cache=False)(fn)


def cached_entry(fn: Callable[..., Any]) -> Any:
    """`njit(cache=True)`: compiled once per checkout, then loaded from `__pycache__` (or
    NUMBA_CACHE_DIR). Where no cache location is writable (a read-only install run by
    another user, e.g. the Docker image), numba refuses cache=True at import; then compile
    in each process instead (~12 s on its first solve) rather than fail."""
    try:
        return njit(cache=True)(fn)
    except RuntimeError:
        return njit(cache=False)(fn)

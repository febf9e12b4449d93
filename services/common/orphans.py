"""No orphans: a child process asks the kernel to signal it when its parent dies.

Both the services (the aggregator's plan-check worker pool) and the development toolbox
(every process that `chargeflow up` starts) need this, so it lives in the runtime library.
Linux only (PR_SET_PDEATHSIG); elsewhere it does nothing and a SIGKILLed parent can leave
its children behind.

The kernel sends the signal when the *thread* that started the child ends, not the
process: whoever spawns children must do it from a thread that outlives them.
"""

from __future__ import annotations

import ctypes
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int) -> None:
    """Call in the child (a preexec_fn or a pool initializer): `sig` when the parent dies."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)

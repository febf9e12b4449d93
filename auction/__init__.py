"""The auction engine (DESIGN §6): pure functions, no I/O; see docs/auction.md.

It imports only `schemas/` and numeric libraries (numpy, numba, OR-Tools, HiGHS); its one
edge is `cli.py`, the command line that reads an instance file and prints the result.

`clear(instance, phase)` returns the AuctionResult and raises InstanceError (listing every
error) for an invalid instance; `check_instance` lists those errors without solving;
FlowError means a solver failed to reach an optimum.
"""

from auction.clear import InstanceError, clear
from auction.flow import FlowError
from auction.instance_check import check_instance

__all__ = ["FlowError", "InstanceError", "check_instance", "clear"]

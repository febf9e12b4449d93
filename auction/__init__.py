"""The auction engine (DESIGN §6): pure functions, no I/O. See docs/auction.md.

`clear(instance, phase)` returns the AuctionResult and raises InstanceError (listing every
error) for an invalid instance.
"""

from auction.clear import InstanceError, clear

__all__ = ["InstanceError", "clear"]

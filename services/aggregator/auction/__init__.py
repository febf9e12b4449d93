"""The auction engine (DESIGN §6): pure functions, no I/O. See docs/auction.md.

    from services.aggregator.auction import clear
    result = clear(instance, phase=1)      # AuctionResult; raises InstanceError
"""

from services.aggregator.auction.clear import InstanceError, clear

__all__ = ["InstanceError", "clear"]

"""The network simplex (docs/auction.md, "The network simplex"): see solver.py."""

from auction.simplex.solver import SimplexError, network_simplex

__all__ = ["SimplexError", "network_simplex"]

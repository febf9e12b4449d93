"""`chargeflow client`: a driver's command line for the HTTP APIs (talks HTTP only)."""

"""`python -m services.decisions`: the decisions service on CHARGEFLOW_DECISIONS_PORT (8080)."""

from services.decisions.server import serve

serve()

"""`python -m services.client ...`: the same as `chargeflow client ...`, with fewer imports."""

from services.client.cli import app

app(prog_name="chargeflow client")

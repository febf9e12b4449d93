"""``python -m auction clear INSTANCE.json``: the same as ``chargeflow auction clear``."""

from auction.cli import app

app(prog_name="python -m auction")

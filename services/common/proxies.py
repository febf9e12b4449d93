"""Which peers may tell the services a client's address (uvicorn's ``forwarded_allow_ips``).

uvicorn replaces the ASGI scope's ``client`` with the address in ``X-Forwarded-For`` only
for connections from these peers; the per-address rate limit (addresslimit.py) counts that
address. Trusting a peer that does not overwrite the header lets any client choose its own
address, so the default trusts only 127.0.0.1 (a proxy on the same host).
"""

from __future__ import annotations

import ipaddress


def check_forwarded_allow_ips(value: str) -> str:
    """``value`` if it is "*" or comma-separated IP addresses / networks, else ValueError."""
    entries = [entry.strip() for entry in value.split(",") if entry.strip()]
    if not entries:
        raise ValueError('must name at least one address or network, or "*"')
    for entry in entries:
        if entry == "*":
            continue
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network") from None
    return ",".join(entries)

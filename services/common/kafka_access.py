"""How a service reaches the broker and proves who it is (DESIGN §4 Access).

Every Kafka client a service creates (producers, group members, plain readers, the admin
client that creates topics) is built from one `BrokerAccess`, so a service has exactly one
principal and no client can be left unauthenticated by accident. A bare bootstrap string
still works everywhere (tests, benchmarks, the open embedded broker): it means PLAINTEXT.

Production uses SASL_SSL or SASL_PLAINTEXT with SCRAM-SHA-512 (one user per service; see
docs/operations.md) or mutual TLS (SSL with a client certificate). The embedded Tansu broker
cannot authenticate anyone with memory storage, so the development stack stays PLAINTEXT
on 127.0.0.1 (docs/operations.md, "Kafka access control").
"""

from __future__ import annotations

import ipaddress
import logging
import ssl
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from aiokafka.helpers import create_ssl_context
from pydantic import SecretStr

log = logging.getLogger(__name__)

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
# PLAIN is deliberately absent: it hands the password itself to the broker (SCRAM only
# proves knowing it), and Tansu 0.6 does not offer it at all.
SaslMechanism = Literal["SCRAM-SHA-256", "SCRAM-SHA-512"]


@dataclass(frozen=True)
class BrokerAccess:
    """Where the broker is and the credentials of this service's principal."""

    bootstrap: str
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    username: str | None = None
    password: SecretStr | None = None  # repr shows '**********'
    ca_file: Path | None = None  # None: the system's trusted CAs
    cert_file: Path | None = None  # client certificate (mutual TLS)
    key_file: Path | None = None

    def __str__(self) -> str:
        """For logs: protocol, principal and servers, never the password."""
        who = f"{self.principal}@" if self.principal else ""
        return f"{self.security_protocol.lower()}://{who}{self.bootstrap}"

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    @property
    def authenticated(self) -> bool:
        """Does the broker learn who we are (SASL, or TLS with a client certificate)?"""
        return self.uses_sasl or (self.uses_tls and self.cert_file is not None)

    @property
    def principal(self) -> str | None:
        return self.username if self.uses_sasl else None

    def ssl_context(self) -> ssl.SSLContext:
        return create_ssl_context(
            cafile=str(self.ca_file) if self.ca_file else None,
            certfile=str(self.cert_file) if self.cert_file else None,
            keyfile=str(self.key_file) if self.key_file else None,
        )

    def client_options(self) -> dict[str, object]:
        """Keyword arguments for any aiokafka client (producer, consumer, admin)."""
        options: dict[str, object] = {
            "bootstrap_servers": self.bootstrap,
            "security_protocol": self.security_protocol,
        }
        if self.uses_sasl:
            if not self.username or self.password is None:
                raise ValueError(f"{self.security_protocol} needs a username and a password")
            options["sasl_mechanism"] = self.sasl_mechanism
            options["sasl_plain_username"] = self.username
            options["sasl_plain_password"] = self.password.get_secret_value()
        if self.uses_tls:
            options["ssl_context"] = self.ssl_context()
        _warn_if_open(self.bootstrap, self.authenticated)
        return options


Broker = str | BrokerAccess
"""What the client factories take: a full `BrokerAccess`, or a bootstrap string (open)."""


def access(broker: Broker) -> BrokerAccess:
    return broker if isinstance(broker, BrokerAccess) else BrokerAccess(broker)


def _loopback(bootstrap: str) -> bool:
    for server in bootstrap.split(","):
        host = server.strip().rsplit(":", 1)[0].strip("[]")
        if host == "localhost":
            continue
        try:
            if not ipaddress.ip_address(host).is_loopback:
                return False
        except ValueError:
            return False  # a host name: another machine, as far as we know
    return True


@cache
def _warn_if_open(bootstrap: str, authenticated: bool) -> None:
    """Once per broker: say loudly that a non-local broker is used without credentials."""
    if not authenticated and not _loopback(bootstrap):
        log.warning(
            "Kafka clients for %s are not authenticated (CHARGEFLOW_KAFKA_SECURITY_PROTOCOL="
            "PLAINTEXT): anyone who reaches the broker can write every topic; see "
            "docs/operations.md, 'Kafka access control'",
            bootstrap,
        )

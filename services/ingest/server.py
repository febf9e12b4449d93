"""Running the gateway: uvicorn with uvloop and httptools, settings from the environment."""

from __future__ import annotations

import logging
from typing import Any

import uvicorn

from services.common import stackfile
from services.common.settings import load_settings
from services.ingest.app import create_app
from services.ingest.settings import Settings


def app_from_env() -> object:
    """Factory for `uvicorn --factory services.ingest.server:app_from_env` (several workers)."""
    return create_app(load_settings(Settings))


def serve(settings: Settings | None = None) -> None:
    settings = settings or load_settings(Settings)
    # Fail fast with a one-line message (not a lifespan traceback) when nothing is running.
    stackfile.kafka_bootstrap(settings)
    stackfile.database_url(settings)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(message)s")
    common: dict[str, Any] = {
        "host": settings.ingest_host,
        "port": settings.ingest_port,
        "loop": "uvloop",
        "http": "httptools",
        "access_log": False,  # a log line per request costs CPU; /metrics counts them
        # the client address of the per-address limit: X-Forwarded-For from these peers only
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        "log_level": settings.log_level.lower(),
    }
    if settings.ingest_workers > 1:
        uvicorn.run(
            "services.ingest.server:app_from_env",
            factory=True,
            workers=settings.ingest_workers,
            **common,
        )  # type: ignore[arg-type]
    else:
        uvicorn.run(create_app(settings), **common)  # type: ignore[arg-type]

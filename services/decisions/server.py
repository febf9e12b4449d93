"""Run the service with uvicorn (used by `python -m services.decisions` and the CLI)."""

from __future__ import annotations

import logging

import uvicorn
from fastapi import FastAPI

from services.common.settings import load_settings
from services.decisions.app import create_app
from services.decisions.settings import Settings


def app_from_env() -> FastAPI:
    """The app of one worker process (uvicorn imports this factory in every worker)."""
    settings = load_settings(Settings)
    _logging(settings)
    return create_app(settings)


def _logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )


def serve(settings: Settings | None = None) -> None:
    settings = settings or load_settings(Settings)
    _logging(settings)
    if settings.decisions_workers > 1:
        # Several processes on one port (one Python process serves ~800-1 600 trivial
        # requests/s here). Every worker is a full replica: its consumer joins the same
        # group (partitions are spread, offsets live in PostgreSQL) and its GET cache is
        # dropped by the same NOTIFY, exactly like separate replicas.
        uvicorn.run(
            "services.decisions.server:app_from_env",
            factory=True,
            workers=settings.decisions_workers,
            host=settings.decisions_host,
            port=settings.decisions_port,
            log_level=settings.log_level.lower(),
            access_log=False,
            proxy_headers=True,
            forwarded_allow_ips=settings.forwarded_allow_ips,
        )
        return
    uvicorn.run(
        create_app(settings),
        host=settings.decisions_host,
        port=settings.decisions_port,
        log_level=settings.log_level.lower(),
        access_log=False,
        # the client address of the per-address limit: X-Forwarded-For from these peers only
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )

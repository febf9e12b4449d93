"""Run the service with uvicorn (used by `python -m services.decisions` and the CLI)."""

from __future__ import annotations

import logging

import uvicorn

from services.common.settings import load_settings
from services.decisions.app import create_app
from services.decisions.settings import Settings


def serve(settings: Settings | None = None) -> None:
    settings = settings or load_settings(Settings)
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    uvicorn.run(
        create_app(settings),
        host=settings.decisions_host,
        port=settings.decisions_port,
        log_level=settings.log_level.lower(),
        access_log=False,
    )

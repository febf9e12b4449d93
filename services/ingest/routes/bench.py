"""A no-op endpoint for bench/ingest.py: same server and middleware, no work (the baseline)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

router = APIRouter(include_in_schema=False)


@router.post("/_bench/noop")
async def noop(request: Request) -> Response:
    """Read the body and answer 202: what the gateway costs at minimum."""
    await request.body()
    return Response(b'{"status":"accepted"}', 202, media_type="application/json")

"""`python -m services.ingest`: run the gateway with uvicorn (uvloop + httptools)."""

from __future__ import annotations

from services.ingest.server import serve

if __name__ == "__main__":
    serve()

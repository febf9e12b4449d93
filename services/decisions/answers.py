"""GET answers of the decisions APIs: JSON with an ETag, or 304 when the client has it."""

from __future__ import annotations

import hashlib

from starlette.responses import Response

# Decisions change (phase 2 replaces phase 1): clients revalidate every time, cheaply via ETag.
CACHE_CONTROL = "private, no-cache"


def etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def matches(if_none_match: str | None, tag: str) -> bool:
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or tag in tags


def answer(body: bytes, tag: str, if_none_match: str | None) -> Response:
    headers = {"ETag": tag, "Cache-Control": CACHE_CONTROL, "Vary": "Authorization"}
    if matches(if_none_match, tag):
        return Response(status_code=304, headers=headers)
    return Response(body, headers=headers, media_type="application/json")

"""Keyset paging of the decision lists: a page ends at a key, the next starts after it.

Keyset rather than offset: a page costs the same however deep it is (the query starts at
the key, using the (delivery_day, vehicle_id) indexes), and decisions arriving meanwhile
do not shift later pages. The cursor is opaque to clients: base64url of
``[section, vehicle_id, plan_id]`` of the page's last item (section 0: decided plans,
1: plans without a decision yet, which come after all decided ones).
"""

from __future__ import annotations

import base64
import binascii
from typing import NamedTuple
from uuid import UUID

import orjson

from schemas.base import FieldError
from services.decisions.problems import ProblemError

PAGE = 1_000  # default page size
MAX_PAGE = 10_000


class Cursor(NamedTuple):
    section: int
    vehicle_id: str
    plan_id: UUID


def encode_cursor(cursor: Cursor) -> str:
    raw = orjson.dumps([cursor.section, cursor.vehicle_id, str(cursor.plan_id)])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(text: str) -> Cursor:
    """The cursor a previous page handed out; 422 naming ``cursor`` for anything else."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        section, vehicle_id, plan_id = orjson.loads(raw)
        if section not in (0, 1) or not isinstance(vehicle_id, str) or len(vehicle_id) > 64:
            raise ValueError("out of range")
        if "\x00" in vehicle_id:  # PostgreSQL text cannot hold it
            raise ValueError("out of range")
        return Cursor(section, vehicle_id, UUID(plan_id))
    except (binascii.Error, ValueError, TypeError, AttributeError) as exc:
        err = FieldError(loc="cursor", reason="not a cursor this service handed out")
        raise ProblemError(422, "invalid request parameters", [err]) from exc

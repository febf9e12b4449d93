"""Keyset paging of the decision lists: a page ends at a key, the next starts after it.

Keyset rather than offset: a page costs the same however deep it is (the query starts at
the key, using the (delivery_day, vehicle_id) indexes), and decisions arriving meanwhile
do not shift later pages. The cursor is the key of the page's last item as
``<section>:<plan_id>:<vehicle_id>`` (section 0: decided plans, 1: plans without a
decision yet, which come after all decided ones). Clients pass it back as it is; its
published pattern admits only cursors that name a position, so any string matching it
is a valid request (it starts after that position).
"""

from __future__ import annotations

from typing import NamedTuple
from uuid import UUID

PAGE = 1_000  # default page size
MAX_PAGE = 10_000

_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
# PostgreSQL text cannot hold NUL; vehicle ids are at most 64 characters (schemas.plan)
CURSOR_PATTERN = rf"^[01]:{_UUID}:[^\x00]{{0,64}}$"


class Cursor(NamedTuple):
    section: int
    vehicle_id: str
    plan_id: UUID


def encode_cursor(cursor: Cursor) -> str:
    return f"{cursor.section}:{cursor.plan_id}:{cursor.vehicle_id}"


def decode_cursor(text: str) -> Cursor:
    """A cursor that matches CURSOR_PATTERN (FastAPI checked it: 422 otherwise)."""
    section, plan_id, vehicle_id = text.split(":", 2)
    return Cursor(int(section), vehicle_id, UUID(plan_id))

"""Keyset paging of the decision lists: a page ends at a key, the next starts after it.

Keyset rather than offset: a page costs the same however deep it is (the query starts at
the key, using the (delivery_day, vehicle_id) indexes), and decisions arriving meanwhile
do not shift later pages. Items are ordered by (delivery_day, section, vehicle_id,
plan_id): day by day, and within a day decided plans (section 0) before plans without a
decision yet (section 1).

The cursor is the key of the page's last item as ``<k>:<section>:<plan_id>:<vehicle_id>``,
where ``k`` is its day's offset from the first day of the request (0 for a single day).
Clients pass it back as it is, with the same day parameters; its published pattern admits
only cursors that name a position, so any string matching it is a valid request (it starts
after that position; an offset beyond the request's last day gives an empty last page).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import NamedTuple
from uuid import UUID

PAGE = 1_000  # default page size
MAX_PAGE = 10_000

_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
# PostgreSQL text cannot hold NUL; vehicle ids are at most 64 characters (schemas.plan)
CURSOR_PATTERN = rf"^[0-9]{{1,3}}:[01]:{_UUID}:[^\x00]{{0,64}}$"
NIL = UUID(int=0)


class Cursor(NamedTuple):
    day_offset: int
    section: int
    vehicle_id: str
    plan_id: UUID


class Bound(NamedTuple):
    """Rows strictly after (delivery_day, vehicle_id, plan_id); vehicle ids are never empty,
    so (day, "", NIL) admits every row of ``day`` and later."""

    delivery_day: date
    vehicle_id: str
    plan_id: UUID


def encode_cursor(cursor: Cursor) -> str:
    return f"{cursor.day_offset}:{cursor.section}:{cursor.plan_id}:{cursor.vehicle_id}"


def decode_cursor(text: str) -> Cursor:
    """A cursor that matches CURSOR_PATTERN (FastAPI checked it: 422 otherwise)."""
    offset, section, plan_id, vehicle_id = text.split(":", 3)
    return Cursor(int(offset), int(section), vehicle_id, UUID(plan_id))


def cursor_after(first: date, day: date, section: int, vehicle_id: str, plan_id: UUID) -> Cursor:
    """The cursor of an item of ``day`` in a request whose first day is ``first``."""
    return Cursor((day - first).days, section, vehicle_id, plan_id)


def bounds(first: date, last: date, after: Cursor | None) -> tuple[Bound | None, Bound | None]:
    """Where the decided and the undecided part of the page start (None: that part has
    nothing left), for the days ``first`` … ``last`` after ``after``."""
    start = Bound(first, "", NIL)
    if after is None:
        return start, start
    if after.day_offset > (last - first).days:
        return None, None
    day = first + timedelta(days=after.day_offset)
    key = Bound(day, after.vehicle_id, after.plan_id)
    if after.section == 0:  # within the decided plans of `day`: all its undecided ones follow
        return key, Bound(day, "", NIL)
    # after an undecided plan of `day`: the decided ones resume on the next day
    following = Bound(day + timedelta(days=1), "", NIL) if day < last else None
    return following, key

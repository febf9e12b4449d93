"""Parameter types of the decisions API that accept exactly what the OpenAPI document says.

FastAPI validates parameters with pydantic's lax rules, which read more than the published
``format: date``: "0" or "1700000000" become dates (Unix time). Here a day is a
``YYYY-MM-DD`` string only (422 naming the parameter otherwise), and texts never hold NUL,
which PostgreSQL cannot store (a database error otherwise).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import BeforeValidator

NO_NUL = r"^[^\x00]*$"
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: object) -> object:
    if isinstance(value, str) and not _ISO_DAY.fullmatch(value):
        raise ValueError("must be a date as YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_iso_day)]
"""A calendar day written YYYY-MM-DD (schema: string, format date)."""

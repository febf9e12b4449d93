"""Fast msgspec mirrors of pydantic models, derived from the models' declared constraints.

The ingest gateway parses batches with msgspec structs that mirror ``ChargingPlan`` (about
ten times faster than pydantic). A hand-written copy of each bound could drift from the
model; here every struct field's type and constraints are *read from the pydantic field*
(``annotated_types`` metadata: ge/gt/le/lt, min/max length, pattern), and
:func:`check_mirror` verifies at import that a struct has exactly its model's fields, in
order, with the same defaults. A constraint msgspec cannot express makes the import fail
(``TypeError``), so adding one to a model forces a decision here, not a silent gap.

What msgspec cannot check on dates and timestamps (their range) is returned by
:func:`date_bounds` from the same declarations, for the mirror's own post-check.
"""

from __future__ import annotations

import types
from datetime import date, datetime
from typing import Annotated, Any, Union, get_args, get_origin
from uuid import UUID

import annotated_types as at
import msgspec
from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, WithJsonSchema
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from schemas.base import in_time_range, iso_day_text, iso_text

_NUMERIC = {"ge": at.Ge, "gt": at.Gt, "le": at.Le, "lt": at.Lt}
# Validators the mirror covers otherwise: msgspec (strict) reads dates and datetimes only
# from strings, like iso_day_text and iso_text; the time range is the mirror's post-check
# (see date_bounds).
_COVERED = {iso_text, iso_day_text, in_time_range}


def _constraints(
    metadata: list[Any], numeric: bool, covered: frozenset[str] = frozenset()
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in metadata:
        if isinstance(item, at.Ge | at.Gt | at.Le | at.Lt):
            if numeric:
                name = next(n for n, kind in _NUMERIC.items() if isinstance(item, kind))
                out[name] = getattr(item, name)
            continue  # dates: see date_bounds
        if isinstance(item, at.MinLen):
            out["min_length"] = item.min_length
        elif isinstance(item, at.MaxLen):
            out["max_length"] = item.max_length
        elif getattr(item, "pattern", None) is not None:
            if item.pattern not in covered:
                out["pattern"] = _python_regex(item.pattern)
        elif isinstance(item, BeforeValidator | AfterValidator) and item.func in _COVERED:
            continue
        elif isinstance(item, WithJsonSchema):
            continue
        else:
            raise TypeError(f"no msgspec mirror for the constraint {item!r}")
    return out


def _python_regex(pattern: str) -> str:
    """pydantic matches patterns with Rust's regex, msgspec with Python's ``re.search``: a
    final ``$`` also matches before a trailing newline in Python, never in Rust; ``\\Z`` is
    Python's end of text."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        return pattern[:-1] + "\\Z"
    return pattern


def _optional(annotation: object) -> tuple[object, bool]:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(get_args(annotation)) == 2:
            return args[0], True
    return annotation, False


def field_type(
    model: type[BaseModel],
    name: str,
    item: object = None,
    covered: frozenset[str] = frozenset(),
) -> Any:
    """The msgspec type of ``model.name``: its base type with its declared constraints.

    ``item`` replaces the element type of a list field (the mirror struct of the element);
    ``covered`` names string patterns the caller guarantees otherwise (and tests so)."""
    info = model.model_fields[name]
    base, optional = _optional(info.annotation)
    metadata = list(info.metadata)
    if get_origin(base) is Annotated:  # e.g. Energy | None keeps Energy's own metadata
        base, *extra = get_args(base)
        for item in extra:
            metadata += item.metadata if isinstance(item, FieldInfo) else [item]
    if get_origin(base) is list:
        if item is None:
            raise TypeError(f"{model.__name__}.{name}: give the mirror of its element type")
        base = list[item]  # type: ignore[valid-type]
    meta: dict[str, Any] = _constraints(metadata, base in (int, float), covered)
    if base is AwareDatetime:
        base, meta["tz"] = datetime, True  # aware only, like schemas.base.Timestamp
    elif base not in (int, float, str, UUID, date) and get_origin(base) is not list:
        raise TypeError(f"{model.__name__}.{name}: no msgspec mirror for {base!r}")
    typed: Any = Annotated[base, msgspec.Meta(**meta)] if meta else base
    return typed | None if optional else typed


def date_bounds(model: type[BaseModel], name: str) -> tuple[date, date]:
    """The declared [ge, le] of a date field (msgspec has no range on dates)."""
    low = high = None
    for item in model.model_fields[name].metadata:
        if isinstance(item, at.Ge):
            low = item.ge
        elif isinstance(item, at.Le):
            high = item.le
    if not isinstance(low, date) or not isinstance(high, date):
        raise TypeError(f"{model.__name__}.{name} declares no [ge, le] date range")
    return low, high


def check_typed_dict(typed: type, model: type[BaseModel]) -> None:
    """TypeError unless the TypedDict ``typed`` names exactly ``model``'s fields (a fast
    validation shape of the model: its own field types are the model's named types)."""
    names = set(getattr(typed, "__annotations__", {})) - {"__pydantic_config__"}
    if names != set(model.model_fields):
        missing = sorted(set(model.model_fields) - names)
        extra = sorted(names - set(model.model_fields))
        raise TypeError(
            f"{typed.__name__} differs from {model.__name__}: missing {missing}, extra {extra}"
        )


def check_mirror(struct: type[msgspec.Struct], model: type[BaseModel]) -> None:
    """TypeError unless ``struct`` has ``model``'s fields, in order, with its defaults."""
    fields = msgspec.structs.fields(struct)
    names = [f.name for f in fields]
    if names != list(model.model_fields):
        raise TypeError(
            f"{struct.__name__} fields {names} differ from {model.__name__}'s "
            f"{list(model.model_fields)}"
        )
    for f in fields:
        want = model.model_fields[f.name].default
        have = PydanticUndefined if f.default is msgspec.NODEFAULT else f.default
        if want != have and not (want is PydanticUndefined and have is PydanticUndefined):
            raise TypeError(
                f"{struct.__name__}.{f.name} default {have!r} differs from {model.__name__}'s "
                f"{want!r}"
            )

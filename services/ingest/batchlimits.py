"""Reading a batch body within bounds: count and bound its items before any model is built.

The batch endpoint takes up to 16 MiB. Parsed naively, ``{"plans":[{},{},...]}`` of that
size is 5.6 million items: pydantic then builds millions of errors and orjson millions of
dicts (measured: 90 s and 15 GB RSS before this module). msgspec does not help by itself:
it checks a list's ``max_length`` only after building the list (measured: 9 s, 360 MB).

So a body that the fast parse (fastparse.py) did not take is read here in steps whose cost
is bounded by the limits, not by what the client sent:

1. its JSON syntax, UTF-8 and top-level shape (``{"plans": [...]}``, no other member) are
   checked by msgspec decoding into a struct whose ``plans`` is ``msgspec.Raw``: msgspec
   skips over the array without building anything (~1 ms per MiB);
2. the array's items are counted by a regex that steps over one item at a time and stops
   after ``limit + 1`` items (more -> 413, before any item is built);
3. only then is the array split into its ``msgspec.Raw`` items (at most ``limit``);
4. an item with more ``,`` ``{`` ``[`` bytes than any valid plan can hold (a bound derived
   from the model's declared limits, :data:`PLAN_SEPARATORS`) is refused unparsed, because
   pydantic's cost grows with the item (a 12 MB item of empty stops: 4.6 s, 2.7 GB);
5. every item is parsed on its own: the msgspec mirror first, pydantic for the rest; the
   field errors of all items together are bounded (``max_errors``), past that the batch is
   refused with the first errors, because each error costs ~1 KB and ~9 µs (a 3 MB batch
   of 10 000 items with 98 empty stops and steps each produced 2.5 million errors: 22 s).
"""

from __future__ import annotations

import re
import types
from datetime import date, datetime
from typing import Annotated, Any, Union, get_args, get_origin
from uuid import UUID

import msgspec
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from schemas.base import FieldError
from schemas.fastplan import parse_one
from schemas.parsing import parse_plan
from schemas.plan import ChargingPlan
from services.ingest.problems import ProblemError

# Items nested deeper than this are refused unparsed; a plan itself is 3 levels deep
# (plan -> stops -> stop). The scanning regex grows linearly with it.
MAX_DEPTH = 16
# How many of the field errors are listed when a batch has too many of them.
LISTED_ERRORS = 100


class _Shape(msgspec.Struct, forbid_unknown_fields=True):
    plans: msgspec.Raw


_SHAPE = msgspec.json.Decoder(_Shape).decode
_SPLIT = msgspec.json.Decoder(list[msgspec.Raw]).decode
_UNKNOWN = re.compile(r"unknown field `(.*)`")


# --- the bound on one plan's JSON, derived from the model's declared limits ---------------

# A text scalar other than str (a UUID, a date, a timestamp) may be written with a few
# separators in forms pydantic accepts (e.g. "{...}" around a UUID): a generous allowance.
_TEXT_SCALAR = 4
_NUMBERS = (int, float, bool, type(None))


def _value_budget(annotation: Any, metadata: list[Any]) -> int:
    if get_origin(annotation) is Annotated:  # a named type (schemas.base) inside e.g. X | None
        annotation, *extra = get_args(annotation)
        for item in extra:
            metadata = [*metadata, *(item.metadata if isinstance(item, FieldInfo) else [item])]
    max_length = next(
        (m.max_length for m in metadata if getattr(m, "max_length", None) is not None), None
    )
    origin = get_origin(annotation)
    if origin is list:
        (item,) = get_args(annotation)
        if max_length is None:
            raise TypeError(f"list field without max_length: {annotation!r}")
        return 1 + max_length * (1 + _value_budget(item, []))  # '[' and a ',' per item
    if origin in (Union, types.UnionType):
        return max(_value_budget(arg, metadata) for arg in get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return separator_budget(annotation)
    if annotation is str:
        if max_length is None:
            raise TypeError("str field without max_length")
        return int(max_length)  # every character could be one
    if annotation in _NUMBERS:
        return 0
    if isinstance(annotation, type) and issubclass(annotation, UUID | date | datetime):
        return _TEXT_SCALAR
    if getattr(annotation, "__name__", "") == "AwareDatetime":  # pydantic's marker class
        return _TEXT_SCALAR
    raise TypeError(f"no separator bound for {annotation!r}")


def separator_budget(model: type[BaseModel]) -> int:
    """The most ``,`` ``{`` ``[`` bytes a valid JSON document of ``model`` can contain
    (duplicate keys aside): its own brace, a comma per member, and each member's bound;
    a list counts its bracket and per item a comma and the item's bound; a string its
    ``max_length`` (every character could be one)."""
    return 1 + sum(
        1 + _value_budget(field.annotation, field.metadata) for field in model.model_fields.values()
    )


PLAN_SEPARATORS = separator_budget(ChargingPlan)


def too_complex(item: bytes) -> bool:
    """More separators than any valid plan: refuse it without parsing (three C scans, and
    none for an item shorter than the bound: every plan of normal size)."""
    return len(item) > PLAN_SEPARATORS and _separators(item) > PLAN_SEPARATORS


# --- counting the items of the plans array without building them --------------------------

_STRING = rb'"(?:[^"\\]++|\\.)*+"'
_ATOM = rb'[^\[\]{}",]++'  # numbers, literals, ':' and whitespace (valid JSON, outside strings)


def _contents(depth: int) -> bytes:
    """What may stand between a bracket and its partner, ``depth`` more levels deep.
    Possessive quantifiers: the regex never backtracks, so it is linear in the input."""
    inner = rb"(?:" + _STRING + rb"|" + _ATOM + rb"|,)*+"
    for _ in range(depth):
        inner = rb"(?:" + _STRING + rb"|" + _ATOM + rb"|,|[\[{]" + inner + rb"[\]}])*+"
    return inner


# One array item: everything up to the next ',' or ']' of the array's own level. The
# input is valid JSON (checked by msgspec first), so brackets match and strings close.
_ITEM = re.compile(
    rb"(?s)(?:" + _STRING + rb"|" + _ATOM + rb"|[\[{]" + _contents(MAX_DEPTH - 2) + rb"[\]}])*+"
)
_EMPTY_ARRAY = re.compile(rb"\[[ \t\r\n]*\]")


class Unreadable(ValueError):
    """Item ``index`` cannot be a plan: nested deeper than MAX_DEPTH, or more separators
    than PLAN_SEPARATORS (found while counting, before the item is built)."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(index, reason)
        self.index = index
        self.reason = reason


TOO_DEEP = f"nested deeper than {MAX_DEPTH} levels; a plan has 3"
TOO_COMPLEX = f"more than {PLAN_SEPARATORS} ',', '{{' and '[' (more than any plan holds)"
# The scan looks at an item through a window that doubles while the item goes on, so one
# huge item is refused once a window holds more separators than a plan can, not after a
# scan of all of it (the regex reads ~50 MB/s of separators).
WINDOW = 64 * 1024


def count_items(array: bytes | memoryview | msgspec.Raw, limit: int) -> int:
    """The number of items of a JSON array (valid JSON), or ``limit + 1`` if it has more:
    the scan stops there, so its cost is bounded by the first ``limit + 1`` items.
    Raises Unreadable for an item that cannot be a plan."""
    data = memoryview(array)  # no copy: the regex reads the buffer
    size = data.nbytes
    if bytes(data[:1]) != b"[":
        raise ValueError("not a JSON array")
    if _EMPTY_ARRAY.fullmatch(data):  # fails at the first item's byte otherwise
        return 0
    pos, n = 1, 0
    while True:
        window = WINDOW
        while True:
            stop = min(size, pos + window)
            end = _ITEM.match(data, pos, stop).end()  # type: ignore[union-attr]  # `*+` matches
            following = bytes(data[end : end + 1])
            if following in (b",", b"]") or stop == size:
                break
            # The item goes on past the window (or is too deep: found once the window is all)
            if _separators(data[pos:stop]) > PLAN_SEPARATORS:
                raise Unreadable(n, TOO_COMPLEX)
            window *= 2
        n += 1
        if n > limit:
            return n
        if following == b",":
            pos = end + 1
        elif following == b"]":
            return n
        else:  # stopped at a bracket it may not enter
            raise Unreadable(n - 1, TOO_DEEP)


def _separators(data: bytes | memoryview) -> int:
    chunk = data if isinstance(data, bytes) else bytes(data)
    return chunk.count(b",") + chunk.count(b"{") + chunk.count(b"[")


# --- the whole batch ----------------------------------------------------------------------


def _invalid(reason: str, loc: str = "", detail: str = "invalid batch") -> ProblemError:
    return ProblemError(422, detail, [FieldError(loc=loc, reason=reason)], slug="invalid-request")


def plans_array(body: bytes) -> msgspec.Raw:
    """The raw ``plans`` array of ``{"plans": [...]}``; 422 for anything else, unparsed."""
    if not body.isascii():
        try:
            body.decode()
        except UnicodeDecodeError as exc:
            reason = f"invalid JSON: not UTF-8 at byte {exc.start}"
            raise _invalid(reason, detail="invalid JSON") from exc
    try:
        shape = _SHAPE(body)
    except msgspec.ValidationError as exc:
        unknown = _UNKNOWN.search(str(exc))
        if unknown:
            raise _invalid("unknown field", loc=unknown.group(1)) from exc
        raise _invalid("a JSON object with a list 'plans' is required", loc="plans") from exc
    except msgspec.DecodeError as exc:
        raise _invalid(f"invalid JSON: {exc}", detail="invalid JSON") from exc
    except RecursionError as exc:  # msgspec's nesting limit (~1 000 levels)
        raise _invalid("nested too deeply", loc="plans") from exc
    if not bytes(memoryview(shape.plans)[:1]) == b"[":
        raise _invalid("a JSON object with a list 'plans' is required", loc="plans")
    return shape.plans


def read_items(body: bytes, limit: int, max_errors: int) -> list[Any]:
    """The batch's items, each parsed on its own: a plan (msgspec mirror or pydantic model)
    or, when invalid, its JSON bytes for the gateway to report its errors.

    Raises ProblemError: 413 over ``limit`` items; 422 not a batch, an item too deep or too
    complex for a plan, or more than ``max_errors`` field errors in all items together."""
    array = plans_array(body)
    # Items are at most the commas + 1: when the whole body has fewer commas than the
    # limit (a C scan), the exact count is not needed before splitting.
    if body.count(b",") >= limit:
        try:
            count = count_items(array, limit)
        except Unreadable as exc:
            raise _invalid(exc.reason, loc=f"plans[{exc.index}]") from exc
        if count > limit:
            raise ProblemError(413, f"more than {limit} plans in one batch; the limit is {limit}")
    raws = _SPLIT(array)  # at most `limit` items now
    if not raws:
        raise _invalid("at least one plan is required", loc="plans")
    items: list[Any] = []
    errors: list[FieldError] = []
    seen = 0
    for i, raw in enumerate(raws):
        item = bytes(raw)
        if too_complex(item):
            raise _invalid(TOO_COMPLEX, loc=f"plans[{i}]")
        fast = parse_one(item)
        if fast is not None:
            items.append(fast)
            continue
        plan, item_errors = parse_plan(item)
        if plan is not None:
            items.append(plan)
            continue
        items.append(item)  # the gateway parses it again and reports these errors
        seen += len(item_errors)
        if len(errors) < LISTED_ERRORS:
            errors += [_nested(i, e) for e in item_errors[: LISTED_ERRORS - len(errors)]]
        if seen > max_errors:
            detail = (
                f"more than {max_errors} field errors in this batch; the first "
                f"{len(errors)} are listed"
            )
            raise ProblemError(422, detail, errors, slug="invalid-plan")
    return items


def _nested(index: int, error: FieldError) -> FieldError:
    loc = f"plans[{index}]" + (f".{error.loc}" if error.loc and error.loc[0] != "[" else error.loc)
    return FieldError(loc=loc, reason=error.reason)

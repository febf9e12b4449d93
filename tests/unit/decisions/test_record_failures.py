"""What counts as one record's fault (dead letter, go on) and what stops the consumer."""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError
from pydantic import ValidationError

from services.common.clock import Clock
from services.common.usable import InvalidRecord
from services.decisions import consumer, records, store
from services.decisions.deadletters import DeadLetterFailure, DeadLetters
from services.decisions.fastpath import parse_decision
from services.decisions.records import BadRecord, Batch, Record, add, identity
from tests.unit.decisions.factories import decision

FAR = "9999-12-31T23:00:00-05:00"  # year 10000 in UTC


@pytest.mark.parametrize(
    "exc",
    [
        asyncpg.exceptions.CharacterNotInRepertoireError("NUL byte"),
        asyncpg.exceptions.NumericValueOutOfRangeError("out of range"),
        asyncpg.DataError("invalid input for query argument $14"),
        asyncpg.exceptions.UniqueViolationError("duplicate"),
        asyncpg.exceptions.ProgramLimitExceededError("index row too large"),
        OverflowError("value out of int32 range"),  # asyncpg's COPY encoder
        ValueError("plan x: the bid's energies sum to infinity"),
    ],
)
def test_values_refused_by_the_database_or_its_driver_are_the_records_fault(exc):
    assert store.refused(exc)
    assert consumer._refused(exc)


@pytest.mark.parametrize(
    "exc",
    [
        asyncpg.ConnectionDoesNotExistError("connection was closed"),
        asyncpg.InterfaceError("connection is closed"),
        asyncpg.exceptions.AdminShutdownError("terminating connection"),
        asyncpg.exceptions.QueryCanceledError("statement timeout"),
        asyncpg.exceptions.SerializationError("could not serialize access"),
        asyncpg.exceptions.DiskFullError("no space left"),
        asyncpg.exceptions.UndefinedTableError('relation "plans" does not exist'),
        ConnectionResetError("reset by peer"),
        TimeoutError(),
        asyncio.CancelledError(),
    ],
)
def test_failures_of_the_database_itself_stop_the_consumer(exc):
    assert not store.refused(exc)


def test_a_dead_letter_the_broker_did_not_take_stops_the_consumer():
    # Raised from inside the write (before its commit), but about no record.
    assert not consumer._refused(DeadLetterFailure("dead letters not published"))


class _BrokerDown:
    async def send(self, topic: str, value: bytes, key: bytes | None = None) -> None:
        raise KafkaConnectionError("no broker")


async def test_publishing_dead_letters_fails_as_a_whole_when_the_broker_is_down():
    letters = DeadLetters(_BrokerDown(), {"t": "decisions"}, Clock(), "decisions")  # type: ignore[arg-type]
    bad = BadRecord("t", 0, 7, [], b"{not json")
    with pytest.raises(DeadLetterFailure) as failed:
        await letters.publish([bad])
    assert isinstance(failed.value.__cause__, KafkaConnectionError)


def _body(**fields: object) -> bytes:
    body = json.loads(decision().model_dump_json())
    body.update(fields)
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("value", "loc"),
    [
        (_body(cost_eur=float("nan")), "cost_eur"),
        (_body(coverage=float("inf")), "coverage"),
        (_body(requested_kwh=1.5).replace(b"1.5", b"1e400"), "requested_kwh"),
        (_body(occurred_at=FAR), "occurred_at"),
        (_body(revision=2**31), "revision"),  # PostgreSQL integer
        (_body(vehicle_id="V\u0000"), "vehicle_id"),  # PostgreSQL text
        (_body(run_id="r\u0000"), "run_id"),
        (
            _body(allocations=[{"charging_point_id": "P", "mtu_start": FAR, "energy_kwh": 1.0}]),
            "allocations[0].mtu_start",
        ),
    ],
)
def test_a_decision_that_parses_but_cannot_be_stored_is_refused_naming_the_field(value, loc):
    # Refused by usable.check here, or by the schema's own bounds where it declares them:
    # either way the record is unreadable, with the field named, and its offset advances.
    with pytest.raises((InvalidRecord, ValidationError)):
        parse_decision(value)
    batch = Batch()
    add(batch, "decisions", Record("t", 0, 0, value, b"key"))
    [bad] = batch.bad
    assert (bad.reasons[0].loc, bad.key) == (loc, b"key")
    assert batch.offsets == {("t", 0): 1}


def test_a_nul_in_a_reason_is_kept_for_the_writer_to_replace_on_both_paths():
    # A rejected decision must reach its vehicle even if a reason quotes hostile input.
    body = json.loads(decision(energies={}).model_dump_json())
    body["reasons"] = [{"loc": "stops[0]", "reason": "unknown point P\u0000"}]
    fast = parse_decision(json.dumps(body).encode())
    del body["event_id"]  # not the fast shape (it requires it): the model path
    slow = parse_decision(json.dumps(body).encode())
    assert "\\ufffd" in fast.reasons and "\\ufffd" in slow.reasons


def test_energies_that_overflow_when_summed_per_point_and_mtu_are_refused():
    alloc = {"charging_point_id": "P", "mtu_start": "2026-11-26T01:00:00+01:00"}
    value = _body(allocations=[{**alloc, "energy_kwh": 1.5e308}, {**alloc, "energy_kwh": 1.5e308}])
    with pytest.raises(InvalidRecord, match="allocations"):
        parse_decision(value)


def test_a_dead_letter_names_the_plan_when_the_record_parses():
    d = decision()
    ident = identity("decisions", d.model_dump_json().encode())
    assert ident == {"plan_id": d.plan_id, "revision": d.revision, "vehicle_id": d.vehicle_id}
    assert identity("decisions", b"{not json") == {}
    assert identity("results", b"{}") == {}
    assert isinstance(ident["plan_id"], uuid.UUID)


def test_an_unknown_field_with_a_1000_character_name_is_described_not_raised():
    # Describing the error built a FieldError with a 1000-character loc, which raised in
    # the consumer's error handler and stopped it.
    value = _body(**{"a" * 1000: 1})
    batch = Batch()
    add(batch, "decisions", Record("t", 0, 0, value))
    [bad] = batch.bad
    assert bad.reasons[0].loc == "a" * 256 and bad.reasons[0].reason == "unknown field"


class _Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no text")


def test_describing_a_refusal_never_raises():
    assert [r.reason for r in records._reasons(_Unprintable())] == ["unreadable (_Unprintable)"]

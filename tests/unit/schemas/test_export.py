import json
from pathlib import Path

import jsonschema
import pytest

from schemas.__main__ import main
from schemas.export import EXPORT_COMMAND, JSON_DIR, MODELS, TOPICS, export, render, stale

from .factories import plan_dict
from .samples import every_event


def test_committed_json_schemas_are_up_to_date():
    problems = stale(JSON_DIR)
    assert not problems, f"schemas/json is stale ({', '.join(problems)}); run: {EXPORT_COMMAND}"


def test_export_is_deterministic_with_sorted_keys_and_trailing_newline():
    first, second = render(), render()
    assert first == second
    for name, text in first.items():
        assert text.endswith("}\n"), name
        assert (
            text
            == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        )


def test_every_event_and_topic_has_a_schema_file():
    names = set(render())
    assert {f"{m}.schema.json" for m in MODELS} <= names
    assert {f"{t}.schema.json" for t in TOPICS.values()} <= names


def test_check_fails_on_stale_files_and_export_fixes_them(tmp_path: Path, capsys):
    export(tmp_path)
    (tmp_path / "PlanSubmitted.schema.json").write_text("{}\n")
    (tmp_path / "Old.schema.json").write_text("{}\n")
    assert main(["check", "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "PlanSubmitted.schema.json (out of date)" in err and "Old.schema.json" in err
    assert EXPORT_COMMAND in err
    assert main(["export", "--dir", str(tmp_path)]) == 0
    assert main(["check", "--dir", str(tmp_path)]) == 0
    assert not (tmp_path / "Old.schema.json").exists()


def _validator(name: str) -> jsonschema.protocols.Validator:
    schema = json.loads((JSON_DIR / f"{name}.schema.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@pytest.mark.parametrize("event", every_event(), ids=lambda e: type(e).__name__)
def test_python_events_satisfy_the_exported_schema(event):
    _validator(type(event).__name__).validate(json.loads(event.model_dump_json()))


def test_plan_event_schema_accepts_both_plan_events():
    submitted, cancelled = every_event()[:2]
    validator = _validator("PlanEvent")
    validator.validate(json.loads(submitted.model_dump_json()))
    validator.validate(json.loads(cancelled.model_dump_json()))


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda d: d.pop("event_id"), "envelope fields are required on the wire"),
        (lambda d: d.update(schema_version=2), "only schema_version 1"),
        (lambda d: d["stops"][0].update(arrival="2026-11-25T08:00:00"), "naive timestamp"),
        (lambda d: d.update(extra=1), "unknown field"),
    ],
)
def test_exported_schema_rejects_what_python_rejects(change, why):
    data = json.loads(every_event()[0].model_dump_json())
    change(data)
    errors = list(_validator("PlanSubmitted").iter_errors(data))
    assert errors, why


def test_bare_plan_schema_matches_the_plan_model():
    _validator("ChargingPlan").validate(plan_dict())

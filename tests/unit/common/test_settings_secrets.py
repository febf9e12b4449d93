"""A bad setting is reported by name, but a secret's value never reaches the terminal."""

from __future__ import annotations

import pytest
from pydantic import Field, SecretStr

from services.common.settings import CommonSettings, ConfigError, load_settings, mask_secrets


class _WithSecrets(CommonSettings):
    signing: SecretStr = Field(default=SecretStr("x" * 16), min_length=16)  # secret by type
    session_token_ttl: int = 60  # secret by name: its input may be a pasted token


def _error_output(monkeypatch, capsys, cls=CommonSettings, **env: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(f"CHARGEFLOW_{name}", value)
    with pytest.raises(ConfigError):
        load_settings(cls)
    return capsys.readouterr().err


def test_a_password_in_a_database_url_is_masked(monkeypatch, capsys):
    err = _error_output(monkeypatch, capsys, DATABASE_URL="mysql://chargeflow:Hunter2pw@db/cf")
    assert "CHARGEFLOW_DATABASE_URL='mysql://chargeflow:**********@db/cf'" in err
    assert "Hunter2pw" not in err


def test_a_secret_field_is_masked_by_its_type(monkeypatch, capsys):
    err = _error_output(monkeypatch, capsys, _WithSecrets, SIGNING="short-Hunter2")
    assert "CHARGEFLOW_SIGNING='**********'" in err and "at least 16" in err
    assert "Hunter2" not in err


def test_a_field_named_like_a_token_is_masked(monkeypatch, capsys):
    err = _error_output(monkeypatch, capsys, _WithSecrets, SESSION_TOKEN_TTL="tok-Hunter2")
    assert "CHARGEFLOW_SESSION_TOKEN_TTL='**********'" in err
    assert "Hunter2" not in err


def test_a_check_of_several_settings_prints_no_values(monkeypatch, capsys):
    # Without a username the Kafka settings are refused together; the password set beside
    # them must not be printed with the rest of the input.
    err = _error_output(
        monkeypatch, capsys, KAFKA_SECURITY_PROTOCOL="SASL_SSL", KAFKA_PASSWORD="Hunter2-kafka"
    )
    assert "needs CHARGEFLOW_KAFKA_USERNAME and CHARGEFLOW_KAFKA_PASSWORD" in err
    assert "Hunter2" not in err


@pytest.mark.parametrize(
    ("shown", "masked"),
    [
        ("postgresql://u:pw@h:5432/db", "postgresql://u:**********@h:5432/db"),
        (
            "postgresql://u@h/db?password=pw&sslmode=require",
            "postgresql://u@h/db?password=**********&sslmode=require",
        ),
        ("kafka:9092", "kafka:9092"),
        (
            {"password": "pw", "url": "s3://k:pw@b"},
            {"password": "**********", "url": "s3://k:**********@b"},
        ),
        (["https://a:pw@h"], ["https://a:**********@h"]),
        (SecretStr("pw"), "**********"),
    ],
)
def test_mask_secrets_hides_passwords_wherever_they_sit(shown, masked):
    assert mask_secrets(shown) == masked

"""Settings: SLA and business-hours values reach the latency policy; wrong ones name themselves."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.runtime import Runtime
from pipeline.settings import SettingsError, as_env, load_settings

#: A Wednesday with no holiday near it, 08:00 in Shanghai.
WEDNESDAY_8AM = datetime(2026, 11, 18, 0, 0, tzinfo=UTC)
WEDNESDAY_8PM = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own SALESRADAR_* environment must not leak into these tests."""
    for name in list(os.environ):
        if name.startswith("SALESRADAR_"):
            monkeypatch.delenv(name)


def test_defaults_match_the_documented_ones() -> None:
    settings = load_settings()
    assert settings.sla_lead_first_response_hours is None
    assert settings.lead_first_response_hours == {"A": 2.0, "B": 4.0}
    assert settings.sla_reminder_fraction == 0.75
    assert settings.default_customer_tier == ""
    assert (settings.workday_start, settings.workday_end) == ("09:00", "18:00")
    assert settings.lunch_break == ""
    assert settings.lunch is None


def test_lead_first_response_follows_first_reply_unless_given() -> None:
    follows = load_settings(sla_first_reply_hours={"A": 1, "B": 3})
    assert follows.lead_first_response_hours == {"A": 1.0, "B": 3.0}
    own = load_settings(sla_first_reply_hours={"A": 1}, sla_lead_first_response_hours={"A": 0.5})
    assert own.lead_first_response_hours == {"A": 0.5}


def test_values_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALESRADAR_SLA_LEAD_FIRST_RESPONSE_HOURS", '{"A": 1.5, "C": 24}')
    monkeypatch.setenv("SALESRADAR_SLA_REMINDER_FRACTION", "0.5")
    monkeypatch.setenv("SALESRADAR_DEFAULT_CUSTOMER_TIER", "B")
    monkeypatch.setenv("SALESRADAR_WORKDAY_START", "8:30")
    monkeypatch.setenv("SALESRADAR_WORKDAY_END", "17:30")
    monkeypatch.setenv("SALESRADAR_LUNCH_BREAK", "12:00 - 13:00")
    settings = load_settings()
    assert settings.lead_first_response_hours == {"A": 1.5, "C": 24.0}
    assert settings.sla_reminder_fraction == 0.5
    assert settings.default_customer_tier == "B"
    assert (settings.workday_start, settings.workday_end) == ("08:30", "17:30")
    assert settings.lunch == ("12:00", "13:00")


def test_a_worker_environment_gives_the_same_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    overrides = {
        "broker_end_probe": True,
        "fast_group_join": False,
        "topic_partitions": 3,
        "sink_flush_seconds": 0.5,
        "directory_file": Path("/etc/salesradar/directory.toml"),
        "sla_first_reply_hours": {"A": 1.5, "B": 6},
    }
    defaults = load_settings()
    for name, value in as_env(overrides).items():
        monkeypatch.setenv(name, value)
    from_env = load_settings()
    assert from_env == load_settings(**overrides)
    assert from_env != defaults


def test_values_come_from_the_config_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "salesradar.toml"
    config.write_text(
        'lunch_break = "11:30-12:30"\nsla_reminder_fraction = 0\n'
        "[sla_lead_first_response_hours]\nA = 0.25\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("SALESRADAR_CONFIG", str(config))
    settings = load_settings()
    assert settings.lunch == ("11:30", "12:30")
    assert settings.sla_reminder_fraction is None
    assert settings.lead_first_response_hours == {"A": 0.25}


@pytest.mark.parametrize("off", [0, "0", "null", "None", "off", "", None])
def test_reminders_can_be_switched_off(off: object) -> None:
    assert load_settings(sla_reminder_fraction=off).sla_reminder_fraction is None


def test_runtime_builds_the_policy_from_the_settings() -> None:
    settings = load_settings(
        sla_first_reply_hours={"A": 2, "B": 4},
        sla_lead_first_response_hours={"A": 1},
        sla_reminder_fraction=0.5,
        default_customer_tier="B",
        workday_start="10:00",
        workday_end="19:00",
        lunch_break="12:00-13:00",
    )
    policy = Runtime.from_settings(settings).sla_policy
    assert dict(policy.first_reply_s) == {"A": 7200.0, "B": 14400.0}
    assert dict(policy.lead_first_response_s) == {"A": 3600.0}
    assert policy.reminder_fraction == 0.5
    assert policy.default_tier == "B"
    # 10:00-12:00 and 13:00-19:00 Shanghai: eight working hours on a Wednesday.
    assert policy.calendar.business_seconds(WEDNESDAY_8AM, WEDNESDAY_8PM) == 8 * 3600


def test_runtime_without_reminders_or_lunch() -> None:
    settings = load_settings(sla_reminder_fraction="off")
    policy = Runtime.from_settings(settings).sla_policy
    assert policy.reminder_fraction is None
    assert dict(policy.lead_first_response_s) == dict(policy.first_reply_s)
    assert policy.calendar.business_seconds(WEDNESDAY_8AM, WEDNESDAY_8PM) == 9 * 3600


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"sla_reminder_fraction": 1.0}, "sla_reminder_fraction"),
        ({"sla_reminder_fraction": -0.2}, "sla_reminder_fraction"),
        ({"sla_reminder_fraction": "soon"}, "sla_reminder_fraction"),
        ({"sla_lead_first_response_hours": {"A": -1}}, "sla_lead_first_response_hours"),
        ({"sla_lead_first_response_hours": {"A": "fast"}}, "sla_lead_first_response_hours[A]"),
        ({"sla_lead_first_response_hours": {" ": 2}}, "sla_lead_first_response_hours"),
        ({"sla_first_reply_hours": {"A": float("nan")}}, "sla_first_reply_hours"),
        ({"default_customer_tier": " A"}, "default_customer_tier"),
        ({"workday_start": "9am"}, "workday_start"),
        ({"workday_end": "25:00"}, "workday_end"),
        ({"lunch_break": "noon"}, "lunch_break"),
        ({"lunch_break": "12:00-1pm"}, "lunch_break"),
        ({"workday_start": "18:00", "workday_end": "09:00"}, "workday_end"),
        ({"lunch_break": "08:00-09:30"}, "lunch_break"),
    ],
)
def test_a_wrong_value_names_the_setting(overrides: dict[str, object], named: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(**overrides)
    assert named in str(raised.value)


def test_a_wrong_environment_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALESRADAR_WORKDAY_END", "six")
    with pytest.raises(SettingsError, match="SALESRADAR_WORKDAY_END"):
        load_settings()

"""One settings object for every command: environment (``SALESRADAR_*``) over an optional TOML file.

A wrong value fails at start-up with a message that names the setting, so a data engineer
never discovers a typo at the first breach.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from pipeline.latency.calendar import BusinessCalendar, CalendarError

CONFIG_FILE_ENV = "SALESRADAR_CONFIG"
SOURCES = ("wecom", "dingtalk", "crm", "email")
_OFF_WORDS = frozenset({"", "null", "none", "off"})


def _checked_clock(value: str) -> str:
    """'9:30' or '09:30' -> '09:30'; anything else is refused."""
    hours, sep, minutes = value.strip().partition(":")
    if not (sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ValueError(f"must be a time like 09:00, got {value!r}")
    if int(hours) > 23 or int(minutes) > 59:
        raise ValueError(f"{value!r} is not a time of day")
    return f"{int(hours):02d}:{minutes}"


class SettingsError(ValueError):
    """Raised with a message naming the offending setting."""


class Settings(BaseSettings):
    """Everything a worker, the demo and the CLI need to know about their surroundings."""

    model_config = SettingsConfigDict(env_prefix="SALESRADAR_", extra="forbid")

    broker_url: str = Field(
        "kafka://127.0.0.1:9092", description="Kafka bootstrap, kafka://host:port[;host:port]"
    )
    clickhouse_url: str = Field(
        "",
        description="http(s)://user:pass@host:8123/db of a server; empty = embedded chDB (db_dir)",
    )
    db_dir: Path = Field(Path(".salesradar/db"), description="embedded chDB data directory")
    table_dir: Path = Field(Path(".salesradar/tables"), description="faust table state directory")
    tenant: str = Field("default", description="tenant id stamped on every event")
    timezone: str = Field("Asia/Shanghai", description="tenant timezone for heatmaps and calendars")
    sla_first_reply_hours: dict[str, float] = Field(
        default_factory=lambda: {"A": 2.0, "B": 4.0},
        description="first-reply SLA per customer class in hours; a missing class has no SLA",
    )
    sla_lead_first_response_hours: dict[str, float] | None = Field(
        None,
        description="first response to an assigned lead per class in hours; none = first reply's",
    )
    sla_lead_unassigned_hours: float = Field(48.0, gt=0)
    sla_basis: str = Field("wall", description="'wall' or 'business' time for SLA deadlines")
    sla_reminder_fraction: float | None = Field(
        0.75, description="remind at this share of the SLA; null or 0 = no reminders"
    )
    default_customer_tier: str = Field(
        "", description="class of customers the directory does not classify; empty = none"
    )
    workday_start: str = Field("09:00", description="business day start, HH:MM local time")
    workday_end: str = Field("18:00", description="business day end, HH:MM local time")
    lunch_break: str = Field("", description="'12:00-13:00' outside business time; empty = none")
    taxonomy_file: Path | None = Field(None, description="signal taxonomy TOML; empty = built-in")
    directory_file: Path | None = Field(None, description="identity directory (CSV or TOML)")
    calendar_file: Path | None = Field(None, description="business calendar TOML; empty = built-in")
    alerts_file: Path | None = Field(
        None,
        description="alert routes TOML; empty: none from a worker, local receiver when embedded",
    )
    topic_prefix: str = Field("salesradar", description="prefix of every topic name")
    topic_partitions: int = Field(4, ge=1, le=1024, description="partitions of topics we create")
    max_text_chars: int = Field(20000, ge=1, description="longer message text is truncated")
    store_text: bool = Field(True, description="false = never store message text in ClickHouse")
    text_ttl_days: int = Field(180, ge=1, description="message text is blanked after N days")
    batch_records: int = Field(
        2000, ge=1, description="raw records the stream stage takes per batch"
    )
    batch_seconds: float = Field(
        0.05, gt=0, description="how long the stream stage waits to fill a batch"
    )
    sink_batch_rows: int = Field(5000, ge=1, description="sink batch size per partition (rows)")
    sink_batch_bytes: int = Field(8_000_000, ge=1024)
    sink_flush_seconds: float = Field(1.0, gt=0, description="time limit of an open sink batch")
    web_port: int = Field(6066, ge=0, le=65535, description="metrics/health port; 0 = off")
    log_json: bool = Field(False, description="structured JSON logs")
    fast_group_join: bool = Field(
        False, description="short session/rebalance timeouts: tests and demo only"
    )
    broker_end_probe: bool = Field(
        False,
        description=(
            "read each changelog partition's last record batch to find its end before table "
            "recovery; for brokers that report the last batch's base offset + 1 as the end "
            "(the embedded one)"
        ),
    )
    mailgun_signing_key: str | None = Field(None, description="verify Mailgun webhook bodies")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @field_validator("sla_basis")
    @classmethod
    def _known_basis(cls, value: str) -> str:
        if value not in ("wall", "business"):
            raise ValueError("must be 'wall' or 'business'")
        return value

    @field_validator("sla_first_reply_hours", "sla_lead_first_response_hours")
    @classmethod
    def _hours_per_class(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        for tier, hours in (value or {}).items():
            if not tier.strip():
                raise ValueError("a customer class name is empty")
            if not 0 <= hours < float("inf"):
                raise ValueError(f"class {tier!r}: hours must be a number >= 0, got {hours}")
        return value

    @field_validator("sla_reminder_fraction", mode="before")
    @classmethod
    def _reminder_off(cls, value: object) -> object:
        """0, null, none, off and empty all mean no reminders."""
        if value is None or value == 0:
            return None
        if isinstance(value, str) and value.strip().lower() in _OFF_WORDS | {"0"}:
            return None
        return value

    @field_validator("sla_reminder_fraction")
    @classmethod
    def _fraction_of_sla(cls, value: float | None) -> float | None:
        if value is not None and not 0 < value < 1:
            raise ValueError(f"must be between 0 and 1 (exclusive), or null/0 for off; got {value}")
        return value

    @field_validator("default_customer_tier")
    @classmethod
    def _tier_name(cls, value: str) -> str:
        if value and (value != value.strip() or len(value) > 16):
            raise ValueError(f"must be a class name like 'B' or empty, got {value!r}")
        return value

    @field_validator("workday_start", "workday_end")
    @classmethod
    def _clock(cls, value: str) -> str:
        return _checked_clock(value)

    @field_validator("lunch_break")
    @classmethod
    def _lunch_range(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return value
        start, sep, end = value.partition("-")
        if not sep:
            raise ValueError(f"must look like 12:00-13:00 or be empty, got {value!r}")
        return f"{_checked_clock(start)}-{_checked_clock(end)}"

    @model_validator(mode="after")
    def _working_hours(self) -> Settings:
        """Build a calendar from the hours once, so a bad day fails here and not at a breach."""
        try:
            BusinessCalendar(
                tz=self.timezone,
                workday_start=self.workday_start,
                workday_end=self.workday_end,
                lunch=self.lunch,
            )
        except CalendarError as exc:
            raise ValueError(
                f"settings workday_start={self.workday_start}, workday_end={self.workday_end}, "
                f"lunch_break={self.lunch_break or '(none)'}: {exc}"
            ) from exc
        return self

    @field_validator("broker_url")
    @classmethod
    def _kafka_url(cls, value: str) -> str:
        if not value.startswith("kafka://"):
            raise ValueError("must look like kafka://host:port")
        return value

    @field_validator("clickhouse_url")
    @classmethod
    def _clickhouse_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be empty (embedded) or an http(s):// URL")
        return value

    @property
    def bootstrap_servers(self) -> str:
        """aiokafka's form of broker_url."""
        return self.broker_url.removeprefix("kafka://").replace(";", ",")

    @property
    def lunch(self) -> tuple[str, str] | None:
        """lunch_break as (start, end), or None when there is no break."""
        if not self.lunch_break:
            return None
        start, _, end = self.lunch_break.partition("-")
        return start.strip(), end.strip()

    @property
    def lead_first_response_hours(self) -> dict[str, float]:
        """The lead first-response SLA, which defaults to the first-reply SLA."""
        if self.sla_lead_first_response_hours is None:
            return dict(self.sla_first_reply_hours)
        return self.sla_lead_first_response_hours

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def raw_topic(self, source: str) -> str:
        return f"{self.topic_prefix}.raw.{source}"

    @property
    def repartition_topic(self) -> str:
        """Events whose raw record was not keyed by conversation, re-keyed to their owner."""
        return f"{self.topic_prefix}.repartition"

    @property
    def events_topic(self) -> str:
        return f"{self.topic_prefix}.events"

    @property
    def latency_topic(self) -> str:
        return f"{self.topic_prefix}.latency"

    @property
    def alerts_topic(self) -> str:
        return f"{self.topic_prefix}.alerts"

    @property
    def dlq_topic(self) -> str:
        return f"{self.topic_prefix}.dlq"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlFileSource(settings_cls))


class _TomlFileSource(PydanticBaseSettingsSource):
    """The optional TOML file named by SALESRADAR_CONFIG: lowest precedence."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = os.environ.get(CONFIG_FILE_ENV)
        if not path:
            return {}
        try:
            with open(path, "rb") as handle:
                return tomllib.load(handle)
        except OSError as exc:
            raise SettingsError(f"{CONFIG_FILE_ENV}={path}: cannot read ({exc})") from exc
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path}: {exc}") from exc


def as_env(overrides: Mapping[str, Any]) -> dict[str, str]:
    """The environment that gives a worker process these settings (``SALESRADAR_*``)."""
    env = {}
    for name, value in overrides.items():
        if isinstance(value, bool):
            text = str(value).lower()
        elif isinstance(value, dict | list):
            text = json.dumps(value)
        else:
            text = str(value)
        env[f"SALESRADAR_{name.upper()}"] = text
    return env


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, turning pydantic's errors into one line per bad setting."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            if not error["loc"]:  # a check across settings names them in its message
                lines.append(error["msg"].removeprefix("Value error, "))
                continue
            name = str(error["loc"][0])
            detail = ".".join(str(part) for part in error["loc"][1:])
            where = f"setting {name}{'[' + detail + ']' if detail else ''}"
            lines.append(f"{where} (env SALESRADAR_{name.upper()}): {error['msg']}")
        raise SettingsError("invalid configuration:\n  " + "\n  ".join(lines)) from None

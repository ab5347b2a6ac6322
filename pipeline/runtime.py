"""Everything a worker's stages share, built once from the settings (no faust import).

Agents receive this object; tests build it with their own settings and an embedded broker.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.alerts import AlertService
from pipeline.clickhouse import ClickHouseBackend, open_backend
from pipeline.identity import Directory
from pipeline.latency import BusinessCalendar, SlaPolicy
from pipeline.normalize import NormalizeContext
from pipeline.settings import SOURCES, Settings
from pipeline.tagging import TaggerReloader

HOUR_S = 3600.0


@dataclass
class Progress:
    """Counts per stage, so the embedded runner knows when every input has been processed."""

    started_at: float = field(default_factory=time.monotonic)
    raw_consumed: int = 0
    events_produced: int = 0
    rejected: int = 0
    events_consumed: int = 0  # events applied to conversation state
    rekeyed_out: int = 0  # events sent through the repartition topic
    rekeyed_in: int = 0  # ...and read back from it by their owner
    latency_produced: int = 0
    alerts_produced: int = 0
    sink_records: Counter[str] = field(default_factory=Counter)  # committed records per topic
    reject_reasons: Counter[str] = field(default_factory=Counter)

    @property
    def produced_for_sink(self) -> dict[str, int]:
        return {
            "events": self.events_produced,
            "latency": self.latency_produced,
            "dlq": self.rejected,
            "alerts": self.alerts_produced,
        }


@dataclass
class Runtime:
    """Settings plus the long-lived objects built from them."""

    settings: Settings
    directory: Directory
    normalize_context: NormalizeContext
    tagger: TaggerReloader
    sla_policy: SlaPolicy
    progress: Progress = field(default_factory=Progress)
    alert_service: AlertService | None = None  # set when the app wires the alert stage

    @classmethod
    def from_settings(cls, settings: Settings, directory: Directory | None = None) -> Runtime:
        directory = directory or _load_directory(settings.directory_file)
        calendar = BusinessCalendar.load(
            settings.calendar_file,
            tz=settings.timezone,
            workday_start=settings.workday_start,
            workday_end=settings.workday_end,
            lunch=settings.lunch,
        )
        policy = SlaPolicy(
            first_reply_s=_seconds(settings.sla_first_reply_hours),
            lead_unassigned_s=settings.sla_lead_unassigned_hours * HOUR_S,
            lead_first_response_s=_seconds(settings.lead_first_response_hours),
            basis=settings.sla_basis,
            calendar=calendar,
            reminder_fraction=settings.sla_reminder_fraction,
            default_tier=settings.default_customer_tier,
        )
        context = NormalizeContext(
            directory=directory,
            tenant=settings.tenant,
            max_text_chars=settings.max_text_chars,
            mailgun_signing_key=settings.mailgun_signing_key,
        )
        return cls(
            settings=settings,
            directory=directory,
            normalize_context=context,
            tagger=TaggerReloader(settings.taxonomy_file),
            sla_policy=policy,
        )

    def open_clickhouse(self) -> ClickHouseBackend:
        """The configured server, or the embedded chDB directory."""
        settings = self.settings
        return open_backend(settings.clickhouse_url or str(settings.db_dir))

    def topic_roles(self) -> dict[str, str]:
        """Sink topic name -> role used by pipeline.sink.rows."""
        s = self.settings
        return {
            s.events_topic: "events",
            s.latency_topic: "latency",
            s.dlq_topic: "dlq",
            s.alerts_topic: "alerts",
        }

    def all_topics(self) -> list[str]:
        """Every topic the pipeline reads or writes, for declaring them up front."""
        return [*self.raw_topics(), self.settings.repartition_topic, *self.topic_roles()]

    def raw_topics(self) -> dict[str, str]:
        """Raw topic name -> source family."""
        return {self.settings.raw_topic(source): source for source in SOURCES}


def _seconds(hours_per_tier: dict[str, float]) -> dict[str, float]:
    return {tier: hours * HOUR_S for tier, hours in hours_per_tier.items()}


def _load_directory(path: Path | None) -> Directory:
    return Directory.load(path) if path else Directory()

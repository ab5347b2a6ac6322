"""Alert configuration: endpoints, teams, quiet hours, delivery limits — a TOML file users edit.

Secrets never sit in the file: it names the environment variable that holds each one, and the
loaded value is a SecretStr so it never shows in a repr, a log line or an error message.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from schemas.alerts import RepContact

DEFAULT_HINTS_PATH = Path(__file__).resolve().parent.parent / "data" / "hints.toml"
_QUIET_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class AlertConfigError(ValueError):
    """A configuration problem, naming the file and the setting."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WecomRobotEndpoint(_Strict):
    channel: Literal["wecom_robot"]
    base_url: str = "https://qyapi.weixin.qq.com"
    key: SecretStr  # filled from key_env


class WecomAppEndpoint(_Strict):
    channel: Literal["wecom_app"]
    base_url: str = "https://qyapi.weixin.qq.com"
    corp_id: str
    agent_id: int
    secret: SecretStr  # filled from secret_env


class DingtalkRobotEndpoint(_Strict):
    channel: Literal["dingtalk_robot"]
    base_url: str = "https://oapi.dingtalk.com"
    access_token: SecretStr  # filled from token_env
    secret: SecretStr  # filled from secret_env: the robot's signing secret (SEC...)


class DingtalkNoticeEndpoint(_Strict):
    channel: Literal["dingtalk_notice"]
    base_url: str = "https://oapi.dingtalk.com"
    app_key: str
    agent_id: int
    app_secret: SecretStr  # filled from app_secret_env


class WebhookEndpoint(_Strict):
    channel: Literal["webhook"]
    url: str
    secret: SecretStr | None = None  # optional, filled from secret_env: HMAC-SHA256 signature


Endpoint = Annotated[
    WecomRobotEndpoint
    | WecomAppEndpoint
    | DingtalkRobotEndpoint
    | DingtalkNoticeEndpoint
    | WebhookEndpoint,
    Field(discriminator="channel"),
]

#: Which file keys hold environment variable names, and the secret field each fills.
SECRET_ENV_KEYS = {
    "key_env": "key",
    "secret_env": "secret",
    "token_env": "access_token",
    "app_secret_env": "app_secret",
}
OPTIONAL_SECRETS = {("webhook", "secret")}


class TeamRoute(_Strict):
    """Who leads a team and which endpoints carry each stage of its alerts."""

    lead: str = ""
    director: str = ""
    reminder: tuple[str, ...] = ()
    breach: tuple[str, ...] = ()
    escalation: tuple[str, ...] = ()


class DeliveryConfig(_Strict):
    rate_limit: int = Field(default=20, ge=1)  # requests per endpoint per window
    rate_window_s: float = Field(default=60.0, gt=0)
    digest_hold_s: float = Field(default=5.0, ge=0)  # how long the last free slot gathers a digest
    max_attempts: int = Field(default=6, ge=1)
    backoff_base_s: float = Field(default=2.0, gt=0)
    backoff_max_s: float = Field(default=300.0, gt=0)
    timeout_s: float = Field(default=5.0, gt=0)
    token_margin_s: float = Field(default=300.0, ge=0)  # refresh an access token this early


class EscalationConfig(_Strict):
    after_s: float = Field(default=3600.0, ge=0)  # after the breach was detected, if still open


class QuietWindow(_Strict):
    start: time
    end: time

    def contains(self, local: time) -> bool:
        """A window may wrap midnight (21:00–08:30)."""
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


def parse_quiet_window(text: str) -> QuietWindow | None:
    """'21:00-08:30' → a window; '' → no quiet hours."""
    if not text.strip():
        return None
    match = _QUIET_RE.match(text)
    if not match:
        raise ValueError(f"quiet hours must look like '21:00-08:30', got {text!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"quiet hours out of range: {text!r}")
    return QuietWindow(start=time(h1, m1), end=time(h2, m2))


class QuietHoursConfig(_Strict):
    default: str = ""  # e.g. "21:00-08:30"; empty: nobody has quiet hours
    recipients: dict[str, str] = Field(default_factory=dict)  # rep id → window ('' = never quiet)
    urgent_kinds: tuple[str, ...] = ()  # breach kinds that ignore quiet hours
    urgent_tiers: tuple[str, ...] = ()  # customer tiers that ignore quiet hours

    @field_validator("default")
    @classmethod
    def _check_default(cls, value: str) -> str:
        parse_quiet_window(value)
        return value

    @field_validator("recipients")
    @classmethod
    def _check_recipients(cls, value: dict[str, str]) -> dict[str, str]:
        for window in value.values():
            parse_quiet_window(window)
        return value

    def window_for(self, recipient: str) -> QuietWindow | None:
        return parse_quiet_window(self.recipients.get(recipient, self.default))


class AlertConfig(_Strict):
    timezone: str = "Asia/Shanghai"
    crm_url_template: str = ""  # e.g. "https://crm.example.com/customers/{customer_id}"
    hints_file: Path = DEFAULT_HINTS_PATH
    default_team: str = ""  # used when the rep is unknown or there is no rep (lead unassigned)
    delivery: DeliveryConfig = DeliveryConfig()
    escalation: EscalationConfig = EscalationConfig()
    quiet_hours: QuietHoursConfig = QuietHoursConfig()
    endpoints: dict[str, Endpoint] = Field(default_factory=dict)
    teams: dict[str, TeamRoute] = Field(default_factory=dict)
    reps: tuple[RepContact, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def check_routes(self) -> None:
        """Every endpoint a team names must exist; the default team too."""
        for team_name, team in self.teams.items():
            for stage in ("reminder", "breach", "escalation"):
                for endpoint in getattr(team, stage):
                    if endpoint not in self.endpoints:
                        raise ValueError(
                            f"teams.{team_name}.{stage}: unknown endpoint {endpoint!r}"
                        )
        if self.default_team and self.default_team not in self.teams:
            raise ValueError(f"default_team: unknown team {self.default_team!r}")


def _resolve_secrets(raw: dict[str, Any], env: Mapping[str, str], where: str) -> dict[str, Any]:
    """Replace `*_env` names in endpoint tables with the secret values from the environment."""
    endpoints = raw.get("endpoints", {})
    if not isinstance(endpoints, dict):
        return raw
    resolved: dict[str, Any] = {}
    for name, table in endpoints.items():
        if not isinstance(table, dict):
            resolved[name] = table
            continue
        table = dict(table)
        channel = table.get("channel", "")
        for env_key, field in SECRET_ENV_KEYS.items():
            if env_key not in table:
                continue
            var = table.pop(env_key)
            if (channel, field) in OPTIONAL_SECRETS and not var:
                continue
            if not isinstance(var, str) or not var or var not in env:
                raise AlertConfigError(
                    f"{where}: endpoints.{name}.{env_key}: environment variable {var!r} is not set"
                )
            table[field] = env[var]
        resolved[name] = table
    return {**raw, "endpoints": resolved}


def _describe(exc: ValidationError, where: str) -> str:
    lines = []
    for error in exc.errors(include_url=False, include_input=False):
        setting = ".".join(str(part) for part in error["loc"]) or "(top level)"
        lines.append(f"{where}: {setting}: {error['msg']}")
    return "\n".join(lines)


def load_alert_config(path: Path | None, env: Mapping[str, str]) -> AlertConfig:
    """Read and validate the alert TOML; `None` gives defaults with no endpoints (alerts go nowhere
    and are recorded as dead with reason no_route)."""
    if path is None:
        return AlertConfig()
    where = str(path)
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise AlertConfigError(f"{where}: cannot read: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise AlertConfigError(f"{where}: invalid TOML: {exc}") from exc
    raw = _resolve_secrets(raw, env, where)
    if isinstance(raw.get("hints_file"), str) and raw["hints_file"]:
        raw["hints_file"] = (Path(path).parent / raw["hints_file"]).resolve()
    elif raw.get("hints_file") == "":
        raw.pop("hints_file")
    try:
        config = AlertConfig.model_validate(raw)
        config.check_routes()
    except ValidationError as exc:
        raise AlertConfigError(_describe(exc, where)) from None
    except ValueError as exc:
        raise AlertConfigError(f"{where}: {exc}") from None
    return config

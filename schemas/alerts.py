"""Alert shapes shared by the alert service, the sink (ClickHouse table `alerts`) and BI."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Stage = Literal["reminder", "breach", "escalation"]
#: "none" marks an alert that found no route (no team, no endpoint): recorded dead, never dropped.
Channel = Literal[
    "wecom_robot", "wecom_app", "dingtalk_robot", "dingtalk_notice", "webhook", "none"
]
AlertStatus = Literal["sent", "failed", "queued", "dead", "deferred"]


class AlertRecord(BaseModel):
    """One attempt outcome of one alert; the sink writes these fields as columns of `alerts`."""

    model_config = ConfigDict(frozen=True)

    tenant: str
    alert_id: str  # deterministic: hash(tenant, breach_id, stage, recipient, endpoint)
    breach_id: str
    stage: Stage
    channel: Channel
    recipient: str  # the rep id of whoever the alert is for (rep, team lead or director)
    status: AlertStatus
    attempts: int = Field(ge=0)
    created_at: datetime
    sent_at: datetime | None = None
    error: str = ""  # a short reason code first, then detail: "http_500: ...", "no_route: ..."
    digest_size: int = Field(default=1, ge=1)  # how many alerts were merged in the message


class RepContact(BaseModel):
    """What routing needs to know about a person: how to reach them and who is above them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rep_id: str
    name: str = ""
    team: str = ""
    wecom_userid: str = ""
    dingtalk_userid: str = ""
    mobile: str = ""
    team_lead: str = ""  # rep id of the team lead; empty: the team's configured lead
    director: str = ""  # rep id of the sales director; empty: the team's configured director

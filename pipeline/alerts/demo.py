"""Alert routes for the demo: every channel pointed at the local receiver, no quiet hours.

The demo shows what would have been sent without any real WeCom or DingTalk account, through
the same HTTP code production uses.
"""

from __future__ import annotations

from .config import AlertConfig


def local_receiver_config(
    base_url: str, *, lead: str = "team_lead", director: str = "director"
) -> AlertConfig:
    """Reminders by WeCom app, breaches to a WeCom and a DingTalk robot, escalations by
    DingTalk work notice — all to `base_url`; unknown reps fall into one demo team."""
    return AlertConfig.model_validate(
        {
            "default_team": "demo",
            "crm_url_template": "https://crm.example.com/customers/{customer_id}",
            "escalation": {"after_s": 1800},
            "endpoints": {
                "wecom_robot": {"channel": "wecom_robot", "base_url": base_url, "key": "demo"},
                "wecom_app": {
                    "channel": "wecom_app",
                    "base_url": base_url,
                    "corp_id": "demo",
                    "agent_id": 1,
                    "secret": "demo",
                },
                "dingtalk_robot": {
                    "channel": "dingtalk_robot",
                    "base_url": base_url,
                    "access_token": "demo",
                    "secret": "SECdemo",
                },
                "dingtalk_notice": {
                    "channel": "dingtalk_notice",
                    "base_url": base_url,
                    "app_key": "demo",
                    "agent_id": 1,
                    "app_secret": "demo",
                },
            },
            "teams": {
                "demo": {
                    "lead": lead,
                    "director": director,
                    "reminder": ["wecom_app"],
                    "breach": ["wecom_robot", "dingtalk_robot"],
                    "escalation": ["dingtalk_notice"],
                }
            },
        }
    )

"""Who a rep is for alert routing, from the identity directory users already maintain."""

from __future__ import annotations

from collections.abc import Callable

from pipeline.identity import Directory
from schemas.alerts import RepContact


def contacts_from_directory(directory: Directory) -> Callable[[str], RepContact | None]:
    """rep_id -> RepContact (WeCom userid, DingTalk staff id, team, team lead)."""
    contacts = {
        rep.rep_id: RepContact(
            rep_id=rep.rep_id,
            name=rep.name,
            team=rep.team,
            wecom_userid=rep.wecom_userid,
            dingtalk_userid=rep.dingtalk_staff_id,
            team_lead=rep.manager,
        )
        for rep in directory.reps
    }
    return contacts.get

"""Who gets which stage of an alert, on which endpoints. Pure: a directory lookup and config."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from schemas.alerts import RepContact

from .config import AlertConfig

Directory = Callable[[str], RepContact | None]


def directory_from_config(config: AlertConfig) -> Directory:
    """The `[[reps]]` table of the alert config as a lookup."""
    by_id = {contact.rep_id: contact for contact in config.reps}
    return by_id.get


@dataclass(frozen=True)
class Route:
    """One recipient of one stage, and the endpoints that carry it."""

    recipient: RepContact
    endpoints: tuple[str, ...]


def _contact(directory: Directory, rep_id: str) -> RepContact:
    """Unknown people still get alerts: their id doubles as their chat user id."""
    return directory(rep_id) or RepContact(
        rep_id=rep_id, wecom_userid=rep_id, dingtalk_userid=rep_id
    )


def resolve_route(
    stage: str, rep_id: str, config: AlertConfig, directory: Directory
) -> Route | str:
    """The route for a stage of an alert about `rep_id`, or a reason why there is none."""
    rep = directory(rep_id) if rep_id else None
    team_name = rep.team if rep and rep.team in config.teams else config.default_team
    team = config.teams.get(team_name)
    if team is None:
        return f"no_route: no team for rep {rep_id!r} and no default_team"
    endpoints: tuple[str, ...] = getattr(team, stage)
    if not endpoints:
        return f"no_route: team {team_name!r} has no endpoints for stage {stage}"
    if stage == "reminder":
        if not rep_id:
            return "no_route: a reminder needs a rep"
        return Route(_contact(directory, rep_id), endpoints)
    if stage == "breach":
        target = (rep.team_lead if rep else "") or team.lead
    else:
        target = (rep.director if rep else "") or team.director
    if not target:
        return f"no_route: team {team_name!r} has no {'lead' if stage == 'breach' else 'director'}"
    return Route(_contact(directory, target), endpoints)

"""Response latency and SLAs: a pure engine over per-conversation state (no stream framework).

The stream wiring calls ``apply_event`` for each canonical event of a conversation and
``fire_due`` when the partition's clock (see ``timers.EventClock``) passes ``next_due``;
it stores ``ConversationState.to_dict()`` in a changelog-backed table only when a
``Transition`` is ``changed``.
"""

from pipeline.latency.calendar import BusinessCalendar, CalendarError
from pipeline.latency.engine import Transition, apply_event, fire_due, next_due, wait_id
from pipeline.latency.policy import SlaPolicy
from pipeline.latency.state import ConversationState, Wait
from pipeline.latency.timers import DeadlineIndex, EventClock

__all__ = [
    "BusinessCalendar",
    "CalendarError",
    "ConversationState",
    "DeadlineIndex",
    "EventClock",
    "SlaPolicy",
    "Transition",
    "Wait",
    "apply_event",
    "fire_due",
    "next_due",
    "wait_id",
]

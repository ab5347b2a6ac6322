"""A bounded memory of recently seen event ids: a webhook retried within minutes is one event."""

from __future__ import annotations

from collections import OrderedDict


class RecentIds:
    """A bounded set of recently seen ids, oldest forgotten first."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def seen_before(self, key: str) -> bool:
        if key in self._ids:
            return True
        self._ids[key] = None
        if len(self._ids) > self._capacity:
            self._ids.popitem(last=False)
        return False

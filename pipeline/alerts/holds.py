"""Which submitted items still wait on alert work that has not ended.

An input record may be let go (its offset committed) only once every alert it caused reached a
final outcome and every escalation it scheduled fired or was cancelled: otherwise a crash
would lose them. A `Hold` is opened per submitted item and collects the keys of that work
(alert ids, escalation keys); once sealed and empty, its release runs, exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field


@dataclass(eq=False)
class Hold:
    release: Callable[[], None]
    keys: set[Hashable] = field(default_factory=set)
    sealed: bool = False
    released: bool = False


class Holds:
    """Keys of unfinished work → the holds waiting on them."""

    def __init__(self) -> None:
        self._by_key: dict[Hashable, set[Hold]] = {}

    def wait(self, hold: Hold, key: Hashable) -> None:
        """`hold` is not released before `key` has ended."""
        hold.keys.add(key)
        self._by_key.setdefault(key, set()).add(hold)

    def seal(self, hold: Hold) -> None:
        """No more keys will be added: release now if nothing is left."""
        hold.sealed = True
        self._release_if_done(hold)

    def end(self, key: Hashable, then: Iterable[Hashable] = ()) -> None:
        """`key` ended; holds waiting on it wait on `then` instead (an escalation's alerts)."""
        successors = tuple(then)
        for hold in self._by_key.pop(key, ()):
            hold.keys.discard(key)
            for successor in successors:
                self.wait(hold, successor)
            self._release_if_done(hold)

    def drop(self, key: Hashable) -> None:
        """`key` will not end here (its input moved to another worker): forget it, and leave
        the holds waiting on it unreleased, so their records stay uncommitted."""
        self._by_key.pop(key, None)

    def waiting(self) -> int:
        """Keys some hold still waits on (for metrics and tests)."""
        return len(self._by_key)

    @staticmethod
    def _release_if_done(hold: Hold) -> None:
        if hold.sealed and not hold.keys and not hold.released:
            hold.released = True
            hold.release()

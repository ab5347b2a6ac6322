"""Pick up an edited taxonomy in a running worker without a restart."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from pipeline.tagging.tagger import Tagger
from pipeline.tagging.taxonomy import TaxonomyError

log = logging.getLogger(__name__)

_CHECK_INTERVAL_S = 1.0


class TaggerReloader:
    """Hands out the current tagger; rebuilds it when a taxonomy file changes on disk.

    A broken edit must not take tagging down: the old tagger stays and the reason is logged.
    Loading at construction raises TaxonomyError, so a bad file fails the start-up.
    """

    def __init__(self, path: Path | None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._path = path
        self._clock = clock
        self._tagger = Tagger.from_file(path)
        self._stamp = self._file_stamp(self._tagger.taxonomy.sources)
        self._checked_at = clock()

    def current(self) -> Tagger:
        """The tagger to use now; checks file times at most once per second."""
        now = self._clock()
        if now - self._checked_at < _CHECK_INTERVAL_S:
            return self._tagger
        self._checked_at = now
        stamp = self._file_stamp(self._tagger.taxonomy.sources)
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._tagger = Tagger.from_file(self._path)
                log.info("taxonomy reloaded from %s", self._path or "the packaged default")
            except TaxonomyError as exc:
                log.error("taxonomy change ignored, keeping the previous one: %s", exc)
        return self._tagger

    @staticmethod
    def _file_stamp(paths: tuple[Path, ...]) -> tuple[tuple[int, int], ...]:
        stamps = []
        for path in paths:
            try:
                stat = path.stat()
                stamps.append((stat.st_mtime_ns, stat.st_size))
            except OSError:
                stamps.append((-1, -1))
        return tuple(stamps)

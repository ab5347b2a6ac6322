"""Liveness and readiness of a worker, for `/healthz` and `/readyz` probes.

Liveness answers "should this process be restarted?": only a fatal condition the worker
cannot recover from by itself fails it (a wedged event loop fails it too, because the probe
then times out). Readiness answers "is this worker doing its job right now?": it has finished
starting, reaches the broker and ClickHouse, and has joined its consumer group. A worker that
joined with zero partitions (more workers than partitions) is ready: it is a warm standby.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from aiohttp import web

from pipeline.metrics import metrics_handler


class Check(StrEnum):
    """The dependencies readiness waits for; each starts failed until its owner reports it."""

    BROKER_CONNECTED = "broker_connected"
    CLICKHOUSE_REACHABLE = "clickhouse_reachable"
    PARTITIONS_ASSIGNED = "partitions_assigned"


@dataclass
class _CheckResult:
    ok: bool = False
    detail: str = "not checked yet"


@dataclass
class HealthState:
    """What the probes report; updated by the worker's callbacks from any thread."""

    _started: bool = False
    _not_ready_reason: str = "starting"
    _fatal_reason: str = ""
    _checks: dict[Check, _CheckResult] = field(
        default_factory=lambda: {check: _CheckResult() for check in Check}
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def mark_ready(self) -> None:
        """Start-up finished; readiness now depends only on the checks."""
        with self._lock:
            self._started = True
            self._not_ready_reason = ""

    def mark_not_ready(self, reason: str) -> None:
        """Take the worker out of readiness (shutting down, rebalancing, paused) with a reason."""
        with self._lock:
            self._started = False
            self._not_ready_reason = reason or "not ready"

    def mark_fatal(self, reason: str) -> None:
        """Ask the orchestrator for a restart: liveness fails from now on."""
        with self._lock:
            self._fatal_reason = reason or "fatal error"

    def set_check(self, check: Check, ok: bool, detail: str = "") -> None:
        """Record one dependency's state, e.g. ClickHouse unreachable with the error text."""
        with self._lock:
            self._checks[check] = _CheckResult(ok=ok, detail=detail or ("ok" if ok else "failing"))

    def liveness(self) -> tuple[bool, dict[str, Any]]:
        """(alive, JSON body) for `/healthz`."""
        with self._lock:
            if self._fatal_reason:
                return False, {"status": "fatal", "reason": self._fatal_reason}
            return True, {"status": "alive"}

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        """(ready, JSON body) for `/readyz`: every failing check and the not-ready reason."""
        with self._lock:
            reasons = [] if self._started else [self._not_ready_reason]
            reasons += [
                f"{check.value}: {result.detail}"
                for check, result in self._checks.items()
                if not result.ok
            ]
            if self._fatal_reason:
                reasons.append(f"fatal: {self._fatal_reason}")
            checks = {
                check.value: {"ok": result.ok, "detail": result.detail}
                for check, result in self._checks.items()
            }
        ready = not reasons
        return ready, {
            "status": "ready" if ready else "not_ready",
            "reasons": reasons,
            "checks": checks,
        }

    async def healthz(self, request: web.Request) -> web.Response:
        """aiohttp handler for `/healthz`: 200 alive, 503 fatal."""
        alive, body = self.liveness()
        return web.json_response(body, status=200 if alive else 503)

    async def readyz(self, request: web.Request) -> web.Response:
        """aiohttp handler for `/readyz`: 200 ready, 503 with the reasons otherwise."""
        ready, body = self.readiness()
        return web.json_response(body, status=200 if ready else 503)


def build_web_app(state: HealthState) -> web.Application:
    """An aiohttp app serving `/healthz`, `/readyz` and `/metrics`, for a process without faust's
    web server (the same three paths faust's web port serves in a worker)."""
    app = web.Application()
    app.router.add_get("/healthz", state.healthz)
    app.router.add_get("/readyz", state.readyz)
    app.router.add_get("/metrics", metrics_handler)
    return app

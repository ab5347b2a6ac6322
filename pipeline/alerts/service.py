"""The alert service: route, dedup, quiet hours, rate limit with digests, retry, record.

Plain asyncio, no stream framework: the alerts agent feeds `submit()` and runs `run()`.
Everything time-dependent reads the injected clock, so tests drive hours in microseconds.

Nothing here is durable but the final outcomes in the store: what survives a crash is the
input. `submit(item, on_done)` calls `on_done` once every alert the item caused reached a
final outcome (sent, dead, not routable, already final) and its escalation fired into such
alerts or was cancelled by the close; only then may the caller let the input record go.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Collection, Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

import aiohttp

from schemas.alerts import AlertRecord, AlertStatus, RepContact

from .channels import Channel, make_channel
from .config import AlertConfig
from .hints import Hints, load_hints
from .holds import Hold, Holds
from .items import BreachLike, ReminderLike, WaitItem, responsible_rep
from .messages import RenderedAlert, build_message, digest_bytes, render_section
from .metrics import ALERTS_QUEUED, ALERTS_TOTAL
from .quiet import quiet_until
from .ratelimit import SlidingWindow
from .routing import Directory, Route, directory_from_config, resolve_route
from .store import AlertStateStore
from .transport import DeliveryError

log = logging.getLogger(__name__)

OnRecord = Callable[[AlertRecord], Awaitable[None] | None]
OnDone = Callable[[], None]


def alert_id(tenant: str, breach_id: str, stage: str, recipient: str, endpoint: str) -> str:
    """Same breach, stage, person and endpoint → same id, on every worker and every restart."""
    key = "\x1f".join((tenant, breach_id, stage, recipient, endpoint))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


@dataclass
class _Pending:
    alert_id: str
    tenant: str
    breach_id: str
    stage: str
    recipient: RepContact
    rendered: RenderedAlert
    created_at: datetime
    not_before: datetime  # quiet-hours release or retry backoff; created_at otherwise
    digest_group: str = ""  # alerts released together from quiet hours go out as one message
    attempts: int = 0
    origin: Hashable = None  # the input the item was read from (see AlertService.abandon)


class _Escalation(NamedTuple):
    due: datetime
    breach: BreachLike
    origin: Hashable  # the input the breach was read from (see AlertService.abandon)


@dataclass
class _Endpoint:
    name: str
    channel: Channel
    limiter: SlidingWindow
    pending: list[_Pending] = field(default_factory=list)


class AlertService:
    """Turns breaches and reminders into delivered, recorded messages; never raises at callers."""

    def __init__(
        self,
        config: AlertConfig,
        *,
        clock: Callable[[], datetime],
        http: aiohttp.ClientSession | None = None,
        store: AlertStateStore,
        on_record: OnRecord,
        directory: Directory | None = None,
        hints: Hints | None = None,
        caught_up: Callable[[], bool] = lambda: True,
    ) -> None:
        """``caught_up`` says the input has no backlog. Escalations fire only then: after a
        restart the input is read again from the oldest unfinished record, and a breach's
        escalation may be overdue before its close, further on, has been read."""
        self._config = config
        self._clock = clock
        self._http = http
        self._owns_http = http is None
        self._store = store
        self._on_record = on_record
        self._directory = directory or directory_from_config(config)
        self._hints = hints or load_hints(config.hints_file)
        delivery = config.delivery
        self._endpoints = {
            name: _Endpoint(
                name,
                make_channel(endpoint, delivery.timeout_s, clock, delivery.token_margin_s),
                SlidingWindow(delivery.rate_limit, delivery.rate_window_s),
            )
            for name, endpoint in config.endpoints.items()
        }
        self._active: set[str] = set()  # alert ids queued or in flight, not yet final
        self._escalations: dict[tuple[str, str], _Escalation] = {}  # by (tenant, breach id)
        self._tasks: set[asyncio.Task[None]] = set()
        self._holds = Holds()
        self._caught_up = caught_up

    # -- intake -------------------------------------------------------------------------------

    async def submit(
        self,
        item: BreachLike | ReminderLike,
        on_done: OnDone | None = None,
        origin: Hashable = None,
    ) -> None:
        """Route, dedup and queue one breach or reminder; delivery starts at once if allowed.

        ``on_done`` runs once everything this item caused has ended (see the module doc);
        at once for an item that causes nothing new, or that could not be read. ``origin``
        names the input it was read from, for ``abandon``.
        """
        hold = Hold(on_done or _nothing)
        try:
            await self._submit(item, hold, origin)
        except Exception:  # one bad item must not stop the agent that feeds us
            log.exception("alert for %r not queued", getattr(item, "breach_id", item))
            ALERTS_TOTAL.labels(channel="none", status="dead").inc()
        self._holds.seal(hold)

    async def _submit(self, item: BreachLike | ReminderLike, hold: Hold, origin: Hashable) -> None:
        if isinstance(item, ReminderLike):
            await self._enqueue(item, "reminder", hold, origin)
            return
        if not isinstance(item, BreachLike):
            raise TypeError(f"not a Breach or WaitReminder: {type(item).__name__}")
        key = (item.tenant, item.breach_id)
        if item.status == "closed":
            if self._escalations.pop(key, None) is not None:
                self._holds.end(key)
            return
        await self._enqueue(item, "breach", hold, origin)
        if key not in self._escalations:
            due = item.detected_at + timedelta(seconds=self._config.escalation.after_s)
            self._escalations[key] = _Escalation(due, item, origin)
        self._holds.wait(hold, key)

    def abandon(self, origins: Collection[Hashable]) -> int:
        """Drop the queued alerts and pending escalations of items read from ``origins``
        (input partitions that moved to another worker); returns how many.

        Their records are not committed, so the partition's new owner reads them again and
        sends them. Kept here, they would go out twice (deferred to the morning on both
        workers) and an escalation would fire for a breach whose close only the new owner
        reads. Alerts already in flight finish here.
        """
        dropped = [key for key, entry in self._escalations.items() if entry.origin in origins]
        for key in dropped:
            del self._escalations[key]
            self._holds.drop(key)
        count = len(dropped)
        for endpoint in self._endpoints.values():
            gone = [p for p in endpoint.pending if p.origin in origins]
            endpoint.pending = [p for p in endpoint.pending if p.origin not in origins]
            for pending in gone:
                self._active.discard(pending.alert_id)
                self._holds.drop(pending.alert_id)
            count += len(gone)
        return count

    async def _enqueue(self, item: WaitItem, stage: str, hold: Hold, origin: Hashable) -> None:
        now = self._clock()
        route = resolve_route(stage, responsible_rep(item), self._config, self._directory)
        if isinstance(route, str):
            await self._record_unroutable(item, stage, route, now)
            return
        for endpoint_name in route.endpoints:
            endpoint = self._endpoints[endpoint_name]
            await self._enqueue_on(item, stage, route, endpoint, now, hold, origin)
        self._dispatch_all(force=False)

    async def _enqueue_on(
        self,
        item: WaitItem,
        stage: str,
        route: Route,
        endpoint: _Endpoint,
        now: datetime,
        hold: Hold,
        origin: Hashable,
    ) -> None:
        recipient = route.recipient
        aid = alert_id(item.tenant, item.breach_id, stage, recipient.rep_id, endpoint.name)
        if aid in self._active:  # queued by an earlier delivery of the same record
            self._holds.wait(hold, aid)
            return
        if self._store.seen(aid):
            return
        rep_id = responsible_rep(item)
        rendered = render_section(
            item,
            stage,
            now=now,
            rep=self._directory(rep_id) if rep_id else None,
            hints=self._hints,
            sla_s=(item.deadline - item.started_at).total_seconds(),
            crm_url_template=self._config.crm_url_template,
        )
        pending = _Pending(
            aid,
            item.tenant,
            item.breach_id,
            stage,
            recipient,
            rendered,
            created_at=now,
            not_before=now,
            origin=origin,
        )
        release = (
            None
            if self._is_urgent(item)
            else quiet_until(
                now, self._config.quiet_hours.window_for(recipient.rep_id), self._config.zone
            )
        )
        if release is not None:
            pending.not_before = release
            pending.digest_group = f"quiet:{recipient.rep_id}:{release.isoformat()}"
        self._active.add(aid)
        self._holds.wait(hold, aid)
        endpoint.pending.append(pending)
        status: AlertStatus = "deferred" if release is not None else "queued"
        await self._record(endpoint, [pending], status, now)

    def _is_urgent(self, item: WaitItem) -> bool:
        quiet = self._config.quiet_hours
        return item.kind in quiet.urgent_kinds or item.customer_tier in quiet.urgent_tiers

    # -- time-driven work ---------------------------------------------------------------------

    async def tick(self) -> None:
        """Escalations that fell due, then whatever each endpoint may send now."""
        try:
            await self._fire_escalations()
            self._dispatch_all(force=False)
            ALERTS_QUEUED.set(sum(len(e.pending) for e in self._endpoints.values()))
        except Exception:
            log.exception("alert tick failed")

    async def run(self, interval_s: float = 1.0) -> None:
        """Tick until cancelled; closes the HTTP session it created."""
        try:
            while True:
                await self.tick()
                await asyncio.sleep(interval_s)
        finally:
            await self.close()

    async def flush(self, timeout_s: float) -> None:
        """Deliver what may go now without waiting for a digest to gather; wait for answers."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            await self._fire_escalations()
            self._dispatch_all(force=True)
            remaining = deadline - loop.time()
            if not self._tasks or remaining <= 0:
                return
            await asyncio.wait(set(self._tasks), timeout=remaining)

    async def close(self) -> None:
        """Wait for requests in flight, then close the HTTP session if this service opened it."""
        if self._tasks:
            await asyncio.wait(set(self._tasks))
        if self._owns_http and self._http is not None:
            await self._http.close()
            self._http = None

    async def _fire_escalations(self) -> None:
        if not self._caught_up():
            return
        now = self._clock()
        due = [key for key, entry in self._escalations.items() if entry.due <= now]
        for key in due:
            # A close submitted while an earlier escalation was being enqueued cancels this one.
            entry = self._escalations.pop(key, None)
            if entry is not None:
                alerts = Hold(_nothing)
                await self._enqueue(entry.breach, "escalation", alerts, entry.origin)
                # whoever waited on the escalation now waits on its alerts still unfinished
                self._holds.end(key, then=alerts.keys)

    # -- delivery -----------------------------------------------------------------------------

    def _dispatch_all(self, *, force: bool) -> None:
        for endpoint in self._endpoints.values():
            self._dispatch(endpoint, force=force)

    def _dispatch(self, endpoint: _Endpoint, *, force: bool) -> None:
        """Spend the endpoint's free slots without ever exceeding its rate limit.

        While fewer alerts wait than slots are free, each goes alone, but the last free slot is
        kept for a digest: whatever reaches it waits `digest_hold_s` (unless forced) so the rest
        of a burst can join, instead of waiting a whole window. When more alerts wait than
        slots are free, every slot carries as large a digest as the channel allows.
        """
        now = self._clock()
        hold = timedelta(seconds=self._config.delivery.digest_hold_s)
        while True:
            free = endpoint.limiter.free(now)
            if free <= 0:  # checked first: a backlog of thousands must not be re-sorted per alert
                return
            batches = _batches([p for p in endpoint.pending if p.not_before <= now])
            if not batches:
                return
            if free > 1 and len(batches) <= free:
                self._start(endpoint, batches[0], now)
                continue
            audience = self._audience(endpoint, batches[0][0])
            merged = [p for b in batches if self._audience(endpoint, b[0]) == audience for p in b]
            if free == 1 and not force and now - min(p.not_before for p in merged) < hold:
                return
            self._start(endpoint, merged, now)

    @staticmethod
    def _audience(endpoint: _Endpoint, pending: _Pending) -> str:
        """A group chat takes everyone in one digest; a direct message only its own person."""
        return "" if endpoint.channel.group else pending.recipient.rep_id

    def _start(self, endpoint: _Endpoint, batch: list[_Pending], now: datetime) -> None:
        """Send what fits one message of the channel; the rest waits for the next slot."""
        batch = batch[: _fitting(batch, endpoint.channel.max_bytes)]
        endpoint.limiter.take(now)
        for pending in batch:
            endpoint.pending.remove(pending)
            pending.attempts += 1
        task = asyncio.create_task(self._deliver(endpoint, batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, endpoint: _Endpoint, batch: list[_Pending]) -> None:
        message = build_message([p.rendered for p in batch], [p.recipient for p in batch])
        try:
            if self._http is None:
                self._http = aiohttp.ClientSession()
            await endpoint.channel.send(self._http, message)
        except DeliveryError as exc:
            await self._failed(endpoint, batch, str(exc))
            return
        except Exception as exc:  # an unexpected failure is retried like any other
            log.exception("alert delivery on %s failed unexpectedly", endpoint.name)
            await self._failed(endpoint, batch, f"internal: {type(exc).__name__}")
            return
        now = self._clock()
        await self._finish(endpoint, batch, "sent", now, sent_at=now)

    async def _failed(self, endpoint: _Endpoint, batch: list[_Pending], error: str) -> None:
        now = self._clock()
        delivery = self._config.delivery
        dead = [p for p in batch if p.attempts >= delivery.max_attempts]
        retry = [p for p in batch if p.attempts < delivery.max_attempts]
        if dead:
            log.error(
                "%d alert(s) on %s dead after %d attempts: %s",
                len(dead),
                endpoint.name,
                delivery.max_attempts,
                error,
            )
            await self._finish(endpoint, dead, "dead", now, error=error, digest_size=len(batch))
        for pending in retry:
            backoff = delivery.backoff_base_s * 2 ** (pending.attempts - 1)
            pending.not_before = now + timedelta(seconds=min(backoff, delivery.backoff_max_s))
            endpoint.pending.append(pending)
        if retry:
            await self._record(endpoint, retry, "failed", now, error=error, digest_size=len(batch))

    async def _finish(
        self,
        endpoint: _Endpoint,
        batch: list[_Pending],
        status: AlertStatus,
        now: datetime,
        *,
        sent_at: datetime | None = None,
        error: str = "",
        digest_size: int | None = None,
    ) -> None:
        for pending in batch:
            self._store.mark(pending.alert_id)
            self._active.discard(pending.alert_id)
        await self._record(
            endpoint, batch, status, now, sent_at=sent_at, error=error, digest_size=digest_size
        )
        for pending in batch:  # the outcome is on its way to the alerts topic: let inputs go
            self._holds.end(pending.alert_id)

    # -- records ------------------------------------------------------------------------------

    async def _record(
        self,
        endpoint: _Endpoint,
        batch: list[_Pending],
        status: AlertStatus,
        now: datetime,
        *,
        sent_at: datetime | None = None,
        error: str = "",
        digest_size: int | None = None,
    ) -> None:
        for pending in batch:
            await self._emit(
                AlertRecord(
                    tenant=pending.tenant,
                    alert_id=pending.alert_id,
                    breach_id=pending.breach_id,
                    stage=pending.stage,  # type: ignore[arg-type]
                    channel=endpoint.channel.name,  # type: ignore[arg-type]
                    recipient=pending.recipient.rep_id,
                    status=status,
                    attempts=pending.attempts,
                    created_at=pending.created_at,
                    sent_at=sent_at,
                    error=error,
                    digest_size=digest_size or len(batch),
                )
            )

    async def _record_unroutable(
        self, item: WaitItem, stage: str, reason: str, now: datetime
    ) -> None:
        aid = alert_id(item.tenant, item.breach_id, stage, "", "")
        if self._store.seen(aid):
            return
        self._store.mark(aid)
        log.info("alert %s/%s not routed: %s", item.breach_id, stage, reason)
        await self._emit(
            AlertRecord(
                tenant=item.tenant,
                alert_id=aid,
                breach_id=item.breach_id,
                stage=stage,
                channel="none",
                recipient="",  # type: ignore[arg-type]
                status="dead",
                attempts=0,
                created_at=now,
                error=reason,
            )
        )

    async def _emit(self, record: AlertRecord) -> None:
        ALERTS_TOTAL.labels(channel=record.channel, status=record.status).inc()
        try:
            result = self._on_record(record)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("on_record failed for alert %s", record.alert_id)


def _nothing() -> None:
    """The release of a hold nobody waits on."""


def _fitting(batch: list[_Pending], max_bytes: int) -> int:
    """How many alerts from the front of `batch` fit one digest (always at least one)."""
    for count in range(2, len(batch) + 1):
        head = batch[:count]
        if digest_bytes([p.rendered for p in head], [p.recipient for p in head]) > max_bytes:
            return count - 1
    return len(batch)


def _batches(ready: list[_Pending]) -> list[list[_Pending]]:
    """One batch per alert, except a quiet-hours group, which stays one morning digest."""
    groups: dict[str, list[_Pending]] = {}
    batches: list[list[_Pending]] = []
    for pending in sorted(ready, key=lambda p: p.created_at):
        if not pending.digest_group:
            batches.append([pending])
        elif pending.digest_group in groups:
            groups[pending.digest_group].append(pending)
        else:
            groups[pending.digest_group] = [pending]
            batches.append(groups[pending.digest_group])
    return batches

"""Probe endpoints answer 200 or 503 with a JSON body that says why."""

from __future__ import annotations

import asyncio

import orjson
from aiohttp.test_utils import TestClient, TestServer

from pipeline.health import Check, HealthState, build_web_app


def _all_checks_ok(state: HealthState) -> None:
    for check in Check:
        state.set_check(check, True)


async def _get(state: HealthState, path: str) -> tuple[int, dict | str]:
    async with TestClient(TestServer(build_web_app(state))) as client:
        response = await client.get(path)
        if path == "/metrics":
            return response.status, await response.text()
        return response.status, await response.json()


def test_a_new_worker_is_alive_but_not_ready() -> None:
    state = HealthState()
    assert asyncio.run(_get(state, "/healthz"))[0] == 200
    status, body = asyncio.run(_get(state, "/readyz"))
    assert status == 503
    assert body["status"] == "not_ready"
    assert "starting" in body["reasons"]
    assert {c.value for c in Check} == set(body["checks"])


def test_ready_once_started_and_every_check_passes() -> None:
    state = HealthState()
    state.mark_ready()
    _all_checks_ok(state)
    status, body = asyncio.run(_get(state, "/readyz"))
    assert (status, body["status"], body["reasons"]) == (200, "ready", [])


def test_a_failing_check_makes_the_worker_not_ready_and_names_it() -> None:
    state = HealthState()
    state.mark_ready()
    _all_checks_ok(state)
    state.set_check(Check.CLICKHOUSE_REACHABLE, False, "connection refused")
    status, body = asyncio.run(_get(state, "/readyz"))
    assert status == 503
    assert body["reasons"] == ["clickhouse_reachable: connection refused"]
    assert body["checks"]["clickhouse_reachable"] == {"ok": False, "detail": "connection refused"}
    assert asyncio.run(_get(state, "/healthz"))[0] == 200


def test_mark_not_ready_reports_the_reason_until_ready_again() -> None:
    state = HealthState()
    _all_checks_ok(state)
    state.mark_ready()
    state.mark_not_ready("shutting down")
    status, body = asyncio.run(_get(state, "/readyz"))
    assert (status, body["reasons"]) == (503, ["shutting down"])
    state.mark_ready()
    assert asyncio.run(_get(state, "/readyz"))[0] == 200


def test_fatal_fails_liveness_with_the_reason() -> None:
    state = HealthState()
    state.mark_fatal("agent sink crashed")
    status, body = asyncio.run(_get(state, "/healthz"))
    assert (status, body) == (503, {"status": "fatal", "reason": "agent sink crashed"})


def test_direct_handler_call_returns_json() -> None:
    state = HealthState()
    response = asyncio.run(state.readyz(None))
    assert response.status == 503
    assert orjson.loads(response.body)["status"] == "not_ready"


def test_the_web_app_also_serves_metrics() -> None:
    status, text = asyncio.run(_get(HealthState(), "/metrics"))
    assert status == 200
    assert "salesradar_open_waits" in text


def test_handlers_serve_from_faust_web_pages() -> None:
    """The worker's web port is faust's own server: the handlers must work behind app.page."""
    import faust

    from pipeline.metrics import metrics_handler

    state = HealthState()
    state.mark_fatal("table recovery failed")
    app = faust.App("health-page-test", broker="kafka://127.0.0.1:1", store="memory://")

    @app.page("/metrics")
    async def metrics_page(web, request):
        return await metrics_handler(request)

    @app.page("/healthz")
    async def healthz_page(web, request):
        return await state.healthz(request)

    async def fetch() -> tuple[int, str, int, dict]:
        app.web.init_server()
        async with TestClient(TestServer(app.web.web_app)) as client:
            metrics_reply = await client.get("/metrics")
            health_reply = await client.get("/healthz")
            return (
                metrics_reply.status,
                await metrics_reply.text(),
                health_reply.status,
                await health_reply.json(),
            )

    metrics_status, metrics_text, health_status, health_body = asyncio.run(fetch())
    assert metrics_status == 200 and "salesradar_open_waits" in metrics_text
    assert (health_status, health_body["reason"]) == (503, "table recovery failed")

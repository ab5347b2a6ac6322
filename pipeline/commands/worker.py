"""Long-running worker against the configured broker and ClickHouse (production mode).

Serves /metrics, /healthz and /readyz on the web port. Apply `salesradar migrate` first; run
as many workers as you like in one consumer group (partitions are shared between them).
Alerts run when `SALESRADAR_ALERTS_FILE` names the routes file.
"""

from __future__ import annotations

import argparse
import os

from pipeline.logging_json import configure_logging
from pipeline.settings import load_settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--loglevel", default="INFO")
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop (faster)")


def run(args: argparse.Namespace) -> int:
    import asyncio

    import faust
    from aiohttp import web

    from agents.app import build_app
    from pipeline.alerts import load_alert_config
    from pipeline.clickhouse import ClickHouseError
    from pipeline.health import Check, HealthState, build_web_app
    from pipeline.runtime import Runtime

    settings = load_settings()
    configure_logging(args.loglevel, json=settings.log_json)
    runtime = Runtime.from_settings(settings)
    backend = runtime.open_clickhouse()
    health = HealthState()
    alert_config = (
        load_alert_config(settings.alerts_file, os.environ) if settings.alerts_file else None
    )
    app = build_app(runtime, backend, health=health, alert_config=alert_config)

    @app.task
    async def serve_probes() -> None:
        if settings.web_port:
            runner = web.AppRunner(build_web_app(health))
            await runner.setup()
            await web.TCPSite(runner, "0.0.0.0", settings.web_port).start()
        health.set_check(Check.BROKER_CONNECTED, True)
        # The sink reports ClickHouse after each insert; without this a worker on a quiet
        # pipeline would never become ready (and a StatefulSet rollout would wait forever).
        try:
            await asyncio.get_running_loop().run_in_executor(None, backend.query_rows, "SELECT 1")
            health.set_check(Check.CLICKHOUSE_REACHABLE, True, "ok")
        except ClickHouseError as exc:
            health.set_check(Check.CLICKHOUSE_REACHABLE, False, str(exc)[:200])
        health.mark_ready()

    # override_logging=False: faust would replace the handler configure_logging installed
    # (JSON lines in production) with its own plain format
    worker = faust.Worker(app, loglevel=args.loglevel, loop=None, override_logging=False)
    if args.uvloop:
        import uvloop

        uvloop.install()
    worker.execute_from_commandline()
    return 0

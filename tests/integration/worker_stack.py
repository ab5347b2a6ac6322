"""Real worker processes on a real stack, for the fault tests and the memory benchmark.

The embedded broker, one ClickHouse server for every process (the chDB HTTP endpoint, so
several processes can write to one database), migrated and with the topics created, and
`salesradar worker` child processes with their own table directories and web ports.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agents.runner import create_topics
from pipeline.clickhouse import ServerBackend, migrate
from pipeline.embedded_broker import EmbeddedBroker, free_port
from pipeline.runtime import Runtime
from pipeline.settings import Settings, as_env, load_settings

REPO = Path(__file__).resolve().parents[2]

#: The chDB endpoint of tests/integration/chdb_http.py on a chosen port, answering requests
#: from several workers at once (one at a time inside, since chDB is not re-entrant), and
#: taking compressed bodies: a worker's ServerBackend compresses, as against a real server.
_ENDPOINT_ON_PORT = """
import sys, tempfile, threading, zlib
from http.server import ThreadingHTTPServer
from pathlib import Path
import lz4.frame
from chdb import session
from tests.integration.chdb_http import ChdbHttpHandler

lock = threading.Lock()
DECOMPRESS = {
    "lz4": lz4.frame.decompress,
    "gzip": lambda data: zlib.decompress(data, 47),
    "deflate": zlib.decompress,
}

class Serialized(ChdbHttpHandler):
    def _read_body(self):
        body = super()._read_body()
        encoding = self.headers.get("Content-Encoding", "").lower()
        return DECOMPRESS[encoding](body) if encoding else body

    def _handle(self, body):
        with lock:
            super()._handle(body)

Serialized.chdb_session = session.Session(sys.argv[1])
Serialized.spool_dir = Path(tempfile.mkdtemp(prefix="chdb_http_"))
ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), Serialized).serve_forever()
"""


def wait_for(
    condition: Callable[[], bool],
    timeout_s: float,
    what: Callable[[], str] | str,
    interval_s: float = 0.25,
) -> None:
    """Poll until ``condition`` holds; fail with ``what`` (evaluated late, so it is current)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            detail = what() if callable(what) else what
            pytest.fail(f"timed out after {timeout_s:.0f}s waiting for {detail}")
        time.sleep(interval_s)


class ClickHouseEndpoint:
    """A ClickHouse HTTP server backed by one chDB directory; stop and start it at will."""

    def __init__(self, data_dir: Path, log_path: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/default"

    def start(self) -> None:
        with open(self._log_path, "ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-c", _ENDPOINT_ON_PORT, str(self.data_dir), str(self.port)],
                cwd=REPO,
                stdout=log,
                stderr=log,
            )
        wait_for(self._answers, 30, lambda: f"the chDB endpoint on :{self.port}: {self._log()}")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=20)
            self._process = None

    def _answers(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            pytest.fail(f"the chDB endpoint exited: {self._log()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/ping", timeout=2) as r:
                return r.read() == b"Ok.\n"
        except OSError:
            return False

    def _log(self) -> str:
        return self._log_path.read_text(errors="replace")[-2000:]


class WorkerProcess:
    """`salesradar worker` as a child process with its own table directory and web port."""

    def __init__(self, name: str, env: Mapping[str, str], work: Path) -> None:
        self.name = name
        self.web_port = free_port()
        self._env = {
            **os.environ,
            **env,
            "SALESRADAR_WEB_PORT": str(self.web_port),
            "SALESRADAR_TABLE_DIR": str(work / f"tables-{name}"),
        }
        self._log_path = work / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self._log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "pipeline.cli", "worker", "--loglevel", "INFO"],
                cwd=REPO,
                env=self._env,
                stdout=log,
                stderr=log,
            )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, timeout_s: float = 60) -> None:
        def ready() -> bool:
            if not self.alive():
                pytest.fail(f"worker {self.name} exited early:\n{self.log_tail()}")
            return self._get("/readyz")[0] == 200

        wait_for(ready, timeout_s, lambda: f"worker {self.name} ready:\n{self.log_tail()}")

    def metric(self, name: str) -> float:
        """Sum of every sample of one metric on the worker's /metrics (0 when absent)."""
        status, body = self._get("/metrics")
        assert status == 200, f"worker {self.name} /metrics answered {status}"
        total = 0.0
        for line in body.splitlines():
            if line.startswith(name) and line[len(name) : len(name) + 1] in ("{", " "):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def terminate(self) -> int:
        """SIGTERM and wait for a clean exit; returns the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"worker {self.name} ignored SIGTERM for 30s:\n{self.log_tail()}")

    def kill(self) -> None:
        """kill -9: no flush, no commit, no leave-group."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def log_tail(self) -> str:
        return self._log_path.read_text(errors="replace")[-3000:]

    def log_lines(self) -> list[str]:
        return self._log_path.read_text(errors="replace").splitlines()

    def _get(self, path: str) -> tuple[int, str]:
        try:
            url = f"http://127.0.0.1:{self.web_port}{path}"
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, ""
        except OSError:
            return 0, ""


@dataclass
class RunningStack:
    """The broker, the ClickHouse endpoint, and the settings a worker and its test share
    (``env`` is the same settings as a worker process's environment)."""

    broker: EmbeddedBroker
    clickhouse: ClickHouseEndpoint
    settings: Settings
    env: dict[str, str]


@contextmanager
def running_stack(work: Path, **overrides: Any) -> Iterator[RunningStack]:
    """A fresh broker and ClickHouse (offsets and dedup tokens start from zero), migrated,
    with every topic created for the settings ``overrides``."""
    clickhouse = ClickHouseEndpoint(work / "chdb", work / "chdb.log")
    broker = EmbeddedBroker(log_path=work / "broker.log")
    broker.start()
    try:
        clickhouse.start()
        shared: dict[str, Any] = {
            **broker.worker_settings(),
            "clickhouse_url": clickhouse.url,
            "sink_flush_seconds": 0.5,
            **overrides,
        }
        settings = load_settings(**shared)
        admin = ServerBackend(clickhouse.url, compress=False)
        migrate(admin, settings_vars={"text_ttl_days": str(settings.text_ttl_days)})
        admin.close()
        asyncio.run(create_topics(settings, Runtime.from_settings(settings).all_topics()))
        yield RunningStack(broker, clickhouse, settings, as_env(shared))
    finally:
        clickhouse.stop()
        broker.stop()

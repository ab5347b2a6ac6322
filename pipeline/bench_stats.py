"""Numbers the benchmark prints: rates, quantiles and memory, computed without any I/O framework."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


def quantile(values: Sequence[float], q: float) -> float:
    """Nearest-rank quantile (q in [0, 1]) of a non-empty sample: an observed value, no blending."""
    if not values:
        raise ValueError("quantile of an empty sample")
    if not 0 <= q <= 1:
        raise ValueError(f"q must be within [0, 1], got {q}")
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def rss_mb(status_file: Path = Path("/proc/self/status")) -> float:
    """Resident memory of this process in MB (VmRSS), 0.0 where /proc is not available."""
    try:
        for line in status_file.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return 0.0
    return 0.0


def load_average() -> str:
    """The 1/5/15-minute load, to print beside the numbers it affects."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


@dataclass
class BenchResult:
    """One run: the bare consumer ceiling, the pipeline's backlog rate, and paced latency."""

    records: int
    ceiling_per_s: float
    stream_per_s: float  # the faust pass alone: every output on the broker
    pipeline_per_s: float
    paced_rate: float
    paced_records: int
    latency_samples: int
    p50_s: float
    p99_s: float
    rss_mb: float
    open_waits: int
    cores: int
    load: str
    #: CPU of the worker's event-loop thread per record (the bare agent; the faust pass, which
    #: shares that thread with the sink's row building): unlike rates, barely moved by load
    #: from other processes on a shared machine.
    ceiling_cpu_us: float = 0.0
    stream_cpu_us: float = 0.0
    #: The same measure at a rate the pipeline sustains (a fraction of its measured rate): the
    #: latency of the path itself, where the fixed rate above may only measure a backlog.
    sustained_rate: float = 0.0
    sustained_samples: int = 0
    sustained_p50_s: float = 0.0
    sustained_p99_s: float = 0.0

    @property
    def ratio(self) -> float:
        return self.pipeline_per_s / self.ceiling_per_s if self.ceiling_per_s else 0.0

    def lines(self) -> list[str]:
        return [
            f"machine: {self.cores} cores, load average {self.load}",
            f"bare faust agent (consume only):     {self.ceiling_per_s:>9,.0f} records/s",
            f"pipeline end to end (backlog of {self.records:,}): "
            f"{self.pipeline_per_s:>9,.0f} records/s per worker process",
            f"ratio pipeline / bare ceiling:       {self.ratio:>9.0%}",
            f"  of which the faust pass (normalize, tag, latency table; outputs on the broker): "
            f"{self.stream_per_s:,.0f} records/s, {self.stream_per_s / self.ceiling_per_s:.0%} "
            "of the bare ceiling; the rest is the ClickHouse sink catching up",
            f"produce -> row in ClickHouse at {self.paced_rate:,.0f} records/s "
            f"({self.paced_records:,} records, {self.latency_samples:,} sampled): "
            f"p50 {self.p50_s:.2f} s, p99 {self.p99_s:.2f} s",
            f"produce -> row in ClickHouse at {self.sustained_rate:,.0f} records/s (half the "
            f"pipeline's measured rate; {self.sustained_samples:,} sampled): "
            f"p50 {self.sustained_p50_s:.2f} s, p99 {self.sustained_p99_s:.2f} s",
            f"bench process RSS (input, worker and chDB in one process): {self.rss_mb:.0f} MB "
            f"with {self.open_waits:,} open waits; a worker alone with 100k open waits: "
            "python -m tests.bench.bench_worker_memory",
            f"event-loop CPU per record: bare agent {self.ceiling_cpu_us:,.0f} us, faust pass "
            f"{self.stream_cpu_us:,.0f} us ({self.cpu_ratio:.0%}: the pass's share of the "
            "ceiling on an otherwise idle core)",
        ]

    @property
    def cpu_ratio(self) -> float:
        return self.ceiling_cpu_us / self.stream_cpu_us if self.stream_cpu_us else 0.0

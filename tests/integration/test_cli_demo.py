"""The README's run command, as a user types it: `salesradar demo`, in a subprocess."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path


def test_demo_prints_the_three_report_sections_with_real_numbers(tmp_path: Path) -> None:
    db = tmp_path / "demo-db"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline.cli",
            "demo",
            "--db",
            str(db),
            "--reps",
            "3",
            "--customers",
            "24",
            "--seed",
            "11",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    for section in ("HEATMAP", "FIRST-REPLY LATENCY", "BREACHES", "ALERTS"):
        assert section in out, f"{section} missing from:\n{out[:2000]}"
    # a heatmap row with at least one non-zero total, and a latency row with a p50 in hours
    assert re.search(r"^\s+quote\s+.*\s[1-9]\d*$", out, re.MULTILINE), out[:2000]
    assert re.search(r"^r0\d\s+[ABC]\s+[1-9]\d*\s+\d+\.\dh", out, re.MULTILINE), out[:3000]
    breaches = re.search(r"BREACHES — (\d+) promises broken", out)
    assert breaches and int(breaches.group(1)) > 0
    assert "normalized" in result.stderr  # progress was shown while it worked
    assert str(db.resolve()) in result.stderr  # and it says where the data stayed
    assert (db / "metadata").exists()

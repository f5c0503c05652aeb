"""The volume benchmark runs (bench/bench_scale.py, scaled down to six weeks of a small province), so it cannot
rot: its last line carries every figure (their sizes are the benchmark's matter, not a test's)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def test_bench_scale_small(server_url, tmp_path):
    env = {**os.environ, "REFORMWH_DATABASE_URL": server_url, "REFORMWH_HOME": str(tmp_path / "home")}
    result = subprocess.run(
        [sys.executable, "bench/bench_scale.py", "--dossiers", "600", "--from", "2025-11-20",
         "--workdir", str(tmp_path / "exports")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    last = result.stdout.strip().splitlines()[-1]
    match = re.fullmatch(
        r"scale: rows=(\d+) ingest_ratio=([\d.]+) full_build_s=(\d+) daily_build_s=([\d.]+) "
        r"daily_over_full=([\d.]+) peak_rss_mib=(\d+) db_mib=(\d+) csv_mib=(\d+) bi_p95_ms=([\d.]+) "
        r"report_s=([\d.]+)", last)
    assert match, last
    rows, ratio, _full, _daily, _daily_over_full, peak, *_ = (float(v) for v in match.groups())
    assert 1000 < rows < 2400  # about three versions of each of the 600 dossiers, less those still to come
    assert ratio > 0 and 0 < peak < 500
    assert "BI: flagged units of a period" in result.stdout

"""DAG parse-time benchmark: how long each file of dags/ takes to parse, beyond importing Airflow itself
(the DAG processor has Airflow loaded already). Target: under 0.5 s per file.

    .venv/bin/python bench/bench_dag_parse.py [--runs 3]

Each run is a fresh Python process (as the DAG processor parses each file in a fresh child): it imports
Airflow and the DagBag first (not counted), then parses the file with a DagBag (cold: includes the file's own
imports), then parses it again in the same process (warm: the DAG
construction alone). Prints the median of each over the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import airflow.sdk  # noqa: F401
from airflow.dag_processing.dagbag import DagBag
t1 = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
t2 = time.perf_counter()
DagBag(dag_folder=sys.argv[1])
t3 = time.perf_counter()
print(json.dumps({"airflow": t1 - t0, "cold": t2 - t1, "warm": t3 - t2, "errors": len(bag.import_errors),
                  "tasks": sum(len(d.tasks) for d in bag.dags.values())}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_dag_parse_") as home:
        env = {**os.environ, "AIRFLOW_HOME": home, "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
               "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING"}
        print(f"{'DAG file':<34}{'tasks':>6}{'cold s':>9}{'warm s':>9}{'Airflow import s':>18}  target < 0.5 s")
        worst = 0.0
        for path in sorted((ROOT / "dags").glob("*.py")):
            figures = []
            for _ in range(args.runs):
                out = subprocess.run([sys.executable, "-c", _CHILD, str(path)], env=env, capture_output=True,
                                     text=True, check=True).stdout.strip().splitlines()[-1]
                figures.append(json.loads(out))
            cold = statistics.median(f["cold"] for f in figures)
            warm = statistics.median(f["warm"] for f in figures)
            base = statistics.median(f["airflow"] for f in figures)
            worst = max(worst, cold)
            flag = "ok" if cold < 0.5 else "OVER"
            errors = f"  IMPORT ERRORS: {figures[0]['errors']}" if figures[0]["errors"] else ""
            print(f"{path.name:<34}{figures[0]['tasks']:>6}{cold:>9.3f}{warm:>9.3f}{base:>18.2f}  {flag}{errors}")
        print(f"slowest file: {worst:.3f} s (cold parse, median of {args.runs})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

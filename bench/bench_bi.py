"""`reformwh bi` benchmark: Superset's first start on an empty metadata database, a later start, and every
dashboard chart's query through the chart-data API, on the warehouse of REFORMWH_HOME (run the demo first).

    REFORMWH_HOME=... .venv/bin/python bench/bench_bi.py [--port 18088] [--keep-metadata]

The first start drops and recreates the metadata database `superset_bench` (so migrations, roles and the
import are all paid), after the environment bi/.venv is installed (its install is not timed here: the first
`reformwh bi` says how long it took). Each chart is queried twice, with the dashboard's default filters
(values chosen "first item" by the dashboard are not applied): cold, then warm (Superset caches nothing
here, so the second run shows PostgreSQL's cache).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import requests  # noqa: E402

from reformwh import bi  # noqa: E402
from reformwh.settings import get_settings  # noqa: E402


def _timed_start(settings, port):
    started = time.monotonic()
    process, login = bi.start(settings, port, progress=print)
    if not bi.wait_until_ready(port, process, timeout=900):
        bi.stop(process)
        sys.exit(f"Superset did not start; see {login['log']}")
    return time.monotonic() - started, process, login


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=18088)
    parser.add_argument("--keep-metadata", action="store_true", help="do not empty the metadata database first")
    args = parser.parse_args()
    settings = get_settings()
    bi.ensure_environment()
    base = settings.database_url.partition("?")[0].rsplit("/", 1)[0]
    os.environ["SUPERSET_DATABASE_URI"] = f"{base}/superset_bench".replace("postgresql://", "postgresql+psycopg2://")
    if not args.keep_metadata:
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute("drop database if exists superset_bench with (force)")
            conn.execute("create database superset_bench")
        for stamp in (settings.home / "superset").glob(".i*"):
            stamp.unlink()
    first, process, login = _timed_start(settings, args.port)
    bi.stop(process)
    later, process, login = _timed_start(settings, args.port)
    print(f"first start (empty metadata database): {first:.1f} s; later start: {later:.1f} s")
    try:
        session = requests.Session()
        token = session.post(f"{login['url']}/api/v1/security/login", json={
            "username": login["user"], "password": login["password"], "provider": "db"}).json()["access_token"]
        session.headers["Authorization"] = f"Bearer {token}"
        dashboards = session.get(f"{login['url']}/api/v1/dashboard/", params={"q": "(page_size:100)"}).json()
        worst = 0.0
        for dashboard in dashboards["result"]:
            metadata = json.loads(session.get(f"{login['url']}/api/v1/dashboard/{dashboard['id']}").json()[
                "result"]["json_metadata"])
            filters = [f for n in metadata["native_filter_configuration"]
                       for f in n.get("defaultDataMask", {}).get("extraFormData", {}).get("filters", [])]
            print(f"\n{dashboard['dashboard_title']}  (filters {filters})")
            for chart in session.get(f"{login['url']}/api/v1/dashboard/{dashboard['id']}/charts").json()["result"]:
                full = session.get(f"{login['url']}/api/v1/chart/{chart['id']}").json()["result"]
                context = json.loads(full["query_context"])
                for q in context["queries"]:
                    q["filters"] = [*q.get("filters", []), *filters]
                times = []
                for _ in range(2):
                    started = time.monotonic()
                    response = session.post(f"{login['url']}/api/v1/chart/data", json=context)
                    times.append(time.monotonic() - started)
                    response.raise_for_status()
                rows = response.json()["result"][0]["rowcount"]
                worst = max(worst, times[0])
                print(f"  {times[0]:6.2f} s cold {times[1]:6.2f} s warm {rows:6d} rows  {full['slice_name']}")
        print(f"\nslowest chart (cold): {worst:.2f} s")
    finally:
        bi.stop(process)
    return 0


if __name__ == "__main__":
    sys.exit(main())

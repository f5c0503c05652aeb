"""The transformation DAG against the CLI build, on the same data: `reformwh build` (pipeline.build) on one
fresh database, the `transform` DAG (`dag.test()`, its one task calling the same build) on another, each over
the same files — first the sample world without its newest one-stop-shop and document-management exports (the
first build), then those newest exports (a daily, incremental build). Target (issue 17): the DAG's daily run
within 2x the CLI's.

    REFORMWH_HOME=/tmp/rwh_bench .venv/bin/python bench/bench_transform_dag.py [--scale 0.1]

Runs on the embedded warehouse of REFORMWH_HOME (or REFORMWH_DATABASE_URL's server); Airflow's metadata goes
into a fresh database of the same server and a temporary AIRFLOW_HOME. Before each timed build the dbt project
is parsed for that database (untimed), as `reformwh airflow` does at start, so both sides parse partially.
`dag.test()` runs the task in this process: the scheduler's and executor's own start-up per task (seconds to
a minute on a busy 2-core machine) is not in these figures — the live run in the README has it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from reformwh import pipeline  # noqa: E402
from reformwh.dbt import parse_project  # noqa: E402
from reformwh.settings import Settings, get_settings  # noqa: E402


def _database(admin_url: str, prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


def _split(samples: Path) -> tuple[dict[str, list[Path]], dict[str, list[Path]]]:
    """Per source: the files of the first build, and the newest export of the daily sources (the day after)."""
    first, daily = {}, {}
    for source in ("one_stop_shop", "document_management", "self_reports"):
        paths = sorted((samples / source).iterdir())
        held = [paths[-1]] if source != "self_reports" and len(paths) > 1 else []
        first[source] = [p for p in paths if p not in held]
        daily[source] = held
    return first, daily


def _ingest(settings: Settings, files: dict[str, list[Path]]) -> int:
    loaded = 0
    for source, paths in files.items():
        if paths:
            loaded += sum(r.status == "loaded" for r in pipeline.ingest(settings, source, paths))
    return loaded


def _airflow(admin_url: str) -> None:
    url = _database(admin_url, "bench_airflow")
    os.environ.update({
        "AIRFLOW_HOME": tempfile.mkdtemp(prefix="reformwh-bench-airflow-"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url.replace("postgresql://", "postgresql+psycopg://", 1),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": url.replace("postgresql://", "postgresql+psycopg_async://", 1),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    })
    from airflow.utils import db

    db.initdb()


def _dag_build(settings: Settings) -> tuple[float, str, dict]:
    from airflow.dag_processing.dagbag import DagBag

    os.environ["REFORMWH_DATABASE_URL"] = settings.database_url
    os.environ["REFORMWH_TRANSFORM_DEBOUNCE_SECONDS"] = "0"  # the build's cost, not the wait for quiet loads
    dag = DagBag(dag_folder=str(ROOT / "dags" / "transform.py")).dags["transform"]
    started = time.perf_counter()
    run = dag.test()
    seconds = time.perf_counter() - started
    counts = run.get_task_instance("dbt_build").xcom_pull(task_ids="dbt_build") or {}
    return seconds, run.state, counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=0.1)
    args = parser.parse_args()
    base = get_settings()
    admin_url = base.database_url
    workdir = Path(tempfile.mkdtemp(prefix="reformwh-bench-transform-"))
    from reformwh.samples import write_samples

    write_samples(workdir, scale=args.scale, reference_dir=base.reference_dir)
    first, daily = _split(workdir)
    print(f"samples (scale {args.scale}) in {workdir}; daily files: "
          + ", ".join(p.name for paths in daily.values() for p in paths), flush=True)
    cli = Settings(base.home, _database(admin_url, "bench_cli"), base.reference_dir, base.header_aliases_file)
    dag = Settings(base.home, _database(admin_url, "bench_dag"), base.reference_dir, base.header_aliases_file)
    print("Airflow metadata database (untimed)…", flush=True)
    _airflow(admin_url)
    figures = {}
    for step, files in (("first", first), ("daily", daily)):
        for name, settings in (("cli", cli), ("dag", dag)):
            loaded = _ingest(settings, files)
            parse_project(settings)  # untimed, as `reformwh airflow` does at start
            if name == "cli":
                started = time.perf_counter()
                ok = pipeline.build(settings, progress=lambda _: None, quiet=True)
                seconds, state = time.perf_counter() - started, "success" if ok else "failed"
            else:
                seconds, state, _ = _dag_build(settings)
            figures[f"{step}_{name}"] = round(seconds, 1)
            print(f"{step:>5} build, {name}: {seconds:6.1f}s ({state}; {loaded} file(s) loaded before it)", flush=True)
    for step in ("first", "daily"):
        print(f"{step} build: DAG/CLI = {figures[f'{step}_dag'] / figures[f'{step}_cli']:.2f}")
    print(json.dumps(figures))
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Transformation: after new rows arrive in raw (an event on any raw table's Asset), `reformwh build` — the
same code path as the CLI (reformwh.pipeline.build), once no load has finished for a minute (the debounce:
sources arriving together make one build; REFORMWH_TRANSFORM_DEBOUNCE_SECONDS). Reference data, then one
`dbt build` of every model and its tests into marts_build, incremental over the loads not processed yet, the
marts published into marts in one transaction when all passed (pipeline.publish_marts), then the roles'
grants. It holds the loads-and-builds lock exclusively, so it waits for loads in progress (and for quality or
a report reading the marts), and no load starts while it runs. Every model's and test's result (dbt's
run_results) is in the task log and in the event it publishes on reformwh://marts/all; a failing model or
test fails the task and publishes nothing (readers keep the previous marts)."""

import json
import logging
from datetime import datetime
from pathlib import Path

from airflow.sdk import Asset, dag, get_current_context, task

from reformwh import orchestration

# a plain name in the task log (a DAG file's own module name is a generated one)
log = logging.getLogger("reformwh.transform")
MARTS = Asset(orchestration.MARTS_ASSET_URI)


@dag(
    dag_id=Path(__file__).stem,
    schedule=orchestration.raw_assets_any(),
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,  # events arriving during a run are taken together by the next run
    dagrun_timeout=orchestration.DAG_RUN_TIMEOUT,
    default_args=orchestration.default_args(),
    tags=["reformwh", "dbt"],
    doc_md=__doc__,
)
def transform():
    @task(outlets=[MARTS], pool=orchestration.DBT_POOL)
    def dbt_build() -> dict:
        from airflow.sdk.exceptions import AirflowException

        from reformwh import pipeline
        from reformwh.settings import get_settings

        settings = get_settings()
        waited = orchestration.wait_for_loads_to_settle(settings)
        if waited:
            log.info("waited %.0f s for the loads to settle: one build for the sources that arrived together", waited)
        results: list[dict] = []
        ok = pipeline.build(settings, progress=log.info, quiet=True, node_results=results)
        summary = orchestration.dbt_results_summary(results)
        for line in orchestration.dbt_results_table(results):
            log.info(line)
        log.info("dbt build summary: %s", json.dumps(summary["counts"], ensure_ascii=False))
        if not ok:
            raise AirflowException("dbt build failed: " + "; ".join(summary["problems"]) if summary["problems"]
                                   else "dbt build failed: see the task log")
        get_current_context()["outlet_events"][MARTS].extra = summary
        return summary["counts"]

    dbt_build()


transform()

"""Transformation: whenever a raw table's Asset gets an event (an ingestion DAG loaded new rows), load the
reference data, then run every dbt model and its tests as Airflow tasks (Cosmos, rendered from
dbt_project/target/manifest.json), so a failing model or test is a failing task; publishes reformwh://marts/all.
Every model is rebuilt from raw, so re-running any run gives the same marts."""

import logging
from datetime import datetime
from pathlib import Path

from airflow.sdk import Asset, dag, task

from reformwh import orchestration

log = logging.getLogger(__name__)


@dag(
    dag_id=Path(__file__).stem,
    schedule=orchestration.raw_assets_any(),
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=orchestration.default_args(),
    tags=["reformwh", "dbt"],
    doc_md=__doc__,
)
def transform():
    @task
    def load_reference_data() -> dict:
        from reformwh import pipeline
        from reformwh.settings import get_settings

        return pipeline.prepare_transform(get_settings(), progress=log.info)

    @task(outlets=[Asset(orchestration.MARTS_ASSET_URI)])
    def publish_marts() -> None:
        from reformwh import pipeline
        from reformwh.settings import get_settings

        # the roles' grants on the rebuilt tables, as `reformwh build` does after dbt
        pipeline.finish_transform(get_settings(), progress=log.info)
        log.info("marts rebuilt and tested")

    load_reference_data() >> orchestration.dbt_task_group() >> publish_marts()


transform()

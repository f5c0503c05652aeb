"""Data quality: after each transformation (the Asset reformwh://marts/all), run the suites of `reformwh check`
(Great Expectations on raw and marts; results recorded in the warehouse), holding the loads-and-builds lock
shared so no build changes the marts under it. When every suite passes it publishes reformwh://marts/checked,
which the report DAG follows; a failing suite fails the task (and alerts). The cross-period checks
(expectations/periods.py) are warnings: they go to the data steward (alert reformwh_quality_warnings) and the marts
are still published as checked."""

from datetime import datetime
from pathlib import Path

from airflow.sdk import Asset, dag, get_current_context, task

from reformwh import orchestration


@dag(
    dag_id=Path(__file__).stem,
    schedule=Asset(orchestration.MARTS_ASSET_URI),
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=orchestration.DAG_RUN_TIMEOUT,
    default_args=orchestration.default_args(),
    tags=["reformwh", "quality"],
    doc_md=__doc__,
)
def quality():
    # a failed expectation is a finding about the data: retrying would not change it
    @task(retries=0, outlets=[Asset(orchestration.CHECKED_MARTS_ASSET_URI)])
    def run_quality_suites() -> None:
        from airflow.sdk.exceptions import AirflowFailException

        from reformwh import pipeline
        from reformwh.settings import get_settings

        run_id = get_current_context()["run_id"]

        def alert_steward(warnings: list[str]) -> None:
            orchestration.notify_quality_warnings(warnings, dag_id="quality", run_id=run_id)

        if not pipeline.check(get_settings(), progress=orchestration.log.info, on_warnings=alert_steward):
            raise AirflowFailException("data-quality suites failed: the task log lists the failed expectations")

    run_quality_suites()


quality()

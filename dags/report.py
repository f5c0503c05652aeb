"""report: the periodic report of the official calendar (spec/reports.md).

Daily: generates each reported period's preliminary edition once its cut-off day's data is built, and its
final edition once the units' submission deadlines have passed (reporting.schedule.due_reports).
On demand: trigger with params {"period_key": "2025-Q1", "edition": "final"} to generate any reported period.
Each generation is recorded in reports.report_runs with its figures frozen in reports.published_figures.
With the final edition it also writes the reminder letters (công văn đôn đốc) to the units that are late,
missing or flagged, and their list, into REFORMWH_HOME/letters (reporting.letters)."""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import Param, dag, task

from reformwh import orchestration


@dag(
    dag_id=Path(__file__).stem,
    schedule="@daily",
    start_date=pendulum.datetime(2025, 1, 1, tz="Asia/Ho_Chi_Minh"),
    catchup=False,
    max_active_runs=1,
    default_args=orchestration.default_args(),
    params={"period_key": Param(None, type=["null", "string"], description="e.g. 2025-Q1; empty: what is due"),
            "edition": Param("preliminary", enum=["preliminary", "final"])},
    tags=["reformwh", "report"],
    doc_md=__doc__,
)
def report():
    @task
    def reports_due(params=None, data_interval_end=None) -> list[dict]:
        from reformwh import pipeline
        from reformwh.settings import get_settings
        from reporting.schedule import due_reports

        if params and params.get("period_key"):
            return [{"period_key": params["period_key"], "edition": params.get("edition") or "preliminary"}]
        day = (data_interval_end or pendulum.now("Asia/Ho_Chi_Minh")).in_timezone("Asia/Ho_Chi_Minh").date()
        with pipeline.connect(get_settings()) as conn:
            return [{"period_key": key, "edition": edition} for key, edition in due_reports(conn, day)]

    @task
    def generate(due: dict) -> list[str]:
        from reformwh import pipeline
        from reformwh.settings import get_settings

        settings = get_settings()
        files = pipeline.report(settings, due["period_key"], edition=due["edition"], progress=print)
        if due["edition"] == "final":
            from reporting.letters import generate_letters

            files += generate_letters(settings.database_url, due["period_key"], settings.home / "letters",
                                      timezone=settings.timezone).files
        return [str(path) for path in files]

    generate.expand(due=reports_due())


report()

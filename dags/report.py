"""report: the periodic report of the official calendar (spec/reports.md).

After each transformation whose quality suites passed (the Asset reformwh://marts/checked; skipped when the marts
published now are not the ones that passed, audit.mart_publications / audit.quality_runs): generates each
reported period's preliminary edition once its cut-off day's data is built, and its final edition once the
units' submission deadlines have passed (reporting.schedule.due_reports), each once; skipped when nothing is
due. "Today" is the run's day — or, with REFORMWH_REPORT_STATUS_AS_OF=data (the samples, `reformwh airflow`),
the day after the newest data, so the sample's world gets its latest report by itself.
On demand: trigger with params {"period_key": "2025-Q1", "edition": "final"} to generate any reported period.
Each generation is recorded in reports.report_runs with its figures frozen in reports.published_figures.
With the final edition it also writes the reminder letters (công văn đôn đốc) to the units that are late,
missing or flagged, and their list, into REFORMWH_HOME/letters (reporting.letters)."""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import Asset, Param, dag, task

from reformwh import orchestration


@dag(
    dag_id=Path(__file__).stem,
    schedule=Asset(orchestration.CHECKED_MARTS_ASSET_URI),
    start_date=pendulum.datetime(2025, 1, 1, tz="Asia/Ho_Chi_Minh"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=orchestration.DAG_RUN_TIMEOUT,
    default_args=orchestration.default_args(),
    params={"period_key": Param(None, type=["null", "string"], description="e.g. 2025-Q1; empty: what is due"),
            "edition": Param("preliminary", enum=["preliminary", "final"])},
    tags=["reformwh", "report"],
    doc_md=__doc__,
)
def report():
    @task
    def reports_due(params=None) -> list[dict]:
        from airflow.sdk.exceptions import AirflowSkipException

        from reformwh import pipeline
        from reformwh.settings import get_settings
        from reporting.schedule import due_reports, reporting_day

        if params and params.get("period_key"):
            return [{"period_key": params["period_key"], "edition": params.get("edition") or "preliminary"}]
        settings = get_settings()
        # a build may have published newer marts since the check that triggered this run
        publication, checked = pipeline.current_publication(settings)
        if not checked:
            raise AirflowSkipException(f"marts publication {publication} has not passed `reformwh check` (yet): "
                                       "no scheduled report from it")
        with pipeline.connect(settings) as conn:
            day = reporting_day(conn, pendulum.now("Asia/Ho_Chi_Minh").date())
            if day is None:
                raise AirflowSkipException("the marts are not built yet: nothing to report")
            due = [{"period_key": key, "edition": edition, "checked_only": True}
                   for key, edition in due_reports(conn, day)]
        if not due:
            raise AirflowSkipException(f"no report is due on {day} (each edition is generated once)")
        orchestration.log.info("due on %s: %s", day, due)
        return due

    @task
    def generate(due: dict) -> list[str]:
        from airflow.sdk.exceptions import AirflowSkipException

        from reformwh import pipeline
        from reformwh.settings import get_settings

        settings = get_settings()
        try:
            files = pipeline.report(settings, due["period_key"], edition=due["edition"], progress=print,
                                    checked_only=due.get("checked_only", False))
        except pipeline.UncheckedMarts as exc:  # a build published since reports_due looked
            raise AirflowSkipException(str(exc)) from exc
        if due["edition"] == "final":
            from reporting.letters import generate_letters

            files += generate_letters(settings.database_url, due["period_key"], settings.home / "letters",
                                      timezone=settings.timezone).files
        return [str(path) for path in files]

    generate.expand(due=reports_due())


report()

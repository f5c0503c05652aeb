"""Hourly: load the units' self-report submissions (ZIP of workbook and evidence files) waiting in
REFORMWH_LANDING_DIR/self_reports/, so a late submission near a deadline is in the marts within the hour;
publishes the self-report raw tables' Assets. An hour with no new file is a quick no-op."""

from pathlib import Path

from airflow.sdk import CronTriggerTimetable

from reformwh.orchestration import ingestion_dag

dag = ingestion_dag("self_reports", dag_id=Path(__file__).stem, doc_md=__doc__,
                    schedule=CronTriggerTimetable("5 * * * *", timezone="Asia/Ho_Chi_Minh",
                                                 run_immediately=True))

"""Daily at 07:15 (Asia/Ho_Chi_Minh): load the document-management exports (documents register, assigned
tasks) waiting in REFORMWH_LANDING_DIR/document_management/ and publish their raw tables' Assets."""

from pathlib import Path

from airflow.sdk import CronTriggerTimetable

from reformwh.orchestration import ingestion_dag

dag = ingestion_dag("document_management", dag_id=Path(__file__).stem, doc_md=__doc__,
                    schedule=CronTriggerTimetable("15 7 * * *", timezone="Asia/Ho_Chi_Minh",
                                                 run_immediately=True))

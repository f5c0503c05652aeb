"""Daily at 07:00 (Asia/Ho_Chi_Minh): load the one-stop-shop exports waiting in the landing folder
(REFORMWH_LANDING_DIR/one_stop_shop/) and publish the Asset reformwh://raw/one_stop_shop__dossiers."""

from pathlib import Path

from airflow.sdk import CronTriggerTimetable

from reformwh.orchestration import ingestion_dag

dag = ingestion_dag("one_stop_shop", dag_id=Path(__file__).stem, doc_md=__doc__,
                    schedule=CronTriggerTimetable("0 7 * * *", timezone="Asia/Ho_Chi_Minh",
                                                 run_immediately=True))

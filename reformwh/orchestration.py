"""What the DAG files share: sources and their Assets, default task arguments (retries with back-off, the
failure callback), the landing-folder protocol, and the dbt connection for Cosmos tasks.

Plain Python with no Airflow import at module level, so DAG files stay cheap to parse and the landing
protocol is usable (and tested) without Airflow.

Landing folder of a source (REFORMWH_LANDING_DIR/<source>/):

    <source>/                        exports are dropped here (write as `.name` or `name.part`, then rename)
    <source>/.claimed/<run>/         files a run has taken, by an atomic rename, while it runs
    <source>/processed/<YYYY-MM-DD>/ files loaded (or found already loaded)
    <source>/rejected/<YYYY-MM-DD>/  files rejected, each with `<name>.reason.txt`

Two runs never take the same file: a rename succeeds for one of them only. A run holds a lock on its claim
folder; a claim folder whose lock nobody holds belongs to a run that died, and the next run adopts its files
(loading them again is harmless: the loader skips a file whose content was already loaded).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

from reformwh.settings import Settings

log = logging.getLogger(__name__)

OWNER = "data-engineering"
SOURCES = ("one_stop_shop", "document_management", "self_reports")
# Raw tables of the sources whose contracts are not on this branch yet; CONTRACTS wins when it has them.
_KNOWN_RAW_TABLES = {
    "one_stop_shop": ["raw.one_stop_shop__dossiers"],
    "document_management": ["raw.document_management__documents", "raw.document_management__tasks"],
    "self_reports": [
        "raw.self_reports__submissions", "raw.self_reports__scores", "raw.self_reports__figures",
        "raw.self_reports__evidence_items", "raw.self_reports__evidence_files",
    ],
}
MARTS_ASSET_URI = "reformwh://marts/all"
ALERT_WEBHOOK_ENV = "REFORMWH_ALERT_WEBHOOK_URL"
_IN_PROGRESS_SUFFIXES = (".part", ".tmp", ".partial", ".crdownload")


# -- sources and Assets --------------------------------------------------------------------------------

def raw_tables(source: str) -> list[str]:
    """The raw tables a source loads, from its contracts (ingestion.contracts.CONTRACTS)."""
    from ingestion.contracts import CONTRACTS

    if source in CONTRACTS:
        return [contract.raw_table for contract in CONTRACTS[source]]
    return list(_KNOWN_RAW_TABLES[source])


def all_sources() -> list[str]:
    from ingestion.contracts import CONTRACTS

    return list(dict.fromkeys([*SOURCES, *CONTRACTS]))


def raw_asset_uri(raw_table: str) -> str:
    """`raw.one_stop_shop__dossiers` -> `reformwh://raw/one_stop_shop__dossiers`."""
    schema, _, table = raw_table.partition(".")
    return f"reformwh://{schema}/{table}"


# -- task defaults and the failure callback ------------------------------------------------------------

def notify_failure(context) -> None:
    """on_failure_callback of every task: POST a JSON message to REFORMWH_ALERT_WEBHOOK_URL (a chat webhook, or
    a relay that sends e-mail); without it, log the message. Never raises: an alert must not mask the failure."""
    ti = context.get("task_instance") or context.get("ti")
    payload = {
        "event": "reformwh_task_failed",
        "dag_id": getattr(ti, "dag_id", None),
        "task_id": getattr(ti, "task_id", None),
        "run_id": getattr(ti, "run_id", None),
        "try_number": getattr(ti, "try_number", None),
        "logical_date": str(context.get("logical_date")) if context.get("logical_date") else None,
        "error": str(context.get("exception")) if context.get("exception") else None,
    }
    try:
        payload["log_url"] = ti.log_url
    except Exception:  # the log URL needs the API server's base URL; a missing one must not stop the alert
        payload["log_url"] = None
    url = os.environ.get(ALERT_WEBHOOK_ENV)
    if not url:
        log.error("reformwh task failed (set %s to be notified): %s", ALERT_WEBHOOK_ENV, json.dumps(payload))
        return
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            log.info("failure alert posted to the webhook (HTTP %s)", response.status)
    except Exception as exc:
        log.error("could not post the failure alert to the webhook (%s): %s", exc, json.dumps(payload))


def default_args(**overrides) -> dict:
    """Every task: two retries, 2 then 4 minutes apart (capped at 30), and the failure callback."""
    return {
        "owner": OWNER,
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=30),
        "on_failure_callback": notify_failure,
        **overrides,
    }


# -- landing folders -----------------------------------------------------------------------------------

def landing_folder(settings: Settings, source: str) -> Path:
    return settings.landing_dir / source


def _waiting_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and not p.name.startswith(".") and not p.name.endswith(_IN_PROGRESS_SUFFIXES))


def _safe_name(run_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id)[:120]


@contextmanager
def claimed_files(settings: Settings, source: str, run_id: str) -> Iterator[list[Path]]:
    """Take the waiting files of a source for this run (and those of runs that died), under a lock held until
    the block ends; yields the claimed paths in name order. A retry of the same run finds its files again."""
    folder = landing_folder(settings, source)
    claims = folder / ".claimed"
    mine = claims / _safe_name(run_id)
    mine.mkdir(parents=True, exist_ok=True)
    with open(mine / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second attempt of the same run waits for the first to end
        for other in sorted(claims.iterdir()):
            if other == mine or not other.is_dir():
                continue
            _adopt_orphan(other, mine)
        for path in _waiting_files(folder):
            try:
                os.rename(path, mine / path.name)  # atomic: exactly one run gets the file
            except FileNotFoundError:
                continue  # another run took it first
        yield _waiting_files(mine)
        # reached only when the block succeeded (after a failure the files stay claimed for the retry):
        # a file the block did not file away goes back to the landing folder, never lost
        for path in _waiting_files(mine):
            os.rename(path, _free_name(folder / path.name))
        shutil.rmtree(mine, ignore_errors=True)


def _adopt_orphan(claim: Path, mine: Path) -> None:
    # A run moves files into its claim folder only once it holds the lock, so an empty folder may be a run
    # that is just starting: leave it alone.
    if not _waiting_files(claim):
        return
    try:
        handle = open(claim / ".lock", "a")  # noqa: SIM115 - closed below, after the lock test
    except FileNotFoundError:
        return
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return  # its run is alive
    try:
        for path in _waiting_files(claim):
            os.rename(path, _free_name(mine / path.name))
        shutil.rmtree(claim, ignore_errors=True)
    finally:
        handle.close()


def _free_name(target: Path) -> Path:
    """target, or target with `.1`, `.2`… before the extension when a file of that name is already there."""
    candidate, number = target, 0
    while candidate.exists():
        number += 1
        candidate = target.with_name(f"{target.stem}.{number}{target.suffix}")
    return candidate


def settle_files(settings: Settings, source: str, results, day: date | None = None) -> dict:
    """Move each ingested file to processed/<day>/ or rejected/<day>/ (with its reason) and sum up the run."""
    from ingestion.readers import shown

    day = day or date.today()
    folder = landing_folder(settings, source)
    summary = {"files": 0, "loaded": 0, "already_loaded": 0, "rejected": [], "rows_loaded": 0,
               "rows_quarantined": 0}
    for result in results:
        summary["files"] += 1
        path = Path(result.path)
        if result.status == "rejected":
            target = _free_name(folder / "rejected" / day.isoformat() / path.name)
            # shown as the loader shows it: a name may hold a newline, an escape sequence, bytes that are not UTF-8
            summary["rejected"].append({"file": shown(path), "message": result.message})
        else:
            target = _free_name(folder / "processed" / day.isoformat() / path.name)
            summary[result.status] = summary.get(result.status, 0) + 1
            summary["rows_loaded"] += result.rows_loaded
            summary["rows_quarantined"] += result.rows_quarantined
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            os.replace(path, target)
        if result.status == "rejected":
            target.with_name(target.name + ".reason.txt").write_text((result.message or "rejected") + "\n")
    return summary


def ingest_landing(settings: Settings, source: str, run_id: str) -> dict:
    """The ingestion task: claim the waiting files, load them, file them away; returns the run's summary."""
    from reformwh import pipeline

    with claimed_files(settings, source, run_id) as files:
        results = pipeline.ingest(settings, source, files, progress=log.info) if files else []
        return settle_files(settings, source, results)


# -- dbt from Cosmos -----------------------------------------------------------------------------------

def use_warehouse_for_dbt(context=None) -> None:
    """on_execute_callback of the Cosmos tasks: point dbt's profile (dbt_project/profiles.yml) at the warehouse
    of the settings, resolved when the task runs (never at DAG parse time)."""
    from reformwh.dbt import dbt_env
    from reformwh.settings import get_settings

    os.environ.update(dbt_env(get_settings().database_url))


def raw_assets_any(sources: list[str] | None = None):
    """The transformation's schedule: a new event on any raw table's Asset."""
    import functools
    import operator

    from airflow.sdk import Asset

    assets = [Asset(raw_asset_uri(table)) for source in (sources or all_sources()) for table in raw_tables(source)]
    return functools.reduce(operator.or_, assets)


# -- DAG shapes shared by several files ------------------------------------------------------------------

START_DATE = date(2025, 1, 1)


def ingestion_dag(source: str, dag_id: str, schedule, doc_md: str | None = None):
    """One source's ingestion DAG: `ingest` claims and loads the landing folder's files and files them away;
    `publish_raw_tables` emits the source's raw-table Assets only when new rows arrived (so an empty run does
    not trigger the transformation); `check_rejections` turns red, and alerts, when a file was rejected."""
    from datetime import datetime

    from airflow.sdk import Asset, dag, get_current_context, task
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

    @dag(
        dag_id=dag_id,
        schedule=schedule,
        start_date=datetime.combine(START_DATE, datetime.min.time()),
        catchup=False,
        max_active_runs=1,
        default_args=default_args(),
        tags=["reformwh", "ingestion", source],
        doc_md=doc_md,
    )
    def ingestion():
        @task
        def ingest() -> dict:
            from reformwh.settings import get_settings

            summary = ingest_landing(get_settings(), source, get_current_context()["run_id"])
            log.info("ingestion summary: %s", json.dumps(summary))
            return summary

        @task(outlets=[Asset(raw_asset_uri(table)) for table in raw_tables(source)])
        def publish_raw_tables(summary: dict) -> None:
            if not summary["loaded"]:
                raise AirflowSkipException("no new file loaded: the raw tables did not change")

        @task(retries=0)
        def check_rejections(summary: dict) -> None:
            if summary["rejected"]:
                lines = "; ".join(f"{r['file']}: {r['message']}" for r in summary["rejected"])
                raise AirflowFailException(f"{len(summary['rejected'])} file(s) rejected (see rejected/): {lines}")

        summary = ingest()
        publish_raw_tables(summary)
        check_rejections(summary)

    return ingestion()


def dbt_task_group(group_id: str = "dbt"):
    """The dbt models and their tests as Airflow tasks (Cosmos), rendered from the manifest that `reformwh
    dbt-parse` writes (the install step and `reformwh airflow` run it). Without the manifest, one task that
    fails with what to do: the DAG still imports, and the problem shows where an operator looks."""
    from reformwh import dbt
    from reformwh.settings import DBT_PROJECT_DIR

    if not dbt.MANIFEST_PATH.exists():
        from airflow.sdk import task
        from airflow.sdk.exceptions import AirflowFailException

        @task(task_id="dbt_manifest_missing", retries=0)
        def dbt_manifest_missing() -> None:
            raise AirflowFailException(f"{dbt.MANIFEST_PATH} does not exist: run `reformwh dbt-parse` (done by the "
                                       "install step and by `reformwh airflow`), then the dbt models appear as tasks")

        return dbt_manifest_missing()

    from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

    return DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(dbt_project_path=DBT_PROJECT_DIR, manifest_path=dbt.MANIFEST_PATH,
                                     install_dbt_deps=False),
        profile_config=ProfileConfig(profile_name="reformwh", target_name="warehouse",
                                     profiles_yml_filepath=DBT_PROJECT_DIR / "profiles.yml"),
        execution_config=ExecutionConfig(execution_mode=ExecutionMode.LOCAL,
                                         invocation_mode=InvocationMode.DBT_RUNNER),
        render_config=RenderConfig(load_method=LoadMode.DBT_MANIFEST, test_behavior=TestBehavior.BUILD,
                                   should_detach_multiple_parents_tests=True,
                                   emit_datasets=False),
        operator_args={"on_execute_callback": use_warehouse_for_dbt},
    )

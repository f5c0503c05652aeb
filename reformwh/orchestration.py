"""What the DAG files share: sources and their Assets, default task arguments (retries with back-off, timeouts,
the failure callback), the alerts (on-call and data steward), and the landing-folder protocol.

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
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

from reformwh.settings import Settings

log = logging.getLogger(__name__)

OWNER = "data-engineering"
MARTS_ASSET_URI = "reformwh://marts/all"  # the transformation built the marts (the dbt build passed)
CHECKED_MARTS_ASSET_URI = "reformwh://marts/checked"  # ... and the quality suites passed on them
ALERT_WEBHOOK_ENV = "REFORMWH_ALERT_WEBHOOK_URL"
_IN_PROGRESS_SUFFIXES = (".part", ".tmp", ".partial", ".crdownload")


# -- sources and Assets --------------------------------------------------------------------------------

def raw_tables(source: str) -> list[str]:
    """The raw tables a source loads, from its contracts (ingestion.contracts.CONTRACTS)."""
    from ingestion.contracts import CONTRACTS

    return [contract.raw_table for contract in CONTRACTS[source]]


def all_sources() -> list[str]:
    """The sources the warehouse loads: those with contracts (ingestion.contracts.CONTRACTS)."""
    from ingestion.contracts import CONTRACTS

    return list(CONTRACTS)


def raw_asset_uri(raw_table: str) -> str:
    """`raw.one_stop_shop__dossiers` -> `reformwh://raw/one_stop_shop__dossiers`."""
    schema, _, table = raw_table.partition(".")
    return f"reformwh://{schema}/{table}"


# -- task defaults, alerts -------------------------------------------------------------------------------

STEWARD_WEBHOOK_ENV = "REFORMWH_STEWARD_WEBHOOK_URL"
# a task that runs longer than this is hung, not slow (the sample's daily build takes minutes): it fails, alerts,
# and the next run is not blocked behind it for ever
TASK_TIMEOUT = timedelta(hours=2)
DAG_RUN_TIMEOUT = timedelta(hours=4)
# dbt builds one at a time, whatever starts them (`reformwh airflow` and the compose init job create the pool)
DBT_POOL = "dbt"
_POST_ATTEMPTS = 3
# The transformation's debounce: it starts once no file load has finished for this many seconds (at most
# TRANSFORM_DEBOUNCE_LIMIT later), so a morning's sources, finishing minutes apart, make one build, not one each.
TRANSFORM_DEBOUNCE_ENV = "REFORMWH_TRANSFORM_DEBOUNCE_SECONDS"
TRANSFORM_DEBOUNCE_SECONDS = 60.0
TRANSFORM_DEBOUNCE_LIMIT = timedelta(minutes=15)
# a source still late in the same way (same status, same newest data) is announced again after this long
FRESHNESS_REMINDER = timedelta(hours=24)


def post_alert(payload: dict, url_variable: str = ALERT_WEBHOOK_ENV, fallback_variable: str | None = None) -> bool:
    """POST a JSON alert to the webhook in `url_variable` (else `fallback_variable`), three tries 1 then 2 s
    apart; without a webhook, or when every try failed, log it. Never raises: an alert must not mask what it
    reports. True when a webhook took it."""
    url = os.environ.get(url_variable) or (os.environ.get(fallback_variable) if fallback_variable else None)
    # ensure_ascii=False: Vietnamese file names and reasons stay readable in the log and the chat message
    body = json.dumps(payload, ensure_ascii=False)
    if not url:
        log.error("reformwh alert (set %s to be notified): %s", url_variable, body)
        return False
    request = urllib.request.Request(url, data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    for attempt in range(1, _POST_ATTEMPTS + 1):
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                log.info("%s alert posted to the webhook (HTTP %s)", payload.get("event"), response.status)
                return True
        except Exception as exc:
            log.warning("alert POST %d of %d failed: %s", attempt, _POST_ATTEMPTS, exc)
            if attempt < _POST_ATTEMPTS:
                time.sleep(2 ** (attempt - 1))
    log.error("could not post the alert to the webhook: %s", body)
    return False


def notify_failure(context) -> None:
    """on_failure_callback of every task: the on-call alert `reformwh_task_failed` (REFORMWH_ALERT_WEBHOOK_URL,
    a chat webhook or a relay that sends e-mail)."""
    ti = context.get("task_instance") or context.get("ti")
    dag_id, task_id = getattr(ti, "dag_id", None), getattr(ti, "task_id", None)
    error = str(context.get("exception")) if context.get("exception") else None
    payload = {
        "event": "reformwh_task_failed",
        "text": f"reformwh: task {dag_id}.{task_id} failed (try {getattr(ti, 'try_number', None)}): {error}",
        "dag_id": dag_id,
        "task_id": task_id,
        "run_id": getattr(ti, "run_id", None),
        "try_number": getattr(ti, "try_number", None),
        "logical_date": str(context.get("logical_date")) if context.get("logical_date") else None,
        "error": error,
    }
    try:
        payload["log_url"] = ti.log_url
    except Exception:  # the log URL needs the API server's base URL; a missing one must not stop the alert
        payload["log_url"] = None
    post_alert(payload)


def _reason(file: str, message: str | None) -> str:
    """The loader's message without the file name it starts with (the alert names the file once)."""
    message = message or "rejected"
    for prefix in (f"{file}: ", f"{file} "):
        if message.startswith(prefix):
            return message[len(prefix):]
    return message


def notify_rejections(source: str, rejected: list[dict], dag_id: str | None = None,
                      run_id: str | None = None) -> bool:
    """The data steward's alert `reformwh_file_rejected` (REFORMWH_STEWARD_WEBHOOK_URL; without it the on-call
    webhook, whose relay can route on the event): which files, why, and the folder they were moved to. Not a
    failure: the other files were loaded, and only the sender of the file can fix it."""
    files = [{"file": r["file"], "reason": _reason(r["file"], r["message"]), "moved_to": r.get("moved_to")}
             for r in rejected]
    folders = sorted({str(Path(f["moved_to"]).parent) for f in files if f["moved_to"]})
    text = (f"reformwh: {len(files)} {source} file(s) rejected, moved to {', '.join(folders) or 'rejected/'} "
            "(each with <name>.reason.txt); send the corrected export to the landing folder again. "
            + "; ".join(f"{f['file']}: {f['reason']}" for f in files))
    return post_alert({"event": "reformwh_file_rejected", "text": text, "source": source, "dag_id": dag_id,
                       "run_id": run_id, "files": files},
                      STEWARD_WEBHOOK_ENV, fallback_variable=ALERT_WEBHOOK_ENV)


def staleness(table: dict) -> str:
    """One table of pipeline.freshness, in words: `one_stop_shop__dossiers warn, 40 h since …`."""
    age = ("nothing loaded yet" if table["counted_from"] is None
           else f"{table['age_hours']:g} h since {table['counted_from']}")
    return f"{table['table']} {table['status']}, {age}"


def check_freshness(settings: Settings, source: str, dag_id: str | None = None,
                    run_id: str | None = None) -> list[dict]:
    """The ingestion DAGs' freshness task: `reformwh freshness <source>` (pipeline.freshness: dbt source freshness,
    thresholds in dbt_project/macros/freshness.sql); a table in warn or error sends the data steward's alert
    `reformwh_source_stale` (REFORMWH_STEWARD_WEBHOOK_URL, else the on-call webhook): the export is late and
    the sender is who can fix it. The ingestion DAGs run hourly: a table is announced when it becomes late, when
    its status or newest data changes, and once a day while it stays late (FRESHNESS_REMINDER; recorded in
    audit.freshness_alerts). Returns the tables; the DAG fails the task on an error (on-call)."""
    from reformwh import pipeline

    tables = pipeline.freshness(settings, [source], progress=log.info)
    stale = _freshness_alerts_due(settings, source, [t for t in tables if t["status"] != "pass"], dag_id, run_id)
    if stale:
        # the age is working time for a daily export, time since the passed deadline for the self-reports
        text = (f"reformwh: {source} is late: "
                + "; ".join(f"{staleness(t)} (warn after {t['warn_after']:g} h, error after {t['error_after']:g} h)"
                            for t in stale)
                + ". Ask the sender for the missing export or reports; `reformwh freshness` shows every source.")
        post_alert({"event": "reformwh_source_stale", "text": text, "source": source, "dag_id": dag_id,
                    "run_id": run_id, "tables": stale}, STEWARD_WEBHOOK_ENV, fallback_variable=ALERT_WEBHOOK_ENV)
    return tables


def _freshness_alerts_due(settings: Settings, source: str, stale: list[dict], dag_id: str | None,
                          run_id: str | None) -> list[dict]:
    """The stale tables not announced in the same state (status, newest data) within FRESHNESS_REMINDER; they
    are recorded as announced."""
    from reformwh.warehouse import connect

    due = []
    with connect(settings) as conn, conn.transaction():
        for table in stale:
            announced = conn.execute(
                "select 1 from audit.freshness_alerts where source = %s and table_name = %s and status = %s "
                "and counted_from is not distinct from %s::timestamptz and alerted_at > now() - %s "
                "and alerted_at = (select max(alerted_at) from audit.freshness_alerts "
                "where source = %s and table_name = %s)",
                [source, table["table"], table["status"], table["counted_from"], FRESHNESS_REMINDER,
                 source, table["table"]]).fetchone()
            if announced:
                log.info("%s: announced already (a reminder after %s)", staleness(table), FRESHNESS_REMINDER)
                continue
            conn.execute("insert into audit.freshness_alerts (source, table_name, status, counted_from, dag_id, "
                         "run_id) values (%s, %s, %s, %s, %s, %s)",
                         [source, table["table"], table["status"], table["counted_from"], dag_id, run_id])
            due.append(table)
    return due


def notify_quality_warnings(warnings: list[str], dag_id: str | None = None, run_id: str | None = None) -> bool:
    """The data steward's alert `reformwh_quality_warnings` (REFORMWH_STEWARD_WEBHOOK_URL, else the on-call
    webhook): the cross-period checks that warned (a unit's volume against its history, a rate's shift, late
    arrivals after a report). Not a failure: the marts stay checked; the steward asks the unit or accepts it."""
    text = (f"reformwh: {len(warnings)} data-quality warning(s) for the data steward (audit.quality_results, "
            "severity 'warning'; the marts are still checked and reported): " + "; ".join(w[:300] for w in warnings))
    return post_alert({"event": "reformwh_quality_warnings", "text": text, "dag_id": dag_id, "run_id": run_id,
                       "warnings": warnings}, STEWARD_WEBHOOK_ENV, fallback_variable=ALERT_WEBHOOK_ENV)


def default_args(**overrides) -> dict:
    """Every task: two retries, 2 then 4 minutes apart (capped at 30), a 2-hour timeout, the failure callback."""
    return {
        "owner": OWNER,
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=30),
        "execution_timeout": TASK_TIMEOUT,
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


def new_landing_files(folder: Path, settle: float = 60.0) -> list[str]:
    """Names of waiting files not seen before and unchanged for `settle` seconds; marks them seen."""
    now = time.time()
    waiting = _waiting_files(folder)
    marker = folder / ".watched"
    try:
        seen = set(json.loads(marker.read_text()))
    except (OSError, ValueError):
        seen = set()
    names = {p.name for p in waiting}
    fresh = [p.name for p in waiting if p.name not in seen and now - p.stat().st_mtime >= settle]
    if fresh or seen - names:
        # forget what left the folder (a file of the same name delivered again is new)
        marker.write_text(json.dumps(sorted((seen & names) | set(fresh)), ensure_ascii=False))
    return fresh


def mark_landing_files_seen(folder: Path) -> list[str]:
    """Mark the files waiting in a landing folder as seen by the watch (new_landing_files), so they do not fire
    it: for files that a scheduled run takes anyway, such as the samples `reformwh airflow` writes before the
    ingestion DAGs' first run."""
    names = [p.name for p in _waiting_files(folder)]
    if names:
        marker = folder / ".watched"
        try:
            seen = set(json.loads(marker.read_text()))
        except (OSError, ValueError):
            seen = set()
        marker.write_text(json.dumps(sorted(seen | set(names)), ensure_ascii=False))
    return names


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
            summary["rejected"].append({"file": shown(path), "message": result.message, "moved_to": str(target)})
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
    """The ingestion task: claim the waiting files, load them, file them away; returns the run's summary, with
    the most frequent quarantine reasons of the rows it loaded."""
    from reformwh import pipeline

    with claimed_files(settings, source, run_id) as files:
        results = pipeline.ingest(settings, source, files, progress=log.info) if files else []
        summary = settle_files(settings, source, results)
    load_ids = [r.load_id for r in results if r.status == "loaded" and r.load_id is not None]
    summary["top_quarantine_reasons"] = top_quarantine_reasons(settings, load_ids) if load_ids else []
    return summary


def top_quarantine_reasons(settings: Settings, load_ids: list[int], limit: int = 5) -> list[dict]:
    from reformwh import pipeline

    rows = pipeline.summary_rows(settings, """
        select reason, count(*) from quarantine.rows, unnest(reasons) as reason
        where load_id = any(%s) group by reason order by count(*) desc, reason limit %s""", [load_ids, limit])
    return [{"reason": reason, "rows": count} for reason, count in rows]


# -- Assets ----------------------------------------------------------------------------------------------------

def wait_for_loads_to_settle(settings: Settings, quiet_seconds: float | None = None,
                             limit: timedelta = TRANSFORM_DEBOUNCE_LIMIT, sleep=time.sleep) -> float:
    """Wait until no file load has finished for `quiet_seconds` (REFORMWH_TRANSFORM_DEBOUNCE_SECONDS, default
    60; 0 does not wait), or until `limit` has passed. Loads still running need no waiting here: the build
    waits for them on the loads-and-builds lock. Returns the seconds waited."""
    import psycopg

    from reformwh.pipeline import connect

    if quiet_seconds is None:
        quiet_seconds = float(os.environ.get(TRANSFORM_DEBOUNCE_ENV) or TRANSFORM_DEBOUNCE_SECONDS)
    waited = 0.0
    while waited < limit.total_seconds():
        with connect(settings) as conn:  # the database's clock, the one finished_at was written with
            try:
                since_last = conn.execute("select extract(epoch from now() - max(finished_at))::float8"
                                          " from audit.file_loads").fetchone()[0]
            except psycopg.errors.UndefinedTable:  # a manual run on a warehouse that never loaded a file
                break
        if since_last is None or since_last >= quiet_seconds:
            break
        pause = min(quiet_seconds - since_last, limit.total_seconds() - waited)
        sleep(pause)
        waited += pause
    return waited


def raw_assets_any(sources: list[str] | None = None):
    """The transformation's schedule: a new event on any raw table's Asset."""
    import functools
    import operator

    from airflow.sdk import Asset

    assets = [Asset(raw_asset_uri(table)) for source in (sources or all_sources()) for table in raw_tables(source)]
    return functools.reduce(operator.or_, assets)


# -- DAG shapes shared by several files ------------------------------------------------------------------

START_DATE = date(2025, 1, 1)


def landing_asset(source: str):
    """`reformwh://landing/<source>`, watched in the triggerer (reformwh.triggers.LandingTrigger): an event when
    a new file has settled in the source's landing folder."""
    from airflow.sdk import Asset, AssetWatcher

    from reformwh.settings import get_settings
    from reformwh.triggers import LandingTrigger

    trigger = LandingTrigger(str(landing_folder(get_settings(), source)))
    return Asset(f"reformwh://landing/{source}", watchers=[AssetWatcher(name=f"landing_{source}", trigger=trigger)])


def ingestion_dag(source: str, dag_id: str, schedule, doc_md: str | None = None):
    """One source's ingestion DAG, run by `schedule` and whenever a file lands (landing_asset): `ingest` claims
    and loads the landing folder's files and files them away;
    `publish_raw_tables` emits the source's raw-table Assets, with the run's row counts and top quarantine
    reasons, only when new rows arrived (so an empty run does not trigger the transformation);
    `alert_data_steward` sends the steward's alert when a file was rejected (skipped otherwise) — green, since
    nothing on-call can do fixes a bad export; red stays for failures someone must act on;
    `source_freshness` (check_freshness) alerts the steward when the source is late, and fails past its error
    threshold (dags/README.md, Freshness)."""
    from datetime import datetime

    from airflow.sdk import Asset, AssetOrTimeSchedule, dag, get_current_context, task
    from airflow.sdk.exceptions import AirflowSkipException

    assets = [Asset(raw_asset_uri(table)) for table in raw_tables(source)]
    schedule = AssetOrTimeSchedule(timetable=schedule, assets=landing_asset(source))

    @dag(
        dag_id=dag_id,
        schedule=schedule,
        start_date=datetime.combine(START_DATE, datetime.min.time()),
        catchup=False,
        max_active_runs=1,
        dagrun_timeout=DAG_RUN_TIMEOUT,
        default_args=default_args(),
        tags=["reformwh", "ingestion", source],
        doc_md=doc_md,
    )
    def ingestion():
        @task
        def ingest() -> dict:
            from reformwh.settings import get_settings

            summary = ingest_landing(get_settings(), source, get_current_context()["run_id"])
            log.info("ingestion summary: %s", json.dumps(summary, ensure_ascii=False))
            return summary

        @task(outlets=assets)
        def publish_raw_tables(summary: dict) -> None:
            if not summary["loaded"]:
                raise AirflowSkipException("no new file loaded: the raw tables did not change")
            extra = {key: summary[key] for key in ("loaded", "rows_loaded", "rows_quarantined",
                                                   "top_quarantine_reasons")}
            extra["rejected"] = len(summary["rejected"])
            events = get_current_context()["outlet_events"]
            for asset in assets:
                events[asset].extra = extra

        @task
        def alert_data_steward(summary: dict) -> None:
            if not summary["rejected"]:
                raise AirflowSkipException("no file rejected")
            context = get_current_context()
            for r in summary["rejected"]:
                log.warning("REJECTED %s: %s (moved to %s)", r["file"], _reason(r["file"], r["message"]),
                            r.get("moved_to"))
            notify_rejections(source, summary["rejected"], dag_id=dag_id, run_id=context["run_id"])

        @task
        def source_freshness() -> list[dict]:
            from airflow.sdk.exceptions import AirflowFailException

            from reformwh.settings import get_settings

            tables = check_freshness(get_settings(), source, dag_id, get_current_context()["run_id"])
            errors = [staleness(t) for t in tables if t["status"] == "error"]
            if errors:  # a fact about the source: a retry minutes later would not change it
                raise AirflowFailException(f"{source} is stale past its error threshold: {'; '.join(errors)}")
            return tables

        summary = ingest()
        publish_raw_tables(summary)
        alert_data_steward(summary)
        summary >> source_freshness()

    return ingestion()


# -- dbt results, for the transformation's log and Asset event ----------------------------------------------

def dbt_results_summary(results: list[dict]) -> dict:
    """Counts per kind and status, each model's status, seconds and rows, and the nodes that did not pass."""
    counts: dict[str, int] = {}
    for r in results:
        key = f"{r['resource_type']} {r['status']}"
        counts[key] = counts.get(key, 0) + 1
    models = {r["name"]: {"status": r["status"], "seconds": r["seconds"], "rows": r["rows"]}
              for r in results if r["resource_type"] in ("model", "snapshot", "seed")}
    # an exposure (a dashboard, the report) is only declared: dbt lists it as no-op, which is not a problem
    problems = [f"{r['resource_type']} {r['name']}: {r['status']}" + (f" ({r['rows']} row(s))" if r["rows"] else "")
                for r in results if r["status"] not in ("success", "pass", "no-op")]
    return {"counts": dict(sorted(counts.items())), "models": models, "problems": problems,
            "seconds": round(sum(r["seconds"] for r in results), 1)}


def dbt_results_table(results: list[dict]) -> list[str]:
    """One line per node, slowest first: every model's and test's result in one log."""
    lines = [f"{'node':<60} {'status':<8} {'seconds':>8} {'rows':>10}"]
    for r in sorted(results, key=lambda r: -r["seconds"]):
        rows = "" if r["rows"] is None else str(r["rows"])
        lines.append(f"{r['resource_type'] + ' ' + r['name']:<60} {r['status']:<8} {r['seconds']:>8.2f} {rows:>10}")
    return lines

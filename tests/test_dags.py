"""The DAGs: every file imports cleanly and follows the house rules, and the DAGs really run (`dag.test()`)
against the embedded PostgreSQL — Airflow's metadata in a database of its own on the test server, the
warehouse in a fresh database — from sample files in a landing folder to mart rows.

Airflow reads its configuration when first imported, so this module imports it only inside the fixture
that has set AIRFLOW_HOME and the metadata database."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import sys
import threading
import uuid
from datetime import date
from pathlib import Path

import psycopg
import pytest

from reformwh.settings import PROJECT_ROOT
from tests.conftest import SAMPLES, _database_url, fresh_database, query

DAGS_DIR = PROJECT_ROOT / "dags"
DAG_FILES = sorted(DAGS_DIR.glob("*.py"))
SOURCES = ("one_stop_shop", "document_management", "self_reports")


def _configure_airflow(env: dict[str, str]) -> None:
    os.environ.update(env)
    if "airflow" in sys.modules:  # imported earlier in this session: point it at our database
        from airflow import settings
        from airflow.configuration import conf

        conf.set("database", "sql_alchemy_conn", env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
        conf.set("database", "sql_alchemy_conn_async", env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"])
        conf.set("core", "dags_folder", env["AIRFLOW__CORE__DAGS_FOLDER"])
        settings.configure_vars()  # settings.DAGS_FOLDER, where the DAG bundle looks, is read from conf at import
        settings.configure_orm()


@pytest.fixture(scope="module")
def airflow_db(server_url, tmp_path_factory):
    """Airflow configured on a fresh metadata database of the test server, its schema created."""
    name = "airflow_" + uuid.uuid4().hex[:8]
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    home = tmp_path_factory.mktemp("airflow_home")
    url = _database_url(server_url, name)
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url.replace("postgresql://", "postgresql+psycopg://", 1),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": url.replace("postgresql://", "postgresql+psycopg_async://", 1),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
    }
    saved = {key: os.environ.get(key) for key in env}
    _configure_airflow(env)
    from airflow.utils import db

    db.initdb()
    yield home
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _dag_bag(folder: Path):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(folder))


# -- static checks ---------------------------------------------------------------------------------------

def test_every_dag_file_imports_and_follows_the_house_rules(airflow_db):
    from airflow.utils.dag_cycle_tester import check_cycle

    assert {p.stem for p in DAG_FILES} >= {f"ingest_{s}" for s in SOURCES} | {"transform", "quality", "report"}
    for path in DAG_FILES:
        bag = _dag_bag(path)  # each file on its own, by absolute path
        assert bag.import_errors == {}, f"{path.name}: {bag.import_errors}"
        assert list(bag.dags) == [path.stem], f"{path.name} must define exactly the DAG {path.stem}"
        dag = bag.dags[path.stem]
        check_cycle(dag)
        assert dag.catchup is False and dag.max_active_runs == 1, path.name
        assert dag.dagrun_timeout, f"{path.name}: a hung run must not block the later ones for ever"
        assert "reformwh" in dag.tags and len(dag.tags) >= 2, path.name
        assert dag.doc_md, f"{path.name}: say what the DAG does in doc_md"
        for task in dag.tasks:
            assert task.owner == "data-engineering", f"{path.name}:{task.task_id}"
            assert task.on_failure_callback, f"{path.name}:{task.task_id} has no failure callback"
            assert task.retry_exponential_backoff and task.max_retry_delay, f"{path.name}:{task.task_id}"
            assert task.execution_timeout, f"{path.name}:{task.task_id} has no execution_timeout"
        # retries everywhere except where a retry cannot help (a failed expectation)
        no_retry = {t.task_id for t in dag.tasks if t.retries == 0}
        assert no_retry <= {"run_quality_suites"}, f"{path.name}: {no_retry}"


def test_ingestion_dags_publish_one_asset_per_raw_table(airflow_db):
    from reformwh.settings import get_settings

    expected = {
        "one_stop_shop": {"reformwh://raw/one_stop_shop__dossiers"},
        "document_management": {"reformwh://raw/document_management__documents",
                                 "reformwh://raw/document_management__tasks"},
        "self_reports": {f"reformwh://raw/self_reports__{t}" for t in
                         ("submissions", "scores", "figures", "evidence_items", "evidence_files")},
    }
    bag = _dag_bag(DAGS_DIR)
    assert bag.import_errors == {}
    published = set()
    for source, uris in expected.items():
        dag = bag.dags[f"ingest_{source}"]
        outlets = {a.uri for a in dag.get_task("publish_raw_tables").outlets}
        assert outlets == uris
        # run on its cron and whenever a file lands in its folder (watched in the triggerer)
        assert type(dag.timetable).__name__ == "AssetOrTimeSchedule"
        assert dag.timetable.asset_condition.uri == f"reformwh://landing/{source}"
        [watcher] = dag.timetable.asset_condition.watchers
        assert watcher.trigger.folder == str(get_settings().landing_dir / source)
        published |= uris
    # the transformation listens to every raw table; quality follows the marts it publishes, the report the
    # marts that passed quality
    transform = bag.dags["transform"]
    condition = transform.timetable.asset_condition
    assert type(condition).__name__ == "AssetAny" and {a.uri for a in condition.objects} == published
    # one task, the CLI's build, in the dbt pool
    assert [t.task_id for t in transform.tasks] == ["dbt_build"]
    assert transform.get_task("dbt_build").pool == "dbt"
    assert {a.uri for a in transform.get_task("dbt_build").outlets} == {"reformwh://marts/all"}
    assert bag.dags["quality"].timetable.asset_condition.uri == "reformwh://marts/all"
    assert {a.uri for a in bag.dags["quality"].get_task("run_quality_suites").outlets} == {"reformwh://marts/checked"}
    assert bag.dags["report"].timetable.asset_condition.uri == "reformwh://marts/checked"


# -- runs ------------------------------------------------------------------------------------------------

class _Webhook(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str, dict]] = []
    failures_left = 0  # answer this many POSTs with 503 first: the alert must be retried

    def do_POST(self):  # noqa: N802 - the handler's API
        length = int(self.headers["Content-Length"])
        body = json.loads(self.rfile.read(length))
        if _Webhook.failures_left:
            _Webhook.failures_left -= 1
            self.send_response(503)
        else:
            _Webhook.received.append((self.path, body))
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    _Webhook.received, _Webhook.failures_left = [], 0
    server = http.server.HTTPServer(("127.0.0.1", 0), _Webhook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", _Webhook
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def pipeline_env(airflow_db, server_url, tmp_path_factory):
    """A fresh warehouse database and landing folder, given to the DAGs' tasks through the environment; report
    days judged as of the data (the samples end in 2025), as `reformwh airflow` does."""
    home = tmp_path_factory.mktemp("reformwh_airflow_home")
    env = {"REFORMWH_DATABASE_URL": fresh_database(server_url, home).database_url, "REFORMWH_HOME": str(home),
           "REFORMWH_LANDING_DIR": str(home / "landing"), "REFORMWH_REFERENCE_DIR": str(SAMPLES / "reference"),
           "REFORMWH_REPORT_STATUS_AS_OF": "data",
           "REFORMWH_TRANSFORM_DEBOUNCE_SECONDS": "0"}  # test_transform_debounce.py tests the wait
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    from reformwh.settings import get_settings

    yield get_settings()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _run(dag_id: str):
    dag = _dag_bag(DAGS_DIR / f"{dag_id}.py").dags[dag_id]
    run = dag.test()
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    return run.state, states


def _asset_events(uri: str) -> list[dict]:
    """The extras of the Asset's events, oldest first."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        events = session.query(AssetEvent).join(AssetModel, AssetEvent.asset_id == AssetModel.id).filter(
            AssetModel.uri == uri).order_by(AssetEvent.id)
        return [dict(event.extra or {}) for event in events]


def test_report_before_the_marts_exist_skips(pipeline_env):
    """A fresh install: the report DAG finds no marts and skips, no failure and no alert."""
    state, tasks = _run("report")
    assert state == "success"
    assert tasks == {"reports_due": "skipped", "generate": "skipped"}


@pytest.fixture(scope="module")
def transformed(pipeline_env):
    """Ingest the one-stop-shop samples from the landing folder, then the transformation DAG."""
    landing = pipeline_env.landing_dir / "one_stop_shop"
    landing.mkdir(parents=True)
    for path in (SAMPLES / "one_stop_shop").iterdir():
        shutil.copy(path, landing / path.name)
    ingest = _run("ingest_one_stop_shop")
    transform = _run("transform")
    return ingest, transform


def test_ingestion_then_transformation_end_to_end(pipeline_env, transformed):
    (ingest_state, ingest_tasks), (transform_state, transform_tasks) = transformed
    assert ingest_state == "success", ingest_tasks
    assert ingest_tasks == {"ingest": "success", "publish_raw_tables": "success", "alert_data_steward": "skipped",
                            "source_freshness": "success"}
    landing = pipeline_env.landing_dir / "one_stop_shop"
    sample_names = sorted(p.name for p in (SAMPLES / "one_stop_shop").iterdir())
    assert sorted(p.name for p in (landing / "processed" / date.today().isoformat()).iterdir()) == sample_names
    assert [p.name for p in landing.iterdir() if p.is_file()] == []
    assert not (landing / ".claimed").exists() or not any((landing / ".claimed").iterdir())
    loads = query(pipeline_env, "select count(*), sum(rows_loaded), sum(rows_quarantined) from audit.file_loads "
                                "where status = 'loaded'")
    assert loads[0][0] == len(sample_names)
    assert query(pipeline_env, "select count(*) from raw.one_stop_shop__dossiers")[0][0] == loads[0][1]
    # the Asset event says what arrived: files, rows, and the quarantine reasons most often met
    [raw_event] = _asset_events("reformwh://raw/one_stop_shop__dossiers")
    assert (raw_event["loaded"], raw_event["rows_loaded"], raw_event["rows_quarantined"], raw_event["rejected"]) == (
        len(sample_names), loads[0][1], loads[0][2], 0)
    top = query(pipeline_env, "select reason, count(*) from quarantine.rows, unnest(reasons) reason "
                              "group by reason order by count(*) desc, reason limit 5")
    assert [(r["reason"], r["rows"]) for r in raw_event["top_quarantine_reasons"]] == [tuple(t) for t in top]

    assert transform_state == "success", transform_tasks
    assert transform_tasks == {"dbt_build": "success"}
    # the event on the marts carries dbt's run results: every model built, every test passed
    [marts_event] = _asset_events("reformwh://marts/all")
    models = marts_event["models"]
    assert len(models) > 20 and all(m["status"] == "success" for m in models.values())
    assert marts_event["problems"] == []
    assert marts_event["counts"]["model success"] == len(models) and marts_event["counts"]["test pass"] > 20
    # the marts hold the sample's dossiers: every distinct valid dossier once, and province rows per period
    distinct = query(pipeline_env, "select count(distinct dossier_code) from raw.one_stop_shop__dossiers")[0][0]
    assert distinct > 0
    assert query(pipeline_env, "select count(*) from marts.fct_dossier")[0][0] == distinct
    assert models["fct_dossier"]["rows"] == distinct  # a first build inserts every row
    received = query(pipeline_env, "select count(*) from marts.reform_province where calendar = 'official'")[0][0]
    assert received > 0


def test_rerun_with_a_repeated_and_a_bad_file_alerts_the_steward_and_stays_green(pipeline_env, transformed,
                                                                                  webhook, monkeypatch):
    url, hook = webhook
    landing = pipeline_env.landing_dir / "one_stop_shop"
    shutil.copy(SAMPLES / "one_stop_shop" / "ho_so_20250616.csv", landing / "ho_so_20250616.csv")
    (landing / "hồ_sơ_20250617.csv").write_text("Mã hồ sơ,Trạng thái\nX,1\n", encoding="utf-8")
    raw_before = query(pipeline_env, "select count(*) from raw.one_stop_shop__dossiers")[0][0]
    monkeypatch.setenv("REFORMWH_ALERT_WEBHOOK_URL", url + "/on-call")
    monkeypatch.setenv("REFORMWH_STEWARD_WEBHOOK_URL", url + "/steward")
    hook.failures_left = 1  # the webhook fails once: the alert is posted again
    state, tasks = _run("ingest_one_stop_shop")
    # a rejected file is the steward's matter: the run is green, the steward task shows it ran
    assert state == "success"
    assert tasks == {"ingest": "success", "publish_raw_tables": "skipped", "alert_data_steward": "success",
                     "source_freshness": "success"}
    # nothing new was loaded, so the transformation is not triggered again
    assert len(_asset_events("reformwh://raw/one_stop_shop__dossiers")) == 1
    assert query(pipeline_env, "select count(*) from raw.one_stop_shop__dossiers")[0][0] == raw_before
    day = date.today().isoformat()
    assert (landing / "processed" / day / "ho_so_20250616.1.csv").exists()  # the repeat, kept beside the first
    rejected = landing / "rejected" / day
    assert "hồ_sơ_20250617.csv" in (rejected / "hồ_sơ_20250617.csv.reason.txt").read_text()
    # one alert, to the steward's address only, after one failed try
    assert hook.failures_left == 0 and len(hook.received) == 1
    path, alert = hook.received[0]
    assert (path, alert["event"], alert["source"], alert["dag_id"]) == (
        "/steward", "reformwh_file_rejected", "one_stop_shop", "ingest_one_stop_shop")
    [file] = alert["files"]
    assert file["file"] == "hồ_sơ_20250617.csv" and file["moved_to"] == str(rejected / "hồ_sơ_20250617.csv")
    assert "hồ_sơ_20250617.csv" not in file["reason"] and file["reason"]
    # the message names the file once, says the folder, and keeps Vietnamese readable
    assert alert["text"].count("hồ_sơ_20250617.csv") == 1 and str(rejected) in alert["text"]


@pytest.mark.parametrize(("as_of", "status"), [("2025-06-19", "warn"), ("2025-06-21", "error")])
def test_a_stale_source_alerts_the_steward_and_fails_past_its_error_threshold(pipeline_env, transformed, webhook,
                                                                               monkeypatch, as_of, status):
    """The samples' export was extracted on Monday 16/06/2025 at 23:59:59. Judged on Thursday 19/06 at 00:00 it is
    48 working hours old (warn after 36): the steward's alert, the run green. On Saturday 21/06, 96 h (error
    after 72): the alert too, and the task fails, which alerts on-call."""
    url, hook = webhook
    monkeypatch.setenv("REFORMWH_ALERT_WEBHOOK_URL", url + "/on-call")
    monkeypatch.setenv("REFORMWH_STEWARD_WEBHOOK_URL", url + "/steward")
    monkeypatch.setenv("REFORMWH_REPORT_STATUS_AS_OF", as_of)
    state, tasks = _run("ingest_one_stop_shop")
    assert tasks["source_freshness"] == ("success" if status == "warn" else "failed")
    assert state == ("success" if status == "warn" else "failed")
    stale = [alert for path, alert in hook.received if path == "/steward"]
    assert [(a["event"], a["source"], [(t["table"], t["status"], t["age_hours"]) for t in a["tables"]])
            for a in stale] == [("reformwh_source_stale", "one_stop_shop",
                                 [("one_stop_shop__dossiers", status, 48.0 if status == "warn" else 96.0)])]
    assert "one_stop_shop__dossiers " + status in stale[0]["text"]
    on_call = [alert["event"] for path, alert in hook.received if path == "/on-call"]
    assert on_call == ([] if status == "warn" else ["reformwh_task_failed"])


def test_quality_then_report_after_transformation(pipeline_env, transformed):
    """Quality passes and publishes the checked marts; the report DAG (run on them) writes the report that is
    due as of the data, once: its next run skips."""
    state, tasks = _run("quality")
    assert tasks == {"run_quality_suites": "success"}
    assert state == "success"
    assert len(_asset_events("reformwh://marts/checked")) == 1

    state, tasks = _run("report")
    assert state == "success", tasks
    runs = query(pipeline_env, "select period_key, edition, files from reports.report_runs order by run_id")
    assert len(runs) >= 1
    reports = sorted(p.name for p in (pipeline_env.home / "reports").iterdir())
    assert any(name.endswith(f"{runs[-1][0]}_{runs[-1][1]}.docx") for name in reports), reports
    state, tasks = _run("report")
    assert state == "success" and tasks["reports_due"] == "skipped"
    assert query(pipeline_env, "select count(*) from reports.report_runs")[0][0] == len(runs)


def test_readers_of_the_marts_hold_the_loads_and_builds_lock(pipeline_env):
    """Quality and the report read the marts under the lock a build takes exclusively (pipeline.build)."""
    from reformwh import pipeline

    def build_could_start() -> bool:
        with pipeline.connect(pipeline_env) as conn:
            got = conn.execute("select pg_try_advisory_lock(hashtext('reformwh.loads_and_builds'))").fetchone()[0]
            if got:
                conn.execute("select pg_advisory_unlock(hashtext('reformwh.loads_and_builds'))")
            return got

    with pipeline.reading_marts(pipeline_env, "test"):
        assert not build_could_start()
    assert build_could_start()


def test_the_landing_watch_fires_once_per_new_settled_file(tmp_path):
    """The triggerer's watch (reformwh.triggers.LandingTrigger): a file fires once it has been left alone for
    `settle` seconds, and only once while it waits; files in progress and hidden files never fire."""
    import asyncio
    import os
    import time

    from reformwh.orchestration import mark_landing_files_seen, new_landing_files
    from reformwh.triggers import LandingTrigger

    folder = tmp_path / "one_stop_shop"
    folder.mkdir()
    (folder / "ho_so_20251221.csv.part").write_text("x")
    (folder / ".hidden.csv").write_text("x")
    assert new_landing_files(folder, settle=0) == []
    fresh = folder / "ho_so_20251221.csv"
    fresh.write_text("x")
    assert new_landing_files(folder, settle=60) == []  # still being written, perhaps
    old = time.time() - 120
    os.utime(fresh, (old, old))
    assert new_landing_files(folder, settle=60) == ["ho_so_20251221.csv"]
    assert new_landing_files(folder, settle=60) == []  # waiting for its run: not again
    fresh.unlink()  # claimed by the run; the same name delivered again is new
    assert new_landing_files(folder, settle=0) == []
    fresh.write_text("y")

    trigger = LandingTrigger(str(folder), poke_interval=0.01, settle=0)
    assert trigger.serialize() == ("reformwh.triggers.LandingTrigger",
                                   {"folder": str(folder), "poke_interval": 0.01, "settle": 0})

    async def first_event():
        async for event in trigger.run():
            return event.payload

    assert asyncio.run(first_event()) == {"folder": str(folder), "files": ["ho_so_20251221.csv"]}

    # files a scheduled run takes anyway (the samples `reformwh airflow` writes) are marked seen: no event
    fresh.unlink()
    assert new_landing_files(folder, settle=0) == []
    (folder / "ho_so_20251222.csv").write_text("z")
    assert mark_landing_files_seen(folder) == ["ho_so_20251222.csv"]
    assert new_landing_files(folder, settle=0) == []
    (folder / "ho_so_20251223.csv").write_text("w")  # a later delivery still fires
    assert new_landing_files(folder, settle=0) == ["ho_so_20251223.csv"]

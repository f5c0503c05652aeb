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
from tests.conftest import SAMPLES, _database_url, query

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
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",  # no usage metrics posted from the tests
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


@pytest.fixture(scope="module")
def dbt_manifest():
    """The manifest the transformation DAG renders from, written as the install step writes it."""
    from reformwh.dbt import parse_project

    return parse_project()


def _dag_bag(folder: Path):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(folder))


# -- static checks ---------------------------------------------------------------------------------------

def test_every_dag_file_imports_and_follows_the_house_rules(airflow_db, dbt_manifest):
    from airflow.utils.dag_cycle_tester import check_cycle

    assert {p.stem for p in DAG_FILES} >= {f"ingest_{s}" for s in SOURCES} | {"transform", "quality", "report"}
    for path in DAG_FILES:
        bag = _dag_bag(path)  # each file on its own, by absolute path
        assert bag.import_errors == {}, f"{path.name}: {bag.import_errors}"
        assert list(bag.dags) == [path.stem], f"{path.name} must define exactly the DAG {path.stem}"
        dag = bag.dags[path.stem]
        check_cycle(dag)
        assert dag.catchup is False and dag.max_active_runs == 1, path.name
        assert "reformwh" in dag.tags and len(dag.tags) >= 2, path.name
        assert dag.doc_md, f"{path.name}: say what the DAG does in doc_md"
        for task in dag.tasks:
            assert task.owner == "data-engineering", f"{path.name}:{task.task_id}"
            assert task.on_failure_callback, f"{path.name}:{task.task_id} has no failure callback"
            assert task.retry_exponential_backoff and task.max_retry_delay, f"{path.name}:{task.task_id}"
        # retries everywhere except where a retry cannot help (a rejected file, a failed expectation)
        no_retry = {t.task_id for t in dag.tasks if t.retries == 0}
        assert no_retry <= {"check_rejections", "run_quality_suites"}, f"{path.name}: {no_retry}"


def test_ingestion_dags_publish_one_asset_per_raw_table(airflow_db, dbt_manifest):
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
        published |= uris
    # the transformation listens to every raw table, and the quality DAG to the marts it publishes
    transform = bag.dags["transform"]
    condition = transform.timetable.asset_condition
    assert type(condition).__name__ == "AssetAny" and {a.uri for a in condition.objects} == published
    assert {a.uri for a in transform.get_task("publish_marts").outlets} == {"reformwh://marts/all"}
    assert bag.dags["quality"].timetable.asset_condition.uri == "reformwh://marts/all"
    # one task per dbt model, building it and running its tests (`dbt build --select <model>`), after its parents
    dbt_tasks = {t.task_id: t for t in transform.tasks if t.task_id.startswith("dbt.")}
    assert "dbt.reform_province_model_build" in dbt_tasks
    assert "dbt.int_dossiers_classified_model_build" in dbt_tasks["dbt.fct_dossier_model_build"].upstream_task_ids


def test_transformation_dag_imports_without_a_manifest(airflow_db, monkeypatch, tmp_path):
    from reformwh import dbt

    monkeypatch.setattr(dbt, "MANIFEST_PATH", tmp_path / "missing" / "manifest.json")
    bag = _dag_bag(DAGS_DIR / "transform.py")
    assert bag.import_errors == {}
    assert [t.task_id for t in bag.dags["transform"].tasks] == [
        "load_reference_data", "dbt_manifest_missing", "publish_marts"]


# -- runs ------------------------------------------------------------------------------------------------

class _Webhook(http.server.BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):  # noqa: N802 - the handler's API
        length = int(self.headers["Content-Length"])
        _Webhook.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    _Webhook.received = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Webhook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/alert", _Webhook.received
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def pipeline_env(airflow_db, dbt_manifest, server_url, tmp_path_factory):
    """A fresh warehouse database and landing folder, given to the DAGs' tasks through the environment."""
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    home = tmp_path_factory.mktemp("reformwh_airflow_home")
    env = {"REFORMWH_DATABASE_URL": _database_url(server_url, name), "REFORMWH_HOME": str(home),
           "REFORMWH_LANDING_DIR": str(home / "landing"), "REFORMWH_REFERENCE_DIR": str(SAMPLES / "reference")}
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


def _asset_events(uri: str) -> int:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        return session.query(AssetEvent).join(AssetModel, AssetEvent.asset_id == AssetModel.id).filter(
            AssetModel.uri == uri).count()


@pytest.fixture(scope="module")
def transformed(pipeline_env):
    """Ingest the one-stop-shop samples from the landing folder, then the transformation DAG (Cosmos)."""
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
    assert ingest_tasks == {"ingest": "success", "publish_raw_tables": "success", "check_rejections": "success"}
    landing = pipeline_env.landing_dir / "one_stop_shop"
    sample_names = sorted(p.name for p in (SAMPLES / "one_stop_shop").iterdir())
    assert sorted(p.name for p in (landing / "processed" / date.today().isoformat()).iterdir()) == sample_names
    assert [p.name for p in landing.iterdir() if p.is_file()] == []
    assert not (landing / ".claimed").exists() or not any((landing / ".claimed").iterdir())
    loads = query(pipeline_env, "select count(*), sum(rows_loaded) from audit.file_loads where status = 'loaded'")
    assert loads[0][0] == len(sample_names)
    assert query(pipeline_env, "select count(*) from raw.one_stop_shop__dossiers")[0][0] == loads[0][1]
    assert _asset_events("reformwh://raw/one_stop_shop__dossiers") == 1

    assert transform_state == "success", {k: v for k, v in transform_tasks.items() if v != "success"}
    dbt_tasks = [t for t in transform_tasks if t.startswith("dbt.")]
    assert len(dbt_tasks) > 20 and all(transform_tasks[t] == "success" for t in dbt_tasks)
    assert _asset_events("reformwh://marts/all") == 1
    # the marts hold the sample's dossiers: every distinct valid dossier once, and province rows per period
    distinct = query(pipeline_env, "select count(distinct dossier_code) from raw.one_stop_shop__dossiers")[0][0]
    assert distinct > 0
    assert query(pipeline_env, "select count(*) from marts.fct_dossier")[0][0] == distinct
    received = query(pipeline_env, "select count(*) from marts.reform_province where calendar = 'official'")[0][0]
    assert received > 0


def test_rerun_with_a_repeated_and_a_bad_file_alerts_and_changes_nothing(pipeline_env, transformed, webhook):
    url, received = webhook
    landing = pipeline_env.landing_dir / "one_stop_shop"
    shutil.copy(SAMPLES / "one_stop_shop" / "ho_so_20250616.csv", landing / "ho_so_20250616.csv")
    (landing / "ho_so_20250617.csv").write_text("Mã hồ sơ,Trạng thái\nX,1\n", encoding="utf-8")
    raw_before = query(pipeline_env, "select count(*) from raw.one_stop_shop__dossiers")[0][0]
    os.environ["REFORMWH_ALERT_WEBHOOK_URL"] = url
    try:
        state, tasks = _run("ingest_one_stop_shop")
    finally:
        del os.environ["REFORMWH_ALERT_WEBHOOK_URL"]
    assert state == "failed"
    # nothing new was loaded, so the transformation is not triggered again; the rejection is red and alerted
    assert tasks == {"ingest": "success", "publish_raw_tables": "skipped", "check_rejections": "failed"}
    assert _asset_events("reformwh://raw/one_stop_shop__dossiers") == 1
    assert query(pipeline_env, "select count(*) from raw.one_stop_shop__dossiers")[0][0] == raw_before
    day = date.today().isoformat()
    assert (landing / "processed" / day / "ho_so_20250616.1.csv").exists()  # the repeat, kept beside the first
    reason = (landing / "rejected" / day / "ho_so_20250617.csv.reason.txt").read_text()
    assert "ho_so_20250617.csv" in reason
    assert len(received) == 1
    alert = received[0]
    assert (alert["dag_id"], alert["task_id"], alert["event"]) == (
        "ingest_one_stop_shop", "check_rejections", "reformwh_task_failed")
    assert "1 file(s) rejected" in alert["error"] and "ho_so_20250617.csv" in alert["error"]


def test_quality_dag_after_transformation(pipeline_env, transformed):
    from reformwh import pipeline

    if not hasattr(pipeline, "check"):
        pytest.skip("reformwh.pipeline.check (the `reformwh check` suites) is not on this branch yet: "
                    "the quality DAG is wired to it and runs once it is merged")
    state, tasks = _run("quality")
    assert tasks == {"run_quality_suites": "success"}
    assert state == "success"

"""`reformwh airflow`: Airflow on this machine, on the embedded warehouse — API server and UI, scheduler, DAG
processor and triggerer (`airflow standalone`, LocalExecutor), metadata in a database `airflow` of the same
PostgreSQL server, the project's DAGs unpaused and sample exports in the landing folders, so the DAGs run
for real at once. Ctrl-C or SIGTERM stops every Airflow process (the whole process group)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg

from reformwh.settings import PROJECT_ROOT, Settings

METADATA_DATABASE = "airflow"


def _metadata_url(settings: Settings) -> str:
    """AIRFLOW__DATABASE__SQL_ALCHEMY_CONN when set, else a database `airflow` beside the warehouse's."""
    if os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):
        return os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].replace("postgresql://", "postgresql+psycopg://", 1)
    warehouse_url = settings.database_url  # starts the embedded server if needed
    base, _, _ = warehouse_url.partition("?")[0].rpartition("/")
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", [METADATA_DATABASE]).fetchone():
            conn.execute(f'create database "{METADATA_DATABASE}"')
    return f"{base}/{METADATA_DATABASE}".replace("postgresql://", "postgresql+psycopg://", 1)


def airflow_env(settings: Settings, metadata_url: str, port: int) -> dict[str, str]:
    home = settings.home / "airflow"
    bin_dir = str(Path(sys.executable).parent)  # `airflow standalone` starts its components as `airflow …`
    return {
        **os.environ,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        # a laptop or a 2-core VM: few tasks at once, one API worker
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "2",
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
        # psycopg 3 for the async engine too (Airflow would otherwise look for asyncpg, which is not installed)
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC")
        or metadata_url.replace("+psycopg://", "+psycopg_async://", 1),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        # Cosmos would post usage metrics to an outside service from every dbt task
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        # the DAGs' tasks find the same warehouse, landing folder and state as this command
        "REFORMWH_HOME": str(settings.home),
        "REFORMWH_LANDING_DIR": str(settings.landing_dir),
        "REFORMWH_REFERENCE_DIR": str(settings.reference_dir),
    }


def _write_samples(settings: Settings, scale: float) -> int:
    """Sample exports into the landing folders, unless files are waiting or were processed there already."""
    from reformwh.sample import write_samples

    folder = settings.landing_dir / "one_stop_shop"
    if folder.exists() and any(folder.iterdir()):
        return 0
    return len(write_samples(settings.landing_dir, scale=scale, reference_dir=settings.reference_dir))


def _wait_for_api(port: int, process: subprocess.Popen, timeout: float = 300) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=5) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(2)
    return False


def _admin_password(airflow_home: Path) -> str | None:
    path = airflow_home / "simple_auth_manager_passwords.json.generated"
    for _ in range(30):
        if path.exists():
            return json.loads(path.read_text()).get("admin")
        time.sleep(1)
    return None


def _processes_of(airflow_home: Path) -> list[int]:
    """Processes still running with this AIRFLOW_HOME in their environment (any that left the group)."""
    marker = f"AIRFLOW_HOME={airflow_home}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def stop(process: subprocess.Popen, airflow_home: Path, grace: float = 30) -> None:
    """SIGTERM to the whole process group, SIGKILL after `grace` seconds; then any straggler that left it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.5)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    for pid in _processes_of(airflow_home):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    # SIGKILL is delivered asynchronously: wait until the stragglers are really gone
    deadline = time.monotonic() + 10
    while _processes_of(airflow_home) and time.monotonic() < deadline:
        time.sleep(0.1)
    process.wait()


def run(settings: Settings, port: int = 8080, sample_scale: float = 0.1, samples: bool = True) -> int:
    from reformwh.dbt import parse_project

    print("Preparing the warehouse and Airflow's metadata database…", flush=True)
    metadata_url = _metadata_url(settings)
    print(f"dbt manifest for the transformation DAG: {parse_project()}", flush=True)
    if samples:
        written = _write_samples(settings, sample_scale)
        print(f"sample exports written to {settings.landing_dir}: {written} file(s)" if written else
              f"landing folder {settings.landing_dir}: files already there, no samples added", flush=True)
    env = airflow_env(settings, metadata_url, port)
    if samples:  # the sample world ends with its newest extraction: judge report statuses as of it, as the demo does
        env.setdefault("REFORMWH_REPORT_STATUS_AS_OF", "data")
    airflow_home = Path(env["AIRFLOW_HOME"])
    airflow_home.mkdir(parents=True, exist_ok=True)
    airflow = Path(sys.executable).with_name("airflow")
    log_path = airflow_home / "standalone.log"
    print(f"Starting Airflow (log: {log_path})…", flush=True)
    with open(log_path, "ab") as log:
        # its own process group, so that stopping it stops every component and task process it started
        process = subprocess.Popen([str(airflow), "standalone"], env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    # SIGINT explicitly too: a shell's background job starts with Ctrl-C ignored
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if not _wait_for_api(port, process):
            print(f"error: Airflow did not answer on port {port}; see {log_path}", file=sys.stderr)
            return 1
        password = _admin_password(airflow_home)
        print(f"\nAirflow is up: http://127.0.0.1:{port}  login: admin / {password or '(see ' + str(log_path) + ')'}")
        print(f"DAGs from {env['AIRFLOW__CORE__DAGS_FOLDER']}, unpaused; drop exports into "
              f"{settings.landing_dir}/<source>/. Ctrl-C stops Airflow (the warehouse keeps running: "
              "`reformwh warehouse stop`).", flush=True)
        return process.wait()
    except KeyboardInterrupt:
        print("\nStopping Airflow…", flush=True)
        return 0
    finally:
        for sig in previous:  # a second Ctrl-C must not cut the stop short
            signal.signal(sig, signal.SIG_IGN)
        stop(process, airflow_home)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        left = _processes_of(airflow_home)
        print("Airflow stopped" + (f"; processes left: {left}" if left else ", no process left"), flush=True)

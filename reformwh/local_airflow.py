"""`reformwh airflow`: Airflow on this machine, on the embedded warehouse — API server and UI, scheduler, DAG
processor and triggerer (`airflow standalone`, LocalExecutor), metadata in a database `airflow` of the same
PostgreSQL server, the project's DAGs unpaused and sample exports in the landing folders, so the DAGs run
for real at once. Ctrl-C or SIGTERM stops every Airflow process (the whole process group)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg

from reformwh.settings import PROJECT_ROOT, Settings

METADATA_DATABASE = "airflow"
TIMEZONE = "Asia/Ho_Chi_Minh"
# Airflow's first start migrates its metadata database: minutes on a busy 2-core machine (376 s seen). Give up
# only after this long without an answer, or when Airflow exits (REFORMWH_AIRFLOW_START_TIMEOUT, seconds).
START_TIMEOUT = 1800
PASSWORDS_FILE = "simple_auth_manager_passwords.json.generated"


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


def free_port(preferred: int | None = None) -> int:
    """`preferred` when nothing listens on it on 127.0.0.1, else a port the system picks."""
    for candidate in ([preferred] if preferred else []) + [0]:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise OSError("no free port")


def airflow_env(settings: Settings, metadata_url: str, port: int, log_ports: tuple[int, int] = (8793, 8794)
                ) -> dict[str, str]:
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
        # schedules without a zone of their own, and the times in task logs, are the province's
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": TIMEZONE,
        # a laptop or a 2-core VM: few tasks at once (unless set), one API worker
        "AIRFLOW__CORE__PARALLELISM": os.environ.get("AIRFLOW__CORE__PARALLELISM", "4"),
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": os.environ.get("AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG", "2"),
        "AIRFLOW__API__WORKERS": "1",
        # this machine only; a second instance (another REFORMWH_HOME) takes other ports
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(log_ports[0]),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(log_ports[1]),
        # a task that starts while the single API worker is still starting or busy waits for it (about 10 min
        # of retries) instead of failing and using up the retries meant for real errors
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
        "AIRFLOW__WORKERS__EXECUTION_API_RETRIES": "15",
        "AIRFLOW__WORKERS__EXECUTION_API_RETRY_WAIT_MAX": "60",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
        # psycopg 3 for the async engine too (Airflow would otherwise look for asyncpg, which is not installed)
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC")
        or metadata_url.replace("+psycopg://", "+psycopg_async://", 1),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        # the DAGs' tasks find the same warehouse, landing folder and state as this command
        "REFORMWH_HOME": str(settings.home),
        "REFORMWH_LANDING_DIR": str(settings.landing_dir),
        "REFORMWH_REFERENCE_DIR": str(settings.reference_dir),
    }


POOLS = {"dbt": (1, "dbt builds, one at a time (the transformation's dbt_build)")}


def prepare_metadata(airflow: Path, env: dict[str, str], log) -> None:
    """Migrate Airflow's metadata database and create the pools the DAGs use (reformwh.orchestration.DBT_POOL),
    before the scheduler starts: a task in a pool that does not exist is never scheduled."""
    subprocess.run([str(airflow), "db", "migrate"], env=env, stdout=log, stderr=subprocess.STDOUT, check=True)
    for name, (slots, description) in POOLS.items():
        subprocess.run([str(airflow), "pools", "set", name, str(slots), description], env=env, stdout=log,
                       stderr=subprocess.STDOUT, check=True)


def _write_samples(settings: Settings, scale: float) -> int:
    """Sample exports into the landing folders, unless files are waiting or were processed there already."""
    from reformwh.orchestration import all_sources, mark_landing_files_seen
    from reformwh.samples import write_samples

    folder = settings.landing_dir / "one_stop_shop"
    if folder.exists() and any(folder.iterdir()):
        return 0
    written = len(write_samples(settings.landing_dir, scale=scale, reference_dir=settings.reference_dir))
    # the ingestion DAGs' first, immediate runs load them: the landing watch need not start a second, empty run
    for source in all_sources():
        mark_landing_files_seen(settings.landing_dir / source)
    return written


def _wait_for_api(port: int, process: subprocess.Popen, timeout: float = START_TIMEOUT,
                  started: float | None = None) -> bool:
    started = started or time.monotonic()
    deadline, next_note = time.monotonic() + timeout, time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if time.monotonic() > next_note:
            print(f"  … still starting ({time.monotonic() - started:.0f}s)", flush=True)
            next_note += 60
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=5) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(2)
    return False


def _admin_password(airflow_home: Path) -> str | None:
    path = airflow_home / PASSWORDS_FILE
    for _ in range(30):
        if path.exists() and path.stat().st_size:
            path.chmod(0o600)  # plain text: its owner only
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

    started = time.monotonic()
    print("Preparing the warehouse and Airflow's metadata database…", flush=True)
    metadata_url = _metadata_url(settings)
    if samples:  # the sample world ends with its newest extraction: judge report statuses as of it, as the demo does
        os.environ.setdefault("REFORMWH_REPORT_STATUS_AS_OF", "data")
    # with the warehouse's profile and the same environment as the tasks: their dbt build parses partially
    print(f"dbt manifest: {parse_project(settings)}", flush=True)
    if samples:
        written = _write_samples(settings, sample_scale)
        print(f"sample exports written to {settings.landing_dir}: {written} file(s)" if written else
              f"landing folder {settings.landing_dir}: files already there, no samples added", flush=True)
    chosen = free_port(port)
    if chosen != port:
        print(f"port {port} is taken (another Airflow?): using {chosen}", flush=True)
    env = airflow_env(settings, metadata_url, chosen, log_ports=(free_port(), free_port()))
    port = chosen
    airflow_home = Path(env["AIRFLOW_HOME"])
    airflow_home.mkdir(parents=True, exist_ok=True)
    airflow = Path(sys.executable).with_name("airflow")
    log_path = airflow_home / "standalone.log"
    print(f"Migrating Airflow's metadata database and creating its pools (log: {log_path})…", flush=True)
    with open(log_path, "ab") as log:
        try:
            prepare_metadata(airflow, env, log)
        except subprocess.CalledProcessError as exc:
            print(f"error: {' '.join(exc.cmd[1:3])} failed; see {log_path}", file=sys.stderr)
            return 1
        print(f"Starting Airflow on http://127.0.0.1:{port} (first start: a few minutes on a small machine)…",
              flush=True)
        # its own process group, so that stopping it stops every component and task process it started
        process = subprocess.Popen([str(airflow), "standalone"], env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    # SIGINT explicitly too: a shell's background job starts with Ctrl-C ignored
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        timeout = float(os.environ.get("REFORMWH_AIRFLOW_START_TIMEOUT", START_TIMEOUT))
        if not _wait_for_api(port, process, timeout, started):
            print(f"error: Airflow did not answer on port {port} within {timeout:.0f}s"
                  + (f" (it exited with {process.returncode})" if process.poll() is not None else "")
                  + f"; see {log_path}", file=sys.stderr)
            return 1
        password = _admin_password(airflow_home)
        print(f"\nAirflow is up after {time.monotonic() - started:.0f}s: http://127.0.0.1:{port}  login: admin / "
              f"{password or '(see ' + str(log_path) + ')'} (the password is kept in "
              f"{airflow_home / PASSWORDS_FILE}; README, Running Airflow, says how to change it)")
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

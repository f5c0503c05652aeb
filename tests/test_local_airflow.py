"""`reformwh airflow`: the configuration it gives Airflow, and that stopping it leaves no process behind —
also one that left the process group. (Starting the real Airflow takes a minute and is tried by hand; see the
README's "Running Airflow".)"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

from reformwh import local_airflow
from reformwh.settings import DEFAULT_HEADER_ALIASES, DEFAULT_REFERENCE_DIR, PROJECT_ROOT, Settings


def test_airflow_configuration(tmp_path):
    settings = Settings(tmp_path / "home", None, DEFAULT_REFERENCE_DIR, DEFAULT_HEADER_ALIASES)
    env = local_airflow.airflow_env(settings, "postgresql+psycopg://u:p@127.0.0.1:5999/airflow", 18080,
                                    log_ports=(18793, 18794))
    assert env["AIRFLOW_HOME"] == str(tmp_path / "home" / "airflow")
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(PROJECT_ROOT / "dags")
    assert (env["AIRFLOW__CORE__EXECUTOR"], env["AIRFLOW__CORE__PARALLELISM"], env["AIRFLOW__API__WORKERS"]) == (
        "LocalExecutor", "4", "1")
    assert env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] == "False"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"] == "postgresql+psycopg_async://u:p@127.0.0.1:5999/airflow"
    assert env["REFORMWH_LANDING_DIR"] == str(tmp_path / "home" / "landing")
    # this machine only, on the ports chosen for this instance; the province's time zone
    assert (env["AIRFLOW__API__HOST"], env["AIRFLOW__API__PORT"]) == ("127.0.0.1", "18080")
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:18080/execution/"
    assert (env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"], env["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"]) == (
        "18793", "18794")
    assert env["AIRFLOW__CORE__DEFAULT_TIMEZONE"] == "Asia/Ho_Chi_Minh"
    # a task waits for a slow API server rather than failing on it
    assert float(env["AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT"]) >= 30
    assert int(env["AIRFLOW__WORKERS__EXECUTION_API_RETRIES"]) >= 10
    # `airflow standalone` starts its components by name: the virtualenv's bin comes first on PATH
    assert env["PATH"].split(":")[0] == str(Path(sys.executable).parent)


def test_a_taken_port_gives_another_so_a_second_instance_starts():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        other = local_airflow.free_port(port)
        assert other != port and other > 0
    assert local_airflow.free_port(port) == port  # free again


_TREE = """
import subprocess, sys, time
sleeper = [sys.executable, "-c", "import time; time.sleep(300)"]
inside = subprocess.Popen(sleeper)
outside = subprocess.Popen(sleeper, start_new_session=True)  # leaves the process group
print(inside.pid, outside.pid, flush=True)
time.sleep(300)
"""


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def test_stop_leaves_no_process(tmp_path):
    home = tmp_path / "airflow"
    process = subprocess.Popen([sys.executable, "-c", _TREE], env={"AIRFLOW_HOME": str(home), "PATH": "/usr/bin"},
                               stdout=subprocess.PIPE, text=True, start_new_session=True)
    inside, outside = map(int, process.stdout.readline().split())
    tree = sorted([process.pid, inside, outside])
    deadline = time.monotonic() + 10  # a child just started may not show its environment at once
    while sorted(local_airflow._processes_of(home)) != tree and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(local_airflow._processes_of(home)) == tree
    local_airflow.stop(process, home, grace=5)
    process.stdout.close()
    assert local_airflow._processes_of(home) == []
    assert not any(_alive(pid) for pid in (process.pid, inside, outside))

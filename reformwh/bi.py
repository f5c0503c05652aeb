"""`reformwh bi`: Apache Superset on this machine with the province's dashboards (bi/assets).

Superset lives in an environment of its own, bi/.venv, installed from the locked uv project bi/ with the uv
that dev.py installed (its pins conflict with Airflow's, so it never touches .venv). Its metadata is a
database `superset` on the warehouse's server; the warehouse is registered as the database connection
"reformwh warehouse", logged in as the read-only role reformwh_bi, which reads the marts and nothing else.
The dashboards are Superset's export bundle in bi/assets, imported over what is there on every start, with
the datasets' column descriptions taken from dbt's manifest. Ctrl-C or SIGTERM stops Superset.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import psycopg
import yaml

from reformwh.settings import PROJECT_ROOT, Settings

BI_DIR = PROJECT_ROOT / "bi"
ASSETS = BI_DIR / "assets"
VENV = BI_DIR / ".venv"
STAMP = VENV / ".reformwh-installed"
METADATA_DATABASE = "superset"
DATABASE_FILE = "databases/reformwh_warehouse.yaml"
DEFAULT_PORT = 8088


def _uv() -> str:
    for candidate in (PROJECT_ROOT / ".tools" / "bin" / "uv", shutil.which("uv")):
        if candidate and Path(candidate).exists():
            return str(candidate)
    raise RuntimeError("uv not found: run `python3 dev.py install` first (it installs uv into .tools/)")


def _install_stamp() -> str:
    digest = hashlib.sha256()
    for name in ("uv.lock", "pyproject.toml"):
        digest.update((BI_DIR / name).read_bytes())
    digest.update(sys.base_prefix.encode())
    return digest.hexdigest()


def superset_python() -> Path:
    return VENV / "bin" / "python"


def ensure_environment(progress=print) -> Path:
    """bi/.venv from bi/uv.lock (`uv sync --frozen`), once, and again only when the lock changes."""
    stamp = _install_stamp()
    if superset_python().exists() and STAMP.exists() and STAMP.read_text() == stamp:
        return superset_python()
    progress(f"Installing Superset into {VENV} (uv sync --frozen, bi/uv.lock; once, about a minute)…")
    # the base interpreter, not .venv's: the new environment must not see the project's packages
    python = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(VENV)}
    env.pop("VIRTUAL_ENV", None)
    subprocess.run([_uv(), "sync", "--frozen", "--quiet", "--python", str(python)], cwd=BI_DIR, env=env,
                   check=True)
    STAMP.write_text(stamp)
    return superset_python()


def _metadata_url(settings: Settings) -> str:
    """SUPERSET_DATABASE_URI when set, else a database `superset` beside the warehouse's."""
    if os.environ.get("SUPERSET_DATABASE_URI"):
        return os.environ["SUPERSET_DATABASE_URI"]
    warehouse_url = settings.database_url  # starts the embedded server if needed
    base, _, _ = warehouse_url.partition("?")[0].rpartition("/")
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", [METADATA_DATABASE]).fetchone():
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(f'create database "{METADATA_DATABASE}"')
    return f"{base}/{METADATA_DATABASE}".replace("postgresql://", "postgresql+psycopg2://", 1)


def _secret(path: Path, environment_variable: str) -> str:
    """The variable's value, else a random one made once and kept (mode 600) at `path`."""
    if os.environ.get(environment_variable):
        return os.environ[environment_variable]
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32))
    return path.read_text().strip()


def _dbt_columns(manifest_path: Path) -> dict[str, dict[str, dict]]:
    """{relation name: {column: {description, data_type}}} of the marts in dbt's manifest."""
    manifest = json.loads(manifest_path.read_text())
    found = {}
    for node in manifest["nodes"].values():
        # dbt builds them in marts_build; `reformwh build` publishes them into marts (pipeline.publish_marts)
        if node.get("resource_type") == "model" and node.get("schema") in ("marts", "marts_build"):
            found[node["alias"] or node["name"]] = {
                "__table__": {"description": node.get("description") or ""},
                **{name: column for name, column in node.get("columns", {}).items()},
            }
    return found


def _report_settings() -> dict[str, str]:
    """{target:COLUMN} and {min_dossiers} in the assets: the report's 2030 targets and ranking rule
    (reporting/report_config.toml, REFORMWH_REPORT_CONFIG), so that dashboards and report never disagree."""
    from reporting.config import load_config

    config = load_config()
    values = {f"{{target:{name}}}": repr(float(value)) for name, value in config.targets.items()}
    values["{min_dossiers}"] = str(int(config.min_dossiers))
    return values


def _fill_gap_labels(text: str) -> str:
    """{gap_label:EXPR} in a dataset's SQL: the Vietnamese name of the gap type EXPR, from the report's own
    wording (reporting/content.py GAP_LABELS), so that dashboard and report name a gap alike."""
    from reporting.content import GAP_LABELS

    names = {code: (label[0].upper() + label[1:]).replace("'", "''") for code, label in GAP_LABELS.items()}
    cases = " ".join(f"when '{code}' then '{name}'" for code, name in names.items())
    return re.sub(r"\{gap_label:([\w.]+)\}", lambda m: f"case {m.group(1)} {cases} else {m.group(1)} end", text)


def default_unit(settings: Settings) -> str:
    """The unit the Đơn vị dashboard opens on, as its filter names it: the current department that received the
    most dossiers, so that every province's dashboard opens on a unit of its own with figures; before the
    first build, the first department of units.csv that handles procedures. The bundle changes when this does,
    so the next start imports it again."""
    import psycopg

    from ingestion.reference import read_reference_file
    from reformwh import pipeline

    with contextlib.suppress(psycopg.errors.UndefinedTable):
        busiest = pipeline.summary_rows(settings, """
            select u.unit_name || ' (' || u.unit_code || ')' from marts.dim_unit u
            join marts.reform_quarter r on r.unit_code = u.unit_code
            where u.is_current_version and u.unit_level = 'department'
            group by u.unit_code, u.unit_name order by sum(r.received_total) desc nulls last, u.unit_code limit 1""")
        if busiest:
            return busiest[0][0]
    for unit in read_reference_file(settings.reference_dir, "units"):
        handles_procedures = unit["has_procedures"].strip().lower() in ("true", "t", "yes", "y", "on", "1")
        if unit["unit_level"] == "department" and not unit["valid_to"] and handles_procedures:
            return f"{unit['unit_name']} ({unit['unit_code']})"
    return ""


def build_bundle(warehouse_uri: str, manifest_path: Path, default_unit: str = "") -> bytes:
    """bi/assets as a ZIP for Superset's import: the connection's URI filled in, and every dataset column's
    description (and a table's) from dbt's manifest where the mart documents it, so that they are never
    retyped in the YAML. Datasets over a SQL query (several marts) take the description of the column
    of the same name in the marts named by `extra.dbt_models`."""
    columns = _dbt_columns(manifest_path)
    replacements = _report_settings()
    replacements["{default_unit}"] = json.dumps(default_unit, ensure_ascii=False)[1:-1]  # inside "…" in the YAML
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(ASSETS.rglob("*.yaml")):
            name = path.relative_to(ASSETS).as_posix()
            text = path.read_text(encoding="utf-8")
            for placeholder, value in replacements.items():
                text = text.replace(placeholder, value)
            text = _fill_gap_labels(text)
            config = yaml.safe_load(text)
            if name == DATABASE_FILE:
                config["sqlalchemy_uri"] = warehouse_uri
            elif name.startswith("datasets/"):
                models = [config["table_name"]] if not config.get("sql") else \
                    (config.get("extra") or {}).get("dbt_models", [])
                documented = {}
                for model in reversed(models):
                    documented.update(columns.get(model, {}))
                if not config.get("sql") and documented.get("__table__", {}).get("description"):
                    config["description"] = documented["__table__"]["description"]
                for column in config.get("columns", []):
                    dbt_column = documented.get(column["column_name"])
                    if dbt_column and dbt_column.get("description"):
                        column["description"] = dbt_column["description"]
            # a fixed date: the same assets give the same bytes, so a later start sees "unchanged" and skips the import
            archive.writestr(zipfile.ZipInfo(f"reformwh_bi/{name}", date_time=(1980, 1, 1, 0, 0, 0)),
                             yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    return buffer.getvalue()


def warehouse_uri(settings: Settings) -> str:
    """The warehouse as reformwh_bi, in SQLAlchemy's psycopg2 form (Superset's PostgreSQL driver)."""
    from reformwh import pipeline

    url = pipeline.role_url(settings, "bi", warn=lambda line: print(line, file=sys.stderr))
    return url.replace("postgresql://", "postgresql+psycopg2://", 1)


def superset_env(settings: Settings, port: int, bundle: Path) -> dict[str, str]:
    state = settings.home / "superset"
    return {
        **{k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")},
        "SUPERSET_CONFIG_PATH": str(BI_DIR / "superset_config.py"),
        "SUPERSET_HOME": str(state / "home"),
        "SUPERSET_SECRET_KEY": _secret(state / "secret_key", "SUPERSET_SECRET_KEY"),
        "SUPERSET_ADMIN_PASSWORD": _secret(state / "admin_password", "SUPERSET_ADMIN_PASSWORD"),
        "SUPERSET_DATABASE_URI": _metadata_url(settings),
        "SUPERSET_BUNDLE": str(bundle),
        "SUPERSET_STATE_DIR": str(state),
        "SUPERSET_PORT": str(port),
        "FLASK_APP": "superset.app:create_app()",
    }


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def wait_until_ready(port: int, process: subprocess.Popen, timeout: float = 600) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if _ready(port):
            return True
        time.sleep(1)
    return False


def _manifest() -> Path:
    """dbt's manifest (the column descriptions), parsed again only when a model, macro or the project file is
    newer than it: `dbt parse` would cost most of a later start."""
    from reformwh.dbt import DBT_PROJECT_DIR, MANIFEST_PATH, parse_project

    if MANIFEST_PATH.exists():
        built = MANIFEST_PATH.stat().st_mtime
        sources = [DBT_PROJECT_DIR / "dbt_project.yml", *(DBT_PROJECT_DIR / "models").rglob("*"),
                   *(DBT_PROJECT_DIR / "macros").rglob("*")]
        if all(path.stat().st_mtime <= built for path in sources if path.is_file()):
            return MANIFEST_PATH
    return parse_project()


def write_bundle(settings: Settings, path: Path) -> Path:
    """The bundle alone (docker-compose's superset-init: the Superset container imports it at its start)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(build_bundle(warehouse_uri(settings), _manifest(), default_unit(settings)))
    path.chmod(0o600)  # it holds the BI role's password
    return path


def start(settings: Settings, port: int = DEFAULT_PORT, progress=print) -> tuple[subprocess.Popen, dict]:
    """Install if needed, prepare the bundle and start Superset in a process group of its own; returns the
    process and {url, user, password, log}. Not yet ready: see wait_until_ready."""
    python = ensure_environment(progress)
    state = settings.home / "superset"
    state.mkdir(parents=True, exist_ok=True)
    bundle = write_bundle(settings, state / "reformwh_bi_bundle.zip")
    env = superset_env(settings, port, bundle)
    log_path = state / "superset.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen([str(python), str(BI_DIR / "serve.py")], env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True, cwd=state)
    return process, {"url": f"http://127.0.0.1:{port}", "user": "admin",
                     "password": env["SUPERSET_ADMIN_PASSWORD"], "log": str(log_path)}


def stop(process: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM to the process group (gunicorn stops its worker), SIGKILL after `grace` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    # the worker may outlive the master by a moment
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def run(settings: Settings, port: int = DEFAULT_PORT) -> int:
    started = time.monotonic()
    process, login = start(settings, port, progress=lambda line: print(line, flush=True))
    print(f"Starting Superset (log: {login['log']})…", flush=True)

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if not wait_until_ready(port, process):
            print(f"error: Superset did not answer on port {port}; see {login['log']}", file=sys.stderr)
            return 1
        print(f"\nSuperset is up ({time.monotonic() - started:.0f} s): {login['url']}  "
              f"login: {login['user']} / {login['password']}")
        print("Dashboards: Tổng quan tỉnh, Đơn vị, Xếp hạng, Minh chứng (menu Dashboards); the warehouse is the "
              "database \"reformwh warehouse\", read as reformwh_bi. Ctrl-C stops Superset (the warehouse keeps "
              "running: `reformwh warehouse stop`).", flush=True)
        return process.wait()
    except KeyboardInterrupt:
        print("\nStopping Superset…", flush=True)
        return 0
    finally:
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        stop(process)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        print("Superset stopped", flush=True)

"""The production shape without a Docker engine: docker-compose.yml, the Dockerfile and .env.example agree
with each other, with the code's environment variables, with Airflow's configuration keys and with the
README's install."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from reformwh.settings import PROJECT_ROOT

COMPOSE = PROJECT_ROOT / "docker-compose.yml"
CODE_DIRS = ["reformwh", "ingestion", "expectations", "reporting", "dags"]
# ${VAR} and ${VAR:-default}; `$${VAR}` is compose's escape for the container's own shell
_INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(:?-[^}]*)?\}")
# set by reformwh.dbt for dbt's profile, by the test suite, or for developers: not deployment settings
# Set by the code for its own child processes, or a prefix (REFORMWH_REPORT_<KEY>), not a deployment's setting
_INTERNAL = re.compile(r"REFORMWH_(DBT_[A-Z]+|TEST_DATABASE_URL|DEBUG|GX_WAREHOUSE_URL|REPORT)$")
LONG_RUNNING = ["postgres", "redis", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                "airflow-triggerer", "airflow-worker", "superset"]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def _env_example() -> tuple[set[str], set[str]]:
    """(names set in .env.example, names only mentioned there as commented-out optional settings)."""
    set_names, optional = set(), set()
    for line in (PROJECT_ROOT / ".env.example").read_text().splitlines():
        m = re.match(r"^\s*(#\s*)?([A-Z][A-Z0-9_]*)=", line)
        if m:
            (optional if m.group(1) else set_names).add(m.group(2))
    return set_names, optional - set_names


def _code_env_names() -> set[str]:
    names = set()
    for folder in CODE_DIRS:
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            names |= set(re.findall(r"REFORMWH_[A-Z_]+[A-Z]", path.read_text()))
    return {n for n in names if not _INTERNAL.match(n)}


def test_services_and_healthchecks(compose):
    services = compose["services"]
    assert set(services) == set(LONG_RUNNING) | {"airflow-init", "superset-init"}
    for name in LONG_RUNNING:
        check = services[name].get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), f"{name} needs a healthcheck"
    for name in ("airflow-init", "superset-init"):  # one-shot jobs that the others wait for
        assert services[name]["restart"] == "no"
    waits_for_init = [n for n in LONG_RUNNING if n.startswith("airflow-")]
    for name in waits_for_init:
        assert services[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["superset"]["depends_on"]["superset-init"]["condition"] == "service_completed_successfully"
    # Airflow components run the project image, CeleryExecutor with the Redis broker
    commands = {n: services[n]["command"] for n in waits_for_init}
    assert commands == {"airflow-apiserver": ["airflow", "api-server"], "airflow-scheduler": ["airflow", "scheduler"],
                        "airflow-dag-processor": ["airflow", "dag-processor"],
                        "airflow-triggerer": ["airflow", "triggerer"],
                        "airflow-worker": ["airflow", "celery", "worker"]}
    for name in waits_for_init:
        env = services[name]["environment"]
        assert services[name]["build"] == "." and env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://") and "@redis:6379" in env[
            "AIRFLOW__CELERY__BROKER_URL"]


def test_every_interpolated_variable_is_in_env_example(compose):
    text = COMPOSE.read_text()
    used = {m.group(1): m.group(2) for m in _INTERPOLATION.finditer(text)}
    set_names, optional = _env_example()
    assert used, "docker-compose.yml takes its secrets from the environment"
    for name, default in used.items():
        if default:  # has a default: may stay commented out
            assert name in set_names | optional, f"${{{name}}} is not listed in .env.example"
        else:
            assert name in set_names, f"${{{name}}} has no default: .env.example must set it"
    # no credential written into the compose file itself: every secret setting comes from the environment
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            credential = re.search(r"PASSWORD$|SECRET|_KEY$", key) or re.search(r"://[^/@]*:[^@]*@", str(value))
            assert not credential or "${" in str(value), f"{name}: {key} must come from the environment"


def test_environment_names_agree_with_the_code(compose):
    code_names = _code_env_names()
    set_names, optional = _env_example()
    assert {"REFORMWH_DATABASE_URL", "REFORMWH_PII_HASH_KEY", "REFORMWH_LANDING_DIR",
            "REFORMWH_ALERT_WEBHOOK_URL", "REFORMWH_HOME"} <= code_names
    # every variable the code reads is documented in .env.example
    assert code_names <= set_names | optional, code_names - set_names - optional
    # every REFORMWH_ variable the containers get is one the code reads
    env = compose["services"]["airflow-worker"]["environment"]
    given = {k for k in env if k.startswith("REFORMWH_")}
    assert given <= code_names, given - code_names
    assert {"REFORMWH_DATABASE_URL", "REFORMWH_PII_HASH_KEY", "REFORMWH_LANDING_DIR"} <= given
    # the warehouse URL and the BI connection name the databases and roles docker/postgres-init.sh creates
    init_sql = (PROJECT_ROOT / "docker" / "postgres-init.sh").read_text()
    assert env["REFORMWH_DATABASE_URL"].startswith("postgresql://reformwh:${REFORMWH_DB_PASSWORD}@postgres:5432/")
    for statement in ("create role reformwh login", "create database reformwh", "create role airflow login",
                      "create database airflow", "create role reformwh_bi login", "create database superset"):
        assert statement in init_sql
    # Superset's connection is the bundle `reformwh bi --bundle-only` writes: the warehouse URL as reformwh_bi
    init = compose["services"]["superset-init"]
    assert "reformwh bi --bundle-only /bundle/" in init["command"][-1]
    assert init["environment"]["REFORMWH_BI_PASSWORD"] == "${REFORMWH_BI_PASSWORD}"
    assert init["environment"]["REFORMWH_DATABASE_URL"] == env["REFORMWH_DATABASE_URL"]
    superset = compose["services"]["superset"]
    assert superset["build"]["dockerfile"] == "docker/superset/Dockerfile"
    assert {"superset-bundle:/bundle:ro"} <= set(superset["volumes"])


def test_airflow_settings_are_real_configuration_keys(compose):
    """A misspelt AIRFLOW__SECTION__KEY is silently ignored by Airflow: check each against its config."""
    spec = importlib.util.find_spec("airflow")
    config = yaml.safe_load((Path(spec.origin).parent / "config_templates" / "config.yml").read_text())
    env = compose["services"]["airflow-init"]["environment"]
    keys = [k for k in env if k.startswith("AIRFLOW__")]
    assert keys
    for key in keys:
        _, section, option = key.lower().split("__", 2)
        if section == "celery":  # the Celery provider's own section
            continue
        assert option in config.get(section, {}).get("options", {}), f"{key}: no such Airflow setting"


def test_image_installs_like_the_readme():
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    runs = re.findall(r"^RUN (.+)$", dockerfile, flags=re.M)
    install = [r for r in runs if "dev.py" in r]
    assert install == ["python3 dev.py install --group production --no-dev"]
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert "python3 dev.py install" in readme
    # the production group exists and is locked, so `--frozen` installs Celery from the lock file
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    assert any(d.startswith("apache-airflow-providers-celery") for d in pyproject["dependency-groups"]["production"])
    assert 'name = "apache-airflow-providers-celery"' in (PROJECT_ROOT / "uv.lock").read_text()
    # the DAGs and the manifest are where the image's Airflow looks
    assert "AIRFLOW__CORE__DAGS_FOLDER=/opt/reformwh/dags" in dockerfile
    assert "dbt_project/target/" in (PROJECT_ROOT / ".dockerignore").read_text()
    # the report's PDF: LibreOffice, and fonts with every Vietnamese letter (README, "The periodic report")
    assert "libreoffice-writer-nogui" in dockerfile and "fonts-liberation2" in dockerfile

"""Tests run against a real PostgreSQL: the embedded server, started once per test session in a
temporary REFORMWH_HOME, with a fresh database per test that asks for one."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
import warnings
from pathlib import Path

import psycopg
import pytest

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

from reformwh.settings import DEFAULT_HEADER_ALIASES, DEFAULT_REFERENCE_DIR, Settings  # noqa: E402
from reformwh.warehouse import EmbeddedWarehouse  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"
os.environ.setdefault("REFORMWH_PII_HASH_KEY", "test-key-not-a-secret")


def pytest_xdist_auto_num_workers(config):
    """One worker more than the cores (at most 6): a worker's test often waits (for its PostgreSQL, for Superset
    or a subprocess to start), and the extra one fills that time. Measured on 7 December 2026 on 2 cores, the
    whole suite: 1,362 s in one process, 875 s on 2 workers, 702 s on 3."""
    return min(6, (os.cpu_count() or 1) + 1)


# The files that take minutes (several warehouses built, Superset started, the demo run), longest first (measured
# in one process with --durations=0 on 7 December 2026: 203, 155, 144, 110, 105, 104, 85, 54 s). The workers take
# files in this order (pyproject: --dist=loadfile --no-loadscope-reorder), so the long ones start first and the
# workers finish together.
LONGEST_FIRST = ["test_incremental.py", "test_raw_partitions.py", "test_bi.py", "test_report.py",
                 "test_publication.py", "test_freshness.py", "test_demo.py", "test_bench_scale.py"]


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the other files keep their order


@pytest.fixture(scope="session")
def server_url(tmp_path_factory):
    """Admin URL of the test server (REFORMWH_TEST_DATABASE_URL, else an embedded one)."""
    if os.environ.get("REFORMWH_TEST_DATABASE_URL"):
        yield os.environ["REFORMWH_TEST_DATABASE_URL"]
        return
    # Not under pytest's basetemp: any pytest session starting on the machine resets /tmp/pytest-of-<user>
    # to 0700, which would lock the server's own user out of its data folder (pg_ctl stop fails).
    home = Path(tempfile.mkdtemp(prefix="reformwh-test-"))
    warehouse = EmbeddedWarehouse(Settings(home, None, DEFAULT_REFERENCE_DIR, DEFAULT_HEADER_ALIASES))
    url = warehouse.start()
    yield url
    if "airflow.settings" in sys.modules:  # Airflow's metadata connections (DAG tests) close before the server
        sys.modules["airflow.settings"].dispose_orm()
    warehouse.stop()
    shutil.rmtree(home, ignore_errors=True)


def _database_url(server_url: str, name: str) -> str:
    base, _, _ = server_url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture
def make_settings(server_url, tmp_path):
    """Settings on a fresh, empty database; optionally another reference folder."""

    def make(reference_dir: Path = DEFAULT_REFERENCE_DIR) -> Settings:
        return fresh_database(server_url, tmp_path / "home", reference_dir)

    return make


def fresh_database(server_url: str, home: Path, reference_dir: Path = DEFAULT_REFERENCE_DIR) -> Settings:
    """Settings on a new, empty database of the test server (module-scoped fixtures call it directly)."""
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return Settings(home, _database_url(server_url, name), reference_dir, DEFAULT_HEADER_ALIASES)


@pytest.fixture
def settings(make_settings):
    return make_settings()


@pytest.fixture
def sample_reference():
    return SAMPLES / "reference"


def query(settings: Settings, sql: str, params=None) -> list[tuple]:
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


def execute(settings: Settings, sql: str, params=None) -> None:
    """A statement that returns no rows."""
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(sql, params)


@pytest.fixture(scope="module")
def sample_built(server_url, tmp_path_factory):
    """A database of its own (per test module) with /work/shared/samples' one-stop-shop exports ingested
    against the samples' reference data, and built."""
    from reformwh import pipeline

    settings = fresh_database(server_url, tmp_path_factory.mktemp("home"), SAMPLES / "reference")
    results = pipeline.ingest(settings, "one_stop_shop", [SAMPLES / "one_stop_shop"])
    assert [r.status for r in results] == ["loaded", "loaded"]
    assert pipeline.build(settings, progress=lambda _: None, quiet=True)
    return settings

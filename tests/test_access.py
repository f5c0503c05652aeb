"""Roles and access (spec/warehouse.md): proven by logging in as each role after a build and trying."""

from __future__ import annotations

import threading
from urllib.parse import quote, urlparse, urlunparse

import psycopg
import pytest

from reformwh import cli, pipeline
from reformwh.roles import BI, LOADER, STAFF, TRANSFORMER
from tests.conftest import SAMPLES, execute, query

FORBIDDEN_FOR_READERS = ["raw.one_stop_shop__dossiers", "quarantine.rows", "audit.file_loads",
                         "audit.quality_results", "reference.units", "staging.stg_one_stop_shop__dossiers",
                         "intermediate.int_dossiers_deduplicated"]
PERSONAL = ("applicant", "phone", "email", "id_number", "address")


def login_url(settings, role: str, password: str) -> str:
    url = urlparse(settings.database_url)
    netloc = f"{quote(role)}:{quote(password)}@{url.hostname}:{url.port}"
    return urlunparse(url._replace(netloc=netloc))


def denied(conn: psycopg.Connection, statement: str) -> bool:
    try:
        conn.execute(statement).fetchall() if statement.lstrip().startswith("select") else conn.execute(statement)
    except psycopg.errors.InsufficientPrivilege:
        return True
    return False


@pytest.fixture(scope="module")
def built(sample_built):
    return sample_built


def test_bi_reads_marts_only_after_a_build_with_its_password(built, monkeypatch):
    monkeypatch.setenv("REFORMWH_BI_PASSWORD", "bi-pw-for-tests")
    lines: list[str] = []
    # a second build: dbt recreates every mart, the grants must follow
    assert pipeline.build(built, progress=lines.append, quiet=True)
    assert any("login enabled for reformwh_bi" in line for line in lines)
    quarter_rows = query(built, "select count(*) from marts.reform_quarter")[0][0]
    assert quarter_rows > 0

    with psycopg.connect(login_url(built, BI, "bi-pw-for-tests"), autocommit=True) as bi:
        assert bi.execute("select current_user").fetchone()[0] == BI
        assert bi.execute("select count(*) from marts.reform_quarter").fetchone()[0] == quarter_rows
        assert bi.execute("select count(*) from marts.fct_dossier").fetchone()[0] == 5
        for table in FORBIDDEN_FOR_READERS:
            assert denied(bi, f"select * from {table} limit 1"), table
        for statement in ["insert into marts.dim_period (period_key) values ('x')",
                          "update marts.reform_quarter set on_time_rate = 0",
                          "delete from marts.fct_dossier",
                          "truncate marts.dim_unit",
                          "create table marts.mine (x int)",
                          "create table public.mine (x int)",
                          "create temporary table mine (x int)",
                          "create schema mine",
                          "insert into audit.quality_runs (run_id) values (1)"]:
            assert denied(bi, statement), statement
        # everything it can see is in marts, and none of it is personal data
        schemas = {s for (s,) in bi.execute(
            "select distinct table_schema from information_schema.tables "
            "where table_schema not in ('pg_catalog', 'information_schema')").fetchall()}
        assert schemas == {"marts"}
        columns = [c for (c,) in bi.execute(
            "select column_name from information_schema.columns where table_schema = 'marts'").fetchall()]
        assert len(columns) > 100
        assert [c for c in columns if any(p in c for p in PERSONAL)] == []
        # the models' descriptions are in the catalog (persist_docs), readable by the BI role as psql's \d+ shows them
        described = dict(bi.execute(
            "select a.attname, d.description from pg_attribute a join pg_description d "
            "on d.objoid = a.attrelid and d.classoid = 'pg_class'::regclass and d.objsubid = a.attnum "
            "where a.attrelid = 'marts.reform_quarter'::regclass").fetchall())
        assert described["late_total"] == ("resolved_late + in_progress_overdue. NULL for a unit without procedures "
                                         "or a period before the first loaded dossier.")
        assert bi.execute("select obj_description('marts.evidence_gaps'::regclass, 'pg_class')").fetchone()[0]
        undescribed = bi.execute(
            "select c.relname || '.' || a.attname from pg_attribute a join pg_class c on c.oid = a.attrelid "
            "join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'marts' and c.relkind = 'r' "
            "and a.attnum > 0 and not a.attisdropped and col_description(c.oid, a.attnum) is null").fetchall()
        assert undescribed == []
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(login_url(built, BI, "wrong password")).close()
    # `reformwh warehouse url --role bi` on a server of REFORMWH_DATABASE_URL: the role and its password
    with psycopg.connect(pipeline.role_url(built, "bi"), autocommit=True) as bi:
        assert bi.execute("select current_user").fetchone()[0] == BI


def test_staff_loader_and_transformer(built):
    execute(built, "create schema if not exists reports")
    execute(built, "create table if not exists reports.report_runs_test as select 1 as run")
    passwords = {STAFF: "staff-pw", LOADER: "loader-pw", TRANSFORMER: "transformer-pw"}
    assert pipeline.grant_roles(built, passwords) == sorted(passwords)

    with psycopg.connect(login_url(built, STAFF, "staff-pw"), autocommit=True) as staff:
        assert staff.execute("select run from reports.report_runs_test").fetchall() == [(1,)]
        assert staff.execute("select count(*) from marts.dim_unit").fetchone()[0] == 6
        assert denied(staff, "select * from raw.one_stop_shop__dossiers")
        assert denied(staff, "delete from reports.report_runs_test")
    with psycopg.connect(login_url(built, LOADER, "loader-pw"), autocommit=True) as loader:
        assert loader.execute("select count(*) from raw.one_stop_shop__dossiers").fetchone()[0] == 5
        loader.execute("update audit.file_loads set message = message")
        assert loader.execute("select nextval('audit.load_id_seq')").fetchone()[0] > 0
        assert denied(loader, "select * from marts.fct_dossier")
        assert denied(loader, "select * from staging.stg_one_stop_shop__dossiers")
    with psycopg.connect(login_url(built, TRANSFORMER, "transformer-pw"), autocommit=True) as transformer:
        assert transformer.execute("select count(*) from raw.one_stop_shop__dossiers").fetchone()[0] == 5
        transformer.execute("create table marts.transformer_made (x int)")
        transformer.execute("drop table marts.transformer_made")
        # dbt reads quarantined self-report scores and the rejected submissions, writes neither
        transformer.execute("select count(*) from quarantine.rows, audit.file_loads")
        assert denied(transformer, "update quarantine.rows set reasons = reasons")
        assert denied(transformer, "delete from audit.file_loads")
        assert denied(transformer, "insert into raw.one_stop_shop__dossiers (load_id) values (1)")


def test_roles_command(built, monkeypatch, capsys):
    monkeypatch.setenv("REFORMWH_DATABASE_URL", built.database_url)
    monkeypatch.setenv("REFORMWH_HOME", str(built.home))
    monkeypatch.setenv("REFORMWH_STAFF_PASSWORD", "staff-pw-2")
    monkeypatch.delenv("REFORMWH_BI_PASSWORD", raising=False)
    capsys.readouterr()
    assert cli.main(["roles"]) == 0
    out = capsys.readouterr().out
    assert "reformwh_bi: reads marts; writes nothing" in out
    assert "login enabled for: reformwh_staff" in out
    with psycopg.connect(login_url(built, STAFF, "staff-pw-2"), autocommit=True) as staff:
        assert staff.execute("select count(*) from marts.dim_period").fetchone()[0] > 0


def test_grants_are_idempotent_and_safe_for_databases_building_at_once(make_settings):
    databases = [make_settings(), make_settings()]
    errors: list[BaseException] = []

    def grant(settings):
        try:
            for _ in range(2):
                pipeline.grant_roles(settings, {BI: "bi-pw-for-tests"})
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=grant, args=(s,)) for s in databases]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for settings in databases:
        assert query(settings, "select has_schema_privilege(%s, 'marts', 'usage'), "
                               "has_schema_privilege(%s, 'raw', 'usage'), "
                               "has_database_privilege(%s, current_database(), 'temporary')",
                     [BI, BI, BI]) == [(True, False, False)]


def test_readers_cannot_hang_builds_nor_reach_other_databases(built, monkeypatch):
    """Issue 16 item 14: BI and staff cannot take the advisory locks the pipeline uses (a BI session holding
    pg_advisory_lock(hashtext('reformwh.roles')) hung every build), cannot connect to `postgres`, and a password a
    role changed for itself is set back by the next build's grants. A lock held by another role anyway (a server
    where PUBLIC kept the functions) ends the build at once with a message naming the session."""
    monkeypatch.setenv("REFORMWH_BI_PASSWORD", "bi-pw-for-tests")
    passwords = {STAFF: "staff-pw", LOADER: "loader-pw"}
    pipeline.grant_roles(built, passwords)
    pipeline.finish_transform(built, progress=lambda _: None)
    for role, password in [(BI, "bi-pw-for-tests"), (STAFF, "staff-pw")]:
        with psycopg.connect(login_url(built, role, password), autocommit=True) as reader:
            for statement in ["select pg_advisory_lock(hashtext('reformwh.roles'))",
                              "select pg_try_advisory_lock_shared(hashtext('reformwh.loads_and_builds'))",
                              "select pg_advisory_xact_lock(hashtext('reformwh.ingestion.schema'))",
                              "select pg_advisory_lock(1, 2)"]:
                assert denied(reader, statement), (role, statement)
        maintenance = urlunparse(urlparse(login_url(built, role, password))._replace(path="/postgres"))
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            psycopg.connect(maintenance).close()
    # the pipeline's own roles keep the locks
    with psycopg.connect(login_url(built, LOADER, "loader-pw"), autocommit=True) as loader:
        lock = "select pg_try_advisory_lock(hashtext('reformwh.loads_and_builds'))"
        assert loader.execute(lock).fetchone() == (True,)
    # PostgreSQL lets a login role change its own password; the next build sets the known one again
    with psycopg.connect(login_url(built, BI, "bi-pw-for-tests"), autocommit=True) as bi:
        bi.execute("alter role current_user password 'taken-over'")
    pipeline.finish_transform(built, progress=lambda _: None)
    with psycopg.connect(login_url(built, BI, "bi-pw-for-tests"), autocommit=True) as bi:
        assert bi.execute("select current_user").fetchone()[0] == BI
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(login_url(built, BI, "taken-over")).close()

    # where the functions could not be revoked: a reader holding the lock is named, not waited for
    execute(built, "grant execute on function pg_advisory_lock(bigint) to reformwh_bi")
    try:
        with psycopg.connect(login_url(built, BI, "bi-pw-for-tests"), autocommit=True) as bi:
            bi.execute("select pg_advisory_lock(hashtext('reformwh.loads_and_builds'))")
            with pytest.raises(pipeline.LockHeldByOutsider, match=r"held by session \d+ of reformwh_bi .*"
                                                                  r"pg_terminate_backend"):
                pipeline.build(built, progress=lambda _: None, quiet=True)
        # the same for the lock of the grants, which every build takes
        with psycopg.connect(login_url(built, BI, "bi-pw-for-tests"), autocommit=True) as bi:
            bi.execute("select pg_advisory_lock(hashtext('reformwh.roles'))")
            with pytest.raises(pipeline.LockHeldByOutsider, match=r"grants: .* held by session \d+ of reformwh_bi"):
                pipeline.grant_roles(built, {})
    finally:
        execute(built, "revoke execute on function pg_advisory_lock(bigint) from reformwh_bi")


def test_a_superusers_pipeline_works_as_loader_and_transformer(built, tmp_path):
    """Issue 16 item 15: on a superuser's URL (the embedded warehouse; these tests' server) loading runs as
    reformwh_loader and dbt as reformwh_transformer, so what those roles may not do, the pipeline cannot do."""
    # dbt made (or was handed) every table and view it builds
    owners = query(built, "select distinct pg_get_userbyid(c.relowner) from pg_class c join pg_namespace n "
                          "on n.oid = c.relnamespace where n.nspname in ('staging', 'intermediate', 'marts') "
                          "and c.relkind in ('r', 'v')")
    assert owners == [(TRANSFORMER,)]
    # a table dbt replaces during a build is readable by BI at once, not only after the build's grants
    pipeline.grant_roles(built, {BI: "bi-pw"})
    execute(built, "set role reformwh_transformer; create table marts.replaced_during_a_build as select 1 as x")
    try:
        with psycopg.connect(login_url(built, BI, "bi-pw"), autocommit=True) as bi:
            assert bi.execute("select x from marts.replaced_during_a_build").fetchall() == [(1,)]
    finally:
        execute(built, "drop table marts.replaced_during_a_build")
    # a loader without the build's lock cannot load; a superuser could have
    sample = SAMPLES / "one_stop_shop" / "ho_so_20250616.csv"
    path = tmp_path / sample.name
    path.write_bytes(sample.read_bytes() + b"\n")  # other content (a blank line more), the same rows
    execute(built, "revoke execute on function pg_advisory_lock_shared(bigint) from reformwh_loader")
    execute(built, "revoke execute on function pg_try_advisory_lock_shared(bigint) from reformwh_loader")
    try:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            pipeline.ingest(built, "one_stop_shop", [path])
    finally:
        pipeline.grant_roles(built, {})
    assert [r.status for r in pipeline.ingest(built, "one_stop_shop", [path])] == ["loaded"]

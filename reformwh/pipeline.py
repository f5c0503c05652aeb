"""The pipeline's steps as functions: the CLI and the Airflow DAGs call these, nothing else."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import psycopg

from ingestion.loader import LoadResult, expand_paths, loader_for
from ingestion.reference import load_reference
from ingestion.schema import ensure_schema
from reformwh.roles import LockHeldByOutsider, lock_holders
from reformwh.settings import Settings


def connect(settings: Settings) -> psycopg.Connection:
    return psycopg.connect(settings.database_url, autocommit=True)


# Loads and builds exclude each other (loads may run side by side): an incremental build records the newest
# load id it has processed, so no load may commit while it runs (dbt_project/macros/incremental.sql).
_LOADS_AND_BUILDS_LOCK = "hashtext('reformwh.loads_and_builds')"
# dbt builds the marts into MARTS_BUILD; publish_marts moves them into MARTS, which readers read
MARTS, MARTS_BUILD = "marts", "marts_build"


@contextmanager
def loads_and_builds_lock(conn: psycopg.Connection, exclusive: bool, what: str,
                          progress: Callable[[str], None] | None = None) -> Iterator[None]:
    """Take the lock; while waiting, say who holds it. A session of another role (a BI tool, say, on a server
    where PUBLIC could not be denied the advisory-lock functions: reformwh/roles.py) is not waited for: the
    error names it and how to end it."""
    kind = "" if exclusive else "_shared"
    told = False
    while not conn.execute(f"select pg_try_advisory_lock{kind}({_LOADS_AND_BUILDS_LOCK})").fetchone()[0]:
        holders = lock_holders(conn, _LOADS_AND_BUILDS_LOCK)
        outsiders = [h for h in holders if not h[3]]
        if outsiders:
            pid, user, application, _ = outsiders[0]
            raise LockHeldByOutsider(
                f"{what}: the lock of loads and builds is held by session {pid} of {user} "
                f"({application or 'no application name'}), which is not a pipeline role; end it "
                f"(select pg_terminate_backend({pid})) and run again")
        if progress and not told:
            who = ", ".join(f"{user} (session {pid})" for pid, user, _, _ in holders) or "another session"
            progress(f"{what}: waiting for the {'loads or build' if exclusive else 'build'} in progress "
                     f"({who}) to finish…")
            told = True
        # wait in the queue (first come, first served) a while, then look at the holders again
        try:
            conn.execute("set lock_timeout = '5s'")
            conn.execute(f"select pg_advisory_lock{kind}({_LOADS_AND_BUILDS_LOCK})")
            break
        except psycopg.errors.LockNotAvailable:
            continue
        finally:
            conn.execute("reset lock_timeout")
    try:
        yield
    finally:
        if not conn.closed:
            conn.execute(f"select pg_advisory_unlock{kind}({_LOADS_AND_BUILDS_LOCK})")


@contextmanager
def reading_marts(settings: Settings, what: str, progress: Callable[[str], None] | None = None) -> Iterator[None]:
    """Readers of the marts (the quality suites, a report) hold the lock shared, as loads do: a build waits
    until they finish and they wait for a build in progress, so they never see half-rebuilt marts."""
    with connect(settings) as conn, loads_and_builds_lock(conn, exclusive=False, what=what, progress=progress):
        yield


def _is_superuser(conn: psycopg.Connection) -> bool:
    return conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()[0]


def _work_as_loader(conn: psycopg.Connection) -> None:
    """On a superuser's connection (the embedded warehouse), prepare the schema and the loader's grants where
    missing, then load as reformwh_loader (issue 16 item 15): what it may not do, loading cannot do either."""
    from reformwh.roles import LOADER, create_roles, grant_access, work_as

    if not _is_superuser(conn):
        return
    ensure_schema(conn)
    ready = conn.execute(
        "select to_regrole(%(r)s) is not null and not exists (select from pg_tables "
        "where schemaname in ('raw', 'audit', 'quarantine', 'reference') "
        "and not has_table_privilege(%(r)s, format('%%I.%%I', schemaname, tablename), 'insert')) "
        "and has_sequence_privilege(%(r)s, 'audit.load_id_seq', 'usage')", {"r": LOADER}).fetchone()[0]
    if not ready:
        create_roles(conn)
        grant_access(conn)
    work_as(conn, LOADER)


def ingest(settings: Settings, source: str, paths: list[Path],
           progress: Callable[[str], None] | None = None) -> list[LoadResult]:
    with connect(settings) as conn:
        _work_as_loader(conn)
        return _ingest(conn, settings, source, paths, progress)


def _ingest(conn: psycopg.Connection, settings: Settings, source: str, paths: list[Path],
            progress: Callable[[str], None] | None) -> list[LoadResult]:
    with loads_and_builds_lock(conn, exclusive=False, what="ingest", progress=progress):
        loader = loader_for(conn, source, settings.reference_dir, settings.header_aliases_file, settings.pii_hash_key)
        results = []
        files = expand_paths(paths, source)
        for number, path in enumerate(files, 1):
            result = loader.load(path)
            results.append(result)
            if progress:
                progress(f"[{number}/{len(files)}] {result.summary()}")
        return results


def reprocess_quarantine(settings: Settings, source: str | None = None) -> tuple[int, int]:
    """Re-validate open quarantine rows of one source, or of every source, against the current reference data
    (see Loader.reprocess_quarantine: only rows not yet validated against this reference data and loader code).
    Returns (rows now loaded, rows still quarantined)."""
    from ingestion.contracts import CONTRACTS

    fixed = still = 0
    with connect(settings) as conn:
        _work_as_loader(conn)
        for name in [source] if source else list(CONTRACTS):
            loader = loader_for(conn, name, settings.reference_dir, settings.header_aliases_file, settings.pii_hash_key)
            source_fixed, source_still = loader.reprocess_quarantine()
            fixed, still = fixed + source_fixed, still + source_still
    return fixed, still


def build(settings: Settings, select: str | None = None, progress: Callable[[str], None] = print,
          quiet: bool = False, full_refresh: bool = False, node_results: list | None = None) -> bool:
    """Load reference data, re-process quarantine against it, dbt build (models and tests) into schema
    marts_build, publish the marts (publish_marts: into marts, all in one transaction) when every model and
    test passed, then grants. A failed build publishes nothing: readers keep the previous marts.
    The large models build incrementally, over the loads that arrived since the last build; `full_refresh`
    rebuilds every table from scratch (the figures are the same either way). The CLI and the transformation
    DAG both run this; `node_results` receives dbt's per-node results (reformwh.dbt.run_dbt)."""
    from reformwh.dbt import run_dbt
    from reformwh.raw_partitions import refuse_build_over_everything

    with connect(settings) as lock_conn, loads_and_builds_lock(lock_conn, exclusive=True, what="build",
                                                                progress=progress):
        with connect(settings) as conn:
            ensure_schema(conn)  # the audit tables the models read (fct_dossier: audit.mart_publications)
            code_changed = recorded_transform_code(conn) != transform_code_fingerprint()
            if full_refresh:  # not with months of raw archived (reformwh/raw_partitions.py; new code: below)
                refuse_build_over_everything(conn, "reformwh build --full-refresh")
            # what a killed or failed build left there is not this build's: it must not be published
            conn.execute(f"drop schema if exists {MARTS_BUILD} cascade")
        prepare_transform(settings, progress)
        _prepare_transformer(settings)
        progress("dbt build (models and tests)" + (", every table from scratch" if full_refresh else "") + "…")
        args = ["build"] + (["--select", select] if select else []) + (["--full-refresh"] if full_refresh else [])
        # dbt's unit tests check the SQL, not the data: they run when the code is new to this warehouse
        if not (code_changed or full_refresh):
            args += ["--exclude-resource-type", "unit_test"]
        ok = run_dbt(settings, args, quiet=quiet, node_results=node_results)
        if ok:
            publish_marts(settings, progress)
        else:
            progress(f"marts not published: a model or test failed; readers keep {_published_marts(settings)}")
    finish_transform(settings, progress)
    return ok


def _published_marts(settings: Settings) -> str:
    with connect(settings) as conn:
        if conn.execute("select to_regclass('audit.mart_publications')").fetchone()[0] is None:
            return "no marts (none published yet)"
        row = conn.execute("select publication_id, published_at from audit.mart_publications "
                           "order by publication_id desc limit 1").fetchone()
    return f"publication {row[0]} of {row[1]:%Y-%m-%d %H:%M:%S %Z}" if row else "no marts (none published yet)"


def publish_marts(settings: Settings, progress: Callable[[str], None] = print) -> int | None:
    """Move every table dbt built in marts_build into marts, in place of the published one, in ONE transaction,
    and record the publication in audit.mart_publications. A reader (BI, a report, a check) sees the marts of
    one build or of the next, never some of each: it holds its tables' locks until its transaction ends, and
    the swap needs them all before it commits. Returns the publication's id (None: nothing to publish)."""
    import time

    started = time.monotonic()
    with connect(settings) as conn:
        ensure_schema(conn)
        for attempt in range(1, 6):
            try:
                with conn.transaction():
                    published = _swap_marts(conn)
                break
            except psycopg.errors.DeadlockDetected:
                # a reader that holds one mart and waits for another: it or the swap gives way; try again
                if attempt == 5:
                    raise
                time.sleep(0.5 * attempt)
    if published is None:
        progress(f"marts: nothing to publish ({MARTS_BUILD} is empty)")
        return None
    publication, names, new_loads = published
    progress(f"marts published: {len(names)} table(s) moved from {MARTS_BUILD} into {MARTS} in one transaction "
             f"(publication {publication}, {new_loads} load(s) new since the previous one; "
             f"{time.monotonic() - started:.1f}s)")
    return publication


def _swap_marts(conn: psycopg.Connection) -> tuple[int, list[str], int] | None:
    from psycopg import sql

    from reformwh.roles import BI, STAFF

    built = conn.execute(
        "select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = %s and c.relkind in ('r', 'p', 'v', 'm') order by c.relname", [MARTS_BUILD]).fetchall()
    if not built:
        return None
    kinds = {"r": "table", "p": "table", "v": "view", "m": "materialized view"}
    published = dict(conn.execute(
        "select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = %s and c.relname = any(%s) and c.relkind in ('r', 'p', 'v', 'm')",
        [MARTS, [name for name, _ in built]]).fetchall())
    conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(MARTS)))
    fct_dossier_batch = None
    for name, kind in built:
        if name == "fct_dossier":
            fct_dossier_batch = conn.execute("select batch from intermediate.incremental_state "
                                             "where model = 'int_dossiers_classified'").fetchone()[0]
            if published.get(name) == "r" and _patch_fct_dossier(conn):
                continue
        if name in published:
            # cascade: a view of an older release over a replaced mart is replaced too (so it may be gone here)
            conn.execute(sql.SQL("drop {} if exists {}.{} cascade").format(
                sql.SQL(kinds[published[name]]), sql.Identifier(MARTS), sql.Identifier(name)))
        conn.execute(sql.SQL("alter {} {}.{} set schema {}").format(
            sql.SQL(kinds[kind]), sql.Identifier(MARTS_BUILD), sql.Identifier(name), sql.Identifier(MARTS)))
    # a table keeps its grants when it moves; the readers get theirs here, before anyone can see it
    conn.execute(sql.SQL("grant select on all tables in schema {} to {}, {}").format(
        sql.Identifier(MARTS), sql.Identifier(BI), sql.Identifier(STAFF)))
    publication, new_loads = conn.execute(
        "insert into audit.mart_publications (publication_id, marts, newest_load_id, load_count, new_load_ids, "
        "fct_dossier_batch) "
        "select nextval('audit.mart_publication_id_seq'), %s, max(l.load_id), count(*), "
        "coalesce(array_agg(l.load_id order by l.load_id) filter (where not exists ("
        "select from audit.mart_publications p where l.load_id = any(p.new_load_ids))), '{}'), %s "
        "from audit.file_loads l where l.status in ('loaded', 'reprocessed') "
        "returning publication_id, cardinality(new_load_ids)",
        [[name for name, _ in built], fct_dossier_batch]).fetchone()
    return publication, [name for name, _ in built], new_loads


def _patch_fct_dossier(conn: psycopg.Connection) -> bool:
    """marts_build.fct_dossier holds the dossiers int_dossiers_classified wrote since the published fct_dossier
    (dbt_project/models/marts/one_stop_shop/fct_dossier.sql): apply them to marts.fct_dossier, in the
    publication's transaction, and return True. When they are every dossier (a first build, a rebuild over
    everything), return False: the table is then replaced like any other mart, which also drops a dossier
    that is no longer there."""
    changed, total = conn.execute(
        f"select (select count(*) from {MARTS_BUILD}.fct_dossier), "
        "(select count(*) from intermediate.int_dossiers_classified)").fetchone()
    if changed == total:
        return False
    columns = ", ".join(c for (c,) in conn.execute(
        "select quote_ident(column_name) from information_schema.columns where table_schema = %s "
        "and table_name = 'fct_dossier' order by ordinal_position", [MARTS_BUILD]).fetchall())
    conn.execute(f"delete from {MARTS}.fct_dossier as t using {MARTS_BUILD}.fct_dossier as d "
                 "where t.dossier_code = d.dossier_code")
    conn.execute(f"insert into {MARTS}.fct_dossier ({columns}) select {columns} from {MARTS_BUILD}.fct_dossier")
    conn.execute(f"drop table {MARTS_BUILD}.fct_dossier")
    return True


def current_publication(settings: Settings) -> tuple[int | None, bool]:
    """The publication of the marts readers see now, and whether a `reformwh check` of it passed."""
    with connect(settings) as conn:
        if conn.execute("select to_regclass('audit.mart_publications')").fetchone()[0] is None:
            return None, False
        return conn.execute(
            "select p.publication_id, exists (select from audit.quality_runs q "
            "where q.publication_id = p.publication_id and q.success) "
            "from audit.mart_publications p order by p.publication_id desc limit 1").fetchone() or (None, False)


def _prepare_transformer(settings: Settings) -> None:
    """On a superuser's URL (the embedded warehouse), dbt works as reformwh_transformer (issue 16 item 15;
    reformwh/dbt.py dbt_role): its grants first (raw, reference, quarantine and audit to read), and what dbt
    replaces handed over to it. A server's build user works as itself."""
    from reformwh.roles import create_roles, grant_access, hand_over_to_transformer

    with connect(settings) as conn:
        if not _is_superuser(conn):
            return
        create_roles(conn)
        grant_access(conn)
        hand_over_to_transformer(conn)


def finish_transform(settings: Settings, progress: Callable[[str], None] = print) -> None:
    """After dbt (by `build` or the transformation DAG): its tables are new on every build and need their
    grants again."""
    try:
        logins = grant_roles(settings)
    except psycopg.errors.InsufficientPrivilege as exc:  # a build user without CREATEROLE / ownership
        progress(f"warning: roles and grants not set ({str(exc).strip()}); an administrator can run `reformwh roles`")
        return
    progress("roles granted (reformwh_bi, reformwh_staff, reformwh_loader, reformwh_transformer)"
             + (f"; login enabled for {', '.join(logins)}" if logins else ""))


def grant_roles(settings: Settings, passwords: dict[str, str] | None = None) -> list[str]:
    """Create the project's group roles and grant this database's access (reformwh/roles.py); roles with a
    password (REFORMWH_BI_PASSWORD, REFORMWH_STAFF_PASSWORD) can log in. Returns those roles."""
    from reformwh.roles import PASSWORD_VARIABLES, ensure_roles

    if passwords is None and settings.uses_embedded:
        # the passwords `warehouse url --role` handed out, set again: a role may have changed its own
        from reformwh.warehouse import EmbeddedWarehouse

        passwords = EmbeddedWarehouse(settings).known_role_passwords()
        passwords |= {role: os.environ[var] for role, var in PASSWORD_VARIABLES.items() if os.environ.get(var)}
    with connect(settings) as conn:
        ensure_schema(conn)
        return ensure_roles(conn, passwords)


def role_url(settings: Settings, role: str, warn: Callable[[str], None] = print) -> str:
    """A connection URL for `role` ("bi" or "staff": the group roles reformwh_bi / reformwh_staff), for psql or a
    BI tool. The password is REFORMWH_BI_PASSWORD / REFORMWH_STAFF_PASSWORD; on the embedded warehouse, without
    one, a password kept in its state file. The role is given that login here, as `reformwh roles` would."""
    from urllib.parse import quote, urlparse, urlunparse

    from reformwh.roles import BI, PASSWORD_VARIABLES, STAFF

    name = {"bi": BI, "staff": STAFF}[role]
    variable = PASSWORD_VARIABLES[name]
    password = os.environ.get(variable)
    if settings.uses_embedded:
        from reformwh.warehouse import EmbeddedWarehouse

        warehouse = EmbeddedWarehouse(settings)
        url = urlparse(warehouse.url())  # like the admin's URL: an error when the server is not running
        password = password or warehouse.role_password(name)
    else:
        url = urlparse(settings.database_url)
    host = f"[{url.hostname}]" if url.hostname and ":" in url.hostname else url.hostname or ""
    address = host + (f":{url.port}" if url.port else "")
    if not password:  # a shared server: its administrator enables logins (`reformwh roles` with the variable)
        warn(f"{variable} is not set: {name} cannot log in until it is set and `reformwh roles` is run; "
             "the URL has no password")
        return urlunparse(url._replace(netloc=f"{quote(name)}@{address}"))
    try:
        grant_roles(settings, {name: password})
    except psycopg.errors.InsufficientPrivilege as exc:
        warn(f"warning: login not set for {name} ({str(exc).strip()}); an administrator can run `reformwh roles`")
    return urlunparse(url._replace(netloc=f"{quote(name)}:{quote(password, safe='')}@{address}"))


def prepare_transform(settings: Settings, progress: Callable[[str], None] = print) -> dict[str, int]:
    """What `build` does before dbt, (and so of the transformation DAG's build): load the
    reference data and re-process quarantine against it. Returns the reference row counts. Refused (ArchivedRaw)
    when the dbt code changed while months of raw are archived: its first build would rebuild the incremental
    models over what is left in raw (reformwh/raw_partitions.py)."""
    from reformwh.raw_partitions import analyze_loaded_partitions, refuse_build_over_everything

    with connect(settings) as conn:
        ensure_schema(conn)
        if recorded_transform_code(conn) != transform_code_fingerprint():
            refuse_build_over_everything(conn, "the first build of changed dbt code (a build over everything)")
        analyze_loaded_partitions(conn)  # the partitions a large load just wrote, before dbt reads them
        counts = load_reference(conn, settings.reference_dir)
        record_transform_code(conn)
    progress("reference data loaded from " + str(settings.reference_dir) + ": "
             + ", ".join(f"{k} {v}" for k, v in counts.items()))
    fixed, still = reprocess_quarantine(settings)
    progress(f"quarantine re-processed: {fixed} row(s) now loaded, {still} still quarantined")
    return counts


def transform_code_fingerprint() -> str:
    """A hash of the dbt project's code (models, macros, dbt_project.yml)."""
    import hashlib

    from reformwh.settings import DBT_PROJECT_DIR

    digest = hashlib.sha256()
    files = [DBT_PROJECT_DIR / "dbt_project.yml"]
    for folder in ("models", "macros"):
        files += sorted(p for p in (DBT_PROJECT_DIR / folder).rglob("*") if p.suffix in (".sql", ".yml"))
    for path in files:
        digest.update(path.relative_to(DBT_PROJECT_DIR).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def recorded_transform_code(conn: psycopg.Connection) -> str | None:
    """The code fingerprint the last build recorded (None before the first)."""
    if conn.execute("select to_regclass('reference.transform_code')").fetchone()[0] is None:
        return None
    row = conn.execute("select fingerprint from reference.transform_code").fetchone()
    return row[0] if row else None


def record_transform_code(conn: psycopg.Connection) -> str:
    """Record the dbt code's fingerprint in reference.transform_code: when it differs from what an incremental
    model was last built with, the model builds over everything again (dbt_project/macros/incremental.sql),
    so a new release never mixes old and new figures."""
    fingerprint = transform_code_fingerprint()
    with conn.transaction():
        conn.execute("create schema if not exists reference")
        conn.execute("create table if not exists reference.transform_code (fingerprint text not null)")
        conn.execute("delete from reference.transform_code")
        conn.execute("insert into reference.transform_code values (%s)", [fingerprint])
    return fingerprint


def purge_personal_data(settings: Settings, older_than_days: int) -> tuple[int, int]:
    """Blank the personal data (spec/sources.md §1) of raw rows and quarantined records loaded more than
    `older_than_days` ago. The keyed hash of the ID number and every parsed value stay, so no mart figure
    changes. One statement and transaction per month partition of raw, skipping the months extracted after the
    cutoff (a row is loaded after it is extracted: none of theirs can be old enough); archived months are not in
    the database (reformwh/raw_partitions.py: their files keep what raw held when they were archived).
    Returns (raw rows, quarantine rows) purged."""
    from ingestion.contracts import CONTRACTS
    from reformwh.raw_partitions import month_partitions

    purged_raw = purged_quarantine = 0
    with connect(settings) as conn:
        ensure_schema(conn)
        # the first month none of whose rows can have been loaded before the cutoff (a day's margin for the
        # extraction times, which are local)
        newer = conn.execute("select date_trunc('month', now() - make_interval(days => %s) + interval '1 day')"
                             "::date + interval '1 month'", [older_than_days]).fetchone()[0].date()
        for contracts in CONTRACTS.values():
            for contract in contracts:
                # free text kept from extra columns may hold names and addresses too
                personal = [f.name for f in contract.fields if f.personal] + ["extra_columns"]
                for partition, month in month_partitions(conn, contract.raw_table):
                    if month >= newer:
                        continue
                    with conn.transaction():
                        purged_raw += conn.execute(
                            f"update {partition} set {', '.join(f'{c} = null' for c in personal)} "
                            f"where loaded_at < now() - make_interval(days => %s) "
                            f"and ({' or '.join(f'{c} is not null' for c in personal)})",
                            [older_than_days],
                        ).rowcount
                purged_quarantine += conn.execute(
                    "update quarantine.rows set record = record - %s::text[] "
                    "where source = %s and entity = %s and quarantined_at < now() - make_interval(days => %s) "
                    "and record ?| %s::text[]",
                    [personal, contract.source, contract.entity, older_than_days, personal],
                ).rowcount
        # A row that could not be read into columns is kept as its whole line, names and numbers included.
        purged_quarantine += conn.execute(
            "update quarantine.rows set record = record - 'line' "
            "where quarantined_at < now() - make_interval(days => %s) and record ? 'line'", [older_than_days],
        ).rowcount
        # The submissions as received: their evidence files hold whatever the units put in them. Their names,
        # sizes and hashes stay in raw.self_reports__evidence_files, which is all the marts use.
        purged_raw += conn.execute(
            "update raw.self_reports__packages set package = ''::bytea "
            "where loaded_at < now() - make_interval(days => %s) and length(package) > 0", [older_than_days],
        ).rowcount
    return purged_raw, purged_quarantine


class UncheckedMarts(RuntimeError):
    """The marts published now have not passed `reformwh check`."""


def report(settings: Settings, period_key: str, out_dir: Path | None = None, edition: str = "preliminary",
           report_date=None, config=None, progress: Callable[[str], None] | None = None,
           checked_only: bool = False) -> list[Path]:
    """Generate the periodic report of an official period (spec/reports.md) from the marts: DOCX, XLSX
    annexes and a PDF where LibreOffice is installed; record the run and freeze its figures in `reports`.
    `period_key` may be "latest": the newest reported period whose cut-off day the data has reached.
    Files go to `out_dir` (default REFORMWH_HOME/reports). Configuration: reporting/report_config.toml,
    REFORMWH_REPORT_CONFIG and REFORMWH_REPORT_* variables. `checked_only`: UncheckedMarts unless the marts
    published now passed `reformwh check` (the scheduled report DAG)."""
    import reporting

    database_url = settings.database_url
    if period_key == "latest":
        with connect(settings) as conn:
            period_key = reporting.latest_reportable_period(conn)
        if period_key is None:
            raise reporting.ReportError("no reported official period has ended within the loaded data")
    with reading_marts(settings, "report", progress):
        # checked_only (the scheduled report): under the lock, so no build publishes between this and the report
        publication, checked = current_publication(settings)
        if checked_only and not checked:
            raise UncheckedMarts(f"marts publication {publication} has not passed `reformwh check` (yet): "
                                 "no scheduled report from it")
        result = reporting.generate(database_url, period_key, Path(out_dir or settings.home / "reports"), edition,
                                    report_date=report_date, config=config, timezone=settings.timezone)
    if progress:
        progress(f"report {period_key} ({edition}), data as of {result.data.data_as_of}: run {result.run_id} "
                 f"recorded in reports.report_runs")
        if result.pdf_skipped:
            progress(result.pdf_skipped)
    return result.files

def check(settings: Settings, progress: Callable[[str], None] = print,
          on_warnings: Callable[[list[str]], None] | None = None, full: bool = False) -> bool:
    """Run the data-quality suites (expectations/) on raw and marts; record every result in
    audit.quality_results, update the Data Docs, print what failed. True when every expectation of severity
    critical holds: the cross-period checks (expectations/periods.py) are warnings, printed as WARNING and passed
    to `on_warnings` (the quality DAG's steward alert), and the marts still count as checked. The raw suites read
    the loads no passed check has validated yet, or all of raw when `full` (expectations/runner.py)."""
    from expectations.runner import run

    # GX logs an INFO line per expectation and setting (`_get_default_value called with key …`): more than half
    # of an Airflow task's log; its warnings and errors still show
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    with reading_marts(settings, "check", progress):
        publication, _ = current_publication(settings)
        result = run(settings.database_url, settings.home, progress=progress, full=full)
        # which marts the run checked: the report DAG reports only on a publication that passed
        with connect(settings) as conn:
            conn.execute("update audit.quality_runs set publication_id = %s where run_id = %s",
                         [publication, result.run_id])
    for failure in result.failures:
        progress(f"FAILED {failure.describe()}")
    for warning in result.warnings:
        progress(f"WARNING {warning.describe()}")
    passed = len(result.outcomes) - len(result.failures) - len(result.warnings)
    progress(f"check run {result.run_id} of marts publication {publication}: "
             f"{passed} of {len(result.outcomes)} expectation(s) passed"
             + (f", {len(result.warnings)} warning(s) for the data steward" if result.warnings else "")
             + f" in {result.seconds:.1f}s; results in audit.quality_results")
    if result.warnings and on_warnings:
        on_warnings([w.describe() for w in result.warnings])
    if result.data_docs:
        progress(f"Data Docs: {result.data_docs}")
    return result.success


def docs(settings: Settings, progress: Callable[[str], None] = print) -> dict[str, Path]:
    """Build the dbt docs site (models, columns, lineage; into REFORMWH_HOME/dbt_docs) and the GX Data Docs
    (suites and validation results; REFORMWH_HOME/data_docs). Returns {site: index.html}."""
    import time

    from expectations.runner import build_docs
    from reformwh.dbt import run_dbt

    target = settings.home / "dbt_docs"
    started = time.monotonic()
    progress("dbt docs generate: parsing the project and reading the warehouse's catalog…")
    # --static also writes static_index.html, which opens from disk without a web server
    if not run_dbt(settings, ["docs", "generate", "--static", "--target-path", str(target)], quiet=True):
        raise RuntimeError("dbt docs generate failed (see dbt_project/logs/dbt.log)")
    # dbt knows the marts where it builds them; the catalog read the published ones (macros/catalog.sql): the
    # site names them where readers find them
    for name in ("manifest.json", "catalog.json", "index.html", "static_index.html"):
        if (target / name).exists():
            text = (target / name).read_text(encoding="utf-8")
            (target / name).write_text(text.replace(MARTS_BUILD, MARTS), encoding="utf-8")
    progress(f"dbt docs written ({time.monotonic() - started:.0f}s); Great Expectations Data Docs "
             "(suites and the last 30 check runs)…")
    started = time.monotonic()
    data_docs = build_docs(settings.database_url, settings.home)
    progress(f"Data Docs written ({time.monotonic() - started:.0f}s)")
    sites = {"dbt docs": target / "static_index.html", "Data Docs": data_docs}
    for name, index in sites.items():
        progress(f"{name}: {index}")
    return sites


def freshness(settings: Settings, sources: list[str] | None = None, now: datetime | None = None,
              progress: Callable[[str], None] | None = None) -> list[dict]:
    """`dbt source freshness` on the sources with a freshness rule (of `sources`, default all), judged at `now`
    (default: as report statuses are, REFORMWH_REPORT_STATUS_AS_OF, else the clock): one dict per table, from
    dbt's sources.json — source, table, status (pass, warn, error), counted_from (dbt's max_loaded_at: the newest
    extraction, moved forward over days off, or an overdue deadline: dbt_project/macros/freshness.sql),
    judged_at, age_hours, warn_after and error_after (hours). RuntimeError when dbt could not judge a table."""
    import json

    from reformwh.dbt import run_dbt
    from reformwh.roles import create_roles, grant_access

    with connect(settings) as conn:
        ensure_schema(conn)
        # the daily sources' working days and the self-reports' deadlines are read from `reference`, which a
        # build loads: before the first build, load it here (beside loads; never while a build replaces it)
        if conn.execute("select to_regclass('reference.holidays') is null "
                        "or to_regclass('reference.reporting_calendar') is null").fetchone()[0]:
            with loads_and_builds_lock(conn, exclusive=False, what="freshness", progress=progress):
                load_reference(conn, settings.reference_dir)
                if _is_superuser(conn):  # dbt works as the transformer, which reads raw and reference
                    create_roles(conn)
                    grant_access(conn)
    # a folder of its own: a build may be writing its artifacts into dbt_target_dir at the same time
    target = settings.dbt_target_dir / "freshness"
    args = ["source", "freshness", "--output", str(target / "sources.json"), "--target-path", str(target)]
    args += ["--select", " ".join(f"source:{name}" for name in sources or [])] if sources else []
    if now is not None:
        args += ["--vars", json.dumps({"freshness_as_of": now.isoformat()})]
    (target / "sources.json").unlink(missing_ok=True)
    run_dbt(settings, args, quiet=True)  # False when a table is in error: the results say which
    try:
        results = json.loads((target / "sources.json").read_text())["results"]
    except FileNotFoundError:
        raise RuntimeError("dbt source freshness failed: see dbt_project/logs/dbt.log") from None
    tables = []
    for r in sorted(results, key=lambda r: r["unique_id"]):
        _, _, source, table = r["unique_id"].split(".", 3)
        if r["status"] not in ("pass", "warn", "error"):
            raise RuntimeError(f"dbt source freshness of {source}.{table}: {r['status']} "
                               f"({r.get('error') or 'see dbt_project/logs/dbt.log'})")
        criteria = r["criteria"]
        tables.append({
            "source": source, "table": table, "status": r["status"],
            # dbt's "never loaded" is the year 1: say None
            "counted_from": None if r["max_loaded_at"].startswith("0001-") else r["max_loaded_at"],
            "judged_at": r["snapshotted_at"], "age_hours": round(r["max_loaded_at_time_ago_in_s"] / 3600, 1),
            **{key: _hours(criteria.get(key)) for key in ("warn_after", "error_after")},
        })
    if progress:
        for line in freshness_table(tables):
            progress(line)
    return tables


def _hours(threshold: dict | None) -> float | None:
    if not threshold or not threshold.get("count"):
        return None
    return threshold["count"] * {"minute": 1 / 60, "hour": 1, "day": 24}[threshold["period"]]


def freshness_table(tables: list[dict]) -> list[str]:
    """freshness()'s results, one line per table."""
    lines = [f"{'source table':<52} {'status':<6} {'age (h)':>9} {'warn/error after (h)':>20}  counted from"]
    for t in tables:
        age = "never" if t["counted_from"] is None else f"{t['age_hours']:.1f}"
        thresholds = f"{t['warn_after']:g}/{t['error_after']:g}"
        lines.append(f"{t['source'] + '.' + t['table']:<52} {t['status']:<6} {age:>9} {thresholds:>20}  "
                     f"{t['counted_from'] or '-'}")
    return lines


def summary_rows(settings: Settings, sql: str, params=None) -> list[tuple]:
    with connect(settings) as conn:
        return conn.execute(sql, params).fetchall()


__all__ = ["build", "check", "connect", "current_publication", "docs", "finish_transform", "freshness", "grant_roles",
           "ingest", "prepare_transform", "publish_marts", "purge_personal_data", "reading_marts", "report",
           "reprocess_quarantine", "role_url", "summary_rows", "UncheckedMarts"]

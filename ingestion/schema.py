"""The loader's own schemas: raw tables (derived from the contracts), quarantine and audit.

Created idempotently by every command that needs them, so an empty database needs no set-up step.
"""

from __future__ import annotations

import re

import psycopg

from ingestion.contracts import CONTRACTS, PARSED_SQL_TYPE, Contract
from ingestion.partitions import (
    PARTITION_FUNCTION,
    migrate_to_partitions,
    partitioned_ddl,
    raw_indexes,
    unpartitioned,
)
from ingestion.reasons import view_ddl

LINEAGE_COLUMNS = [
    ("load_id", "bigint not null"),
    ("source_file", "text not null"),
    ("source_line", "integer not null"),
    ("extracted_at", "timestamp not null"),
    ("loaded_at", "timestamptz not null default now()"),
]


def parsed_column(name: str) -> str:
    return f"{name}_parsed"


def raw_columns(contract: Contract) -> list[tuple[str, str]]:
    columns = list(LINEAGE_COLUMNS)
    columns += [(f.name, "text") for f in contract.fields]
    columns.append(("extra_columns", "jsonb"))
    columns += [(parsed_column(f.name), PARSED_SQL_TYPE[f.kind]) for f in contract.fields if f.parsed]
    if any(f.name == "applicant_id_number" for f in contract.fields):
        columns.append(("applicant_id_hash", "text"))
    return columns


def copy_columns(contract: Contract) -> list[str]:
    """Columns the loader writes, in order (loaded_at takes its default)."""
    return [name for name, _ in raw_columns(contract) if name != "loaded_at"]


COMMON_DDL = """
create schema if not exists raw;
create schema if not exists quarantine;
create schema if not exists audit;
create sequence if not exists audit.load_id_seq;
create table if not exists audit.file_loads (
    load_id bigint primary key,
    source text not null,
    entity text,
    file_name text not null,
    file_path text not null,
    file_sha256 text,
    file_bytes bigint,
    file_format text,
    encoding text,
    delimiter text,
    sheet text,
    header_line integer,
    extracted_at timestamp,
    extracted_at_origin text,
    started_at timestamptz not null,
    finished_at timestamptz not null default now(),
    status text not null check (status in ('loaded', 'rejected', 'reprocessed')),
    rows_read bigint not null default 0,
    rows_loaded bigint not null default 0,
    rows_quarantined bigint not null default 0,
    rows_skipped bigint not null default 0,
    message text,
    warnings jsonb not null default '[]'::jsonb,
    constraint rows_conserved check (rows_read = rows_loaded + rows_quarantined)
);
create unique index if not exists file_loads_one_load_per_content
    on audit.file_loads (source, entity, file_sha256) where status = 'loaded';
comment on table audit.file_loads is 'One row per file load and entity, rejected loads included: a file of one
entity (a dossier export, a register) has one row; a self-report submission has one per entity it loads (its
header, each sheet and its list of evidence files), sharing the file''s name and SHA-256, so that every raw
row points to the audit row of its load_id and the counts balance per sheet. One row per file: group by
file_sha256. A file rejected again for the same reason adds no row.';
create table if not exists quarantine.rows (
    quarantine_id bigserial primary key,
    load_id bigint not null,
    source text not null,
    entity text not null,
    source_file text not null,
    source_line integer not null,
    extracted_at timestamp not null,
    record jsonb not null,
    reasons text[] not null,
    quarantined_at timestamptz not null default now(),
    resolved_at timestamptz,
    resolved_load_id bigint
);
-- what the row was last validated against (ingestion.reference.validation_fingerprint): a build re-validates
-- only the open rows whose reference data or validation code has changed since
alter table quarantine.rows add column if not exists validated_against text;
create index if not exists rows_open on quarantine.rows (source, entity) where resolved_at is null;
create index if not exists rows_open_by_validation on quarantine.rows (source, entity, validated_against)
    where resolved_at is null;
create index if not exists rows_by_load on quarantine.rows (load_id);
-- Self-report submissions as received (ZIP bytes; a folder packed into a ZIP), by content hash.
create table if not exists raw.self_reports__packages (
    submission_id text primary key,
    load_id bigint not null,
    package_name text not null,
    package_format text not null,
    package_bytes bigint not null,
    package bytea not null,
    loaded_at timestamptz not null default now()
);

-- one row per `reformwh check` run and per expectation evaluated (expectations/runner.py)
create sequence if not exists audit.quality_run_id_seq;
create table if not exists audit.quality_runs (
    run_id bigint primary key,
    started_at timestamptz not null,
    finished_at timestamptz not null,
    seconds numeric not null,
    success boolean not null,
    expectations integer not null,
    failed integer not null,
    data_docs text
);
create table if not exists audit.quality_results (
    run_id bigint not null references audit.quality_runs (run_id),
    suite text not null,
    table_name text not null,
    column_name text,
    expectation text not null,
    description text,
    success boolean not null,
    observed_value text,
    unexpected_count bigint,
    element_count bigint,
    exception text,
    examples text,
    run_at timestamptz not null,
    run_seconds numeric not null
);
create index if not exists quality_results_by_run on audit.quality_results (run_id);
-- one row per publication of the marts by `reformwh build` (reformwh/pipeline.py publish_marts): the marts moved
-- from marts_build into marts together, and the loads they include
create sequence if not exists audit.mart_publication_id_seq;
create table if not exists audit.mart_publications (
    publication_id bigint primary key,
    published_at timestamptz not null default now(),
    marts text [] not null,
    newest_load_id bigint,
    load_count bigint not null,
    new_load_ids bigint [] not null
);
-- the publication a `reformwh check` run checked (the report DAG reports only on a checked publication)
alter table audit.quality_runs add column if not exists publication_id bigint;
-- the batch of intermediate.int_dossiers_classified that marts.fct_dossier holds after this publication. Until
-- 7 December 2026 fct_dossier was copied from intermediate.int_dossiers_published, whose batches dossiers_batch
-- held (the table goes in dbt's on-run-start); the first build after publishes fct_dossier whole.
alter table audit.mart_publications add column if not exists fct_dossier_batch bigint;
alter table audit.mart_publications drop column if exists dossiers_batch;
-- GX's severity of each expectation: a failed `warning` (the cross-period checks, expectations/periods.py) is
-- reported and counted in quality_runs.warnings, and does not fail the run
alter table audit.quality_runs add column if not exists warnings integer not null default 0;
alter table audit.quality_results add column if not exists severity text not null default 'critical';
create index if not exists quality_results_warned on audit.quality_results (run_id) where severity <> 'critical';
-- the loads whose raw rows a `reformwh check` validated and passed, under which raw suites (a hash of their
-- rules): a check validates only the rows of the loads not in here (expectations/runner.py), `--full` all of raw
create table if not exists audit.quality_checked_loads (
    load_id bigint not null,
    raw_suites text not null,
    run_id bigint not null references audit.quality_runs (run_id),
    primary key (load_id, raw_suites)
);
-- the data steward's alerts on late sources (reformwh/orchestration.py check_freshness): one per lateness, with a
-- daily reminder, not one per DAG run
create table if not exists audit.freshness_alerts (
    source text not null,
    table_name text not null,
    status text not null,
    counted_from timestamptz,
    alerted_at timestamptz not null default now(),
    dag_id text,
    run_id text
);
create index if not exists freshness_alerts_latest on audit.freshness_alerts (source, table_name, alerted_at);
-- one row per month of a raw table archived to a file and dropped by `reformwh archive-raw`
-- (reformwh/raw_partitions.py); restored_at is set when `reformwh restore-raw` loads it back
create table if not exists audit.raw_archives (
    archive_id bigserial primary key,
    raw_table text not null,
    month date not null,
    row_count bigint not null,
    file_path text not null,
    file_bytes bigint not null,
    file_sha256 text not null,
    archived_at timestamptz not null default now(),
    restored_at timestamptz
);
create unique index if not exists raw_archives_one_open on audit.raw_archives (raw_table, month)
    where restored_at is null;
"""


def expected_relations() -> list[str]:
    """Every table, index and sequence the DDL below creates, schema-qualified (a column added later is found by
    ensure_schema itself; DDL of any other kind must be added here too, or ensure_schema will not run it on an
    existing warehouse)."""
    names = re.findall(r"create (?:table|sequence) if not exists ([\w.]+)", COMMON_DDL)
    names += [f"{schema}.{index}" for index, schema in
              re.findall(r"create (?:unique )?index if not exists (\w+)\s+on (\w+)\.", COMMON_DDL)]
    for contracts in CONTRACTS.values():
        for contract in contracts:
            names += [contract.raw_table, *(f"raw.{index}" for index in raw_indexes(contract))]
    return names + ["quarantine.rows_explained", "audit.file_loads_explained"]  # ingestion/reasons.py


def ensure_schema(conn: psycopg.Connection) -> None:
    # Usually all there: then no DDL at all, because CREATE INDEX IF NOT EXISTS still waits for a lock on its
    # table, i.e. for any load in progress to commit.
    columns = [f"{table}.{column}" for table, column in
               re.findall(r"alter table ([\w.]+) add column if not exists (\w+)", COMMON_DDL)]
    raw_tables = [c.raw_table for contracts in CONTRACTS.values() for c in contracts]
    with conn.transaction():
        missing = conn.execute(
            "select (select count(*) from unnest(%s::text[]) as r(name) where to_regclass(name) is null) "
            "+ (select count(*) from unnest(%s::text[]) as c(name) where not exists (select from pg_attribute a "
            "where a.attrelid = to_regclass(substring(c.name from '^(.*)\\.')) "
            "and a.attname = substring(c.name from '[^.]+$') and not a.attisdropped))",
            [expected_relations(), columns]).fetchone()[0]
        # raw tables made before raw was partitioned by month (ingestion/partitions.py) are converted
        missing += len(unpartitioned(conn, raw_tables))
        # the partition function missing, or an older body of it that this role may replace (CREATE OR REPLACE
        # below; a loader that may not waits for the next command run by the owner, a build or a check)
        missing += conn.execute(
            "select coalesce((select prosrc <> %s and pg_has_role(current_user, proowner, 'USAGE') from pg_proc "
            "where oid = to_regprocedure('raw.create_month_partition(regclass, date)')), true)",
            [PARTITION_FUNCTION.split("$$")[1]]).fetchone()[0]
    if not missing:
        return
    with conn.transaction():
        # Serialise concurrent first runs: CREATE ... IF NOT EXISTS is not safe against a race.
        conn.execute("select pg_advisory_xact_lock(hashtext('reformwh.ingestion.schema'))")
        conn.execute(COMMON_DDL)
        conn.execute(view_ddl())  # quarantine reasons with their code and Vietnamese text
        conn.execute(PARTITION_FUNCTION)
        old = unpartitioned(conn, raw_tables)
        for contracts in CONTRACTS.values():
            for contract in contracts:
                if contract.raw_table in old:
                    migrate_to_partitions(conn, contract.raw_table)
                ddl = ",\n    ".join(f"{name} {sql_type}" for name, sql_type in raw_columns(contract))
                for statement in partitioned_ddl(contract, ddl):
                    conn.execute(statement)

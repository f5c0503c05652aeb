"""Raw tables partitioned by calendar month of extraction (raw.<table>_YYYY_MM), so that raw can grow for years:
old months can be archived to files and dropped (reformwh/raw_partitions.py: `reformwh archive-raw`).

The loader asks for its month's partitions before a file's transaction (`ensure_month_partitions`): creating
a partition locks the whole parent table, so it commits on its own, at once, instead of holding that lock for
a whole load. The partition is made by raw.create_month_partition, a function of the tables' owner (the loader
works as reformwh_loader, which may write raw but not create partitions of tables it does not own), serialised
by an advisory lock. A month archived and not restored gets no partition again: its rows would be new versions
of an archived month, which the archive does not know of (ArchivedMonth; the file is rejected).
"""

from __future__ import annotations

from datetime import date, datetime

import psycopg

from ingestion.contracts import Contract
from ingestion.readers import FileRejected

PARTITION_FUNCTION = """
create or replace function raw.create_month_partition(parent regclass, first_day date) returns text
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    name text := parent::text || '_' || to_char(first_day, 'YYYY_MM');
begin
    if to_regclass(name) is null then
        perform pg_advisory_xact_lock(hashtext('reformwh.raw_partitions'));
        -- not to_regclass again: a name looked up before the wait stays cached, and another loader may have
        -- made this partition meanwhile; CREATE reads the catalogue afresh once it holds the schema's lock
        execute format('create table if not exists %s partition of %s for values from (%L) to (%L)',
                       name, parent, first_day, (first_day + interval '1 month')::date);
    end if;
    return name;
end $$;
"""


class ArchivedMonth(FileRejected):
    """Rows for a month of raw that is archived (audit.raw_archives) and not restored."""


def month_of(extracted_at: str | datetime | date) -> date:
    text = extracted_at.isoformat() if isinstance(extracted_at, date) else str(extracted_at)
    return date(int(text[:4]), int(text[5:7]), 1)


def partition_name(raw_table: str, month: date) -> str:
    return f"{raw_table}_{month:%Y_%m}"


def ensure_month_partitions(conn: psycopg.Connection, raw_tables: list[str], extracted_at: str | datetime,
                            what: str = "") -> None:
    """The partitions of `raw_tables` for the month of `extracted_at`, created where missing, each committed at
    once (`conn` is in autocommit); ArchivedMonth when that month of one of them is archived."""
    month = month_of(extracted_at)
    names = [partition_name(t, month) for t in raw_tables]
    missing = [t for t, (exists,) in zip(raw_tables, conn.execute(
        "select to_regclass(n) is not null from unnest(%s::text[]) with ordinality as p(n, i) order by i",
        [names]).fetchall(), strict=True) if not exists]
    if not missing:
        return
    archived = [t for (t,) in conn.execute(
        "select raw_table from audit.raw_archives where raw_table = any(%s) and month = %s and restored_at is null",
        [missing, month]).fetchall()]
    if archived:
        raise ArchivedMonth(
            f"{what}{': ' if what else ''}its rows were extracted in {month:%Y-%m}, a month archived from "
            f"{', '.join(archived)} (audit.raw_archives): nothing of it was loaded; restore the month first "
            f"(reformwh restore-raw --month {month:%Y-%m}) and load it again")
    for table in missing:
        conn.execute("select raw.create_month_partition(%s::regclass, %s)", [table, month])


def raw_indexes(contract: Contract) -> dict[str, tuple[str, ...]]:
    """The indexes of a raw table (made on every partition), by name: load_id, and the contract's raw_lookup."""
    table = contract.raw_table.split(".")[1]
    indexes = {f"{table}_by_load": ("load_id",)}
    if contract.raw_lookup:
        indexes[f"{table}_by_{'_'.join(contract.raw_lookup)}"] = contract.raw_lookup
    return indexes


def partitioned_ddl(contract: Contract, columns_ddl: str) -> list[str]:
    """A raw table partitioned by month of extraction, with its B-trees (on every partition)."""
    raw_table = contract.raw_table
    # On load_id a B-tree, not BRIN: a load reads its own rows back (loader.py, conflicting duplicates), and a BRIN
    # range is only summarised by VACUUM, so until then every load scanned all the rows written since the last one:
    # ingesting two years of daily files took 9x longer per row than one file. load_id only grows, so each insert
    # goes to the rightmost leaf (docs/scale.md, runs of 6 December).
    return [
        f"create table if not exists {raw_table} (\n    {columns_ddl}\n) partition by range (extracted_at)",
        *(f"create index if not exists {name} on {raw_table} ({', '.join(columns)})"
          for name, columns in raw_indexes(contract).items()),
        f"drop index if exists {raw_table}_load",  # the BRIN of earlier versions
    ]


def unpartitioned(conn: psycopg.Connection, raw_tables: list[str]) -> list[str]:
    """Those of `raw_tables` that exist as plain tables (made before raw was partitioned)."""
    return [t for (t,) in conn.execute(
        "select t from unnest(%s::text[]) as t where (select relkind from pg_class where oid = to_regclass(t)) = 'r'",
        [raw_tables]).fetchall()]


def migrate_to_partitions(conn: psycopg.Connection, raw_table: str) -> int:
    """Convert a plain raw table into a partitioned one, in the caller's transaction: the same columns (old ones
    included), every row moved into its month's partition, the old table dropped. Views on it (dbt's staging)
    go with it; the next build makes them again. Returns the rows moved."""
    schema, table = raw_table.split(".")
    old = f"{table}__unpartitioned"
    conn.execute(f"alter table {raw_table} rename to {old}")
    conn.execute(f"alter index if exists {schema}.{table}_load rename to {old}_load")
    conn.execute(f"alter index if exists {schema}.{table}_by_load rename to {old}_by_load")
    conn.execute(f"create table {raw_table} (like {schema}.{old} including defaults including comments) "
                 "partition by range (extracted_at)")
    conn.execute(f"create index {table}_by_load on {raw_table} (load_id)")
    months = [m for (m,) in conn.execute(
        f"select distinct date_trunc('month', extracted_at)::date from {schema}.{old} order by 1").fetchall()]
    for month in months:
        conn.execute("select raw.create_month_partition(%s::regclass, %s)", [raw_table, month])
    moved = conn.execute(f"insert into {raw_table} select * from {schema}.{old}").rowcount
    conn.execute(f"drop table {schema}.{old} cascade")
    return moved

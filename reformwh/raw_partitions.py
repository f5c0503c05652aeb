"""Old months of raw, archived to files and back (`reformwh archive-raw`, `reformwh restore-raw`), and the
per-partition purge of personal data. Raw tables are partitioned by month of extraction (ingestion/partitions.py).

Archiving a month of a raw table: its rows are written (COPY … TO STDOUT, CSV with a header line, gzip) to
REFORMWH_HOME/archive/raw/<table>_YYYY_MM.csv.gz, the file is synced and read back (its SHA-256 and the
uncompressed content's are checked), and only then, in one transaction, the partition is detached, recorded in
audit.raw_archives and dropped. A failure before that transaction leaves the partition as it was (the file is
written again next time); one month of one table per transaction. Restoring loads the file back into a new
partition, after checking its SHA-256, and checks the row count against the archive's record.

Only the raw tables that the dbt models read incrementally, by load, are archived (one-stop-shop dossiers,
document-management documents and tasks, ARCHIVABLE_SOURCES): their marts keep what the archived rows gave, and
later loads are compared with the versions already kept (int_dossiers_deduplicated and its kin) or with the
versions still in raw (int_dossier_versions_compared keeps the comparisons it cannot make again). Self-report
tables are read whole by every build and are small (one submission per unit and period): they stay.

What archiving costs: a build over everything (`reformwh build --full-refresh`, or the first build of new dbt
code) would rebuild from the rows still in raw and lose the archived versions, so it is refused while a month is
archived (ArchivedRaw names them and the restore command). A file whose extraction month is archived is rejected
(ingestion/partitions.py ArchivedMonth); quarantined rows of such a month stay in quarantine until it is restored.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import psycopg

from ingestion.contracts import CONTRACTS
from ingestion.throughput import file_sha256
from reformwh.settings import Settings

ARCHIVABLE_SOURCES = ("one_stop_shop", "document_management")
CHUNK = 1 << 20


class ArchivedRaw(RuntimeError):
    """A build over everything was asked for while months of raw are archived."""


@dataclass
class Archive:
    raw_table: str
    month: date
    rows: int
    file: Path
    sha256: str


def archivable_tables() -> list[str]:
    return [c.raw_table for s in ARCHIVABLE_SOURCES for c in CONTRACTS[s]]


def parse_month(text: str) -> date:
    try:
        value = datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise ValueError(f"'{text}' is no month: write YYYY-MM, e.g. 2025-03") from None
    return value


def month_partitions(conn: psycopg.Connection, raw_table: str) -> list[tuple[str, date]]:
    """The month partitions of a raw table, (name, first day), oldest first."""
    rows = conn.execute(
        "select c.oid::regclass::text, pg_get_expr(c.relpartbound, c.oid) from pg_inherits i "
        "join pg_class c on c.oid = i.inhrelid where i.inhparent = to_regclass(%s) order by 1", [raw_table]
    ).fetchall()
    found = []
    for name, bound in rows:  # FOR VALUES FROM ('2025-03-01 00:00:00') TO ('2025-04-01 00:00:00')
        start = bound.split("'")[1]
        found.append((name, date.fromisoformat(start[:10])))
    return sorted(found, key=lambda p: p[1])


def archived_months(conn: psycopg.Connection) -> list[tuple[str, date]]:
    """(raw table, month) archived and not restored, oldest first."""
    if conn.execute("select to_regclass('audit.raw_archives')").fetchone()[0] is None:
        return []
    return conn.execute("select raw_table, month from audit.raw_archives where restored_at is null "
                        "order by month, raw_table").fetchall()


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def describe_months(months: list[tuple[str, date]]) -> str:
    """'2024-01 to 2024-12 (one_stop_shop__dossiers, …); 2025-03 (…)': runs of months, by the tables archived."""
    by_table: dict[str, list[date]] = {}
    for table, month in months:
        by_table.setdefault(table.split(".")[1], []).append(month)
    tables_of_run: dict[tuple[date, date], list[str]] = {}
    for table, table_months in by_table.items():
        table_months.sort()
        start = end = table_months[0]
        for month in table_months[1:] + [None]:
            if month is not None and month == next_month(end):
                end = month
                continue
            tables_of_run.setdefault((start, end), []).append(table)
            if month is not None:
                start = end = month
    return "; ".join(f"{start:%Y-%m}{f' to {end:%Y-%m}' if end != start else ''} ({', '.join(sorted(tables))})"
                     for (start, end), tables in sorted(tables_of_run.items()))


def refuse_build_over_everything(conn: psycopg.Connection, why: str) -> None:
    """ArchivedRaw when months are archived: a build over everything would lose their rows' versions."""
    months = archived_months(conn)
    if months:
        raise ArchivedRaw(
            f"{why} would rebuild the marts from raw without the archived months {describe_months(months)}, and "
            f"lose the versions they hold; restore them first (reformwh restore-raw --all), build, then archive "
            f"them again (reformwh archive-raw --before {next_month(max(m for _, m in months)):%Y-%m})")


def archive_dir(settings: Settings) -> Path:
    return settings.home / "archive" / "raw"


def archive_raw(settings: Settings, before: date, progress: Callable[[str], None] = print) -> list[Archive]:
    """Archive every month before `before` of the archivable raw tables (see the module's docstring)."""
    from reformwh.pipeline import connect, ensure_schema, loads_and_builds_lock

    current = date.today().replace(day=1)
    if before > current:
        raise ValueError(f"--before {before:%Y-%m}: the current month ({current:%Y-%m}) and later ones are "
                         "still being loaded and cannot be archived")
    folder = archive_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    done = []
    with connect(settings) as conn, loads_and_builds_lock(conn, exclusive=True, what="archive-raw",
                                                          progress=progress):
        ensure_schema(conn)
        for table in archivable_tables():
            for partition, month in month_partitions(conn, table):
                if month < before:
                    archive = _archive_partition(conn, folder, table, partition, month)
                    progress(f"archived {partition}: {archive.rows} row(s) -> {archive.file} "
                             f"(sha256 {archive.sha256[:12]}…)")
                    done.append(archive)
    return done


def _archive_partition(conn: psycopg.Connection, folder: Path, table: str, partition: str, month: date) -> Archive:
    columns = [c for (c,) in conn.execute(
        "select attname from pg_attribute where attrelid = %s::regclass and attnum > 0 and not attisdropped "
        "order by attnum", [partition]).fetchall()]
    path = folder / f"{partition.split('.')[1]}.csv.gz"
    partial = path.with_name(path.name + ".partial")
    content = hashlib.sha256()
    sql = f"copy {partition} ({', '.join(columns)}) to stdout (format csv, header)"
    # one snapshot for the rows and their count (loads and builds are locked out anyway)
    with conn.transaction(), open(partial, "wb") as raw_file:
        with gzip.GzipFile(fileobj=raw_file, mode="wb", compresslevel=6, mtime=0) as packed, \
                conn.cursor().copy(sql) as copy:
            for block in copy:
                packed.write(block)
                content.update(block)
        rows = conn.execute(f"select count(*) from {partition}").fetchone()[0]
        raw_file.flush()
        os.fsync(raw_file.fileno())
    os.replace(partial, path)
    sha, _ = file_sha256(path)
    # read back: the file decompresses to what the server sent
    check = hashlib.sha256()
    with gzip.open(path, "rb") as packed:
        while block := packed.read(CHUNK):
            check.update(block)
    if check.hexdigest() != content.hexdigest():
        raise RuntimeError(f"{path}: the archive file does not read back as written; {partition} was kept")
    with conn.transaction():
        # nothing may have changed since it was written (loads and builds are locked out; this checks it)
        if conn.execute(f"select count(*) from {partition}").fetchone()[0] != rows:
            raise RuntimeError(f"{partition} changed while it was archived; it was kept")
        conn.execute(f"alter table {table} detach partition {partition}")
        conn.execute(
            "insert into audit.raw_archives (raw_table, month, row_count, file_path, file_bytes, file_sha256) "
            "values (%s, %s, %s, %s, %s, %s)", [table, month, rows, str(path), path.stat().st_size, sha])
        conn.execute(f"drop table {partition}")
    return Archive(table, month, rows, path, sha)


def restore_raw(settings: Settings, month: date | None = None,
                progress: Callable[[str], None] = print) -> list[Archive]:
    """Load archived months back into raw (one month, or all with month=None), each in one transaction: the
    file's SHA-256 is checked first, its row count after."""
    from reformwh.pipeline import connect, ensure_schema, loads_and_builds_lock

    done = []
    with connect(settings) as conn, loads_and_builds_lock(conn, exclusive=True, what="restore-raw",
                                                          progress=progress):
        ensure_schema(conn)
        archives = conn.execute(
            "select archive_id, raw_table, month, row_count, file_path, file_sha256 from audit.raw_archives "
            "where restored_at is null and (%(m)s::date is null or month = %(m)s) order by month, raw_table",
            {"m": month}).fetchall()
        if not archives:
            progress("nothing to restore: " + (f"no month {month:%Y-%m} is archived" if month else
                                               "no month is archived"))
        for archive_id, table, first_day, rows, file_path, sha in archives:
            path = Path(file_path)
            if not path.is_file():
                raise FileNotFoundError(f"{path}: the archive of {table} {first_day:%Y-%m} is missing")
            if file_sha256(path)[0] != sha:
                raise RuntimeError(f"{path}: its SHA-256 differs from the one recorded when it was archived "
                                   f"(audit.raw_archives {archive_id}); nothing of it was restored")
            with conn.transaction():
                partition = conn.execute("select raw.create_month_partition(%s::regclass, %s)",
                                         [table, first_day]).fetchone()[0]
                with gzip.open(path, "rb") as packed:
                    header = packed.readline().decode().strip()
                    with conn.cursor().copy(f"copy {partition} ({header}) from stdin (format csv)") as copy:
                        while block := packed.read(CHUNK):
                            copy.write(block)
                loaded = conn.execute(f"select count(*) from {partition}").fetchone()[0]
                if loaded != rows:
                    raise RuntimeError(f"{path}: {loaded} row(s) read back, {rows} archived; nothing was restored")
                conn.execute("update audit.raw_archives set restored_at = now() where archive_id = %s", [archive_id])
            progress(f"restored {partition}: {rows} row(s) from {path}")
            done.append(Archive(table, first_day, rows, path, sha))
    return done


def analyze_loaded_partitions(conn: psycopg.Connection, min_rows: int = 100_000) -> list[str]:
    """ANALYZE the raw partitions with at least `min_rows` rows written since they were last analyzed (a large
    load), before a build reads them: autovacuum would, but up to a minute later, and the build follows the load
    at once. Sampling costs a fraction of a second a partition (docs/scale.md). Returns the partitions."""
    names = [n for (n,) in conn.execute(
        "select s.relid::regclass::text from pg_stat_user_tables s "
        "join pg_class c on c.oid = s.relid where s.schemaname = 'raw' and c.relispartition "
        "and s.n_mod_since_analyze >= %s order by 1", [min_rows]).fetchall()]
    for name in names:
        conn.execute(f"analyze {name}")
    return names

"""What partitioned raw costs on an existing warehouse: converting a plain raw.one_stop_shop__dossiers of N rows
(24 months) into monthly partitions, then ANALYZE, archive-raw and restore-raw of one month.

    .venv/bin/python bench/bench_raw_partitions.py [--rows 1000000]

Runs on a fresh database of the embedded warehouse (or REFORMWH_DATABASE_URL), dropped afterwards.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
import warnings
from datetime import date
from pathlib import Path

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from ingestion.contracts import CONTRACTS  # noqa: E402
from ingestion.schema import ensure_schema, raw_columns  # noqa: E402
from reformwh import raw_partitions  # noqa: E402
from reformwh.settings import DEFAULT_HEADER_ALIASES, DEFAULT_REFERENCE_DIR, Settings, get_settings  # noqa: E402

TABLE = "raw.one_stop_shop__dossiers"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    url = get_settings().database_url
    name = "bench_" + uuid.uuid4().hex[:8]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    database = url.rpartition("/")[0] + "/" + name
    try:
        with psycopg.connect(database, autocommit=True) as conn:
            columns = raw_columns(CONTRACTS["one_stop_shop"][0])
            conn.execute("create schema raw")  # as ingestion/schema.py made raw before it was partitioned
            conn.execute(f"create table {TABLE} ({', '.join(f'{n} {t}' for n, t in columns)})")
            conn.execute(f"create index one_stop_shop__dossiers_load on {TABLE} using brin (load_id)")
            texts = [n for n, t in columns if t == "text" and n != "source_file"]
            started = time.monotonic()
            conn.execute(
                f"insert into {TABLE} (load_id, source_file, source_line, extracted_at, {', '.join(texts)}) "
                "select i / 5000, 'ho_so_' || i / 5000 || '.csv', i %% 5000, "
                "timestamp '2024-01-01' + i * interval '63 seconds', "  # 1M rows: two years
                + ", ".join(f"'value ' || i || ' of {n}'" for n in texts)
                + " from generate_series(1, %s) as i", [args.rows])
            conn.execute(f"vacuum analyze {TABLE}")
            size = conn.execute(f"select pg_size_pretty(pg_total_relation_size('{TABLE}'))").fetchone()[0]
            print(f"plain table filled: {args.rows:,} rows, {size}, {time.monotonic() - started:.1f}s")
            conn.execute("checkpoint")
            started = time.monotonic()
            ensure_schema(conn)
            seconds = time.monotonic() - started
            partitions = raw_partitions.month_partitions(conn, TABLE)
            rows = conn.execute(f"select count(*) from {TABLE}").fetchone()[0]
            print(f"ensure_schema converted {rows:,} rows into {len(partitions)} partitions in {seconds:.1f}s "
                  f"({seconds / rows * 1e6:.1f} s per million rows)")
            partition, month = partitions[0]
            month_rows = conn.execute(f"select count(*) from {partition}").fetchone()[0]
            started = time.monotonic()
            conn.execute(f"analyze {partition}")
            print(f"analyze {partition} ({month_rows:,} rows): {time.monotonic() - started:.2f}s")
        with tempfile.TemporaryDirectory() as home:
            settings = Settings(Path(home), database, DEFAULT_REFERENCE_DIR, DEFAULT_HEADER_ALIASES)
            after = date(month.year + month.month // 12, month.month % 12 + 1, 1)
            started = time.monotonic()
            [archive] = raw_partitions.archive_raw(settings, after, progress=lambda _: None)
            print(f"archive-raw of {archive.rows:,} rows (one month): {time.monotonic() - started:.1f}s, "
                  f"file {archive.file.stat().st_size / 2**20:.1f} MiB")
            started = time.monotonic()
            [restored] = raw_partitions.restore_raw(settings, None, progress=lambda _: None)
            print(f"restore-raw of {restored.rows:,} rows: {time.monotonic() - started:.1f}s")
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'drop database "{name}" with (force)')


if __name__ == "__main__":
    main()

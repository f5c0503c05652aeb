"""The pipeline's steps as functions: the CLI and the Airflow DAGs call these, nothing else."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg

from ingestion.loader import Loader, LoadResult, expand_paths
from ingestion.reference import load_reference
from ingestion.schema import ensure_schema
from reformwh.settings import Settings


def connect(settings: Settings) -> psycopg.Connection:
    return psycopg.connect(settings.database_url, autocommit=True)


def ingest(settings: Settings, source: str, paths: list[Path],
           progress: Callable[[str], None] | None = None) -> list[LoadResult]:
    with connect(settings) as conn:
        loader = Loader(conn, source, settings.reference_dir, settings.header_aliases_file, settings.pii_hash_key)
        results = []
        files = expand_paths(paths)
        for number, path in enumerate(files, 1):
            result = loader.load(path)
            results.append(result)
            if progress:
                progress(f"[{number}/{len(files)}] {result.summary()}")
        return results


def reprocess_quarantine(settings: Settings, source: str = "one_stop_shop") -> tuple[int, int]:
    """Re-validate open quarantine rows against the current reference data (see Loader.reprocess_quarantine)."""
    with connect(settings) as conn:
        loader = Loader(conn, source, settings.reference_dir, settings.header_aliases_file, settings.pii_hash_key)
        return loader.reprocess_quarantine()


def build(settings: Settings, select: str | None = None, progress: Callable[[str], None] = print,
          quiet: bool = False) -> bool:
    """Load reference data, re-process quarantine against it, then dbt build (models and tests)."""
    from reformwh.dbt import run_dbt

    with connect(settings) as conn:
        ensure_schema(conn)
        counts = load_reference(conn, settings.reference_dir)
        progress("reference data loaded from " + str(settings.reference_dir) + ": "
                 + ", ".join(f"{k} {v}" for k, v in counts.items()))
    fixed, still = reprocess_quarantine(settings)
    progress(f"quarantine re-processed: {fixed} row(s) now loaded, {still} still quarantined")
    progress("dbt build (models and tests)…")
    args = ["build"] + (["--select", select] if select else [])
    return run_dbt(settings, args, quiet=quiet)


def prepare_transform(settings: Settings, progress: Callable[[str], None] = print) -> dict[str, int]:
    """What `build` does before dbt, for the transformation DAG (whose dbt steps are Cosmos tasks): load the
    reference data and re-process quarantine against it. Returns the reference row counts."""
    with connect(settings) as conn:
        ensure_schema(conn)
        counts = load_reference(conn, settings.reference_dir)
    progress("reference data loaded from " + str(settings.reference_dir) + ": "
             + ", ".join(f"{k} {v}" for k, v in counts.items()))
    fixed, still = reprocess_quarantine(settings)
    progress(f"quarantine re-processed: {fixed} row(s) now loaded, {still} still quarantined")
    return counts


def purge_personal_data(settings: Settings, older_than_days: int) -> tuple[int, int]:
    """Blank the personal data (spec/sources.md §1) of raw rows and quarantined records loaded more than
    `older_than_days` ago. The keyed hash of the ID number and every parsed value stay, so no mart figure
    changes. Returns (raw rows, quarantine rows) purged."""
    from ingestion.contracts import CONTRACTS

    purged_raw = purged_quarantine = 0
    with connect(settings) as conn, conn.transaction():
        ensure_schema(conn)
        for contracts in CONTRACTS.values():
            for contract in contracts:
                # free text kept from extra columns may hold names and addresses too
                personal = [f.name for f in contract.fields if f.personal] + ["extra_columns"]
                purged_raw += conn.execute(
                    f"update {contract.raw_table} set {', '.join(f'{c} = null' for c in personal)} "
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
    return purged_raw, purged_quarantine


def summary_rows(settings: Settings, sql: str, params=None) -> list[tuple]:
    with connect(settings) as conn:
        return conn.execute(sql, params).fetchall()


__all__ = ["build", "connect", "ingest", "prepare_transform", "purge_personal_data", "reprocess_quarantine",
           "summary_rows"]

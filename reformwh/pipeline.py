"""The pipeline's steps as functions: the CLI and the Airflow DAGs call these, nothing else."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.csv as pcsv

from ingestion.loader import DUPLICATE_IN_FILE, LOCAL_TZ, Loader, LoadResult, expand_paths
from ingestion.readers import Batch, Layout, _clean
from ingestion.reference import load_reference
from ingestion.schema import copy_columns, ensure_schema
from ingestion.validation import BatchValidator, Context
from reformwh.settings import Settings

# Rows quarantined because their key repeats in the file stay there: the file, not the reference data, is wrong.
NOT_REPROCESSABLE = f"% {DUPLICATE_IN_FILE}"


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
    """Re-validate open quarantine rows (e.g. after a unit was added to the registry) with the same
    validator as a first load; rows that now pass go to raw with their original file, line and
    extraction time, under a new load whose audit row says 'reprocessed'. Returns (loaded, still open)."""
    with connect(settings) as conn:
        loader = Loader(conn, source, settings.reference_dir, settings.header_aliases_file, settings.pii_hash_key)
        contract = loader.contract
        names = [f.name for f in contract.fields]
        groups = conn.execute(
            "select source_file, extracted_at from quarantine.rows where source = %s and entity = %s "
            "and resolved_at is null and record ? %s and not reasons[1] like %s group by 1, 2 order by 2, 1",
            [source, contract.entity, contract.key[0], NOT_REPROCESSABLE],
        ).fetchall()
        fixed_total = 0
        for source_file, extracted_at in groups:
            with conn.transaction():
                rows = conn.execute(
                    "select quarantine_id, source_line, record from quarantine.rows where source = %s and "
                    "entity = %s and source_file = %s and extracted_at = %s and resolved_at is null "
                    "and record ? %s and not reasons[1] like %s order by quarantine_id for update",
                    [source, contract.entity, source_file, extracted_at, contract.key[0], NOT_REPROCESSABLE],
                ).fetchall()
                extracted = extracted_at.strftime("%Y-%m-%d %H:%M:%S")
                columns = [_clean(pa.array([str(r[2].get(n, "")) for r in rows], pa.string())) for n in names]
                extra = [r[2].get("extra_columns") for r in rows]
                batch = Batch(np.array([r[1] for r in rows], dtype=np.int64), columns, extra if any(extra) else None)
                validator = BatchValidator(contract, Context(loader.units, extracted, settings.pii_hash_key))
                checked = validator.check(batch.columns)
                good = [rows[i][0] for i in range(len(rows)) if not checked.bad[i]]
                if not good:
                    continue
                load_id = conn.execute("select nextval('audit.load_id_seq')").fetchone()[0]
                table = loader._raw_rows(batch, checked, validator, load_id, source_file, extracted)
                buffer = io.BytesIO()
                pcsv.write_csv(table, buffer, pcsv.WriteOptions(include_header=False))
                text_columns = ", ".join(names)
                with conn.cursor().copy(
                    f"copy {contract.raw_table} ({', '.join(copy_columns(contract))}) from stdin "
                    f"(format csv, force_null ({text_columns}))"
                ) as copy:
                    copy.write(buffer.getvalue())
                conn.execute(
                    "update quarantine.rows set resolved_at = now(), resolved_load_id = %s "
                    "where quarantine_id = any(%s)",
                    [load_id, good],
                )
                result = LoadResult(Path(source_file), "reprocessed", load_id=load_id, rows_read=len(good),
                                    rows_loaded=len(good), message="quarantined rows re-processed")
                loader._audit(result, Path(source_file), None, 0, Layout("quarantine"), extracted, "quarantine",
                              datetime.now(LOCAL_TZ), "reprocessed")
                fixed_total += len(good)
        still = conn.execute(
            "select count(*) from quarantine.rows where source = %s and resolved_at is null", [source]
        ).fetchone()[0]
        return fixed_total, still


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


__all__ = ["build", "connect", "ingest", "purge_personal_data", "reprocess_quarantine", "summary_rows"]

"""What every load into raw shares: one transaction per file (or submission), streamed through COPY, with
quarantine and audit. What is loaded, and how it is read, is the subclasses' part:

- ingestion/export_loader.py, ExportLoader: export files of a source system (one entity per file);
- ingestion/submission_loader.py, SubmissionLoader: self-report submissions (several entities per package).

`loader_for(source)` picks one. Each step takes the contract (entity) it works on as an argument: a source
may load several entities, and nothing here remembers which one it worked on last.

For each entity of a file: validate each record, COPY good rows into the raw table and spool bad rows to
quarantine, then move rows whose key repeats in the file with different content to quarantine, and write
the audit row — all in the file's transaction, so a crash leaves nothing behind. A rejected file gets only
an audit row (one: the same content rejected again for the same reason adds none).
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import time
import unicodedata
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import psycopg
import pyarrow as pa
from psycopg.types.json import Jsonb

from ingestion import binary_copy
from ingestion.contracts import CONTRACTS, Contract
from ingestion.dates import extraction_time
from ingestion.partitions import ArchivedMonth, ensure_month_partitions
from ingestion.readers import Batch, FileRejected, HeaderMap, Layout, clean_column, first_line, load_aliases, shown
from ingestion.reference import Catalog, UnitRegistry, validation_fingerprint
from ingestion.schema import copy_columns, ensure_schema, raw_columns
from ingestion.submissions import SUBMISSION_NAME
from ingestion.throughput import BoundedQueueWriter, KeyRepeats, file_sha256
from ingestion.validation import BatchValidator, Checked, Context

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def _use_a_pool_that_returns_memory() -> None:
    """Arrow's default pool (mimalloc) kept about 0.75 MiB per file: over the 151 files of the 30M benchmark a
    loader's RSS crept from 223 to 260 MiB (peak 316 MiB). jemalloc hands freed batches back: flat at 182-186
    MiB, peak 239 MiB, same speed (87.1 s against 86.5 s). Builds without jemalloc keep the default."""
    with suppress(NotImplementedError):
        pa.set_memory_pool(pa.jemalloc_memory_pool())


_use_a_pool_that_returns_memory()
# The reason of rows whose key repeats in their file: a fault of the file, which re-processing cannot fix.
DUPLICATE_IN_FILE = "appears more than once in the file with different content"


@dataclass
class LoadResult:
    path: Path
    status: str  # loaded | rejected | already_loaded | reprocessed
    load_id: int | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_skipped: int = 0
    message: str | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    again: bool = False  # rejected before with the same content and reason: load_id is that rejection's

    def summary(self) -> str:
        if self.status == "rejected":
            return f"REJECTED  {self.message}" + (f" (as before: load {self.load_id}; not recorded again)"
                                                  if self.again else "")
        if self.status == "already_loaded":
            return f"unchanged {shown(self.path)}: already loaded (load {self.load_id}), nothing to do"
        text = (f"loaded    {shown(self.path)}: {self.rows_read} rows read, {self.rows_loaded} loaded, "
                f"{self.rows_quarantined} quarantined, {self.rows_skipped} skipped (load {self.load_id}, "
                f"{self.seconds:.1f}s)")
        for warning in self.warnings:
            text += f"\n          warning: {warning}"
        return text


class WarehouseLost(Exception):
    """The connection to the warehouse broke during a load: the batch cannot go on."""


class LoadedMeanwhile(Exception):
    """Another loader committed the same content while this one loaded it: roll this load back."""

    def __init__(self, load_id: int):
        super().__init__(load_id)
        self.load_id = load_id


def _unexpected(exc: BaseException) -> str:
    """What went wrong, without the values involved (an error's text may quote the row it choked on, which may
    hold personal data): the kind of error, and the column when the server names one."""
    if isinstance(exc, psycopg.Error):
        where = re.search(r"column (\w+)", getattr(exc.diag, "context", None) or "")
        return f"the warehouse refused a value{f' in column {where[1]}' if where else ''} ({type(exc).__name__})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if isinstance(exc, MemoryError):
        return "out of memory"
    return type(exc).__name__


# A COPY cut short by a lost connection makes psycopg log its own warning; the loader reports it, once.
logging.getLogger("psycopg").addFilter(lambda record: not str(record.msg).startswith("error ignored terminating"))


def expand_paths(paths: list[Path], source: str = "one_stop_shop") -> list[Path]:
    """Files as given, and the accepted files inside folders, in name order. For self-reports a folder is
    a submission when it is named like one, else a folder of submissions (ZIP files and folders)."""
    files = []
    for path in paths:
        if source == "self_reports" and path.is_dir():
            if SUBMISSION_NAME.match(unicodedata.normalize("NFC", path.name)):
                files.append(path)
            else:
                files += sorted(p for p in path.iterdir() if not p.name.startswith("."))
        elif path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        else:
            files.append(path)
    return files


def loader_for(conn: psycopg.Connection, source: str, reference_dir: Path, aliases_file: Path,
               pii_hash_key: bytes) -> Loader:
    """The loader of a source: self-reports come as submissions, every other source as export files."""
    from ingestion.export_loader import ExportLoader
    from ingestion.submission_loader import SubmissionLoader

    if source not in CONTRACTS:
        raise ValueError(f"unknown source '{source}' (known: {', '.join(CONTRACTS)})")
    kind = SubmissionLoader if source == SubmissionLoader.SOURCE else ExportLoader
    return kind(conn, source, reference_dir, aliases_file, pii_hash_key)


class Loader:
    """The steps every load shares. A subclass says how a path becomes rows (`_load`)."""

    catalog: Catalog | None = None  # the self-report catalogue, for the validators that need it
    extraction_in_name = True  # the file's name says when it was extracted (else: the load time)

    def __init__(self, conn: psycopg.Connection, source: str, reference_dir: Path, aliases_file: Path,
                 pii_hash_key: bytes):
        self.conn = conn
        self.source = source
        self.contracts: list[Contract] = CONTRACTS[source]
        self.units = UnitRegistry.from_dir(reference_dir)
        self.validated_against = validation_fingerprint(reference_dir)
        aliases = load_aliases(aliases_file)
        self.header_maps = {c.entity: HeaderMap(c, aliases) for c in self.contracts}
        self.pii_hash_key = pii_hash_key
        if conn.info.encoding != "utf-8":  # the server checks the UTF-8 of what COPY sends only from UTF-8 clients
            conn.execute("set client_encoding to 'UTF8'")
        # A loader killed mid-statement leaves its query running until the server next writes to it; this makes
        # the server look every few seconds and stop the query (and roll the load back) once the client is gone.
        conn.execute("set client_connection_check_interval = '2s'")
        ensure_schema(conn)

    # -- public --------------------------------------------------------------------------------------
    def load(self, path: Path) -> LoadResult:
        """Load one file (or submission). Whatever goes wrong with the file itself becomes its rejection, with
        an audit row, so a batch goes on with the next file; only a lost warehouse connection stops it."""
        path = Path(path)
        started_at = datetime.now(LOCAL_TZ)
        try:
            # the month's raw partitions, before the file's transaction (ingestion/partitions.py)
            when = (self.extraction_in_name and extraction_time(path)[0]) or started_at.strftime("%Y-%m-%d %H:%M:%S")
            ensure_month_partitions(self.conn, [c.raw_table for c in self.contracts], when, shown(path))
            return self._load(path, started_at)
        except ArchivedMonth as exc:
            return self._reject(self.contracts[0], path, None, path.stat().st_size if path.is_file() else 0,
                                Layout(path.suffix.lower().lstrip(".") or "unknown"), started_at, str(exc))
        except Exception as exc:
            if self.conn.closed or self.conn.broken:
                raise WarehouseLost(f"{shown(path)}: the connection to the warehouse was lost while loading it "
                                    f"({first_line(exc)}); nothing of this file was kept") from None
            if os.environ.get("REFORMWH_DEBUG"):
                raise
            layout = Layout(path.suffix.lower().lstrip(".") or "unknown")
            try:
                sha, size = file_sha256(path) if path.is_file() else (None, 0)
            except OSError:
                sha, size = None, 0
            # recorded under the source's first entity: which one the file was is not known
            return self._reject(self.contracts[0], path, sha, size, layout, started_at,
                                f"{shown(path)}: could not be loaded ({_unexpected(exc)}); nothing of it was kept")

    def _load(self, path: Path, started_at: datetime) -> LoadResult:
        raise NotImplementedError

    def reprocess_quarantine(self) -> tuple[int, int]:
        """Re-validate open quarantine rows (e.g. after a unit was added to the registry) with the same
        validator as a first load; rows that now pass go to raw with their original file, line and
        extraction time, under a new load whose audit row says 'reprocessed'. Rows quarantined for a key
        repeated in their file stay: the file, not the reference data, is wrong. Only rows last validated
        against other reference data or code are read (quarantine.rows.validated_against): the others would fail
        again, and a daily build would otherwise re-validate years of quarantine. Returns (loaded, still open)."""
        fixed_total = sum(self._reprocess_entity(contract) for contract in self.contracts)
        still = self.conn.execute(
            "select count(*) from quarantine.rows where source = %s and resolved_at is null", [self.source]
        ).fetchone()[0]
        return fixed_total, still

    # -- one transaction per content -----------------------------------------------------------------
    def _load_once(self, contract: Contract, path: Path, sha: str | Future, size: int, layout: Layout,
                   started: float, started_at: datetime, load_content: Callable[[], LoadResult]) -> LoadResult:
        """One transaction for a file's content, under a lock on its hash: skipped when that content is loaded
        already (as `contract`'s entity), else `load_content()`; a FileRejected rolls everything back and
        leaves only the audit row of the rejection. A hash still being computed (a Future) is checked by
        `load_content` once the rows are in: a loader that committed the same content meanwhile wins, and this
        load is rolled back."""
        try:
            with self.conn.transaction():
                if isinstance(sha, str) and (loaded := self._lock_content(contract, sha)):
                    return LoadResult(path, "already_loaded", load_id=loaded)
                result = load_content()
        except FileRejected as exc:
            return self._reject(contract, path, sha if isinstance(sha, str) else sha.result(), size, layout,
                                started_at, str(exc))
        except LoadedMeanwhile as exc:
            return LoadResult(path, "already_loaded", load_id=exc.load_id)
        result.seconds = time.monotonic() - started
        return result

    def _lock_content(self, contract: Contract, sha: str, rejected_for: str | None = None) -> int | None:
        """Take the transaction's lock on a content hash; the load of `contract` that loaded that content or,
        given a message, the first that rejected it with that message, if any."""
        self.conn.execute("select pg_advisory_xact_lock(hashtextextended(%s, 0))", [sha])
        status = "loaded" if rejected_for is None else "rejected"  # a literal: the partial unique index applies
        return self.conn.execute(
            "select min(load_id) from audit.file_loads where source = %s and entity = %s and file_sha256 = %s "
            f"and status = '{status}' and (%s::text is null or message = %s)",
            [self.source, contract.entity, sha, rejected_for, rejected_for]).fetchone()[0]

    def _next_load_id(self) -> int:
        return self.conn.execute("select nextval('audit.load_id_seq')").fetchone()[0]

    # -- one entity's rows ---------------------------------------------------------------------------
    def _copy_entity(self, contract: Contract, batches, result: LoadResult, source_file: str,
                     extracted_at: str) -> None:
        """Validate and COPY batches of `contract`'s entity under result.load_id; quarantine the bad rows and
        the rows whose key repeats with different content; fill the result's counts."""
        load_id = result.load_id
        validator = BatchValidator(contract, Context(self.units, extracted_at, self.pii_hash_key, self.catalog))
        keys = KeyRepeats(contract.key_indexes)
        read = loaded = quarantined = 0

        with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
            with self._raw_copy(contract) as copy:
                for batch in batches:
                    for place, line, reason in batch.unreadable:
                        spool.write(json.dumps([place, {"line": line}, [reason]], ensure_ascii=False) + "\n")
                    quarantined += len(batch.unreadable)
                    read += batch.num_rows + len(batch.unreadable)
                    if not batch.num_rows:
                        continue
                    checked = validator.check(batch.columns)
                    keys.add(batch.columns, ~checked.bad)
                    for i, reasons in checked.reasons.items():
                        # the record as received: contract field -> text, plus the file's other columns
                        values = [c[i].as_py() for c in batch.columns]
                        record = {f.name: v for f, v in zip(contract.fields, values, strict=True) if v != ""}
                        if batch.extra and batch.extra[i]:
                            record["extra_columns"] = batch.extra[i]
                        spool.write(json.dumps([int(batch.places[i]), record, reasons], ensure_ascii=False) + "\n")
                    quarantined += len(checked.reasons)
                    loaded += self._write_raw(copy, contract, batch, checked, load_id, source_file, extracted_at)
            spool.seek(0)
            with self.conn.cursor().copy(
                "copy quarantine.rows (load_id, source, entity, source_file, source_line, extracted_at, record, "
                "reasons, validated_against) from stdin"
            ) as copy:
                for line in spool:
                    place, record, reasons = json.loads(line)
                    copy.write_row([load_id, self.source, contract.entity, source_file, place, extracted_at,
                                    Jsonb(record), reasons, self.validated_against])
        moved = self._quarantine_conflicting_duplicates(contract, load_id) if keys.may_repeat() else 0
        result.rows_read = read
        result.rows_loaded = loaded - moved
        result.rows_quarantined = quarantined + moved

    @contextmanager
    def _raw_copy(self, contract: Contract):
        """A binary COPY into `contract`'s raw table (ingestion/binary_copy.py says why binary)."""
        sql = f"copy {contract.raw_table} ({', '.join(copy_columns(contract))}) from stdin (format binary)"
        cursor = self.conn.cursor()
        # A writer thread sends to the server while the next block is parsed and validated.
        with cursor.copy(sql, writer=BoundedQueueWriter(cursor)) as copy:
            copy.write(binary_copy.SIGNATURE)
            yield copy
            copy.write(binary_copy.TRAILER)

    def _write_raw(self, copy, contract: Contract, batch: Batch, checked: Checked, load_id: int,
                   source_file: str, extracted_at: str) -> int:
        """Send the batch's good rows to an open raw COPY; returns how many."""
        columns = _raw_columns(contract, batch, checked, load_id, source_file, extracted_at)
        if checked.bad.any():
            good = pa.array(~checked.bad)
            columns = [c.filter(good) if isinstance(c, pa.Array) else c for c in columns]
        types = [binary_copy.sql_type_name(t) for name, t in raw_columns(contract) if name != "loaded_at"]
        copy.write(memoryview(binary_copy.encode_rows(columns, types)))
        return int((~checked.bad).sum())

    def _quarantine_conflicting_duplicates(self, contract: Contract, load_id: int) -> int:
        """Rows whose key repeats within the file with different content: all of them go to quarantine.
        Grouping and joins by equality only (key values are never null: empty is ''), so the server hashes
        them: linear in the file's rows, however many keys repeat."""
        table = contract.raw_table
        key = ", ".join(contract.key)
        content = "md5(row(" + ", ".join(["extra_columns::text"] + [f.name for f in contract.fields]) + ")::text)"
        record = "jsonb_strip_nulls(jsonb_build_object(" + ", ".join(
            f"'{f.name}', nullif(r.{f.name}, '')" for f in contract.fields
        ) + ", 'extra_columns', r.extra_columns))"
        headers = ", ".join(contract.by_name(k).header for k in contract.key)
        reason = f"the same {headers} {DUPLICATE_IN_FILE}"
        # The planner has no statistics on a load_id just written (it expects one row) and joins `repeated` to the
        # load's rows by a nested loop: the load read once per repeated key. Hash or merge joins read it once.
        self.conn.execute("set local enable_nestloop = off")
        moved = self.conn.execute(
            f"""
            with repeated as materialized (
                select {key} from {table} where load_id = %(load_id)s group by {key} having count(*) > 1
            ),
            conflicting as materialized (
                select {key} from {table} r join repeated using ({key})
                where r.load_id = %(load_id)s
                group by {key} having min({content}) <> max({content})
            ),
            moved as (
                delete from {table} r using conflicting c
                where r.load_id = %(load_id)s and {" and ".join(f"r.{k} = c.{k}" for k in contract.key)}
                returning r.*
            )
            insert into quarantine.rows
                (load_id, source, entity, source_file, source_line, extracted_at, record, reasons, validated_against)
            select %(load_id)s, %(source)s, %(entity)s, r.source_file, r.source_line, r.extracted_at, {record},
                   array[%(reason)s], %(validated_against)s
            from moved r
            """,
            {"load_id": load_id, "source": self.source, "entity": contract.entity, "reason": reason,
             "validated_against": self.validated_against},
        ).rowcount
        self.conn.execute("reset enable_nestloop")
        return moved

    def _reprocess_entity(self, contract: Contract) -> int:
        """Re-validate `contract`'s open quarantine rows, one transaction per load that quarantined them (found by
        quarantine's index on load_id: by file name and time, each load scanned every open row of the entity)."""
        conn = self.conn
        names = [f.name for f in contract.fields]
        open_scope = ("from quarantine.rows where source = %s and entity = %s and resolved_at is null "
                      "and validated_against is distinct from %s and record ? %s and not reasons[1] like %s")
        scope = [self.source, contract.entity, self.validated_against, contract.key[0], f"% {DUPLICATE_IN_FILE}"]
        groups = conn.execute(
            f"select load_id, source_file, extracted_at {open_scope} group by 1, 2, 3 order by 3, 2, 1", scope
        ).fetchall()
        fixed_total = 0
        for quarantined_by, source_file, extracted_at in groups:
            try:  # rows of an archived month stay in quarantine until it is restored
                ensure_month_partitions(conn, [contract.raw_table], extracted_at)
            except ArchivedMonth as exc:
                logging.getLogger(__name__).warning("quarantine of %s not re-processed: %s", source_file, exc)
                continue
            with conn.transaction():
                quarantined = conn.execute(  # (quarantine_id, source_line, record)
                    f"select quarantine_id, source_line, record {open_scope} and load_id = %s "
                    "order by quarantine_id for update",
                    [*scope, quarantined_by],
                ).fetchall()
                extracted = extracted_at.strftime("%Y-%m-%d %H:%M:%S")
                columns = [clean_column(pa.array([str(record.get(n, "")) for _, _, record in quarantined],
                                                 pa.string())) for n in names]
                extra = [record.get("extra_columns") for _, _, record in quarantined]
                batch = Batch(np.array([line for _, line, _ in quarantined], dtype=np.int64), columns,
                              extra if any(extra) else None)
                context = Context(self.units, extracted, self.pii_hash_key, self.catalog)
                checked = BatchValidator(contract, context).check(batch.columns)
                good = [quarantined[i][0] for i in range(len(quarantined)) if not checked.bad[i]]
                conn.execute("update quarantine.rows set validated_against = %s where quarantine_id = any(%s)",
                             [self.validated_against, [q[0] for q in quarantined]])
                if not good:
                    continue
                load_id = self._next_load_id()
                with self._raw_copy(contract) as copy:
                    self._write_raw(copy, contract, batch, checked, load_id, source_file, extracted)
                conn.execute("update quarantine.rows set resolved_at = now(), resolved_load_id = %s "
                             "where quarantine_id = any(%s)", [load_id, good])
                result = LoadResult(Path(source_file), "reprocessed", load_id=load_id, rows_read=len(good),
                                    rows_loaded=len(good), message="quarantined rows re-processed")
                self._audit(contract, result, Path(source_file), None, 0, Layout("quarantine"), extracted,
                            "quarantine", datetime.now(LOCAL_TZ))
                fixed_total += len(good)
        return fixed_total

    # -- audit -----------------------------------------------------------------------------------------
    def _audit(self, contract: Contract, result: LoadResult, path: Path, sha: str | None, size: int,
               layout: Layout, extracted_at: str | None, origin: str | None, started_at: datetime) -> None:
        self.conn.execute(
            """
            insert into audit.file_loads (load_id, source, entity, file_name, file_path, file_sha256, file_bytes,
                file_format, encoding, delimiter, sheet, header_line, extracted_at, extracted_at_origin,
                started_at, status, rows_read, rows_loaded, rows_quarantined, rows_skipped, message, warnings)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            """,
            [result.load_id, self.source, contract.entity, shown(path), shown(str(path.resolve())), sha, size,
             layout.file_format, layout.encoding, layout.delimiter, layout.sheet, layout.header_line,
             extracted_at, origin, started_at, result.status, result.rows_read, result.rows_loaded,
             result.rows_quarantined, result.rows_skipped, result.message, Jsonb(result.warnings)],
        )

    def _reject(self, contract: Contract, path: Path, sha: str | None, size: int, layout: Layout,
                started_at: datetime, message: str) -> LoadResult:
        """The audit row of a refused file, recorded as `contract`'s entity."""
        if sha is None and path.is_file():  # hashed, so that the same bad file is known when it comes again
            sha = file_sha256(path)[0]
        with self.conn.transaction():
            # the same content refused for the same reason: one audit row says it (a repeat run adds none)
            if sha is not None and (earlier := self._lock_content(contract, sha, rejected_for=message)) is not None:
                return LoadResult(path, "rejected", load_id=earlier, message=message, again=True)
            result = LoadResult(path, "rejected", load_id=self._next_load_id(), message=message)
            extracted_at, origin = extraction_time(path)
            self._audit(contract, result, path, sha, size, layout, extracted_at, origin, started_at)
        return result


def _raw_columns(contract: Contract, batch: Batch, checked: Checked, load_id: int, source_file: str,
                 extracted_at: str) -> list[pa.Array | pa.Scalar]:
    """The batch's rows as the raw table's columns, in COPY order; the lineage is one value per batch."""
    columns: list[pa.Array | pa.Scalar] = [
        pa.scalar(load_id, pa.int64()), pa.scalar(source_file), pa.array(batch.places, pa.int32()),
        pa.scalar(extracted_at),
    ]
    columns += batch.columns
    columns.append(
        pa.array([json.dumps(e, ensure_ascii=False) if e else None for e in batch.extra], pa.string())
        if batch.extra else pa.scalar(None, pa.string())
    )
    columns += [checked.parsed[f.name] for f in contract.fields if f.parsed]
    if checked.id_hash is not None:
        columns.append(checked.id_hash)
    return columns

"""Load export files into raw: one transaction per file, streamed through COPY, with quarantine and audit.

For each file: hash it (a file already loaded is recognised and skipped), read it with the reader of its
format, validate each record, COPY good rows into the raw table and spool bad rows to quarantine, then
move rows whose key repeats in the file with different content to quarantine, and write the audit row —
all in one transaction, so a crash leaves nothing behind. A rejected file gets only an audit row (one:
the same content rejected again for the same reason adds none).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import queue
import re
import tempfile
import threading
import time
import unicodedata
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import psycopg
import pyarrow as pa
from psycopg.copy import QueuedLibpqWriter
from psycopg.types.json import Jsonb

from ingestion import binary_copy
from ingestion.columns import string_buffers
from ingestion.contracts import (
    CONTRACTS,
    EVIDENCE_FILES,
    EVIDENCE_ITEMS,
    FIGURES,
    SCORES,
    SUBMISSIONS,
    Contract,
)
from ingestion.dates import extraction_time
from ingestion.parsing import PARSERS
from ingestion.readers import (
    Batch,
    FileRejected,
    HeaderMap,
    Layout,
    clean_column,
    load_aliases,
    open_batches,
    read_workbook,
    reject_undecodable,
    shown,
)
from ingestion.reference import Catalog, UnitRegistry, validation_fingerprint
from ingestion.schema import copy_columns, ensure_schema, raw_columns
from ingestion.submissions import INFO_SHEET, SUBMISSION_NAME, Limits, find_sheet, open_submission, read_info_sheet
from ingestion.validation import BatchValidator, Context

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
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


class KeyRepeats:
    """Whether a key may repeat among the rows a file loads, from a 64-bit hash of each key: most files have
    none, and then the database need not group the whole load by key to find out. 8 bytes a row, up to
    MAX_ROWS rows; beyond that, or when two hashes match, the answer is 'maybe' and the database decides."""

    MAX_ROWS = 8_000_000

    def __init__(self, key_indexes):
        self.key_indexes = list(key_indexes)
        self.hashes: list[np.ndarray] | None = []
        self.rows = 0

    def add(self, columns: list[pa.Array], loaded: np.ndarray) -> None:
        if self.hashes is None:
            return
        self.rows += int(loaded.sum())
        if self.rows > self.MAX_ROWS:
            self.hashes = None
            return
        mask = pa.array(loaded)
        combined = None
        for i in self.key_indexes:
            hashes = _string_hashes(columns[i].filter(mask))
            combined = hashes if combined is None else combined * _GOLDEN ^ hashes
        self.hashes.append(combined.view(np.int64))

    def may_repeat(self) -> bool:
        if self.hashes is None:
            return True
        hashes = np.sort(np.concatenate(self.hashes)) if self.hashes else np.zeros(0, dtype=np.int64)
        return bool((hashes[1:] == hashes[:-1]).any())


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # odd, so multiplying by it loses no bits


def _string_hashes(column: pa.Array) -> np.ndarray:
    """A 64-bit hash (uint64) of each value, eight bytes at a time with NumPy; it depends on the value alone,
    not on the others in the column."""
    offsets, data = string_buffers(column)
    lengths = np.diff(offsets)
    width = int(lengths.max()) if lengths.size else 0
    uniform = bool(width) and (lengths == width).all()  # the usual case: dossier codes are all one width
    padded = np.zeros((len(column), -(-width // 8) * 8), dtype=np.uint8)
    if uniform:
        padded[:, :width] = data[offsets[0]:offsets[-1]].reshape(-1, width)
    elif width:
        rows = np.repeat(np.arange(len(column)), lengths)
        padded[rows, np.arange(rows.size) - np.repeat(offsets[:-1] - offsets[0], lengths)] = \
            data[offsets[0]:offsets[-1]]
    hashes = lengths.astype(np.uint64)
    for i, word in enumerate(padded.view(np.uint64).T):
        mixed = (hashes ^ word) * _GOLDEN
        mixed ^= mixed >> np.uint64(29)
        hashes = mixed if uniform else np.where(lengths > 8 * i, mixed, hashes)
    return hashes


# Hashes files while they load (hashlib lets go of the GIL on large blocks).
HASHER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="reformwh-hash")


class WarehouseLost(Exception):
    """The connection to the warehouse broke during a load: the batch cannot go on."""


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


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


class _LoadedMeanwhile(Exception):
    """Another loader committed the same content while this one loaded it: roll this load back."""

    def __init__(self, load_id: int):
        super().__init__(load_id)
        self.load_id = load_id


class BoundedQueueWriter(QueuedLibpqWriter):
    """psycopg's threaded COPY writer with a short queue, so a slow server cannot make the loader
    buffer the file in memory (psycopg's default queue holds up to 128 MiB)."""

    def __init__(self, cursor):
        super().__init__(cursor)
        self._queue = queue.Queue(maxsize=32)


def read_ahead(items: Iterator, depth: int = 2) -> Iterator:
    """`items`, produced in a helper thread up to `depth` ahead: the next blocks are read, cleaned and validated
    while this thread encodes and sends the current one (Arrow and NumPy release the GIL as they work).
    An exception in the helper is raised here; leaving early stops the helper."""
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    break
            else:
                put((end, None))
        except BaseException as exc:  # handed to the consumer, which raises it
            put((end, exc))
        finally:
            getattr(items, "close", lambda: None)()

    helper = threading.Thread(target=produce, name="reformwh-read-ahead", daemon=True)
    helper.start()
    try:
        while True:
            item, error = handoff.get()
            if item is end:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        helper.join()


def file_sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


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


class Loader:
    def __init__(self, conn: psycopg.Connection, source: str, reference_dir: Path, aliases_file: Path,
                 pii_hash_key: bytes):
        if source not in CONTRACTS:
            raise ValueError(f"unknown source '{source}' (known: {', '.join(CONTRACTS)})")
        self.conn = conn
        self.source = source
        self.contracts: list[Contract] = CONTRACTS[source]
        self.units = UnitRegistry.from_dir(reference_dir)
        self.validated_against = validation_fingerprint(reference_dir)
        aliases = load_aliases(aliases_file)
        self.header_maps = {c.entity: HeaderMap(c, aliases) for c in self.contracts}
        self.pii_hash_key = pii_hash_key
        self.catalog = Catalog.from_dir(reference_dir) if source == "self_reports" else None
        self.limits = Limits.from_env()
        self._use(self.contracts[0])
        if conn.info.encoding != "utf-8":  # the server checks the UTF-8 of what COPY sends only from UTF-8 clients
            conn.execute("set client_encoding to 'UTF8'")
        # A loader killed mid-statement leaves its query running until the server next writes to it; this makes
        # the server look every few seconds and stop the query (and roll the load back) once the client is gone.
        conn.execute("set client_connection_check_interval = '2s'")
        ensure_schema(conn)

    def _use(self, contract: Contract) -> None:
        """The contract (entity) the next steps work on: a source may export several entities."""
        self.contract = contract
        self.header_map = self.header_maps[contract.entity]

    def _choose_contract(self, path: Path) -> Contract:
        """The entity of a file: the only one of its source, else by file name prefix, else the one whose
        required headers the file has."""
        if len(self.contracts) == 1:
            return self.contracts[0]
        name = unicodedata.normalize("NFC", path.name).casefold()
        for contract in self.contracts:
            if any(name.startswith(prefix) for prefix in contract.file_prefixes):
                return contract
        problems = []
        for contract in self.contracts:
            try:
                _, batches = open_batches(path, self.header_maps[contract.entity])
                next(iter(batches), None)
                return contract
            except FileRejected as exc:
                problems.append(f"as {contract.entity}: {exc}")
        names = " or ".join(f"'{c.file_prefixes[0]}_…'" for c in self.contracts)
        raise FileRejected(f"{shown(path)}: cannot tell which export this is (name it {names}); "
                           + "; ".join(problems))

    # -- public --------------------------------------------------------------------------------------
    def load(self, path: Path) -> LoadResult:
        """Load one file (or submission). Whatever goes wrong with the file itself becomes its rejection, with
        an audit row, so a batch goes on with the next file; only a lost warehouse connection stops it."""
        path = Path(path)
        started_at = datetime.now(LOCAL_TZ)
        try:
            return self._load(path, started_at)
        except Exception as exc:
            if self.conn.closed or self.conn.broken:
                raise WarehouseLost(f"{shown(path)}: the connection to the warehouse was lost while loading it "
                                    f"({_first_line(exc)}); nothing of this file was kept") from None
            if os.environ.get("REFORMWH_DEBUG"):
                raise
            self._use(self.contracts[0])
            layout = Layout(path.suffix.lower().lstrip(".") or "unknown")
            try:
                sha, size = file_sha256(path) if path.is_file() else (None, 0)
            except OSError:
                sha, size = None, 0
            return self._reject(path, sha, size, layout, started_at,
                                f"{shown(path)}: could not be loaded ({_unexpected(exc)}); nothing of it was kept")

    def _load(self, path: Path, started_at: datetime) -> LoadResult:
        started = time.monotonic()
        if self.source == "self_reports":
            return self._load_submission(path, started, started_at)
        if not path.is_file():
            return self._reject(path, None, 0, Layout("unknown"), started_at, f"{path}: no such file")
        size = path.stat().st_size
        layout = Layout(path.suffix.lower().lstrip(".") or "unknown")
        try:
            self._use(self._choose_contract(path))
        except FileRejected as exc:
            return self._reject(path, file_sha256(path)[0], size, layout, started_at, str(exc))
        if self._loaded_with_size(size):  # this content may be loaded already: know before loading it
            sha: str | Future = file_sha256(path)[0]
        else:  # it cannot be: hash the file while it loads, instead of reading it twice in a row
            sha = HASHER.submit(lambda: file_sha256(path)[0])
        return self._load_once(path, sha, size, layout, started, started_at,
                               lambda: self._load_rows(path, sha, size, layout, started_at))

    def _loaded_with_size(self, size: int) -> bool:
        return self.conn.execute(
            "select exists (select from audit.file_loads where source = %s and entity = %s and file_bytes = %s "
            "and status = 'loaded')", [self.source, self.contract.entity, size],
        ).fetchone()[0]

    def _load_once(self, path: Path, sha: str | Future, size: int, layout: Layout, started: float,
                   started_at: datetime, load_rows) -> LoadResult:
        """One transaction for a file's content, under a lock on its hash: skipped when that content is loaded
        already (for the current entity), else `load_rows()`; a FileRejected rolls everything back and leaves
        only the audit row of the rejection. A hash still being computed (a Future) is checked by `load_rows`
        once the rows are in: a loader that committed the same content meanwhile wins, and this load is rolled
        back."""
        contract = self.contract  # the entity the content hash is recorded under
        try:
            with self.conn.transaction():
                if isinstance(sha, str) and (loaded := self._lock_content(sha)):
                    return LoadResult(path, "already_loaded", load_id=loaded)
                result = load_rows()
        except FileRejected as exc:
            self._use(contract)
            return self._reject(path, sha if isinstance(sha, str) else sha.result(), size, layout, started_at,
                                str(exc))
        except _LoadedMeanwhile as exc:
            return LoadResult(path, "already_loaded", load_id=exc.load_id)
        result.seconds = time.monotonic() - started
        return result

    def _lock_content(self, sha: str) -> int | None:
        """Take the transaction's lock on a content hash; the load that holds that content, if any."""
        self.conn.execute("select pg_advisory_xact_lock(hashtextextended(%s, 0))", [sha])
        row = self.conn.execute(
            "select load_id from audit.file_loads where source = %s and entity = %s "
            "and file_sha256 = %s and status = 'loaded'",
            [self.source, self.contract.entity, sha],
        ).fetchone()
        return row[0] if row else None

    # -- self-report submissions ---------------------------------------------------------------------
    def _load_submission(self, path: Path, started: float, started_at: datetime) -> LoadResult:
        """A submission (ZIP or folder): its header, sheets and evidence files, each entity with its own
        audit row, and the package as received — all in one transaction, or refused whole."""
        self._use(SUBMISSIONS)
        layout = Layout("folder" if path.is_dir() else path.suffix.lower().lstrip(".") or "unknown")
        if not path.exists():
            return self._reject(path, None, 0, layout, started_at, f"{path}: no such file or folder")
        try:
            submission = open_submission(path, self.limits)
        except FileRejected as exc:
            return self._reject(path, None, 0, layout, started_at, str(exc))
        return self._load_once(path, submission.sha256, len(submission.package), layout, started, started_at,
                               lambda: self._load_submission_rows(path, submission, layout, started_at))

    def _load_submission_rows(self, path: Path, submission, layout: Layout, started_at: datetime) -> LoadResult:
        import openpyxl

        label, sha = shown(path), submission.sha256
        extracted_at = started_at.strftime("%Y-%m-%d %H:%M:%S")  # a submission carries no extraction time
        annual = submission.period_key.endswith("-Y")
        constants = {"submission_id": sha, "unit_code": submission.unit_code, "period_key": submission.period_key}
        with tempfile.TemporaryDirectory() as folder:
            # Our own name for the workbook, never one taken from the archive.
            workbook_path = Path(folder) / f"{submission.unit_code}_{submission.period_key}.xlsx"
            workbook_path.write_bytes(submission.workbook)
            try:
                workbook = openpyxl.load_workbook(workbook_path, read_only=True, data_only=True)
            except Exception as exc:  # openpyxl raises many kinds on a damaged workbook
                raise FileRejected(f"{label}: {submission.workbook_name}: not a readable .xlsx workbook ({exc})"
                                   ) from None
            try:
                info = read_info_sheet(workbook, label)
                sheets = {contract.entity: find_sheet(workbook, contract.file_prefixes[0], label,
                                                      required=annual or contract is not SCORES)
                          for contract in (SCORES, FIGURES, EVIDENCE_ITEMS)}
                sheets = {entity: sheet.title for entity, sheet in sheets.items() if sheet is not None}
            finally:
                workbook.close()
            header = self._submission_header(label, submission, info, extracted_at)
            total = LoadResult(path, "loaded")
            entities = [(SUBMISSIONS, Layout(layout.file_format), iter([_batch_of([header], SUBMISSIONS)]))]
            for contract in (SCORES, FIGURES, EVIDENCE_ITEMS):
                if contract.entity in sheets:
                    sheet_layout = Layout("xlsx", sheet=sheets[contract.entity],
                                          max_rows=self.limits.max_sheet_rows)
                    self._use(contract)
                    batches = read_workbook(workbook_path, self.header_map, sheet_layout)
                    entities.append((contract, sheet_layout, _with_constants(batches, contract, constants)))
            files = [{**constants, "file_path": f.path, "file_name": f.name, "file_bytes": str(f.size),
                      "file_sha256": f.sha256} for f in submission.files]
            entities.append((EVIDENCE_FILES, Layout(layout.file_format), iter([_batch_of(files, EVIDENCE_FILES)])))
            for contract, entity_layout, batches in entities:
                self._use(contract)
                load_id = self.conn.execute("select nextval('audit.load_id_seq')").fetchone()[0]
                result = LoadResult(path, "loaded", load_id=load_id)
                self._copy_entity(batches, result, label, extracted_at)
                result.rows_skipped = entity_layout.rows_skipped
                self._audit(result, path, sha, len(submission.package), entity_layout, extracted_at, "load time",
                            started_at, "loaded")
                total.load_id = total.load_id or load_id
                total.rows_read += result.rows_read
                total.rows_loaded += result.rows_loaded
                total.rows_quarantined += result.rows_quarantined
                total.rows_skipped += result.rows_skipped
        self.conn.execute(
            "insert into raw.self_reports__packages (submission_id, load_id, package_name, package_format, "
            "package_bytes, package) values (%s, %s, %s, %s, %s, %s) on conflict do nothing",
            [sha, total.load_id, shown(path), submission.package_format, len(submission.package), submission.package],
        )
        self._use(SUBMISSIONS)
        return total

    def _submission_header(self, label: str, submission, info: dict, extracted_at: str) -> dict[str, str]:
        """The sheet 'Thông tin', checked against the submission's name: a submission that does not say
        clearly whose report it is, for which period and when it was sent, is refused."""
        where = f"{label}: sheet '{INFO_SHEET}'"
        for name, heading in (("unit_code", "Mã đơn vị"), ("period_key", "Kỳ báo cáo"), ("sent_at", "Ngày gửi")):
            if not info.get(name, ("",))[0]:
                raise FileRejected(f"{where}: '{heading}' is missing or empty")
        for name, heading, expected in (("unit_code", "Mã đơn vị", submission.unit_code),
                                        ("period_key", "Kỳ báo cáo", submission.period_key)):
            value, row = info[name]
            if value != expected:
                raise FileRejected(f"{where}, row {row}: {heading} '{value}' differs from the submission's name "
                                   f"('{expected}')")
        problem = self.units.problem(submission.unit_code, None)
        if problem:
            raise FileRejected(f"{where}, row {info['unit_code'][1]}: Mã đơn vị '{submission.unit_code}' {problem}")
        text, row = info["sent_at"]
        try:
            sent_at = PARSERS["event_time"](text)
        except ValueError as exc:
            raise FileRejected(f"{where}, row {row}: Ngày gửi '{text}' {exc}") from None
        if sent_at[:10] > extracted_at[:10]:
            raise FileRejected(f"{where}, row {row}: Ngày gửi '{text}' is after the submission was received "
                               f"({extracted_at})")
        return {"submission_id": submission.sha256, "unit_code": submission.unit_code,
                "period_key": submission.period_key, "sent_at": text, "signer_name": info.get("signer_name", ("",))[0],
                "package_name": submission.name, "package_format": submission.package_format,
                "package_bytes": str(len(submission.package)), "workbook_name": submission.workbook_name}

    # -- internals -----------------------------------------------------------------------------------
    def _load_rows(self, path: Path, sha: str | Future, size: int, layout: Layout, started_at: datetime) -> LoadResult:
        extracted_at, origin = extraction_time(path)
        if extracted_at is None:
            extracted_at = started_at.strftime("%Y-%m-%d %H:%M:%S")
        load_id = self.conn.execute("select nextval('audit.load_id_seq')").fetchone()[0]
        layout, batches = open_batches(path, self.header_map)
        result = LoadResult(path, "loaded", load_id=load_id)
        try:
            self._copy_entity(batches, result, shown(path), extracted_at)
        except (UnicodeDecodeError, psycopg.errors.CharacterNotInRepertoire,
                psycopg.errors.UntranslatableCharacter) as exc:
            reject_undecodable(path, layout)  # delimited text is checked for UTF-8 where it is decoded
            raise FileRejected(f"{shown(path)}: {str(exc).splitlines()[0]}") from None
        result.rows_skipped = layout.rows_skipped
        if layout.extra_columns:
            result.warnings.append(
                "columns outside the contract kept in raw.extra_columns: " + ", ".join(layout.extra_columns)
            )
        if isinstance(sha, Future):  # hashed while loading: lock and check before this load's audit row
            sha = sha.result()
            if loaded := self._lock_content(sha):
                raise _LoadedMeanwhile(loaded)
        self._audit(result, path, sha, size, layout, extracted_at, origin, started_at, "loaded")
        return result

    def _copy_entity(self, batches, result: LoadResult, source_file: str, extracted_at: str) -> None:
        """Validate and COPY batches of the current entity under result.load_id; quarantine the bad rows and
        the rows whose key repeats with different content; fill the result's counts."""
        contract, load_id = self.contract, result.load_id
        validator = BatchValidator(contract, self._context(extracted_at))
        keys = KeyRepeats([f.name for f in contract.fields].index(k) for k in contract.key)
        read = loaded = quarantined = 0

        def checked_batches():
            for batch in batches:
                checked = validator.check(batch.columns) if batch.num_rows else None
                if checked is not None:
                    keys.add(batch.columns, ~checked.bad)
                yield batch, checked

        with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
            with self._raw_copy() as copy:
                for batch, checked in read_ahead(checked_batches()):
                    for place, line, reason in batch.unreadable:
                        spool.write(json.dumps([place, {"line": line}, [reason]], ensure_ascii=False) + "\n")
                    quarantined += len(batch.unreadable)
                    read += batch.num_rows + len(batch.unreadable)
                    if not batch.num_rows:
                        continue
                    for i, reasons in checked.reasons.items():
                        extra = batch.extra[i] if batch.extra else None
                        record = self._record([c[i].as_py() for c in batch.columns], extra)
                        spool.write(json.dumps([int(batch.places[i]), record, reasons], ensure_ascii=False) + "\n")
                    quarantined += len(checked.reasons)
                    loaded += self._write_raw(copy, batch, checked, load_id, source_file, extracted_at)
            spool.seek(0)
            self._copy_quarantine(spool, load_id, source_file, extracted_at)
        moved = self._quarantine_conflicting_duplicates(load_id) if keys.may_repeat() else 0
        result.rows_read = read
        result.rows_loaded = loaded - moved
        result.rows_quarantined = quarantined + moved

    def _context(self, extracted_at: str) -> Context:
        return Context(self.units, extracted_at, self.pii_hash_key, self.catalog)

    def _record(self, values: list[str], extra: dict | None) -> dict:
        """A quarantined record as received: contract field -> text, plus the file's other columns."""
        record = {f.name: value for f, value in zip(self.contract.fields, values, strict=True) if value != ""}
        if extra:
            record["extra_columns"] = extra
        return record

    @contextmanager
    def _raw_copy(self):
        """A binary COPY into the current entity's raw table (ingestion/binary_copy.py says why binary)."""
        contract = self.contract
        sql = f"copy {contract.raw_table} ({', '.join(copy_columns(contract))}) from stdin (format binary)"
        cursor = self.conn.cursor()
        # A writer thread sends to the server while the next block is parsed and validated.
        with cursor.copy(sql, writer=BoundedQueueWriter(cursor)) as copy:
            copy.write(binary_copy.SIGNATURE)
            yield copy
            copy.write(binary_copy.TRAILER)

    def _write_raw(self, copy, batch, checked, load_id: int, source_file: str, extracted_at: str) -> int:
        """Send the batch's good rows to an open raw COPY; returns how many."""
        columns = self._raw_columns(batch, checked, load_id, source_file, extracted_at)
        if checked.bad.any():
            good = pa.array(~checked.bad)
            columns = [c.filter(good) if isinstance(c, pa.Array) else c for c in columns]
        copy.write(memoryview(binary_copy.encode_rows(columns, self._raw_types)))
        return int((~checked.bad).sum())

    def reprocess_quarantine(self) -> tuple[int, int]:
        """Re-validate open quarantine rows (e.g. after a unit was added to the registry) with the same
        validator as a first load; rows that now pass go to raw with their original file, line and
        extraction time, under a new load whose audit row says 'reprocessed'. Rows quarantined for a key
        repeated in their file stay: the file, not the reference data, is wrong. Only rows last validated
        against other reference data or code are read (quarantine.rows.validated_against): the others would fail
        again, and a daily build would otherwise re-validate years of quarantine. Returns (loaded, still open)."""
        fixed_total = 0
        for contract in self.contracts:
            self._use(contract)
            fixed_total += self._reprocess_entity()
        still = self.conn.execute(
            "select count(*) from quarantine.rows where source = %s and resolved_at is null", [self.source]
        ).fetchone()[0]
        return fixed_total, still

    def _reprocess_entity(self) -> int:
        conn, contract = self.conn, self.contract
        names = [f.name for f in contract.fields]
        open_rows = ("from quarantine.rows where source = %s and entity = %s and resolved_at is null "
                     "and validated_against is distinct from %s and record ? %s and not reasons[1] like %s")
        scope = [self.source, contract.entity, self.validated_against, contract.key[0], f"% {DUPLICATE_IN_FILE}"]
        groups = conn.execute(f"select source_file, extracted_at {open_rows} group by 1, 2 order by 2, 1",
                              scope).fetchall()
        fixed_total = 0
        for source_file, extracted_at in groups:
            with conn.transaction():
                rows = conn.execute(
                    f"select quarantine_id, source_line, record {open_rows} and source_file = %s "
                    "and extracted_at = %s order by quarantine_id for update",
                    [*scope, source_file, extracted_at],
                ).fetchall()
                extracted = extracted_at.strftime("%Y-%m-%d %H:%M:%S")
                columns = [clean_column(pa.array([str(r[2].get(n, "")) for r in rows], pa.string())) for n in names]
                extra = [r[2].get("extra_columns") for r in rows]
                batch = Batch(np.array([r[1] for r in rows], dtype=np.int64), columns, extra if any(extra) else None)
                validator = BatchValidator(contract, self._context(extracted))
                checked = validator.check(batch.columns)
                good = [rows[i][0] for i in range(len(rows)) if not checked.bad[i]]
                conn.execute("update quarantine.rows set validated_against = %s where quarantine_id = any(%s)",
                             [self.validated_against, [r[0] for r in rows]])
                if not good:
                    continue
                load_id = conn.execute("select nextval('audit.load_id_seq')").fetchone()[0]
                with self._raw_copy() as copy:
                    self._write_raw(copy, batch, checked, load_id, source_file, extracted)
                conn.execute("update quarantine.rows set resolved_at = now(), resolved_load_id = %s "
                             "where quarantine_id = any(%s)", [load_id, good])
                result = LoadResult(Path(source_file), "reprocessed", load_id=load_id, rows_read=len(good),
                                    rows_loaded=len(good), message="quarantined rows re-processed")
                self._audit(result, Path(source_file), None, 0, Layout("quarantine"), extracted, "quarantine",
                            datetime.now(LOCAL_TZ), "reprocessed")
                fixed_total += len(good)
        return fixed_total

    def _raw_columns(self, batch, checked, load_id: int, source_file: str,
                     extracted_at: str) -> list[pa.Array | pa.Scalar]:
        """The batch's rows as the raw table's columns, in COPY order; the lineage is one value per batch."""
        contract = self.contract
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

    @property
    def _raw_types(self) -> list[str]:
        return [binary_copy.sql_type_name(t) for name, t in raw_columns(self.contract) if name != "loaded_at"]

    def _copy_quarantine(self, spool, load_id: int, source_file: str, extracted_at: str) -> None:
        with self.conn.cursor().copy(
            "copy quarantine.rows (load_id, source, entity, source_file, source_line, extracted_at, record, reasons, "
            "validated_against) from stdin"
        ) as copy:
            for line in spool:
                place, record, reasons = json.loads(line)
                copy.write_row([load_id, self.source, self.contract.entity, source_file, place, extracted_at,
                                Jsonb(record), reasons, self.validated_against])

    def _quarantine_conflicting_duplicates(self, load_id: int) -> int:
        """Rows whose key repeats within the file with different content: all of them go to quarantine.
        Grouping and joins by equality only (key values are never null: empty is ''), so the server hashes
        them: linear in the file's rows, however many keys repeat."""
        contract = self.contract
        table = contract.raw_table
        key = ", ".join(contract.key)
        content = "md5(row(" + ", ".join(["extra_columns::text"] + [f.name for f in contract.fields]) + ")::text)"
        record = "jsonb_strip_nulls(jsonb_build_object(" + ", ".join(
            f"'{f.name}', nullif(r.{f.name}, '')" for f in contract.fields
        ) + ", 'extra_columns', r.extra_columns))"
        headers = ", ".join(contract.by_name(k).header for k in contract.key)
        reason = f"the same {headers} {DUPLICATE_IN_FILE}"
        return self.conn.execute(
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

    def _audit(self, result: LoadResult, path: Path, sha: str | None, size: int, layout: Layout,
               extracted_at: str | None, origin: str | None, started_at: datetime, status: str) -> None:
        self.conn.execute(
            """
            insert into audit.file_loads (load_id, source, entity, file_name, file_path, file_sha256, file_bytes,
                file_format, encoding, delimiter, sheet, header_line, extracted_at, extracted_at_origin,
                started_at, status, rows_read, rows_loaded, rows_quarantined, rows_skipped, message, warnings)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            """,
            [result.load_id, self.source, self.contract.entity, shown(path), shown(str(path.resolve())), sha, size,
             layout.file_format, layout.encoding, layout.delimiter, layout.sheet, layout.header_line,
             extracted_at, origin, started_at, status, result.rows_read, result.rows_loaded,
             result.rows_quarantined, result.rows_skipped, result.message, Jsonb(result.warnings)],
        )

    def _reject(self, path: Path, sha: str | None, size: int, layout: Layout, started_at: datetime,
                message: str) -> LoadResult:
        if sha is None and path.is_file():  # hashed, so that the same bad file is known when it comes again
            sha = file_sha256(path)[0]
        with self.conn.transaction():
            if sha is not None:
                # the same content refused for the same reason: one audit row says it (a repeat run adds none)
                self.conn.execute("select pg_advisory_xact_lock(hashtextextended(%s, 0))", [sha])
                earlier = self.conn.execute(
                    "select min(load_id) from audit.file_loads where source = %s and entity = %s "
                    "and file_sha256 = %s and status = 'rejected' and message = %s",
                    [self.source, self.contract.entity, sha, message]).fetchone()[0]
                if earlier is not None:
                    return LoadResult(path, "rejected", load_id=earlier, message=message, again=True)
            load_id = self.conn.execute("select nextval('audit.load_id_seq')").fetchone()[0]
            result = LoadResult(path, "rejected", load_id=load_id, message=message)
            extracted_at, origin = extraction_time(path)
            self._audit(result, path, sha, size, layout, extracted_at, origin, started_at, "rejected")
        return result


def _batch_of(rows: list[dict[str, str]], contract: Contract) -> Batch:
    """A batch of rows the loader builds itself (a submission's header, its files), numbered from 1."""
    columns = [clean_column(pa.array([r.get(f.name, "") for r in rows], pa.string())) for f in contract.fields]
    return Batch(np.arange(1, len(rows) + 1, dtype=np.int64), columns)


def _with_constants(batches, contract: Contract, constants: dict[str, str]):
    """Sheet rows with the submission's own columns filled in (the sheets do not repeat them)."""
    index = {f.name: i for i, f in enumerate(contract.fields)}
    for batch in batches:
        for name, value in constants.items():
            batch.columns[index[name]] = pa.array([value] * batch.num_rows, pa.string())
        yield batch

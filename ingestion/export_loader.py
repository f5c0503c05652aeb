"""Export files of a source system (one-stop shop, document management): one file holds one entity.

A file is hashed (content loaded before is recognised and skipped), its entity chosen (by name, else by
headers), read with the reader of its format, and its rows loaded by the shared steps of ingestion/loader.py.
"""

from __future__ import annotations

import time
import unicodedata
from concurrent.futures import Future
from datetime import datetime
from pathlib import Path

import psycopg

from ingestion.contracts import Contract
from ingestion.dates import extraction_time
from ingestion.loader import LoadedMeanwhile, Loader, LoadResult
from ingestion.readers import FileRejected, Layout, open_batches, reject_undecodable, shown
from ingestion.throughput import HASHER, file_sha256


class ExportLoader(Loader):
    def _load(self, path: Path, started_at: datetime) -> LoadResult:
        started = time.monotonic()
        if not path.is_file():
            return self._reject(self.contracts[0], path, None, 0, Layout("unknown"), started_at,
                                f"{path}: no such file")
        size = path.stat().st_size
        layout = Layout(path.suffix.lower().lstrip(".") or "unknown")
        try:
            contract = self._choose_contract(path)
        except FileRejected as exc:
            return self._reject(self.contracts[0], path, file_sha256(path)[0], size, layout, started_at, str(exc))
        sha: str | Future
        if self.conn.execute(  # this content may be loaded already (a loaded file of its size): know before loading
            "select exists (select from audit.file_loads where source = %s and entity = %s and file_bytes = %s "
            "and status = 'loaded')", [self.source, contract.entity, size]).fetchone()[0]:
            sha = file_sha256(path)[0]
        else:  # it cannot be: hash the file while it loads, instead of reading it twice in a row
            sha = HASHER.submit(lambda: file_sha256(path)[0])
        return self._load_once(contract, path, sha, size, layout, started, started_at,
                               lambda: self._load_file(contract, path, sha, size, started_at))

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

    def _load_file(self, contract: Contract, path: Path, sha: str | Future, size: int,
                   started_at: datetime) -> LoadResult:
        """The file's rows into `contract`'s raw table, and its audit row (inside the file's transaction)."""
        extracted_at, origin = extraction_time(path)
        if extracted_at is None:
            extracted_at = started_at.strftime("%Y-%m-%d %H:%M:%S")
        result = LoadResult(path, "loaded", load_id=self._next_load_id())
        layout, batches = open_batches(path, self.header_maps[contract.entity])
        try:
            self._copy_entity(contract, batches, result, shown(path), extracted_at)
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
            if loaded := self._lock_content(contract, sha):
                raise LoadedMeanwhile(loaded)
        self._audit(contract, result, path, sha, size, layout, extracted_at, origin, started_at)
        return result

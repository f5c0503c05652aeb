"""Self-report submissions (spec/sources.md §3; ingestion/submissions.py reads them): one package holds a
header, up to three sheets and its evidence files, each loaded as its own entity with its own audit row, and
the package as received — all in one transaction, or refused whole."""

from __future__ import annotations

import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import psycopg
import pyarrow as pa

from ingestion.contracts import EVIDENCE_FILES, EVIDENCE_ITEMS, FIGURES, SCORES, SUBMISSIONS, Contract
from ingestion.loader import Loader, LoadResult
from ingestion.parsing import PARSERS
from ingestion.readers import Batch, FileRejected, Layout, clean_column, read_workbook, shown
from ingestion.reference import Catalog
from ingestion.submissions import INFO_SHEET, Limits, Submission, find_sheet, open_submission, read_info_sheet

SHEET_CONTRACTS = (SCORES, FIGURES, EVIDENCE_ITEMS)  # the workbook's sheets, in loading order


class SubmissionLoader(Loader):
    SOURCE = "self_reports"
    extraction_in_name = False

    def __init__(self, conn: psycopg.Connection, source: str, reference_dir: Path, aliases_file: Path,
                 pii_hash_key: bytes):
        super().__init__(conn, source, reference_dir, aliases_file, pii_hash_key)
        self.catalog = Catalog.from_dir(reference_dir)
        self.limits = Limits.from_env()

    def _load(self, path: Path, started_at: datetime) -> LoadResult:
        started = time.monotonic()
        layout = Layout("folder" if path.is_dir() else path.suffix.lower().lstrip(".") or "unknown")
        if not path.exists():
            return self._reject(SUBMISSIONS, path, None, 0, layout, started_at, f"{path}: no such file or folder")
        try:
            submission = open_submission(path, self.limits)
        except FileRejected as exc:
            return self._reject(SUBMISSIONS, path, None, 0, layout, started_at, str(exc))
        # the package's hash is recorded (and looked up) as the submission entity's
        return self._load_once(SUBMISSIONS, path, submission.sha256, len(submission.package), layout, started,
                               started_at, lambda: self._load_package(path, submission, layout, started_at))

    def _load_package(self, path: Path, submission: Submission, layout: Layout, started_at: datetime) -> LoadResult:
        """Every entity of the submission, each under its own load id and audit row, then the package."""
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
                          for contract in SHEET_CONTRACTS}
                sheet_titles = {entity: sheet.title for entity, sheet in sheets.items() if sheet is not None}
            finally:
                workbook.close()
            header = self._submission_header(label, submission, info, extracted_at)
            # (contract, layout, batches) of each entity, in loading order
            entities = [(SUBMISSIONS, Layout(layout.file_format), iter([_batch_of([header], SUBMISSIONS)]))]
            for contract in SHEET_CONTRACTS:
                if contract.entity in sheet_titles:
                    sheet_layout = Layout("xlsx", sheet=sheet_titles[contract.entity],
                                          max_rows=self.limits.max_sheet_rows)
                    batches = read_workbook(workbook_path, self.header_maps[contract.entity], sheet_layout)
                    entities.append((contract, sheet_layout, _with_constants(batches, contract, constants)))
            files = [{**constants, "file_path": f.path, "file_name": f.name, "file_bytes": str(f.size),
                      "file_sha256": f.sha256} for f in submission.files]
            entities.append((EVIDENCE_FILES, Layout(layout.file_format), iter([_batch_of(files, EVIDENCE_FILES)])))
            total = LoadResult(path, "loaded")
            for contract, entity_layout, batches in entities:
                result = LoadResult(path, "loaded", load_id=self._next_load_id())
                self._copy_entity(contract, batches, result, label, extracted_at)
                result.rows_skipped = entity_layout.rows_skipped
                self._audit(contract, result, path, sha, len(submission.package), entity_layout, extracted_at,
                            "load time", started_at)
                total.load_id = total.load_id or result.load_id
                total.rows_read += result.rows_read
                total.rows_loaded += result.rows_loaded
                total.rows_quarantined += result.rows_quarantined
                total.rows_skipped += result.rows_skipped
        self.conn.execute(
            "insert into raw.self_reports__packages (submission_id, load_id, package_name, package_format, "
            "package_bytes, package) values (%s, %s, %s, %s, %s, %s) on conflict do nothing",
            [sha, total.load_id, shown(path), submission.package_format, len(submission.package), submission.package],
        )
        return total

    def _submission_header(self, label: str, submission: Submission, info: dict, extracted_at: str) -> dict[str, str]:
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


def _batch_of(records: list[dict[str, str]], contract: Contract) -> Batch:
    """A batch of records the loader builds itself (a submission's header, its files), numbered from 1."""
    columns = [clean_column(pa.array([r.get(f.name, "") for r in records], pa.string())) for f in contract.fields]
    return Batch(np.arange(1, len(records) + 1, dtype=np.int64), columns)


def _with_constants(batches, contract: Contract, constants: dict[str, str]):
    """Sheet rows with the submission's own columns filled in (the sheets do not repeat them)."""
    index = {f.name: i for i, f in enumerate(contract.fields)}
    for batch in batches:
        for name, value in constants.items():
            batch.columns[index[name]] = pa.array([value] * batch.num_rows, pa.string())
        yield batch

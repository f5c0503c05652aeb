"""Unit self-report submissions (spec/sources.md §3): a ZIP file or a folder named `<unit>_<period key>`,
holding the workbook `<same name>.xlsx` and the evidence files.

Nothing is ever extracted to disk under a name taken from the submission: entries are streamed to count
their bytes and hash them, the workbook is read from memory, and names inside a ZIP are checked before
anything else happens (no absolute paths, no `..`, no links, no encrypted entries, nested archives only
to a set depth, decompressed bytes within a set limit — counted as they stream, not taken from headers).
A submission that breaks a rule is refused whole, with a message naming the entry.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.readers import FileRejected, _cell_text, _nfc, normalise_header, shown

SUBMISSION_NAME = re.compile(r"^(?P<unit>[^_\s]+)_(?P<period>\d{4}-(?:Q[1-4]|H[12]|Y))(?:[ _\-(].*)?$")
OTHER_ARCHIVES = {".rar", ".7z", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".cab"}
CHUNK = 1 << 20


@dataclass(frozen=True)
class Limits:
    """How much a submission may hold; from the environment (see Limits.from_env)."""

    max_total_bytes: int = 512 * 1024 * 1024  # decompressed, nested archives included
    max_entries: int = 10_000
    max_nesting: int = 2  # a ZIP inside the submission may hold ZIPs, not deeper
    # The workbook is itself a ZIP: what its parts decompress to, and the rows of one sheet. A unit's report
    # has a few hundred rows; a sheet of 400,000 is an attack or an accident, not a report.
    max_workbook_bytes: int = 64 * 1024 * 1024
    max_sheet_rows: int = 20_000

    @classmethod
    def from_env(cls) -> Limits:
        env = os.environ
        return cls(
            max_total_bytes=int(env.get("REFORMWH_SUBMISSION_MAX_MB", "512")) * 1024 * 1024,
            max_entries=int(env.get("REFORMWH_SUBMISSION_MAX_ENTRIES", "10000")),
            max_nesting=int(env.get("REFORMWH_SUBMISSION_MAX_NESTING", "2")),
            max_workbook_bytes=int(env.get("REFORMWH_SUBMISSION_MAX_WORKBOOK_MB", "64")) * 1024 * 1024,
            max_sheet_rows=int(env.get("REFORMWH_SUBMISSION_MAX_SHEET_ROWS", "20000")),
        )


@dataclass(frozen=True)
class EvidenceFile:
    path: str  # inside the submission, '/'-separated; inside a nested ZIP: 'outer.zip/inner/file.pdf'
    name: str  # the last part, NFC
    size: int
    sha256: str


@dataclass
class Submission:
    name: str  # '<unit>_<period>' as named, without the extension
    unit_code: str
    period_key: str
    package_format: str  # zip | folder
    package: bytes  # as received (a folder is packed into a ZIP of fixed timestamps, so it hashes the same)
    sha256: str
    workbook_name: str = ""
    workbook: bytes = b""
    files: list[EvidenceFile] = field(default_factory=list)


class _Budget:
    """Decompressed bytes and entries left; shared by nested archives."""

    def __init__(self, limits: Limits, label: str):
        self.limits, self.label = limits, label
        self.bytes_left, self.entries_left = limits.max_total_bytes, limits.max_entries

    def spend(self, nbytes: int, where: str) -> None:
        self.bytes_left -= nbytes
        if self.bytes_left < 0:
            raise FileRejected(f"{self.label}: {where}: the submission decompresses beyond the limit of "
                               f"{self.limits.max_total_bytes // (1024 * 1024)} MiB (REFORMWH_SUBMISSION_MAX_MB)")

    def entry(self, where: str) -> None:
        self.entries_left -= 1
        if self.entries_left < 0:
            raise FileRejected(f"{self.label}: {where}: more than {self.limits.max_entries} entries "
                               "(REFORMWH_SUBMISSION_MAX_ENTRIES)")


def _safe_entry_path(name: str, label: str) -> str:
    """The entry's path inside the submission, or a refusal if it would land anywhere else."""
    if "\x00" in name:
        raise FileRejected(f"{label}: entry {name!r}: a NUL character in its name")
    text = name.replace("\\", "/")
    if text.startswith("/") or re.match(r"^[A-Za-z]:", text):
        raise FileRejected(f"{label}: entry '{name}': an absolute path, which would land outside the submission")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise FileRejected(f"{label}: entry '{name}': '..' would land outside the submission")
    return _nfc("/".join(parts))


def _stream(handle, budget: _Budget, where: str, keep: bool) -> tuple[int, str, bytes]:
    digest, size, kept = hashlib.sha256(), 0, io.BytesIO()
    while chunk := handle.read(CHUNK):
        budget.spend(len(chunk), where)
        digest.update(chunk)
        size += len(chunk)
        if keep:
            kept.write(chunk)
    return size, digest.hexdigest(), kept.getvalue()


def _scan_zip(data: bytes, prefix: str, depth: int, limits: Limits, budget: _Budget, label: str,
              workbook_name: str | None, found: dict) -> list[EvidenceFile]:
    """Every file of a ZIP (and of the ZIPs in it), checked and hashed; the workbook's bytes go to `found`."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise FileRejected(f"{label}: {prefix or 'the file'} is not a readable ZIP ({exc})") from None
    files = []
    with archive:
        infos = archive.infolist()
        declared = sum(i.file_size for i in infos)
        if declared > budget.bytes_left:
            raise FileRejected(f"{label}: {prefix or 'the ZIP'} declares {declared // (1024 * 1024)} MiB of "
                               f"content, beyond the limit of {limits.max_total_bytes // (1024 * 1024)} MiB "
                               "(REFORMWH_SUBMISSION_MAX_MB)")
        for info in infos:
            path = _safe_entry_path(_entry_name(info), label)
            where = f"entry '{prefix}{path}'"
            budget.entry(where)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise FileRejected(f"{label}: {where}: a link; links are refused (send the file itself)")
            if info.is_dir() or not path:
                continue
            if info.flag_bits & 0x1:
                raise FileRejected(f"{label}: {where}: encrypted; send the submission without a password")
            suffix = Path(path).suffix.lower()
            if suffix in OTHER_ARCHIVES:
                raise FileRejected(f"{label}: {where}: a '{suffix}' archive inside the submission; "
                                   "send its files, or a ZIP")
            is_workbook = depth == 0 and workbook_name is not None and _is_workbook(path, workbook_name)
            nested = suffix == ".zip"
            try:
                with archive.open(info) as handle:
                    size, sha, content = _stream(handle, budget, where, keep=is_workbook or nested)
            except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as exc:
                raise FileRejected(f"{label}: {where}: cannot be read ({exc})") from None
            if is_workbook:
                if "workbook" in found:  # which one would be the report? Neither is guessed at.
                    raise FileRejected(f"{label}: {where}: a second workbook named like the submission (the "
                                       f"first: '{found['workbook'][0]}'); send one")
                found["workbook"] = (path, content)
                continue
            if nested:
                if depth + 1 > limits.max_nesting:
                    raise FileRejected(f"{label}: {where}: archives nested deeper than {limits.max_nesting} "
                                       "level(s) (REFORMWH_SUBMISSION_MAX_NESTING)")
                _scan_zip(content, f"{prefix}{path}/", depth + 1, limits, budget, label, None, found)
            files.append(EvidenceFile(f"{prefix}{path}", path.rsplit("/", 1)[-1], size, sha))
    return files


def _entry_name(info: zipfile.ZipInfo) -> str:
    """An entry's name. zipfile decodes it from UTF-8 when the entry's flag says so, else from code page 437;
    many archivers write UTF-8 without the flag (names came out as 'Quyß║┐t'), and Vietnamese Windows ones
    code page 1258: the name's bytes are tried as UTF-8, then Windows-1258, else CP437 stays."""
    if info.flag_bits & 0x800:
        return info.filename
    raw = info.filename.encode("cp437")
    for encoding in ("utf-8", "cp1258"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def _is_workbook(path: str, workbook_name: str) -> bool:
    """`<name>.xlsx` at the top of the submission, or inside its single top folder."""
    parts = path.split("/")
    return len(parts) <= 2 and parts[-1].casefold() == workbook_name.casefold()


def _pack_folder(folder: Path, label: str, budget: _Budget) -> bytes:
    """A folder's files as a ZIP with fixed timestamps (the same folder packs to the same bytes). Links and
    anything resolving outside the folder are refused."""
    root = folder.resolve()
    entries = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in sorted(dirnames + filenames):
            full = Path(dirpath) / name
            relative = full.relative_to(folder).as_posix()
            if full.is_symlink():
                raise FileRejected(f"{label}: '{relative}': a link; links are refused (send the file itself)")
            if full.is_file() and full.stat().st_nlink > 1:  # a hard link reaches a file outside as well
                raise FileRejected(f"{label}: '{relative}': a hard link (the file has {full.stat().st_nlink} "
                                   "names); links are refused (send a copy of the file)")
            if not full.resolve().is_relative_to(root):
                raise FileRejected(f"{label}: '{relative}' lies outside the submission")
            if full.is_file():
                budget.entry(f"'{relative}'")
                entries.append((relative, full))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for relative, full in sorted(entries):
            budget.spend(full.stat().st_size, f"'{relative}'")
            info = zipfile.ZipInfo(relative, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.flag_bits |= 0x800  # names are UTF-8
            with open(full, "rb") as source, archive.open(info, "w") as target:
                while chunk := source.read(CHUNK):
                    target.write(chunk)
    return buffer.getvalue()


def open_submission(path: Path, limits: Limits | None = None) -> Submission:
    """Read and check a submission; raises FileRejected naming the problem and the entry."""
    limits = limits or Limits.from_env()
    label = shown(path)
    suffix = path.suffix.lower()
    if path.is_file() and suffix in OTHER_ARCHIVES:
        raise FileRejected(f"{label}: a '{suffix}' archive; send the submission as a ZIP file (or a folder)")
    if path.is_file() and suffix != ".zip":
        raise FileRejected(f"{label}: '{suffix or 'no extension'}' is not a submission; send a ZIP file or a "
                           "folder named <unit code>_<period key>")
    stem = _nfc(path.stem if path.is_file() else path.name)
    m = SUBMISSION_NAME.match(stem)
    if not m or shown(stem) != stem:  # bytes that are not UTF-8, control characters: no unit code has them
        raise FileRejected(f"{label}: not named <unit code>_<period key> (e.g. 000.00.16.H12_2025-Y)")
    budget = _Budget(limits, label)
    if path.is_dir():
        package, package_format = _pack_folder(path, label, budget), "folder"
        budget = _Budget(limits, label)  # the scan below counts the same bytes again
    else:
        if path.stat().st_size > limits.max_total_bytes:
            raise FileRejected(f"{label}: larger than the limit of {limits.max_total_bytes // (1024 * 1024)} MiB "
                               "(REFORMWH_SUBMISSION_MAX_MB)")
        package, package_format = path.read_bytes(), "zip"
    submission = Submission(stem, m["unit"], m["period"], package_format, package,
                            hashlib.sha256(package).hexdigest())
    workbook_name = f"{m['unit']}_{m['period']}.xlsx"
    found: dict = {}
    submission.files = _scan_zip(package, "", 0, limits, budget, label, workbook_name, found)
    if "workbook" not in found:
        present = [f.path for f in submission.files if f.name.lower().endswith((".xlsx", ".xls"))]
        raise FileRejected(f"{label}: the workbook {workbook_name} is missing"
                           + (f" (workbooks present: {', '.join(present)})" if present else ""))
    submission.workbook_name, submission.workbook = found["workbook"]
    # The workbook's parts (sheet XML) may decompress to far more than the submission's own size: one beyond the
    # limit is refused before anything parses it. zipfile never inflates an entry past its declared size.
    where = f"{label}: {submission.workbook_name}"
    try:
        with zipfile.ZipFile(io.BytesIO(submission.workbook)) as archive:
            declared = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError) as exc:
        raise FileRejected(f"{where}: not a readable .xlsx workbook ({exc})") from None
    if declared > limits.max_workbook_bytes:
        raise FileRejected(f"{where}: the workbook decompresses to {declared // (1024 * 1024)} MiB, beyond the "
                           f"limit of {limits.max_workbook_bytes // (1024 * 1024)} MiB "
                           "(REFORMWH_SUBMISSION_MAX_WORKBOOK_MB)")
    return submission


INFO_SHEET = "Thông tin"
INFO_SHEET_MAX_ROWS = 200  # its labels are in the first rows; the rest is not read
INFO_LABELS = {"Mã đơn vị": "unit_code", "Kỳ báo cáo": "period_key", "Ngày gửi": "sent_at", "Người ký": "signer_name"}


def read_info_sheet(workbook, label: str) -> dict[str, tuple[str, int]]:
    """The label/value pairs of the sheet 'Thông tin': field -> (text, row)."""
    sheet = find_sheet(workbook, INFO_SHEET, label)
    sheet.reset_dimensions()  # a stale <dimension> would hide rows (see readers._sheet_rows)
    wanted = {normalise_header(k): v for k, v in INFO_LABELS.items()}
    values: dict[str, tuple[str, int]] = {}
    for number, row in enumerate(sheet.iter_rows(values_only=True), 1):
        if number > INFO_SHEET_MAX_ROWS:
            break
        cells = list(row) + [None, None]
        name = wanted.get(normalise_header(cells[0] or ""))
        if name and name not in values:
            values[name] = (_cell_text(cells[1], name == "sent_at").strip(), number)
    return values


def find_sheet(workbook, title: str, label: str, required: bool = True):
    for sheet in workbook.worksheets:
        if normalise_header(sheet.title) == normalise_header(title):
            return sheet
    if required:
        raise FileRejected(f"{label}: sheet '{title}' is missing from the workbook "
                           f"(sheets: {', '.join(s.title for s in workbook.worksheets)})")
    return None

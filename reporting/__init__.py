"""The periodic report (spec/reports.md): marts → DOCX (with charts), XLSX annexes, optionally a PDF, and a
record of the run with the figures it used. Entry point: `generate` (called by reformwh.pipeline.report)."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

from reporting.config import ReportConfig, load_config
from reporting.data import ReportData, ReportError, latest_reportable_period, load

EDITIONS = ("preliminary", "final")
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_MODIFIED = re.compile(rb"<dcterms:modified([^>]*)>[^<]*</dcterms:modified>")
# what LibreOffice stamps into a PDF at every conversion: the dates and the document ID (the XMP copies too)
_PDF_DATE = re.compile(rb"(/(?:CreationDate|ModDate)\s*\(D:)(\d{14})([^)]*)\)")
_PDF_XMP_DATE = re.compile(rb"(<xmp:(?:CreateDate|ModifyDate|MetadataDate)>)(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)")
_PDF_ID = re.compile(rb"/ID\s*\[\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*\]")
_PDF_CHECKSUM = re.compile(rb"(/DocChecksum\s*/)([0-9A-Fa-f]+)")
_PDF_UUID = re.compile(rb"(uuid:)([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")

__all__ = ["EDITIONS", "ReportConfig", "ReportError", "ReportResult", "generate", "latest_reportable_period",
           "load_config"]


@dataclass
class ReportResult:
    run_id: int
    files: list[Path]
    figures_sha256: str
    data: ReportData
    pdf_skipped: str | None = None


def _normalise_zip(content: bytes, modified: datetime) -> bytes:
    """The same document gives the same bytes: fixed ZIP entry times and a fixed modification time in the
    core properties (python-docx and openpyxl stamp the current time)."""
    stamp = modified.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "docProps/core.xml":
                data = _MODIFIED.sub(rb"<dcterms:modified\1>" + stamp + rb"</dcterms:modified>", data)
            info = zipfile.ZipInfo(item.filename, date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, data)
    return out.getvalue()


def _normalise_pdf(content: bytes, modified: datetime, seed: bytes) -> bytes:
    """The same DOCX gives the same PDF: the conversion's time becomes the report's date and the document ID
    a hash of the DOCX. Every replacement keeps its length, so the cross-reference offsets stay valid."""
    stamp = modified.strftime("%Y%m%d%H%M%S").encode()
    xmp_stamp = modified.strftime("%Y-%m-%dT%H:%M:%S").encode()
    digest = hashlib.sha256(seed).hexdigest().encode()

    def same_length_id(match: re.Match) -> bytes:
        first, second = match.group(1), match.group(2)
        return match.group(0).replace(first, digest[:len(first)].upper(), 1).replace(
            second, digest[-len(second):].upper(), 1)

    def uuid(match: re.Match) -> bytes:
        h = digest.decode()
        return match.group(1) + f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}".encode()

    content = _PDF_DATE.sub(lambda m: m.group(1) + stamp + m.group(3) + b")", content)
    content = _PDF_XMP_DATE.sub(lambda m: m.group(1) + xmp_stamp, content)
    content = _PDF_UUID.sub(uuid, content)
    content = _PDF_CHECKSUM.sub(lambda m: m.group(1) + digest[:len(m.group(2))].upper(), content)
    return _PDF_ID.sub(same_length_id, content)


def _pdf(docx: Path) -> tuple[Path | None, str | None]:
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if not office:
        return None, "PDF skipped: LibreOffice (soffice) is not installed"
    profile = docx.parent / ".lo-profile"
    result = subprocess.run(
        [office, f"-env:UserInstallation=file://{profile.resolve()}", "--headless", "--convert-to", "pdf",
         "--outdir", str(docx.parent), str(docx)], capture_output=True, text=True, timeout=300)
    shutil.rmtree(profile, ignore_errors=True)
    pdf = docx.with_suffix(".pdf")
    if result.returncode != 0 or not pdf.exists():
        return None, f"PDF skipped: LibreOffice failed ({result.stderr.strip()[:200]})"
    return pdf, None


def generate(database_url: str, period_key: str, out_dir: Path, edition: str = "preliminary",
             report_date: date | None = None, config: ReportConfig | None = None, pdf: bool = True,
             timezone: str = "Asia/Ho_Chi_Minh") -> ReportResult:
    from reporting.docx_report import build_docx
    from reporting.record import ensure_reports_schema, record_run
    from reporting.xlsx_annexes import build_xlsx

    if edition not in EDITIONS:
        raise ReportError(f"edition must be one of {', '.join(EDITIONS)}, not {edition!r}")
    config = config or load_config()
    report_date = report_date or datetime.now(ZoneInfo(timezone)).date()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with psycopg.connect(database_url, autocommit=True) as conn:
        with conn.transaction():
            ensure_reports_schema(conn)
        data = load(conn, period_key, config.trend_periods)
        fixed = datetime(report_date.year, report_date.month, report_date.day)
        stem = f"bao-cao-cchc_{period_key}_{edition}"
        outputs = {out_dir / f"{stem}.docx": build_docx(data, config, report_date, edition),
                   out_dir / f"{stem}_phu-luc.xlsx": build_xlsx(data, config, report_date, edition)}
        files = []
        for path, content in outputs.items():
            path.write_bytes(_normalise_zip(content, fixed))
            files.append(path)
        pdf_skipped = None
        if pdf:
            pdf_path, pdf_skipped = _pdf(files[0])
            if pdf_path:
                pdf_path.write_bytes(_normalise_pdf(pdf_path.read_bytes(), fixed, files[0].read_bytes()))
                files.append(pdf_path)
        described = [{"file": p.name, "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
                      "bytes": p.stat().st_size} for p in files]
        compared = [k for k in (data.key, data.previous_key, data.last_year_key) if k in data.province]
        frozen = [(data.unit_mart, ["period_key", "unit_code"], [data.key]),
                  (f"{data.unit_mart}_restated", ["period_key", "unit_code"], compared),
                  ("reform_province", ["period_key"], sorted({*compared, *(r["period_key"] for r in data.trend)})),
                  ("dossier_by_field", ["period_key", "unit_code", "field_code"], [data.key])]
        frozen += [("dossier_province_by_field", ["period_key", "field_code"], [data.key]),
                   ("dossier_province_by_procedure", ["period_key", "procedure_code"], [data.key]),
                   # the annexes as sent must stay reproducible after a unit resubmits: gaps and scores too
                   ("evidence_gaps", ["period_key", "gap_id"], [data.key])]
        if data.area_scores is not None:
            frozen.append(("par_area_scores", ["period_key", "unit_code", "area_code"], [data.key]))
        with conn.transaction():
            conn.execute("set local enable_nestloop = off")  # the procedure view: see reporting.data.load
            run_id, digest = record_run(conn, period=data.period, edition=edition, report_date=report_date,
                                        data_as_of=data.data_as_of, files=described, config=config.as_dict(),
                                        frozen=frozen)
    return ReportResult(run_id, files, digest, data, pdf_skipped)

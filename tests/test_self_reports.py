"""Self-report submissions (spec/sources.md §3): ZIP or folder, workbook sheets, evidence files, and the ZIP
rules that keep a hostile archive from writing anything or escaping its submission."""

from __future__ import annotations

import io
import shutil
import stat
import zipfile
from pathlib import Path

import openpyxl
import pytest

from reformwh import pipeline
from tests.conftest import SAMPLES, query

SAMPLE_ZIP = SAMPLES / "self_reports" / "000.00.16.H99_2025-Y.zip"
NAME = "000.00.16.H99_2025-Y"


def workbook_bytes(info=None, scores=None, figures=None, items=None, drop_sheet=None) -> bytes:
    info = info or [("Mã đơn vị", "000.00.16.H99"), ("Kỳ báo cáo", "2025-Y"), ("Ngày gửi", "10/01/2026"),
                    ("Người ký", "Ngô Văn Giang")]
    sheets = {
        "Thông tin": info,
        "Tự chấm điểm": [("Mã tiêu chí", "Nội dung", "Điểm tối đa", "Điểm tự chấm", "Giải trình")]
        + (scores if scores is not None else [("1.1", "a", 1, 1, None), ("1.2", "b", 2, 2, None)]),
        "Số liệu": [("Mã chỉ tiêu", "Tên chỉ tiêu", "Giá trị")] + (figures or [("KT_SO_CUOC", "x", 2)]),
        "Tài liệu kiểm chứng": [("Mã tiêu chí / chỉ tiêu", "Số ký hiệu văn bản", "Ngày văn bản", "Tên tệp",
                                 "Trang / mục")]
        + (items if items is not None else [("1.1", "15/KH-STP", "10/01/2025", "ke_hoach.pdf", None)]),
    }
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        if title == drop_sheet:
            continue
        sheet = book.create_sheet(title)
        for r in rows:
            sheet.append(list(r))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_zip(path: Path, entries: dict[str, bytes], links: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return path


@pytest.fixture
def ref_settings(make_settings):
    return make_settings(SAMPLES / "reference")


def ingest(settings, *paths):
    return pipeline.ingest(settings, "self_reports", list(paths))


def counts(settings) -> dict[str, int]:
    return {t: query(settings, f"select count(*) from raw.self_reports__{t}")[0][0]
            for t in ("submissions", "scores", "figures", "evidence_items", "evidence_files", "packages")}


def test_sample_zip_every_sheet_and_file_recorded(ref_settings):
    result, = ingest(ref_settings, SAMPLES / "self_reports")
    assert (result.status, result.rows_read, result.rows_loaded, result.rows_quarantined) == ("loaded", 11, 11, 0)
    assert counts(ref_settings) == {"submissions": 1, "scores": 3, "figures": 1, "evidence_items": 3,
                                    "evidence_files": 3, "packages": 1}
    assert query(ref_settings, "select unit_code, period_key, sent_at_parsed::text, package_format "
                               "from raw.self_reports__submissions") == [
        ("000.00.16.H99", "2025-Y", "2026-01-10 23:59:59", "zip")]
    assert query(ref_settings, "select criterion_code, self_score_parsed::text from raw.self_reports__scores "
                               "order by 1") == [("1.1", "1"), ("1.2", "2"), ("3.1", "2.5")]
    # the empty file is recorded with its size, every file with its SHA-256
    assert query(ref_settings, "select file_name, file_bytes_parsed, left(file_sha256, 12) "
                               "from raw.self_reports__evidence_files order by 1") == [
        ("bao_cao_6_thang.pdf", 27, "3776668dca3e"), ("bien_ban_kiem_tra.pdf", 0, "e3b0c44298fc"),
        ("ke_hoach_cchc_2025.pdf", 27, "3776668dca3e")]
    # kept as received: the stored package is the ZIP, byte for byte
    assert query(ref_settings, "select package from raw.self_reports__packages")[0][0] == SAMPLE_ZIP.read_bytes()
    assert query(ref_settings, "select entity, rows_read from audit.file_loads order by load_id") == [
        ("submissions", 1), ("scores", 3), ("figures", 1), ("evidence_items", 3), ("evidence_files", 3)]
    # which is what the table says of itself (it said "one row per file"), for psql's \d+ and the dbt docs
    described = query(ref_settings, "select obj_description('audit.file_loads'::regclass, 'pg_class')")[0][0]
    assert described.startswith("One row per file load and entity") and "one per entity it loads" in described
    again, = ingest(ref_settings, SAMPLE_ZIP)
    assert again.status == "already_loaded" and counts(ref_settings)["submissions"] == 1


def test_folder_submission_and_resubmission(ref_settings, tmp_path):
    folder = tmp_path / "landing" / NAME
    (folder / "minh_chung").mkdir(parents=True)
    (folder / f"{NAME}.xlsx").write_bytes(workbook_bytes())
    (folder / "minh_chung" / "ke_hoach.pdf").write_bytes(b"%PDF-1.4 plan")
    first, = ingest(ref_settings, folder)
    assert first.status == "loaded"
    # the same folder again is the same package; a changed one is a resubmission, kept beside the first
    assert ingest(ref_settings, folder)[0].status == "already_loaded"
    (folder / "minh_chung" / "bien_ban.pdf").write_bytes(b"")
    second, = ingest(ref_settings, tmp_path / "landing")
    assert second.status == "loaded"
    assert query(ref_settings, "select package_format, count(*) from raw.self_reports__submissions group by 1") == [
        ("folder", 2)]
    assert query(ref_settings, "select file_path from raw.self_reports__evidence_files where load_id > %s "
                               "order by 1", [second.load_id]) == [
        ("minh_chung/bien_ban.pdf",), ("minh_chung/ke_hoach.pdf",)]


def test_rows_quarantined_for_catalog_and_score_range(ref_settings, tmp_path):
    data = workbook_bytes(scores=[("1.1", "a", 1, 5, "giải trình"), ("1.2", "b", 2, -1, None), ("9.9", "c", 1, 1, None),
                                  ("3.1", "d", 3, "nhiều", None)],
                          figures=[("KT_SO_CUOC", "x", 2), ("KHONG_CO", "y", 1)],
                          items=[("1.1", "15/KH-STP", "10/01/2025", "a.pdf", None), ("TT_SO_HOAT_DONG", None, None,
                                                                                      "b.pdf", None),
                                 ("Z.9", None, None, "c.pdf", None)])
    path = write_zip(tmp_path / f"{NAME}.zip", {f"{NAME}.xlsx": data, "a.pdf": b"x"})
    result, = ingest(ref_settings, path)
    assert (result.rows_read, result.rows_quarantined) == (1 + 4 + 2 + 3 + 1, 5)
    reasons = sorted(query(ref_settings, "select entity, reasons[1] from quarantine.rows"))
    assert reasons == [
        ("evidence_items", "Mã tiêu chí / chỉ tiêu: 'Z.9' is not in the 2025 indicator or criteria catalog for "
                           "department units"),
        ("figures", "Mã chỉ tiêu: 'KHONG_CO' is not in the 2025 indicator catalog for department units"),
        ("scores", "Mã tiêu chí: '9.9' is not in the 2025 criteria catalog for department units"),
        ("scores", "Điểm tự chấm: '5' is outside the criterion's range [-1, 1]"),
        ("scores", "Điểm tự chấm: 'nhiều' is not a number"),
    ]
    # a negative score within a penalty criterion's range loads
    assert query(ref_settings, "select criterion_code, self_score_parsed from raw.self_reports__scores") == [
        ("1.2", -1)]


@pytest.mark.parametrize("entries, links, message", [
    ({"../evil.txt": b"x"}, (), "entry '../evil.txt': '..' would land outside the submission"),
    ({"/etc/cron.d/evil": b"x"}, (), "entry '/etc/cron.d/evil': an absolute path, which would land outside"),
    ({"C:\\Windows\\evil.dll": b"x"}, (), "an absolute path"),
    ({}, ("link.pdf",), "entry 'link.pdf': a link; links are refused"),
    ({"scan.rar": b"Rar!"}, (), "entry 'scan.rar': a '.rar' archive inside the submission"),
])
def test_hostile_zip_refused_whole_and_nothing_written(ref_settings, tmp_path, entries, links, message):
    path = write_zip(tmp_path / f"{NAME}.zip", {f"{NAME}.xlsx": workbook_bytes(), **entries}, links)
    before = set(tmp_path.rglob("*"))
    result, = ingest(ref_settings, path)
    assert result.status == "rejected"
    assert result.message.startswith(f"{NAME}.zip: ") and message in result.message
    assert all(v == 0 for v in counts(ref_settings).values())
    assert query(ref_settings, "select status, entity from audit.file_loads") == [("rejected", "submissions")]
    assert set(tmp_path.rglob("*")) == before  # nothing extracted beside the ZIP
    assert not Path("/tmp/evil.txt").exists() and not (tmp_path.parent / "evil.txt").exists()


def test_zip_bomb_and_deep_nesting_refused(ref_settings, tmp_path, monkeypatch):
    monkeypatch.setenv("REFORMWH_SUBMISSION_MAX_MB", "1")
    bomb = write_zip(tmp_path / f"{NAME}.zip", {f"{NAME}.xlsx": workbook_bytes(), "zeros.pdf": b"\0" * (3 << 20)})
    result, = ingest(ref_settings, bomb)
    assert result.status == "rejected" and "beyond the limit of 1 MiB" in result.message
    monkeypatch.delenv("REFORMWH_SUBMISSION_MAX_MB")
    inner = io.BytesIO()
    write_zip(inner, {"a.pdf": b"x"})
    for _ in range(3):
        outer = io.BytesIO()
        write_zip(outer, {"nested.zip": inner.getvalue()})
        inner = outer
    deep = write_zip(tmp_path / f"{NAME}.zip", {f"{NAME}.xlsx": workbook_bytes(), "nested.zip": inner.getvalue()})
    result, = ingest(ref_settings, deep)
    assert result.status == "rejected" and "archives nested deeper than 2 level(s)" in result.message


@pytest.mark.parametrize("case, message", [
    ("rar", "a '.rar' archive; send the submission as a ZIP file"),
    ("no_workbook", f"the workbook {NAME}.xlsx is missing"),
    ("no_sheet", "sheet 'Tài liệu kiểm chứng' is missing from the workbook"),
    ("other_unit", "sheet 'Thông tin', row 1: Mã đơn vị '000.00.09.H99' differs from the submission's name"),
    ("bad_date", "sheet 'Thông tin', row 3: Ngày gửi '32/01/2026' is not a valid date"),
    ("bad_name", "not named <unit code>_<period key>"),
])
def test_bad_submissions_rejected_with_a_clear_message(ref_settings, tmp_path, case, message):
    name = f"{NAME}.zip"
    entries = {f"{NAME}.xlsx": workbook_bytes(), "ke_hoach.pdf": b"x"}
    if case == "rar":
        name = f"{NAME}.rar"
    elif case == "no_workbook":
        entries.pop(f"{NAME}.xlsx")
    elif case == "no_sheet":
        entries[f"{NAME}.xlsx"] = workbook_bytes(drop_sheet="Tài liệu kiểm chứng")
    elif case == "other_unit":
        entries[f"{NAME}.xlsx"] = workbook_bytes(info=[("Mã đơn vị", "000.00.09.H99"), ("Kỳ báo cáo", "2025-Y"),
                                                       ("Ngày gửi", "10/01/2026")])
    elif case == "bad_date":
        entries[f"{NAME}.xlsx"] = workbook_bytes(info=[("Mã đơn vị", "000.00.16.H99"), ("Kỳ báo cáo", "2025-Y"),
                                                       ("Ngày gửi", "32/01/2026")])
    elif case == "bad_name":
        name = "bao_cao.zip"
    path = tmp_path / name
    write_zip(path, entries) if case != "rar" else path.write_bytes(b"Rar!\x1a\x07")
    result, = ingest(ref_settings, path)
    assert result.status == "rejected"
    assert message in result.message, result.message
    assert all(v == 0 for v in counts(ref_settings).values())
    assert path.exists()  # the file is kept
    shutil.rmtree(tmp_path, ignore_errors=True)

"""Ingestion of document-management exports (spec/sources.md §2): documents register and assigned tasks,
through the same loader, quarantine and audit as the dossiers."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from reformwh import pipeline
from tests.conftest import SAMPLES, query

DOC_HEADERS = ["Mã văn bản", "Số ký hiệu", "Ngày văn bản", "Loại văn bản", "Trích yếu", "Mã đơn vị", "Sổ",
               "Hình thức", "Ký số", "Người ký", "Chức vụ người ký"]
TASK_HEADERS = ["Mã nhiệm vụ", "Số ký hiệu văn bản giao", "Cơ quan giao", "Mã đơn vị thực hiện", "Nội dung",
                "Ngày giao", "Hạn hoàn thành", "Hạn ban đầu", "Ngày hoàn thành"]


def write_csv(path: Path, headers: list[str], rows: list[list[str]], delimiter=",") -> Path:
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


@pytest.fixture
def ref_settings(make_settings):
    return make_settings(SAMPLES / "reference")


def ingest(settings, *paths):
    return pipeline.ingest(settings, "document_management", list(paths))


def test_sample_register_and_tasks_load_with_parsed_values(ref_settings):
    results = ingest(ref_settings, SAMPLES / "document_management")
    assert [(r.path.name, r.status, r.rows_loaded, r.rows_quarantined) for r in results] == [
        ("nhiem_vu_20250616.csv", "loaded", 2, 0), ("van_ban_20250616.csv", "loaded", 4, 0)]
    assert query(ref_settings, """
        select document_id, document_date_parsed::text, register_parsed, form_parsed, digitally_signed_parsed,
               signer_title
        from raw.document_management__documents order by document_id""") == [
        ("VB-0001", "2025-01-10", "outgoing", "electronic", True, "Giám đốc"),
        ("VB-0002", "2025-06-12", "outgoing", "electronic_and_paper", True, "Phó Giám đốc"),
        ("VB-0003", "2025-06-06", "incoming", "electronic", True, None),
        ("VB-0004", "2025-06-05", "outgoing", "paper", False, "Chủ tịch"),
    ]
    # Ngày giao is a receipt (00:00); deadlines and completion a date alone mean the end of the day.
    assert query(ref_settings, """
        select task_id, unit_code, assigned_at_parsed::text, deadline_at_parsed::text, completed_at_parsed::text
        from raw.document_management__tasks order by task_id""") == [
        ("NV-2025-001", "000.00.16.H99", "2025-06-06 00:00:00", "2025-06-30 23:59:59", None),
        ("NV-2025-002", "000.41.01.H99", "2025-03-01 00:00:00", "2025-03-31 23:59:59", "2025-04-05 23:59:59"),
    ]
    assert query(ref_settings, "select entity, rows_read, rows_loaded from audit.file_loads order by entity") == [
        ("documents", 4, 4), ("tasks", 2, 2)]


def test_bad_rows_are_quarantined_with_reasons(ref_settings, tmp_path):
    good = ["VB-1", "1/KH-STP", "10/01/2025", "Kế hoạch", "", "000.00.16.H99", "Đi", "Điện tử", "Có", "A", "Giám đốc"]
    rows = [
        good,
        ["VB-2", "", *good[2:]],  # no number
        ["VB-3", "2/KH", "31/02/2025", *good[3:]],  # impossible date
        ["VB-4", "3/KH", *good[2:6], "Ra", *good[7:]],  # unknown register
        ["VB-5", "4/KH", *good[2:7], "Fax", *good[8:]],  # unknown form
        ["VB-6", "5/KH", "01/07/2025", *good[3:5], "000.41.02.H99", *good[6:]],  # unit gone by then
        ["VB-7", "6/KH", "20/06/2025", *good[3:]],  # dated after the extraction
    ]
    # the documents register under a name that does not say which export it is: told by its headers
    result, = ingest(ref_settings, write_csv(tmp_path / "export_20250616.csv", DOC_HEADERS, rows, delimiter=";"))
    assert (result.status, result.rows_read, result.rows_loaded, result.rows_quarantined) == ("loaded", 7, 1, 6)
    reasons = dict(query(ref_settings, "select record->>'document_id', reasons[1] from quarantine.rows"))
    assert reasons["VB-2"] == "Số ký hiệu: required value is empty"
    assert reasons["VB-3"].startswith("Ngày văn bản: '31/02/2025' is not a valid date")
    assert reasons["VB-4"].startswith("Sổ: 'Ra' is not a known register")
    assert reasons["VB-5"].startswith("Hình thức: 'Fax' is not a known form")
    assert reasons["VB-6"].startswith("Mã đơn vị: '000.41.02.H99'") and "2025-07-01" in reasons["VB-6"]
    assert reasons["VB-7"] == "Ngày văn bản: '20/06/2025' is after the file's extraction time 2025-06-16 23:59:59"


def test_tasks_keyed_by_task_and_unit(ref_settings, tmp_path):
    base = ["NV-1", "1090/KH-UBND", "UBND tỉnh", "000.00.16.H99", "Rà soát", "06/06/2025", "30/06/2025", "", ""]
    rows = [
        base,
        [*base[:3], "000.00.09.H99", *base[4:]],  # the same task for a second unit: a distinct record
        ["NV-2", *base[1:6], "", "", ""],  # a standing task: no deadline
        ["NV-3", *base[1:8], "01/06/2025"],  # completed before it was assigned
        ["NV-4", *base[1:8], "17/06/2025 09:00"],  # completed after the extraction
        ["NV-5", *base[1:3], "000.00.16.H99", "a", *base[5:]],  # same key as below with other content
        ["NV-5", *base[1:3], "000.00.16.H99", "b", *base[5:]],
    ]
    result, = ingest(ref_settings, write_csv(tmp_path / "nhiem_vu_20250616.csv", TASK_HEADERS, rows))
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (7, 3, 4)
    assert query(ref_settings, "select task_id, unit_code from raw.document_management__tasks order by 1, 2") == [
        ("NV-1", "000.00.09.H99"), ("NV-1", "000.00.16.H99"), ("NV-2", "000.00.16.H99")]
    reasons = sorted(r for r, in query(ref_settings, "select reasons[1] from quarantine.rows"))
    assert reasons[0] == "Ngày hoàn thành: '17/06/2025 09:00' is after the file's extraction time 2025-06-16 23:59:59"
    assert reasons[1] == "Ngày hoàn thành: 2025-06-01 23:59:59 is before Ngày giao 2025-06-06 00:00:00"
    assert reasons[2:] == ["the same Mã nhiệm vụ, Mã đơn vị thực hiện appears more than once in the file with "
                           "different content"] * 2


def test_a_file_of_neither_export_is_rejected_naming_both(ref_settings, tmp_path):
    path = write_csv(tmp_path / "bao_cao_20250616.csv", ["Mã văn bản", "Số ký hiệu"], [["VB-1", "1/KH"]])
    result, = ingest(ref_settings, path)
    assert result.status == "rejected"
    assert result.message.startswith("bao_cao_20250616.csv: cannot tell which export this is (name it 'van_ban_…' "
                                     "or 'nhiem_vu_…')")
    assert "Ngày văn bản" in result.message and "Mã nhiệm vụ" in result.message
    assert query(ref_settings, "select count(*) from raw.document_management__documents") == [(0,)]


def test_named_export_without_a_required_column_is_rejected_and_a_second_load_changes_nothing(ref_settings,
                                                                                              tmp_path):
    headers = [h for h in DOC_HEADERS if h != "Sổ"]
    bad = write_csv(tmp_path / "van_ban_20250616.csv", headers, [["VB-1", "1/KH", "10/01/2025", "", "",
                                                                  "000.00.16.H99", "Điện tử", "Có", "", ""]])
    result, = ingest(ref_settings, bad)
    assert result.status == "rejected"
    assert "van_ban_20250616.csv" in result.message and "Sổ" in result.message
    first = ingest(ref_settings, SAMPLES / "document_management")
    second = ingest(ref_settings, SAMPLES / "document_management")
    assert [r.status for r in first] == ["loaded", "loaded"]
    assert [r.status for r in second] == ["already_loaded", "already_loaded"]
    assert query(ref_settings, "select count(*) from raw.document_management__documents") == [(4,)]

"""Ingestion of one-stop-shop exports: formats, bad input of spec/sources.md §5, invariants."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import openpyxl
import psycopg
import pyarrow as pa
import pytest

from ingestion.contracts import DOSSIERS
from ingestion.loader import loader_for
from ingestion.reference import validation_fingerprint
from ingestion.throughput import KeyRepeats
from reformwh import pipeline
from tests.conftest import SAMPLES, execute, query

HEADERS = [f.header for f in DOSSIERS.fields]
GOOD = {
    "Mã hồ sơ": "000.00.16.H99-250602-0001", "Mã TTHC": "1.001193", "Tên TTHC": "Đăng ký khai sinh",
    "Mã lĩnh vực": "HT", "Tên lĩnh vực": "Hộ tịch", "Mã đơn vị": "000.00.16.H99", "Kênh thực hiện": "2",
    "Mức độ DVC": "Toàn trình", "Chủ hồ sơ": "Nguyễn Văn An", "Số giấy tờ": "044090001234",
    "Số điện thoại": "0912345678", "Email": "", "Ngày tiếp nhận": "02/06/2025 08:15",
    "Ngày hẹn trả": "05/06/2025 17:00", "Ngày kết thúc xử lý": "04/06/2025 10:20",
    "Ngày trả kết quả": "04/06/2025 14:00", "Ngày từ chối": "", "Trạng thái": "Đã trả kết quả",
    "Số hóa thành phần": "Có", "Thanh toán trực tuyến": "1", "Lệ phí": "1.500.000", "Số lần bổ sung": "0",
    "Phiếu xin lỗi": "Không", "Mức độ hài lòng": "Hài lòng",
}


def row(code: str, **changes) -> dict:
    values = {**GOOD, "Mã hồ sơ": code}
    values.update({k.replace("_", " "): v for k, v in changes.items()})
    return values


def write_csv(path: Path, rows: list[dict], headers=HEADERS, delimiter=",", encoding="utf-8-sig") -> Path:
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(headers)
        for r in rows:
            writer.writerow([r.get(h, "") for h in headers])
    return path


def ingest(settings, *paths):
    return pipeline.ingest(settings, "one_stop_shop", list(paths))


def raw_rows(settings, columns="*"):
    return query(settings, f"select {columns} from raw.one_stop_shop__dossiers order by dossier_code, load_id")


@pytest.fixture
def ref_settings(make_settings):
    return make_settings(SAMPLES / "reference")


def test_samples_of_every_shape_load_with_parsed_values(ref_settings):
    results = ingest(ref_settings, SAMPLES / "one_stop_shop")
    assert [r.status for r in results] == ["loaded", "loaded"]
    rows = query(ref_settings, """
        select dossier_code, received_at_parsed::text, due_at_parsed::text, fee_amount_parsed,
               supplement_count_parsed, status_parsed, channel_parsed, digitized_parsed
        from raw.one_stop_shop__dossiers order by dossier_code""")
    assert rows == [
        ("000.00.16.H99-250602-0001", "2025-06-02 08:15:00", "2025-06-05 17:00:00", 0, 0, 10, 2, True),
        ("000.00.16.H99-250603-0002", "2025-06-03 09:00:00", "2025-06-13 17:00:00", 200000, 1, 9, 1, False),
        # a date alone: received at 00:00, due at the end of the day
        ("000.00.41.H99-250610-0003", "2025-06-10 00:00:00", "2025-06-30 23:59:59", 500000, 2, 4, 3, True),
        # JSON Lines with portal names: fees summed, supplements counted
        ("000.41.01.H99-250612-0004", "2025-06-12 08:15:00", "2025-06-12 17:00:00", 2000, 0, 10, 2, True),
        ("000.41.02.H99-250613-0005", "2025-06-13 14:00:00", "2025-06-17 17:00:00", 0, 1, 5, 1, False),
    ]
    audit = query(ref_settings, "select file_name, rows_read, rows_loaded, rows_quarantined, extracted_at::text "
                                "from audit.file_loads order by file_name")
    assert audit == [("ho_so_20250616.csv", 3, 3, 0, "2025-06-16 23:59:59"),
                     ("ho_so_20250616T080000.jsonl", 2, 2, 0, "2025-06-16 08:00:00")]


def test_every_accepted_format_gives_the_same_parsed_rows(ref_settings, tmp_path):
    rows = [row("A-1"), row("A-2", **{"Trạng thái": "4", "Ngày kết thúc xử lý": "", "Ngày trả kết quả": ""})]
    write_csv(tmp_path / "comma_20250616.csv", rows)
    write_csv(tmp_path / "semicolon_20250616.csv", [row("B-1"), row("B-2", **{"Trạng thái": "4",
              "Ngày kết thúc xử lý": "", "Ngày trả kết quả": ""})], delimiter=";", encoding="utf-8")
    write_csv(tmp_path / "unicode_20250616.txt", [row("C-1"), row("C-2", **{"Trạng thái": "4",
              "Ngày kết thúc xử lý": "", "Ngày trả kết quả": ""})], delimiter="\t", encoding="utf-16")
    # A workbook with a title block, an STT column, real date cells, an Excel serial and a totals row.
    from datetime import datetime
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["UBND TỈNH SƠN HÀ"])
    ws.append(["DANH SÁCH HỒ SƠ"])
    ws.append([])
    ws.append(["STT", *HEADERS])
    for n, code in enumerate(["D-1", "D-2"], 1):
        values = row(code) if n == 1 else row(code, **{"Trạng thái": "4", "Ngày kết thúc xử lý": "",
                                                        "Ngày trả kết quả": ""})
        cells = [n] + [values[h] for h in HEADERS]
        cells[1 + HEADERS.index("Ngày tiếp nhận")] = datetime(2025, 6, 2, 8, 15)
        cells[1 + HEADERS.index("Ngày hẹn trả")] = 45813 + 17 / 24  # 05/06/2025 17:00 as a serial
        if n == 1:
            cells[1 + HEADERS.index("Ngày kết thúc xử lý")] = datetime(2025, 6, 4, 10, 20)
        ws.append(cells)
    ws.append(["Tổng cộng"])
    wb.save(tmp_path / "book_20250616.xlsx")
    portal = []
    for code, status in (("E-1", 10), ("E-2", 4)):
        portal.append({"MaHoSo": code, "MaTTHC": "1.001193", "DonViXuLy": "000.00.16.H99", "KenhThucHien": 2,
                       "MucDo": "Toàn trình", "NgayTiepNhan": "20250602081500", "NgayHenTra": "20250605170000",
                       "NgayKetThucXuLy": "20250604102000" if status == 10 else "",
                       "NgayTra": "20250604140000" if status == 10 else "", "TrangThaiHoSo": status,
                       "HoSoCoThanhPhanSoHoa": 1, "DuocThanhToanTrucTuyen": 1,
                       "DanhSachLePhi": [{"Gia": 1000000}, {"Gia": 500000}], "DanhSachHoSoBoSung": [],
                       "CoPhieuXinLoi": False, "MucDoHaiLong": "Hài lòng", "SoGiayToChuHoSo": "044090001234"})
    (tmp_path / "array_20250616.json").write_text(json.dumps(portal, ensure_ascii=False))
    (tmp_path / "lines_20250616.jsonl").write_text(
        "\n".join(json.dumps({**p, "MaHoSo": "F" + p["MaHoSo"][1:]}, ensure_ascii=False) for p in portal))
    results = ingest(ref_settings, tmp_path)
    assert {r.path.name: (r.status, r.rows_loaded, r.rows_quarantined, r.rows_skipped) for r in results} == {
        "array_20250616.json": ("loaded", 2, 0, 0), "book_20250616.xlsx": ("loaded", 2, 0, 1),
        "comma_20250616.csv": ("loaded", 2, 0, 0), "lines_20250616.jsonl": ("loaded", 2, 0, 0),
        "semicolon_20250616.csv": ("loaded", 2, 0, 0), "unicode_20250616.txt": ("loaded", 2, 0, 0),
    }
    parsed = query(ref_settings, """
        select left(dossier_code, 1), substr(dossier_code, 3), received_at_parsed::text, due_at_parsed::text,
               finished_at_parsed::text, status_parsed, fee_amount_parsed, channel_parsed
        from raw.one_stop_shop__dossiers order by 1, 2""")
    by_file = {}
    for prefix, number, *values in parsed:
        by_file.setdefault(prefix, []).append((number, *values))
    expected = [("1", "2025-06-02 08:15:00", "2025-06-05 17:00:00", "2025-06-04 10:20:00", 10, 1500000, 2),
                ("2", "2025-06-02 08:15:00", "2025-06-05 17:00:00", None, 4, 1500000, 2)]
    assert by_file == {prefix: expected for prefix in "ABCDEF"}


def test_text_is_normalised_to_nfc_and_headers_match_any_form(ref_settings, tmp_path):
    import unicodedata
    nfd_headers = [unicodedata.normalize("NFD", h).upper() + "  " for h in HEADERS]
    values = row("N-1", **{"Tên lĩnh vực": unicodedata.normalize("NFD", "Đất đai")})
    write_csv(tmp_path / "nfd_20250616.csv", [{nh: values[h] for h, nh in zip(HEADERS, nfd_headers, strict=True)}],
              headers=nfd_headers)
    assert [r.status for r in ingest(ref_settings, tmp_path)] == ["loaded"]
    assert raw_rows(ref_settings, "field_name") == [("Đất đai",)]
    assert unicodedata.is_normalized("NFC", raw_rows(ref_settings, "field_name")[0][0])


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("bad_20250616.csv", b"M\xe3 h\xf4 s\xf4,M\xe3 TTHC\n", "line 1, byte 2"),
        ("report_20250616.pdf", b"%PDF-1.4", "'.pdf' is not an accepted kind of file"),
        ("bundle_20250616.rar", b"Rar!", "archives are not"),
    ],
)
def test_whole_file_rejections_name_the_file_and_place(ref_settings, tmp_path, name, content, expected):
    (tmp_path / name).write_bytes(content)
    [result] = ingest(ref_settings, tmp_path / name)
    assert result.status == "rejected"
    assert name in result.message and expected in result.message
    assert raw_rows(ref_settings) == []
    assert query(ref_settings, "select status, file_name, message from audit.file_loads") == [
        ("rejected", name, result.message)]


def test_the_same_bad_file_again_is_rejected_without_a_second_audit_row(ref_settings, tmp_path):
    path = tmp_path / "bad_20250616.csv"
    path.write_bytes(b"M\xe3 h\xf4 s\xf4,M\xe3 TTHC\n")
    [first] = ingest(ref_settings, path)
    [second] = ingest(ref_settings, path)
    assert (first.status, first.again, second.status, second.again) == ("rejected", False, "rejected", True)
    assert second.load_id == first.load_id and second.message == first.message
    assert "not recorded again" in second.summary()
    assert query(ref_settings, "select count(*) from audit.file_loads") == [(1,)]
    # other content is another file: its rejection is recorded
    path.write_bytes(b"M\xe3 h\xf4 s\xf4,M\xe3 TTHC\n\n")
    assert [r.again for r in ingest(ref_settings, path)] == [False]
    assert query(ref_settings, "select count(*) from audit.file_loads") == [(2,)]


def test_undecodable_line_is_located_mid_file(ref_settings, tmp_path):
    path = write_csv(tmp_path / "mid_20250616.csv", [row(f"M-{i}") for i in range(5)], encoding="utf-8")
    path.write_bytes(path.read_bytes() + b"M-9,\xd0\xe2t\n")  # Windows-1258 bytes
    [result] = ingest(ref_settings, path)
    assert result.status == "rejected" and "line 7" in result.message and "UTF-8" in result.message
    assert raw_rows(ref_settings) == [] and query(ref_settings, "select count(*) from quarantine.rows") == [(0,)]


@pytest.mark.parametrize("column", ["Chủ hồ sơ", "Trạng thái", "STT", "Ghi chú"])
def test_an_undecodable_value_rejects_the_file_wherever_it_is_decoded(ref_settings, tmp_path, column):
    """Arrow does not check UTF-8 as it reads: the server checks the text loaded into raw, Python the values
    it parses or keeps as extra columns, the reader the columns nothing else reads (STT)."""
    headers = ["STT"] + HEADERS + ["Ghi chú"]
    rows = [row(f"U-{i}", STT=str(i), Ghi_chú="") for i in range(30)]
    rows[25][column] = "BAD"  # past the lines read to find the header, which are decoded as they are read
    path = write_csv(tmp_path / "bad_20250616.csv", rows, headers=headers, encoding="utf-8")
    path.write_bytes(path.read_bytes().replace(b"BAD", b"\xd0\xe2t"))  # Windows-1258 bytes
    [result] = ingest(ref_settings, path)
    assert result.status == "rejected" and "line 27" in result.message and "UTF-8" in result.message
    assert raw_rows(ref_settings) == [] and query(ref_settings, "select count(*) from quarantine.rows") == [(0,)]


@pytest.mark.parametrize("changes", [{}, {"Ngày hẹn trả": "31/02/2025"}], ids=["loaded row", "quarantined row"])
def test_a_nul_character_rejects_the_file_with_its_line(ref_settings, tmp_path, changes):
    """Valid UTF-8, but no PostgreSQL text (nor jsonb, for a quarantined record) can hold U+0000."""
    rows = [row(f"N-{i}") for i in range(30)]
    rows[25].update({**changes, "Chủ hồ sơ": "Nguyễn\x00Văn"})
    [result] = ingest(ref_settings, write_csv(tmp_path / "nul_20250616.csv", rows, encoding="utf-8"))
    assert result.status == "rejected" and "line 27: a NUL character" in result.message
    assert raw_rows(ref_settings) == [] and query(ref_settings, "select count(*) from quarantine.rows") == [(0,)]


def test_the_loader_speaks_utf8_to_the_server_whatever_the_client_encoding(ref_settings):
    """The server checks the UTF-8 of what COPY sends (CSV is not checked on reading) only from a UTF-8 client;
    from a WIN1258 one it would convert bad bytes instead."""
    with psycopg.connect(ref_settings.database_url, autocommit=True) as conn:
        conn.execute("set client_encoding to 'WIN1258'")
        loader_for(conn, "one_stop_shop", ref_settings.reference_dir, ref_settings.header_aliases_file,
               ref_settings.pii_hash_key)
        assert conn.info.encoding == "utf-8"


def test_missing_required_column_and_repeated_header_reject_the_file(ref_settings, tmp_path):
    headers = [h for h in HEADERS if h != "Mã đơn vị"]
    write_csv(tmp_path / "missing_20250616.csv", [row("X-1")], headers=headers)
    write_csv(tmp_path / "repeat_20250616.csv", [row("X-2")], headers=HEADERS + ["Ngày tiếp nhận"])
    results = {r.path.name: r for r in ingest(ref_settings, tmp_path)}
    assert "'Mã đơn vị' missing" in results["missing_20250616.csv"].message
    assert "header 'Ngày tiếp nhận' repeats (columns 13 and 25)" in results["repeat_20250616.csv"].message
    assert raw_rows(ref_settings) == []


BAD_ROWS = {
    "empty required": (dict(**{"Mã TTHC": ""}), "Mã TTHC: required value is empty"),
    "bad date": (dict(**{"Ngày hẹn trả": "31/02/2025"}), "Ngày hẹn trả: '31/02/2025' is not a valid date"),
    "bad number": (dict(**{"Lệ phí": "1.5OO.000"}), "Lệ phí: '1.5OO.000' is not an amount"),
    "bad code": (dict(**{"Trạng thái": "Đang chờ"}), "Trạng thái: 'Đang chờ' is not a known dossier status"),
    "bad yes/no": (dict(**{"Số hóa thành phần": "có lẽ"}), "Số hóa thành phần: 'có lẽ' is not a known yes/no"),
    "unknown unit": (dict(**{"Mã đơn vị": "000.99.99.H99"}), "'000.99.99.H99' is not in the units registry"),
    "unit not valid on date": (dict(**{"Mã đơn vị": "000.41.02.H99", "Ngày tiếp nhận": "01/07/2025 08:00",
                                       "Ngày hẹn trả": "05/07/2025 17:00", "Ngày kết thúc xử lý": "",
                                       "Ngày trả kết quả": "", "Trạng thái": "4"}),
                               "'000.41.02.H99' is not valid on 2025-07-01"),
    "due before received": (dict(**{"Ngày hẹn trả": "01/06/2025 17:00"}),
                            "Ngày hẹn trả: 2025-06-01 17:00:00 is before"),
    "end before received": (dict(**{"Ngày kết thúc xử lý": "01/06/2025 10:00"}),
                            "end of processing 2025-06-01 10:00:00 is before"),
    "terminal without end": (dict(**{"Ngày kết thúc xử lý": "", "Ngày trả kết quả": ""}),
                             "terminal status 10 without an end date"),
    "event after extraction": (dict(**{"Ngày trả kết quả": "20/06/2025 09:00"}),
                               "Ngày trả kết quả: '20/06/2025 09:00' is after the file's extraction time"),
}


def test_an_event_on_the_extraction_day_is_compared_by_day_when_it_has_no_time(ref_settings, tmp_path):
    """Extracted at 08:00 on 16/06: returned "16/06/2025" (a date alone) is fine, "16/06/2025 09:00" is not."""
    rows = [row("DAY-1", Ngày_trả_kết_quả="16/06/2025"), row("TIME-1", Ngày_trả_kết_quả="16/06/2025 09:00"),
            row("EARLY-1", Ngày_trả_kết_quả="16/06/2025 07:59")]
    [result] = ingest(ref_settings, write_csv(tmp_path / "ho_so_20250616T080000.csv", rows))
    assert (result.rows_loaded, result.rows_quarantined) == (2, 1)
    assert query(ref_settings, "select record->>'dossier_code', reasons[1] from quarantine.rows") == [
        ("TIME-1", "Ngày trả kết quả: '16/06/2025 09:00' is after the file's extraction time 2025-06-16 08:00:00")]


def test_each_bad_row_is_quarantined_with_its_reason_and_the_rest_loads(ref_settings, tmp_path):
    rows = [row("OK-1")] + [row(f"BAD-{i}", **changes) for i, (changes, _) in enumerate(BAD_ROWS.values())]
    rows += [row("DUP-1"), row("DUP-1", **{"Lệ phí": "0"}), row("SAME-1"), row("SAME-1")]
    rows.insert(3, {h: "" for h in HEADERS})  # a blank line: skipped, not quarantined
    rows.append({"Mã hồ sơ": "", "Mã TTHC": "Tổng cộng"})
    path = write_csv(tmp_path / "ho_so_20250616.csv", rows)
    [result] = ingest(ref_settings, path)
    n_bad = len(BAD_ROWS)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined, result.rows_skipped) == (
        1 + n_bad + 4, 3, n_bad + 2, 2)
    quarantined = query(ref_settings, "select source_line, record->>'dossier_code', reasons "
                                      "from quarantine.rows order by source_line")
    by_code = {code: (line, reasons) for line, code, reasons in quarantined}
    for i, (_, expected) in enumerate(BAD_ROWS.values()):
        line, reasons = by_code[f"BAD-{i}"]
        assert any(expected in r for r in reasons), (expected, reasons)
        assert line == i + 3 + (1 if i >= 2 else 0)  # header is line 1, the blank line is line 4
    # beside each reason, a code for machines and the Vietnamese text staff read (quarantine.rows_explained)
    explained = {code: (codes, texts) for code, codes, texts in query(
        ref_settings, "select record->>'dossier_code', reason_codes, reasons_vi from quarantine.rows_explained")}
    assert [c for c, (codes, _) in explained.items() if "OTHER" in codes or len(codes) != len(by_code[c][1])] == []
    assert explained["BAD-0"] == (["REQUIRED_EMPTY"], ["Mã TTHC: thiếu giá trị bắt buộc"])
    assert explained["BAD-2"][0] == ["AMOUNT_INVALID"] and explained["BAD-2"][1][0].startswith(
        "Lệ phí: không phải số tiền VND") and explained["BAD-2"][1][0].endswith("(1.5OO.000)")
    assert explained["DUP-1"][0] == ["DUPLICATE_IN_FILE"]
    dup_lines = [line for line, code, reasons in quarantined if code == "DUP-1"]
    assert len(dup_lines) == 2
    assert all("appears more than once" in r[0] for _, c, r in quarantined if c == "DUP-1")
    assert sorted(c for (c,) in raw_rows(ref_settings, "dossier_code")) == ["OK-1", "SAME-1", "SAME-1"]
    # re-processing cannot fix a key that repeats in its file: those rows stay quarantined
    pipeline.reprocess_quarantine(ref_settings)
    assert sorted(c for (c,) in raw_rows(ref_settings, "dossier_code")) == ["OK-1", "SAME-1", "SAME-1"]
    # the quarantined record is kept verbatim, personal data included (quarantine is restricted)
    record = query(ref_settings, "select record from quarantine.rows where record->>'dossier_code' = 'BAD-2'")[0][0]
    assert record["fee_amount"] == "1.5OO.000" and record["applicant_name"] == "Nguyễn Văn An"


def test_a_second_load_of_the_same_file_changes_nothing(ref_settings, tmp_path):
    path = write_csv(tmp_path / "ho_so_20250616.csv", [row("R-1"), row("R-2", **{"Lệ phí": "x"})])
    first = ingest(ref_settings, path)[0]
    snapshot = [query(ref_settings, f"select count(*) from {t}") for t in
                ("raw.one_stop_shop__dossiers", "quarantine.rows", "audit.file_loads")]
    copy = tmp_path / "again" / "ho_so_20250616.csv"
    copy.parent.mkdir()
    copy.write_bytes(path.read_bytes())
    second = ingest(ref_settings, path, copy)
    assert first.status == "loaded" and [r.status for r in second] == ["already_loaded", "already_loaded"]
    assert [query(ref_settings, f"select count(*) from {t}") for t in
            ("raw.one_stop_shop__dossiers", "quarantine.rows", "audit.file_loads")] == snapshot


def test_every_version_is_kept_whatever_the_arrival_order(ref_settings, tmp_path):
    open_version = row("V-1", **{"Trạng thái": "4", "Ngày kết thúc xử lý": "", "Ngày trả kết quả": ""})
    newer = write_csv(tmp_path / "ho_so_20250616.csv", [row("V-1")])
    older = write_csv(tmp_path / "ho_so_20250603T120000.csv", [open_version])
    ingest(ref_settings, newer)
    ingest(ref_settings, older)
    assert query(ref_settings, "select extracted_at::text, status_parsed from raw.one_stop_shop__dossiers "
                               "order by extracted_at") == [("2025-06-03 12:00:00", 4), ("2025-06-16 23:59:59", 10)]


def test_a_load_killed_midway_leaves_nothing(ref_settings, tmp_path):
    path = tmp_path / "ho_so_20250616.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        for i in range(400_000):
            writer.writerow([row(f"K-{i:07d}").get(h, "") for h in HEADERS])
    env_code = (
        "import sys; from pathlib import Path; from reformwh import pipeline; from reformwh.settings import Settings;"
        f"s = Settings(Path({str(tmp_path)!r}), {ref_settings.database_url!r},"
        f" Path({str(ref_settings.reference_dir)!r}),"
        f" Path({str(ref_settings.header_aliases_file)!r}));"
        f"pipeline.ingest(s, 'one_stop_shop', [Path({str(path)!r})])"
    )
    process = subprocess.Popen([sys.executable, "-c", env_code], cwd=Path(__file__).resolve().parents[1])
    deadline = time.monotonic() + 60
    # wait until the COPY is under way, then kill the loader without warning
    while time.monotonic() < deadline:
        active = query(ref_settings, "select count(*) from pg_stat_activity where query ilike 'copy raw.%'")
        if active[0][0]:
            break
        time.sleep(0.05)
    time.sleep(0.5)
    process.send_signal(signal.SIGKILL)
    process.wait()
    time.sleep(0.5)
    assert active[0][0], "the load never reached COPY"
    for table in ("raw.one_stop_shop__dossiers", "quarantine.rows", "audit.file_loads"):
        assert query(ref_settings, f"select count(*) from {table}") == [(0,)]


def test_quarantined_rows_load_after_the_registry_is_fixed(make_settings, tmp_path):
    reference = tmp_path / "reference"
    reference.mkdir()
    for f in (SAMPLES / "reference").iterdir():
        (reference / f.name).write_bytes(f.read_bytes())
    settings = make_settings(reference)
    path = write_csv(tmp_path / "ho_so_20250616.csv", [row("U-1", **{"Mã đơn vị": "000.00.77.H99"})])
    assert ingest(settings, path)[0].rows_quarantined == 1
    assert pipeline.reprocess_quarantine(settings) == (0, 1)
    with open(reference / "units.csv", "a", encoding="utf-8") as handle:
        handle.write("000.00.77.H99,Sở Mới,department,000.00.00.H99,2020-01-01,,,true\n")
    # a row already validated against this reference data and code is not read again (a daily build would
    # otherwise re-validate years of quarantine): marked so, the fixable row stays where it is
    fingerprint = validation_fingerprint(reference)
    execute(settings, "update quarantine.rows set validated_against = %s", [fingerprint])
    assert pipeline.reprocess_quarantine(settings) == (0, 1)
    execute(settings, "update quarantine.rows set validated_against = 'before the registry was fixed'")
    assert pipeline.reprocess_quarantine(settings) == (1, 0)
    assert query(settings, "select dossier_code, source_file, source_line, extracted_at::text "
                           "from raw.one_stop_shop__dossiers") == [
        ("U-1", "ho_so_20250616.csv", 2, "2025-06-16 23:59:59")]
    assert query(settings, "select status, rows_read, rows_loaded from audit.file_loads order by load_id") == [
        ("loaded", 1, 0), ("reprocessed", 1, 1)]


def test_personal_data_stays_in_raw_and_the_id_is_hashed_with_the_key(ref_settings, tmp_path):
    path = write_csv(tmp_path / "ho_so_20250616.csv", [row("P-1"), row("P-2")])
    ingest(ref_settings, path)
    hashes = query(ref_settings, "select distinct applicant_id_hash from raw.one_stop_shop__dossiers")
    # keyed BLAKE2b-128 in hex: the same function on every load, or distinct applicants stop matching
    expected = hashlib.blake2b(b"044090001234", key=ref_settings.pii_hash_key, digest_size=16).hexdigest()
    assert hashes == [(expected,)]


def test_a_reference_folder_with_a_dangling_successor_is_refused_with_its_line(tmp_path):
    from ingestion.reference import ReferenceError, read_reference

    for f in (SAMPLES / "reference").iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    with open(tmp_path / "units.csv", "a", encoding="utf-8") as handle:
        handle.write("000.41.09.H99,UBND xã Mẫu Bắc,commune,000.00.41.H99,2020-01-01,2025-06-30,000.41.99.H99,true\n")
    with pytest.raises(ReferenceError, match=r"units.csv: line 8: successor_code '000.41.99.H99' is not a unit"):
        read_reference(tmp_path)


def test_a_reference_file_with_a_repeated_key_is_refused_with_its_lines(tmp_path):
    """A criterion listed twice would be joined twice (its points counted double): refused before dbt runs."""
    from ingestion.reference import Catalog, ReferenceError, read_reference

    for f in (SAMPLES / "reference").iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    with open(tmp_path / "criteria.csv", encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    repeated = lines[2]
    year, level, code = repeated.split(",")[:3]
    (tmp_path / "criteria.csv").write_text("\n".join([*lines, repeated]) + "\n", encoding="utf-8")
    expected = (rf"criteria.csv: the key \(year, unit_level, criterion_code\) repeats: "
                rf"year={year}, unit_level={level}, criterion_code={code} on lines 3, {len(lines) + 1}$")
    with pytest.raises(ReferenceError, match=expected):
        read_reference(tmp_path)
    # the loader's catalog, read for validating self-reports, refuses it too
    with pytest.raises(ReferenceError, match=expected):
        Catalog.from_dir(tmp_path)


def test_two_loaders_given_the_same_new_file_at_once_load_it_once(ref_settings, tmp_path, monkeypatch):
    """The hash of a file no loaded file matches in size is computed while the file loads; both loaders are
    held until both have read their rows, so the second finds the first's load only at the end."""
    import threading

    from ingestion import export_loader as loader_module
    from ingestion.schema import ensure_schema

    with pipeline.connect(ref_settings) as conn:  # as on any warehouse but a brand-new one
        ensure_schema(conn)
    path = write_csv(tmp_path / "ho_so_20250616.csv", [row("C-1"), row("C-2")])
    both_loading = threading.Barrier(2, timeout=30)
    real_sha256 = loader_module.file_sha256

    def held_sha256(p):
        both_loading.wait()
        return real_sha256(p)

    monkeypatch.setattr(loader_module, "file_sha256", held_sha256)
    results = []
    threads = [threading.Thread(target=lambda: results.extend(ingest(ref_settings, path))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # (with the messages: a rejection says why; a month partition both made once failed one of them)
    assert sorted((r.status, r.message) for r in results) == [("already_loaded", None), ("loaded", None)]
    assert query(ref_settings, "select count(*), count(distinct load_id) from raw.one_stop_shop__dossiers") == [(2, 1)]
    assert query(ref_settings, "select count(*) from audit.file_loads where status = 'loaded'") == [(1,)]


def test_a_key_repeated_across_blocks_is_seen_whatever_the_widths_beside_it():
    """A key is seen again in a later block, whatever the widths of the codes beside it (two-column keys too, as
    tasks have); a row not loaded does not count."""
    keys = KeyRepeats([0, 1])
    keys.add([pa.array(["T-0001", "T-0002"]), pa.array(["U1", "U1"])], np.ones(2, dtype=bool))
    keys.add([pa.array(["T-1", "T-0002-extra-long-code"]), pa.array(["U1", "U2"])], np.ones(2, dtype=bool))
    assert not keys.may_repeat()
    keys.add([pa.array(["T-0003", "T-0002"]), pa.array(["U2", "U1"])], np.array([True, False]))
    assert not keys.may_repeat()  # the repeated row was not loaded
    keys.add([pa.array(["T-0002"]), pa.array(["U1"])], np.ones(1, dtype=bool))
    assert keys.may_repeat()


def test_the_same_seed_writes_byte_identical_samples(tmp_path):
    """The loader recognises a file by its content hash, so a second `reformwh sample` (or demo) with the same
    seed must write the same bytes: workbooks and ZIPs carry fixed times, ZIP entries a fixed order."""
    digests = []
    for run, hash_seed in enumerate(("1", "2")):
        out = tmp_path / f"run{run}"
        script = ("from pathlib import Path; from reformwh.samples import write_samples; "
                  f"write_samples(Path({str(out)!r}), scale=0.02)")
        subprocess.run([sys.executable, "-c", script], check=True, env={**os.environ, "PYTHONHASHSEED": hash_seed})
        digests.append({p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                        for p in sorted(out.rglob("*")) if p.is_file()})
    assert digests[0] == digests[1]
    assert {name.split("/")[0] for name in digests[0]} >= {"one_stop_shop", "document_management", "self_reports"}
    assert any(name.endswith(".zip") for name in digests[0]) and any(name.endswith(".xlsx") for name in digests[0])


def test_each_raw_table_finds_a_loads_rows_by_a_btree_on_load_id(ref_settings):
    """A load reads its own rows back (rows whose key repeats in the file). A BRIN range is summarised only by
    VACUUM, so with the BRIN of earlier versions each load scanned every row written since the last VACUUM:
    ingesting two years of daily files ran ~9x slower per row than one file (docs/scale.md). A warehouse
    made with that BRIN gets the B-tree in its place."""
    from ingestion.contracts import CONTRACTS
    from ingestion.schema import ensure_schema

    with pipeline.connect(ref_settings) as conn:
        ensure_schema(conn)
        conn.execute("drop index raw.one_stop_shop__dossiers_by_load")
        conn.execute("create index one_stop_shop__dossiers_load on raw.one_stop_shop__dossiers using brin (load_id)")
        ensure_schema(conn)
        indexes = conn.execute(
            "select c.relname, am.amname, pg_get_indexdef(i.indexrelid) from pg_index i "
            "join pg_class c on c.oid = i.indexrelid join pg_am am on am.oid = c.relam "
            "join pg_class t on t.oid = i.indrelid where t.relnamespace = 'raw'::regnamespace "
            "and not t.relispartition "  # a month partition has its own copy of its table's index
            "and pg_get_indexdef(i.indexrelid) like '%(load_id)'").fetchall()
    tables = [c.raw_table.split(".")[1] for contracts in CONTRACTS.values() for c in contracts]
    assert sorted((name, am) for name, am, _ in indexes) == sorted((f"{t}_by_load", "btree") for t in tables)


def test_a_warehouse_made_before_raw_dossiers_were_indexed_by_dossier_code_gets_the_index(ref_settings):
    """int_dossier_versions_compared reads every version of the day's dossiers: without this index, all of raw
    (docs/scale.md). Each month partition has it too (test_raw_partitions)."""
    from ingestion.schema import ensure_schema

    with pipeline.connect(ref_settings) as conn:
        ensure_schema(conn)
        conn.execute("drop index raw.one_stop_shop__dossiers_by_dossier_code")
        ensure_schema(conn)
        (definition,) = conn.execute(
            "select pg_get_indexdef('raw.one_stop_shop__dossiers_by_dossier_code'::regclass)").fetchone()
    assert definition.endswith("USING btree (dossier_code)")

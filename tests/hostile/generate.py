"""The hostile-input corpus of issue 16: writes every input and says what it must get.

    python tests/hostile/generate.py OUT_DIR     # writes OUT_DIR/<source>/<files> and OUT_DIR/expected.json

Each case is one file (or submission) and one expected outcome: `rejected` with a message containing X,
`quarantined` with a reason containing Y (and how many rows load and go to quarantine), or `loaded`. Every
record carries the same personal values (PERSONAL), which no rejection message, summary or audit text may
repeat. Inputs are generated, never checked in: variants per format (CSV, semicolon CSV, UTF-16 text, XLSX,
JSON, JSON Lines) and per column of the contract.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
import sys
import unicodedata
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import openpyxl

from ingestion.contracts import DOCUMENTS, DOSSIERS, TASKS

# Personal values in every record: none may appear in a message.
PERSONAL = {"name": "Trần Thị Bí Mật", "id": "079123456789", "phone": "0909123456", "email": "bi.mat@example.vn"}
EXTRACTED = "20250616"
UNIT = "000.00.16.H99"
HEADERS = [f.header for f in DOSSIERS.fields]
PORTAL = {f.header: f.portal for f in DOSSIERS.fields}
FORMATS = ("csv", "semicolon", "txt", "xlsx", "json", "jsonl")


@dataclass
class Case:
    name: str  # the file (or submission) name, under OUT_DIR/<source>/
    source: str
    expect: str  # rejected | quarantined | loaded
    text: str = ""  # in the rejection message, or in a quarantine reason
    loaded: int | None = None  # rows loaded (quarantined / loaded cases)
    quarantined: int | None = None
    distinct_keys: int | None = None  # distinct keys in raw after the load, where doubling is the danger
    skipped: int | None = None
    evidence_file: str | None = None  # a self-report evidence file name raw must hold, as the unit wrote it


# Submission limits the corpus runs with, so a "too big" workbook stays small on disk.
LIMITS = {"REFORMWH_SUBMISSION_MAX_WORKBOOK_MB": "2", "REFORMWH_SUBMISSION_MAX_SHEET_ROWS": "500"}


def dossier(code: str, **changes) -> dict[str, str]:
    values = {
        "Mã hồ sơ": code, "Mã TTHC": "1.001193", "Tên TTHC": "Đăng ký khai sinh", "Mã lĩnh vực": "HT",
        "Tên lĩnh vực": "Hộ tịch", "Mã đơn vị": UNIT, "Kênh thực hiện": "2", "Mức độ DVC": "Toàn trình",
        "Chủ hồ sơ": PERSONAL["name"], "Số giấy tờ": PERSONAL["id"], "Số điện thoại": PERSONAL["phone"],
        "Email": PERSONAL["email"], "Ngày tiếp nhận": "02/06/2025 08:15", "Ngày hẹn trả": "05/06/2025 17:00",
        "Ngày kết thúc xử lý": "04/06/2025 10:20", "Ngày trả kết quả": "04/06/2025 14:00", "Ngày từ chối": "",
        "Trạng thái": "Đã trả kết quả", "Số hóa thành phần": "Có", "Thanh toán trực tuyến": "1",
        "Lệ phí": "1.500.000", "Số lần bổ sung": "0", "Phiếu xin lỗi": "Không", "Mức độ hài lòng": "Hài lòng",
    }
    values.update(changes)
    return values


# -- writers, one per format: records are header -> text ------------------------------------------------
def write_records(path: Path, fmt: str, records: list[dict], headers: list[str] = HEADERS,
                  raw_json: dict[str, str] | None = None) -> None:
    """`raw_json` replaces a quoted placeholder value by raw JSON text (a number no string can stand for)."""
    if fmt in ("csv", "semicolon", "txt"):
        delimiter = {"csv": ",", "semicolon": ";", "txt": "\t"}[fmt]
        encoding = {"csv": "utf-8-sig", "semicolon": "utf-8", "txt": "utf-16"}[fmt]
        with open(path, "w", encoding=encoding, newline="") as handle:
            writer = csv.writer(handle, delimiter=delimiter)
            writer.writerow(headers)
            for r in records:
                writer.writerow([r.get(h, "") for h in headers])
    elif fmt == "xlsx":
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(headers)
        for r in records:
            sheet.append([r.get(h, "") for h in headers])
        book.save(path)
    else:
        objects = [{PORTAL.get(h) or h: v for h, v in r.items() if v != ""} for r in records]
        if fmt == "json":
            text = json.dumps(objects, ensure_ascii=False, indent=1)
        else:
            text = "\n".join(json.dumps(o, ensure_ascii=False) for o in objects) + "\n"
        for placeholder, raw in (raw_json or {}).items():
            text = text.replace(json.dumps(placeholder), raw)
        path.write_text(text, encoding="utf-8")


def suffix(fmt: str) -> str:
    return {"semicolon": "csv"}.get(fmt, fmt)


# -- the cases --------------------------------------------------------------------------------------------
# A bad value in one column: (column, value, text of the reason). Each goes out in every format.
BAD_VALUES = [
    ("Ngày tiếp nhận", "０２/06/2025 08:15", "is not a date"),  # fullwidth digits
    ("Ngày tiếp nhận", "٠٢/٠٦/٢٠٢٥", "is not a date"),  # Arabic-Indic digits
    ("Ngày tiếp nhận", "31/02/2025", "is not a valid date"),
    ("Ngày tiếp nhận", "2025-13-01", "is not a valid date"),
    ("Ngày hẹn trả", "05/06/2025 25:00", "is not a valid date"),
    ("Ngày hẹn trả", "01/01/2025", "is before"),
    ("Ngày kết thúc xử lý", "۰۴/۰۶/۲۰۲۵", "is not a date"),  # Extended Arabic-Indic
    ("Ngày kết thúc xử lý", "04/06/2099", "after the file's extraction time"),
    ("Ngày trả kết quả", "99999999999999999999", "is not a date"),
    ("Ngày từ chối", "hôm qua", "is not a date"),
    ("Lệ phí", "9223372036854775808", "too large"),  # 2^63
    ("Lệ phí", "99.999.999.999.999.999.999", "too large"),
    ("Lệ phí", "１５００", "not an amount"),
    ("Lệ phí", "1e20", "not an amount"),
    ("Lệ phí", "-5", "not an amount"),
    ("Số lần bổ sung", "2147483648", "too large"),  # 2^31
    ("Số lần bổ sung", "9" * 4400, "too large"),
    ("Số lần bổ sung", "²", "not a whole number"),
    ("Số lần bổ sung", "٣", "not a whole number"),
    ("Số lần bổ sung", "1.5", "not a whole number"),
    ("Kênh thực hiện", "9", "not a known channel"),
    ("Kênh thực hiện", "２", "not a known channel"),
    ("Trạng thái", "99", "not a known dossier status"),
    ("Số hóa thành phần", "có lẽ", "not a known yes/no"),
    ("Thanh toán trực tuyến", "3", "online payment"),
    ("Mức độ hài lòng", "tạm", "not a known rating"),
    ("Mức độ DVC", "Một nửa", "not a known service level"),
    ("Mã đơn vị", "000.00.99.H99", "Mã đơn vị"),
    ("Mã hồ sơ", "H-\u200b{code}", "invisible format character"),  # zero-width space inside the key
    ("Mã hồ sơ", "H-\u2060{code}", "invisible format character"),  # word joiner
    ("Mã TTHC", "", "required value is empty"),
]

# Values that look odd but are fine: (column, value).
GOOD_ODD_VALUES = [
    ("Chủ hồ sơ", "x" * 100_000),  # a long value
    ("Tên TTHC", "Đăng ký\u200b khai sinh"),  # a format character inside free text is kept
    ("Tên TTHC", "\u202eRTL override"),
    ("Mã hồ sơ", "\ufeff{code}"),  # a BOM before the key (two exports joined): trimmed
    ("Mã hồ sơ", "{code}\u200b"),  # a zero-width space after it: trimmed
    ("Tên lĩnh vực", unicodedata.normalize("NFD", "Đất đai")),  # decomposed diacritics: normalised
]


def cases() -> list[tuple[Case, object]]:
    """(case, writer) pairs; the writer takes the file's path."""
    out: list[tuple[Case, object]] = []
    n = 0

    def add(case: Case, writer) -> None:
        out.append((case, writer))

    def name(slug: str, ext: str) -> str:
        nonlocal n
        n += 1
        return f"h{n:03d}_{slug}_{EXTRACTED}.{ext}"

    # 1. One bad value per column, in every format: that row quarantined, the other loaded.
    for column, value, reason in BAD_VALUES:
        for fmt in FORMATS:
            file = name(f"bad_{fmt}", suffix(fmt))
            code = f"Q{n:03d}"
            bad = dossier(f"{code}-2", **{column: value.replace("{code}", f"{code}-2")})
            records = [dossier(f"{code}-1"), bad]
            add(Case(file, "one_stop_shop", "quarantined", reason, loaded=1, quarantined=1),
                lambda p, f=fmt, r=records: write_records(p, f, r))
    # 2. Odd values that load, in every format.
    for column, value in GOOD_ODD_VALUES:
        for fmt in FORMATS:
            file = name(f"odd_{fmt}", suffix(fmt))
            code = f"G{n:03d}"
            records = [dossier(f"{code}-1"), dossier(f"{code}-2", **{column: value.replace("{code}", f"{code}-2")})]
            add(Case(file, "one_stop_shop", "loaded", loaded=2, quarantined=0, distinct_keys=2),
                lambda p, f=fmt, r=records: write_records(p, f, r))
    # 3. A key with and without a BOM, same content, in every format: one dossier, not two.
    for fmt in FORMATS:
        file = name(f"bom_twice_{fmt}", suffix(fmt))
        code = f"B{n:03d}"
        records = [dossier(code), dossier("\ufeff" + code)]
        add(Case(file, "one_stop_shop", "loaded", loaded=2, quarantined=0, distinct_keys=1),
            lambda p, f=fmt, r=records: write_records(p, f, r))
    # 4. The same key twice with different content: both rows quarantined, in every format.
    for fmt in FORMATS:
        file = name(f"dup_{fmt}", suffix(fmt))
        code = f"D{n:03d}"
        records = [dossier(code), dossier(code, **{"Lệ phí": "0"}), dossier(code + "-ok")]
        add(Case(file, "one_stop_shop", "quarantined", "appears more than once", loaded=1, quarantined=2),
            lambda p, f=fmt, r=records: write_records(p, f, r))
    json_cases(add, name)
    text_cases(add, name)
    workbook_cases(add, name)
    file_name_cases(add, name)
    document_cases(add, name)
    submission_cases(add)
    return out


def json_cases(add, name) -> None:
    def raw(slug, ext, text: str | bytes, case_kwargs):
        file = name(slug, ext)
        data = text.encode() if isinstance(text, str) else text
        add(Case(file, "one_stop_shop", **case_kwargs), lambda p, d=data: p.write_bytes(d))
        return file

    def record(code, **changes) -> dict:
        return {PORTAL.get(h) or h: v for h, v in dossier(code, **changes).items() if v != ""}

    # The top level is not an array: rejected, naming what was found.
    for slug, text, found in [
        ("object", json.dumps({"total": 190, "data": [record("J-1")]}, ensure_ascii=False), "an object"),
        ("number", "190", "a number"), ("null", "null", "null"), ("string", '"data"', "a string"),
        ("true", "true", "true"), ("negative", "-1", "a number"),
    ]:
        raw(f"top_{slug}", "json", text, {"expect": "rejected", "text": f"the top level is {found}"})
    raw("empty", "json", "", {"expect": "rejected", "text": "the file is empty"})
    raw("blank", "json", " \n\t ", {"expect": "rejected", "text": "the file is empty"})
    # Deep nesting: the whole array, and one record's value.
    raw("deep", "json", "[" * 200_000, {"expect": "rejected", "text": "nested too deeply"})
    raw("deep_value", "json", "[" + json.dumps(record("J-DV"))[:-1] + ', "X": ' + "[" * 5000 + "]" * 5000 + "}]",
        {"expect": "rejected", "text": "nested too deeply"})
    raw("deep_ok", "json", json.dumps([{**record("J-DOK"), "X": json.loads("[" * 50 + "]" * 50)}]),
        {"expect": "loaded", "loaded": 1, "quarantined": 0})
    # Numbers no column can hold: the row quarantined, not the file refused.
    for slug, number, reason in [("1e400", "1e400", "Số lần bổ sung"), ("bigint", "9" * 5000, "Số lần bổ sung"),
                                 ("neg_bigint", "-" + "9" * 4301, "Số lần bổ sung"),
                                 ("fee_1e400", "1e400", "Lệ phí"), ("fee_big", "1" + "0" * 30, "Lệ phí"),
                                 ("date_number", "1e300", "Ngày tiếp nhận")]:
        column = {"Số lần bổ sung": "DanhSachHoSoBoSung", "Lệ phí": "DanhSachLePhi",
                  "Ngày tiếp nhận": "NgayTiepNhan"}[reason]
        for ext in ("json", "jsonl"):
            bad = record(f"J{slug}{ext}-2", **{reason: "@@N@@"})
            bad[column] = "@@N@@"
            objects = [record(f"J{slug}{ext}-1"), bad]
            text = (json.dumps(objects, ensure_ascii=False) if ext == "json"
                    else "\n".join(json.dumps(o, ensure_ascii=False) for o in objects))
            raw(f"num_{slug}", ext, text.replace('"@@N@@"', number),
                {"expect": "quarantined", "text": reason, "loaded": 1, "quarantined": 1})
    # A lone surrogate escape: that record quarantined.
    for ext in ("json", "jsonl"):
        objects = [record(f"JS{ext}-1"), record(f"JS{ext}-2", **{"Tên TTHC": "@@S@@"})]
        text = (json.dumps(objects, ensure_ascii=False) if ext == "json"
                else "\n".join(json.dumps(o, ensure_ascii=False) for o in objects))
        raw("surrogate", ext, text.replace("@@S@@", "\\udc00"),
            {"expect": "quarantined", "text": "unpaired surrogate", "loaded": 1, "quarantined": 1})
        # a proper pair (an emoji) is fine
        raw("pair", ext, text.replace("@@S@@", "\\ud83d\\ude00").replace(f"JS{ext}", f"JP{ext}"),
            {"expect": "loaded", "loaded": 2, "quarantined": 0})
    # Not valid JSON next to personal values: rejected, and the message does not quote them.
    good = json.dumps(record("J-BAD-1"), ensure_ascii=False)
    broken = good.replace(f'"{PERSONAL["phone"]}"', PERSONAL["phone"] + "x")
    raw("invalid_token", "json", f"[{good.replace('J-BAD-1', 'J-BAD-0')}, {broken}]",
        {"expect": "rejected", "text": "record 2: not valid JSON"})
    raw("unquoted_name", "json", "[" + good.replace(f'"{PERSONAL["name"]}"', PERSONAL["name"]) + "]",
        {"expect": "rejected", "text": "record 1: not valid JSON"})
    raw("truncated", "json", f"[{good.replace('J-BAD-1', 'J-TR-1')}, {good[:40]}",
        {"expect": "rejected", "text": "record 2"})
    raw("no_close", "json", f"[{good.replace('J-BAD-1', 'J-NC-1')}",
        {"expect": "rejected", "text": "ends inside the array"})
    raw("trailing", "json", f"[{good.replace('J-BAD-1', 'J-TG-1')}] {{}}",
        {"expect": "rejected", "text": "more text"})
    raw("two_arrays", "json", f"[{good.replace('J-BAD-1', 'J-2A-1')}][]", {"expect": "rejected", "text": "more text"})
    raw("missing_comma", "json", f"[{good.replace('J-BAD-1', 'J-MC-1')} {good.replace('J-BAD-1', 'J-MC-2')}]",
        {"expect": "rejected", "text": "expected ',' or ']'"})
    raw("trailing_comma", "json", f"[{good.replace('J-BAD-1', 'J-TC-1')},]", {"expect": "rejected",
                                                                              "text": "record 2"})
    raw("empty_array", "json", "[]", {"expect": "loaded", "loaded": 0, "quarantined": 0})
    raw("empty_array_spaces", "json", " [ \n ] \n", {"expect": "loaded", "loaded": 0, "quarantined": 0})
    # Records that are not objects: quarantined, the objects load.
    for slug, element in [("number", "5"), ("null", "null"), ("list", "[1, 2]"), ("string", '"x"')]:
        raw(f"element_{slug}", "json", f"[{good.replace('J-BAD-1', 'J-E' + slug)}, {element}]",
            {"expect": "quarantined", "text": "not a JSON object", "loaded": 1, "quarantined": 1})
        raw(f"line_{slug}", "jsonl", f"{good.replace('J-BAD-1', 'J-L' + slug)}\n{element}\n",
            {"expect": "quarantined", "text": "not a JSON object", "loaded": 1, "quarantined": 1})
    # Encodings: cut inside a multi-byte character, a bad byte, UTF-16 with BOM.
    cut = ("[" + good.replace("J-BAD-1", "J-CUT-1")).encode()
    cut = cut[:cut.index("Mật".encode()) + 2]
    raw("cut_multibyte", "json", cut, {"expect": "rejected", "text": "not valid UTF-8"})
    bad_byte = ("[" + good.replace("J-BAD-1", "J-BB-1") + "]").encode().replace(b"\xe1\xba", b"\xe1\x28", 1)
    raw("bad_byte", "json", bad_byte, {"expect": "rejected", "text": "not valid UTF-8"})
    raw("utf16", "json", ("[" + good.replace("J-BAD-1", "J-U16-1") + "]").encode("utf-16"),
        {"expect": "loaded", "loaded": 1, "quarantined": 0})
    # JSON Lines: each bad line quarantined with its reason, the rest load.
    for slug, line, reason in [("deep", "[" * 100_000, "nested too deeply"), ("invalid", "{not json", "not valid JSON"),
                               ("bigint_line", "9" * 5000, "not a JSON object"),
                               ("surrogate_key", '{"\\udc00": 1}', "unpaired surrogate")]:
        raw(f"jsonl_{slug}", "jsonl", f"{good.replace('J-BAD-1', 'J-JL' + slug)}\n{line}\n",
            {"expect": "quarantined", "text": reason, "loaded": 1, "quarantined": 1})
    raw("jsonl_blank_lines", "jsonl", f"\n{good.replace('J-BAD-1', 'J-JLB')}\n\n  \n",
        {"expect": "loaded", "loaded": 1, "quarantined": 0, "skipped": 3})
    raw("jsonl_cut", "jsonl", (good.replace("J-BAD-1", "J-JLC") + "\n").encode()[:-8],
        {"expect": "quarantined", "text": "not valid JSON", "loaded": 0, "quarantined": 1})
    jl_cut = (good.replace("J-BAD-1", "J-JLM") + "\n").encode()
    raw("jsonl_cut_multibyte", "jsonl", jl_cut[:jl_cut.index("Mật".encode()) + 2],
        {"expect": "rejected", "text": "not valid UTF-8"})
    raw("jsonl_long_line", "jsonl", '{"x": "' + "a" * (17 << 20) + '"}\n',
        {"expect": "rejected", "text": "longer than 16 MiB"})


def text_cases(add, name) -> None:
    def raw(slug, ext, data: bytes, **kwargs):
        add(Case(name(slug, ext), "one_stop_shop", **kwargs), lambda p, d=data: p.write_bytes(d))

    def csv_text(records, delimiter=",", newline="\r\n") -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline)
        writer.writerow(HEADERS)
        for r in records:
            writer.writerow([r.get(h, "") for h in HEADERS])
        return buffer.getvalue()

    for ext, encode in (("csv", lambda t: t.encode()), ("txt", lambda t: t.encode("utf-16"))):
        delimiter = "," if ext == "csv" else "\t"
        # line ends: CR alone is refused in UTF-8 (it would read as one line); LF and CRLF load
        if ext == "csv":
            raw("cr_only", ext, csv_text([dossier("T-CR-1")], delimiter, "\r").encode(),
                expect="rejected", text="carriage return alone")
        raw("lf", ext, encode(csv_text([dossier(f"T-LF-{ext}")], delimiter, "\n")),
            expect="loaded", loaded=1, quarantined=0)
        # rows with the wrong number of cells: quarantined
        text = csv_text([dossier(f"T-WC-{ext}")], delimiter) + delimiter.join(["a", "b"]) + "\r\n"
        raw("wrong_cells", ext, encode(text), expect="quarantined", text="cells", loaded=1, quarantined=1)
        # a multi-line quoted value loads
        raw("multiline", ext, encode(csv_text([dossier(f"T-ML-{ext}", **{"Tên TTHC": "dòng 1\ndòng 2"}),
                                               dossier(f"T-ML2-{ext}")], delimiter)),
            expect="loaded", loaded=2, quarantined=0)
        # header only, empty
        raw("header_only", ext, encode(csv_text([], delimiter)), expect="loaded", loaded=0, quarantined=0)
        raw("empty", ext, b"" if ext == "csv" else "".encode("utf-16"), expect="rejected", text="empty")
        # headers: repeated, missing
        raw("repeated_header", ext, encode(delimiter.join(HEADERS + ["Mã hồ sơ"]) + "\r\n"),
            expect="rejected", text="repeats")
        raw("missing_column", ext, encode(delimiter.join(h for h in HEADERS if h != "Mã TTHC") + "\r\n"),
            expect="rejected", text="required column")
        # a header with a BOM in front of it (a second export appended): its row is data, and quarantined
        appended = csv_text([dossier(f"T-AP-{ext}")], delimiter) + "\ufeff" + csv_text([dossier(f"T-AP2-{ext}")],
                                                                                       delimiter)
        raw("appended_export", ext, encode(appended), expect="quarantined", text="Kênh thực hiện",
            loaded=2, quarantined=1)
    good = csv_text([dossier("T-B-1")])
    cut = good.encode()[:good.encode().index("Mật".encode()) + 2]
    raw("cut_multibyte", "csv", cut, expect="rejected", text="not valid UTF-8")
    raw("bad_byte", "csv", good.encode().replace("Mật".encode(), b"M\xff", 1), expect="rejected",
        text="not valid UTF-8")
    raw("latin1", "csv", good.encode("utf-8").decode("utf-8").encode("cp1258", "replace"), expect="rejected",
        text="not valid UTF-8")
    raw("nul", "csv", good.replace("Đăng ký", "Đăng\x00ký").encode(), expect="rejected", text="NUL")
    raw("utf16_cut", "txt", csv_text([dossier("T-U16C")], "\t").encode("utf-16")[:-1], expect="rejected",
        text="UTF-16")
    # a field over 10 MiB in the header search; a row over the block size further down
    big = csv_text([dossier("T-BIG-1", **{"Tên TTHC": "x" * (11 << 20)})])
    raw("huge_field_head", "csv", big.encode(), expect="rejected", text="field larger than field limit")
    rows = [dossier(f"T-BIG2-{i}") for i in range(25)] + [dossier("T-BIG2-X", **{"Tên TTHC": "y" * (11 << 20)})]
    raw("huge_field_later", "csv", csv_text(rows).encode(), expect="rejected", text="a row too long to read")
    rows = [dossier(f"T-BIG3-{i}") for i in range(25)] + [dossier("T-BIG3-X", **{"Tên TTHC": "y" * (3 << 20)})]
    raw("big_field_later", "csv", csv_text(rows).encode(), expect="loaded", loaded=26, quarantined=0)
    raw("unclosed_quote", "csv", (good + '"T-UQ,' + "z" * (3 << 20)).encode(), expect="quarantined",
        text="cells", loaded=1, quarantined=1)
    raw("unclosed_quote_lines", "csv", (good + '"T-UQL,' + "z\n" * (2 << 20)).encode(), expect="rejected",
        text="a row too long to read")
    raw("long_line_head", "csv", ("x" * (17 << 20) + "\n").encode(), expect="rejected", text="longer than 16 MiB")


def workbook_cases(add, name) -> None:
    def book_bytes(rows: int, prefix: str, dimension: str | None = None, date_serial=None, number=None) -> bytes:
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(HEADERS)
        for i in range(rows):
            values = [dossier(f"{prefix}-{i}").get(h, "") for h in HEADERS]
            sheet.append(values)
        if date_serial is not None:
            cell = sheet.cell(row=2, column=HEADERS.index("Ngày tiếp nhận") + 1, value=date_serial)
            cell.number_format = "dd/mm/yyyy"
        if number is not None:
            sheet.cell(row=2, column=HEADERS.index(number[0]) + 1, value=number[1])
        buffer = io.BytesIO()
        book.save(buffer)
        data = buffer.getvalue()
        if dimension is None:
            return data
        return _rewrite_zip(data, "xl/worksheets/sheet1.xml",
                            lambda xml: re.sub(rb'<dimension ref="[^"]*"/>', f'<dimension ref="{dimension}"/>'.encode(),
                                               xml))

    def add_book(slug, data: bytes, **kwargs):
        add(Case(name(slug, "xlsx"), "one_stop_shop", **kwargs), lambda p, d=data: p.write_bytes(d))

    add_book("stale_dimension", book_bytes(102, "X-SD", "A1:X10"), expect="loaded", loaded=102, quarantined=0)
    add_book("dimension_a1", book_bytes(5, "X-A1", "A1"), expect="loaded", loaded=5, quarantined=0)
    add_book("dimension_wide", book_bytes(3, "X-W", "A1:ZZ100000"), expect="loaded", loaded=3, quarantined=0)
    for serial in (2958466, 1e20, 1e300):
        add_book(f"date_serial_{serial}", book_bytes(2, f"X-DS{serial}", date_serial=serial),
                 expect="quarantined", text="Ngày tiếp nhận", loaded=1, quarantined=1)
    for column, value, reason in (("Lệ phí", 1e300, "Lệ phí"), ("Số lần bổ sung", 1e300, "Số lần bổ sung"),
                                  ("Số lần bổ sung", 2**40, "too large"), ("Lệ phí", 1.5, "not an amount"),
                                  ("Ngày hẹn trả", 1e20, "Ngày hẹn trả"), ("Ngày hẹn trả", -1, "Ngày hẹn trả")):
        add_book(f"number_{column[:3]}_{value}", book_bytes(2, f"X-N{column[:3]}{value}", number=(column, value)),
                 expect="quarantined", text=reason, loaded=1, quarantined=1)
    good = book_bytes(30, "X-CORRUPT")
    add_book("corrupt_deflate", _damage_entry(good, "xl/worksheets/sheet1.xml"), expect="rejected",
             text="damaged")
    add_book("truncated_xml", _rewrite_zip(good, "xl/worksheets/sheet1.xml", lambda xml: xml[: len(xml) // 2]),
             expect="rejected", text="damaged")
    add_book("garbage", b"PK\x03\x04" + os.urandom(64), expect="rejected", text="not a readable .xlsx")
    add_book("not_zip", b"Ma ho so,Ma TTHC\n", expect="rejected", text="not a readable .xlsx")
    add_book("empty", b"", expect="rejected", text="not a readable .xlsx")
    add_book("no_workbook_part", _zip({"hello.txt": b"hi"}), expect="rejected", text="not a readable .xlsx")
    add(Case(name("ole_garbage", "xls"), "one_stop_shop", "rejected", "not a readable .xls"),
        lambda p: p.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + os.urandom(2048)))
    add(Case(name("text_as_xls", "xls"), "one_stop_shop", "rejected", "not a readable .xls"),
        lambda p: p.write_bytes(b"<html><table><tr><td>x</td></tr></table></html>"))


def file_name_cases(add, name) -> None:
    """Names that could forge output lines, hide, or are not UTF-8: loaded, and shown escaped."""
    for slug, stem in (("newline", "h_new\nline"), ("ansi", "h_\x1b[31mred\x1b[0m"), ("cr", "h_cr\rx"),
                       ("bidi", "h_\u202egpj.exe"), ("tab", "h_tab\tx")):
        file = name(slug, "csv").replace(f"_{slug}_", f"_{stem}_")
        add(Case(file, "one_stop_shop", "loaded", loaded=1, quarantined=0),
            lambda p, s=slug: write_records(p, "csv", [dossier(f"N-{s}")]))
    if sys.platform != "darwin":  # a file name that is not UTF-8 (Linux file systems allow any bytes)
        file = name("latin1", "csv").replace("_latin1_", "_" + os.fsdecode(b"Quy\xe1t") + "_")
        add(Case(file, "one_stop_shop", "loaded", loaded=1, quarantined=0),
            lambda p: write_records(p, "csv", [dossier("N-latin1")]))
    for ext, reason in (("pdf", "not an accepted kind"), ("zip", "archives"), ("rar", "archives"),
                        ("", "no extension")):
        file = name(f"kind_{ext or 'none'}", ext).rstrip(".")
        add(Case(file, "one_stop_shop", "rejected", reason), lambda p: p.write_bytes(b"data"))


def document_cases(add, name) -> None:
    doc_headers = [f.header for f in DOCUMENTS.fields]
    task_headers = [f.header for f in TASKS.fields]

    def document(number, **changes):
        values = {"Mã văn bản": f"VB-{number}", "Số ký hiệu": f"{number}/QĐ-UBND", "Ngày văn bản": "10/06/2025",
                  "Loại văn bản": "Quyết định", "Trích yếu": "Về việc", "Mã đơn vị": UNIT, "Sổ": "Đi",
                  "Hình thức": "Điện tử", "Ký số": "Có", "Người ký": PERSONAL["name"], "Chức vụ người ký": "Giám đốc"}
        values.update(changes)
        return values

    def task(number, **changes):
        values = {"Mã nhiệm vụ": f"NV-{number}", "Số ký hiệu văn bản giao": "1/KH", "Cơ quan giao": "UBND tỉnh",
                  "Mã đơn vị thực hiện": UNIT, "Nội dung": "Làm", "Ngày giao": "01/06/2025",
                  "Hạn hoàn thành": "30/06/2025", "Hạn ban đầu": "", "Ngày hoàn thành": ""}
        values.update(changes)
        return values

    for fmt in ("csv", "semicolon", "txt", "xlsx"):
        for column, value, reason in (("Ngày văn bản", "１０/06/2025", "is not a date"),
                                      ("Ngày văn bản", "10/06/2099", "extraction time"),
                                      ("Sổ", "Ngang", "register"), ("Mã văn bản", "VB-\u200bX", "invisible"),
                                      ("Ký số", "２", "yes/no")):
            file = "van_ban_" + name(f"doc_{fmt}", suffix(fmt))
            uid = re.search(r"_(h\d{3})_", file)[1]
            records = [document(f"{uid}a"), document(f"{uid}b", **{column: value.replace("X", uid)})]
            add(Case(file, "document_management", "quarantined", reason, loaded=1, quarantined=1),
                lambda p, f=fmt, r=records: write_records(p, f, r, doc_headers))
        for column, value, reason in (("Ngày giao", "٠١/٠٦/٢٠٢٥", "is not a date"),
                                      ("Ngày hoàn thành", "01/05/2025", "is before"),
                                      ("Mã nhiệm vụ", "\ufeffNV-{n}", None)):
            file = "nhiem_vu_" + name(f"task_{fmt}", suffix(fmt))
            uid = re.search(r"_(h\d{3})_", file)[1]
            records = [task(f"{uid}a"), task(f"{uid}b", **{column: value.replace("{n}", uid)})]
            expect = "quarantined" if reason else "loaded"
            add(Case(file, "document_management", expect, reason or "", loaded=1 if reason else 2,
                     quarantined=1 if reason else 0),
                lambda p, f=fmt, r=records: write_records(p, f, r, task_headers))


# -- self-report submissions ------------------------------------------------------------------------------
SUBMISSION = "000.00.16.H99_2025-Y"


def _workbook(items: int = 1, scores=None, dimension: str | None = None) -> bytes:
    sheets = {
        "Thông tin": [("Mã đơn vị", UNIT), ("Kỳ báo cáo", "2025-Y"), ("Ngày gửi", "10/01/2026"),
                      ("Người ký", PERSONAL["name"])],
        "Tự chấm điểm": [("Mã tiêu chí", "Nội dung", "Điểm tối đa", "Điểm tự chấm", "Giải trình")]
        + (scores or [("1.1", "a", 1, 1, None), ("1.2", "b", 2, 2, None)]),
        "Số liệu": [("Mã chỉ tiêu", "Tên chỉ tiêu", "Giá trị"), ("KT_SO_CUOC", "x", 2)],
        "Tài liệu kiểm chứng": [("Mã tiêu chí / chỉ tiêu", "Số ký hiệu văn bản", "Ngày văn bản", "Tên tệp",
                                 "Trang / mục")]
        + [("1.1", f"{i}/KH-STP", "10/01/2025", "ke_hoach.pdf", None) for i in range(items)],
    }
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for r in rows:
            sheet.append(list(r))
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    if dimension:
        data = _rewrite_zip(data, "xl/worksheets/sheet4.xml",
                            lambda xml: re.sub(rb'<dimension ref="[^"]*"/>', f'<dimension ref="{dimension}"/>'.encode(),
                                               xml))
    return data


def submission_cases(add) -> None:
    counter = [0]

    def sub(slug, entries: dict[str, bytes], links=(), name=None, **kwargs):
        counter[0] += 1
        file = name or f"{SUBMISSION} ({counter[0]:02d} {slug}).zip"
        # every submission differs in its content, or it would be 'already loaded'
        entries = {**entries, f"ghi_chu_{counter[0]}.txt": slug.encode()}
        add(Case(file, "self_reports", **kwargs), lambda p, e=entries, ln=links: _write_zip(p, e, ln))

    workbook = f"{SUBMISSION}.xlsx"
    sub("ok", {workbook: _workbook(), "ke_hoach.pdf": b"%PDF"}, expect="loaded", loaded=None)
    sub("stale_dimension", {workbook: _workbook(items=40, dimension="A1:E3")}, expect="loaded", loaded=None)
    sub("dimension_a1", {workbook: _workbook(items=3, dimension="A1")}, expect="loaded", loaded=None)
    for slug, score, reason in (("fullwidth", "１", "is not a number"), ("arabic", "٢", "is not a number"),
                                ("digits", "1" * 16, "too many digits"), ("range", 7, "outside the criterion's range"),
                                ("huge_float", 1e300, "too many digits"), ("word", "nhiều", "is not a number")):
        sub(f"score_{slug}", {workbook: _workbook(scores=[("1.1", "a", 1, score, None), ("1.2", "b", 2, 2, None)])},
            expect="quarantined", text=reason, loaded=None)
    sub("many_rows", {workbook: _workbook(items=600)}, expect="rejected", text="more than 500 rows")
    sub("big_workbook", {workbook: _workbook(scores=[(f"1.{i}", "a", 1, 1, f"{i:05d}" * 6000)
                                                     for i in range(1, 90)])},
        expect="rejected", text="REFORMWH_SUBMISSION_MAX_WORKBOOK_MB")
    sub("zip_slip", {workbook: _workbook(), "../evil.txt": b"x"}, expect="rejected", text="'..'")
    sub("absolute", {workbook: _workbook(), "/etc/evil.txt": b"x"}, expect="rejected", text="absolute path")
    sub("windows_absolute", {workbook: _workbook(), "C:/evil.txt": b"x"}, expect="rejected", text="absolute path")
    sub("link", {workbook: _workbook()}, links=("link.pdf",), expect="rejected", text="a link")
    sub("rar_inside", {workbook: _workbook(), "a.rar": b"Rar!"}, expect="rejected", text="'.rar' archive")
    inner = _zip({"deep.zip": _zip({"deeper.zip": _zip({"x.pdf": b"x"})})})
    sub("nested_deep", {workbook: _workbook(), "a.zip": inner}, expect="rejected", text="nested deeper")
    sub("no_workbook", {"ke_hoach.pdf": b"%PDF"}, expect="rejected", text="is missing")
    sub("corrupt_workbook", {workbook: b"PK\x03\x04" + os.urandom(200)}, expect="rejected", text="not a readable")
    sub("workbook_damaged_sheet", {workbook: _damage_entry(_workbook(items=50), "xl/worksheets/sheet4.xml")},
        expect="rejected", text="damaged")
    sub("bad_name", {workbook: _workbook()}, name="khong_dung_ten.zip", expect="rejected", text="not named")
    sub("bad_name_bytes", {workbook: _workbook()}, name=os.fsdecode(b"000.00.16.H99\xff_2025-Y.zip"),
        expect="rejected", text="not named")
    sub("two_workbooks", {workbook: _workbook(), f"ban_sao/{workbook}": _workbook(items=2)}, expect="rejected",
        text="a second workbook")
    # a UTF-8 name without the UTF-8 flag (many archivers): read as UTF-8, not as CP437 ('Quyß║┐t')
    counter[0] += 1
    add(Case(f"{SUBMISSION} ({counter[0]:02d} utf8 no flag).zip", "self_reports", "loaded",
             evidence_file="Quyết.pdf"),
        lambda p: p.write_bytes(_unflagged_names(_zip({workbook: _workbook(), "QuyXXXt.pdf": b"%PDF"}),
                                                 {b"QuyXXXt.pdf": "Quyết.pdf".encode()})))
    # folder submissions: a hard link is refused like a symbolic one; a plain folder loads
    counter[0] += 1
    add(Case(f"{SUBMISSION} ({counter[0]:02d} folder)", "self_reports", "loaded"),
        lambda p: _folder(p, {workbook: _workbook(), "ke_hoach.pdf": b"%PDF folder"}))
    counter[0] += 1
    add(Case(f"{SUBMISSION} ({counter[0]:02d} hard link)", "self_reports", "rejected", "a hard link"),
        lambda p: _folder(p, {workbook: _workbook(), "ke_hoach.pdf": b"%PDF hard"}, hard_link="ke_hoach.pdf"))
    counter[0] += 1
    add(Case(f"{SUBMISSION} ({counter[0]:02d} not zip).zip", "self_reports", "rejected", "not a readable ZIP"),
        lambda p: p.write_bytes(b"not a zip at all"))
    counter[0] += 1
    add(Case(f"{SUBMISSION} ({counter[0]:02d}).rar", "self_reports", "rejected", "'.rar' archive"),
        lambda p: p.write_bytes(b"Rar!\x1a\x07\x00"))


# -- ZIP helpers ------------------------------------------------------------------------------------------
def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _write_zip(path: Path, entries: dict[str, bytes], links=()) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")


def _unflagged_names(data: bytes, names: dict[bytes, bytes]) -> bytes:
    """The archive with entry names replaced byte for byte (same lengths) and the UTF-8 flag left unset, as an
    archiver that writes UTF-8 without saying so does."""
    for placeholder, name in names.items():
        assert len(placeholder) == len(name)
        data = data.replace(placeholder, name)
    return data


def _folder(path: Path, files: dict[str, bytes], hard_link: str | None = None) -> None:
    path.mkdir()
    for name, data in files.items():
        (path / name).write_bytes(data)
    if hard_link:  # a second name for the file, outside the submission
        os.link(path / hard_link, path.parent / f".outside-{path.name}")


def _rewrite_zip(data: bytes, member: str, change) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            target.writestr(info.filename, change(content) if info.filename == member else content)
    return buffer.getvalue()


def _damage_entry(data: bytes, member: str) -> bytes:
    """The workbook with the compressed bytes of one part overwritten in the middle (a corrupt deflate
    stream): the ZIP's directory still reads, the part does not."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    info = archive.getinfo(member)
    damaged = bytearray(data)
    # the local header: 30 bytes, then the name and the extra field
    name_length = int.from_bytes(damaged[info.header_offset + 26:info.header_offset + 28], "little")
    extra_length = int.from_bytes(damaged[info.header_offset + 28:info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_length + extra_length
    middle = start + info.compress_size // 3
    damaged[middle:middle + 16] = b"\xff" * 16
    return bytes(damaged)


def write(out_dir: Path) -> list[Case]:
    """Write every input under out_dir/<source>/ and out_dir/expected.json; returns the cases."""
    written = []
    for case, writer in cases():
        folder = out_dir / case.source
        folder.mkdir(parents=True, exist_ok=True)
        writer(folder / case.name)
        written.append(case)
    names = [(c.source, c.name) for c in written]
    assert len(set(names)) == len(names), "two cases write the same file"
    (out_dir / "expected.json").write_text(
        json.dumps([asdict(c) for c in written], ensure_ascii=True, indent=1), encoding="utf-8")
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "output/hostile")
    print(f"{len(write(target))} hostile inputs written under {target}")

"""Synthetic document-management exports and unit self-reports for the sample province, consistent with the
one-stop-shop samples (same units registry, same time span, same last extraction).

Documents and tasks: each unit keeps outgoing and incoming registers and receives tasks from the province;
electronic sending and digital signatures grow over time; monthly snapshots (CSV, one XLSX) with tasks
re-exported until they are done, and a low rate of bad rows. Self-reports: for every reported official
period (Q1, H1, Q3, Y) each unit that must report sends a ZIP (some a folder) with the workbook and its
evidence files, citing documents of its own register — with the problems the office meets: late or
silent units, resubmissions, evidence missing, empty files, numbers written differently, documents not in
the register or dated after the report, an out-of-range score, and one hostile ZIP.

    write_report_samples(out_dir, rng_seed, reference_dir, last_extraction) -> written paths
"""

from __future__ import annotations

import csv
import io
import random
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from reformwh.sample import frozen_zip

DOC_HEADERS = ["Mã văn bản", "Số ký hiệu", "Ngày văn bản", "Loại văn bản", "Trích yếu", "Mã đơn vị", "Sổ",
               "Hình thức", "Ký số", "Người ký", "Chức vụ người ký"]
TASK_HEADERS = ["Mã nhiệm vụ", "Số ký hiệu văn bản giao", "Cơ quan giao", "Mã đơn vị thực hiện", "Nội dung",
                "Ngày giao", "Hạn hoàn thành", "Hạn ban đầu", "Ngày hoàn thành"]
DOC_KINDS = [("Công văn", "", 6), ("Kế hoạch", "KH", 2), ("Báo cáo", "BC", 3), ("Quyết định", "QĐ", 2),
             ("Thông báo", "TB", 1), ("Tờ trình", "TTr", 1)]
SUBJECTS = ["công tác cải cách hành chính", "kiểm tra công vụ", "chuyển đổi số", "rà soát thủ tục hành chính",
            "tuyên truyền cải cách hành chính", "thực hiện Đề án 06", "số hóa hồ sơ, kết quả giải quyết TTHC",
            "tiếp nhận và trả kết quả qua dịch vụ bưu chính công ích", "nâng cao chỉ số PAR INDEX, SIPAS"]
TASKS = ["Báo cáo kết quả thực hiện nhiệm vụ CCHC", "Rà soát, đơn giản hóa TTHC thuộc thẩm quyền",
         "Cập nhật, công khai TTHC trên Cổng dịch vụ công", "Tự kiểm tra công tác CCHC",
         "Triển khai dịch vụ công trực tuyến toàn trình", "Số hóa hồ sơ, kết quả giải quyết TTHC",
         "Tổ chức tuyên truyền về CCHC", "Khắc phục hạn chế sau kiểm tra công vụ"]
SIGNERS = ["Nguyễn Văn Hùng", "Trần Thị Mai", "Lê Minh Tuấn", "Phạm Thu Hà", "Hoàng Đức Long", "Vũ Thị Lan",
           "Đặng Quốc Bảo", "Bùi Thanh Hương", "Đỗ Văn Nam", "Ngô Thị Thảo"]


@dataclass
class _Unit:
    code: str
    name: str
    level: str
    valid_from: date
    valid_to: date | None

    def exists(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    @property
    def abbreviation(self) -> str:
        if self.level in ("commune", "district", "province"):
            return "UBND"
        words = unicodedata.normalize("NFD", self.name).encode("ascii", "ignore").decode().split()
        return "".join(w[0].upper() for w in words if w[0].isalpha())[:6]

    @property
    def leader_titles(self) -> tuple[str, str]:
        return ("Chủ tịch", "Phó Chủ tịch") if self.level in ("commune", "district") else ("Giám đốc", "Phó Giám đốc")


@dataclass
class _Document:
    doc_id: str
    number: str
    day: date
    kind: str
    subject: str
    unit: str
    register: str
    form: str
    signed: str
    signer: str
    title: str


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _units(reference_dir: Path) -> list[_Unit]:
    units = []
    for r in _read_csv(reference_dir / "units.csv"):
        units.append(_Unit(r["unit_code"], r["unit_name"], r["unit_level"], date.fromisoformat(r["valid_from"]),
                           date.fromisoformat(r["valid_to"]) if r["valid_to"] else None))
    return units


def _months(first: date, last: date):
    day = first.replace(day=1)
    while day <= last:
        nxt = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        yield day, min(nxt - timedelta(days=1), last)
        day = nxt


def _share(rng: random.Random, day: date, start: float, end: float) -> bool:
    """True with a probability growing linearly from start (2024-01) to end (2025-12)."""
    progress = min(max((day - date(2024, 1, 1)).days / 730, 0), 1)
    return rng.random() < start + (end - start) * progress


def _documents(units: list[_Unit], rng: random.Random, first: date, last: date) -> list[_Document]:
    documents: list[_Document] = []
    serial = 0
    for unit in units:
        if unit.level == "province":
            continue
        sequence: dict[tuple[int, str], int] = {}
        for month_start, month_end in _months(first, last):
            days = [month_start + timedelta(days=i) for i in range((month_end - month_start).days + 1)
                    if (month_start + timedelta(days=i)).weekday() < 5 and unit.exists(month_start + timedelta(i))]
            if not days:
                continue
            busy = 1.6 if unit.level == "department" else 1.0
            for register, count in (("Đi", int(rng.randint(5, 11) * busy)), ("Đến", int(rng.randint(6, 14) * busy))):
                for day in sorted(rng.choice(days) for _ in range(count)):
                    kind, short, _ = rng.choices(DOC_KINDS, weights=[k[2] for k in DOC_KINDS])[0]
                    key = (day.year, register)
                    sequence[key] = sequence.get(key, 0) + 1
                    issuer = unit.abbreviation if register == "Đi" else rng.choice(["UBND", "SNV", "VP", "STC"])
                    number = f"{sequence[key]}/{short + '-' if short else ''}{issuer}"
                    electronic = _share(rng, day, 0.78, 0.97)
                    form = ("Điện tử" if rng.random() < 0.85 else "Điện tử và giấy") if electronic else "Giấy"
                    signed = "Có" if electronic and _share(rng, day, 0.80, 0.98) else "Không"
                    head, deputy = unit.leader_titles
                    title = rng.choices([head, f"KT. {head.upper()}", deputy,
                                         "Chánh Văn phòng", "TL. " + head], weights=[3, 2, 4, 2, 1])[0]
                    if unit.level == "commune" and rng.random() < 0.02:
                        title = "Chủ tịch Hội Nông dân"  # signs for an association, not a leader of the unit
                    serial += 1
                    documents.append(_Document(
                        f"VB-{serial:07d}", number, day, kind, f"V/v {rng.choice(SUBJECTS)}", unit.code, register,
                        form, signed if register == "Đi" else ("Có" if electronic else ""),
                        rng.choice(SIGNERS) if register == "Đi" else "", title if register == "Đi" else ""))
    return documents


def _tasks(units: list[_Unit], rng: random.Random, first: date, last: date) -> list[dict]:
    tasks = []
    serial = 0
    for month_start, _ in _months(first, last):
        for _ in range(rng.randint(2, 4)):
            serial += 1
            assigned = month_start + timedelta(days=rng.randint(0, 25))
            if assigned > last:
                continue
            standing = rng.random() < 0.05
            deadline = None if standing else assigned + timedelta(days=rng.choice([15, 20, 30, 45, 60]))
            assignees = [u for u in units if u.level != "province" and u.exists(assigned)]
            for unit in rng.sample(assignees, k=min(len(assignees), rng.randint(3, 12))):
                completed = None
                if deadline is not None:
                    outcome = rng.random()
                    if outcome < 0.78:
                        completed = deadline - timedelta(days=rng.randint(0, 10))
                    elif outcome < 0.93:
                        completed = deadline + timedelta(days=rng.randint(1, 20))
                    if completed is not None and completed < assigned:
                        completed = assigned + timedelta(days=1)
                tasks.append({"id": f"NV-{assigned.year}-{serial:04d}", "unit": unit.code, "assigned": assigned,
                              "deadline": deadline, "completed": completed, "content": rng.choice(TASKS),
                              "number": f"{rng.randint(100, 3000)}/UBND-KSTT"})
    return tasks


def _doc_row(d: _Document) -> list[str]:
    return [d.doc_id, d.number, d.day.strftime("%d/%m/%Y"), d.kind, d.subject, d.unit, d.register, d.form, d.signed,
            d.signer, d.title]


def _task_row(t: dict, as_of: date) -> list[str]:
    done = t["completed"] if t["completed"] is not None and t["completed"] <= as_of else None
    return [t["id"], t["number"], "UBND tỉnh", t["unit"], t["content"], t["assigned"].strftime("%d/%m/%Y"),
            t["deadline"].strftime("%d/%m/%Y") if t["deadline"] else "", "",
            done.strftime("%d/%m/%Y") if done else ""]


def _write_csv(path: Path, headers: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def _write_document_exports(out: Path, documents: list[_Document], tasks: list[dict], rng: random.Random,
                            last: datetime) -> list[Path]:
    import openpyxl

    out.mkdir(parents=True, exist_ok=True)
    paths = []
    month_ends = [end for _, end in _months(date(2024, 1, 1), last.date())]
    for i, month_end in enumerate(month_ends):
        stamp = month_end if month_end < last.date() else last.date()
        month_docs = [d for d in documents if d.day.year == month_end.year and d.day.month == month_end.month]
        rows = [_doc_row(d) for d in month_docs]
        if rng.random() < 0.5 and rows:  # a low rate of bad rows, quarantined with their reason
            bad = list(rows[0])
            bad[0], bad[6] = bad[0] + "-X", "Nội bộ"
            rows.append(bad)
        if i == len(month_ends) - 4:  # one register export saved from Excel, under a title block
            path = out / f"so_van_ban_{stamp:%Y%m%d}.xlsx"
            book = openpyxl.Workbook()
            sheet = book.active
            sheet.append(["SỔ ĐĂNG KÝ VĂN BẢN ĐI, ĐẾN"])
            sheet.append([f"Tháng {month_end.month}/{month_end.year}"])
            sheet.append(DOC_HEADERS)
            for row in rows:
                sheet.append(row)
            book.save(path)
            path.write_bytes(frozen_zip(path.read_bytes(), stamp))
        else:
            path = _write_csv(out / f"van_ban_{stamp:%Y%m%d}.csv", DOC_HEADERS, rows)
        paths.append(path)
        # tasks: everything assigned in the last three months, and every task still open, as of the snapshot
        window = month_end - timedelta(days=92)
        snapshot = [_task_row(t, stamp) for t in tasks if t["assigned"] <= stamp
                    and (t["assigned"] >= window or t["completed"] is None or t["completed"] > window)]
        paths.append(_write_csv(out / f"nhiem_vu_{stamp:%Y%m%d}.csv", TASK_HEADERS, snapshot))
    return paths


# -- self-reports ---------------------------------------------------------------------------------------------
def _workbook(info: list[tuple], scores: list[tuple] | None, figures: list[tuple], items: list[tuple],
              sent: date) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    sheets = [("Thông tin", info)]
    if scores is not None:
        sheets.append(("Tự chấm điểm", [("Mã tiêu chí", "Nội dung", "Điểm tối đa", "Điểm tự chấm", "Giải trình"),
                                        *scores]))
    sheets += [("Số liệu", [("Mã chỉ tiêu", "Tên chỉ tiêu", "Giá trị"), *figures]),
               ("Tài liệu kiểm chứng", [("Mã tiêu chí / chỉ tiêu", "Số ký hiệu văn bản", "Ngày văn bản", "Tên tệp",
                                         "Trang / mục"), *items])]
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return frozen_zip(buffer.getvalue(), sent)


def _pdf(text: str) -> bytes:
    return f"%PDF-1.4\n% {text}\n%%EOF\n".encode()


def _written_differently(number: str, rng: random.Random) -> str:
    """The same document number as a unit may type it: 'Số 015 / KH-UBND'."""
    head, _, tail = number.partition("/")
    return rng.choice([f"Số {head}/{tail}", f"0{head}/{tail}", f"{head} / {tail}", f"{head}/{tail.lower()}"])


def _self_reports(out: Path, units: list[_Unit], documents: list[_Document], rng: random.Random,
                  reference_dir: Path, last: datetime) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    calendar = _read_csv(reference_dir / "reporting_calendar.csv")
    criteria = _read_csv(reference_dir / "criteria.csv")
    indicators = _read_csv(reference_dir / "indicators.csv")
    parents = {(r["year"], r["unit_level"], r["parent_code"]) for r in criteria if r["parent_code"]}
    by_unit: dict[str, list[_Document]] = {}
    for d in documents:
        if d.register == "Đi":
            by_unit.setdefault(d.unit, []).append(d)
    paths = []
    hostile_written = False
    care_of: dict[str, float] = {}
    for row in calendar:
        period, level = row["period_key"], row["unit_level"]
        deadline = date.fromisoformat(row["submission_deadline"])
        year = int(period[:4])
        if year < 2024 or deadline > last.date():
            continue
        annual = period.endswith("-Y")
        for unit in units:
            if unit.level != level or not unit.exists(deadline):
                continue
            fate = rng.random()
            if fate < 0.07:
                continue  # silent: the report goes missing
            sent = deadline - timedelta(days=rng.randint(0, 9)) if fate < 0.88 else deadline + timedelta(
                days=rng.randint(1, 12))
            if sent > last.date():
                continue
            own = [d for d in by_unit.get(unit.code, []) if d.day.year == year and d.day <= sent]
            # most units keep their evidence in order; problems concentrate in a few careless ones
            care = care_of.setdefault(unit.code, rng.choices([0.05, 1.0, 3.0], weights=[6, 3, 1])[0])
            files: dict[str, bytes] = {}
            items: list[tuple] = []

            def cite(code: str, own=own, files=files, items=items, unit=unit, sent=sent, period=period,
                     care=care) -> None:
                """One or two evidence items for a code, with the usual problems at a low rate."""
                for _ in range(rng.choice([1, 1, 2])):
                    doc = rng.choice(own) if own else None
                    number = doc.number if doc else None
                    day = doc.day.strftime("%d/%m/%Y") if doc else None
                    problem = rng.random()
                    if doc and problem < 0.012 * care:
                        number = f"{rng.randint(900, 999)}/BC-{unit.abbreviation}"  # not in any register
                    elif doc and problem < 0.017 * care:
                        number, day = doc.number, (sent + timedelta(days=rng.randint(3, 30))).strftime("%d/%m/%Y")
                    elif doc and problem < 0.15:
                        number = _written_differently(doc.number, rng)
                    name = f"{code.replace('.', '_')}_{len(items) + 1}.pdf"
                    cited = name
                    if rng.random() < 0.015 * care:
                        pass  # cited but not uploaded
                    elif rng.random() < 0.008 * care:
                        files[name] = b""
                    else:
                        files[name] = _pdf(f"{unit.code} {period} {code}")
                        if rng.random() < 0.1:
                            cited = name[:-4]  # cited without its extension
                    items.append((code, number, day, cited, rng.choice([None, "Mục I", "Trang 2", "Phụ lục"])))

            figures = []
            for ind in indicators:
                if ind["year"] == str(year) and ind["unit_level"] == level:
                    value = rng.randint(0, 12)
                    figures.append((ind["indicator_code"], ind["indicator_name"], value))
                    if value > 0 and ind["evidence_required"] == "true" and rng.random() > 0.02 * care:
                        cite(ind["indicator_code"])
            scores = None
            if annual:
                scores = []
                for c in criteria:
                    if c["year"] != str(year) or c["unit_level"] != level:
                        continue
                    if (c["year"], c["unit_level"], c["criterion_code"]) in parents:
                        continue  # scored on its tiêu chí thành phần
                    low, high = float(c["min_points"]), float(c["max_points"])
                    if high <= 0:
                        score = low if rng.random() < 0.1 else 0.0  # a penalty, now and then
                    else:
                        score = round(rng.choice([high, high, high, high * 0.75, high * 0.5]) * 4) / 4
                    if rng.random() < 0.003 * care:
                        score = high + 1  # out of range: quarantined, an INVALID_SCORE gap
                    explanation = None
                    if score > 0 and c["evidence_required"] == "true":
                        if rng.random() < 0.02 * care:
                            explanation = rng.choice([None, "Đang bổ sung tài liệu", "Tài liệu lưu tại bộ phận"])
                        else:
                            cite(c["criterion_code"])
                    scores.append((c["criterion_code"], c["criterion_name"], high, score, explanation))
            info = [("Mã đơn vị", unit.code), ("Kỳ báo cáo", period), ("Ngày gửi", sent.strftime("%d/%m/%Y")),
                    ("Người ký", rng.choice(SIGNERS))]
            name = f"{unit.code}_{period}"
            workbook = _workbook(info, scores, figures, items, sent)
            if rng.random() < 0.1:  # some units upload a folder rather than a ZIP
                folder = out / name
                (folder / "tai_lieu").mkdir(parents=True, exist_ok=True)
                (folder / f"{name}.xlsx").write_bytes(workbook)
                for file_name, data in files.items():
                    (folder / "tai_lieu" / file_name).write_bytes(data)
                paths.append(folder)
            else:
                path = out / f"{name}.zip"
                with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
                    archive.writestr(f"{name}.xlsx", workbook)
                    for file_name, data in files.items():
                        archive.writestr(file_name, data)
                path.write_bytes(frozen_zip(path.read_bytes(), sent))
                paths.append(path)
            if rng.random() < 0.03:  # a resubmission a few days later, with one more file
                again = out / f"{name} (bo sung).zip"
                info2 = [info[0], info[1], ("Ngày gửi", (sent + timedelta(days=3)).strftime("%d/%m/%Y")), info[3]]
                with zipfile.ZipFile(again, "w", zipfile.ZIP_DEFLATED) as archive:
                    archive.writestr(f"{name}.xlsx", _workbook(info2, scores, figures, items, sent))
                    for file_name in sorted({i[3] for i in items if i[3]}):
                        archive.writestr(file_name if file_name.endswith(".pdf") else f"{file_name}.pdf",
                                         _pdf(f"{unit.code} {period} bổ sung"))
                again.write_bytes(frozen_zip(again.read_bytes(), sent + timedelta(days=3)))
                paths.append(again)
            if not hostile_written and annual:  # one hostile ZIP: refused whole, nothing written
                hostile = out / f"{unit.code}_{period} (loi).zip"
                with zipfile.ZipFile(hostile, "w") as archive:
                    archive.writestr(f"{name}.xlsx", workbook)
                    archive.writestr("../../ngoai_thu_muc.pdf", _pdf("escape"))
                hostile.write_bytes(frozen_zip(hostile.read_bytes(), sent))
                paths.append(hostile)
                hostile_written = True
    return sorted(paths)


def write_report_samples(out_dir: Path, seed: int, reference_dir: Path, last_extraction: datetime) -> list[Path]:
    rng = random.Random(seed)
    units = _units(reference_dir)
    first = date(2024, 1, 1)
    documents = _documents(units, rng, first, last_extraction.date())
    tasks = _tasks(units, rng, first, last_extraction.date())
    paths = _write_document_exports(out_dir / "document_management", documents, tasks, rng, last_extraction)
    paths += _self_reports(out_dir / "self_reports", units, documents, rng, reference_dir, last_extraction)
    return paths

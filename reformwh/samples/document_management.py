"""Document-management exports of the sample province, consistent with the one-stop-shop samples (same units
registry, same time span, same last extraction).

Each unit keeps outgoing and incoming registers and receives tasks from the province; electronic sending and
digital signatures grow over time; monthly snapshots (CSV, one XLSX) with tasks re-exported until they are done,
and a low rate of bad rows. The outgoing register is what the self-reports cite (self_reports.py).

    write_document_samples(out_dir, units, rng, last_extraction) -> (written paths, the documents)
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from reformwh.samples.world import ReportingUnit, frozen_zip, months

__all__ = ["DOC_HEADERS", "TASK_HEADERS", "Document", "write_document_samples"]

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
class Document:
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


def _share(rng: random.Random, day: date, start: float, end: float) -> bool:
    """True with a probability growing linearly from start (2024-01) to end (2025-12)."""
    progress = min(max((day - date(2024, 1, 1)).days / 730, 0), 1)
    return rng.random() < start + (end - start) * progress


def _documents(units: list[ReportingUnit], rng: random.Random, first: date, last: date) -> list[Document]:
    documents: list[Document] = []
    serial = 0
    for unit in units:
        if unit.level == "province":
            continue
        sequence: dict[tuple[int, str], int] = {}
        for month_start, month_end in months(first, last):
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
                    documents.append(Document(
                        f"VB-{serial:07d}", number, day, kind, f"V/v {rng.choice(SUBJECTS)}", unit.code, register,
                        form, signed if register == "Đi" else ("Có" if electronic else ""),
                        rng.choice(SIGNERS) if register == "Đi" else "", title if register == "Đi" else ""))
    return documents


def _tasks(units: list[ReportingUnit], rng: random.Random, first: date, last: date) -> list[dict]:
    tasks = []
    serial = 0
    for month_start, _ in months(first, last):
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


def _doc_row(d: Document) -> list[str]:
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


def _write_document_exports(out: Path, documents: list[Document], tasks: list[dict], rng: random.Random,
                            last: datetime) -> list[Path]:
    import openpyxl

    out.mkdir(parents=True, exist_ok=True)
    paths = []
    month_ends = [end for _, end in months(date(2024, 1, 1), last.date())]
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


def write_document_samples(out_dir: Path, units: list[ReportingUnit], rng: random.Random,
                           last_extraction: datetime) -> tuple[list[Path], list[Document]]:
    """Simulates the registers and the tasks from 2024-01-01 and writes their monthly exports to out_dir; returns
    the paths and the documents (the self-reports cite them, drawing on the same random stream next)."""
    first = date(2024, 1, 1)
    documents = _documents(units, rng, first, last_extraction.date())
    tasks = _tasks(units, rng, first, last_extraction.date())
    return _write_document_exports(out_dir, documents, tasks, rng, last_extraction), documents

"""Unit self-reports of the sample province: for every reported official period (Q1, H1, Q3, Y) each unit that
must report sends a ZIP (some a folder) with the workbook and its evidence files, citing documents of its own
register (document_management.py) — with the problems the office meets: late or silent units, resubmissions,
evidence missing, empty files, numbers written differently, documents not in the register or dated after the
report, an out-of-range score, and one hostile ZIP.

    write_self_report_samples(out_dir, units, documents, rng, reference_dir, last_extraction) -> written paths
"""

from __future__ import annotations

import io
import random
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

from reformwh.samples.document_management import SIGNERS, Document
from reformwh.samples.world import ReportingUnit, frozen_zip, read_csv

__all__ = ["write_self_report_samples"]


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


def write_self_report_samples(out: Path, units: list[ReportingUnit], documents: list[Document], rng: random.Random,
                  reference_dir: Path, last: datetime) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    calendar = read_csv(reference_dir / "reporting_calendar.csv")
    criteria = read_csv(reference_dir / "criteria.csv")
    indicators = read_csv(reference_dir / "indicators.csv")
    parents = {(r["year"], r["unit_level"], r["parent_code"]) for r in criteria if r["parent_code"]}
    by_unit: dict[str, list[Document]] = {}
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

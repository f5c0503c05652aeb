"""Reminder letters (công văn đôn đốc) after a period's report: one short official letter in the format of
Nghị định 30/2020 to every unit that did not send its self-report, sent it late or is flagged for missing
evidence, listing exactly what it must send or correct and by when; and one summary list (XLSX) for the
office. Everything comes from the marts (report_status, evidence_gaps); the deadline is a number of working
days after the letter's date on the warehouse's working-day calendar (weekends and holidays.csv).

Entry points: `generate_letters` (the report DAG, with the final edition) and `command` (`reformwh letters`)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from reformwh import formatting as fmt
from reporting.config import ReportConfig, load_config
from reporting.content import GAP_LABELS, LEVEL_LABELS, REPORT_GAPS, gap_detail, gap_subject, merged_label, unit_name
from reporting.data import ReportData, ReportError, load

# what the unit is asked to do, by gap type
ACTIONS = {
    "NO_EVIDENCE": "gửi tài liệu kiểm chứng",
    "FILE_MISSING": "gửi bổ sung tệp tài liệu kiểm chứng",
    "FILE_EMPTY": "gửi lại tệp có nội dung",
    "DOCUMENT_NOT_FOUND": "kiểm tra lại số, ngày văn bản hoặc cập nhật văn bản vào hệ thống quản lý văn bản",
    "DOCUMENT_AFTER_SUBMISSION": "giải trình hoặc thay bằng văn bản ban hành trước ngày gửi báo cáo",
    "INVALID_SCORE": "chấm lại điểm theo đúng thang điểm",
}


@dataclass
class Letter:
    unit_code: str
    addressee: str
    status: str | None
    items: list[str]
    to_send: bool = True  # False: only a late report to note, nothing to send by the deadline
    path: Path | None = None


@dataclass
class LettersResult:
    letters: list[Letter]
    summary: Path
    deadline: date

    @property
    def files(self) -> list[Path]:
        return [letter.path for letter in self.letters if letter.path] + [self.summary]


def working_day_after(conn: psycopg.Connection, day: date, working_days: int) -> date:
    """The working day `working_days` after `day`, on intermediate.int_calendar_days_numbered (dbt)."""
    row = conn.execute("""
        select min(d.calendar_date) from intermediate.int_calendar_days_numbered d
        where d.is_working_day and d.working_day_number = (
            select working_day_number from intermediate.int_calendar_days_numbered where calendar_date = %s) + %s""",
                       [day, working_days]).fetchone()
    if row[0] is None:
        raise ReportError(f"{day} + {working_days} working days is outside the working-day calendar")
    return row[0]


def _items(data: ReportData, unit: dict | None, gaps: list[dict]) -> tuple[str | None, list[str]]:
    period = data.period_name(data.key)
    status = unit.get("report_status") if unit else None
    items = []
    for gap in gaps:
        if gap["gap_type"] == "REPORT_MISSING":
            items.append(f"Gửi Báo cáo kết quả thực hiện công tác cải cách hành chính {period} kèm theo đầy đủ tài "
                         f"liệu kiểm chứng ({gap['detail']}).")
        elif gap["gap_type"] == "REPORT_LATE":
            items.append(f"Báo cáo {period} của đơn vị gửi trễ hạn ({gap['detail']}); đề nghị chấn chỉnh, gửi báo "
                         f"cáo các kỳ sau đúng thời hạn.")
    for gap in gaps:
        if gap["gap_type"] in REPORT_GAPS or not gap.get("flags_unit", True):
            continue
        where = gap_subject(gap)
        action = ACTIONS.get(gap["gap_type"], "bổ sung, hoàn thiện")
        label = GAP_LABELS.get(gap["gap_type"], gap["gap_type"])
        items.append(f"{where}: {gap_detail(gap) or label} — đề nghị {action}.")
    return status, items


def _letter_docx(data: ReportData, config: ReportConfig, day: date, deadline: date, letter: Letter) -> bytes:
    from reporting.docx_report import BODY_PT, _paragraph, letterhead, page_setup, signature_block

    period = data.period_name(data.key)
    doc = Document()
    about = f"V/v đôn đốc gửi báo cáo, bổ sung tài liệu kiểm chứng cải cách hành chính {period}"
    page_setup(doc, config, day, about, f"{data.key} {letter.unit_code}", f"reformwh; letters; {data.key}")
    letterhead(doc, config, day, config.letter_symbol, about=about)
    to = _paragraph(doc, f"Kính gửi: {letter.addressee}.", size=BODY_PT, before=18, after=12)
    to.alignment = WD_ALIGN_PARAGRAPH.CENTER

    def para(text: str):
        paragraph = _paragraph(doc, text, WD_ALIGN_PARAGRAPH.JUSTIFY, BODY_PT, after=6, indent=Cm(1))
        paragraph.paragraph_format.line_spacing = 1.15
        return paragraph

    para(f"Thực hiện chế độ báo cáo công tác cải cách hành chính, qua rà soát báo cáo {period} của các cơ quan, đơn "
         f"vị (số liệu cập nhật đến {fmt.short_date(data.data_as_of.date()) if data.data_as_of else '–'}), "
         f"{config.issuing_agency_name} đề nghị {letter.addressee} thực hiện các nội dung sau:")
    for number, item in enumerate(letter.items, start=1):
        para(f"{number}. {item}")
    if letter.to_send:
        para(f"Văn bản, tài liệu gửi về {config.issuing_agency_name} trước ngày {fmt.short_date(deadline)}. Quá thời "
             f"hạn trên, các nội dung chưa có tài liệu kiểm chứng không được tính điểm khi thẩm định kết quả cải cách "
             f"hành chính của đơn vị.")
    closing = para(f"{config.issuing_agency_name} đề nghị {letter.addressee} quan tâm, thực hiện./.")
    closing.paragraph_format.keep_with_next = True
    signature_block(doc, config, ["Như trên", f"Lãnh đạo {config.issuing_agency_name} (b/c)", "Lưu: VT, CCHC"])
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _summary_xlsx(data: ReportData, config: ReportConfig, day: date, deadline: date, letters: list[Letter]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Đôn đốc"
    period = data.period_name(data.key)
    sheet["A1"] = f"DANH SÁCH ĐƠN VỊ ĐƯỢC ĐÔN ĐỐC GỬI BÁO CÁO, BỔ SUNG TÀI LIỆU KIỂM CHỨNG {period.upper()}"
    sheet["A2"] = f"(Công văn ngày {fmt.short_date(day)}; hạn thực hiện {fmt.short_date(deadline)})"
    sheet["A1"].font = Font(name="Times New Roman", bold=True, size=13)
    sheet["A2"].font = Font(name="Times New Roman", italic=True)
    header = ["STT", "Cấp", "Mã đơn vị", "Tên đơn vị", "Tình trạng báo cáo", "Số nội dung phải bổ sung",
              "Nội dung", "Hạn thực hiện", "Tệp công văn"]
    sheet.append([])
    sheet.append(header)
    for cell in sheet[4]:
        cell.font = Font(name="Times New Roman", bold=True)
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
    statuses = {"missing": "không gửi báo cáo", "late": "gửi trễ hạn", "on_time": "gửi đúng hạn",
                "awaited": "chưa đến hạn"}
    for number, letter in enumerate(letters, start=1):
        unit = data.unit_directory.get(letter.unit_code) or {}
        sheet.append([number, LEVEL_LABELS.get(unit.get("unit_level"), unit.get("unit_level")), letter.unit_code,
                      unit_name(data, letter.unit_code), statuses.get(letter.status, letter.status or ""),
                      len(letter.items), "\n".join(f"{i}. {t}" for i, t in enumerate(letter.items, start=1)),
                      deadline if letter.to_send else None, letter.path.name if letter.path else None])
        sheet.cell(row=sheet.max_row, column=8).number_format = "dd/mm/yyyy"
        for cell in sheet[sheet.max_row]:
            cell.font = Font(name="Times New Roman")
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for column, width in zip("ABCDEFGHI", (5, 14, 15, 34, 16, 12, 70, 12, 30), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "E5"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "4:4"
    workbook.properties.creator = config.issuing_agency_name
    workbook.properties.created = datetime(day.year, day.month, day.day)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def generate_letters(database_url: str, period_key: str, out_dir: Path, letter_date: date | None = None,
                     config: ReportConfig | None = None, timezone: str = "Asia/Ho_Chi_Minh") -> LettersResult:
    """Write the letters of `period_key` into `out_dir`/cong-van-don-doc_<period>/ and the office's list."""
    from reporting import _normalise_zip

    config = config or load_config()
    day = letter_date or datetime.now(ZoneInfo(timezone)).date()
    with psycopg.connect(database_url, autocommit=True) as conn:
        data = load(conn, period_key, 1)
        deadline = working_day_after(conn, day, config.letter_deadline_working_days)
    gaps: dict[str, list[dict]] = {}
    for gap in data.evidence_gaps:
        gaps.setdefault(gap["unit_code"], []).append(gap)
    units = {u["unit_code"]: u for u in data.units}
    letters = []
    for code in sorted(gaps, key=lambda c: (list(LEVEL_LABELS).index((data.unit_directory.get(c) or {}).get(
            "unit_level", "commune")), c)):
        status, items = _items(data, units.get(code), gaps[code])
        if not items:  # only gaps that do not flag the unit (no register to check against)
            continue
        name = unit_name(data, code)
        merged = merged_label(data, code)
        unit = data.unit_directory.get(code) or {}
        if merged and unit.get("successor_code"):  # the unit that took over its work answers for it
            addressee = f"{unit['successor_name'] or unit['successor_code']} (tiếp nhận nhiệm vụ của {name})"
        else:
            addressee = name
        to_send = any(g["gap_type"] != "REPORT_LATE" and g.get("flags_unit", True) for g in gaps[code])
        letters.append(Letter(code, addressee, status, items, to_send))
    folder = Path(out_dir) / f"cong-van-don-doc_{period_key}"
    folder.mkdir(parents=True, exist_ok=True)
    fixed = datetime(day.year, day.month, day.day)
    for number, letter in enumerate(letters, start=1):
        letter.path = folder / f"{number:03d}_{letter.unit_code}.docx"
        letter.path.write_bytes(_normalise_zip(_letter_docx(data, config, day, deadline, letter), fixed))
    summary = Path(out_dir) / f"danh-sach-don-doc_{period_key}.xlsx"
    summary.write_bytes(_normalise_zip(_summary_xlsx(data, config, day, deadline, letters), fixed))
    return LettersResult(letters, summary, deadline)


def command(args, settings) -> int:
    """`reformwh letters PERIOD_KEY [--out DIR] [--date YYYY-MM-DD]`."""
    result = generate_letters(settings.database_url, args.period_key,
                              Path(args.out) if args.out else settings.home / "letters",
                              date.fromisoformat(args.date) if args.date else None, timezone=settings.timezone)
    print(f"{len(result.letters)} letter(s) for {args.period_key}, deadline {fmt.short_date(result.deadline)}")
    for path in result.files:
        print(path.resolve())
    return 0

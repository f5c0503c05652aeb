"""The annexes (phụ lục) as an XLSX workbook: one sheet per table, each with its title rows ("Phụ lục I …
(Kèm theo Báo cáo số …/BC-SNV ngày … của Sở Nội vụ)"), Vietnamese two-level headers, frozen headers,
numbers stored as numbers with number formats (a Vietnamese-locale spreadsheet shows them as 14.000 and
50,02%), and a print set-up (A4 landscape, fitted to the page width, header rows repeated on every page)."""

from __future__ import annotations

import io
import math
from copy import copy
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from reformwh import formatting as fmt
from reporting.config import ReportConfig
from reporting.content import (
    DOSSIER_RATES,
    FORM_II06A,
    GAP_LABELS,
    LEVEL_LABELS,
    compared_periods,
    gap_detail,
    gap_subject,
    merged_label,
    subject,
    unit_name,
)
from reporting.data import DOCUMENT_COLUMNS, TASK_COLUMNS, ReportData

COUNT_FORMAT = "#,##0"
RATE_FORMAT = "0.00%"
TARGET_FORMAT = "0%"
DECIMAL_FORMAT = "#,##0.00"
HEADER_FONT = Font(name="Times New Roman", bold=True)
TITLE_FONT = Font(name="Times New Roman", bold=True, size=13)
BODY_FONT = Font(name="Times New Roman")
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
MERGED_SHEET = "Đơn vị sắp xếp"
GROUP_SEPARATOR = " - "  # "group - label" headers become two header rows
TITLE_ROWS = 4           # Phụ lục …, its title, "(Kèm theo …)", a blank row; the header starts below
# Printing: a sheet is fitted to the page width, so a wide sheet prints small. A column width unit is about
# 5.25 pt (7 px of the default font); A4 landscape leaves 784 pt between the margins, A3 landscape 1132 pt.
# A sheet that A4 would shrink below MIN_PRINT_SCALE (11 pt text under 8 pt) is printed on A3.
POINTS_PER_WIDTH_UNIT = 5.25
PRINTABLE_WIDTH_PT = {"A4": 842 - 2 * 0.4 * 72, "A3": 1191 - 2 * 0.4 * 72}
MIN_PRINT_SCALE = 0.72

# (header, column or function of a row, number format); a format of None is text
Column = tuple[str, object, str | None]


def _level(row: dict) -> str | None:
    return LEVEL_LABELS.get(row.get("unit_level"), row.get("unit_level"))


UNIT_COLUMNS: list[Column] = [("Cấp", _level, None), ("Mã đơn vị", "unit_code", None),
                              ("Tên đơn vị", "unit_name", None)]
FORM_COLUMNS: list[Column] = [(f"{group}{GROUP_SEPARATOR}{label}", source, COUNT_FORMAT)
                              for group, label, source in FORM_II06A]
RATE_COLUMNS: list[Column] = [(f"Tỷ lệ{GROUP_SEPARATOR}{label.removeprefix('Tỷ lệ ')}", column, RATE_FORMAT)
                              for column, label in DOSSIER_RATES]
DOCUMENT_TASK_HEADERS = {
    "docs_outgoing": "Văn bản đi - Tổng số", "docs_outgoing_electronic": "Văn bản đi - Văn bản điện tử",
    "docs_digitally_signed": "Văn bản đi - Có chữ ký số", "e_document_rate": "Văn bản đi - Tỷ lệ văn bản điện tử",
    "digital_signature_rate": "Văn bản đi - Tỷ lệ ký số",
    "leader_signature_rate": "Văn bản đi - Tỷ lệ lãnh đạo ký số",
    "docs_incoming": "Văn bản đến - Tổng số", "docs_incoming_electronic": "Văn bản đến - Văn bản điện tử",
    "tasks_due": "Nhiệm vụ được giao - Đến hạn", "tasks_done_on_time": "Nhiệm vụ được giao - Hoàn thành đúng hạn",
    "tasks_done_late": "Nhiệm vụ được giao - Hoàn thành quá hạn",
    "tasks_overdue_at_period_end": "Nhiệm vụ được giao - Quá hạn chưa hoàn thành",
    "task_on_time_rate": "Nhiệm vụ được giao - Tỷ lệ đúng hạn",
}
# the late dossiers of a field or procedure, province-wide (dossier_province_by_field / _by_procedure)
LATE_COLUMNS: list[Column] = [
    ("Số hồ sơ tiếp nhận (tổng số)", "received_total", COUNT_FORMAT),
    ("Hồ sơ trễ hạn - Tổng số", "late_total", COUNT_FORMAT),
    ("Hồ sơ trễ hạn - Đã giải quyết quá hạn", "resolved_late", COUNT_FORMAT),
    ("Hồ sơ trễ hạn - Đang giải quyết quá hạn", "in_progress_overdue", COUNT_FORMAT),
    ("Hồ sơ trễ hạn - Chưa có văn bản xin lỗi", "late_without_apology", COUNT_FORMAT),
    ("Hồ sơ trễ hạn - Tỷ lệ trên số hồ sơ đã và đang giải quyết", "late_rate", RATE_FORMAT),
    ("Hồ sơ trễ hạn - Tỷ trọng trong tổng số hồ sơ trễ hạn của tỉnh", "late_share", RATE_FORMAT),
    ("Hồ sơ trễ hạn - Số đơn vị có hồ sơ trễ hạn", "units_with_late", COUNT_FORMAT),
]
LATE_SHEETS = ("PL II - Trễ hạn theo lĩnh vực", "PL II - Trễ hạn theo thủ tục")
RATE_LIKE = {"e_document_rate", "digital_signature_rate", "leader_signature_rate", "task_on_time_rate"}


def _value(row: dict, source):
    return source(row) if callable(source) else row.get(source)


def _width(header: str, number_format: str | None) -> float:
    if header == "Tên đơn vị":
        return 38
    if header == "Tên thủ tục hành chính":
        return 60
    if number_format is None:
        return 30 if header in ("Chi tiết", "Lĩnh vực", "Tài liệu kiểm chứng", "Đơn vị tiếp nhận", "Tiêu chí, chỉ số") \
            else 14
    return 12 if number_format in (RATE_FORMAT, DECIMAL_FORMAT) else 9  # "13.734": six characters


def print_scale(sheet, paper: str) -> float:
    """The scale a sheet fitted to the width of a landscape `paper` prints at (1: full size)."""
    width = sum((sheet.column_dimensions[get_column_letter(i)].width or 13) for i in range(1, sheet.max_column + 1))
    return min(1.0, PRINTABLE_WIDTH_PT[paper] / (width * POINTS_PER_WIDTH_UNIT))


class _Annexes:
    def __init__(self, data: ReportData, config: ReportConfig, report_date: date):
        self.data, self.config, self.report_date = data, config, report_date
        self.workbook = Workbook()

    def _titles(self, sheet, annex: str | None, title: str, width: int) -> None:
        c = self.config
        lines = [(annex, TITLE_FONT), (title.upper(), TITLE_FONT),
                 (f"(Kèm theo Báo cáo số {c.document_number or '      '}/{c.document_symbol} "
                  f"{fmt.document_date(self.report_date)} của {c.issuing_agency_name})",
                  Font(name="Times New Roman", italic=True))]
        for row, (text, font) in enumerate(lines, start=1):
            if not text:
                continue
            cell = sheet.cell(row=row, column=1, value=text)
            cell.font = font
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            if width > 1:
                sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
        sheet.row_dimensions[2].height = 34

    def _print_setup(self, sheet, header_rows: str | None) -> None:
        sheet.page_setup.paperSize = sheet.PAPERSIZE_A4 if print_scale(sheet, "A4") >= MIN_PRINT_SCALE else \
            sheet.PAPERSIZE_A3
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0  # as many pages down as needed
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.print_options.horizontalCentered = True
        sheet.page_margins.left = sheet.page_margins.right = 0.4
        sheet.page_margins.top = sheet.page_margins.bottom = 0.6
        if header_rows:
            sheet.print_title_rows = header_rows
        sheet.oddFooter.center.text = "Trang &P / &N"

    def sheet(self, title: str, annex: str | None, heading: str, columns: list[Column], rows: list[dict],
              note: str | None = None, fixed_columns: int = 3):
        sheet = self.workbook.create_sheet(title)
        self._titles(sheet, annex, heading, len(columns))
        top = TITLE_ROWS + 1
        two_levels = any(GROUP_SEPARATOR in header for header, _, _ in columns)
        header_rows = 2 if two_levels else 1
        first_data = top + header_rows
        groups = []
        for index, (header, _, number_format) in enumerate(columns, start=1):
            group, _, label = header.rpartition(GROUP_SEPARATOR) if two_levels else ("", "", header)
            groups.append(group)
            for row in range(top, first_data):
                cell = sheet.cell(row=row, column=index)
                cell.font, cell.fill, cell.border = HEADER_FONT, HEADER_FILL, BOX
                cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
            if group:
                sheet.cell(row=top, column=index, value=group)
                sheet.cell(row=top + 1, column=index, value=label)
            else:
                sheet.cell(row=top, column=index, value=label)
                if two_levels:
                    sheet.merge_cells(start_row=top, start_column=index, end_row=top + 1, end_column=index)
            sheet.column_dimensions[get_column_letter(index)].width = _width(label, number_format)
        if two_levels:  # one merged cell per run of the same group
            start = 1
            for index in range(2, len(groups) + 2):
                if index > len(groups) or groups[index - 1] != groups[start - 1]:
                    if groups[start - 1] and index - 1 > start:
                        sheet.merge_cells(start_row=top, start_column=start, end_row=top, end_column=index - 1)
                    start = index
        for row in range(top, first_data):  # the labels under a group are the long ones
            sheet.row_dimensions[row].height = 30 if two_levels and row == top else 66
        styles = []  # each column's style, made once: styling cell by cell is most of openpyxl's time
        for index, (_, _, number_format) in enumerate(columns, start=1):
            cell = sheet.cell(row=first_data, column=index)
            cell.font, cell.border = BODY_FONT, BOX
            if number_format:
                cell.number_format = number_format
                cell.alignment = Alignment(vertical="top")  # level with the first line of a wrapped name
            else:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            styles.append(cell._style)
        # wrapped text gets the lines it needs: LibreOffice and Excel do not grow a row on opening the file, so a
        # long procedure name would run over the next row
        text_widths = {index: sheet.column_dimensions[get_column_letter(index)].width
                       for index, (_, _, number_format) in enumerate(columns, start=1) if number_format is None}
        for row_number, row in enumerate(rows, start=first_data):
            lines = 1
            for index, (_, source, _) in enumerate(columns, start=1):
                value = _value(row, source)
                cell = sheet.cell(row=row_number, column=index, value=value)
                cell._style = copy(styles[index - 1])
                if index in text_widths and isinstance(value, str):
                    lines = max(lines, math.ceil(len(value) * 0.75 / text_widths[index]))  # Times: ~1.3 letters a unit
            if lines > 1:
                sheet.row_dimensions[row_number].height = 15 * lines
        # the header rows and the columns naming the row stay in view
        sheet.freeze_panes = sheet.cell(row=first_data, column=fixed_columns + 1).coordinate
        if note:
            cell = sheet.cell(row=first_data + len(rows) + 1, column=1, value=note)
            cell.font = Font(name="Times New Roman", italic=True)
        self._print_setup(sheet, f"{top}:{first_data - 1}")
        return sheet

    def info(self, edition: str) -> None:
        d, config = self.data, self.config
        info = self.workbook.active
        info.title = "Thông tin"
        for row in ([subject(d)], ["Kỳ báo cáo", d.period_name(d.key)], ["Mã kỳ", d.key],
                    ["Từ ngày", d.period["start_date"]], ["Đến ngày", d.period["end_date"]],
                    ["Số liệu cập nhật đến", d.data_as_of], ["Ngày báo cáo", self.report_date],
                    ["Bản", "sơ bộ" if edition == "preliminary" else "chính thức"],
                    ["Cơ quan", config.issuing_agency_name]):
            info.append(row)
        for cell in info["B"]:
            if isinstance(cell.value, datetime):
                cell.number_format = "dd/mm/yyyy hh:mm"
            elif isinstance(cell.value, date):
                cell.number_format = "dd/mm/yyyy"
        info["A1"].font = HEADER_FONT
        info.column_dimensions["A"].width = 26
        info.column_dimensions["B"].width = 26
        self._print_setup(info, None)
        info.page_setup.orientation = "portrait"

    def build(self, edition: str) -> bytes:
        d, config = self.data, self.config
        self.info(edition)
        period = d.period_name(d.key)

        province_row = {**d.province[d.key], "unit_code": "", "unit_name": "Toàn tỉnh", "unit_level": ""}
        self.sheet("PL I - Mẫu II.06a", "Phụ lục I",
                   f"Kết quả giải quyết thủ tục hành chính theo Mẫu II.06a của các cơ quan, đơn vị, {period}",
                   UNIT_COLUMNS + FORM_COLUMNS + RATE_COLUMNS, d.procedure_units + [province_row],
                   note="Số liệu của từng đơn vị như tại thời điểm phát sinh (đơn vị đã hợp nhất trong kỳ vẫn có dòng "
                        "riêng); dòng cuối là toàn tỉnh.")

        field_columns = UNIT_COLUMNS + [("Mã lĩnh vực", "field_code", None), ("Lĩnh vực", "field_name", None)]
        self.sheet("PL II - Theo lĩnh vực", "Phụ lục II",
                   f"Kết quả giải quyết thủ tục hành chính theo lĩnh vực, {period}",
                   field_columns + FORM_COLUMNS + RATE_COLUMNS, d.by_field, fixed_columns=5)

        late_note = ("Toàn tỉnh; hồ sơ trễ hạn gồm hồ sơ đã giải quyết quá hạn và hồ sơ đang giải quyết quá hạn tại "
                     "thời điểm chốt số liệu; xếp theo số hồ sơ trễ hạn, nhiều nhất trước.")
        self.sheet(LATE_SHEETS[0], "Phụ lục II", f"Hồ sơ trễ hạn theo lĩnh vực, toàn tỉnh, {period}",
                   [("Mã lĩnh vực", "field_code", None), ("Lĩnh vực", "field_name", None), *LATE_COLUMNS],
                   d.late_by_field, note=late_note, fixed_columns=2)
        self.sheet(LATE_SHEETS[1], "Phụ lục II", f"Hồ sơ trễ hạn theo thủ tục hành chính, toàn tỉnh, {period}",
                   [("Mã thủ tục", "procedure_code", None), ("Tên thủ tục hành chính", "procedure_name", None),
                    ("Lĩnh vực", "field_name", None), *LATE_COLUMNS],
                   d.late_by_procedure, note=late_note + " Chỉ các thủ tục có hồ sơ trong kỳ.", fixed_columns=2)

        heading = f"Văn bản điện tử, chữ ký số và nhiệm vụ được giao của các cơ quan, đơn vị, {period}"
        columns = UNIT_COLUMNS + [(DOCUMENT_TASK_HEADERS[c], c, RATE_FORMAT if c in RATE_LIKE else COUNT_FORMAT)
                                  for c in DOCUMENT_COLUMNS + TASK_COLUMNS]
        self.sheet("PL III - Văn bản, nhiệm vụ", "Phụ lục III", heading, columns, d.units)

        heading = f"Danh sách đơn vị chưa gửi báo cáo, gửi trễ, thiếu tài liệu kiểm chứng, {period}"
        self.sheet("PL IV - Thiếu minh chứng", "Phụ lục IV", heading, self.gap_columns(), d.evidence_gaps,
                   note="Các nội dung \"không có sổ văn bản để đối chiếu\" chỉ để đơn vị rà soát, không tính là "
                        "thiếu minh chứng.")

        if d.is_annual:
            heading = f"Điểm tự chấm cải cách hành chính theo đơn vị và lĩnh vực, năm {d.period['year']}"
            columns = [("Cấp", _level, None), ("Mã đơn vị", "unit_code", None),
                       ("Tên đơn vị", lambda r: unit_name(d, r["unit_code"]), None),
                       ("Mã lĩnh vực", "area_code", None), ("Lĩnh vực", "area_name", None),
                       ("Điểm tối đa", "max_points", DECIMAL_FORMAT),
                       ("Điểm tự chấm", "self_score", DECIMAL_FORMAT),
                       ("Điểm tự chấm chưa có minh chứng", "points_at_risk", DECIMAL_FORMAT),
                       ("Điểm có minh chứng", "points_with_evidence", DECIMAL_FORMAT)]
            self.sheet("PL V - Điểm tự chấm", "Phụ lục V", heading, columns, d.area_scores,
                       note="Điểm tự chấm của đơn vị (chưa phải điểm thẩm định).")

        self.compared()
        self.sheet(MERGED_SHEET, None, "Đơn vị sắp xếp trong thời gian so sánh",
                   [("Mã đơn vị", "unit_code", None), ("Tên đơn vị", "unit_name", None),
                    ("Đến ngày", "valid_to", "dd/mm/yyyy"), ("Mã đơn vị tiếp nhận", "successor_code", None),
                    ("Đơn vị tiếp nhận", "successor_name", None)], d.merged_units,
                   note="Đơn vị hợp nhất trong thời gian so sánh (từ đầu cùng kỳ năm trước đến hết kỳ báo cáo).",
                   fixed_columns=2)

        others = compared_periods(d)
        province_rows = [{"label": label, "now": d.province[d.key][column],
                          **{key: (d.province.get(key) or {}).get(column) for key, _ in others},
                          "target": config.targets.get(column)} for column, label in DOSSIER_RATES]
        self.sheet("Toàn tỉnh", None, f"Các tỷ lệ chủ yếu của toàn tỉnh, {period}",
                   [("Chỉ tiêu", "label", None), (f"Kỳ này ({period})", "now", RATE_FORMAT),
                    *((f"{label} ({d.period_name(key)})", key, RATE_FORMAT) for key, label in others),
                    ("Mục tiêu 2030", "target", TARGET_FORMAT)], province_rows, fixed_columns=1)

        self.workbook.properties.creator = config.issuing_agency_name
        self.workbook.properties.title = subject(d)
        self.workbook.properties.created = datetime(self.report_date.year, self.report_date.month,
                                                    self.report_date.day)
        buffer = io.BytesIO()
        self.workbook.save(buffer)
        return buffer.getvalue()

    def gap_columns(self) -> list[Column]:
        d = self.data

        def name(row):
            merged = merged_label(d, row["unit_code"])
            return unit_name(d, row["unit_code"]) + (f" ({merged})" if merged else "")

        def level(row):
            unit = d.unit_directory.get(row["unit_code"]) or {}
            return LEVEL_LABELS.get(unit.get("unit_level"), unit.get("unit_level"))

        return [("Cấp", level, None), ("Mã đơn vị", "unit_code", None), ("Tên đơn vị", name, None),
                ("Tiêu chí, chỉ số", gap_subject, None),
                ("Loại thiếu sót", lambda r: GAP_LABELS.get(r["gap_type"], r["gap_type"]), None),
                ("Tài liệu kiểm chứng", "evidence_ref", None), ("Chi tiết", gap_detail, None),
                ("Giải trình của đơn vị", "explanation", None)]

    def compared(self) -> None:
        """Unit series compared on restated figures (by today's unit), each compared period once."""
        d = self.data
        others = compared_periods(d)
        rates = (("on_time_rate", "Tỷ lệ trước và đúng hạn"), ("online_full_rate", "Tỷ lệ trực tuyến toàn trình"))
        rows = []
        for (period_key, unit_code), row in sorted(d.restated.items(), key=lambda item: item[0][1]):
            if period_key != d.key or row["received_in_period"] is None:
                continue
            entry = {"unit_code": unit_code, "unit_name": row["unit_name"], "unit_level": row["unit_level"]}
            for column, _ in rates:
                entry[f"{column}:now"] = row[column]
                for key, _ in others:
                    entry[f"{column}:{key}"] = d.restated.get((key, unit_code), {}).get(column)
            rows.append(entry)
        columns = list(UNIT_COLUMNS)
        for column, label in rates:
            columns += [(f"{label}{GROUP_SEPARATOR}{d.period_name(d.key)}", f"{column}:now", RATE_FORMAT),
                        *((f"{label}{GROUP_SEPARATOR}{d.period_name(key)}", f"{column}:{key}", RATE_FORMAT)
                          for key, _ in others)]
        self.sheet("So sánh (tính lại)", None, "So sánh kết quả của các đơn vị (số liệu tính lại theo đơn vị hiện "
                                               "nay)", columns, rows,
                   note="Số liệu tính lại theo đơn vị hiện nay: đơn vị đã hợp nhất được cộng vào đơn vị tiếp nhận.")


def build_xlsx(data: ReportData, config: ReportConfig, report_date: date, edition: str) -> bytes:
    return _Annexes(data, config, report_date).build(edition)

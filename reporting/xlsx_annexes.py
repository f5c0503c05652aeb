"""The annexes (phụ lục) as an XLSX workbook: one sheet per table, frozen headers, numbers stored as numbers
with number formats (a Vietnamese-locale spreadsheet shows them as 14.000 and 50,02%)."""

from __future__ import annotations

import io
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from reporting.config import ReportConfig
from reporting.content import DOSSIER_RATES, FORM_II06A, LEVEL_LABELS, NO_DATA, subject
from reporting.data import DOCUMENT_COLUMNS, TASK_COLUMNS, ReportData

COUNT_FORMAT = "#,##0"
RATE_FORMAT = "0.00%"
DECIMAL_FORMAT = "#,##0.00"
HEADER_FONT = Font(name="Times New Roman", bold=True)
BODY_FONT = Font(name="Times New Roman")
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
MERGED_SHEET = "Đơn vị sắp xếp"

# (header, column or function of a row, number format); a format of None is text
Column = tuple[str, object, str | None]

UNIT_COLUMNS: list[Column] = [("Mã đơn vị", "unit_code", None), ("Tên đơn vị", "unit_name", None),
                              ("Cấp", lambda r: LEVEL_LABELS.get(r["unit_level"], r["unit_level"]), None)]
FORM_COLUMNS: list[Column] = [(f"{group} - {label}", source, COUNT_FORMAT) for group, label, source in FORM_II06A]
RATE_COLUMNS: list[Column] = [(label, column, RATE_FORMAT) for column, label in DOSSIER_RATES]


def _sheet(workbook: Workbook, title: str, columns: list[Column], rows: list[dict], note: str | None = None,
           freeze: str = "C2"):
    sheet = workbook.create_sheet(title)
    for index, (header, _, _) in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index, value=header)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        sheet.column_dimensions[get_column_letter(index)].width = 40 if index == 2 else 14
    sheet.row_dimensions[1].height = 60
    for row_number, row in enumerate(rows, start=2):
        for index, (_, source, number_format) in enumerate(columns, start=1):
            value = row.get(source)
            cell = sheet.cell(row=row_number, column=index, value=value)
            cell.font = BODY_FONT
            if number_format:
                cell.number_format = number_format
    sheet.freeze_panes = freeze  # the header row and the columns naming the row
    if note:
        sheet.cell(row=len(rows) + 3, column=1, value=note).font = Font(name="Times New Roman", italic=True)
    return sheet


def _no_data(workbook: Workbook, title: str, what: str) -> None:
    sheet = workbook.create_sheet(title)
    sheet["A1"] = what
    sheet["A1"].font = HEADER_FONT
    sheet["A2"] = NO_DATA
    sheet.freeze_panes = "A2"


def _gap_columns(rows: list[dict], names: dict[str, str]) -> list[Column]:
    wanted = ["period_key", "unit_code", "criterion_code", "indicator_code", "gap_type", "evidence_ref",
              "detail", "explanation"]
    present = [c for c in wanted if not rows or c in rows[0]]
    headers = {"period_key": "Kỳ", "unit_code": "Mã đơn vị", "criterion_code": "Tiêu chí",
               "indicator_code": "Chỉ số", "gap_type": "Loại thiếu sót", "evidence_ref": "Tài liệu kiểm chứng",
               "detail": "Chi tiết", "explanation": "Giải trình của đơn vị"}
    columns = [(headers[c], c, None) for c in present]
    columns.insert(2, ("Tên đơn vị", lambda r: names.get(r.get("unit_code")), None))
    return columns


def build_xlsx(data: ReportData, config: ReportConfig, report_date: date, edition: str) -> bytes:
    d = data
    workbook = Workbook()
    info = workbook.active
    info.title = "Thông tin"
    for row in ([subject(d)], ["Kỳ báo cáo", d.key], ["Từ ngày", d.period["start_date"]],
                ["Đến ngày", d.period["end_date"]], ["Số liệu cập nhật đến", d.data_as_of],
                ["Ngày báo cáo", report_date], ["Bản", "sơ bộ" if edition == "preliminary" else "chính thức"],
                ["Cơ quan", config.issuing_agency_name]):
        info.append(row)
    for cell in info["B"]:
        if isinstance(cell.value, datetime):
            cell.number_format = "dd/mm/yyyy hh:mm"
        elif isinstance(cell.value, date):
            cell.number_format = "dd/mm/yyyy"
    info["A1"].font = HEADER_FONT
    info.column_dimensions["A"].width = 26
    info.column_dimensions["B"].width = 22

    province_row = {**d.province[d.key], "unit_code": "", "unit_name": "Toàn tỉnh", "unit_level": ""}
    _sheet(workbook, "PL I - Mẫu II.06a", UNIT_COLUMNS + FORM_COLUMNS + RATE_COLUMNS,
           d.procedure_units + [province_row],
           note="Số liệu theo đơn vị tại thời điểm phát sinh (as was); dòng cuối là toàn tỉnh.")

    field_columns = UNIT_COLUMNS[:2] + [("Mã lĩnh vực", "field_code", None), ("Lĩnh vực", "field_name", None)]
    _sheet(workbook, "PL II - Theo lĩnh vực", field_columns + FORM_COLUMNS + RATE_COLUMNS, d.by_field)

    if d.has(*DOCUMENT_COLUMNS) and d.has(*TASK_COLUMNS):
        rate_like = {"e_document_rate", "digital_signature_rate", "leader_signature_rate", "task_on_time_rate"}
        columns = UNIT_COLUMNS + [(c, c, RATE_FORMAT if c in rate_like else COUNT_FORMAT)
                                  for c in DOCUMENT_COLUMNS + TASK_COLUMNS]
        _sheet(workbook, "PL III - Văn bản, nhiệm vụ", columns, d.units)
    else:
        _no_data(workbook, "PL III - Văn bản, nhiệm vụ", "Văn bản điện tử, chữ ký số và nhiệm vụ được giao")

    if d.evidence_gaps is not None:
        names = {u["unit_code"]: u["unit_name"] for u in d.units}
        _sheet(workbook, "PL IV - Thiếu minh chứng", _gap_columns(d.evidence_gaps, names), d.evidence_gaps,
               freeze="A2")
    else:
        _no_data(workbook, "PL IV - Thiếu minh chứng", "Danh sách thiếu sót tài liệu kiểm chứng")

    if d.is_annual:
        if d.area_scores is not None:
            columns = [("Mã đơn vị", "unit_code", None), ("Mã lĩnh vực", "area_code", None),
                       ("Lĩnh vực", "area_name", None), ("Điểm tối đa", "max_points", DECIMAL_FORMAT),
                       ("Điểm tự chấm", "self_score", DECIMAL_FORMAT),
                       ("Điểm tự chấm chưa có minh chứng", "points_at_risk", DECIMAL_FORMAT),
                       ("Điểm có minh chứng", "points_with_evidence", DECIMAL_FORMAT)]
            _sheet(workbook, "PL V - Điểm tự chấm", columns, d.area_scores,
                   note="Điểm tự chấm của đơn vị (chưa phải điểm thẩm định).")
        else:
            _no_data(workbook, "PL V - Điểm tự chấm", "Điểm tự chấm theo đơn vị và lĩnh vực")

    # unit series compared on restated figures (by today's unit)
    compared = []
    for (period_key, unit_code), row in sorted(d.restated.items(), key=lambda item: item[0][1]):
        if period_key != d.key or row["received_in_period"] is None:
            continue
        entry = {"unit_code": unit_code, "unit_name": row["unit_name"], "unit_level": row["unit_level"]}
        for column in ("on_time_rate", "online_full_rate"):
            entry[f"{column}:now"] = row[column]
            entry[f"{column}:previous"] = d.restated.get((d.previous_key, unit_code), {}).get(column)
            entry[f"{column}:last_year"] = d.restated.get((d.last_year_key, unit_code), {}).get(column)
        compared.append(entry)
    columns = list(UNIT_COLUMNS)
    for column, label in (("on_time_rate", "Đúng hạn"), ("online_full_rate", "Trực tuyến toàn trình")):
        columns += [(f"{label} - {d.key}", f"{column}:now", RATE_FORMAT),
                    (f"{label} - {d.previous_key}", f"{column}:previous", RATE_FORMAT),
                    (f"{label} - {d.last_year_key}", f"{column}:last_year", RATE_FORMAT)]
    _sheet(workbook, "So sánh (tính lại)", columns, compared,
           note="Số liệu tính lại theo đơn vị hiện nay: đơn vị đã hợp nhất được cộng vào đơn vị tiếp nhận.")

    _sheet(workbook, MERGED_SHEET, [("Mã đơn vị", "unit_code", None), ("Tên đơn vị", "unit_name", None),
                                    ("Đến ngày", "valid_to", "dd/mm/yyyy"),
                                    ("Mã đơn vị tiếp nhận", "successor_code", None),
                                    ("Đơn vị tiếp nhận", "successor_name", None)], d.merged_units,
           note="Đơn vị hợp nhất trong thời gian so sánh (từ đầu cùng kỳ năm trước đến hết kỳ báo cáo).")

    province_rows = [{"label": label, "now": d.province[d.key][column],
                      "previous": (d.province.get(d.previous_key) or {}).get(column),
                      "last_year": (d.province.get(d.last_year_key) or {}).get(column),
                      "target": config.targets.get(column)} for column, label in DOSSIER_RATES]
    _sheet(workbook, "Toàn tỉnh", [("Chỉ tiêu", "label", None), (d.key, "now", RATE_FORMAT),
                                  (str(d.previous_key), "previous", RATE_FORMAT),
                                  (d.last_year_key, "last_year", RATE_FORMAT),
                                  ("Mục tiêu 2030", "target", RATE_FORMAT)], province_rows, freeze="B2")

    workbook.properties.creator = config.issuing_agency_name
    workbook.properties.title = subject(d)
    fixed = datetime(report_date.year, report_date.month, report_date.day)
    workbook.properties.created = fixed
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

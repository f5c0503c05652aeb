"""The report as a DOCX in the administrative format of Nghị định 30/2020/NĐ-CP (Phụ lục I): A4, Times New
Roman, the letterhead as a borderless two-column table, page numbers at the top centre from page 2, the
signature block and "Nơi nhận:" at the end."""

from __future__ import annotations

import io
from datetime import date, datetime

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

from reformwh import formatting as fmt
from reporting import charts
from reporting.config import ReportConfig
from reporting.content import (
    DOSSIER_RATES,
    FORM_II06A,
    HEADLINE_KPIS,
    NO_DATA,
    REPORT_STATUS_LABELS,
    TARGET_LABELS,
    difference,
    ranked,
    short_name,
    subject,
)
from reporting.data import DOCUMENT_COLUMNS, SELF_REPORT_COLUMNS, TASK_COLUMNS, ReportData
from reporting.xlsx_annexes import MERGED_SHEET

FONT = "Times New Roman"
BODY_PT = 14
TABLE_PT = 11
TEXT_WIDTH = Mm(210 - 30 - 15)
ROMAN = ["I", "II", "III", "IV", "V"]
MAX_MERGERS_NAMED = 5


# --- low-level helpers -------------------------------------------------------------------------------

def _set_font(style_or_run, size: float | None = None) -> None:
    font = style_or_run.font
    font.name = FONT
    if size:
        font.size = Pt(size)
    rpr = style_or_run.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), FONT)


def _run(paragraph, text: str, bold=False, italic=False, underline=False, size: float | None = None):
    run = paragraph.add_run(text)
    run.bold, run.italic, run.underline = bold or None, italic or None, underline or None
    _set_font(run, size)
    return run


def _paragraph(container, text: str = "", align=WD_ALIGN_PARAGRAPH.CENTER, size: float = 13, bold=False,
               italic=False, underline=False, before: float = 0, after: float = 0, indent=None):
    paragraph = container.add_paragraph()
    paragraph.alignment = align
    paragraph.paragraph_format.space_before = Pt(before)
    paragraph.paragraph_format.space_after = Pt(after)
    paragraph.paragraph_format.first_line_indent = indent if indent is not None else Cm(0)
    if text:
        _run(paragraph, text, bold, italic, underline, size)
    return paragraph


def _short_rule(cell, width_cm: float) -> None:
    """A short horizontal line centred in a cell: the bottom border of an empty paragraph whose indents
    leave `width_cm` between them (renders the same in Word and LibreOffice)."""
    paragraph = cell.add_paragraph()
    side = Cm(max(0.0, (cell.width.cm - width_cm) / 2)) if cell.width else Cm(2)
    paragraph.paragraph_format.left_indent = side
    paragraph.paragraph_format.right_indent = side
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph.paragraph_format.line_spacing = Pt(2)
    ppr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "auto")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    ppr.append(borders)


def _page_field(paragraph) -> None:
    run = paragraph.add_run()
    _set_font(run, 13)
    for kind, text in (("begin", None), ("instr", " PAGE "), ("separate", None), ("text", "2"), ("end", None)):
        if kind == "instr":
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        elif kind == "text":
            element = OxmlElement("w:t")
            element.text = text
        else:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        run._r.append(element)


def _cell_text(cell, text: str, bold=False, italic=False, align=WD_ALIGN_PARAGRAPH.CENTER, size=TABLE_PT):
    paragraph = cell.paragraphs[0]
    paragraph.alignment = align
    paragraph.paragraph_format.first_line_indent = Cm(0)
    paragraph.paragraph_format.space_after = Pt(0)
    _run(paragraph, text, bold=bold, italic=italic, size=size)


def _set_widths(table, widths_cm: list[float]) -> None:
    """Column widths in the table grid (what LibreOffice uses) and on every cell (what Word uses)."""
    table.autofit = False
    for grid_col, width in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths_cm, strict=True):
        grid_col.set(qn("w:w"), str(int(Cm(width).twips)))
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm, strict=True):
            cell.width = Cm(width)


def _grid_table(doc, rows: int, cols: int, widths_cm: list[float]):
    table = doc.add_table(rows=rows, cols=cols)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _set_widths(table, widths_cm)
    _cant_split(table)
    return table


def _cant_split(table) -> None:
    for row in table.rows:
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))


def _repeat_header(row) -> None:
    trpr = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    trpr.append(header)


# --- the document -------------------------------------------------------------------------------------

class _Writer:
    def __init__(self, data: ReportData, config: ReportConfig, report_date: date, edition: str):
        self.data, self.config, self.report_date, self.edition = data, config, report_date, edition
        self.doc = Document()
        self._sections = 0

    # body text
    def heading(self, text: str) -> None:
        self._sections += 1
        _paragraph(self.doc, f"{ROMAN[self._sections - 1]}. {text.upper()}", WD_ALIGN_PARAGRAPH.JUSTIFY,
                   BODY_PT, bold=True, before=6, after=6, indent=Cm(1))

    def subheading(self, text: str) -> None:
        _paragraph(self.doc, text, WD_ALIGN_PARAGRAPH.JUSTIFY, BODY_PT, bold=True, before=6, after=6,
                   indent=Cm(1))

    def para(self, text: str, italic=False, size=BODY_PT) -> None:
        paragraph = _paragraph(self.doc, text, WD_ALIGN_PARAGRAPH.JUSTIFY, size, italic=italic, after=6,
                               indent=Cm(1))
        paragraph.paragraph_format.line_spacing = 1.15

    def note(self, text: str) -> None:
        _paragraph(self.doc, text, WD_ALIGN_PARAGRAPH.JUSTIFY, 11, italic=True, after=6)

    def image(self, png: bytes, caption: str) -> None:
        paragraph = _paragraph(self.doc, before=6)
        paragraph.paragraph_format.keep_with_next = True  # the caption stays with its chart
        paragraph.add_run().add_picture(io.BytesIO(png), width=Cm(15.5))
        _paragraph(self.doc, caption, size=12, italic=True, after=6)

    def simple_table(self, header: list[str], rows: list[list[str]], widths_cm: list[float]) -> None:
        table = _grid_table(self.doc, 1 + len(rows), len(header), widths_cm)
        for cell, text in zip(table.rows[0].cells, header, strict=True):
            _cell_text(cell, text, bold=True)
        _repeat_header(table.rows[0])
        for row, values in zip(table.rows[1:], rows, strict=True):
            for i, (cell, text) in enumerate(zip(row.cells, values, strict=True)):
                _cell_text(cell, text, align=WD_ALIGN_PARAGRAPH.LEFT if i == 0 else WD_ALIGN_PARAGRAPH.CENTER)
        _paragraph(self.doc, after=3)

    # page and letterhead
    def page_setup(self) -> None:
        normal = self.doc.styles["Normal"]
        _set_font(normal, BODY_PT)
        section = self.doc.sections[0]
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin, section.bottom_margin = Mm(20), Mm(20)
        section.left_margin, section.right_margin = Mm(30), Mm(15)
        section.header_distance = Mm(10)
        section.different_first_page_header_footer = True  # no number on page 1
        header = section.header.paragraphs[0]
        header.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _page_field(header)
        props = self.doc.core_properties
        fixed = datetime(self.report_date.year, self.report_date.month, self.report_date.day)
        props.title = subject(self.data)
        props.author = props.last_modified_by = self.config.issuing_agency
        props.subject = f"{self.data.key} ({self.edition})"
        props.keywords = f"reformwh; {self.data.key}; {self.edition}"
        props.comments = f"data as of {self.data.data_as_of}"
        props.created = props.modified = props.last_printed = fixed
        props.revision = 1

    def letterhead(self) -> None:
        c = self.config
        table = self.doc.add_table(rows=2, cols=2)  # no style: no borders
        _set_widths(table, [6.0, 10.5])
        left, right = table.rows[0].cells
        left.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(left.paragraphs[0], c.parent_agency, size=13)
        _paragraph(left, c.issuing_agency, size=13, bold=True)
        _short_rule(left, 2.2)
        right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(right.paragraphs[0], "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, size=13)
        _paragraph(right, "Độc lập - Tự do - Hạnh phúc", size=14, bold=True, underline=True)
        number, place = table.rows[1].cells
        number.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        number.paragraphs[0].paragraph_format.space_before = Pt(6)
        _run(number.paragraphs[0], f"Số: {c.document_number or ' ' * 8}/{c.document_symbol}", size=13)
        place.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        place.paragraphs[0].paragraph_format.space_before = Pt(6)
        _run(place.paragraphs[0], f"{c.place}, {fmt.document_date(self.report_date)}", italic=True, size=14)
        _paragraph(self.doc, "BÁO CÁO", size=14, bold=True, before=18)
        _paragraph(self.doc, subject(self.data), size=14, bold=True, after=12)

    # content
    def section_direction(self) -> None:
        d = self.data
        self.heading("Công tác chỉ đạo, điều hành")
        if not d.has(*SELF_REPORT_COLUMNS):
            self.para(f"Tình hình gửi báo cáo và minh chứng của các đơn vị: {NO_DATA}.")
            return
        required = [u for u in d.units if u["report_status"] not in (None, "not_required")]
        by_status: dict[str, list[dict]] = {}
        for unit in required:
            by_status.setdefault(unit["report_status"], []).append(unit)
        counts = "; ".join(f"{fmt.count(len(by_status[s]))} đơn vị {REPORT_STATUS_LABELS[s]}"
                           for s in ("on_time", "late", "missing", "awaited") if s in by_status)
        self.para(f"Trong {d.period_name(d.key)}, {fmt.count(len(required))} đơn vị phải gửi báo cáo cải cách "
                  f"hành chính: {counts or 'chưa có đơn vị nào gửi'}.")
        for status, text in (("late", "Các đơn vị gửi báo cáo trễ hạn"), ("missing", "Các đơn vị không gửi báo cáo")):
            if by_status.get(status):
                self.para(f"{text}: " + ", ".join(short_name(u["unit_name"]) for u in by_status[status]) + ".")
        if self.edition == "preliminary" and by_status.get("awaited"):
            self.note("Bản sơ bộ: tình trạng báo cáo của các đơn vị tính đến thời điểm lập báo cáo; "
                      "các đơn vị chưa đến hạn gửi được ghi \"chưa nhận\".")
        flagged = [u for u in d.units if u.get("missing_evidence")]
        if flagged:
            gaps = sum(u["evidence_gap_count"] or 0 for u in flagged)
            self.para(f"Qua rà soát, {fmt.count(len(flagged))} đơn vị chưa cung cấp đầy đủ, kịp thời tài liệu "
                      f"kiểm chứng ({fmt.count(gaps)} nội dung; chi tiết tại Phụ lục IV): "
                      + ", ".join(short_name(u["unit_name"]) for u in flagged) + ".")
        else:
            self.para("Qua rà soát, không phát hiện đơn vị thiếu tài liệu kiểm chứng.")

    def form_table(self) -> None:
        d = self.data
        widths = [2.3] + [1.29] * 11
        table = _grid_table(self.doc, 5, 12, widths)
        head0, head1, head2, numbers, values = table.rows
        head0.cells[0].merge(head2.cells[0])
        _cell_text(head0.cells[0], "Phạm vi", bold=True, size=9)
        spans = [(1, 4, "Số hồ sơ tiếp nhận"), (5, 8, "Số hồ sơ đã giải quyết"), (9, 11, "Số hồ sơ đang giải quyết")]
        for first, last, text in spans:
            head0.cells[first].merge(head0.cells[last])
            _cell_text(head0.cells[first], text, bold=True, size=9)
        # second row: totals span two rows; "Trong kỳ" covers online and direct/postal
        for index, (_group, label, _) in enumerate(FORM_II06A, start=1):
            if index in (2, 3):
                continue
            head1.cells[index].merge(head2.cells[index])
            _cell_text(head1.cells[index], label, bold=True, size=9)
        head1.cells[2].merge(head1.cells[3])
        _cell_text(head1.cells[2], "Mới tiếp nhận trong kỳ", bold=True, size=9)
        _cell_text(head2.cells[2], FORM_II06A[1][1], bold=True, size=9)
        _cell_text(head2.cells[3], FORM_II06A[2][1], bold=True, size=9)
        for row in (head0, head1, head2):
            _repeat_header(row)
        for index, cell in enumerate(numbers.cells):
            _cell_text(cell, f"({index + 1})", italic=True, size=9)
        province = d.province[d.key]
        _cell_text(values.cells[0], "Toàn tỉnh", bold=True, size=10, align=WD_ALIGN_PARAGRAPH.LEFT)
        for index, (_, _, source) in enumerate(FORM_II06A, start=1):
            _cell_text(values.cells[index], fmt.count(province.get(source)), size=10)
        _paragraph(self.doc, after=3)

    def rates_table(self) -> None:
        d = self.data
        now, previous, last_year = (d.province.get(k) for k in (d.key, d.previous_key, d.last_year_key))
        rows = []
        for column, label in DOSSIER_RATES:
            value = now[column]
            prev = previous[column] if previous else None
            last = last_year[column] if last_year else None
            rows.append([label, fmt.percent(value), fmt.percent(prev), fmt.percent(last),
                         fmt.points(difference(value, prev)), fmt.points(difference(value, last))])
        self.simple_table(["Chỉ tiêu", "Kỳ này", "Kỳ trước", "Cùng kỳ năm trước", "So với kỳ trước (điểm %)",
                           "So với cùng kỳ (điểm %)"], rows, [5.4, 2.1, 2.1, 2.1, 2.4, 2.4])

    def comparison_footnote(self) -> None:
        d = self.data
        text = (f"Ghi chú: kỳ trước là {d.period_name(d.previous_key)}, cùng kỳ năm trước là "
                f"{d.period_name(d.last_year_key)}; số liệu so sánh theo đơn vị được tính lại theo đơn vị hiện "
                f"nay (số liệu toàn tỉnh không đổi khi sắp xếp đơn vị).")
        if d.merged_units:
            shown = MAX_MERGERS_NAMED if len(d.merged_units) > MAX_MERGERS_NAMED + 1 else len(d.merged_units)
            merged = "; ".join(f"{u['unit_name']} hợp nhất vào {u['successor_name'] or u['successor_code']} từ "
                               f"{fmt.short_date(_next_day(u['valid_to']))}" for u in d.merged_units[:shown])
            if shown < len(d.merged_units):
                merged += (f" và {fmt.count(len(d.merged_units) - shown)} đơn vị khác (danh sách tại Phụ lục, "
                           f"sheet \"{MERGED_SHEET}\")")
            text += f" Trong thời gian so sánh có {fmt.count(len(d.merged_units))} đơn vị đã sắp xếp: {merged}."
        self.note(text)

    def section_results(self, charts_png: dict[str, bytes]) -> None:
        d, c = self.data, self.config
        province = d.province[d.key]
        self.heading("Kết quả thực hiện")
        self.subheading("1. Cải cách thủ tục hành chính")
        received_total = province.get("received_total")
        self.para(f"Trong kỳ báo cáo (từ {fmt.short_date(d.period['start_date'])} đến "
                  f"{fmt.short_date(d.period['end_date'])}), các cơ quan, đơn vị trên địa bàn tỉnh đã tiếp nhận "
                  f"{fmt.count(received_total)} hồ sơ thủ tục hành chính (trong đó "
                  f"{fmt.count(province['received_in_period'])} hồ sơ mới tiếp nhận, "
                  f"{fmt.count(province['carried_over'])} hồ sơ từ kỳ trước chuyển qua); đã giải quyết "
                  f"{fmt.count(province['resolved_total'])} hồ sơ, tỷ lệ giải quyết trước và đúng hạn đạt "
                  f"{fmt.percent(province['on_time_rate'])}; đang giải quyết "
                  f"{fmt.count(province['in_progress_total'])} hồ sơ, trong đó "
                  f"{fmt.count(province['in_progress_overdue'])} hồ sơ quá hạn. Chi tiết theo Mẫu II.06a:")
        self.form_table()
        self.para("Các tỷ lệ chủ yếu so với kỳ trước và cùng kỳ năm trước:")
        self.rates_table()
        self.comparison_footnote()
        late, apologised, without = (province[c] for c in ("late_total", "late_with_apology", "late_without_apology"))
        self.para(f"Có {fmt.count(late)} hồ sơ trễ hạn (đã giải quyết quá hạn và đang quá hạn), trong đó "
                  f"{fmt.count(apologised)} hồ sơ đã có phiếu xin lỗi (tỷ lệ {fmt.percent(province['apology_rate'])}); "
                  f"{fmt.count(without)} hồ sơ trễ hạn chưa có văn bản xin lỗi người dân, doanh nghiệp.")
        if "by_unit" in charts_png:
            self.image(charts_png["by_unit"], "Biểu đồ 1. Tỷ lệ giải quyết trước và đúng hạn, tỷ lệ tiếp nhận "
                                              "trực tuyến của các đơn vị có tỷ lệ đúng hạn thấp nhất")

        self.subheading("2. Chính quyền điện tử, chính quyền số")
        if d.has(*DOCUMENT_COLUMNS, table="reform_province"):
            self.para(f"Văn bản đi: {fmt.count(province['docs_outgoing'])} văn bản, trong đó "
                      f"{fmt.count(province['docs_outgoing_electronic'])} văn bản điện tử (tỷ lệ "
                      f"{fmt.percent(province['e_document_rate'])}); tỷ lệ văn bản điện tử ký số "
                      f"{fmt.percent(province['digital_signature_rate'])}; tỷ lệ văn bản do lãnh đạo ký có chữ ký "
                      f"số {fmt.percent(province['leader_signature_rate'])}. Văn bản đến: "
                      f"{fmt.count(province['docs_incoming'])}, trong đó "
                      f"{fmt.count(province['docs_incoming_electronic'])} văn bản điện tử.")
        else:
            self.para(f"Văn bản điện tử, chữ ký số: {NO_DATA}.")
        rows = []
        for column, target in c.targets.items():
            value = province.get(column)
            reached = "–" if value is None else ("Đạt" if value >= target else "Chưa đạt")
            rows.append([TARGET_LABELS.get(column, column), fmt.percent(value), fmt.percent(target), reached])
        self.para("Kết quả so với mục tiêu quốc gia đến năm 2030:")
        self.simple_table(["Chỉ tiêu", "Kết quả kỳ này", "Mục tiêu 2030", "Đánh giá"], rows, [7.6, 2.8, 2.8, 2.8])
        if "trend" in charts_png:
            self.image(charts_png["trend"], "Biểu đồ 2. Diễn biến các tỷ lệ của toàn tỉnh qua các kỳ báo cáo")

        self.subheading("3. Thực hiện nhiệm vụ được giao")
        if d.has(*TASK_COLUMNS, table="reform_province"):
            self.para(f"Số nhiệm vụ đến hạn trong kỳ: {fmt.count(province['tasks_due'])}; hoàn thành đúng hạn "
                      f"{fmt.count(province['tasks_done_on_time'])}, hoàn thành quá hạn "
                      f"{fmt.count(province['tasks_done_late'])} (tỷ lệ đúng hạn "
                      f"{fmt.percent(province['task_on_time_rate'])}); quá hạn chưa hoàn thành tại thời điểm "
                      f"chốt số liệu: {fmt.count(province['tasks_overdue_at_period_end'])}.")
        else:
            self.para(f"Nhiệm vụ được giao: {NO_DATA}.")

    def section_assessment(self) -> None:
        d, c = self.data, self.config
        self.heading("Đánh giá")
        self.para(f"Các đơn vị có kết quả thấp nhất theo từng chỉ tiêu (chỉ xét đơn vị có từ "
                  f"{fmt.count(c.min_dossiers)} hồ sơ trở lên tính vào tỷ lệ):")
        rows = []
        for column, label, denominator in HEADLINE_KPIS:
            for unit in ranked(d, column, c.min_dossiers)[:c.weakest_count]:
                previous = d.restated.get((d.previous_key, unit["current_unit_code"]), {})
                rows.append([short_name(unit["unit_name"]), label, fmt.count(unit[denominator]),
                             fmt.percent(unit[column]), fmt.percent(previous.get(column))])
        if rows:
            self.simple_table(["Đơn vị", "Chỉ tiêu", "Số hồ sơ", "Kỳ này", "Kỳ trước (*)"], rows,
                              [5.0, 4.4, 2.0, 2.3, 2.3])
            self.note("(*) Kỳ trước tính lại theo đơn vị hiện nay (gồm cả số liệu của các đơn vị đã hợp nhất vào).")
        else:
            self.para(f"Không có đơn vị nào đủ {fmt.count(c.min_dossiers)} hồ sơ để xếp hạng.")
        if d.has("missing_evidence", "evidence_gap_count"):
            flagged = [u for u in d.units if u.get("missing_evidence")]
            if flagged:
                rows = []
                for unit in flagged:
                    row = [short_name(unit["unit_name"]), fmt.count(unit["evidence_gap_count"])]
                    if d.is_annual and d.has("par_self_score", "par_points_at_risk"):
                        row += [fmt.number(unit.get("par_self_score")), fmt.number(unit.get("par_points_at_risk"))]
                    rows.append(row)
                header = ["Đơn vị", "Số nội dung thiếu minh chứng"]
                widths = [9.0, 7.0]
                if d.is_annual and d.has("par_self_score", "par_points_at_risk"):
                    header += ["Điểm tự chấm", "Điểm tự chấm chưa có minh chứng"]
                    widths = [6.0, 3.4, 3.2, 3.4]
                self.para("Các đơn vị chưa cung cấp đầy đủ tài liệu kiểm chứng (điểm là điểm tự chấm của đơn vị, "
                          "chưa phải điểm thẩm định):")
                self.simple_table(header, rows, widths)
            else:
                self.para("Không có đơn vị bị đánh dấu thiếu tài liệu kiểm chứng.")
        else:
            self.para(f"Đơn vị thiếu tài liệu kiểm chứng: {NO_DATA}.")

    def section_direction_next(self) -> None:
        d, c = self.data, self.config
        self.heading("Phương hướng, nhiệm vụ kỳ tới")
        thresholds = {**c.thresholds, **c.targets}
        labels = {rate: label for rate, label, _ in HEADLINE_KPIS}
        number = 0
        for column, threshold in thresholds.items():
            # only units that still exist can be given next period's tasks
            below = [u for u in ranked(d, column, c.min_dossiers)
                     if u[column] < threshold and u["unit_code"] in d.existing_at_end]
            if not below:
                continue
            number += 1
            names = ", ".join(short_name(u["unit_name"]) for u in below[:10])
            more = f" và {fmt.count(len(below) - 10)} đơn vị khác" if len(below) > 10 else ""
            self.para(f"{number}. Nâng tỷ lệ {labels.get(column, column)} lên tối thiểu {fmt.percent(threshold)}: "
                      f"{fmt.count(len(below))} đơn vị chưa đạt ({names}{more}).")
        number += 1
        self.para(f"{number}. Các đơn vị chấn chỉnh việc giải quyết hồ sơ quá hạn, thực hiện xin lỗi người dân, "
                  f"doanh nghiệp đối với hồ sơ trễ hạn; cập nhật đầy đủ tài liệu kiểm chứng theo quy định.")
        self.note("(Nội dung mục IV được lập tự động từ các ngưỡng chỉ tiêu; Văn phòng hoàn thiện trước khi trình ký.)")

    def signature(self) -> None:
        c = self.config
        _paragraph(self.doc, after=6)
        table = self.doc.add_table(rows=1, cols=2)
        _set_widths(table, [8.5, 8.0])
        left, right = table.rows[0].cells
        first = left.paragraphs[0]
        _run(first, "Nơi nhận:", bold=True, italic=True, size=12)
        for index, recipient in enumerate(c.recipients):
            end = "." if index == len(c.recipients) - 1 else ";"
            _paragraph(left, f"- {recipient}{end}", WD_ALIGN_PARAGRAPH.LEFT, size=11)
        title = right.paragraphs[0]
        title.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if c.signer_authority:
            _run(title, c.signer_authority, bold=True, size=14)
            _paragraph(right, c.signer_title, size=14, bold=True)
        else:
            _run(title, c.signer_title, bold=True, size=14)
        for _ in range(4):
            _paragraph(right, size=14)
        _paragraph(right, c.signer_name, size=14, bold=True)

    def build(self) -> bytes:
        d = self.data
        self.page_setup()
        self.letterhead()
        self.para(f"Thực hiện chế độ báo cáo công tác cải cách hành chính, {self.config.issuing_agency_name} "
                  f"báo cáo kết quả thực hiện {d.period_name(d.key)} (số liệu từ "
                  f"{fmt.short_date(d.period['start_date'])} đến {fmt.short_date(d.period['end_date'])}, cập nhật "
                  f"đến {_when(d.data_as_of)}) như sau:")
        png = {}
        units = ranked(d, "on_time_rate", self.config.min_dossiers)[:self.config.chart_max_units]
        if units:
            png["by_unit"] = charts.rates_by_unit(units, f"Các đơn vị, {d.period_name(d.key)}")
        if len(d.trend) > 1:
            png["trend"] = charts.trend(d.trend, [d.period_name(r["period_key"]) for r in d.trend],
                                        "Toàn tỉnh qua các kỳ")
        self.section_direction()
        self.section_results(png)
        self.section_assessment()
        self.section_direction_next()
        self.para("Các phụ lục số liệu chi tiết (Phụ lục I–V) gửi kèm theo báo cáo này (tệp XLSX).", italic=True)
        self.para(f"Trên đây là báo cáo kết quả thực hiện công tác cải cách hành chính {d.period_name(d.key)} "
                  f"của {self.config.issuing_agency_name}./.")
        self.signature()
        buffer = io.BytesIO()
        self.doc.save(buffer)
        return buffer.getvalue()


def _next_day(day: date) -> date:
    from datetime import timedelta

    return day + timedelta(days=1)


def _when(moment: datetime | None) -> str:
    return "–" if moment is None else f"{moment:%H:%M} ngày {fmt.short_date(moment.date())}"


def build_docx(data: ReportData, config: ReportConfig, report_date: date, edition: str) -> bytes:
    return _Writer(data, config, report_date, edition).build()

"""The report as a DOCX in the administrative format of Nghị định 30/2020/NĐ-CP (Phụ lục I): A4, Times New
Roman, the letterhead as a borderless two-column table, page numbers at the top centre from page 2, the
signature block and "Nơi nhận:" at the end, kept on one page with the closing paragraph.

The layout helpers (page set-up, letterhead, signature block) are shared with the reminder letters
(reporting/letters.py)."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

from reformwh import formatting as fmt
from reporting.config import ReportConfig
from reporting.content import (
    DOSSIER_RATES,
    FORM_II06A,
    FORM_LEVELS,
    HEADLINE_KPIS,
    TARGET_LABELS,
    annex_range,
    compared_periods,
    count_change,
    difference,
    evidence_gaps_by_unit,
    gap_summary,
    merged_label,
    ranked,
    short_name,
    subject,
    unit_name,
)
from reporting.data import ReportData
from reporting.xlsx_annexes import MERGED_SHEET

FONT = "Times New Roman"
BODY_PT = 14
TABLE_PT = 11
TEXT_WIDTH = Mm(210 - 30 - 15)
ROMAN = ["I", "II", "III", "IV", "V"]
MAX_MERGERS_NAMED = 5
FORM_PT = 9.5           # form II.06a: six-digit counts fit a 1,33 cm column at this size
FORM_MARGIN_CM = 0.06   # cell margins of the form (Word's default 0,19 cm leaves no room for the figures)
FORM_HEADER_SHORT = "Trực tiếp, bưu chính"  # "Trực tiếp và dịch vụ bưu chính" needs five lines in 1,3 cm


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


def _centred_rule(doc, width_cm: float, after: float = 6):
    """The short rule below the subject (trích yếu) of a document, Nghị định 30/2020 Phụ lục I: a bottom
    border of an empty paragraph indented to `width_cm`, centred on the text width."""
    paragraph = _paragraph(doc, after=after)
    side = Cm(max(0.0, (TEXT_WIDTH.cm - width_cm) / 2))
    paragraph.paragraph_format.left_indent = paragraph.paragraph_format.right_indent = side
    paragraph.paragraph_format.line_spacing = Pt(2)
    ppr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "auto")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    ppr.append(borders)
    return paragraph


def _cell_margins(table, cm: float) -> None:
    """Left and right cell margins of a whole table."""
    tblpr = table._tbl.tblPr
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        element = OxmlElement(f"w:{side}")
        element.set(qn("w:w"), str(int(Cm(cm).twips)))
        element.set(qn("w:type"), "dxa")
        margins.append(element)
    tblpr.append(margins)


def _no_wrap(cell) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    tcpr.append(OxmlElement("w:noWrap"))


def _keep_together(table) -> None:
    """Every paragraph of the table keeps with the next, and no row splits: the table moves as a block."""
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.keep_with_next = True
                paragraph.paragraph_format.keep_together = True


def _highlight(paragraph) -> None:
    """Text the office must write: highlighted yellow so that it cannot be signed by mistake."""
    for run in paragraph.runs:
        rpr = run._r.get_or_add_rPr()
        mark = OxmlElement("w:highlight")
        mark.set(qn("w:val"), "yellow")
        rpr.append(mark)


def page_setup(doc, config: ReportConfig, day: date, title: str, subject_line: str, keywords: str,
               comments: str = "") -> None:
    normal = doc.styles["Normal"]
    _set_font(normal, BODY_PT)
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    section.header_distance = Mm(10)
    section.different_first_page_header_footer = True  # no number on page 1
    header = section.header.paragraphs[0]
    header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _page_field(header)
    props = doc.core_properties
    fixed = datetime(day.year, day.month, day.day)
    props.title = title
    props.author = props.last_modified_by = config.issuing_agency
    props.subject = subject_line
    props.keywords = keywords
    props.comments = comments
    props.created = props.modified = props.last_printed = fixed
    props.revision = 1


def letterhead(doc, config: ReportConfig, day: date, symbol: str, about: str | None = None) -> None:
    """The two-column letterhead; `about` is a công văn's "V/v …" under its number (a report has its title
    and subject below the letterhead instead)."""
    c = config
    if c.draft_mark:  # a draft for another agency to issue (e.g. "DỰ THẢO" for UBND tỉnh)
        _paragraph(doc, c.draft_mark, WD_ALIGN_PARAGRAPH.RIGHT, size=12, bold=True, after=6)
    table = doc.add_table(rows=2, cols=2)  # no style: no borders
    _set_widths(table, [6.0, 10.5])
    left, right = table.rows[0].cells
    # the parent agency regular (none for UBND tỉnh), the issuing agency bold, on as many lines as configured
    lines = [(line, False) for line in c.parent_agency.split("\n") if line] + [
        (line, True) for line in c.issuing_agency.split("\n") if line]
    left.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(left.paragraphs[0], lines[0][0], bold=lines[0][1], size=13)
    for text, bold in lines[1:]:
        _paragraph(left, text, size=13, bold=bold)
    _short_rule(left, 2.2)
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(right.paragraphs[0], "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, size=13)
    _paragraph(right, "Độc lập - Tự do - Hạnh phúc", size=14, bold=True, underline=True)
    number, place = table.rows[1].cells
    number.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    number.paragraphs[0].paragraph_format.space_before = Pt(6)
    _run(number.paragraphs[0], f"Số: {c.document_number or ' ' * 8}/{symbol}", size=13)
    if about:
        _paragraph(number, about, size=12, before=3)
    place.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    place.paragraphs[0].paragraph_format.space_before = Pt(6)
    _run(place.paragraphs[0], f"{c.place}, {fmt.document_date(day)}", italic=True, size=14)


def signature_block(doc, config: ReportConfig, recipients: list[str] | tuple[str, ...]) -> None:
    """"Nơi nhận:" and the signer, in one borderless row that never splits and that the paragraph before it
    (the closing one) keeps on its page: the signer's name never stands alone on a last page."""
    c = config
    spacer = _paragraph(doc, after=6)
    spacer.paragraph_format.keep_with_next = True
    table = doc.add_table(rows=1, cols=2)
    _set_widths(table, [8.5, 8.0])
    _cant_split(table)
    left, right = table.rows[0].cells
    first = left.paragraphs[0]
    _run(first, "Nơi nhận:", bold=True, italic=True, size=12)
    for index, recipient in enumerate(recipients):
        end = "." if index == len(recipients) - 1 else ";"
        _paragraph(left, f"- {recipient}{end}", WD_ALIGN_PARAGRAPH.LEFT, size=11)
    title = right.paragraphs[0]
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    # "TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", …: the authority may take several lines
    lines = [line for line in c.signer_authority.split("\n") if line] + [c.signer_title]
    _run(title, lines[0], bold=True, size=14)
    for line in lines[1:]:
        _paragraph(right, line, size=14, bold=True)
    for _ in range(4):
        _paragraph(right, size=14)
    _paragraph(right, c.signer_name, size=14, bold=True)
    _keep_together(table)


# --- the document -------------------------------------------------------------------------------------

class _Writer:
    def __init__(self, data: ReportData, config: ReportConfig, report_date: date, edition: str):
        self.data, self.config, self.report_date, self.edition = data, config, report_date, edition
        self.doc = Document()
        self._sections = 0

    # body text
    def heading(self, text: str) -> None:
        self._sections += 1
        paragraph = _paragraph(self.doc, f"{ROMAN[self._sections - 1]}. {text.upper()}",
                               WD_ALIGN_PARAGRAPH.JUSTIFY, BODY_PT, bold=True, before=6, after=6, indent=Cm(1))
        paragraph.paragraph_format.keep_with_next = True

    def subheading(self, text: str, italic: bool = False) -> None:
        paragraph = _paragraph(self.doc, text, WD_ALIGN_PARAGRAPH.JUSTIFY, BODY_PT, bold=not italic,
                               italic=italic, before=6, after=6, indent=Cm(1))
        paragraph.paragraph_format.keep_with_next = True

    def para(self, text: str, italic=False, size=BODY_PT, keep_with_next=False):
        paragraph = _paragraph(self.doc, text, WD_ALIGN_PARAGRAPH.JUSTIFY, size, italic=italic, after=6,
                               indent=Cm(1))
        paragraph.paragraph_format.line_spacing = 1.15
        paragraph.paragraph_format.keep_with_next = keep_with_next or None
        return paragraph

    def manual(self, key: str) -> None:
        """A part of the outline the warehouse has no data for: the configured text, highlighted."""
        text = self.config.manual_sections.get(key, "")
        if text:
            _highlight(self.para(text, italic=text.startswith("[")))

    def note(self, text: str) -> None:
        _paragraph(self.doc, text, WD_ALIGN_PARAGRAPH.JUSTIFY, 11, italic=True, after=6)

    def image(self, png: bytes, caption: str) -> None:
        paragraph = _paragraph(self.doc, before=6)
        paragraph.paragraph_format.keep_with_next = True  # the caption stays with its chart
        paragraph.add_run().add_picture(io.BytesIO(png), width=Cm(15.5))
        _paragraph(self.doc, caption, size=12, italic=True, after=6)

    def simple_table(self, header: list[str], rows: list[list[str]], widths_cm: list[float],
                     keep_rows: int = 15) -> None:
        """A table with a repeated header row; one of at most `keep_rows` rows is never split over pages."""
        table = _grid_table(self.doc, 1 + len(rows), len(header), widths_cm)
        for cell, text in zip(table.rows[0].cells, header, strict=True):
            _cell_text(cell, text, bold=True)
        _repeat_header(table.rows[0])
        for row, values in zip(table.rows[1:], rows, strict=True):
            for i, (cell, text) in enumerate(zip(row.cells, values, strict=True)):
                _cell_text(cell, text, align=WD_ALIGN_PARAGRAPH.LEFT if i == 0 else WD_ALIGN_PARAGRAPH.CENTER)
        if len(rows) <= keep_rows:
            for row in table.rows[:-1]:
                for cell in row.cells:
                    for paragraph in cell.paragraphs:
                        paragraph.paragraph_format.keep_with_next = True
        _paragraph(self.doc, after=3)

    def letterhead(self) -> None:
        letterhead(self.doc, self.config, self.report_date, self.config.document_symbol)
        _paragraph(self.doc, "BÁO CÁO", size=14, bold=True, before=18)
        _paragraph(self.doc, subject(self.data), size=14, bold=True)
        _centred_rule(self.doc, 5.0, after=12)

    # I.
    def section_direction(self) -> None:
        d = self.data
        self.heading("Công tác chỉ đạo, điều hành")
        self.subheading("1. Kế hoạch, kiểm tra, tuyên truyền")
        for key in ("planning", "inspection", "communication"):
            self.manual(key)
        self.subheading("2. Chế độ báo cáo, tài liệu kiểm chứng của các đơn vị")
        required = [u for u in d.units if u["report_status"] not in (None, "not_required")]
        by_status: dict[str, list[dict]] = {}
        for unit in required:
            by_status.setdefault(unit["report_status"], []).append(unit)
        parts = [f"{fmt.count(len(by_status[s]))} đơn vị {label}" for s, label in (
            ("on_time", "gửi đúng hạn"), ("late", "gửi trễ hạn"), ("missing", "không gửi báo cáo"),
            ("awaited", "chưa gửi (chưa đến hạn)")) if s in by_status]
        self.para(f"Trong {d.period_name(d.key)}, {fmt.count(len(required))} đơn vị phải gửi báo cáo cải cách "
                  f"hành chính: {'; '.join(parts) or 'chưa có đơn vị nào gửi'}.")
        names = {u["unit_code"]: short_name(u["unit_name"]) for u in d.units}
        for status, text in (("missing", "Không gửi báo cáo"), ("late", "Gửi báo cáo trễ hạn")):
            if by_status.get(status):
                self.para(f"{text} ({fmt.count(len(by_status[status]))} đơn vị): "
                          + ", ".join(names[u["unit_code"]] for u in by_status[status]) + ".")
        if self.edition == "preliminary" and by_status.get("awaited"):
            self.note("Bản sơ bộ: tình trạng báo cáo của các đơn vị tính đến thời điểm lập báo cáo; "
                      "các đơn vị chưa đến hạn gửi được ghi \"chưa gửi (chưa đến hạn)\".")
        gaps = evidence_gaps_by_unit(d)
        if not gaps:
            self.para("Qua rà soát các báo cáo đã gửi, không phát hiện đơn vị thiếu tài liệu kiểm chứng.")
            return
        total = sum(len(g) for g in gaps.values())
        self.para(f"Thiếu tài liệu kiểm chứng: qua rà soát các báo cáo đã gửi, {fmt.count(len(gaps))} đơn vị "
                  f"chưa cung cấp đầy đủ, hợp lệ tài liệu kiểm chứng ({fmt.count(total)} nội dung; chi tiết "
                  f"từng tiêu chí, tài liệu tại Phụ lục IV):", keep_with_next=True)
        rows = [[short_name(names.get(code) or unit_name(d, code)), gap_summary(unit_gaps)]
                for code, unit_gaps in gaps.items()]
        self.simple_table(["Đơn vị", "Nội dung thiếu, chưa hợp lệ"], rows, [6.0, 10.5])

    # II.
    def form_table(self) -> None:
        d = self.data
        widths = [2.0] + [1.318] * 11
        levels = [(label, d.form_by_level[group]) for label, (group, *_) in FORM_LEVELS if group in d.form_by_level]
        table = _grid_table(self.doc, 4 + len(levels) + 1, 12, widths)
        _cell_margins(table, FORM_MARGIN_CM)
        head0, head1, head2, numbers, *values = table.rows
        head0.cells[0].merge(head2.cells[0])
        _cell_text(head0.cells[0], "Cấp", bold=True, size=FORM_PT)
        spans = [(1, 4, "Số hồ sơ tiếp nhận"), (5, 8, "Số hồ sơ đã giải quyết"), (9, 11, "Số hồ sơ đang giải quyết")]
        for first, last, text in spans:
            head0.cells[first].merge(head0.cells[last])
            _cell_text(head0.cells[first], text, bold=True, size=FORM_PT)
        # second row: totals span two rows; "Mới tiếp nhận" covers online and direct/postal
        for index, (_group, label, _) in enumerate(FORM_II06A, start=1):
            if index in (2, 3):
                continue
            head1.cells[index].merge(head2.cells[index])
            _cell_text(head1.cells[index], label, bold=True, size=FORM_PT)
        head1.cells[2].merge(head1.cells[3])
        _cell_text(head1.cells[2], "Mới tiếp nhận trong kỳ", bold=True, size=FORM_PT)
        _cell_text(head2.cells[2], FORM_II06A[1][1], bold=True, size=FORM_PT)
        _cell_text(head2.cells[3], FORM_HEADER_SHORT, bold=True, size=FORM_PT)
        for row in (head0, head1, head2):
            _repeat_header(row)
        for index, cell in enumerate(numbers.cells):
            _cell_text(cell, f"({index + 1})", italic=True, size=FORM_PT)
        _repeat_header(numbers)
        for row, (label, figures) in zip(values, [*levels, ("Toàn tỉnh", d.province[d.key])], strict=True):
            total = label == "Toàn tỉnh"
            _cell_text(row.cells[0], label, bold=total, size=FORM_PT + 0.5, align=WD_ALIGN_PARAGRAPH.LEFT)
            for index, (_, _, source) in enumerate(FORM_II06A, start=1):
                _cell_text(row.cells[index], fmt.count(figures.get(source)), bold=total, size=FORM_PT)
                _no_wrap(row.cells[index])
        _paragraph(self.doc, after=3)

    def rates_table(self) -> None:
        d = self.data
        now = d.province[d.key]
        others = [(d.province.get(key), label) for key, label in compared_periods(d)]
        rows = []
        for column, label in DOSSIER_RATES:
            values = [fmt.percent(now[column])]
            changes = []
            for other, _ in others:
                then = other[column] if other else None
                values.append(fmt.percent(then))
                changes.append(fmt.points(difference(now[column], then)))
            rows.append([label, *values, *changes])
        header = ["Chỉ tiêu", "Kỳ này", *(label for _, label in others),
                  *(f"So với {label.lower()} (điểm\u00a0%)" for _, label in others)]
        widths = [5.4, 2.1, 2.1, 2.1, 2.4, 2.4] if len(others) == 2 else [7.5, 2.25, 2.25, 4.5]
        self.simple_table(header, rows, widths)

    def comparison_footnote(self) -> None:
        d = self.data
        periods = compared_periods(d)
        named = "; ".join(f"{label.lower()} là {d.period_name(key)}" for key, label in periods)
        text = (f"Ghi chú: {named}; số liệu so sánh theo đơn vị được tính lại theo đơn vị hiện nay (số liệu toàn "
                f"tỉnh không đổi khi sắp xếp đơn vị). Chênh lệch tính từ các tỷ lệ đã làm tròn như in trong bảng.")
        if d.merged_units:
            shown = MAX_MERGERS_NAMED if len(d.merged_units) > MAX_MERGERS_NAMED + 1 else len(d.merged_units)
            merged = "; ".join(f"{u['unit_name']} hợp nhất vào {u['successor_name'] or u['successor_code']} từ "
                               f"{fmt.short_date(_next_day(u['valid_to']))}" for u in d.merged_units[:shown])
            if shown < len(d.merged_units):
                merged += (f" và {fmt.count(len(d.merged_units) - shown)} đơn vị khác (danh sách tại tệp phụ lục, "
                           f"trang tính \"{MERGED_SHEET}\")")
            text += f" Trong thời gian so sánh có {fmt.count(len(d.merged_units))} đơn vị đã sắp xếp: {merged}."
        self.note(text)

    def _count_comparison(self, column: str) -> str:
        """" (tăng 12,3% so với cùng kỳ năm trước)" for a count of the province."""
        parts = self._count_changes(column)
        return f" ({', '.join(parts)})" if parts else ""

    def _count_changes(self, column: str) -> list[str]:
        """["tăng 12,3% so với kỳ trước", …] for a count of the province."""
        d = self.data
        parts = []
        for key, label in compared_periods(d):
            other = d.province.get(key)
            change = count_change(d.province[d.key].get(column), other.get(column) if other else None)
            if change is None:
                continue
            word = "tăng" if change > 0 else ("giảm" if change < 0 else "bằng")
            amount = "" if change == 0 else " " + fmt.signed_percent(abs(change)).lstrip("+")
            parts.append(f"{word}{amount} so với {label.lower()}")
        return parts

    def section_results(self, charts_png: dict[str, bytes], chart_units: int, units_below: int) -> None:
        d, c = self.data, self.config
        province = d.province[d.key]
        self.heading("Kết quả trên các lĩnh vực")
        self.subheading("1. Cải cách thể chế")
        self.manual("institutions")

        self.subheading("2. Cải cách thủ tục hành chính")
        self.para(f"Trong kỳ báo cáo (từ {fmt.short_date(d.period['start_date'])} đến "
                  f"{fmt.short_date(d.period['end_date'])}), các cơ quan, đơn vị trên địa bàn tỉnh đã tiếp nhận "
                  f"{fmt.count(province.get('received_total'))} hồ sơ thủ tục hành chính (trong đó "
                  f"{fmt.count(province['received_in_period'])} hồ sơ mới tiếp nhận"
                  f"{self._count_comparison('received_in_period')}, "
                  f"{fmt.count(province['carried_over'])} hồ sơ từ kỳ trước chuyển qua); đã giải quyết "
                  f"{fmt.count(province['resolved_total'])} hồ sơ, tỷ lệ giải quyết trước và đúng hạn đạt "
                  f"{fmt.percent(province['on_time_rate'])}; đang giải quyết "
                  f"{fmt.count(province['in_progress_total'])} hồ sơ, trong đó "
                  f"{fmt.count(province['in_progress_overdue'])} hồ sơ quá hạn. Chi tiết theo Mẫu II.06a:",
                  keep_with_next=True)
        self.form_table()
        self.para("Các tỷ lệ chủ yếu so với " + " và ".join(label.lower() for _, label in compared_periods(d))
                  + ":", keep_with_next=True)
        self.rates_table()
        self.comparison_footnote()
        late, apologised, without = (province[c] for c in ("late_total", "late_with_apology", "late_without_apology"))
        changes = self._count_changes("late_total")
        self.para(f"Có {fmt.count(late)} hồ sơ trễ hạn (đã giải quyết quá hạn và đang quá hạn), trong đó "
                  f"{fmt.count(apologised)} hồ sơ đã có phiếu xin lỗi (tỷ lệ {fmt.percent(province['apology_rate'])}); "
                  f"{fmt.count(without)} hồ sơ trễ hạn chưa có văn bản xin lỗi người dân, doanh nghiệp"
                  + (f"; số hồ sơ trễ hạn {', '.join(changes)}" if changes else "") + ".")
        self.late_by_field_and_procedure()
        self.most_late()
        if "by_unit" in charts_png:
            threshold = fmt.whole_percent(c.thresholds.get("on_time_rate"))
            # capped at chart_max_units: the caption says so, and gives the count section IV gives
            which = (f"{fmt.count(chart_units)} đơn vị có tỷ lệ giải quyết trước và đúng hạn dưới {threshold}"
                     if chart_units == units_below else
                     f"{fmt.count(chart_units)} đơn vị có tỷ lệ giải quyết trước và đúng hạn thấp nhất (trong số "
                     f"{fmt.count(units_below)} đơn vị dưới {threshold})")
            self.image(charts_png["by_unit"], f"Biểu đồ 1. Tỷ lệ giải quyết trước và đúng hạn, tỷ lệ tiếp nhận "
                                              f"trực tuyến của {which}")

        self.subheading("3. Cải cách tổ chức bộ máy")
        self.manual("organisation")
        self.subheading("4. Cải cách chế độ công vụ")
        self.manual("civil_service")
        self.subheading("5. Cải cách tài chính công")
        self.manual("public_finance")

        self.subheading("6. Xây dựng, phát triển chính quyền điện tử, chính quyền số")
        self.para(f"Văn bản đi: {fmt.count(province['docs_outgoing'])} văn bản, trong đó "
                  f"{fmt.count(province['docs_outgoing_electronic'])} văn bản điện tử (tỷ lệ "
                  f"{fmt.percent(province['e_document_rate'])}); tỷ lệ văn bản điện tử ký số "
                  f"{fmt.percent(province['digital_signature_rate'])}; tỷ lệ văn bản do lãnh đạo ký có chữ ký "
                  f"số {fmt.percent(province['leader_signature_rate'])}. Văn bản đến: "
                  f"{fmt.count(province['docs_incoming'])}, trong đó "
                  f"{fmt.count(province['docs_incoming_electronic'])} văn bản điện tử.")
        self.para(f"Số nhiệm vụ được giao đến hạn trong kỳ: {fmt.count(province['tasks_due'])}; hoàn thành "
                  f"đúng hạn {fmt.count(province['tasks_done_on_time'])}, hoàn thành quá hạn "
                  f"{fmt.count(province['tasks_done_late'])} (tỷ lệ đúng hạn "
                  f"{fmt.percent(province['task_on_time_rate'])}); quá hạn chưa hoàn thành tại thời điểm "
                  f"chốt số liệu: {fmt.count(province['tasks_overdue_at_period_end'])}.")
        rows = []
        for column, target in c.targets.items():
            value = province.get(column)
            reached = "–" if value is None else ("Đạt" if value >= target else "Chưa đạt")
            rows.append([TARGET_LABELS.get(column, column), fmt.percent(value), fmt.whole_percent(target), reached])
        self.para("Kết quả so với mục tiêu quốc gia đến năm 2030:", keep_with_next=True)
        self.simple_table(["Chỉ tiêu", "Kết quả kỳ này", "Mục tiêu 2030", "Đánh giá"], rows, [7.6, 2.8, 2.8, 2.8])
        if "trend" in charts_png:
            self.image(charts_png["trend"], "Biểu đồ 2. Diễn biến các tỷ lệ của toàn tỉnh qua các kỳ báo cáo")

    def late_by_field_and_procedure(self, count: int = 5) -> None:
        """The fields and procedures with the most late dossiers, province-wide: count, share of the province's
        late dossiers, share of their own work, and how many have no apology letter (the full lists: annex II)."""
        d = self.data
        total = d.province[d.key].get("late_total")
        if not total:
            return
        header = ["Số hồ sơ trễ hạn", "Tỷ trọng trong tổng số trễ hạn", "Tỷ lệ trễ hạn của lĩnh vực",
                  "Chưa có văn bản xin lỗi"]
        for rows, what, name, label in (
                (d.late_by_field, "lĩnh vực", lambda r: r["field_name"] or r["field_code"], "Lĩnh vực"),
                (d.late_by_procedure, "thủ tục", lambda r: f"{r['procedure_name'] or r['procedure_code']} "
                                                         f"({r['field_name'] or r['field_code']})",
                 "Thủ tục hành chính (lĩnh vực)")):
            if rows is None:
                continue
            late = [r for r in rows if r["late_total"]]
            shown = late[:count]
            others = len(late) - len(shown)
            self.para(f"Hồ sơ trễ hạn theo {what} ({fmt.count(len(late))} {what} có hồ sơ trễ hạn"
                      + (f"; {fmt.count(len(shown))} {what} có nhiều hồ sơ trễ hạn nhất" if others else "")
                      + "):", keep_with_next=True)
            self.simple_table([label, header[0], header[1], header[2].replace("lĩnh vực", what), header[3]],
                              [[name(r), fmt.count(r["late_total"]), fmt.percent(r["late_share"]),
                                fmt.percent(r["late_rate"]), fmt.count(r["late_without_apology"])] for r in shown],
                              [7.4, 2.1, 2.3, 2.1, 2.1])
        self.note("Tỷ trọng: trên tổng số hồ sơ trễ hạn của tỉnh; tỷ lệ trễ hạn: trên số hồ sơ đã và đang giải quyết "
                  "của lĩnh vực, thủ tục. Danh sách đầy đủ các lĩnh vực, thủ tục tại Phụ lục II.")

    def most_late(self, count: int = 5) -> None:
        """The units with the most late dossiers: count and share of the province's late dossiers."""
        d = self.data
        total = d.province[d.key].get("late_total")
        units = sorted((u for u in d.procedure_units if u.get("late_total")),
                       key=lambda u: (-u["late_total"], u["unit_code"]))[:count]
        if not total or not units:
            return
        listed = "; ".join(f"{short_name(u['unit_name'])} {fmt.count(u['late_total'])} hồ sơ "
                           f"({fmt.percent(Decimal(u['late_total']) / Decimal(total))})" for u in units)
        self.para(f"Các đơn vị có nhiều hồ sơ trễ hạn nhất (số hồ sơ, tỷ trọng trong tổng số hồ sơ trễ hạn của tỉnh): "
                  f"{listed}.")

    # III.
    def _changes(self) -> tuple[list[str], list[str]]:
        """The headline rates that rose and fell against the first compared period, with figures."""
        d = self.data
        periods = compared_periods(d)
        key, label = periods[-1]  # same period last year where there is one: the seasonal comparison
        other = d.province.get(key)
        better, worse = [], []
        if not other:
            return better, worse
        for column, name in DOSSIER_RATES:
            change = difference(d.province[d.key][column], other[column])
            if change is None or change == 0:
                continue
            text = (f"{name[0].lower()}{name[1:]} {fmt.percent(d.province[d.key][column])} "
                    f"({fmt.points(change)} điểm\u00a0% so với {label.lower()})")
            (better if change > 0 else worse).append(text)
        return better, worse

    def section_assessment(self) -> None:
        d, c = self.data, self.config
        self.heading("Đánh giá chung")
        better, worse = self._changes()
        self.subheading("1. Ưu điểm")
        if better:
            self.para("Các tỷ lệ tăng: " + "; ".join(better) + ".")
        reached = [TARGET_LABELS.get(k, k).lower() for k, t in c.targets.items()
                   if d.province[d.key].get(k) is not None and d.province[d.key][k] >= t]
        if reached:
            self.para("Đã đạt mục tiêu năm 2030: " + ", ".join(reached) + ".")
        self.subheading("2. Hạn chế và nguyên nhân")
        if worse:
            self.para("Các tỷ lệ giảm: " + "; ".join(worse) + ".")
        missed = [f"{TARGET_LABELS.get(k, k).lower()} {fmt.percent(d.province[d.key].get(k))} (mục tiêu "
                  f"{fmt.whole_percent(t)})" for k, t in c.targets.items()
                  if d.province[d.key].get(k) is not None and d.province[d.key][k] < t]
        if missed:
            self.para("Chưa đạt mục tiêu năm 2030: " + "; ".join(missed) + ".")
        self.rankings()
        self.para(f"Các đơn vị có kết quả thấp nhất theo từng chỉ tiêu (chỉ xét đơn vị có từ "
                  f"{fmt.count(c.min_dossiers)} hồ sơ trở lên tính vào tỷ lệ):", keep_with_next=True)
        rows = []
        for column, label, denominator in HEADLINE_KPIS:
            for unit in ranked(d, column, c.min_dossiers)[:c.weakest_count]:
                merged = merged_label(d, unit["unit_code"])
                name = short_name(unit["unit_name"]) + (f" ({merged})" if merged else "")
                # a unit merged away has no series of its own: its successor's figures are not its own
                previous = {} if merged else d.restated.get((d.previous_key, unit["current_unit_code"]), {})
                rows.append([name, label, fmt.count(unit[denominator]), fmt.percent(unit[column]),
                             fmt.percent(previous.get(column))])
        if rows:
            # "Năm trước" in the annual report, as in the rates table: its previous period is the year before
            before = "Năm trước" if d.previous_key and d.previous_key == d.last_year_key else "Kỳ trước"
            self.simple_table(["Đơn vị", "Chỉ tiêu", "Số hồ sơ", "Kỳ này", f"{before} (*)"], rows,
                              [5.0, 4.4, 2.0, 2.3, 2.3])
            self.note(f"(*) {before} tính lại theo đơn vị hiện nay (gồm cả số liệu của các đơn vị đã hợp nhất vào); "
                      "đơn vị đã hợp nhất vào đơn vị khác không so sánh (–).")
        else:
            self.para(f"Không có đơn vị nào đủ {fmt.count(c.min_dossiers)} hồ sơ để xếp hạng.")
        flagged = [u for u in d.units if u.get("missing_evidence")]
        if flagged:
            scored = d.is_annual  # the annual mart has the scores
            rows = []
            for unit in flagged:
                row = [short_name(unit["unit_name"]), fmt.count(unit["evidence_gap_count"])]
                if scored:
                    row += [fmt.number(unit.get("par_self_score")), fmt.number(unit.get("par_points_at_risk"))]
                rows.append(row)
            header = ["Đơn vị", "Số nội dung thiếu minh chứng"]
            widths = [9.0, 7.0]
            if scored:
                header += ["Điểm tự chấm", "Điểm tự chấm chưa có minh chứng"]
                widths = [6.0, 3.4, 3.2, 3.4]
            self.para("Các đơn vị bị đánh dấu thiếu tài liệu kiểm chứng (kể cả không gửi báo cáo; điểm là điểm "
                      "tự chấm của đơn vị, chưa phải điểm thẩm định):", keep_with_next=True)
            self.simple_table(header, rows, widths)
        else:
            self.para("Không có đơn vị bị đánh dấu thiếu tài liệu kiểm chứng.")
        self.manual("causes")

    def rankings(self, count: int = 5) -> None:
        """The departments and the communes with the best and the weakest on-time rate (the minimum-dossier
        rule applies; units that no longer exist at the end of the period are not ranked)."""
        d, c = self.data, self.config
        for level, label in (("department", "Các sở, ban, ngành"), ("commune", "Các xã, phường, đặc khu")):
            units = [u for u in ranked(d, "on_time_rate", c.min_dossiers)
                     if u["unit_level"] == level and u["unit_code"] in d.existing_at_end]
            if len(units) < 2:
                continue
            shown = min(count, len(units) // 2)

            def listed(group):
                return ", ".join(f"{short_name(u['unit_name'])} ({fmt.percent(u['on_time_rate'])})" for u in group)

            self.para(f"{label} ({fmt.count(len(units))} đơn vị được xếp hạng) — tỷ lệ giải quyết trước và đúng hạn "
                      f"cao nhất: {listed(units[::-1][:shown])}; thấp nhất: {listed(units[:shown])}.")

    # IV.
    def section_direction_next(self) -> None:
        d, c = self.data, self.config
        self.heading("Phương hướng, nhiệm vụ")
        labels = {rate: label for rate, label, _ in HEADLINE_KPIS}
        number = 0
        # the thresholds are this office's own bar for the next period; the 2030 targets are not (below)
        for column, threshold in c.thresholds.items():
            # only units that still exist can be given next period's tasks
            below = [u for u in ranked(d, column, c.min_dossiers)
                     if u[column] < threshold and u["unit_code"] in d.existing_at_end]
            if not below:
                continue
            number += 1
            names = ", ".join(short_name(u["unit_name"]) for u in below[:10])
            more = f" và {fmt.count(len(below) - 10)} đơn vị khác" if len(below) > 10 else ""
            self.para(f"{number}. Nâng tỷ lệ {labels.get(column, column)} lên tối thiểu "
                      f"{fmt.whole_percent(threshold)}: {fmt.count(len(below))} đơn vị chưa đạt ({names}{more}).")
        missed = [f"{TARGET_LABELS.get(k, k).lower()} {fmt.whole_percent(t)}" for k, t in c.targets.items()
                  if d.province[d.key].get(k) is None or d.province[d.key][k] < t]
        if missed:
            number += 1
            self.para(f"{number}. Tiếp tục thực hiện lộ trình đạt các mục tiêu đến năm 2030: "
                      + "; ".join(missed) + ".")
        number += 1
        self.para(f"{number}. Các đơn vị chấn chỉnh việc giải quyết hồ sơ quá hạn, thực hiện xin lỗi người dân, "
                  f"doanh nghiệp đối với hồ sơ trễ hạn; gửi báo cáo đúng hạn và cập nhật đầy đủ tài liệu kiểm "
                  f"chứng theo quy định.")

    # V.
    def section_proposals(self) -> None:
        self.heading("Đề xuất, kiến nghị")
        self.manual("proposals")

    def build(self) -> bytes:
        d, c = self.data, self.config
        page_setup(self.doc, c, self.report_date, subject(d), f"{d.key} ({self.edition})",
                   f"reformwh; {d.key}; {self.edition}", f"data as of {d.data_as_of}")
        self.letterhead()
        self.para(f"Thực hiện chế độ báo cáo công tác cải cách hành chính, {c.issuing_agency_name} "
                  f"báo cáo kết quả thực hiện {d.period_name(d.key)} (số liệu từ "
                  f"{fmt.short_date(d.period['start_date'])} đến {fmt.short_date(d.period['end_date'])}, cập nhật "
                  f"đến {_when(d.data_as_of)}) như sau:")
        png = {}
        threshold = c.thresholds.get("on_time_rate")
        # the units section IV asks to improve: below the threshold and still existing at the end of the period
        # (a unit merged away has no next period; the weakest-units table names it as merged)
        all_below = [u for u in ranked(d, "on_time_rate", c.min_dossiers)
                     if (threshold is None or u["on_time_rate"] < threshold) and u["unit_code"] in d.existing_at_end]
        below = all_below[:c.chart_max_units]
        if below or len(d.trend) > 1:
            from reporting import charts  # matplotlib costs a second to import: only when a chart is drawn

            if below:
                png["by_unit"] = charts.rates_by_unit(below, f"Các đơn vị dưới {fmt.whole_percent(threshold)}, "
                                                             f"{d.period_name(d.key)}")
            if len(d.trend) > 1:
                png["trend"] = charts.trend(d.trend, [d.period_name(r["period_key"]) for r in d.trend],
                                            "Toàn tỉnh qua các kỳ")
        self.section_direction()
        self.section_results(png, len(below), len(all_below))
        self.section_assessment()
        self.section_direction_next()
        self.section_proposals()
        self.para(f"Các phụ lục số liệu chi tiết ({annex_range(d)}) gửi kèm theo báo cáo này (tệp XLSX).",
                  italic=True, keep_with_next=True)
        self.para(f"Trên đây là báo cáo kết quả thực hiện công tác cải cách hành chính {d.period_name(d.key)} "
                  f"của {c.issuing_agency_name}./.", keep_with_next=True)
        signature_block(self.doc, c, c.recipients)
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

"""The periodic report (spec/reports.md): generated from a built sample warehouse, then opened with
python-docx and openpyxl and checked against the marts (figures) and Nghị định 30/2020 (format).

Data: the sample generator at scale 0.1 (the sample province, 2024–2025, newest extraction 20/12/2025).
2025-Q1 is the period under test: four departments merged on 01/03/2025, within it (Sở Lao động -
Thương binh và Xã hội into Sở Nội vụ, …), so the as-was mart still has their rows and the comparisons
carry the merger footnote."""

from __future__ import annotations

import hashlib
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from openpyxl import load_workbook

from reformwh import formatting as fmt
from reformwh import pipeline
from reporting import ReportError, generate
from reporting.config import load_config
from reporting.content import short_name
from reporting.data import latest_reportable_period
from reporting.xlsx_annexes import TITLE_ROWS
from tests.conftest import fresh_database, query

PERIOD = "2025-Q1"
OFFICE = shutil.which("soffice") or shutil.which("libreoffice")
REPORT_DATE = date(2026, 1, 5)
TP, NV, LD, YT, CT = "000.00.16.H99", "000.00.09.H99", "000.00.07.H99", "000.00.17.H99", "000.00.02.H99"
CONFIG = load_config(environ={"REFORMWH_REPORT_MIN_DOSSIERS": "10"})


@pytest.fixture(scope="module")
def built(server_url, tmp_path_factory):
    from reformwh.samples import write_samples

    tmp = tmp_path_factory.mktemp("report")
    settings = fresh_database(server_url, tmp)
    write_samples(tmp / "samples", scale=0.1)
    for source in ("one_stop_shop", "document_management", "self_reports"):
        pipeline.ingest(settings, source, [tmp / "samples" / source])
    assert pipeline.build(settings, progress=lambda _: None, quiet=True)
    return settings


DRAWN: dict[str, list] = {}    # what the report fixture's by-unit chart was drawn from
GENERATION_CPU: dict[str, float] = {}  # CPU seconds of this process generating a report (annual fixture)


@pytest.fixture(scope="module")
def report(built, tmp_path_factory):
    """The quarter's report (final edition). One generation serves every test of it, the chart's too: the units
    the by-unit chart is drawn from are kept in DRAWN."""
    from reporting import charts

    original = charts.rates_by_unit

    def spy(units, title):
        DRAWN["units"] = units
        return original(units, title)

    out = tmp_path_factory.mktemp("out")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(charts, "rates_by_unit", spy)
        result = generate(built.database_url, PERIOD, out, "final", report_date=REPORT_DATE, config=CONFIG,
                          pdf=False)
    docx = Document(str(result.files[0]))
    xlsx = load_workbook(result.files[1])
    return result, docx, xlsx


@pytest.fixture(scope="module")
def annual(built, tmp_path_factory):
    """The annual report (final edition), with its PDF where LibreOffice is installed: the report whose
    signature block broke across pages and whose "Kỳ trước" and "Cùng kỳ năm trước" were the same year."""
    import time

    out = tmp_path_factory.mktemp("annual")
    # CPU time of this process (the report's own work; LibreOffice is a child process and not counted): wall
    # time on a shared machine measures the neighbours
    started = time.process_time()
    result = generate(built.database_url, "2025-Y", out, "final", report_date=REPORT_DATE, config=CONFIG,
                      pdf=bool(OFFICE))
    GENERATION_CPU["2025-Y"] = time.process_time() - started
    return result, Document(str(result.files[0])), load_workbook(result.files[1])


def texts(doc) -> list[str]:
    """Every paragraph of the body, tables included (cell paragraphs), in document order."""
    return ["".join(t.text or "" for t in p.iter(qn("w:t"))) for p in doc.element.body.iter(qn("w:p"))]


def table_starting(doc, first_cell: str):
    found = [t for t in doc.tables if t.cell(0, 0).text == first_cell]
    assert found, first_cell
    return found


def province(settings, period_key):
    rows = query(settings, "select * from marts.reform_province where period_key = %s", [period_key])
    columns = [c for (c,) in query(settings, "select column_name from information_schema.columns where "
                                             "table_schema = 'marts' and table_name = 'reform_province' "
                                             "order by ordinal_position")]
    return dict(zip(columns, rows[0], strict=True))


# --- format (Nghị định 30/2020) ----------------------------------------------------------------------

def test_page_margins_and_fonts(report):
    _, doc, _ = report
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    top, bottom, left, right = (round(m.mm, 1) for m in (section.top_margin, section.bottom_margin,
                                                          section.left_margin, section.right_margin))
    assert 20 <= top <= 25 and 20 <= bottom <= 25 and 30 <= left <= 35 and 15 <= right <= 20
    normal = doc.styles["Normal"]
    assert normal.font.name == "Times New Roman"
    assert normal.element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "Times New Roman"
    fonts = {f.get(qn("w:ascii")) for f in doc.element.body.iter(qn("w:rFonts"))}
    assert fonts == {"Times New Roman"}
    intro = next(p for p in doc.paragraphs if p.text.startswith("Thực hiện chế độ báo cáo"))
    assert intro.alignment == WD_ALIGN_PARAGRAPH.JUSTIFY
    assert intro.paragraph_format.first_line_indent.cm >= 1
    assert all(13 <= r.font.size.pt <= 14 for r in intro.runs)


def test_letterhead_title_and_date_line(report):
    _, doc, _ = report
    head = doc.tables[0]
    assert head.style is None or head.style.name == "Normal Table"  # borderless
    left = [p for p in head.cell(0, 0).paragraphs if p.text]
    assert [p.text for p in left] == ["UBND TỈNH SƠN HÀ", "SỞ NỘI VỤ"]
    assert not left[0].runs[0].bold and left[1].runs[0].bold
    rules = [p for p in head.cell(0, 0).paragraphs if p._p.find(f".//{qn('w:pBdr')}/{qn('w:bottom')}") is not None]
    assert len(rules) == 1 and rules[0].paragraph_format.left_indent.cm > 1  # a short rule below the agency
    right = [p for p in head.cell(0, 1).paragraphs if p.text]
    assert [p.text for p in right] == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
    assert right[0].runs[0].bold and right[1].runs[0].bold and right[1].runs[0].underline
    number = head.cell(1, 0).text
    assert number.startswith("Số:") and number.endswith("/BC-SNV")
    date_line = head.cell(1, 1).paragraphs[0]
    assert date_line.text == "Sơn Hà, ngày 05 tháng 01 năm 2026"
    assert all(r.italic for r in date_line.runs)
    body = doc.paragraphs
    title = next(i for i, p in enumerate(body) if p.text == "BÁO CÁO")
    assert body[title].alignment == WD_ALIGN_PARAGRAPH.CENTER and body[title].runs[0].bold
    assert body[title + 1].text == "Kết quả thực hiện công tác cải cách hành chính quý I năm 2025"
    assert body[title + 1].runs[0].bold
    headings = [p for p in body if p.text[:4] in ("I. C", "II. ", "III.", "IV. ", "V. Đ")]
    # the ministry's outline of a provincial CCHC report
    assert [p.text for p in headings] == ["I. CÔNG TÁC CHỈ ĐẠO, ĐIỀU HÀNH", "II. KẾT QUẢ TRÊN CÁC LĨNH VỰC",
                                          "III. ĐÁNH GIÁ CHUNG", "IV. PHƯƠNG HƯỚNG, NHIỆM VỤ",
                                          "V. ĐỀ XUẤT, KIẾN NGHỊ"]
    assert all(r.bold for p in headings for r in p.runs)


def test_page_numbers_from_page_two(report):
    _, doc, _ = report
    section = doc.sections[0]
    assert section.different_first_page_header_footer
    header = section.header.paragraphs[0]
    assert header.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert [i.text.strip() for i in header._p.iter(qn("w:instrText"))] == ["PAGE"]
    assert not list(section.first_page_header._element.iter(qn("w:instrText")))


def test_signature_and_recipients(report):
    _, doc, _ = report
    block = doc.tables[-1]
    recipients = [p.text for p in block.cell(0, 0).paragraphs]
    assert recipients[0] == "Nơi nhận:"
    assert recipients[1:] == [f"- {r};" for r in CONFIG.recipients[:-1]] + [f"- {CONFIG.recipients[-1]}."]
    assert recipients[-1] == "- Lưu: VT, CCHC."
    signer = [p.text for p in block.cell(0, 1).paragraphs if p.text]
    assert signer == ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Trần Văn Bình"]
    assert len(doc.inline_shapes) == 2  # the by-unit chart and the trend chart


# --- figures against the marts -----------------------------------------------------------------------

def test_form_ii06a_is_the_province_mart(report, built):
    _, doc, _ = report
    p = province(built, PERIOD)
    form = table_starting(doc, "Cấp")[0]
    assert [c.text for c in form.rows[3].cells] == [f"({i})" for i in range(1, 13)]
    assert [c.text for c in form.rows[-1].cells] == ["Toàn tỉnh"] + [fmt.count(v) for v in (
        p["received_in_period"] + p["carried_over"], p["received_online"], p["received_direct"] + p["received_postal"],
        p["carried_over"], p["resolved_total"], p["resolved_ahead"], p["resolved_on_time"], p["resolved_late"],
        p["in_progress_total"], p["in_progress_on_time"], p["in_progress_overdue"])]
    assert p["received_in_period"] > 100  # a real period, not an empty one
    header = {c.text for row in form.rows[:3] for c in row.cells}
    assert {"Số hồ sơ tiếp nhận", "Số hồ sơ đã giải quyết", "Số hồ sơ đang giải quyết", "Trực tuyến",
            "Trực tiếp, bưu chính",
            "Từ kỳ trước chuyển qua", "Trước hạn", "Đúng hạn", "Quá hạn", "Trong hạn"} <= header


def test_rates_against_previous_period_and_last_year(report, built):
    _, doc, _ = report
    assert query(built, "select previous_period_key from marts.dim_period where period_key = %s",
                 [PERIOD]) == [("2024-Q4",)]
    now, previous, last_year = province(built, PERIOD), province(built, "2024-Q4"), province(built, "2024-Q1")
    rates = next(t for t in table_starting(doc, "Chỉ tiêu") if t.cell(0, 1).text == "Kỳ này")
    rows = {r.cells[0].text: [c.text for c in r.cells[1:]] for r in rates.rows[1:]}
    on_time = rows["Tỷ lệ hồ sơ giải quyết trước và đúng hạn"]
    printed = [fmt.percent(x["on_time_rate"]) for x in (now, previous, last_year)]
    assert on_time[:3] == printed
    # the differences are those of the printed rates, e.g. 92,75% − 94,14% = −1,39 (not −1,40 unrounded)
    as_printed = [Decimal(v.rstrip("%").replace(",", ".")) for v in printed]
    assert on_time[3:] == [fmt.points((as_printed[0] - other) / 100) for other in as_printed[1:]]
    assert rows["Tỷ lệ hồ sơ trực tuyến toàn trình"][:3] == [
        fmt.percent(x["online_full_rate"]) for x in (now, previous, last_year)]
    assert "," in on_time[0] and on_time[0].endswith("%")
    targets = next(t for t in table_starting(doc, "Chỉ tiêu") if t.cell(0, 2).text == "Mục tiêu 2030")
    assert [[c.text for c in r.cells] for r in targets.rows[1:]] == [
        ["Dịch vụ công trực tuyến toàn trình", fmt.percent(now["online_full_rate"]), "90%",
         "Đạt" if now["online_full_rate"] >= Decimal("0.9") else "Chưa đạt"],
        ["Số hóa hồ sơ, kết quả giải quyết thủ tục hành chính", fmt.percent(now["digitization_rate"]), "100%",
         "Đạt" if now["digitization_rate"] >= 1 else "Chưa đạt"],
        ["Thanh toán trực tuyến", fmt.percent(now["online_payment_rate"]), "80%",
         "Đạt" if now["online_payment_rate"] >= Decimal("0.8") else "Chưa đạt"]]
    body = "\n".join(texts(doc))
    assert ("Sở Lao động - Thương binh và Xã hội hợp nhất vào Sở Nội vụ từ 01/03/2025") in body
    late = f"Có {fmt.count(now['late_total'])} hồ sơ trễ hạn"
    assert late in body
    assert f"{fmt.count(now['late_total'] - now['late_with_apology'])} hồ sơ trễ hạn chưa có văn bản xin lỗi" in body


def test_weakest_units_are_the_marts_lowest(report, built):
    _, doc, _ = report
    expected = query(built, """select q.unit_name, resolved_total, on_time_rate, q.current_unit_code,
                                      case when u.valid_to < q.period_end then ' (đã hợp nhất vào ' || s.unit_name
                                           || ' từ ' || to_char(u.valid_to + 1, 'DD/MM/YYYY') || ')' end
                               from marts.reform_quarter q
                               join marts.dim_unit u on u.unit_code = q.unit_code and u.is_current_version
                               left join marts.dim_unit s on s.unit_code = u.successor_code and s.is_current_version
                               where period_key = %s and resolved_total >= 10
                               and on_time_rate is not null order by on_time_rate, q.unit_code limit 5""", [PERIOD])
    assert len(expected) == 5
    weakest = next(t for t in table_starting(doc, "Đơn vị") if t.cell(0, 1).text == "Chỉ tiêu")
    listed = [[c.text for c in r.cells] for r in weakest.rows[1:] if r.cells[1].text == "giải quyết trước và đúng hạn"]
    previous = dict(query(built, "select unit_code, on_time_rate from marts.reform_quarter_restated "
                                 "where period_key = '2024-Q4'"))
    # a unit merged away is named as such and not compared with its successor's figures
    assert listed == [[name.removeprefix("UBND ") + (merged or ""), "giải quyết trước và đúng hạn", fmt.count(count),
                       fmt.percent(rate), "–" if merged else fmt.percent(previous.get(current))]
                      for name, count, rate, current, merged in expected]
    assert "chỉ xét đơn vị có từ 10 hồ sơ" in "\n".join(texts(doc))
    # section IV: the units that still exist and are below the threshold (on time: 95%)
    below = query(built, """select count(*) from marts.reform_quarter q where period_key = %s
                            and resolved_total >= 10 and on_time_rate < 0.95 and exists (
                              select from marts.dim_unit u where u.unit_code = q.unit_code
                              and u.valid_from <= q.period_end
                              and coalesce(u.valid_to, q.period_end) >= q.period_end)""",
                  [PERIOD])[0][0]
    assert below > 0
    assert any(t.startswith(f"1. Nâng tỷ lệ giải quyết trước và đúng hạn lên tối thiểu 95%: {below} đơn vị chưa đạt")
               for t in texts(doc))


def test_document_and_task_sections_are_the_province_mart(report, built):
    _, doc, _ = report
    body = "\n".join(texts(doc))
    p = province(built, PERIOD)
    assert (f"Văn bản đi: {fmt.count(p['docs_outgoing'])} văn bản, trong đó "
            f"{fmt.count(p['docs_outgoing_electronic'])} văn bản điện tử (tỷ lệ {fmt.percent(p['e_document_rate'])})"
            ) in body
    assert p["docs_outgoing"] > 1000  # the sample registers, not an empty mart
    assert (f"Số nhiệm vụ được giao đến hạn trong kỳ: {fmt.count(p['tasks_due'])}; hoàn thành đúng hạn "
            f"{fmt.count(p['tasks_done_on_time'])}, hoàn thành quá hạn {fmt.count(p['tasks_done_late'])}") in body


def annex(sheet) -> tuple[list[str], list[dict]]:
    """An annex sheet as (headers, rows): the header rows sit between the title rows and the frozen panes,
    two-level headers read "group - label"; the rows end at the first empty row (the note follows it)."""
    first_data = int("".join(ch for ch in sheet.freeze_panes if ch.isdigit()))
    values = {}
    for merged in sheet.merged_cells.ranges:
        for row in range(merged.min_row, merged.max_row + 1):
            for column in range(merged.min_col, merged.max_col + 1):
                values[(row, column)] = sheet.cell(merged.min_row, merged.min_col).value
    header = []
    for column in range(1, sheet.max_column + 1):
        parts = []
        for row in range(TITLE_ROWS + 1, first_data):
            value = values.get((row, column), sheet.cell(row, column).value)
            if value and value not in parts:
                parts.append(value)
        header.append(" - ".join(parts))
    rows = []
    for row in sheet.iter_rows(min_row=first_data, values_only=True):
        if all(v is None for v in row):
            break
        rows.append(dict(zip(header, row, strict=True)))
    return header, rows


def test_xlsx_annexes_hold_the_mart_rows(report, built):
    _, _, xlsx = report
    assert xlsx.sheetnames == ["Thông tin", "PL I - Mẫu II.06a", "PL II - Theo lĩnh vực",
                               "PL II - Trễ hạn theo lĩnh vực", "PL II - Trễ hạn theo thủ tục",
                               "PL III - Văn bản, nhiệm vụ", "PL IV - Thiếu minh chứng", "So sánh (tính lại)",
                               "Đơn vị sắp xếp", "Toàn tỉnh"]
    _, merged_rows = annex(xlsx["Đơn vị sắp xếp"])
    merged = {r["Mã đơn vị"]: r["Mã đơn vị tiếp nhận"] for r in merged_rows}
    assert merged[LD] == NV and len(merged) == query(
        built, "select count(*) from marts.dim_unit where successor_code is not null "
               "and valid_to between '2023-12-15' and '2025-03-14'")[0][0]
    sheet = xlsx["PL I - Mẫu II.06a"]
    assert sheet.freeze_panes == f"D{TITLE_ROWS + 3}"  # two header rows; level, code and name stay in view
    header, table = annex(sheet)
    assert header[:5] == ["Cấp", "Mã đơn vị", "Tên đơn vị", "Số hồ sơ tiếp nhận - Tổng số",
                          "Số hồ sơ tiếp nhận - Trực tuyến"]
    rows = {r["Mã đơn vị"]: r for r in table if r["Mã đơn vị"]}
    marts = query(built, """select unit_code, received_in_period + carried_over, resolved_late, in_progress_overdue,
                                   on_time_rate, online_full_rate
                            from marts.reform_quarter where period_key = %s and received_in_period is not null""",
                  [PERIOD])
    assert {code for code, *_ in marts} == set(rows)
    for code, received, late, overdue, on_time, online_full in marts:
        row = rows[code]
        assert (row["Số hồ sơ tiếp nhận - Tổng số"], row["Số hồ sơ đã giải quyết - Quá hạn"],
                row["Số hồ sơ đang giải quyết - Quá hạn"]) == (received, late, overdue), code
        assert row["Tỷ lệ - hồ sơ giải quyết trước và đúng hạn"] == pytest.approx(on_time and float(on_time)), code
        assert row["Tỷ lệ - hồ sơ trực tuyến toàn trình"] == pytest.approx(online_full and float(online_full)), code
    assert rows[LD]["Tên đơn vị"] == "Sở Lao động - Thương binh và Xã hội"  # merged on 01/03: as was in Q1
    assert rows[LD]["Cấp"] == "Sở, ban, ngành" and rows[TP]["Cấp"]
    p = province(built, PERIOD)
    total = [r for r in table if r["Tên đơn vị"] == "Toàn tỉnh"]
    assert (total[0]["Số hồ sơ tiếp nhận - Tổng số"], total[0]["Số hồ sơ tiếp nhận - Trực tuyến"]) == (
        p["received_in_period"] + p["carried_over"], p["received_online"])
    first = list(sheet[TITLE_ROWS + 3])
    assert first[3].number_format == "#,##0" and first[header.index("Tỷ lệ - số hóa hồ sơ")].number_format == "0.00%"

    _, by_field = annex(xlsx["PL II - Theo lĩnh vực"])
    assert len(by_field) == query(built, "select count(*) from marts.dossier_by_field where period_key = %s",
                                  [PERIOD])[0][0]
    header, compared = annex(xlsx["So sánh (tính lại)"])
    nv = next(r for r in compared if r["Mã đơn vị"] == NV)
    restated = dict(query(built, "select period_key, on_time_rate from marts.reform_quarter_restated "
                                 "where unit_code = %s and period_key in ('2025-Q1', '2024-Q4', '2024-Q1')", [NV]))
    assert nv["Tỷ lệ trước và đúng hạn - quý I năm 2025"] == pytest.approx(float(restated["2025-Q1"]))
    assert nv["Tỷ lệ trước và đúng hạn - quý IV năm 2024"] == pytest.approx(float(restated["2024-Q4"]))
    assert nv["Tỷ lệ trước và đúng hạn - quý I năm 2024"] == pytest.approx(float(restated["2024-Q1"]))


def test_annexes_titles_names_headers_and_print_setup(report, annual):
    """Every annex sheet: its title rows, unit names and levels where a unit is named, Vietnamese headers
    once each, and a print set-up that fits the page width in landscape with the headers repeated."""
    _, _, xlsx = report
    annual_xlsx = annual[2]
    for workbook, annexes in ((xlsx, "IV"), (annual_xlsx, "V")):
        annex_sheets = [n for n in workbook.sheetnames if n.startswith("PL ")]
        # each annex in order, annex II on three sheets (by unit and field; late dossiers by field, by procedure)
        numbers = [n.split(" ")[1] for n in annex_sheets]
        assert list(dict.fromkeys(numbers)) == ["I", "II", "III", "IV", "V"][:len(set(numbers))]
        assert numbers.count("II") == 3
        for number, title in zip(numbers, annex_sheets, strict=True):
            sheet = workbook[title]
            assert sheet["A1"].value == f"Phụ lục {number}", title
            assert sheet["A2"].value and sheet["A2"].value.isupper()
            assert sheet["A3"].value == ("(Kèm theo Báo cáo số       /BC-SNV " + fmt.document_date(REPORT_DATE)
                                         + " của Sở Nội vụ)")
        assert [n for n in workbook.sheetnames if n.startswith("PL ")][-1].startswith(f"PL {annexes} ")
        for sheet in workbook.worksheets[1:]:
            assert sheet.page_setup.orientation == "landscape", sheet.title
            assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0), sheet.title
            assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
            # fitted to the width, the sheet still prints readably (11 pt text no smaller than ~7.7 pt): a column
            # width unit is ~5.25 pt; landscape A4 leaves 784 pt between the 0.4" margins, A3 1133 pt. Form II.06a
            # with its rates (22 columns) printed at 46% of its size on A4: it goes on A3
            paper = {9: 842, 8: 1191}[int(sheet.page_setup.paperSize)] - 2 * 0.4 * 72  # A4, A3 (OOXML paper codes)
            width = _sheet_width(sheet)
            assert paper / (width * 5.25) >= 0.7, (sheet.title, sheet.page_setup.paperSize, width)
            if int(sheet.page_setup.paperSize) == 8:  # A3 only where A4 would be too small
                assert 784 / (width * 5.25) < 0.72, sheet.title
            if sheet["A5"].value == "chưa có số liệu":
                continue
            header, rows = annex(sheet)
            assert (sheet.print_title_rows or "").replace("$", "").startswith(f"{TITLE_ROWS + 1}:"), sheet.title
            assert len(header) == len(set(header)), (sheet.title, header)  # no column twice
            assert not [h for h in header if "_" in h or h.isascii() and h.islower()], (sheet.title, header)
            for row in rows:
                if "Tên đơn vị" in row and row.get("Mã đơn vị"):
                    assert row["Tên đơn vị"] and row["Tên đơn vị"] != row["Mã đơn vị"], (sheet.title, row)
                if "Cấp" in row and row.get("Mã đơn vị"):
                    assert row["Cấp"] in ("Cấp tỉnh", "Sở, ban, ngành", "Cấp huyện", "Cấp xã"), (sheet.title, row)


def _sheet_width(sheet) -> float:
    """The sheet's columns' widths added up (a saved workbook keeps adjacent columns of one width as one range)."""
    widths = {}
    for dimension in sheet.column_dimensions.values():
        for column in range(dimension.min or 1, (dimension.max or dimension.min or 1) + 1):
            widths[column] = dimension.width
    return sum(widths.get(column) or 8.43 for column in range(1, sheet.max_column + 1))  # 8.43: Excel's default


def test_evidence_annex_in_vietnamese(report, annual, built):
    _, _, xlsx = report
    header, rows = annex(xlsx["PL IV - Thiếu minh chứng"])
    assert len(rows) == query(built, "select count(*) from marts.evidence_gaps where period_key = %s",
                              [PERIOD])[0][0]
    assert header == ["Cấp", "Mã đơn vị", "Tên đơn vị", "Tiêu chí, chỉ số", "Loại thiếu sót", "Tài liệu kiểm chứng",
                      "Chi tiết", "Giải trình của đơn vị"]
    codes = {t for (t,) in query(built, "select distinct gap_type from marts.evidence_gaps")}
    kinds = {r["Loại thiếu sót"] for r in rows}
    assert kinds and not kinds & codes and {"không gửi báo cáo", "gửi báo cáo trễ hạn"} <= kinds
    # a self-assessed score outside its criterion's range, quoted from the loader's reason, in Vietnamese (scores
    # are the annual self-report's: the annual annex IV has them)
    _, annual_rows = annex(annual[2]["PL IV - Thiếu minh chứng"])
    scores = [r for r in annual_rows if r["Loại thiếu sót"] == "điểm tự chấm không hợp lệ"]
    assert scores and all("ngoài thang điểm của tiêu chí" in r["Chi tiết"] and "outside" not in r["Chi tiết"]
                          for r in scores)
    # every criterion and indicator is named as in the catalog the submission was judged against, with its code
    named = dict(query(built, """select gap_id, coalesce('Tiêu chí ' || criterion_code || ' (' || criterion_name || ')',
                                                       'Chỉ số ' || indicator_code || ' (' || indicator_name || ')',
                                                       'Báo cáo')
                                  from marts.evidence_gaps where period_key = %s order by unit_code, gap_type, 1""",
                       [PERIOD]))
    assert sorted(r["Tiêu chí, chỉ số"] for r in rows) == sorted(named.values())
    assert query(built, "select count(*) from marts.evidence_gaps where (criterion_code is not null and criterion_name "
                        "is null) or (indicator_code is not null and indicator_name is null)") == [(0,)]
    # a quarter's gaps are indicators' (criteria are scored in the annual self-report): named too
    assert any(r["Tiêu chí, chỉ số"].startswith(("Tiêu chí ", "Chỉ số ")) and " (" in r["Tiêu chí, chỉ số"]
               for r in rows)
    files = [r for r in rows if r["Loại thiếu sót"] == "tệp không có trong hồ sơ"]
    assert files and all(r["Tài liệu kiểm chứng"] and r["Tài liệu kiểm chứng"] in r["Chi tiết"] for r in files)
    merged = [r for r in rows if r["Mã đơn vị"] not in {c for (c,) in query(
        built, "select unit_code from marts.dim_unit where valid_to is null or valid_to >= '2025-03-14'")}]
    assert all("đã hợp nhất vào" in r["Tên đơn vị"] or "đã giải thể" in r["Tên đơn vị"] for r in merged)


# --- record and regeneration -------------------------------------------------------------------------

def test_run_recorded_with_files_and_frozen_figures(report, built):
    result, _, _ = report
    run = query(built, "select period_key, calendar, edition, report_date, data_as_of, files, figures_sha256 "
                       "from reports.report_runs where run_id = %s", [result.run_id])[0]
    assert run[:5] == (PERIOD, "official", "final", REPORT_DATE, province(built, PERIOD)["data_as_of"])
    assert run[5] == [{"file": p.name, "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
                       "bytes": p.stat().st_size} for p in result.files]
    assert run[6] == result.figures_sha256
    frozen = dict(query(built, "select mart, count(*) from reports.published_figures where run_id = %s group by mart",
                        [result.run_id]))
    assert frozen["reform_quarter"] == query(built, "select count(*) from marts.reform_quarter "
                                                    "where period_key = %s", [PERIOD])[0][0]
    assert frozen["dossier_by_field"] > 0 and frozen["reform_quarter_restated"] > 0
    figures = query(built, "select figures from reports.published_figures where run_id = %s "
                           "and mart = 'reform_province' and row_key = %s", [result.run_id, PERIOD])[0][0]
    assert figures["received_in_period"] == province(built, PERIOD)["received_in_period"]


def test_regenerating_from_the_same_data_gives_the_same_report(report, built, tmp_path):
    first, first_doc, first_xlsx = report
    assert pipeline.build(built, progress=lambda _: None, quiet=True)  # marts rebuilt, same data
    files = pipeline.report(built, PERIOD, tmp_path, "final", report_date=REPORT_DATE, config=CONFIG)
    again = Document(str(files[0]))
    assert texts(again) == texts(first_doc)
    workbook = load_workbook(files[1])
    for sheet in first_xlsx.sheetnames:
        assert list(workbook[sheet].values) == list(first_xlsx[sheet].values), sheet
    # deterministic files: fixed ZIP times and core properties
    assert [hashlib.sha256(p.read_bytes()).digest() for p in files[:2]] == \
           [hashlib.sha256(p.read_bytes()).digest() for p in first.files[:2]]
    runs = query(built, "select figures_sha256 from reports.report_runs where period_key = %s order by run_id",
                 [PERIOD])
    assert len(runs) >= 2 and {r for (r,) in runs} == {first.figures_sha256}
    # the build replaced the marts; the comparison view still works and finds nothing changed
    assert query(built, "select count(*) from reports.published_figures_changed") == [(0,)]


def test_changed_marts_show_in_the_published_figures_view(report, built):
    result, _, _ = report
    with psycopg.connect(built.database_url) as conn, conn.transaction(force_rollback=True):
        received = conn.execute("update marts.reform_quarter set received_in_period = received_in_period + 1 "
                                "where period_key = %s and unit_code = %s returning received_in_period - 1",
                                [PERIOD, TP]).fetchone()[0]
        changed = conn.execute("select column_name, published_value, current_value from "
                               "reports.published_figures_changed where run_id = %s", [result.run_id]).fetchall()
    assert changed == [("received_in_period", received, received + 1)]


# --- self-report sections, on a stand-in for the columns another branch builds ------------------------

def test_self_report_sections_are_the_marts(report, built):
    """Section I (report statuses, flagged units), the flagged-units table of section III and annex IV carry
    the self-report columns of reform_quarter and the evidence_gaps mart as built from the sample reports."""
    _, doc, xlsx = report
    body = "\n".join(texts(doc))
    statuses = dict(query(built, "select report_status, count(*) from marts.reform_quarter where period_key = %s "
                                 "and report_status <> 'not_required' group by 1", [PERIOD]))
    assert statuses.get("on_time", 0) > 50 and statuses.get("missing", 0) > 0
    assert f"{fmt.count(sum(statuses.values()))} đơn vị phải gửi báo cáo" in body
    assert (f"{fmt.count(statuses['on_time'])} đơn vị gửi đúng hạn; {fmt.count(statuses['late'])} đơn vị gửi trễ hạn; "
            f"{fmt.count(statuses['missing'])} đơn vị không gửi báo cáo") in body
    missing = [n for (n,) in query(built, "select unit_name from marts.reform_quarter where period_key = %s and "
                                          "report_status = 'missing' order by unit_level, unit_code", [PERIOD])]
    late = [n for (n,) in query(built, "select unit_name from marts.reform_quarter where period_key = %s and "
                                       "report_status = 'late'", [PERIOD])]
    paragraphs = texts(doc)
    # not sent, sent late and evidence missing are three different things, each with its units
    assert any(t.startswith(f"Không gửi báo cáo ({fmt.count(len(missing))} đơn vị): ") for t in paragraphs)
    assert any(t.startswith(f"Gửi báo cáo trễ hạn ({fmt.count(len(late))} đơn vị): ") for t in paragraphs)
    evidence = query(built, """select unit_code, count(*) from marts.evidence_gaps where period_key = %s
                               and flags_unit and gap_type not in ('REPORT_MISSING', 'REPORT_LATE')
                               group by unit_code""", [PERIOD])
    assert evidence
    assert (f"{fmt.count(len(evidence))} đơn vị chưa cung cấp đầy đủ, hợp lệ tài liệu kiểm chứng "
            f"({fmt.count(sum(n for _, n in evidence))} nội dung") in body
    per_unit = table_starting(doc, "Đơn vị")[0]
    assert per_unit.cell(0, 1).text == "Nội dung thiếu, chưa hợp lệ" and len(per_unit.rows) == len(evidence) + 1
    described = [r.cells[1].text for r in per_unit.rows[1:]]
    assert all(any(kind in text for kind in ("tệp không có", "tệp rỗng", "văn bản không có trong sổ", "không có tài "
               "liệu kiểm chứng", "văn bản ban hành sau ngày gửi báo cáo", "điểm tự chấm")) for text in described)
    assert not any(name in r.cells[0].text for r in per_unit.rows[1:] for name in missing)
    flagged = query(built, "select unit_name, evidence_gap_count from marts.reform_quarter where period_key = %s "
                           "and missing_evidence", [PERIOD])
    table = table_starting(doc, "Đơn vị")[-1]
    assert sorted(tuple(c.text for c in r.cells) for r in table.rows[1:]) == sorted(
        (short_name(name), fmt.count(gaps)) for name, gaps in flagged)


# --- periods, configuration, command line ------------------------------------------------------------

def test_only_reported_official_periods(built, tmp_path):
    for key in ("2025-Q2", "2025-CQ1", "2031-Q1"):
        with pytest.raises(ReportError, match="not a reported period"):
            generate(built.database_url, key, tmp_path, pdf=False)
    with psycopg.connect(built.database_url) as conn:
        assert latest_reportable_period(conn) == "2025-Y"  # data as of 20/12/2025, after the 14/12 cut-off


def test_cli_report_latest(built, tmp_path, monkeypatch, capsys):
    from reformwh.cli import main

    monkeypatch.setenv("REFORMWH_DATABASE_URL", built.database_url)
    monkeypatch.setenv("REFORMWH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("REFORMWH_REPORT_SIGNER_NAME", "Lê Thị Cúc")
    assert main(["report", "latest", "--out", str(tmp_path / "out"), "--date", "2025-12-19"]) == 0
    printed = capsys.readouterr().out
    docx = tmp_path / "out" / "bao-cao-cchc_2025-Y_preliminary.docx"
    assert str(docx) in printed
    doc = Document(str(docx))
    assert "Kết quả thực hiện công tác cải cách hành chính năm 2025" in texts(doc)
    assert "Sơn Hà, ngày 19 tháng 12 năm 2025" in texts(doc)
    assert "Lê Thị Cúc" in [p.text for p in doc.tables[-1].cell(0, 1).paragraphs]
    pdf = docx.with_suffix(".pdf")
    if shutil.which("soffice") or shutil.which("libreoffice"):
        assert pdf.read_bytes().startswith(b"%PDF") and str(pdf) in printed
    else:
        assert not pdf.exists() and "PDF skipped: LibreOffice (soffice) is not installed" in printed
    xlsx = load_workbook(tmp_path / "out" / "bao-cao-cchc_2025-Y_preliminary_phu-luc.xlsx")
    assert "PL V - Điểm tự chấm" in xlsx.sheetnames  # the annual report's self-assessment annex


def test_configuration_file_and_environment(tmp_path):
    custom = tmp_path / "report.toml"
    custom.write_text('parent_agency = "UBND TỈNH HÀ GIANG"\nplace = "Hà Giang"\n[targets]\n'
                      'online_full_rate = 0.85\n', encoding="utf-8")
    config = load_config(environ={"REFORMWH_REPORT_CONFIG": str(custom), "REFORMWH_REPORT_MIN_DOSSIERS": "50",
                                  "REFORMWH_REPORT_RECIPIENTS": "Bộ Nội vụ; Lưu: VT"})
    assert (config.parent_agency, config.place, config.issuing_agency) == ("UBND TỈNH HÀ GIANG", "Hà Giang",
                                                                         "SỞ NỘI VỤ")
    assert config.targets == {"online_full_rate": 0.85, "digitization_rate": 1.0, "online_payment_rate": 0.8}
    assert (config.min_dossiers, config.recipients) == (50, ("Bộ Nội vụ", "Lưu: VT"))
    assert config.sources[1:] == (str(custom), "REFORMWH_REPORT_RECIPIENTS", "REFORMWH_REPORT_MIN_DOSSIERS")
    (tmp_path / "bad.toml").write_text('signer = "x"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="unknown report setting 'signer'"):
        load_config(Path(tmp_path / "bad.toml"), environ={})


def test_vietnamese_formatting():
    assert (fmt.count(14000), fmt.count(1234567), fmt.percent(Decimal("0.50016")), fmt.percent(None)) == \
           ("14.000", "1.234.567", "50,02%", "–")
    assert (fmt.points(Decimal("0.0125")), fmt.points(Decimal("-0.004")), fmt.points(0)) == ("+1,25", "\u22120,40",
                                                                                            "0,00")
    assert (fmt.whole_percent(0.9), fmt.whole_percent(1.0), fmt.whole_percent(0.925)) == ("90%", "100%", "92,5%")
    assert fmt.signed_percent(Decimal("0.1234")) == "+12,3%" and fmt.signed_percent(-0.04) == "\u22124,0%"
    assert fmt.number(Decimal("1234.5")) == "1.234,50"
    assert fmt.document_date(date(2026, 1, 5)) == "ngày 05 tháng 01 năm 2026"
    assert fmt.document_date(date(2026, 2, 28)) == "ngày 28 tháng 02 năm 2026"
    assert fmt.document_date(date(2025, 3, 20)) == "ngày 20 tháng 3 năm 2025"
    assert fmt.document_date(date(2025, 12, 1)) == "ngày 01 tháng 12 năm 2025"
    assert fmt.short_date(date(2025, 3, 1)) == "01/03/2025"


# --- the report DAG's schedule -------------------------------------------------------------------------

def test_reports_due_after_the_cut_off_once_per_edition(built, tmp_path):
    from reporting.schedule import due_reports

    with psycopg.connect(built.database_url, autocommit=True) as conn:
        assert due_reports(conn, date(2025, 6, 14)) == []  # the cut-off day itself has not passed
        # H1 ends 14/06; the units' deadlines (12/06 and 10/06) have passed: both editions are due
        assert due_reports(conn, date(2025, 6, 16)) == [("2025-H1", "preliminary"), ("2025-H1", "final")]
        generate(built.database_url, "2025-H1", tmp_path, "preliminary", config=CONFIG, pdf=False)
        assert due_reports(conn, date(2025, 6, 17)) == [("2025-H1", "final")]
        # a month after the province's deadline (20/06) a missed period is no longer generated
        assert ("2025-H1", "final") not in due_reports(conn, date(2025, 7, 21))


def test_report_dag_on_demand_and_scheduled(built, tmp_path, monkeypatch):
    """The DAG runs for real (dag.test) with a throw-away Airflow metadata database."""
    import importlib.util
    import os
    import subprocess
    import sys

    import pendulum

    root = Path(__file__).resolve().parents[1]
    monkeypatch.setenv("AIRFLOW_HOME", os.environ.get("AIRFLOW_HOME") or str(tmp_path / "airflow"))
    monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", os.environ.get("AIRFLOW__CORE__DAGS_FOLDER") or str(root / "dags"))
    monkeypatch.setenv("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    monkeypatch.setenv("REFORMWH_DATABASE_URL", built.database_url)
    monkeypatch.setenv("REFORMWH_HOME", str(tmp_path / "home"))
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)
    # the DAG's files are checked by name, not the PDFs: no LibreOffice conversion here (the annual fixture's PDF
    # and the CLI test check the conversion), two fewer conversions of a minute's CPU on a shared machine
    import reporting

    monkeypatch.setattr(reporting, "_pdf", lambda docx: (None, "PDF skipped in the DAG test"))

    def fresh_dag():  # dag.test() keeps a run's params on the DAG object
        spec = importlib.util.spec_from_file_location("report_dag", root / "dags" / "report.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.report()

    dag = fresh_dag()
    assert (dag.max_active_runs, dag.catchup, set(dag.tags)) == (1, False, {"reformwh", "report"})
    assert all(t.retries == 2 and t.owner == "data-engineering" and t.on_failure_callback for t in dag.tasks)
    assert dag.test(run_conf={"period_key": "2025-Q3", "edition": "final"}).state == "success"
    # the scheduled run judges what is due on its day (the DAG follows the checked marts, not a logical date):
    # the day after Q3's units' deadlines, as a deployment sets it with REFORMWH_REPORT_STATUS_AS_OF
    monkeypatch.setenv("REFORMWH_REPORT_STATUS_AS_OF", "2025-09-16")
    # and it reports only on marts whose publication passed the quality suites (the quality DAG's run before it)
    assert pipeline.check(built, progress=lambda _: None)
    assert fresh_dag().test(logical_date=pendulum.datetime(2025, 9, 16, tz="Asia/Ho_Chi_Minh")).state == "success"
    letters = sorted(p.name for p in (tmp_path / "home" / "letters").iterdir())
    assert letters == ["cong-van-don-doc_2025-Q3", "danh-sach-don-doc_2025-Q3.xlsx"]  # with the final edition
    runs = query(built, "select edition from reports.report_runs where period_key = '2025-Q3' order by run_id")
    assert runs == [("final",), ("preliminary",)]  # the scheduled run added only the edition not yet made
    assert sorted(p.name for p in (tmp_path / "home" / "reports").iterdir()) == [
        "bao-cao-cchc_2025-Q3_final.docx", "bao-cao-cchc_2025-Q3_final_phu-luc.xlsx",
        "bao-cao-cchc_2025-Q3_preliminary.docx", "bao-cao-cchc_2025-Q3_preliminary_phu-luc.xlsx"]


# --- issue 12: a report the head of the office signs ---------------------------------------------------

def _times_width_pt(text: str, size: float, bold: bool) -> float:
    """The printed width of `text` in Times (the Adobe metrics that ship with matplotlib; Times New Roman has
    the same advance widths); Vietnamese letters measured as their base letter."""
    import os
    import unicodedata

    import matplotlib
    from matplotlib._afm import AFM

    name = "ptmb8a.afm" if bold else "ptmr8a.afm"
    with open(os.path.join(matplotlib.get_data_path(), "fonts", "afm", name), "rb") as fh:
        metrics = AFM(fh)
    base = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return sum(metrics.get_width_char(ord(c)) for c in base if not unicodedata.combining(c)) * size / 1000


def _cell_room_pt(table, cell) -> float:
    margins = table._tbl.tblPr.find(qn("w:tblCellMar"))
    margin = sum(int(m.get(qn("w:w"))) for m in margins) / 20 if margins is not None else 2 * 5.4
    width = cell._tc.tcPr.find(qn("w:tcW"))
    return int(width.get(qn("w:w"))) / 20 - margin


def test_form_ii06a_by_level_and_nothing_wraps(report, annual, built):
    for (_, doc, _), period, mart in ((report, PERIOD, "reform_quarter"), (annual, "2025-Y", "reform_annual")):
        form = table_starting(doc, "Cấp")[0]
        levels = query(built, f"""select case when unit_level in ('province', 'department') then 'Cấp tỉnh'
                                              when unit_level = 'district' then 'Cấp huyện' else 'Cấp xã' end,
                                         sum(received_in_period + carried_over), sum(resolved_late),
                                         sum(in_progress_overdue)
                                  from marts.{mart} where period_key = %s and received_in_period is not null
                                  group by 1 order by 1 desc""", [period])
        body = [[c.text for c in r.cells] for r in form.rows[4:]]
        labels = [r[0] for r in body]
        assert labels == [*(lv for lv, *_ in sorted(levels, key=lambda r: ["Cấp tỉnh", "Cấp huyện", "Cấp xã"].index(
            r[0]))), "Toàn tỉnh"]
        for row in body[:-1]:
            received, late, overdue = next(v for lv, *v in levels if lv == row[0])
            assert (row[1], row[8], row[11]) == (fmt.count(received), fmt.count(late), fmt.count(overdue))
        p = province(built, period)
        # the levels add up to the province (every dossier sits with one unit)
        assert body[-1][1] == fmt.count(p["received_in_period"] + p["carried_over"]) == fmt.count(
            sum(r[1] for r in levels))
        # every figure fits its cell on one line, in the size it is printed in
        for row in form.rows[4:]:
            for cell in row.cells[1:]:
                run = cell.paragraphs[0].runs[0]
                assert _times_width_pt(cell.text, run.font.size.pt, bool(run.bold)) <= _cell_room_pt(form, cell), \
                    cell.text
                assert cell._tc.tcPr.find(qn("w:noWrap")) is not None
        # no header word is wider than its column: words are never broken
        for row in form.rows[:3]:
            for cell in row.cells:
                for run in (r for p in cell.paragraphs for r in p.runs):
                    for word in run.text.split():
                        assert _times_width_pt(word, run.font.size.pt, True) <= _cell_room_pt(form, cell), word
        assert "Trực tiếp và dịch vụ bưu chính" not in {c.text for r in form.rows[:3] for c in r.cells}


def test_rule_under_the_subject(report):
    _, doc, _ = report
    body = doc.paragraphs
    subject_at = next(i for i, p in enumerate(body) if p.text.startswith("Kết quả thực hiện công tác"))
    rule = body[subject_at + 1]
    assert rule.text == "" and rule._p.find(f".//{qn('w:pBdr')}/{qn('w:bottom')}") is not None
    # a centred line between a third and a half as long as the subject's line (Nghị định 30/2020, Phụ lục I)
    left, right = rule.paragraph_format.left_indent.cm, rule.paragraph_format.right_indent.cm
    subject_cm = _times_width_pt(body[subject_at].text, 14, True) / 72 * 2.54
    assert abs(left - right) < 0.01 and subject_cm / 3 <= 16.5 - left - right <= subject_cm / 2


def test_comparison_columns_distinct_and_true_minus(report, annual, built):
    _, doc, _ = report
    rates = next(t for t in table_starting(doc, "Chỉ tiêu") if t.cell(0, 1).text == "Kỳ này")
    cells = [c.text for r in rates.rows[1:] for c in r.cells[4:]]
    assert any(c.startswith("\u2212") for c in cells) and not any(c.startswith("-") for c in cells)
    _, annual_doc, annual_xlsx = annual
    rates = next(t for t in table_starting(annual_doc, "Chỉ tiêu") if t.cell(0, 1).text == "Kỳ này")
    header = [c.text for c in rates.rows[0].cells]
    # the previous period of a year is the year before: one column, not the same one twice
    assert header == ["Chỉ tiêu", "Kỳ này", "Năm trước", "So với năm trước (điểm\u00a0%)"]
    now, before = province(built, "2025-Y"), province(built, "2024-Y")
    row = next(r for r in rates.rows if r.cells[0].text == "Tỷ lệ hồ sơ giải quyết trước và đúng hạn")
    assert [c.text for c in row.cells[1:]] == [fmt.percent(now["on_time_rate"]), fmt.percent(before["on_time_rate"]),
                                               fmt.points(fmt.rounded_rate(now["on_time_rate"])
                                                          - fmt.rounded_rate(before["on_time_rate"]))]
    header, _ = annex(annual_xlsx["Toàn tỉnh"])
    assert header == ["Chỉ tiêu", "Kỳ này (năm 2025)", "Năm trước (năm 2024)", "Mục tiêu 2030"]


def test_signature_block_stays_with_the_closing_paragraph(annual):
    result, doc, _ = annual
    body = doc.paragraphs
    closing = next(i for i, p in enumerate(body) if p.text.startswith("Trên đây là báo cáo"))
    assert body[closing].paragraph_format.keep_with_next and body[closing + 1].paragraph_format.keep_with_next
    block = doc.tables[-1]
    assert block.rows[0]._tr.trPr.find(qn("w:cantSplit")) is not None
    assert all(p.paragraph_format.keep_with_next for c in block.rows[0].cells for p in c.paragraphs)
    if not OFFICE:
        pytest.skip("LibreOffice not installed: the rendered pages are not checked")
    pdf = next(p for p in result.files if p.suffix == ".pdf")
    import subprocess

    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    last = [p for p in pages if p.strip()][-1]
    assert "Trần Văn Bình" in last and "Nơi nhận:" in last and "KT. GIÁM ĐỐC" in last
    assert "Trên đây là báo cáo" in last  # the signer never stands alone on a page


def test_weakest_and_section_iv_with_targets_as_stated(report, annual):
    for _, doc, _ in (report, annual):
        paragraphs = texts(doc)
        body = "\n".join(paragraphs)
        # the 2030 targets are not next period's tasks, and print as the documents state them
        assert "tối thiểu 100" not in body and ",00%" not in "".join(t for t in paragraphs if "tối thiểu" in t)
        assert not [t for t in paragraphs if "Nâng tỷ lệ" in t and ("toàn trình" in t or "số hóa" in t
                                                                    or "thanh toán" in t)]
        assert "Tiếp tục thực hiện lộ trình đạt các mục tiêu đến năm 2030" in body
        assert ",00%" not in "".join(t for t in paragraphs if "mục tiêu" in t.lower())
        assert "Văn phòng hoàn thiện trước khi trình ký" not in body  # no drafting note
    assert any(t.startswith("Các phụ lục số liệu chi tiết (Phụ lục I–IV)") for t in texts(report[1]))
    assert any(t.startswith("Các phụ lục số liệu chi tiết (Phụ lục I–V)") for t in texts(annual[1]))
    # the chart's caption counts the units below the threshold as section IV does (units that still exist)
    for _, doc, _ in (report, annual):
        caption = next(t for t in texts(doc) if t.startswith("Biểu đồ 1."))
        task = next(t for t in texts(doc) if t.startswith("1. Nâng tỷ lệ giải quyết trước và đúng hạn"))
        below = task.split(": ", 1)[1].split(" đơn vị chưa đạt")[0]
        assert caption.endswith((f"của {below} đơn vị có tỷ lệ giải quyết trước và đúng hạn dưới 95%",
                                 f"(trong số {below} đơn vị dưới 95%)")), (caption, task)
    # the column of the previous period is named as in the rates table: the year before, in the annual report
    for (_, doc, _), before in ((report, "Kỳ trước"), (annual, "Năm trước")):
        weakest = next(t for t in table_starting(doc, "Đơn vị") if t.cell(0, 1).text == "Chỉ tiêu")
        assert weakest.rows[0].cells[-1].text == f"{before} (*)"
        assert any(t.startswith(f"(*) {before} tính lại theo đơn vị hiện nay") for t in texts(doc))
    # merged and dissolved units in the annual ranking say so
    weakest = [t for t in table_starting(annual[1], "Đơn vị") if t.cell(0, 1).text == "Chỉ tiêu"]
    named = [r.cells[0].text for t in weakest for r in t.rows[1:]]
    assert any("(đã hợp nhất vào " in n for n in named)
    for t in weakest:
        for r in t.rows[1:]:
            if "(đã hợp nhất vào " in r.cells[0].text or "(đã giải thể" in r.cells[0].text:
                assert r.cells[-1].text == "–"


@pytest.fixture(scope="module")
def committee_draft(built, tmp_path_factory):
    """One generation for two configurations the default report does not show: the report as UBND tỉnh's draft
    (issuer "ubnd") and a province's own texts for the parts the warehouse has no data for."""
    out = tmp_path_factory.mktemp("ubnd")
    custom = out / "province.toml"
    custom.write_text('[manual_sections]\nproposals = "Đề nghị Bộ Nội vụ sớm ban hành hướng dẫn."\n'
                      'communication = ""\n', encoding="utf-8")
    config = load_config(custom, environ={"REFORMWH_REPORT_ISSUER": "ubnd", "REFORMWH_REPORT_MIN_DOSSIERS": "10",
                                          "REFORMWH_REPORT_SIGNER_NAME": "Nguyễn Văn An"})
    result = generate(built.database_url, PERIOD, out, "final", report_date=REPORT_DATE, config=config, pdf=False)
    return result, Document(str(result.files[0]))


def test_unplanned_sections_marked_for_the_office(report, committee_draft):
    _, doc, _ = report
    marked = [p for p in doc.paragraphs if p.text.startswith("[Văn phòng bổ sung")]
    assert len(marked) == len(CONFIG.manual_sections)
    assert all(r._r.find(f".//{qn('w:highlight')}") is not None for p in marked for r in p.runs)
    body = texts(committee_draft[1])
    assert "Đề nghị Bộ Nội vụ sớm ban hành hướng dẫn." in body
    assert not [t for t in body if "công tác tuyên truyền cải cách" in t]


def test_chart_shows_what_its_caption_says_in_a_serif_face(report, built):
    from reporting import charts

    _, doc, _ = report
    drawn = DRAWN
    # the units section IV names: below the threshold and still existing at the end of the quarter
    below = query(built, """select unit_code from marts.reform_quarter q where period_key = %s
                            and resolved_total >= 10 and on_time_rate < 0.95 and exists (
                              select from marts.dim_unit u where u.unit_code = q.unit_code
                              and u.valid_from <= q.period_end and coalesce(u.valid_to, q.period_end) >= q.period_end)
                            order by on_time_rate, unit_code""", [PERIOD])
    shown = min(len(below), CONFIG.chart_max_units)
    assert [u["unit_code"] for u in drawn["units"]] == [code for (code,) in below][:shown]
    assert LD not in {u["unit_code"] for u in drawn["units"]}  # merged on 01/03/2025: not drawn
    caption = next(t for t in texts(doc) if t.startswith("Biểu đồ 1."))
    if shown == len(below):
        assert caption.endswith(f"của {fmt.count(shown)} đơn vị có tỷ lệ giải quyết trước và đúng hạn dưới 95%")
    else:  # capped: the caption does not claim these are all the units below the threshold
        assert caption.endswith(f"của {fmt.count(shown)} đơn vị có tỷ lệ giải quyết trước và đúng hạn thấp nhất "
                                f"(trong số {fmt.count(len(below))} đơn vị dưới 95%)")
    assert any(t.startswith(f"1. Nâng tỷ lệ giải quyết trước và đúng hạn lên tối thiểu 95%: {fmt.count(len(below))} "
                            "đơn vị chưa đạt") for t in texts(doc))
    import matplotlib.pyplot as plt
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    assert plt.rcParams["font.family"] == ["serif"] and plt.rcParams["font.serif"][0] == charts.FONT
    assert charts.FONT in charts.SERIF
    path = font_manager.findfont(font_manager.FontProperties(family="serif"))
    assert all(ord(c) in FT2Font(path).get_charmap() for c in "ởờịướĐ")  # no boxes for Vietnamese letters


def test_published_figures_keep_gaps_and_scores(report, annual, built):
    for (result, _, _), period in ((report, PERIOD), (annual, "2025-Y")):
        frozen = dict(query(built, "select mart, count(*) from reports.published_figures where run_id = %s "
                                   "group by mart", [result.run_id]))
        assert frozen["evidence_gaps"] == query(built, "select count(*) from marts.evidence_gaps where period_key = %s",
                                                [period])[0][0] > 0
    scores = query(built, "select count(*) from marts.par_area_scores where year = 2025")[0][0]
    assert frozen["par_area_scores"] == scores
    quarter = dict(query(built, "select mart, count(*) from reports.published_figures where run_id = %s group by mart",
                         [report[0].run_id]))
    assert "par_area_scores" not in quarter
    with psycopg.connect(built.database_url) as conn, conn.transaction(force_rollback=True):
        conn.execute("update marts.par_area_scores set self_score = self_score + 1 where year = 2025 "
                     "and unit_code = %s and area_code = (select min(area_code) from marts.par_area_scores "
                     "where unit_code = %s and year = 2025)", [TP, TP])
        conn.execute("delete from marts.evidence_gaps where period_key = %s and gap_id = (select min(gap_id) from "
                     "marts.evidence_gaps where period_key = %s)", [PERIOD, PERIOD])
        changed = conn.execute("select mart, column_name from reports.published_figures_changed where run_id = any(%s)",
                               [[report[0].run_id, annual[0].run_id]]).fetchall()
    assert ("par_area_scores", "self_score") in changed and ("evidence_gaps", "(row)") in changed


def test_pdf_is_reproducible(annual, built, tmp_path):
    if not OFFICE:
        pytest.skip("LibreOffice not installed")
    first = next(p for p in annual[0].files if p.suffix == ".pdf")
    again = generate(built.database_url, "2025-Y", tmp_path, "final", report_date=REPORT_DATE, config=CONFIG)
    second = next(p for p in again.files if p.suffix == ".pdf")
    assert hashlib.sha256(first.read_bytes()).digest() == hashlib.sha256(second.read_bytes()).digest()
    assert b"/CreationDate(D:20260105000000" in second.read_bytes().replace(b" ", b"")


def test_generation_is_quick_and_imports_matplotlib_only_for_charts(annual):
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    imported = subprocess.run(
        [sys.executable, "-c", "import sys, reporting, reporting.docx_report, reporting.xlsx_annexes, "
                               "reporting.letters; print('matplotlib' in sys.modules)"],
        cwd=root, capture_output=True, text=True, check=True).stdout.strip()
    assert imported == "False"
    # the annual report's generation (the annual fixture), in CPU seconds of this process
    assert GENERATION_CPU["2025-Y"] <= 30


def test_reminder_letters(built, tmp_path, capsys, monkeypatch):
    from reformwh.cli import main
    from reporting.letters import generate_letters, working_day_after

    result = generate_letters(built.database_url, PERIOD, tmp_path, date(2026, 1, 5), CONFIG)
    assert result.deadline == date(2026, 1, 12)  # five working days
    # holidays respected: 30/04, 01/05 and 02/05/2025 are days off (the calendar the letters' deadline is read from)
    with psycopg.connect(built.database_url) as conn:
        assert working_day_after(conn, date(2025, 4, 28), CONFIG.letter_deadline_working_days) == date(2025, 5, 8)
    expected = dict(query(built, """select unit_code, count(*) filter (where flags_unit or gap_type = 'REPORT_LATE')
                                    from marts.evidence_gaps where period_key = %s group by unit_code
                                    having bool_or(flags_unit or gap_type = 'REPORT_LATE')""", [PERIOD]))
    assert {letter.unit_code for letter in result.letters} == set(expected)
    names = dict(query(built, "select distinct on (unit_code) unit_code, unit_name from marts.dim_unit "
                              "where valid_from <= '2025-03-14' order by unit_code, valid_from desc"))
    missing_file = query(built, """select unit_code, evidence_ref,
                                          coalesce('Tiêu chí ' || criterion_code || ' (' || criterion_name || ')',
                                                   'Chỉ số ' || indicator_code || ' (' || indicator_name || ')')
                                   from marts.evidence_gaps where period_key = %s
                                   and gap_type = 'FILE_MISSING' limit 1""", [PERIOD])[0]
    for letter in result.letters:
        doc = Document(str(letter.path))
        paragraphs = texts(doc)
        assert doc.tables[0].cell(1, 0).paragraphs[0].text.endswith("/SNV-CCHC")
        assert "V/v đôn đốc gửi báo cáo, bổ sung tài liệu kiểm chứng cải cách hành chính quý I năm 2025" in paragraphs
        assert any(t.startswith("Kính gửi: ") and names[letter.unit_code] in t for t in paragraphs)
        items = [t for t in paragraphs if t[:1].isdigit() and ". " in t[:4]]
        assert len(items) == expected[letter.unit_code] == len(letter.items), letter.unit_code
        assert not any(code in t for t in items for code in ("FILE_MISSING", "NO_EVIDENCE", "REPORT_", "is outside"))
        assert ("trước ngày 12/01/2026" in "\n".join(paragraphs)) == letter.to_send
        assert doc.tables[-1].cell(0, 1).paragraphs[-1].text == CONFIG.signer_name
        if letter.unit_code == missing_file[0]:
            assert any(missing_file[1] in t and "đề nghị gửi bổ sung tệp" in t for t in items)
            # the criterion or indicator by its code and its name in the catalog
            assert any(f". {missing_file[2]}: " in t and missing_file[1] in t for t in items)
    summary = load_workbook(result.summary)["Đôn đốc"]
    listed = [r for r in summary.iter_rows(min_row=5, values_only=True) if r[0]]
    assert [r[2] for r in listed] == [letter.unit_code for letter in result.letters]
    assert all(r[3] == names[r[2]] and r[8] for r in listed)

    monkeypatch.setenv("REFORMWH_DATABASE_URL", built.database_url)
    monkeypatch.setenv("REFORMWH_HOME", str(tmp_path / "home"))
    assert main(["letters", PERIOD, "--out", str(tmp_path / "cli"), "--date", "2026-01-05"]) == 0
    assert f"{len(result.letters)} letter(s) for {PERIOD}, deadline 12/01/2026" in capsys.readouterr().out


def test_report_drafted_for_the_provincial_committee(committee_draft):
    """issuer = "ubnd": the same report as UBND tỉnh's draft to the ministry (BC-UBND), chosen by configuration."""
    result, doc = committee_draft
    assert doc.paragraphs[0].text == "DỰ THẢO"
    head = doc.tables[0]
    left = [p for p in head.cell(0, 0).paragraphs if p.text]
    assert [p.text for p in left] == ["ỦY BAN NHÂN DÂN", "TỈNH SƠN HÀ"] and all(p.runs[0].bold for p in left)
    assert head.cell(1, 0).text.endswith("/BC-UBND")
    assert any(t.startswith("Thực hiện chế độ báo cáo công tác cải cách hành chính, Ủy ban nhân dân tỉnh Sơn Hà báo "
                            "cáo") for t in texts(doc))
    block = doc.tables[-1]
    assert [p.text for p in block.cell(0, 1).paragraphs if p.text] == [
        "TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Nguyễn Văn An"]
    assert block.cell(0, 0).paragraphs[1].text == "- Bộ Nội vụ (Vụ Cải cách hành chính);"
    assert load_workbook(result.files[1])["PL I - Mẫu II.06a"]["A3"].value.endswith(
        "/BC-UBND ngày 05 tháng 01 năm 2026 của Ủy ban nhân dân tỉnh Sơn Hà)")
    with pytest.raises(ValueError, match="unknown issuer 'bnv'"):
        load_config(environ={"REFORMWH_REPORT_ISSUER": "bnv"})


def test_rankings_of_departments_and_communes(annual, built):
    _, doc, _ = annual
    for level, label in (("department", "Các sở, ban, ngành"), ("commune", "Các xã, phường, đặc khu")):
        ranked_units = query(built, """select unit_name, on_time_rate from marts.reform_annual q
                                       where period_key = '2025-Y' and unit_level = %s and resolved_total >= 10
                                       and on_time_rate is not null and exists (
                                           select from marts.dim_unit u where u.unit_code = q.unit_code
                                           and coalesce(u.valid_to, q.period_end) >= q.period_end)
                                       order by on_time_rate, unit_code""", [level])
        assert len(ranked_units) >= 2, level
        line = next(t for t in texts(doc) if t.startswith(f"{label} ("))
        shown = min(5, len(ranked_units) // 2)
        assert line.startswith(f"{label} ({len(ranked_units)} đơn vị được xếp hạng)")
        weakest = ", ".join(f"{n.removeprefix('UBND ')} ({fmt.percent(r)})" for n, r in ranked_units[:shown])
        assert line.endswith(f"thấp nhất: {weakest}.")
        best = ranked_units[-1]
        assert f"{best[0].removeprefix('UBND ')} ({fmt.percent(best[1])})" in line.split("; thấp nhất")[0]


def test_units_with_most_late_dossiers(report, built):
    _, doc, _ = report
    total = province(built, PERIOD)["late_total"]
    top = query(built, """select unit_name, late_total from marts.reform_quarter where period_key = %s
                          and late_total > 0 order by late_total desc, unit_code limit 5""", [PERIOD])
    listed = "; ".join(f"{n.removeprefix('UBND ')} {fmt.count(c)} hồ sơ ({fmt.percent(Decimal(c) / total)})"
                       for n, c in top)
    assert ("Các đơn vị có nhiều hồ sơ trễ hạn nhất (số hồ sơ, tỷ trọng trong tổng số hồ sơ trễ hạn của tỉnh): "
            f"{listed}.") in texts(doc)


def test_late_dossiers_by_field_and_procedure(report, annual, built):
    """Item 3: the province's late dossiers by field and by procedure — count, share of the province's late
    dossiers, late rate, without an apology letter — in section II (the five with the most) and in annex II
    (all), from marts that sum to the province; resolved-late counts recomputed from fct_dossier."""
    result, doc, xlsx = report
    p = province(built, PERIOD)
    assert p["late_total"] > 10
    procedures = query(built, """select procedure_code, procedure_name, field_name, late_total, late_share, late_rate,
                                        late_without_apology, resolved_late, received_total
                                 from marts.dossier_province_by_procedure where period_key = %s
                                 order by late_total desc, procedure_code""", [PERIOD])
    fields = query(built, """select field_code, field_name, late_total, late_share, late_rate, late_without_apology
                             from marts.dossier_province_by_field where period_key = %s
                             order by late_total desc, field_code""", [PERIOD])
    # the identity the dbt test checks: every late dossier sits with one procedure and one field
    assert sum(r[3] for r in procedures) == sum(r[2] for r in fields) == p["late_total"]
    assert sum(r[6] for r in procedures) == p["late_without_apology"]
    # each share is stored with 4 places: their sum is 1 within half a unit of the 4th place per procedure
    assert float(sum(r[4] for r in procedures if r[4])) == pytest.approx(1.0, abs=0.00005 * len(procedures))
    # resolved late per procedure, counted independently from the dossiers (a closed quarter: its last day's end)
    recounted = dict(query(built, """select procedure_code, count(*) from marts.fct_dossier
                                     where is_counted and outcome = 'late' and received_at < '2025-03-15'
                                     and end_at >= '2024-12-15' and end_at < '2025-03-15' group by 1"""))
    assert {code: late for code, *_, late, _ in procedures if late} == recounted

    def table_after(intro: str):
        paragraphs = doc.paragraphs
        at = next(i for i, par in enumerate(paragraphs) if par.text.startswith(intro))
        following = paragraphs[at]._p.getnext()
        return next(t for t in doc.tables if t._tbl is following)

    late_fields = [r for r in fields if r[2]]
    table = table_after(f"Hồ sơ trễ hạn theo lĩnh vực ({len(late_fields)} lĩnh vực có hồ sơ trễ hạn")
    assert [c.text for c in table.rows[0].cells] == ["Lĩnh vực", "Số hồ sơ trễ hạn", "Tỷ trọng trong tổng số trễ hạn",
                                                    "Tỷ lệ trễ hạn của lĩnh vực", "Chưa có văn bản xin lỗi"]
    assert [[c.text for c in r.cells] for r in table.rows[1:]] == [
        [name, fmt.count(late), fmt.percent(share), fmt.percent(rate), fmt.count(without)]
        for _, name, late, share, rate, without in late_fields[:5]]
    late_procedures = [r for r in procedures if r[3]]
    table = table_after(f"Hồ sơ trễ hạn theo thủ tục ({len(late_procedures)} thủ tục có hồ sơ trễ hạn")
    assert [[c.text for c in r.cells] for r in table.rows[1:]] == [
        [f"{name} ({field})", fmt.count(late), fmt.percent(share), fmt.percent(rate), fmt.count(without)]
        for _, name, field, late, share, rate, without, _, _ in late_procedures[:5]]
    # the count of late dossiers compared like the rates: "tăng 12,3% so với kỳ trước"
    before, last_year = province(built, "2024-Q4"), province(built, "2024-Q1")
    changes = []
    for other, label in ((before, "kỳ trước"), (last_year, "cùng kỳ năm trước")):
        change = (p["late_total"] - other["late_total"]) / other["late_total"]
        word = "tăng" if change > 0 else "giảm"
        changes.append(f"{word} {fmt.signed_percent(abs(change)).lstrip('+')} so với {label}")
    assert any(t.startswith(f"Có {fmt.count(p['late_total'])} hồ sơ trễ hạn")
               and t.endswith(f"; số hồ sơ trễ hạn {', '.join(changes)}.") for t in texts(doc))

    # annex II: every field, every procedure with dossiers in the period, most late first
    _, by_field = annex(xlsx["PL II - Trễ hạn theo lĩnh vực"])
    assert [(r["Mã lĩnh vực"], r["Hồ sơ trễ hạn - Tổng số"], r["Hồ sơ trễ hạn - Chưa có văn bản xin lỗi"])
            for r in by_field] == [(code, late, without) for code, _, late, _, _, without in fields]
    assert [r["Hồ sơ trễ hạn - Tỷ trọng trong tổng số hồ sơ trễ hạn của tỉnh"] for r in by_field] == pytest.approx(
        [float(share) if share is not None else None for *_, share, _, _ in fields])
    header, by_procedure = annex(xlsx["PL II - Trễ hạn theo thủ tục"])
    assert header[:5] == ["Mã thủ tục", "Tên thủ tục hành chính", "Lĩnh vực", "Số hồ sơ tiếp nhận (tổng số)",
                          "Hồ sơ trễ hạn - Tổng số"]
    assert [(r["Mã thủ tục"], r["Tên thủ tục hành chính"], r["Hồ sơ trễ hạn - Tổng số"],
             r["Hồ sơ trễ hạn - Đã giải quyết quá hạn"]) for r in by_procedure] == [
        (code, name, late, resolved_late) for code, name, _, late, *_, resolved_late, received in procedures
        if received]
    assert all(r["Tên thủ tục hành chính"] and r["Lĩnh vực"] for r in by_procedure)
    # frozen with the run, so the annex as sent can be reproduced
    frozen = dict(query(built, "select mart, count(*) from reports.published_figures where run_id = %s group by mart",
                        [result.run_id]))
    assert frozen["dossier_province_by_field"] == len(fields)
    assert frozen["dossier_province_by_procedure"] == len(procedures)
    # the annual report has them too
    assert "PL II - Trễ hạn theo thủ tục" in annual[2].sheetnames
    assert any(t.startswith("Hồ sơ trễ hạn theo thủ tục (") for t in texts(annual[1]))


def test_received_count_compared_with_both_periods(report, built):
    """Item 3: counts are compared as well as rates — the dossiers newly received, against the previous quarter
    and the same quarter last year ("giảm 3,1% so với kỳ trước, tăng 38,0% so với cùng kỳ năm trước")."""
    _, doc, _ = report
    now, before, last_year = (province(built, k)["received_in_period"] for k in (PERIOD, "2024-Q4", "2024-Q1"))
    assert before and last_year
    changes = []
    for other, label in ((before, "kỳ trước"), (last_year, "cùng kỳ năm trước")):
        change = (now - other) / other
        word = "tăng" if change > 0 else "giảm"
        changes.append(f"{word} {fmt.signed_percent(abs(change)).lstrip('+')} so với {label}")
    assert any(f"{fmt.count(now)} hồ sơ mới tiếp nhận ({', '.join(changes)})" in t for t in texts(doc))

"""The periodic report (spec/reports.md): generated from a built sample warehouse, then opened with
python-docx and openpyxl and checked against the marts (figures) and Nghị định 30/2020 (format).

Data: the sample generator at scale 0.1 (the sample province, 2024–2025, newest extraction 20/12/2025).
2025-Q1 is the period under test: four departments merged on 01/03/2025, within it (Sở Lao động -
Thương binh và Xã hội into Sở Nội vụ, …), so the as-was mart still has their rows and the comparisons
carry the merger footnote."""

from __future__ import annotations

import hashlib
import shutil
import uuid
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
from tests.conftest import query

PERIOD = "2025-Q1"
REPORT_DATE = date(2026, 1, 5)
TP, NV, LD, YT, CT = "000.00.16.H99", "000.00.09.H99", "000.00.07.H99", "000.00.17.H99", "000.00.02.H99"
CONFIG = load_config(environ={"REFORMWH_REPORT_MIN_DOSSIERS": "10"})


@pytest.fixture(scope="module")
def built(server_url, tmp_path_factory):
    from reformwh.sample import write_samples
    from reformwh.settings import DEFAULT_HEADER_ALIASES, DEFAULT_REFERENCE_DIR, Settings

    name = "rep_" + uuid.uuid4().hex[:8]
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    tmp = tmp_path_factory.mktemp("report")
    settings = Settings(tmp, server_url.rsplit("/", 1)[0] + "/" + name, DEFAULT_REFERENCE_DIR, DEFAULT_HEADER_ALIASES)
    write_samples(tmp / "samples", scale=0.1)
    for source in ("one_stop_shop", "document_management", "self_reports"):
        pipeline.ingest(settings, source, [tmp / "samples" / source])
    assert pipeline.build(settings, progress=lambda _: None, quiet=True)
    return settings


@pytest.fixture(scope="module")
def report(built, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    result = generate(built.database_url, PERIOD, out, "final", report_date=REPORT_DATE, config=CONFIG, pdf=False)
    docx = Document(str(result.files[0]))
    xlsx = load_workbook(result.files[1])
    return result, docx, xlsx


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
    headings = [p for p in body if p.text[:4] in ("I. C", "II. ", "III.", "IV. ")]
    assert [p.text for p in headings] == ["I. CÔNG TÁC CHỈ ĐẠO, ĐIỀU HÀNH", "II. KẾT QUẢ THỰC HIỆN",
                                          "III. ĐÁNH GIÁ", "IV. PHƯƠNG HƯỚNG, NHIỆM VỤ KỲ TỚI"]
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
    form = table_starting(doc, "Phạm vi")[0]
    assert [c.text for c in form.rows[3].cells] == [f"({i})" for i in range(1, 13)]
    assert [c.text for c in form.rows[-1].cells] == ["Toàn tỉnh"] + [fmt.count(v) for v in (
        p["received_in_period"] + p["carried_over"], p["received_online"], p["received_direct"] + p["received_postal"],
        p["carried_over"], p["resolved_total"], p["resolved_ahead"], p["resolved_on_time"], p["resolved_late"],
        p["in_progress_total"], p["in_progress_on_time"], p["in_progress_overdue"])]
    assert p["received_in_period"] > 100  # a real period, not an empty one
    header = {c.text for row in form.rows[:3] for c in row.cells}
    assert {"Số hồ sơ tiếp nhận", "Số hồ sơ đã giải quyết", "Số hồ sơ đang giải quyết", "Trực tuyến",
            "Từ kỳ trước chuyển qua", "Trước hạn", "Đúng hạn", "Quá hạn", "Trong hạn"} <= header


def test_rates_against_previous_period_and_last_year(report, built):
    _, doc, _ = report
    assert query(built, "select previous_period_key from marts.dim_period where period_key = %s",
                 [PERIOD]) == [("2024-Q4",)]
    now, previous, last_year = province(built, PERIOD), province(built, "2024-Q4"), province(built, "2024-Q1")
    rates = next(t for t in table_starting(doc, "Chỉ tiêu") if t.cell(0, 1).text == "Kỳ này")
    rows = {r.cells[0].text: [c.text for c in r.cells[1:]] for r in rates.rows[1:]}
    on_time = rows["Tỷ lệ hồ sơ giải quyết trước và đúng hạn"]
    assert on_time == [fmt.percent(now["on_time_rate"]), fmt.percent(previous["on_time_rate"]),
                       fmt.percent(last_year["on_time_rate"]),
                       fmt.points(now["on_time_rate"] - previous["on_time_rate"]),
                       fmt.points(now["on_time_rate"] - last_year["on_time_rate"])]
    assert rows["Tỷ lệ hồ sơ trực tuyến toàn trình"][:3] == [
        fmt.percent(x["online_full_rate"]) for x in (now, previous, last_year)]
    assert "," in on_time[0] and on_time[0].endswith("%")
    targets = next(t for t in table_starting(doc, "Chỉ tiêu") if t.cell(0, 2).text == "Mục tiêu 2030")
    assert [[c.text for c in r.cells] for r in targets.rows[1:]] == [
        ["Dịch vụ công trực tuyến toàn trình", fmt.percent(now["online_full_rate"]), "90,00%",
         "Đạt" if now["online_full_rate"] >= Decimal("0.9") else "Chưa đạt"],
        ["Số hóa hồ sơ, kết quả giải quyết thủ tục hành chính", fmt.percent(now["digitization_rate"]), "100,00%",
         "Đạt" if now["digitization_rate"] >= 1 else "Chưa đạt"],
        ["Thanh toán trực tuyến", fmt.percent(now["online_payment_rate"]), "80,00%",
         "Đạt" if now["online_payment_rate"] >= Decimal("0.8") else "Chưa đạt"]]
    body = "\n".join(texts(doc))
    assert ("Sở Lao động - Thương binh và Xã hội hợp nhất vào Sở Nội vụ từ 01/03/2025") in body
    late = f"Có {fmt.count(now['late_total'])} hồ sơ trễ hạn"
    assert late in body
    assert f"{fmt.count(now['late_total'] - now['late_with_apology'])} hồ sơ trễ hạn chưa có văn bản xin lỗi" in body


def test_weakest_units_are_the_marts_lowest(report, built):
    _, doc, _ = report
    expected = query(built, """select unit_name, resolved_total, on_time_rate, current_unit_code
                               from marts.reform_quarter where period_key = %s and resolved_total >= 10
                               and on_time_rate is not null order by on_time_rate, unit_code limit 5""", [PERIOD])
    assert len(expected) == 5
    weakest = table_starting(doc, "Đơn vị")[0]
    listed = [[c.text for c in r.cells] for r in weakest.rows[1:] if r.cells[1].text == "giải quyết trước và đúng hạn"]
    previous = dict(query(built, "select unit_code, on_time_rate from marts.reform_quarter_restated "
                                 "where period_key = '2024-Q4'"))
    assert listed == [[name.removeprefix("UBND "), "giải quyết trước và đúng hạn", fmt.count(count), fmt.percent(rate),
                       fmt.percent(previous.get(current))] for name, count, rate, current in expected]
    assert "chỉ xét đơn vị có từ 10 hồ sơ" in "\n".join(texts(doc))
    # section IV: the units that still exist and are below the threshold (on time: 95%)
    below = query(built, """select count(*) from marts.reform_quarter q where period_key = %s
                            and resolved_total >= 10 and on_time_rate < 0.95 and exists (
                              select from marts.dim_unit u where u.unit_code = q.unit_code
                              and u.valid_from <= q.period_end
                              and coalesce(u.valid_to, q.period_end) >= q.period_end)""",
                  [PERIOD])[0][0]
    assert below > 0
    assert any(t.startswith(f"1. Nâng tỷ lệ giải quyết trước và đúng hạn lên tối thiểu 95,00%: {below} đơn vị chưa đạt")
               for t in texts(doc))


def test_document_and_task_sections_are_the_province_mart(report, built):
    _, doc, _ = report
    body = "\n".join(texts(doc))
    p = province(built, PERIOD)
    assert (f"Văn bản đi: {fmt.count(p['docs_outgoing'])} văn bản, trong đó "
            f"{fmt.count(p['docs_outgoing_electronic'])} văn bản điện tử (tỷ lệ {fmt.percent(p['e_document_rate'])})"
            ) in body
    assert p["docs_outgoing"] > 1000  # the sample registers, not an empty mart
    assert (f"Số nhiệm vụ đến hạn trong kỳ: {fmt.count(p['tasks_due'])}; hoàn thành đúng hạn "
            f"{fmt.count(p['tasks_done_on_time'])}, hoàn thành quá hạn {fmt.count(p['tasks_done_late'])}") in body


def test_xlsx_annexes_hold_the_mart_rows(report, built):
    _, _, xlsx = report
    assert xlsx.sheetnames == ["Thông tin", "PL I - Mẫu II.06a", "PL II - Theo lĩnh vực",
                               "PL III - Văn bản, nhiệm vụ", "PL IV - Thiếu minh chứng", "So sánh (tính lại)",
                               "Đơn vị sắp xếp", "Toàn tỉnh"]
    merged = {r[0]: r[3] for r in xlsx["Đơn vị sắp xếp"].iter_rows(min_row=2, values_only=True) if r[1]}
    assert merged[LD] == NV and len(merged) == query(
        built, "select count(*) from marts.dim_unit where successor_code is not null "
               "and valid_to between '2023-12-15' and '2025-03-14'")[0][0]
    sheet = xlsx["PL I - Mẫu II.06a"]
    assert sheet.freeze_panes == "C2"
    header = [c.value for c in sheet[1]]
    assert header[:5] == ["Mã đơn vị", "Tên đơn vị", "Cấp", "Số hồ sơ tiếp nhận - Tổng số",
                          "Số hồ sơ tiếp nhận - Trực tuyến"]
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True) if r[1]}
    marts = query(built, """select unit_code, received_in_period + carried_over, resolved_late, in_progress_overdue,
                                   on_time_rate, online_full_rate
                            from marts.reform_quarter where period_key = %s and received_in_period is not null""",
                  [PERIOD])
    assert {code for code, *_ in marts} == {code for code in rows if code}
    for code, received, late, overdue, on_time, online_full in marts:
        row = rows[code]
        assert (row["Số hồ sơ tiếp nhận - Tổng số"], row["Số hồ sơ đã giải quyết - Quá hạn"],
                row["Số hồ sơ đang giải quyết - Quá hạn"]) == (received, late, overdue), code
        assert row["Tỷ lệ hồ sơ giải quyết trước và đúng hạn"] == pytest.approx(on_time and float(on_time)), code
        assert row["Tỷ lệ hồ sơ trực tuyến toàn trình"] == pytest.approx(online_full and float(online_full)), code
    assert rows[LD]["Tên đơn vị"] == "Sở Lao động - Thương binh và Xã hội"  # merged on 01/03: as was in Q1
    p = province(built, PERIOD)
    total = [r for r in sheet.iter_rows(min_row=2, values_only=True) if r[1] == "Toàn tỉnh"]
    assert total[0][3:5] == (p["received_in_period"] + p["carried_over"], p["received_online"])
    first = list(sheet[2])
    assert first[3].number_format == "#,##0" and first[header.index("Tỷ lệ số hóa hồ sơ")].number_format == "0.00%"

    by_field = xlsx["PL II - Theo lĩnh vực"]
    assert by_field.max_row - 1 == query(built, "select count(*) from marts.dossier_by_field where period_key = %s",
                                         [PERIOD])[0][0]
    compared = xlsx["So sánh (tính lại)"]
    header = [c.value for c in compared[1]]
    nv = next(r for r in compared.iter_rows(min_row=2, values_only=True) if r[0] == NV)
    restated = dict(query(built, "select period_key, on_time_rate from marts.reform_quarter_restated "
                                 "where unit_code = %s and period_key in ('2025-Q1', '2024-Q4', '2024-Q1')", [NV]))
    assert nv[header.index("Đúng hạn - 2025-Q1")] == pytest.approx(float(restated["2025-Q1"]))
    assert nv[header.index("Đúng hạn - 2024-Q4")] == pytest.approx(float(restated["2024-Q4"]))
    assert nv[header.index("Đúng hạn - 2024-Q1")] == pytest.approx(float(restated["2024-Q1"]))


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
    assert (f"{fmt.count(statuses['on_time'])} đơn vị đúng hạn; {fmt.count(statuses['late'])} đơn vị trễ hạn; "
            f"{fmt.count(statuses['missing'])} đơn vị không gửi") in body
    flagged = query(built, "select unit_name, evidence_gap_count from marts.reform_quarter where period_key = %s "
                           "and missing_evidence", [PERIOD])
    assert flagged
    assert (f"{fmt.count(len(flagged))} đơn vị chưa cung cấp đầy đủ, kịp thời tài liệu kiểm chứng "
            f"({fmt.count(sum(g for _, g in flagged))} nội dung") in body
    table = table_starting(doc, "Đơn vị")[-1]
    assert sorted(tuple(c.text for c in r.cells) for r in table.rows[1:]) == sorted(
        (short_name(name), fmt.count(gaps)) for name, gaps in flagged)
    gaps = xlsx["PL IV - Thiếu minh chứng"]
    assert sum(1 for _ in gaps.iter_rows(min_row=2)) == query(
        built, "select count(*) from marts.evidence_gaps where period_key = %s", [PERIOD])[0][0]


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
    assert (fmt.points(Decimal("0.0125")), fmt.points(Decimal("-0.004")), fmt.points(0)) == ("+1,25", "-0,40", "0,00")
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

    def fresh_dag():  # dag.test() keeps a run's params on the DAG object
        spec = importlib.util.spec_from_file_location("report_dag", root / "dags" / "report.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.report()

    dag = fresh_dag()
    assert (dag.max_active_runs, dag.catchup, set(dag.tags)) == (1, False, {"reformwh", "report"})
    assert all(t.retries == 2 and t.owner == "data-engineering" and t.on_failure_callback for t in dag.tasks)
    assert dag.test(run_conf={"period_key": "2025-Q3", "edition": "final"}).state == "success"
    assert fresh_dag().test(logical_date=pendulum.datetime(2025, 9, 16, tz="Asia/Ho_Chi_Minh")).state == "success"
    runs = query(built, "select edition from reports.report_runs where period_key = '2025-Q3' order by run_id")
    assert runs == [("final",), ("preliminary",)]  # the scheduled run added only the edition not yet made
    assert sorted(p.name for p in (tmp_path / "home" / "reports").iterdir() if p.suffix != ".pdf") == [
        "bao-cao-cchc_2025-Q3_final.docx", "bao-cao-cchc_2025-Q3_final_phu-luc.xlsx",
        "bao-cao-cchc_2025-Q3_preliminary.docx", "bao-cao-cchc_2025-Q3_preliminary_phu-luc.xlsx"]

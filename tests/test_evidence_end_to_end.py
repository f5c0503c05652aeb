"""End to end for documents, tasks and self-reports: the shared example exports of all three sources plus one
hand-made late submission → ingest → build → mart figures worked out by hand.

Reference: ../shared/samples/reference (Sở Tư pháp 000.00.16, Sở Nội vụ 000.00.09, departments with
deadlines 18/03, 18/06, 18/09/2025 and 15/01/2026; xã 000.41.01). Builds run long after every deadline.
- Sở Tư pháp sends its 2025-Y report on 10/01/2026 (on time): scores 1.1 = 1, 1.2 = 2, 3.1 = 2,5 (max 6);
  3.1 has no evidence item (NO_EVIDENCE, with its Giải trình); the file cited for KT_SO_CUOC is empty
  (FILE_EMPTY); 15/KH-STP and 102/BC-STP are in its register. H1, Q3: nothing (REPORT_MISSING).
- Sở Nội vụ sends its 2025-H1 report on 20/06/2025 (late), citing 5/KH-SNV, but no register of Sở Nội vụ
  has any 2025 document (DOCUMENT_UNVERIFIABLE: no gap counted, no flag); Q3, Y: REPORT_MISSING.
- Self-reports are collected from 2025-H1, the first period with a submission: no Q1 report is awaited.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from reformwh import pipeline
from tests.conftest import SAMPLES, fresh_database, query
from tests.test_self_reports import workbook_bytes, write_zip

TP, NV, XA = "000.00.16.H99", "000.00.09.H99", "000.41.01.H99"


@pytest.fixture(scope="module")
def built(server_url, tmp_path_factory):
    folder = tmp_path_factory.mktemp("evidence")
    settings = fresh_database(server_url, folder / "home", SAMPLES / "reference")
    late = write_zip(folder / f"{NV}_2025-H1.zip", {
        f"{NV}_2025-H1.xlsx": workbook_bytes(
            info=[("Mã đơn vị", NV), ("Kỳ báo cáo", "2025-H1"), ("Ngày gửi", "20/06/2025")], scores=[],
            figures=[("KT_SO_CUOC", "Số cuộc kiểm tra", 1)],
            items=[("KT_SO_CUOC", "5/KH-SNV", "05/05/2025", "bien_ban.pdf", None)]),
        "bien_ban.pdf": b"%PDF-1.4 x"})
    for source in ("one_stop_shop", "document_management", "self_reports"):
        results = pipeline.ingest(settings, source, [SAMPLES / source])
        assert all(r.status == "loaded" for r in results), [r.summary() for r in results]
    assert pipeline.ingest(settings, "self_reports", [late])[0].status == "loaded"
    assert pipeline.build(settings, progress=lambda _: None, quiet=True)
    return settings


def test_evidence_gaps(built):
    rows = query(built, """
        select period_key, unit_code, coalesce(criterion_code, indicator_code), gap_type, evidence_ref, explanation
        from marts.evidence_gaps order by 1, 2, 4""")
    missing = [(p, u, None, "REPORT_MISSING", None, None) for p, u in [
        ("2025-H1", TP), ("2025-Q3", NV), ("2025-Q3", TP), ("2025-Y", NV)]]
    assert rows == sorted(missing + [
        ("2025-H1", NV, "KT_SO_CUOC", "DOCUMENT_UNVERIFIABLE", "5/KH-SNV", None),
        ("2025-H1", NV, None, "REPORT_LATE", None, None),
        ("2025-Y", TP, "KT_SO_CUOC", "FILE_EMPTY", "bien_ban_kiem_tra.pdf", None),
        ("2025-Y", TP, "3.1", "NO_EVIDENCE", None, "Số liệu lấy từ phần mềm một cửa"),
    ], key=lambda r: (r[0], r[1], r[3]))


def test_report_statuses_flags_and_gap_counts(built):
    rows = query(built, """
        select period_key, unit_code, report_status, evidence_gap_count, missing_evidence
        from marts.reform_semester where period_key = '2025-H1' and unit_code in (%s, %s, %s)
        union all
        select period_key, unit_code, report_status, evidence_gap_count, missing_evidence
        from marts.reform_annual where period_key = '2025-Y' and unit_code in (%s, %s, %s)
        order by 1, 2""", [TP, NV, XA] * 2)
    assert rows == [
        ("2025-H1", NV, "late", 1, False),  # a late report counts but does not flag; unverifiable neither
        ("2025-H1", TP, "missing", 1, True),
        ("2025-H1", XA, "not_required", 0, False),  # communes have no deadline in this calendar
        ("2025-Y", NV, "missing", 1, True),
        ("2025-Y", TP, "on_time", 2, True),
        ("2025-Y", XA, "not_required", 0, False),
    ]
    # calendar-calendar rows and restated marts carry no self-report columns
    assert query(built, "select count(*) from marts.reform_annual where calendar = 'calendar' "
                        "and report_status is not null") == [(0,)]
    assert query(built, "select count(*) from marts.reform_annual_restated where report_status is not null") == [(0,)]


def test_self_assessed_scores(built):
    assert query(built, """
        select par_self_score, par_max_score, par_points_at_risk, par_points_with_evidence,
               round(evidence_coverage_rate, 4), rank_in_level
        from marts.reform_annual where period_key = '2025-Y' and unit_code = %s""", [TP]) == [
        (Decimal("5.5"), Decimal("6"), Decimal("2.5"), Decimal("3.0"), Decimal("0.5455"), 1)]
    assert query(built, "select par_self_score, rank_in_level from marts.reform_annual "
                        "where period_key = '2025-Y' and unit_code = %s", [NV]) == [(None, None)]
    assert query(built, """
        select area_code, max_points, self_score, points_at_risk, points_with_evidence
        from marts.par_area_scores where unit_code = %s order by 1""", [TP]) == [
        ("1", Decimal("3"), Decimal("3"), Decimal("0"), Decimal("3")),
        ("3", Decimal("3"), Decimal("2.5"), Decimal("2.5"), Decimal("0.0"))]


def test_document_and_task_figures(built):
    # 2025-H1 official: 15/12/2024 – 14/06/2025. VB-0001 (10/01) and VB-0002 (12/06) outgoing, electronic,
    # signed by the Giám đốc / Phó Giám đốc; VB-0003 incoming electronic; xã: VB-0004 outgoing on paper,
    # signed by its Chủ tịch. NV-2025-002 (xã) due 31/03, done 05/04: late.
    rows = query(built, """
        select unit_code, docs_outgoing, docs_outgoing_electronic, docs_digitally_signed, docs_leader_signed,
               docs_leader_digitally_signed, docs_incoming, docs_incoming_electronic, e_document_rate,
               digital_signature_rate, leader_signature_rate, tasks_due, tasks_done_late, task_on_time_rate
        from marts.reform_semester where period_key = '2025-H1' and unit_code in (%s, %s) order by 1""", [TP, XA])
    assert rows == [
        (TP, 2, 2, 2, 2, 2, 1, 1, Decimal(1), Decimal(1), Decimal(1), 0, 0, None),
        (XA, 1, 0, 0, 1, 0, 0, 0, Decimal(0), None, Decimal(0), 1, 1, Decimal(0)),
    ]
    province = query(built, """
        select docs_outgoing, docs_outgoing_electronic, round(e_document_rate, 4), round(leader_signature_rate, 4),
               tasks_due, tasks_done_late
        from marts.reform_province where period_key = '2025-H1'""")
    assert province == [(3, 2, Decimal("0.6667"), Decimal("0.6667"), 1, 1)]
    # NV-2025-001 (Sở Tư pháp) is due 30/06 in 2025-Q3, still open, not overdue as of the 16/06 export
    assert query(built, """
        select tasks_due, tasks_done_on_time, tasks_overdue_at_period_end, task_on_time_rate
        from marts.reform_quarter where period_key = '2025-Q3' and unit_code = %s""", [TP]) == [(1, 0, 0, Decimal(0))]
    assert query(built, "select count(*), count(*) filter (where is_leader_signed) from marts.fct_document") == [(4, 3)]
    assert query(built, "select task_id, task_status from marts.fct_task order by 1") == [
        ("NV-2025-001", "open"), ("NV-2025-002", "done_late")]


def test_report_statuses_judged_as_of_the_data(built, monkeypatch):
    """Last in this module (it rebuilds). Judged as of the data, the newest day known is 10/01/2026 (Sở Tư pháp's
    2025-Y report; the exports end 16/06/2025): Sở Nội vụ's 2025-Y report, due 15/01/2026, is awaited, not missing,
    whatever the machine's clock says. Before collection (2025-Q1) nothing is awaited either way."""
    assert query(built, "select report_status from marts.reform_annual where period_key = '2025-Y' "
                        "and unit_code = %s", [NV]) == [("missing",)]  # the build's day is long after
    monkeypatch.setenv("REFORMWH_REPORT_STATUS_AS_OF", "data")
    assert pipeline.build(built, select="int_unit_reports_statused+", progress=lambda _: None, quiet=True)
    rows = query(built, """
        select period_key, unit_code, report_status from marts.reform_quarter
        where calendar = 'official' and unit_code in (%s, %s) and period_key in ('2025-Q1', '2025-Q3')
        union all
        select period_key, unit_code, report_status from marts.reform_semester where period_key = '2025-H1'
        and unit_code in (%s, %s)
        union all
        select period_key, unit_code, report_status from marts.reform_annual where period_key = '2025-Y'
        and unit_code in (%s, %s)
        order by 1, 2""", [TP, NV] * 3)
    assert rows == [
        ("2025-H1", NV, "late"), ("2025-H1", TP, "missing"),
        ("2025-Q1", NV, "not_required"), ("2025-Q1", TP, "not_required"),
        ("2025-Q3", NV, "missing"), ("2025-Q3", TP, "missing"),
        ("2025-Y", NV, "awaited"), ("2025-Y", TP, "on_time"),
    ]
    assert query(built, "select period_key, unit_code from marts.evidence_gaps where gap_type = 'REPORT_MISSING' "
                        "order by 1, 2") == [("2025-H1", TP), ("2025-Q3", NV), ("2025-Q3", TP)]
    assert query(built, "select distinct judged_on from intermediate.int_unit_reports_statused") == [
        (date(2026, 1, 10),)]

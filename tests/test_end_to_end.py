"""End to end: a small hand-made set of exports → ingest → build → mart figures worked out by hand.

Extraction of the newest file: 01/08/2025 18:00, so 2025-Q1, Q2 and H1 (official) are closed and
2025-Q3 / 2025-CQ3 are running, judged as of the data. Units (reference_data/units.csv):
Sở Tư pháp 000.00.16 (stable); Sở LĐ-TB&XH 000.00.07 merged into Sở Nội vụ 000.00.09 on 01/03/2025;
xã An Ninh 000.45.06 → (01/01/2025) xã An Thủy 000.45.05 → (01/07/2025) xã Hòa Mỹ 000.45.01.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from reformwh import pipeline
from tests.conftest import fresh_database, query
from tests.test_ingestion import HEADERS, row, write_csv

S, TP, LD, NV = "000.00.16.H99", "000.00.16.H99", "000.00.07.H99", "000.00.09.H99"
OPEN = {"Ngày kết thúc xử lý": "", "Ngày trả kết quả": "", "Ngày từ chối": "", "Phiếu xin lỗi": "",
        "Mức độ hài lòng": "", "Số hóa thành phần": "Không", "Lệ phí": "0", "Thanh toán trực tuyến": "0",
        "Số lần bổ sung": "0"}


def dossier(code, unit, received, due, status, **other):
    values = row(code, **{**OPEN, "Mã đơn vị": unit, "Ngày tiếp nhận": received, "Ngày hẹn trả": due,
                          "Trạng thái": status})
    values.update(other)
    return values


NEW = [
    # D1 Q1: finished a day before the due date -> ahead; 2 working days (Fri -> Tue)
    dossier("D1", TP, "10/01/2025 08:00", "15/01/2025 17:00", "10", **{"Ngày kết thúc xử lý": "14/01/2025 10:00",
            "Ngày trả kết quả": "14/01/2025 14:00", "Kênh thực hiện": "2", "Mức độ DVC": "Toàn trình",
            "Số hóa thành phần": "Có", "Mức độ hài lòng": "Hài lòng"}),
    # D2 received at the very end of Q1; finished on the due day but after the due time -> late in Q2
    dossier("D2", TP, "14/03/2025 23:59:59", "20/03/2025 17:00", "9", **{"Ngày kết thúc xử lý": "20/03/2025 18:00",
            "Kênh thực hiện": "1", "Lệ phí": "50.000", "Thanh toán trực tuyến": "1", "Phiếu xin lỗi": "Có",
            "Mức độ hài lòng": "Không hài lòng"}),
    # D3 received at the first second of Q2; withdrawn after the due date -> on time, withdrawn/stopped
    dossier("D3", TP, "15/03/2025 00:00:00", "18/03/2025 17:00", "7", **{"Ngày kết thúc xử lý": "25/03/2025 09:00",
            "Kênh thực hiện": "3", "Số hóa thành phần": "Có"}),
    # D4 two supplement requests -> late although finished before the due date; newest version of two
    dossier("D4", TP, "01/04/2025 08:00", "10/04/2025 17:00", "9", **{"Ngày kết thúc xử lý": "09/04/2025 16:00",
            "Số lần bổ sung": "2", "Kênh thực hiện": "2", "Mức độ DVC": "Toàn trình", "Số hóa thành phần": "Có",
            "Lệ phí": "100.000", "Phiếu xin lỗi": "Không", "Mức độ hài lòng": "Rất hài lòng"}),
    # D5 waiting for a supplement (one request), past due -> in progress on time
    dossier("D5", TP, "02/06/2025 08:00", "05/06/2025 17:00", "5", **{"Số lần bổ sung": "1", "Kênh thực hiện": "1"}),
    # D6 processing, past due -> overdue
    dossier("D6", TP, "03/06/2025 08:00", "06/06/2025 17:00", "4", **{"Kênh thực hiện": "2",
            "Mức độ DVC": "Một phần", "Lệ phí": "200.000", "Thanh toán trực tuyến": "2", "Phiếu xin lỗi": "Không"}),
    # D7 waiting on the citizen but asked twice -> overdue
    dossier("D7", TP, "10/06/2025 08:00", "30/06/2025 17:00", "5", **{"Số lần bổ sung": "2", "Kênh thực hiện": "1"}),
    # D8 received by a department that merged on 01/03/2025: Q1 under it, Q2 under its successor
    dossier("D8", LD, "20/02/2025 08:00", "10/03/2025 17:00", "4", **{"Kênh thực hiện": "1"}),
    # D9 received by the first commune of a merger chain, still open
    dossier("D9", "000.45.06.H99", "20/12/2024 08:00", "27/12/2024 17:00", "4", **{"Kênh thực hiện": "1"}),
    # D11 refused at the desk: never received, counts nowhere
    dossier("D11", TP, "", "", "3", **{"Ngày từ chối": "05/05/2025 10:00"}),
    # D12 a bad date: quarantined, counts nowhere
    dossier("D12", TP, "05/05/2025 08:00", "32/05/2025 17:00", "4"),
]
OLD = [
    dossier("D4", TP, "01/04/2025 08:00", "10/04/2025 17:00", "4", **{"Kênh thực hiện": "2"}),
    # D10 appears only in the older export: open and overdue
    dossier("D10", TP, "05/04/2025 08:00", "08/04/2025 17:00", "4", **{"Kênh thực hiện": "2",
            "Mức độ DVC": "Một phần"}),
]


@pytest.fixture(scope="module")
def built(server_url, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    settings = fresh_database(server_url, tmp)
    newer = write_csv(tmp / "ho_so_20250801T180000.csv", NEW)
    older = write_csv(tmp / "ho_so_20250410T120000.csv", OLD, delimiter=";")
    # hostile order: the newer snapshot first
    results = pipeline.ingest(settings, "one_stop_shop", [newer]) + pipeline.ingest(settings, "one_stop_shop", [older])
    assert [(r.rows_loaded, r.rows_quarantined) for r in results] == [(10, 1), (2, 0)]
    assert pipeline.build(settings, progress=lambda _: None)
    return settings


def mart(settings, table, period, unit, columns):
    rows = query(settings, f"select {columns} from marts.{table} where period_key = %s and unit_code = %s",
                 [period, unit])
    assert len(rows) == 1, (table, period, unit, rows)
    return rows[0]


COUNTS = ("received_in_period, carried_over, resolved_total, resolved_ahead, resolved_on_time, resolved_late, "
          "resolved_withdrawn_stopped, in_progress_total, in_progress_overdue, in_progress_on_time")


def test_quarter_figures_worked_by_hand(built):
    assert mart(built, "reform_quarter", "2025-Q1", TP, COUNTS) == (2, 0, 1, 1, 0, 0, 0, 1, 0, 1)
    assert mart(built, "reform_quarter", "2025-Q2", TP, COUNTS) == (6, 1, 3, 0, 1, 2, 1, 4, 3, 1)
    q2 = mart(built, "reform_quarter", "2025-Q2", TP,
              "on_time_rate, processing_on_time_rate, online_rate, online_full_rate, digitization_rate, "
              "online_payment_rate, late_total, late_with_apology, apology_rate, rated_total, rated_satisfied, "
              "satisfaction_rate, processing_working_days_total, received_online, received_direct, received_postal")
    assert [round(float(v), 4) if isinstance(v, Decimal) else v for v in q2] == [
        round(1 / 3, 4), round(2 / 7, 4), 0.5, round(1 / 6, 4), round(2 / 6, 4), 0.5, 5, 1, 0.2, 2, 1, 0.5,
        16, 3, 2, 1]
    # working days (received date, end date]: weekends and the 07/04 holiday excluded
    assert mart(built, "reform_quarter", "2025-Q1", TP, "processing_working_days_total, avg_processing_working_days"
                ) == (2, Decimal(2))


def test_half_year_and_province(built):
    assert mart(built, "reform_semester", "2025-H1", TP, COUNTS) == (8, 0, 4, 1, 1, 2, 1, 4, 3, 1)
    q1 = query(built, "select received_in_period, carried_over, resolved_total, in_progress_total "
                      "from marts.reform_province where period_key = '2025-Q1'")
    q2 = query(built, "select received_in_period, carried_over, resolved_total, in_progress_total, "
                      "in_progress_overdue from marts.reform_province where period_key = '2025-Q2'")
    assert q1 == [(4, 0, 1, 3)]
    assert q2 == [(6, 3, 3, 6, 5)]


def test_merged_units_as_was_and_restated(built):
    cols = "received_in_period, carried_over, in_progress_total, in_progress_overdue"
    assert mart(built, "reform_quarter", "2025-Q1", LD, cols) == (1, 0, 1, 1)
    assert mart(built, "reform_quarter", "2025-Q1", NV, cols) == (0, 0, 0, 0)
    assert mart(built, "reform_quarter", "2025-Q2", NV, cols) == (0, 1, 1, 1)
    assert query(built, "select count(*) from marts.reform_quarter where period_key = '2025-Q2' "
                        "and unit_code = %s", [LD]) == [(0,)]
    assert mart(built, "reform_quarter_restated", "2025-Q1", NV, cols) == (1, 0, 1, 1)
    # the chain 000.45.06 -> 000.45.05 -> 000.45.01
    assert mart(built, "reform_quarter", "2025-Q1", "000.45.06.H99", cols) == (1, 0, 1, 1)
    assert mart(built, "reform_quarter", "2025-Q2", "000.45.05.H99", cols) == (0, 1, 1, 1)
    assert mart(built, "reform_quarter", "2025-CQ3", "000.45.01.H99", cols)[1:3] == (1, 1)
    assert mart(built, "reform_quarter_restated", "2025-Q1", "000.45.01.H99", cols) == (1, 0, 1, 1)


def test_newest_version_wins_and_no_personal_data_in_marts(built):
    assert query(built, "select status_code, outcome, supplement_count from marts.fct_dossier "
                        "where dossier_code = 'D4'") == [(9, "late", 2)]
    assert query(built, "select count(*) from marts.fct_dossier where dossier_code = 'D12'") == [(0,)]
    text_columns = query(built, "select table_name, column_name from information_schema.columns "
                                "where table_schema = 'marts' and data_type in ('text', 'character varying')")
    for table, column in text_columns:
        found = query(built, f'select count(*) from marts."{table}" where "{column}" in '
                             "('Nguyễn Văn An', '044090001234', '0912345678')")
        assert found == [(0,)], (table, column)
    names = {c for _, c in query(built, "select table_name, column_name from information_schema.columns "
                                        "where table_schema = 'marts'")}
    assert not names & {"applicant_name", "applicant_id_number", "applicant_phone", "applicant_email",
                        "applicant_id_hash"}


def test_conservation_holds_on_every_mart_row(built):
    for table in ("reform_quarter", "reform_semester", "reform_annual", "reform_province",
                  "reform_quarter_restated", "dossier_by_field"):
        broken = query(built, f"""select count(*) from marts.{table}
            where received_in_period + carried_over <> resolved_total + in_progress_total
               or resolved_total <> resolved_ahead + resolved_on_time + resolved_late""")
        assert broken == [(0,)], table


def test_purging_personal_data_changes_no_mart_figure(built):
    marts = ("reform_quarter", "reform_semester", "reform_annual", "reform_province", "dossier_by_field")

    def figures():
        # every row, in an order that does not depend on the plan (several units share a period)
        return {t: sorted(query(built, f"select * from marts.{t}"), key=repr) for t in marts}

    before = figures()
    assert pipeline.purge_personal_data(built, older_than_days=0) == (12, 1)
    assert query(built, "select count(*) from raw.one_stop_shop__dossiers where applicant_name is not null "
                        "or applicant_id_number is not null or applicant_id_hash is null") == [(0,)]
    assert query(built, "select count(*) from quarantine.rows where record ? 'applicant_name'") == [(0,)]
    assert pipeline.build(built, progress=lambda _: None, quiet=True)
    assert figures() == before


_ = (S, HEADERS)


def test_dim_period_says_which_periods_are_complete(built):
    """The newest extraction is 01/08/2025 18:00: official H1 (to 14/06) and calendar CQ2 (to 30/06) are complete,
    Q3 and CQ3 are running, Q4 has not started; the mart names its dates as the period marts do."""
    from datetime import datetime

    rows = query(built, "select period_key, is_complete, data_as_of, period_start = start_date "
                        "and period_end = end_date from marts.dim_period "
                        "where period_key in ('2025-H1', '2025-Q3', '2025-Q4', '2025-CQ2', '2025-CQ3') order by 1")
    as_of = datetime(2025, 8, 1, 18, 0)
    assert rows == [("2025-CQ2", True, as_of, True), ("2025-CQ3", False, as_of, True),
                    ("2025-H1", True, as_of, True), ("2025-Q3", False, as_of, True), ("2025-Q4", False, as_of, True)]


PERIOD_MARTS = ["reform_quarter", "reform_semester", "reform_annual", "reform_quarter_restated",
                "reform_semester_restated", "reform_annual_restated", "reform_province", "dossier_by_field"]


def test_no_data_is_null_not_zero_and_every_period_mart_says_if_complete(built):
    """The first dossier was received on 20/12/2024 (D9): official 2024-Q4 (to 14/12/2024) and every earlier period
    have no data, so NULL figures (they showed 0 dossiers); official 2025-Q1 (from 15/12/2024) and calendar
    2024-CQ4 have data. Every period mart has is_complete, described, and rates have 4 decimals, points 2."""
    for table in ("reform_quarter", "reform_quarter_restated"):
        assert query(built, f"select period_key, received_in_period, in_progress_total, on_time_rate, docs_outgoing "
                            f"from marts.{table} where unit_code = %s and period_key in ('2024-Q4', '2024-CQ4', "
                            f"'2025-Q1') order by 1", [TP]) == [
            ("2024-CQ4", 0, 0, None, None), ("2024-Q4", None, None, None, None), ("2025-Q1", 2, 1, Decimal(1), None)]
    assert query(built, "select period_key, received_in_period, carried_over from marts.reform_province "
                        "where period_key in ('2020-Y', '2024-Q4', '2024-CQ4') order by 1") == [
        ("2020-Y", None, None), ("2024-CQ4", 1, 0), ("2024-Q4", None, None)]
    assert query(built, "select count(*) filter (where received_in_period = 0), count(*) from marts.reform_annual "
                        "where period_key < '2024'") == [(0, query(built, "select count(*) from marts.reform_annual "
                                                                          "where period_key < '2024'")[0][0])]
    assert query(built, "select period_key, has_dossier_data from marts.dim_period "
                        "where period_key in ('2024-Q4', '2024-CQ4', '2025-Q1') order by 1") == [
        ("2024-CQ4", True), ("2024-Q4", False), ("2025-Q1", True)]

    for table in PERIOD_MARTS:
        # the newest extraction is 01/08/2025 18:00: periods ending by 31/07 are complete, later ones running
        complete = query(built, f"select is_complete, period_end < '2025-08-01', count(*) from marts.{table} "
                                f"group by 1, 2 order by 1")
        assert [(c, before) for c, before, _ in complete] == [(False, False), (True, True)], table
        assert query(built, "select col_description(%s::regclass, attnum) like 'True when the data reaches past%%' "
                            "from pg_attribute where attrelid = %s::regclass and attname = 'is_complete'",
                     [f"marts.{table}"] * 2) == [(True,)], table
    # what psql and a BI tool see: rates and shares with 4 decimals, self-assessed points with 2 (they had 20 and
    # a varying number)
    wrong = query(built, "select table_name, column_name, numeric_scale from information_schema.columns "
                         "where table_schema = 'marts' and data_type = 'numeric' and numeric_scale <> "
                         "case when column_name like '%%rate' or column_name like '%%share' "
                         "or column_name like 'avg%%' then 4 else 2 end")
    assert wrong == []
    # every rate of every mart: 4 decimals (a mart or column added later is held to it too)
    assert query(built, "select count(*) filter (where numeric_scale is distinct from 4), count(*) "
                        "from information_schema.columns where table_schema = 'marts' and column_name like '%%rate'"
                 )[0] == (0, 112)
    printed = query(built, "select distinct on_time_rate::text from marts.reform_quarter "
                           "where on_time_rate is not null")
    assert printed and all(len(text) == 6 for (text,) in printed), printed

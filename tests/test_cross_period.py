"""The cross-period checks of `reformwh check` (expectations/periods.py): each passes on the sample warehouse and
warns — naming the unit or field and the period — on an altered copy of its figures, without failing the check
(the marts stay checked for the report DAG).

The sample exports hold one quarter of dossiers, so the history the checks compare with is written into the marts
here (the module's own database; every altered table is restored after its test)."""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest

from expectations import periods
from reformwh import orchestration, pipeline
from tests.conftest import execute, query

UNIT = "000.00.16.H99"


@pytest.fixture(scope="module")
def built(sample_built):
    return sample_built


@contextmanager
def restored(settings, *tables: str):
    """The marts' tables as they were after the build, whatever the test wrote into them."""
    for table in tables:
        execute(settings, f"create table public.{table}_saved as table marts.{table}")
    try:
        yield
    finally:
        for table in tables:
            execute(settings, f"truncate marts.{table}; insert into marts.{table} select * from public.{table}_saved; "
                              f"drop table public.{table}_saved")


def quarters(settings) -> list[str]:
    """The complete official quarters, newest first (the checks' latest quarter and its history)."""
    return [k for (k,) in query(settings, "select period_key from marts.dim_period where calendar = 'official' "
                                          "and period_type = 'quarter' and is_complete order by period_start desc")]


def check(settings, on_warnings=None) -> tuple[list[str], dict[str, tuple]]:
    """Run `reformwh check`; its printed lines and, per cross-period suite, (success, severity, unexpected,
    elements, examples) as recorded."""
    lines: list[str] = []
    assert pipeline.check(settings, progress=lines.append, on_warnings=on_warnings)  # warnings never fail it
    rows = query(settings, "select suite, success, severity, unexpected_count, element_count, examples "
                           "from audit.quality_results where run_id = (select max(run_id) from audit.quality_runs) "
                           "and suite like 'cross_period.%%'")
    return lines, {r[0]: tuple(r[1:5]) + (json.loads(r[5]) if r[5] else None,) for r in rows}


def test_volume_per_unit_against_its_history(built, monkeypatch):
    latest, *history = quarters(built)[:1 + periods.HISTORY_QUARTERS]
    received = query(built, "select received_in_period from marts.reform_quarter_restated "
                            "where period_key = %s and unit_code = %s", [latest, UNIT])[0][0]
    lines, found = check(built)
    # the samples: no quarter before the latest has data, no unit or rate has a history to be judged against (GX
    # gives no unexpected count of no rows)
    assert found["cross_period.volume_per_unit"] == (True, "warning", None, 0, None)
    assert found["cross_period.distribution_shift"] == (True, "warning", None, 0, None)
    assert "cross_period.late_arrivals" not in found  # no report sent yet: nothing can have arrived after it
    assert not any(line.startswith("WARNING") for line in lines)
    with restored(built, "reform_quarter_restated"):
        # a history of 40, 50, 60, 70 dossiers (median 55) and 50 in the latest quarter: 91% of it, no warning
        for period, volume in zip(history, (40, 50, 60, 70), strict=True):
            execute(built, "update marts.reform_quarter_restated set received_in_period = %s "
                           "where period_key = %s and unit_code = %s", [volume, period, UNIT])
        execute(built, "update marts.reform_quarter_restated set received_in_period = 50 "
                       "where period_key = %s and unit_code = %s", [latest, UNIT])
        assert check(built)[1]["cross_period.volume_per_unit"] == (True, "warning", 0, 1, None)
        # the unit's exports stop arriving: 10 dossiers, 18% of its median; the quality DAG's way, with the
        # steward's alert
        execute(built, "update marts.reform_quarter_restated set received_in_period = 10 "
                       "where period_key = %s and unit_code = %s", [latest, UNIT])
        sent: list[tuple] = []
        monkeypatch.setattr(orchestration, "post_alert", lambda payload, *args, **kwargs: sent.append(
            (payload, args, kwargs)) or True)
        lines, found = check(built, on_warnings=lambda warnings: orchestration.notify_quality_warnings(
            warnings, dag_id="quality", run_id="r1"))
        assert found["cross_period.volume_per_unit"] == (False, "warning", 1, 1, [
            {"period_key": latest, "unit_code": UNIT, "received_in_period": 10, "history_median": 55.0,
             "volume_ratio": "0.1818"}])
        assert any(line.startswith("WARNING marts.reform_quarter_restated [volume_ratio]: ") and UNIT in line
                   for line in lines)
        run = query(built, "select success, failed, warnings, publication_id from audit.quality_runs "
                           "order by run_id desc limit 1")[0]
        assert run[:3] == (True, 0, 1)
        assert pipeline.current_publication(built) == (run[3], True)  # the report DAG still reports on it
        # the warning went to the data steward
        [(alert, args, kwargs)] = sent
        assert (alert["event"], alert["dag_id"], args, kwargs) == (
            "reformwh_quality_warnings", "quality", ("REFORMWH_STEWARD_WEBHOOK_URL",),
            {"fallback_variable": "REFORMWH_ALERT_WEBHOOK_URL"})
        assert len(alert["warnings"]) == 1 and UNIT in alert["warnings"][0] and "volume_ratio" in alert["text"]
        # a tiny unit: 5 dossiers a quarter against a median of 1, below the minimum volume of 20: not judged
        for period in history:
            execute(built, "update marts.reform_quarter_restated set received_in_period = 1 "
                           "where period_key = %s and unit_code = %s", [period, UNIT])
        execute(built, "update marts.reform_quarter_restated set received_in_period = 5 "
                       "where period_key = %s and unit_code = %s", [latest, UNIT])
        assert check(built)[1]["cross_period.volume_per_unit"][:4] == (True, "warning", None, 0)
    assert query(built, "select received_in_period from marts.reform_quarter_restated "
                        "where period_key = %s and unit_code = %s", [latest, UNIT])[0][0] == received


def test_distribution_shift_of_the_province_rates(built):
    latest, *history = quarters(built)[:1 + periods.HISTORY_QUARTERS]
    with restored(built, "reform_province"):
        # four quarters of 100 dossiers, 50% online, 80% on time; the latest 55% online, 80% on time
        execute(built, "update marts.reform_province set received_in_period = 100, online_rate = 0.5, "
                       "on_time_rate = 0.8 where period_key = any(%s)", [history])
        execute(built, "update marts.reform_province set received_in_period = 100, online_rate = 0.55, "
                       "on_time_rate = 0.8 where period_key = %s", [latest])
        assert check(built)[1]["cross_period.distribution_shift"] == (True, "warning", 0, 2, None)
        # online jumps to 90%: 40 points off its history
        execute(built, "update marts.reform_province set online_rate = 0.9 where period_key = %s", [latest])
        lines, found = check(built)
        assert found["cross_period.distribution_shift"] == (False, "warning", 1, 2, [
            {"period_key": latest, "field_code": "*", "measure": "online_rate", "latest_value": "0.9000",
             "history_value": "0.5000", "shift": "0.4000"}])
        assert any(line.startswith("WARNING marts.reform_province [shift]: ") for line in lines)


def test_late_arrivals_after_the_report(built):
    from reporting.record import ensure_reports_schema

    period, dossiers = query(built, "select p.period_key, count(*) from marts.dim_period as p "
                                    "join marts.fct_dossier as d on d.received_at >= p.start_date "
                                    "and d.received_at < p.end_date + 1 where d.unit_code = %s "
                                    "and p.calendar = 'official' and p.period_type = 'quarter' "
                                    "group by p.period_key order by p.period_key limit 1", [UNIT])[0]
    assert dossiers == 2
    import psycopg

    with psycopg.connect(built.database_url, autocommit=True) as conn, conn.transaction():
        ensure_reports_schema(conn)
    try:
        # the report generated now, after every load: no late arrival
        execute(built, "insert into reports.report_runs (period_key, calendar, period_type, edition, report_date, "
                       "files, figures_sha256, config) values (%s, 'official', 'quarter', 'preliminary', "
                       "current_date, '[]', '', '{}')", [period])
        units = query(built, "select count(distinct unit_code) from marts.fct_dossier as d join marts.dim_period "
                             "as p on d.received_at >= p.start_date and d.received_at < p.end_date + 1 "
                             "where p.period_key = %s", [period])[0][0]
        assert check(built)[1]["cross_period.late_arrivals"] == (True, "warning", 0, units, None)
        # the report was generated before the exports were loaded: every dossier of the period arrived after it
        execute(built, "update reports.report_runs set generated_at = now() - interval '1 day'")
        lines, found = check(built)
        success, severity, unexpected, elements, examples = found["cross_period.late_arrivals"]
        assert (success, severity, unexpected, elements) == (False, "warning", units, units)
        assert {"period_key": period, "unit_code": UNIT, "late_arrivals": 2, "dossiers": 2,
                "late_share": "1.0000"} in examples
        assert any(line.startswith("WARNING raw.one_stop_shop__dossiers [late_share]: ") for line in lines)
    finally:
        execute(built, "drop schema reports cascade")

"""Source freshness (`reformwh freshness`, pipeline.freshness: dbt source freshness with the thresholds of
dbt_project/macros/freshness.sql): daily exports judged in working time, self-reports against the reporting
calendar's deadlines, "now" injectable. The samples' one-stop-shop export was extracted on Monday 16/06/2025 at
23:59:59 (a date alone in the file name is the end of that day)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from reformwh import pipeline
from reformwh.cli import main
from tests.conftest import SAMPLES, execute, query

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def _judge(settings, source: str, *when: int) -> dict:
    """The source's tables judged at local time `when` (year, month, day, hour): {table: (status, age hours)}."""
    tables = pipeline.freshness(settings, [source], now=datetime(*when, tzinfo=HCM))
    return {t["table"]: (t["status"], t["age_hours"]) for t in tables}


@pytest.mark.parametrize(("when", "expected"), [
    ((2025, 6, 17, 8), ("pass", 8.0)),  # Tuesday morning: Monday's export
    ((2025, 6, 18, 8), ("pass", 32.0)),
    ((2025, 6, 19, 8), ("warn", 56.0)),  # Tuesday's and Wednesday's exports missing: past 36 h
    ((2025, 6, 20, 8), ("error", 80.0)),  # past 3 working days
    # the weekend does not count: Friday midnight's 96 h is still 96 h on Sunday evening
    ((2025, 6, 22, 20), ("error", 96.0)),
])
def test_a_daily_export_is_judged_in_working_time(sample_built, when, expected):
    assert _judge(sample_built, "one_stop_shop", *when) == {"one_stop_shop__dossiers": expected}


def test_weekends_and_holidays_do_not_make_an_export_late(sample_built):
    """Document management, empty in the samples: never loaded is an error. Then one row per table: documents
    extracted before the 30/04–01/05 holidays (Wednesday, Thursday in the samples' holidays.csv), tasks on a
    Friday evening."""
    never = pipeline.freshness(sample_built, ["document_management"], now=datetime(2025, 6, 17, 8, tzinfo=HCM))
    assert [(t["table"], t["status"], t["counted_from"]) for t in never] == [
        ("document_management__documents", "error", None), ("document_management__tasks", "error", None)]
    insert = ("insert into raw.{} (load_id, source_file, source_line, extracted_at) "
              "values (-1, 'test', 1, %s)")
    for table in ("document_management__documents", "document_management__tasks"):  # April 2025's partition
        execute(sample_built, "select raw.create_month_partition(%s::regclass, '2025-04-01')", [f"raw.{table}"])
    execute(sample_built, insert.format("document_management__documents"), [datetime(2025, 4, 29, 20)])
    execute(sample_built, insert.format("document_management__tasks"), [datetime(2025, 4, 25, 20)])
    try:
        # Friday 02/05 08:00: 60 h after Tuesday's extraction, of which two holidays: 12 working hours
        assert _judge(sample_built, "document_management", 2025, 5, 2, 8)["document_management__documents"] == (
            "pass", 12.0)
        # Monday 28/04 08:00: 60 h after Friday's extraction, of which a weekend: 12 working hours
        assert _judge(sample_built, "document_management", 2025, 4, 28, 8)["document_management__tasks"] == (
            "pass", 12.0)
        # ... and the holidays' and the weekend's time does not count while it passes
        assert _judge(sample_built, "document_management", 2025, 5, 1, 17)["document_management__documents"] == (
            "pass", 4.0)
    finally:
        execute(sample_built, "delete from raw.document_management__documents where load_id = -1")
        execute(sample_built, "delete from raw.document_management__tasks where load_id = -1")


def test_now_follows_report_status_as_of(sample_built, monkeypatch, capsys):
    """Without --now, freshness is judged on the day report statuses are: a date (at 00:00 local time), or
    `data` (the end of the newest day the data reaches, so a world that stopped in 2025 is not stale)."""
    for name, value in {"REFORMWH_DATABASE_URL": sample_built.database_url, "REFORMWH_HOME": str(sample_built.home),
                        "REFORMWH_REFERENCE_DIR": str(sample_built.reference_dir)}.items():
        monkeypatch.setenv(name, value)  # the CLI's settings: the samples' warehouse
    monkeypatch.setenv("REFORMWH_REPORT_STATUS_AS_OF", "2025-06-19")
    assert main(["freshness", "one_stop_shop"]) == 0  # a warning is no error
    assert "one_stop_shop.one_stop_shop__dossiers                warn        48.0" in capsys.readouterr().out
    monkeypatch.setenv("REFORMWH_REPORT_STATUS_AS_OF", "data")
    [table] = pipeline.freshness(sample_built, ["one_stop_shop"])
    assert (table["status"], table["age_hours"], table["judged_at"][:19]) == ("pass", 0.0, "2025-06-16T17:00:00")
    # the CLI's --now is local time; an error is exit status 1
    assert main(["freshness", "one_stop_shop", "--now", "2025-06-20T08:00"]) == 1
    assert "error       80.0                36/72  2025-06-16T16:59:59" in capsys.readouterr().out


@pytest.fixture(scope="module")
def with_a_self_report(sample_built):
    """The sample's 2025-Y submission of Sở Tư pháp (a department; the departments' deadline 15/01/2026), and a
    2026-Q1 deadline for departments on 18/03/2026 that nobody has met."""
    [result] = pipeline.ingest(sample_built, "self_reports", [SAMPLES / "self_reports"])
    assert result.status == "loaded", result.message
    execute(sample_built, "insert into reference.reporting_calendar values ('2026-Q1', 'department', '2026-03-18')")
    return sample_built


def test_self_reports_are_late_only_once_a_deadline_passed_with_nothing_sent(with_a_self_report):
    [(sent_at,)] = query(with_a_self_report, "select sent_at_parsed from raw.self_reports__submissions")
    assert sent_at < datetime(2026, 1, 16)  # on time for 2025-Y
    expected = {
        # before any deadline of the collection (self-reports are awaited from 2025-Y, the first period sent)
        (2025, 12, 1, 8): ("pass", 0.0),
        # 2025-Y's deadline passed, its report is in; 2026-Q1's deadline is the next day
        (2026, 3, 18, 20): ("pass", 0.0),
        # 2026-Q1's deadline passed at midnight with no department's report
        (2026, 3, 19, 12): ("pass", 12.0),
        (2026, 3, 20, 6): ("warn", 30.0),
        (2026, 3, 22, 8): ("error", 80.0),
    }
    judged = {when: _judge(with_a_self_report, "self_reports", *when) for when in expected}
    assert judged == {when: {"self_reports__submissions": status} for when, status in expected.items()}


def test_a_report_sent_for_the_period_ends_the_lateness(with_a_self_report):
    [(sent_at,)] = query(with_a_self_report, "select sent_at_parsed from raw.self_reports__submissions")
    execute(with_a_self_report, "update raw.self_reports__submissions set period_key = '2026-Q1', "
                                "sent_at_parsed = '2026-03-21 09:00'")
    try:
        # sent after the warning: from then on it is not late; before it was sent, it was
        assert _judge(with_a_self_report, "self_reports", 2026, 3, 22, 8) == {
            "self_reports__submissions": ("pass", 0.0)}
        assert _judge(with_a_self_report, "self_reports", 2026, 3, 21, 8) == {
            "self_reports__submissions": ("warn", 56.0)}
    finally:
        execute(with_a_self_report, "update raw.self_reports__submissions set period_key = '2025-Y', "
                                    "sent_at_parsed = %s", [sent_at])


def test_a_late_source_is_announced_once_then_daily(sample_built, monkeypatch):
    """The ingestion DAGs judge freshness every hour: the steward hears of a late export when it becomes late,
    when it gets worse, and once a day while it stays so (audit.freshness_alerts), not on every run."""
    from reformwh import orchestration

    posted: list[dict] = []
    monkeypatch.setattr(orchestration, "post_alert", lambda payload, *args, **kwargs: posted.append(payload))
    execute(sample_built, "delete from audit.freshness_alerts")

    def hourly_run(as_of: str) -> list[str]:
        monkeypatch.setenv("REFORMWH_REPORT_STATUS_AS_OF", as_of)
        posted.clear()
        orchestration.check_freshness(sample_built, "one_stop_shop", "ingest_one_stop_shop", "run")
        return [t["status"] for alert in posted for t in alert["tables"]]

    assert hourly_run("2025-06-19") == ["warn"]
    assert hourly_run("2025-06-19") == []  # the next run: the same lateness, announced already
    assert hourly_run("2025-06-21") == ["error"]  # worse
    assert hourly_run("2025-06-21") == []
    execute(sample_built, "update audit.freshness_alerts set alerted_at = alerted_at - interval '25 hours'")
    assert hourly_run("2025-06-21") == ["error"]  # a day later, still late: the reminder
    assert query(sample_built, "select status, count(*) from audit.freshness_alerts group by 1 order by 1") == [
        ("error", 2), ("warn", 1)]

"""`reformwh check`: the Great Expectations suites pass on a correct build, record their figures in
audit.quality_results, and fail — naming table, column and expectation — when a mart or raw row is wrong."""

from __future__ import annotations

import pytest

from reformwh import cli, pipeline
from tests.conftest import execute, query


@pytest.fixture(scope="module")
def built(sample_built):
    return sample_built


def latest_run(settings) -> int:
    return query(settings, "select max(run_id) from audit.quality_runs")[0][0]


def results(settings, run_id: int) -> dict[tuple[str, str | None, str], tuple]:
    rows = query(settings, "select suite, column_name, expectation, success, unexpected_count, element_count "
                           "from audit.quality_results where run_id = %s", [run_id])
    return {(suite, column, expectation): (success, unexpected, elements)
            for suite, column, expectation, success, unexpected, elements in rows}


def test_check_passes_on_the_sample_and_records_figures(built):
    lines: list[str] = []
    assert pipeline.check(built, progress=lines.append)
    run_id = latest_run(built)
    run = query(built, "select success, expectations, failed, data_docs from audit.quality_runs where run_id = %s",
                [run_id])[0]
    recorded = results(built, run_id)
    assert run[:3] == (True, len(recorded), 0)
    assert run[3].endswith("data_docs/index.html") and any("Data Docs" in line for line in lines)

    # raw: every loaded row checked, required values present, code sets and the latest versions unique
    loaded = query(built, "select count(*) from raw.one_stop_shop__dossiers")[0][0]
    assert loaded == 5
    raw = "raw.one_stop_shop__dossiers"
    assert recorded[(raw, "dossier_code", "expect_column_values_to_not_be_null")] == (True, 0, loaded)
    assert recorded[(raw, "channel_parsed", "expect_column_values_to_be_in_set")] == (True, 0, loaded)
    assert recorded[(raw, "status_parsed", "expect_column_values_to_be_in_set")] == (True, 0, loaded)
    assert recorded[(raw, "fee_amount_parsed", "expect_column_values_to_be_between")] == (True, 0, loaded)
    assert recorded[(raw, None, "expect_table_columns_to_match_set")][0] is True
    assert recorded[(raw, "dossier_code", "unexpected_rows_expectation")] == (True, 0, None)

    # marts: one row per key, every *_rate column in [0, 1], the conservation identities on every row
    for table in ("reform_quarter", "reform_semester", "reform_annual"):
        rows = query(built, f"select count(*) from marts.{table}")[0][0]
        assert rows > 0
        suite = f"marts.{table}"
        assert recorded[(suite, "period_key, unit_code", "expect_compound_columns_to_be_unique")] == (True, 0, rows)
        rates = {c for (c,) in query(built, "select column_name from information_schema.columns where "
                                            "table_schema = 'marts' and table_name = %s and column_name like "
                                            "'%%\\_rate'", [table])}
        assert len(rates) >= 8
        checked = {col for (s, col, e) in recorded if s == suite and e == "expect_column_values_to_be_between"}
        assert checked == rates
        assert recorded[(suite, "received_in_period, carried_over, resolved_total, in_progress_total",
                         "unexpected_rows_expectation")] == (True, 0, None)
        assert recorded[(suite, "resolved_total, resolved_ahead, resolved_on_time, resolved_late",
                         "unexpected_rows_expectation")] == (True, 0, None)
    province = query(built, "select count(*) from marts.reform_province")[0][0]
    assert recorded[("marts.reform_province", "period_key", "expect_column_values_to_be_unique")] == (
        True, 0, province)
    assert ("marts.reform_province", "period_key, in_progress_total, carried_over, period_end, data_as_of",
            "unexpected_rows_expectation") in recorded


def test_check_fails_naming_table_column_and_expectation(built, monkeypatch, capsys):
    # a rate above 1, a broken conservation identity, a channel outside its code set, two different
    # "latest versions" of one dossier
    row = query(built, "select period_key, unit_code from marts.reform_quarter where resolved_total > 0 "
                       "order by period_key, unit_code limit 1")[0]
    period = query(built, "select period_key from marts.reform_province where in_progress_total > 0 "
                          "order by period_key limit 1")[0][0]
    execute(built, "update marts.reform_quarter set on_time_rate = 1.5 where period_key = %s and unit_code = %s",
          row)
    execute(built, "update marts.reform_province set resolved_total = resolved_total + 1 where period_key = %s",
          [period])
    code = query(built, "select min(dossier_code) from raw.one_stop_shop__dossiers")[0][0]
    execute(built, "insert into raw.one_stop_shop__dossiers select * from raw.one_stop_shop__dossiers "
                   "where dossier_code = %s", [code])
    execute(built, "update raw.one_stop_shop__dossiers set channel_parsed = 7, procedure_name = 'changed' "
                 "where ctid = (select max(ctid) from raw.one_stop_shop__dossiers)")
    try:
        monkeypatch.setenv("REFORMWH_DATABASE_URL", built.database_url)
        monkeypatch.setenv("REFORMWH_HOME", str(built.home))
        capsys.readouterr()
        assert cli.main(["check"]) == 1
        out = capsys.readouterr().out
        assert ("FAILED marts.reform_quarter [on_time_rate]: expect_column_values_to_be_between "
                f"(1 unexpected of {query(built, 'select count(*) from marts.reform_quarter')[0][0]}; "
                'e.g. ["1.5000"])') in out
        assert ("FAILED marts.reform_province [resolved_total, resolved_ahead, resolved_on_time, resolved_late]: "
                "unexpected_rows_expectation — resolved_total = resolved_ahead + resolved_on_time + resolved_late"
                ) in out
        assert "FAILED raw.one_stop_shop__dossiers [channel_parsed]: expect_column_values_to_be_in_set" in out
        assert ("FAILED raw.one_stop_shop__dossiers [dossier_code]: unexpected_rows_expectation — the newest "
                "extraction of each dossier_code is one version (1 unexpected; e.g. [{\"dossier_code\": "
                f"\"{code}\", ") in out
        assert f'e.g. [{{"period_key": "{period}", "received_in_period": ' in out  # the bad row, by its key
        run_id = latest_run(built)
        assert query(built, "select success, failed from audit.quality_runs where run_id = %s", [run_id]) == [
            (False, 5)]
        recorded = results(built, run_id)
        quarter_rows = query(built, "select count(*) from marts.reform_quarter")[0][0]
        assert recorded[("marts.reform_quarter", "on_time_rate", "expect_column_values_to_be_between")] == (
            False, 1, quarter_rows)
        # both identities with resolved_total break on the province row
        assert recorded[("marts.reform_province", "received_in_period, carried_over, resolved_total, "
                         "in_progress_total", "unexpected_rows_expectation")] == (False, 1, None)
        assert recorded[("raw.one_stop_shop__dossiers", "channel_parsed",
                         "expect_column_values_to_be_in_set")] == (False, 1, 6)
        assert recorded[("raw.one_stop_shop__dossiers", "dossier_code", "unexpected_rows_expectation")] == (
            False, 1, None)
    finally:
        execute(built, "delete from raw.one_stop_shop__dossiers where channel_parsed = 7")
        assert pipeline.build(built, progress=lambda _: None, quiet=True)


def rule_names(suite) -> list[str]:
    return [getattr(r, "description", None) or f"{type(r).__name__}({', '.join(r.columns)})" for r in suite.rules]


def test_mart_suites_follow_the_columns_a_table_has():
    from expectations import marts

    base = {c: "bigint" for c in ("received_in_period", "carried_over", "resolved_total", "resolved_ahead",
                                  "resolved_on_time", "resolved_late", "in_progress_total")}
    base |= {"period_key": "text", "calendar": "text", "unit_code": "text", "on_time_rate": "numeric"}
    today = rule_names(marts.table_suite("reform_quarter", base))
    assert "Unique(period_key, unit_code)" in today and "Range(on_time_rate)" in today
    assert "resolved_total = resolved_ahead + resolved_on_time + resolved_late" in today
    # in_progress_overdue / _on_time are missing here, so their identity waits for them
    assert "in_progress_total = in_progress_overdue + in_progress_on_time" not in today
    assert not any("report_status" in r for r in today)

    later = base | {"report_status": "text", "tasks_due": "bigint", "tasks_done_on_time": "bigint",
                    "tasks_done_late": "bigint", "task_on_time_rate": "numeric", "par_self_score": "integer"}
    added = set(rule_names(marts.table_suite("reform_quarter", later))) - set(today)
    assert added == {
        "Range(task_on_time_rate)", "tasks_done_on_time + tasks_done_late <= tasks_due",
        "every unit has a report_status on official-calendar rows (and none on calendar rows)"}
    restated = rule_names(marts.table_suite("reform_quarter_restated", later))
    assert "self-report columns are not restated: report_status is NULL" in restated
    negative = next(r for r in marts.table_suite("reform_quarter", later).rules
                    if getattr(r, "description", "") == "counts are not negative")
    assert "tasks_due < 0" in negative.violation and "par_self_score" not in negative.violation


def test_a_new_source_gets_its_raw_suite_from_its_contract(monkeypatch):
    from expectations import raw
    from ingestion import contracts
    from ingestion.contracts import Contract, Field

    tasks = Contract(source="document_management", entity="tasks", key=("task_code",), fields=(
        Field("task_code", "Mã nhiệm vụ", required="file"),
        Field("deadline", "Hạn xử lý", kind="date", required="file"),
        Field("reminders", "Số lần nhắc", kind="count"),
    ))
    monkeypatch.setitem(contracts.CONTRACTS, "document_management", [tasks])
    table = "raw.document_management__tasks"
    monkeypatch.setitem(raw.SOURCE_RULES, table, [raw.ValueSet("status_parsed", (1, 2))])  # column absent
    columns = {table: {"task_code", "deadline", "deadline_parsed", "reminders", "reminders_parsed",
                       "extracted_at"}}
    suites = {s.name: s for s in raw.suites(columns)}
    assert rule_names(suites[table]) == [
        "HasColumns()", "NotNull(task_code)", "NotNull(deadline)", "NotNull(deadline_parsed)",
        "Range(reminders_parsed)", "the newest extraction of each task_code is one version"]
    assert set(suites[table].rules[0].names) >= {"load_id", "source_file", "task_code", "reminders_parsed"}


def test_check_works_on_an_empty_database(settings):
    assert pipeline.check(settings, progress=lambda _: None)
    suites = {s for (s,) in query(settings, "select distinct suite from audit.quality_results")}
    from ingestion.contracts import CONTRACTS

    assert suites == {c.raw_table for contracts in CONTRACTS.values() for c in contracts}
    assert query(settings, "select count(*) filter (where not success), max(element_count) "
                           "from audit.quality_results") == [(0, 0)]


def test_data_docs_keep_the_last_runs(built, monkeypatch):
    from expectations import runner

    monkeypatch.setattr(runner, "KEEP_RUNS", 2)
    for _ in range(2):
        assert pipeline.check(built, progress=lambda _: None)
    for root in (built.home / "gx" / "uncommitted" / "validations", built.home / "data_docs" / "validations"):
        runs = [p for p in (root / "marts" / "reform_quarter" / "__none__").iterdir() if p.is_dir()]
        assert len(runs) == 2, root
    assert query(built, "select count(distinct run_id) from audit.quality_results")[0][0] >= 3


def test_a_mart_that_appears_then_goes_gets_its_suite_then_loses_it(built):
    execute(built, "create table marts.extra_figures as select 'x'::text as period_key, 0.5::numeric as some_rate")
    try:
        assert pipeline.check(built, progress=lambda _: None)
        recorded = results(built, latest_run(built))
        assert recorded[("marts.extra_figures", "some_rate", "expect_column_values_to_be_between")] == (True, 0, 1)
    finally:
        execute(built, "drop table marts.extra_figures")
    assert pipeline.check(built, progress=lambda _: None)
    assert not any(suite == "marts.extra_figures" for suite, _, _ in results(built, latest_run(built)))

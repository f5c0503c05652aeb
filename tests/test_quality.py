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

    # marts: one row per key, every *_rate column in [0, 1], the conservation identities on every row — dbt's
    # tests (run by the build), no longer GX's too (issue 13 item 4: one owner per rule)
    tests = dbt_mart_tests(built)
    for table in ("reform_quarter", "reform_semester", "reform_annual"):
        rows = query(built, f"select count(*) from marts.{table}")[0][0]
        assert rows > 0
        suite = f"marts.{table}"
        assert tests[(table, "unique_combination", None)] == {"combination_of_columns": ["period_key", "unit_code"]}
        rates = {c for (c,) in query(built, "select column_name from information_schema.columns where "
                                            "table_schema = 'marts' and table_name = %s and column_name like "
                                            "'%%\\_rate'", [table])}
        assert len(rates) >= 8
        assert set(tests[(table, "rates_between_0_and_1", None)]["column_names"]) == rates
        assert (table, "dossier_conservation", None) in tests
        assert "resolved_total <> resolved_ahead + resolved_on_time + resolved_late" in dossier_conservation_sql()
        assert "received_in_period + carried_over <> resolved_total + in_progress_total" in dossier_conservation_sql()
        # GX checks none of them again, and checks what dbt does not: a row for every unit of every period
        dbt_owns = ("expect_compound_columns_to_be_unique", "expect_column_values_to_be_between")
        assert not any(s == suite and e in dbt_owns for s, _, e in recorded)
        assert recorded[(suite, "period_key, period_start, period_end, unit_code", "unexpected_rows_expectation")] == (
            True, 0, None)
    assert {("reform_province", "unique", "period_key"), ("reform_province", "not_null", "period_key")} <= set(tests)
    assert ("marts.reform_province", "period_key, in_progress_total, carried_over, period_end, data_as_of",
            "unexpected_rows_expectation") in recorded


def dbt_mart_tests(settings) -> dict[tuple[str, str, str | None], dict]:
    """(mart, generic test, column or None) -> the test's arguments, from the manifest of the last build."""
    import json

    manifest = json.loads((settings.dbt_target_dir / "manifest.json").read_text())
    tests = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test" and node.get("test_metadata") and "/marts/" in node["original_file_path"]:
            kwargs = dict(node["test_metadata"]["kwargs"])
            column = kwargs.pop("column_name", None)
            kwargs.pop("model", None)
            tests[(node["attached_node"].split(".")[-1], node["test_metadata"]["name"], column)] = kwargs
    return tests


def dossier_conservation_sql() -> str:
    from reformwh.settings import DBT_PROJECT_DIR

    return (DBT_PROJECT_DIR / "macros" / "test_unique_combination.sql").read_text()


def test_check_fails_naming_table_column_and_expectation(built, monkeypatch, capsys):
    # a rate above 1 and a negative count on a quarter row, a broken conservation identity, a channel outside its
    # code set, two different "latest versions" of one dossier
    row = query(built, "select period_key, unit_code from marts.reform_quarter where resolved_total > 0 "
                       "order by period_key, unit_code limit 1")[0]
    period = query(built, "select period_key from marts.reform_province where in_progress_total > 0 "
                          "order by period_key limit 1")[0][0]
    execute(built, "update marts.reform_quarter set on_time_rate = 1.5, received_direct = -1 "
                   "where period_key = %s and unit_code = %s", row)
    execute(built, "update marts.reform_province set resolved_total = resolved_total + 1 where period_key = %s",
          [period])
    code = query(built, "select min(dossier_code) from raw.one_stop_shop__dossiers")[0][0]
    execute(built, "insert into raw.one_stop_shop__dossiers select * from raw.one_stop_shop__dossiers "
                   "where dossier_code = %s", [code])
    execute(built, "update raw.one_stop_shop__dossiers set channel_parsed = 7, procedure_name = 'changed' "
                 "where ctid = (select max(ctid) from raw.one_stop_shop__dossiers)")
    try:
        # the rate and the identities are dbt's rules: its tests on the marts fail, naming them
        from reformwh.dbt import run_dbt

        nodes: list[dict] = []
        assert not run_dbt(built, ["test", "--select", "reform_quarter reform_province", "--exclude-resource-type",
                                   "unit_test"], quiet=True, node_results=nodes)
        failed = {node["name"]: node["rows"] for node in nodes if node["status"] == "fail"}
        assert failed[next(n for n in failed if n.startswith("rates_between_0_and_1_reform_quarter_"))] == 1
        # both identities with resolved_total break on the province row (one row)
        assert failed["dossier_conservation_reform_province_"] == 1
        # received_in_period = received_online + received_direct + received_postal
        assert failed[next(n for n in failed if n.startswith("kpi_identities_reform_quarter_"))] == 1

        monkeypatch.setenv("REFORMWH_DATABASE_URL", built.database_url)
        monkeypatch.setenv("REFORMWH_HOME", str(built.home))
        capsys.readouterr()
        # the rows were written under loads a check has validated already: only a full check reads them again
        assert cli.main(["check", "--full"]) == 1
        out = capsys.readouterr().out
        assert "FAILED marts.reform_quarter [" in out and "counts are not negative (1 unexpected" in out
        assert "FAILED raw.one_stop_shop__dossiers [channel_parsed]: expect_column_values_to_be_in_set" in out
        assert ("FAILED raw.one_stop_shop__dossiers [dossier_code]: unexpected_rows_expectation — the newest "
                "extraction of each dossier_code is one version (1 unexpected; e.g. [{\"dossier_code\": "
                f"\"{code}\", ") in out
        assert f'e.g. [{{"period_key": "{row[0]}", "unit_code": "{row[1]}", ' in out  # the bad row, by its key
        assert "marts.reform_province" not in out  # its identities are dbt's; its carry-over still holds
        run_id = latest_run(built)
        assert query(built, "select success, failed from audit.quality_runs where run_id = %s", [run_id]) == [
            (False, 3)]
        recorded = results(built, run_id)
        assert next(v for (s, _, e), v in recorded.items() if s == "marts.reform_quarter" and not v[0]) == (
            False, 1, None)
        assert recorded[("raw.one_stop_shop__dossiers", "channel_parsed",
                         "expect_column_values_to_be_in_set")] == (False, 1, 6)
        assert recorded[("raw.one_stop_shop__dossiers", "dossier_code", "unexpected_rows_expectation")] == (
            False, 1, None)
    finally:
        execute(built, "delete from raw.one_stop_shop__dossiers where channel_parsed = 7")
        assert pipeline.build(built, progress=lambda _: None, quiet=True)


def test_a_check_reads_the_raw_rows_of_new_loads_only(built):
    """Raw only grows, so a check validates the rows of the loads no passed check validated yet: nothing when
    no load came, the new load's rows when one did (a bad row there fails the check, and the load stays to be
    checked), and every row with --full."""
    raw = "raw.one_stop_shop__dossiers"
    total = query(built, f"select count(*) from {raw}")[0][0]
    assert pipeline.check(built, progress=lambda _: None, full=True)
    assert results(built, latest_run(built))[(raw, "channel_parsed", "expect_column_values_to_be_in_set")] == (
        True, 0, total)
    lines: list[str] = []
    assert pipeline.check(built, progress=lines.append)
    assert not any(suite == raw for suite, _, _ in results(built, latest_run(built)))
    assert any("the raw rows of 0 load(s) not checked before" in line for line in lines)

    # a new load whose one row has a channel outside its code set
    load = query(built, "select nextval('audit.load_id_seq')")[0][0]
    execute(built, "insert into audit.file_loads select (jsonb_populate_record(null::audit.file_loads, to_jsonb(f) "
                   "|| jsonb_build_object('load_id', %s, 'file_sha256', 'not a file'))).* from audit.file_loads f "
                   "where status = 'loaded' order by load_id limit 1", [load])
    execute(built, f"insert into {raw} select (jsonb_populate_record(null::{raw}, to_jsonb(r) "
                   "|| jsonb_build_object('load_id', %s, 'channel_parsed', 7))).* from raw.one_stop_shop__dossiers r "
                   "order by dossier_code limit 1", [load])
    try:
        for _ in range(2):  # failed, so checked again by the next run
            assert not pipeline.check(built, progress=lambda _: None)
            recorded = results(built, latest_run(built))
            assert recorded[(raw, "channel_parsed", "expect_column_values_to_be_in_set")] == (False, 1, 1)
            assert recorded[(raw, "dossier_code", "expect_column_values_to_not_be_null")] == (True, 0, 1)
        assert query(built, "select count(*) from audit.quality_checked_loads where load_id = %s", [load]) == [(0,)]
    finally:
        execute(built, f"delete from {raw} where load_id = %s", [load])
        execute(built, "delete from audit.file_loads where load_id = %s", [load])
    assert pipeline.check(built, progress=lambda _: None)


def rule_names(suite) -> list[str]:
    return [getattr(r, "description", None) or f"{type(r).__name__}({', '.join(r.columns)})" for r in suite.rules]


def test_mart_suites_are_declared_per_mart_and_leave_dbt_its_rules():
    import yaml

    from expectations import marts
    from reformwh.settings import DBT_PROJECT_DIR

    # every mart dbt builds is declared (an empty list: dbt owns all its rules), and nothing else is
    built_marts = {p.stem for p in (DBT_PROJECT_DIR / "models" / "marts").rglob("*.sql")}
    assert set(marts.MART_CHECKS) == built_marts

    base = {c: "bigint" for c in ("received_in_period", "carried_over", "resolved_total", "resolved_ahead",
                                  "resolved_on_time", "resolved_late", "in_progress_total")}
    base |= {"period_key": "text", "calendar": "text", "unit_code": "text", "on_time_rate": "numeric"}
    today = rule_names(marts.table_suite("reform_quarter", base))
    # the key, the rates and the identities are dbt's (the mart's YAML), not checked by GX again
    assert "Unique(period_key, unit_code)" not in today and "Range(on_time_rate)" not in today
    assert "resolved_total = resolved_ahead + resolved_on_time + resolved_late" not in today
    models = {m["name"]: m for path in (DBT_PROJECT_DIR / "models" / "marts").rglob("_*__models.yml")
              for m in yaml.safe_load(path.read_text())["models"]}
    declared = {next(iter(t)) if isinstance(t, dict) else t: (next(iter(t.values())) if isinstance(t, dict) else {})
                for t in models["reform_quarter"]["data_tests"]}
    assert declared["unique_combination"]["arguments"]["combination_of_columns"] == ["period_key", "unit_code"]
    assert "on_time_rate" in declared["rates_between_0_and_1"]["arguments"]["column_names"]
    assert "dossier_conservation" in declared
    assert "tasks_done_on_time + tasks_done_late <= tasks_due" in declared["kpi_identities"]["arguments"]["equations"]
    assert not any("report_status" in r for r in today)

    later = base | {"report_status": "text", "tasks_due": "bigint", "tasks_done_on_time": "bigint",
                    "tasks_done_late": "bigint", "task_on_time_rate": "numeric", "par_self_score": "integer",
                    "period_start": "date", "period_end": "date"}
    assert rule_names(marts.table_suite("reform_quarter", later)) == [
        "counts are not negative", "every unit that existed during a period has a row for it"]
    restated = rule_names(marts.table_suite("reform_quarter_restated", later))
    assert "self-report columns are not restated: report_status is NULL" in restated
    negative = next(r for r in marts.table_suite("reform_quarter", later).rules
                    if getattr(r, "description", "") == "counts are not negative")
    assert "tasks_due < 0" in negative.violation and "par_self_score" not in negative.violation
    # a table no declaration names gets no rule from its name or its columns
    assert marts.table_suite("reform_new", later).rules == []
    assert marts.suites({"marts.reform_new": later, "marts.dim_unit": {"unit_code": "text"}}) == []


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


def test_a_mart_no_declaration_names_gets_no_suite(built):
    """The mart suites are declared per mart (expectations/marts.py MART_CHECKS), not guessed: a new table with a
    rate above 1 gets no GX suite (its rules go in its dbt YAML, or in MART_CHECKS)."""
    execute(built, "create table marts.extra_figures as select 'x'::text as period_key, 1.5::numeric as some_rate")
    try:
        assert pipeline.check(built, progress=lambda _: None)
        assert not any(suite == "marts.extra_figures" for suite, _, _ in results(built, latest_run(built)))
    finally:
        execute(built, "drop table marts.extra_figures")

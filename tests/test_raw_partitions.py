"""Raw that can grow for years (issue 11 item 3): raw tables partitioned by month of extraction, old warehouses
converted, months archived to files and restored, personal data purged per partition."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import shutil
from datetime import date, datetime

import psycopg
import pytest

from ingestion.contracts import CONTRACTS
from ingestion.schema import ensure_schema, raw_columns
from reformwh import cli, pipeline
from reformwh.raw_partitions import ArchivedRaw, analyze_loaded_partitions, archive_raw, restore_raw
from tests.conftest import SAMPLES, execute, query
from tests.test_incremental import _assert_same_marts, _marts
from tests.test_ingestion import row, write_csv

DOSSIERS = "raw.one_stop_shop__dossiers"


def _partitions(settings, table: str = DOSSIERS) -> dict[str, int]:
    """partition name -> rows"""
    names = [n for (n,) in query(settings, "select inhrelid::regclass::text from pg_inherits "
                                           "where inhparent = %s::regclass order by 1", [table])]
    return {n: query(settings, f"select count(*) from {n}")[0][0] for n in names}


def test_raw_tables_are_partitioned_by_month_of_extraction(make_settings, tmp_path):
    settings = make_settings(SAMPLES / "reference")
    # a sample export, and the same again (one blank line more) extracted in the next month
    source = SAMPLES / "one_stop_shop" / "ho_so_20250616.csv"
    july = tmp_path / "ho_so_20250701T170000.csv"
    july.write_bytes(source.read_bytes() + b"\n")
    results = pipeline.ingest(settings, "one_stop_shop", [source, july])
    assert [r.status for r in results] == ["loaded", "loaded"]

    kinds = dict(query(settings, "select c.oid::regclass::text, c.relkind from pg_class c "
                                 "join pg_namespace n on n.oid = c.relnamespace "
                                 "where n.nspname = 'raw' and not c.relispartition and c.relkind in ('r', 'p')"))
    assert {t: kinds[t] for c in sum(CONTRACTS.values(), []) for t in [c.raw_table]} == {
        c.raw_table: "p" for c in sum(CONTRACTS.values(), [])}
    assert kinds["raw.self_reports__packages"] == "r"  # not a contract's table: the packages as received

    parts = _partitions(settings)
    assert parts == {f"{DOSSIERS}_2025_06": results[0].rows_loaded, f"{DOSSIERS}_2025_07": results[1].rows_loaded}
    assert results[0].rows_loaded == results[1].rows_loaded > 0
    # each partition holds its month's rows only, and has the B-trees on load_id and dossier_code
    assert query(settings, f"select min(extracted_at), max(extracted_at) from {DOSSIERS}_2025_07")[0] == (
        datetime(2025, 7, 1, 17), datetime(2025, 7, 1, 17))
    indexes = query(settings, "select indexrelid::regclass::text, pg_get_indexdef(indexrelid) from pg_index "
                              "where indrelid = %s::regclass", [f"{DOSSIERS}_2025_07"])
    assert sorted(definition.split(" USING ")[1] for _, definition in indexes) == [
        "btree (dossier_code)", "btree (load_id)"]
    # the other tables of the source got their month's partition too (empty), nothing else
    assert _partitions(settings, "raw.document_management__documents") == {}
    # a build analyzes the partitions a large load wrote (here: any load), once
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        assert analyze_loaded_partitions(conn, min_rows=results[0].rows_loaded) == sorted(parts)
        assert conn.execute("select count(*) from pg_stat_user_tables where relid = any(%s::regclass[]) "
                            "and last_analyze is not null", [sorted(parts)]).fetchone()[0] == 2
        assert analyze_loaded_partitions(conn, min_rows=1) == []


def test_a_warehouse_with_plain_raw_tables_is_converted_keeping_every_row(make_settings):
    settings = make_settings()
    contract = CONTRACTS["one_stop_shop"][0]
    columns = raw_columns(contract)
    ddl = ",\n".join(f"{name} {sql_type}" for name, sql_type in columns)
    values = []
    for i, (day, hour) in enumerate([("2024-12-31", 23), ("2025-01-01", 0), ("2025-01-31", 12), ("2025-03-05", 8)]):
        values.append((10 + i, f"ho_so_{day}.csv", i + 2, f"{day} {hour:02}:00:00", f"HS-{i}", "Nguyễn Văn A"))
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute("create schema raw")
        conn.execute(f"create table {DOSSIERS} ({ddl})")  # as ingestion/schema.py made it before
        conn.execute(f"create index one_stop_shop__dossiers_load on {DOSSIERS} using brin (load_id)")
        for load_id, file, line, extracted, code, name in values:
            conn.execute(f"insert into {DOSSIERS} (load_id, source_file, source_line, extracted_at, dossier_code, "
                         "applicant_name, loaded_at) values (%s, %s, %s, %s, %s, %s, '2025-03-06 10:00+07')",
                         [load_id, file, line, extracted, code, name])
        conn.execute("create schema staging")
        conn.execute(f"create view staging.old_view as select dossier_code from {DOSSIERS}")
        before = conn.execute(f"select * from {DOSSIERS} order by load_id").fetchall()
        ensure_schema(conn)
        after = conn.execute(f"select * from {DOSSIERS} order by load_id").fetchall()
        assert conn.execute(f"select relkind from pg_class where oid = '{DOSSIERS}'::regclass").fetchone()[0] == "p"
        # the dependent view went with the old table (dbt makes its views again)
        assert conn.execute("select to_regclass('staging.old_view')").fetchone()[0] is None
        ensure_schema(conn)  # nothing more to do
    assert after == before and len(after) == 4
    assert _partitions(settings) == {f"{DOSSIERS}_2024_12": 1, f"{DOSSIERS}_2025_01": 2, f"{DOSSIERS}_2025_03": 1}
    # the other (empty) raw tables are partitioned too, and loads go on into the converted table
    results = pipeline.ingest(dataclasses.replace(settings, reference_dir=SAMPLES / "reference"), "one_stop_shop",
                              [SAMPLES / "one_stop_shop" / "ho_so_20250616.csv"])
    assert results[0].status == "loaded"
    assert _partitions(settings)[f"{DOSSIERS}_2025_06"] == results[0].rows_loaded


def test_personal_data_is_purged_partition_by_partition(make_settings, tmp_path):
    settings = make_settings(SAMPLES / "reference")
    source = SAMPLES / "one_stop_shop" / "ho_so_20250616.csv"
    july = tmp_path / "ho_so_20250701T170000.csv"
    july.write_bytes(source.read_bytes() + b"\n")
    pipeline.ingest(settings, "one_stop_shop", [source, july])
    # every row loaded on 01/06/2025 — impossible for July's (loaded before they were extracted), which shows
    # that the purge with a cutoff of 20/06/2025 does not even look at the months after it
    execute(settings, f"update {DOSSIERS} set loaded_at = '2025-06-01 08:00+07'")
    older_than_days = (date.today() - date(2025, 6, 20)).days
    named = "select count(*) from {} where applicant_name is not null"
    june, july_named = (query(settings, named.format(f"{DOSSIERS}_2025_{m}"))[0][0] for m in ("06", "07"))
    assert june == july_named > 0
    raw, _ = pipeline.purge_personal_data(settings, older_than_days)
    assert query(settings, named.format(f"{DOSSIERS}_2025_06"))[0][0] == 0
    assert query(settings, named.format(f"{DOSSIERS}_2025_07"))[0][0] == july_named  # skipped: after the cutoff
    assert raw == june


def test_archive_and_restore_from_the_command_line_and_quarantine_of_an_archived_month(make_settings, tmp_path,
                                                                                      monkeypatch, capsys):
    reference = tmp_path / "reference"
    shutil.copytree(SAMPLES / "reference", reference)
    settings = make_settings(reference)
    for name, value in (("REFORMWH_HOME", str(settings.home)), ("REFORMWH_DATABASE_URL", settings.database_url),
                        ("REFORMWH_REFERENCE_DIR", str(reference))):
        monkeypatch.setenv(name, value)
    path = write_csv(tmp_path / "ho_so_20250616.csv", [row("U-1"), row("U-2", **{"Mã đơn vị": "000.00.77.H99"})])
    [result] = pipeline.ingest(settings, "one_stop_shop", [path])
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)

    assert cli.main(["archive-raw", "--before", "2025-07"]) == 0
    out = capsys.readouterr().out
    assert f"archived {DOSSIERS}_2025_06: 1 row(s) -> {settings.home / 'archive' / 'raw'}" in out
    assert "1 month partition(s) archived, 1 row(s)" in out
    assert _partitions(settings) == {}
    # the registry fixed: the quarantined row belongs to an archived month, and stays in quarantine
    with open(reference / "units.csv", "a", encoding="utf-8") as handle:
        handle.write("000.00.77.H99,Sở Mới,department,000.00.00.H99,2020-01-01,,,true\n")
    assert pipeline.reprocess_quarantine(settings) == (0, 1)
    assert cli.main(["archive-raw", "--before", "2999-01"]) == 1
    assert "the current month" in capsys.readouterr().err
    assert cli.main(["restore-raw"]) == 2

    assert cli.main(["restore-raw", "--month", "2025-06"]) == 0
    assert "1 month partition(s) restored, 1 row(s)" in capsys.readouterr().out
    assert pipeline.reprocess_quarantine(settings) == (1, 0)
    assert query(settings, f"select dossier_code, source_line from {DOSSIERS} order by 1") == [("U-1", 2), ("U-2", 3)]
    assert _partitions(settings) == {f"{DOSSIERS}_2025_06": 2}
    assert query(settings, "select raw_table, month, row_count, restored_at is not null from audit.raw_archives") == [
        (DOSSIERS, date(2025, 6, 1), 1, True)]


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    from reformwh.samples import write_samples

    out = tmp_path_factory.mktemp("partitions")
    write_samples(out, scale=0.05)
    return out


@pytest.mark.slow
def test_archived_months_leave_the_marts_as_a_full_build_gives_them(make_settings, samples, capsys):
    dossiers = sorted((samples / "one_stop_shop").iterdir())
    documents = sorted((samples / "document_management").iterdir())
    reports = sorted((samples / "self_reports").iterdir())
    early = [p for p in dossiers if p.name < "ho_so_20250101"]
    late = [p for p in dossiers if p not in early]
    early_documents = [p for p in documents if "_2024" in p.name]
    assert early and late and early_documents

    # one build over everything, nothing archived
    full = make_settings()
    statuses = {r.path: r.status for r in pipeline.ingest(full, "one_stop_shop", dossiers)
                + pipeline.ingest(full, "document_management", documents)}
    assert "rejected" in statuses.values()  # the samples hold bad files too
    pipeline.ingest(full, "self_reports", reports)
    assert pipeline.build(full, progress=lambda _: None, quiet=True)
    expected = _marts(full)

    # 2024 loaded and built, archived, then 2025 loaded and built incrementally
    archived = make_settings()
    pipeline.ingest(archived, "one_stop_shop", early)
    pipeline.ingest(archived, "document_management", early_documents)
    pipeline.ingest(archived, "self_reports", reports)
    assert pipeline.build(archived, progress=lambda _: None, quiet=True)
    counts = {t: query(archived, f"select count(*) from {t}")[0][0] for t in
              (DOSSIERS, "raw.document_management__documents", "raw.document_management__tasks")}
    partitions = _partitions(archived)
    archives = archive_raw(archived, date(2025, 1, 1), progress=lambda _: None)
    assert {(a.raw_table, a.month) for a in archives if a.raw_table == DOSSIERS} == {
        (DOSSIERS, date.fromisoformat(n[-7:].replace("_", "-") + "-01")) for n in partitions}
    assert sum(a.rows for a in archives if a.raw_table == DOSSIERS) == counts[DOSSIERS]
    assert query(archived, f"select count(*) from {DOSSIERS}")[0][0] == 0
    assert _partitions(archived) == {}
    for archive in archives:  # the files: as recorded, and holding the rows
        assert hashlib.sha256(archive.file.read_bytes()).hexdigest() == archive.sha256
        assert archive.file.parent == archived.home / "archive" / "raw"
        with gzip.open(archive.file, "rt", encoding="utf-8") as handle:
            assert handle.readline().startswith("load_id,source_file,source_line,extracted_at,loaded_at,")
    recorded = query(archived, "select raw_table, month, row_count, file_sha256 from audit.raw_archives "
                               "where restored_at is null order by 1, 2")
    assert recorded == sorted((a.raw_table, a.month, a.rows, a.sha256) for a in archives)
    assert query(archived, "select count(*) from raw.self_reports__submissions")[0][0] > 0  # not archived

    for source, paths in (("one_stop_shop", late), ("document_management",
                                                      [p for p in documents if p not in early_documents])):
        results = pipeline.ingest(archived, source, paths)
        assert {r.path: r.status for r in results} == {p: statuses[p] for p in paths}
    assert pipeline.build(archived, progress=lambda _: None, quiet=True)
    _assert_same_marts(expected, _marts(archived))

    # a file extracted in an archived month is rejected, whole, with the way out
    again = samples / "ho_so_20240610T120000.csv"
    shutil.copy(early[-1], again)
    [rejected] = pipeline.ingest(archived, "one_stop_shop", [again])
    assert rejected.status == "rejected"
    assert "extracted in 2024-06, a month archived from raw.one_stop_shop__dossiers" in rejected.message
    assert "reformwh restore-raw --month 2024-06" in rejected.message
    assert _partitions(archived).get(f"{DOSSIERS}_2024_06") is None
    assert query(archived, "select rejection_code from audit.file_loads_explained where load_id = %s",
                 [rejected.load_id]) == [("MONTH_ARCHIVED",)]

    # a build over everything would lose the archived versions: refused, naming the months
    with pytest.raises(ArchivedRaw, match=r"archived months 2024-01 to 2024-12 \(document_management__documents, "
                       r"document_management__tasks, one_stop_shop__dossiers\), and lose the versions they hold; "
                       r"restore them first \(reformwh restore-raw --all\), build, then archive them again "
                       r"\(reformwh archive-raw --before 2025-01\)"):
        pipeline.build(archived, progress=lambda _: None, quiet=True, full_refresh=True)
    # so would the first build of new dbt code (the transformation DAG's too: pipeline.prepare_transform)
    execute(archived, "update reference.transform_code set fingerprint = 'an older release'")
    with pytest.raises(ArchivedRaw, match=r"^the first build of changed dbt code .* archived months 2024-01"):
        pipeline.build(archived, progress=lambda _: None, quiet=True)
    assert query(archived, "select fingerprint from reference.transform_code") == [("an older release",)]

    # restored: every row back, the same as before archiving
    restored = restore_raw(archived, progress=lambda _: None)
    assert sorted((a.raw_table, a.month, a.rows) for a in restored) == sorted(
        (a.raw_table, a.month, a.rows) for a in archives)
    assert query(archived, "select count(*) from audit.raw_archives where restored_at is null")[0][0] == 0
    assert {n: c for n, c in _partitions(archived).items() if n < f"{DOSSIERS}_2025"} == partitions
    late_rows = sum(c for n, c in _partitions(archived).items() if n >= f"{DOSSIERS}_2025")
    assert query(archived, f"select count(*) from {DOSSIERS}")[0][0] == counts[DOSSIERS] + late_rows
    assert pipeline.build(archived, progress=lambda _: None, quiet=True, full_refresh=True)
    _assert_same_marts(expected, _marts(archived))


def test_a_month_partition_made_meanwhile_by_another_loader_is_taken_as_made(make_settings):
    """Two loaders of one source that both find a month's partition missing: the second waits for the first's lock
    on making partitions, then must see the partition the first committed (not fail with DuplicateTable: the
    name it looked up before waiting stays cached until something makes the server read the catalogue again)."""
    import threading

    settings = make_settings()
    with pipeline.connect(settings) as conn:
        ensure_schema(conn)
    partition = f"{DOSSIERS}_2031_01"
    make = "select raw.create_month_partition(%s::regclass, date '2031-01-01')"
    with pipeline.connect(settings) as first, pipeline.connect(settings) as second:
        waiting_pid = second.info.backend_pid
        failures = []

        def second_loader():
            try:
                second.execute(make, [DOSSIERS])
            except psycopg.Error as exc:
                failures.append(exc)

        with first.transaction():
            first.execute(make, [DOSSIERS])  # made, holding the lock on making partitions until it commits
            thread = threading.Thread(target=second_loader)
            thread.start()
            for _ in range(300):  # until the second waits for that lock (having found no such partition)
                if first.execute("select %s = any(pg_blocking_pids(%s))",
                                 [first.info.backend_pid, waiting_pid]).fetchone()[0]:
                    break
                thread.join(0.05)
            else:
                pytest.fail("the second loader never waited for the first")
        thread.join(30)
        assert failures == []
        assert query(settings, "select count(*) from pg_inherits where inhrelid = %s::regclass", [partition]) == [(1,)]

    # a warehouse made before this fix has the function that failed: the next load replaces it
    current = query(settings, "select prosrc from pg_proc where proname = 'create_month_partition'")[0][0]
    execute(settings, "create or replace function raw.create_month_partition(parent regclass, first_day date) "
                      "returns text language sql as $$ select 'the old body' $$")
    results = pipeline.ingest(settings, "one_stop_shop", [SAMPLES / "one_stop_shop" / "ho_so_20250616.csv"])
    assert [r.status for r in results] == ["loaded"]
    assert query(settings, "select prosrc from pg_proc where proname = 'create_month_partition'") == [(current,)]

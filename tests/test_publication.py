"""Issue 16 item 4, issue 17 item 4: the marts are published together. dbt builds them into schema marts_build;
`reformwh build` moves them into marts in one transaction once every model and test has passed
(pipeline.publish_marts), recorded in audit.mart_publications. A killed build or a failed test leaves the
published marts as they were; a reader never sees some marts of one build and some of the next; the scheduled
report waits for a publication that passed `reformwh check`.

The warehouse: the shared samples of all three sources (the only self-report is Sở Tư pháp's 2025-Y, so
reports are awaited from 2025-Y: Sở Nội vụ's is missing); each test then brings one Sở Nội vụ submission, which
a build publishes: its 2025-Y report, then its 2025-H1 report (H1 becomes the first period awaited, so every
other unit's H1 and Q3 reports are missing too), then its Q3 report."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from reformwh import pipeline
from reformwh.settings import Settings
from tests.conftest import SAMPLES, execute, fresh_database, query
from tests.test_self_reports import workbook_bytes, write_zip

NV = "000.00.09.H99"
PROJECT = Path(__file__).resolve().parents[1]
# one mart's content as one value: a reader compares whole tables, not only their sizes
# REPORT_MISSING gaps of every unit: Sở Nội vụ 2025-Y; at the end Sở Tư pháp 2025-H1 and Q3
ALL_MISSING_AT_FIRST, ALL_MISSING_AT_THE_END = 1, 2
DIGEST = "(select count(*) || ':' || md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from marts.{} t)"


@pytest.fixture(scope="module")
def built(server_url, tmp_path_factory):
    settings = fresh_database(server_url, tmp_path_factory.mktemp("publication") / "home", SAMPLES / "reference")
    for source in ("one_stop_shop", "document_management", "self_reports"):
        assert all(r.status == "loaded" for r in pipeline.ingest(settings, source, [SAMPLES / source]))
    assert pipeline.build(settings, progress=lambda _: None, quiet=True)
    return settings


def _late_submission(settings: Settings, period_key: str, sent: str) -> None:
    """Sở Nội vụ's report of `period_key`, sent on `sent` (dd/mm/yyyy), ingested."""
    path = write_zip(settings.home / f"{NV}_{period_key}.zip", {
        f"{NV}_{period_key}.xlsx": workbook_bytes(
            info=[("Mã đơn vị", NV), ("Kỳ báo cáo", period_key), ("Ngày gửi", sent)], scores=[],
            figures=[("KT_SO_CUOC", "Số cuộc kiểm tra", 1)],
            items=[("KT_SO_CUOC", "5/KH-SNV", "05/05/2025", "bien_ban.pdf", None)]),
        "bien_ban.pdf": b"%PDF-1.4 x"})
    assert pipeline.ingest(settings, "self_reports", [path])[0].status == "loaded"


def _marts(settings: Settings) -> dict[str, str]:
    tables = [t for (t,) in query(settings, "select tablename from pg_tables where schemaname = 'marts' order by 1")]
    row = query(settings, "select " + ", ".join(DIGEST.format(t) for t in tables))[0]
    return dict(zip(tables, row, strict=True))


def _missing_reports(settings: Settings) -> list[str]:
    return [p for (p,) in query(settings, "select period_key from marts.evidence_gaps where unit_code = %s "
                                          "and gap_type = 'REPORT_MISSING' order by 1", [NV])]


def _all_missing_reports(settings: Settings) -> int:
    return query(settings, "select count(*) from marts.evidence_gaps where gap_type = 'REPORT_MISSING'")[0][0]


def _publications(settings: Settings) -> list[tuple]:
    return query(settings, "select publication_id, cardinality(marts), cardinality(new_load_ids) "
                           "from audit.mart_publications order by 1")


def _cli_env(settings: Settings) -> dict[str, str]:
    return {**os.environ, "REFORMWH_DATABASE_URL": settings.database_url, "REFORMWH_HOME": str(settings.home),
            "REFORMWH_REFERENCE_DIR": str(settings.reference_dir)}


def test_the_first_build_published_every_mart_and_nothing_stays_in_marts_build(built):
    marts = _marts(built)
    assert {"fct_dossier", "fct_self_report", "evidence_gaps", "dossier_province_by_field",
            "dossier_province_by_procedure", "dim_unit"} <= set(marts)
    # every mart is a table: a view left in marts_build would read what the publication moved away
    assert query(built, "select count(*) from pg_views where schemaname in ('marts', 'marts_build')") == [(0,)]
    assert query(built, "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                        "where n.nspname = 'marts_build'") == [(0,)]
    [(publication, published, new_loads)] = _publications(built)
    assert published == len(marts) and new_loads == query(built, "select count(*) from audit.file_loads "
                                                                 "where status = 'loaded'")[0][0]
    # fct_dossier: every dossier of the incremental model that keeps its state between builds
    assert query(built, "select count(*) from marts.fct_dossier")[0][0] > 0
    assert query(built, "select (select count(*) from marts.fct_dossier) "
                        "= (select count(*) from intermediate.int_dossiers_classified)") == [(True,)]
    assert _missing_reports(built) == ["2025-Y"]
    assert _all_missing_reports(built) == ALL_MISSING_AT_FIRST


def test_a_killed_build_leaves_the_published_marts_and_the_next_build_publishes(built):
    _late_submission(built, "2025-Y", "12/01/2026")
    before, publications = _marts(built), _publications(built)
    build = subprocess.Popen([sys.executable, "-m", "reformwh.cli", "build"], env=_cli_env(built), cwd=PROJECT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 600
        # killed once dbt has built a few marts in marts_build (the moment a mix used to be published)
        while query(built, "select count(*) from pg_tables where schemaname = 'marts_build'")[0][0] < 5:
            assert build.poll() is None, "the build ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.2)
        build.send_signal(signal.SIGKILL)
        build.wait(30)
    finally:
        if build.poll() is None:
            build.kill()
    assert build.returncode == -signal.SIGKILL
    assert query(built, "select count(*) from pg_tables where schemaname = 'marts_build'")[0][0] >= 5
    assert _marts(built) == before and _publications(built) == publications
    assert _missing_reports(built) == ["2025-Y"]  # the new submission is not published

    # the next build (it waits for the killed one's sessions to end) clears the leftovers and publishes
    lines: list[str] = []
    assert pipeline.build(built, progress=lines.append, quiet=True)
    assert any(line.startswith("marts published: ") for line in lines), lines
    assert _missing_reports(built) == []
    assert _all_missing_reports(built) == ALL_MISSING_AT_FIRST - 1
    after = _publications(built)
    # the submission's loads (one per entity: header, sheets, evidence files) are the new ones
    assert len(after) == len(publications) + 1 and after[-1][2] == query(
        built, "select count(*) from audit.file_loads where file_name = %s", [f"{NV}_2025-Y.zip"])[0][0] == 5
    assert query(built, "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                        "where n.nspname = 'marts_build'") == [(0,)]


@pytest.fixture
def project_with_a_failing_test(tmp_path, monkeypatch):
    """A copy of the dbt project with a singular test that fails on the rebuilt fct_self_report (marts_build), as
    a broken rule would; this process's dbt runs it. Not written into the project itself: the other test workers
    build from it at the same time."""
    import shutil

    from reformwh import dbt

    copy = tmp_path / "dbt_project"
    shutil.copytree(dbt.DBT_PROJECT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    (copy / "tests" / "zz_test_publication_fails.sql").write_text(
        "-- tests/test_publication.py: a test that fails\nselect * from {{ ref('fct_self_report') }}\n")
    monkeypatch.setattr(dbt, "DBT_PROJECT_DIR", copy)
    return copy


def test_a_failing_dbt_test_leaves_the_old_marts_published(built, project_with_a_failing_test):
    _late_submission(built, "2025-H1", "20/06/2025")
    before, publications = _marts(built), _publications(built)
    missing = _missing_reports(built), _all_missing_reports(built)
    lines: list[str] = []
    assert not pipeline.build(built, progress=lines.append, quiet=True)
    assert any(line.startswith("marts not published: a model or test failed; readers keep publication "
                               f"{publications[-1][0]} of ") for line in lines), lines
    assert _marts(built) == before and _publications(built) == publications
    assert (_missing_reports(built), _all_missing_reports(built)) == missing
    # the CLI's exit code says so too (its dbt pointed at the same copy of the project)
    cli = ("import sys; from pathlib import Path; from reformwh import cli, dbt; "
           f"dbt.DBT_PROJECT_DIR = Path({str(project_with_a_failing_test)!r}); sys.exit(cli.main(['build']))")
    done = subprocess.run([sys.executable, "-c", cli], env=_cli_env(built), cwd=PROJECT, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 1 and "marts not published" in done.stdout, done.stdout[-2000:]
    assert _marts(built) == before


def test_a_reader_during_a_build_sees_the_old_marts_or_the_new_never_a_mix(built):
    _late_submission(built, "2025-Q3", "15/09/2025")
    pair = f"select {DIGEST.format('fct_self_report')}, {DIGEST.format('evidence_gaps')}"
    old = tuple(query(built, pair)[0])
    seen: dict[tuple, int] = {}
    stop = threading.Event()
    errors: list[str] = []

    def read() -> None:
        with psycopg.connect(built.database_url, autocommit=True) as conn:
            while not stop.is_set():
                try:
                    row = tuple(conn.execute(pair).fetchone())
                    seen[row] = seen.get(row, 0) + 1
                except psycopg.errors.DeadlockDetected as exc:  # it gave way to the publication: read again
                    errors.append(str(exc))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        assert pipeline.build(built, progress=lambda _: None, quiet=True)
        time.sleep(0.5)
    finally:
        stop.set()
        reader.join(60)
    new = tuple(query(built, pair)[0])
    assert new != old and old[0].split(":")[0] != new[0].split(":")[0]  # one more self-report row
    print(f"reads: {seen.get(old, 0)} old, {seen.get(new, 0)} new, {len(errors)} gave way on a deadlock")
    assert set(seen) <= {old, new}, f"a mix of two builds was seen: {set(seen) - {old, new}}"
    assert seen.get(old, 0) > 10 and seen.get(new, 0) > 0, seen
    assert "2025-Q3" not in _missing_reports(built)
    if len(_publications(built)) == 3:  # after the tests above: H1 (the failed build's submission) and Q3 are
        # published, so H1 and Q3 are awaited from every other unit now
        assert _missing_reports(built) == [] and _all_missing_reports(built) == ALL_MISSING_AT_THE_END


def test_the_scheduled_report_follows_only_a_checked_publication(built):
    from airflow.sdk.exceptions import AirflowSkipException

    publication, checked = pipeline.current_publication(built)
    assert publication == _publications(built)[-1][0] and not checked
    dag = _report_dag()
    task = dag.get_task("reports_due")
    os.environ["REFORMWH_DATABASE_URL"], os.environ["REFORMWH_HOME"] = built.database_url, str(built.home)
    os.environ["REFORMWH_REFERENCE_DIR"] = str(built.reference_dir)
    try:
        with pytest.raises(AirflowSkipException, match=f"marts publication {publication} has not passed"):
            task.python_callable(params={})
        lines: list[str] = []
        pipeline.check(built, progress=lines.append)
        assert any(line.startswith("check run ") and f" of marts publication {publication}: " in line
                   for line in lines), lines
        passed = query(built, "select success from audit.quality_runs where publication_id = %s", [publication])
        assert len(passed) == 1
        assert pipeline.current_publication(built) == (publication, passed[0][0])
        if passed[0][0]:  # past the gate: the reports due (or a skip for none due) decide
            try:
                task.python_callable(params={})
            except AirflowSkipException as exc:
                assert "has not passed" not in str(exc)
        # a newer publication that no check has passed: skipped again
        assert pipeline.build(built, progress=lambda _: None, quiet=True)
        assert pipeline.current_publication(built) == (publication + 1, False)
        with pytest.raises(AirflowSkipException, match=f"marts publication {publication + 1} has not passed"):
            task.python_callable(params={})
        # and the report itself, asked for checked marts (the DAG's generate task), looks again under the lock
        with pytest.raises(pipeline.UncheckedMarts, match=f"marts publication {publication + 1} has not passed"):
            pipeline.report(built, "2025-Q3", out_dir=built.home / "reports", checked_only=True)
    finally:
        for key in ("REFORMWH_DATABASE_URL", "REFORMWH_HOME", "REFORMWH_REFERENCE_DIR"):
            os.environ.pop(key, None)


def _report_dag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(PROJECT / "dags" / "report.py")).dags["report"]


def test_publishing_replaces_the_views_of_an_older_release(settings):
    """A warehouse of an older release had views among its marts (dossier_province_by_field and
    dossier_province_by_procedure, the one over the other): they give way to the tables of the build."""
    from reformwh.roles import BI, create_roles

    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        create_roles(conn)
        conn.execute("create schema marts; create schema marts_build; "
                     "create table marts.a as select 1 as x; create view marts.b as select x from marts.a; "
                     "create view marts.c as select x from marts.b; "
                     "create table marts_build.a as select 2 as x; create table marts_build.b as select 3 as x; "
                     "create table marts_build.c as select 4 as x")
    lines: list[str] = []
    assert pipeline.publish_marts(settings, lines.append) == 1
    assert len(lines) == 1 and lines[0].startswith("marts published: 3 table(s) moved from marts_build into marts "
                                                   "in one transaction (publication 1, 0 load(s) new since the "
                                                   "previous one; ")
    assert query(settings, "select (select x from marts.a), (select x from marts.b), (select x from marts.c)") \
        == [(2, 3, 4)]
    assert query(settings, "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                           "where n.nspname = 'marts_build'") == [(0,)]
    assert query(settings, "select count(*) from pg_views where schemaname = 'marts'") == [(0,)]
    assert query(settings, "select has_table_privilege(%s, 'marts.c', 'select')", [BI]) == [(True,)]
    assert query(settings, "select marts, load_count, new_load_ids from audit.mart_publications") \
        == [(["a", "b", "c"], 0, [])]
    # nothing built, nothing published
    assert pipeline.publish_marts(settings, lines.append) is None and lines[-1].startswith("marts: nothing")


def test_fct_dossier_is_patched_with_the_dossiers_written_since_not_copied(built):
    """Issue 11: the daily build must not copy every dossier. marts_build.fct_dossier holds only what
    int_dossiers_classified wrote since the published fct_dossier, and publication applies it."""
    before = _marts(built)["fct_dossier"]
    [(batch_before,)] = query(built, "select max(fct_dossier_batch) from audit.mart_publications")
    nodes: list[dict] = []
    assert pipeline.build(built, progress=lambda _: None, quiet=True, node_results=nodes)
    assert [n["rows"] for n in nodes if n["name"] == "fct_dossier" and n["resource_type"] == "model"] == [0]
    assert _marts(built)["fct_dossier"] == before
    [(batch_after,)] = query(built, "select fct_dossier_batch from audit.mart_publications "
                                    "order by publication_id desc limit 1")
    assert batch_before is not None and batch_after == batch_before + 1
    # one dossier rewritten by the incremental model (as a new version would): only it is patched in
    execute(built, "update intermediate.int_dossiers_classified set fee_amount = 424242, written_in_batch = "
                   "written_in_batch + 1000 where dossier_code = (select min(dossier_code) from marts.fct_dossier)")
    nodes.clear()
    assert pipeline.build(built, progress=lambda _: None, quiet=True, node_results=nodes)
    assert [n["rows"] for n in nodes if n["name"] == "fct_dossier" and n["resource_type"] == "model"] == [1]
    assert query(built, "select count(*) filter (where fee_amount = 424242), count(*) from marts.fct_dossier") \
        == [(1, query(built, "select count(*) from intermediate.int_dossiers_classified")[0][0])]


def test_the_first_build_after_the_older_release_publishes_fct_dossier_whole(built):
    """Until 7 December 2026 fct_dossier was copied from intermediate.int_dossiers_published, and publications
    recorded that model's batch (dossiers_batch), which means nothing to int_dossiers_classified: the first build
    of this release drops both and publishes every dossier again."""
    execute(built, "alter table audit.mart_publications drop column fct_dossier_batch; "
                   "alter table audit.mart_publications add column dossiers_batch bigint; "
                   "update audit.mart_publications set dossiers_batch = 1000000; "
                   "create table intermediate.int_dossiers_published as select * from marts.fct_dossier; "
                   "update marts.fct_dossier set fee_amount = -1")
    assert pipeline.build(built, progress=lambda _: None, quiet=True)
    assert query(built, "select count(*) filter (where fee_amount = -1), count(*) from marts.fct_dossier") == [
        (0, query(built, "select count(*) from intermediate.int_dossiers_classified")[0][0])]
    assert query(built, "select to_regclass('intermediate.int_dossiers_published'), "
                        "(select array_agg(attname::text order by attname) from pg_attribute "
                        "where attrelid = 'audit.mart_publications'::regclass and attname like '%batch' "
                        "and not attisdropped)") == [(None, ["fct_dossier_batch"])]


def test_the_primary_key_test_fails_without_its_unique_index_or_with_a_null_key(built):
    compiled = next((built.dbt_target_dir / "compiled").rglob(
        "primary_key_indexed_int_dossiers_classified_dossier_code.sql"))
    sql = compiled.read_text()
    assert query(built, sql) == []
    execute(built, "create table intermediate.pk_probe as select * from intermediate.int_dossiers_classified limit 3")
    try:
        probe = sql.replace("int_dossiers_classified", "pk_probe")
        assert query(built, probe) == [("no unique index on dossier_code",)]
        execute(built, "create unique index on intermediate.pk_probe (dossier_code); "
                       "update intermediate.pk_probe set dossier_code = null "
                       "where dossier_code = (select min(dossier_code) from intermediate.pk_probe)")
        assert query(built, probe) == [("NULL dossier_code",)]
    finally:
        execute(built, "drop table intermediate.pk_probe")

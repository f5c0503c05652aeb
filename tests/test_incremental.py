"""Incremental must equal full (dbt_project/macros/incremental.sql): the sample province's exports loaded in
batches — the oldest files first in two steps, as the days come (the data's time moves on, and with it the
flags of open dossiers in running periods), then in a hostile order: newest first, full snapshots after the
daily ones that follow them, a file loaded twice — with a build after each batch, then a unit merged in the
reference data and one more build, give every mart row for row what one build over all the same files gives."""

from __future__ import annotations

import csv
import dataclasses
import random
import shutil
from collections import Counter

import psycopg
import pytest

from reformwh import pipeline
from reformwh.settings import DEFAULT_REFERENCE_DIR
from tests.conftest import query

pytestmark = pytest.mark.slow

MERGED_UNIT, SUCCESSOR = "000.41.09.H99", "000.41.08.H99"


def _merge_unit(reference_dir):
    """A copy of the reference folder in which MERGED_UNIT merges into SUCCESSOR on 01/10/2025."""
    path = reference_dir / "units.csv"
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    found = False
    for row in rows:
        if row["unit_code"] == MERGED_UNIT and not row["valid_to"]:
            row["valid_to"], row["successor_code"], found = "2025-09-30", SUCCESSOR, True
    assert found, f"{MERGED_UNIT} has no open version in {path}"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


# When a row was loaded (and so when a gap was first seen) differs between two databases loaded at different
# times; every other column must be equal.
LOAD_TIME_COLUMNS = {"loaded_at", "detected_at"}


def _marts(settings) -> dict[str, list[tuple]]:
    columns: dict[str, list[str]] = {}
    for table, column in query(settings, "select table_name, column_name from information_schema.columns "
                                         "where table_schema = 'marts' order by table_name, ordinal_position"):
        if column not in LOAD_TIME_COLUMNS:
            columns.setdefault(table, []).append(column)
    marts = {}
    with psycopg.connect(settings.database_url) as conn:
        for table, names in columns.items():
            rows = conn.execute(f"select {', '.join(names)} from marts.{table}").fetchall()
            marts[table] = sorted(rows, key=repr)
    return marts


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    from reformwh.samples import write_samples

    out = tmp_path_factory.mktemp("incremental")
    write_samples(out / "samples", scale=0.05)
    merged = out / "reference_merged"
    shutil.copytree(DEFAULT_REFERENCE_DIR, merged)
    _merge_unit(merged)
    return out / "samples", merged


def test_incremental_builds_equal_one_full_build(make_settings, samples):
    sample_dir, merged_reference = samples
    dossiers = sorted((sample_dir / "one_stop_shop").iterdir())
    documents = sorted((sample_dir / "document_management").iterdir())
    reports = sorted((sample_dir / "self_reports").iterdir())

    # one build over everything
    full = make_settings()
    pipeline.ingest(full, "one_stop_shop", dossiers)
    pipeline.ingest(full, "document_management", documents)
    pipeline.ingest(full, "self_reports", reports)
    assert pipeline.build(full, progress=lambda _: None, quiet=True)
    expected_before_merger = _marts(full)
    full = dataclasses.replace(full, reference_dir=merged_reference)
    assert pipeline.build(full, progress=lambda _: None, quiet=True)

    # the same files in a hostile order, a build after each batch
    incremental = make_settings()
    rng = random.Random(11)
    newest_first = list(reversed(dossiers))
    full_snapshots = [p for p in dossiers if len(p.stem) == len("ho_so_20250131")]  # monthly, date-only names
    oldest_eighth = len(dossiers) // 8
    batches = [
        dossiers[:oldest_eighth],
        dossiers[oldest_eighth: 2 * oldest_eighth],
        newest_first[: len(dossiers) // 4] + documents[len(documents) // 2:],
        rng.sample(newest_first[len(dossiers) // 4:], k=len(dossiers) // 4) + reports,
        # the daily files, then the monthly full snapshots after them, then one file again (nothing new)
        [p for p in dossiers if p not in full_snapshots] + full_snapshots + [dossiers[len(dossiers) // 2]]
        + documents[: len(documents) // 2],
    ]
    sources = {"one_stop_shop": dossiers, "document_management": documents, "self_reports": reports}
    counted_again: list[tuple[int, int]] = []  # (whole periods, groups of ended periods) after each build
    groups_of_running_periods: list[int] = []  # groups counted in periods that were running at the last build
    data_as_of = None
    for batch in batches:
        for source, paths in sources.items():
            mine = [p for p in batch if p in paths]
            if mine:
                pipeline.ingest(incremental, source, mine)
        assert pipeline.build(incremental, progress=lambda _: None, quiet=True)
        counted_again.append(query(incremental, "select count(*) filter (where unit_code is null), "
                                                "count(*) filter (where unit_code is not null) "
                                                "from intermediate.int_dossier_periods_affected")[0])
        groups_of_running_periods.append(query(
            incremental, "select count(*) from intermediate.int_dossier_periods_affected as a "
                         "inner join intermediate.int_periods_evaluated as p using (period_key) "
                         "where a.unit_code is not null and p.end_date + interval '23:59:59' > %s",
            (data_as_of,))[0][0])
        data_as_of = query(incremental, "select max(data_as_of) from intermediate.int_periods_evaluated")[0][0]
    loaded = query(incremental, "select count(*) from raw.one_stop_shop__dossiers")[0][0]
    assert loaded == query(full, "select count(*) from raw.one_stop_shop__dossiers")[0][0]
    # when each dossier first arrived, kept build by build, is what all of raw says
    arrivals = "select dossier_code, first_loaded_at from intermediate.int_dossier_arrivals order by 1"
    assert query(incremental, arrivals) == query(
        incremental, "select dossier_code, min(loaded_at) from raw.one_stop_shop__dossiers group by 1 order by 1")
    assert len(set(query(incremental, "select first_loaded_at from intermediate.int_dossier_arrivals"))) > 1

    # the incremental models did build incrementally: the last build claimed only its batch's loads
    claimed = dict(query(incremental, "select model, count(*) from intermediate.incremental_loads as l "
                                      "where batch = (select batch from intermediate.incremental_state as s "
                                      "where s.model = l.model) group by model"))
    all_loads = query(incremental, "select count(*) from audit.file_loads where source = 'one_stop_shop'")[0][0]
    assert 0 < claimed["int_dossiers_deduplicated"] < all_loads  # not every load again
    assert claimed["int_unit_procedure_periods_counted"] == claimed["int_dossiers_classified"]

    # older files after newer ones changed dossiers of ended periods: only their groups were counted again,
    # and the counts equal those of the build over everything (the merger below rebuilds them all)
    assert any(groups for _, groups in counted_again), counted_again
    # as the days came, the periods still running were counted by their groups, not whole
    assert groups_of_running_periods[1] > 0, groups_of_running_periods
    _assert_same_marts(expected_before_merger, _marts(incremental))

    # the count run again alone (`reformwh build --select …`, an Airflow task cleared) after a build that counted
    # groups by difference: the difference is not applied twice
    assert query(incremental, "select count(*) from intermediate.int_unit_procedure_periods_counted_replaced")[0][0]
    assert pipeline.build(incremental, select="int_unit_procedure_periods_counted+", progress=lambda _: None,
                          quiet=True)
    _assert_same_marts(expected_before_merger, _marts(incremental))

    # a unit merged in the reference data: the models that depend on it build over everything again, into new
    # tables swapped in (a new relation), not by deleting and inserting every row of the old one
    table_oids = "select relname, oid from pg_class where relnamespace = 'intermediate'::regnamespace " \
                 "and relname in ('int_dossiers_deduplicated', 'int_dossiers_classified')"
    oids_before = dict(query(incremental, table_oids))
    incremental = dataclasses.replace(incremental, reference_dir=merged_reference)
    assert pipeline.build(incremental, progress=lambda _: None, quiet=True)
    oids_after = dict(query(incremental, table_oids))
    assert oids_after["int_dossiers_classified"] != oids_before["int_dossiers_classified"]
    assert oids_after["int_dossiers_deduplicated"] == oids_before["int_dossiers_deduplicated"]
    batch_loads = dict(query(incremental, "select model, count(*) from intermediate.incremental_loads as l "
                                          "where batch = (select batch from intermediate.incremental_state as s "
                                          "where s.model = l.model) group by model"))
    assert batch_loads["int_dossiers_classified"] > claimed["int_dossiers_classified"]  # working days: holidays
    assert "int_dossiers_deduplicated" not in batch_loads  # de-duplication does not read reference data

    _assert_same_marts(_marts(full), _marts(incremental))


def _assert_same_marts(expected: dict[str, list[tuple]], got: dict[str, list[tuple]]) -> None:
    assert sorted(got) == sorted(expected)
    for table, rows in expected.items():
        assert rows, f"marts.{table} is empty: the comparison would prove nothing"
        if got[table] == rows:
            continue
        expected_rows, got_rows = Counter(map(repr, rows)), Counter(map(repr, got[table]))
        missing, extra = list((expected_rows - got_rows).elements()), list((got_rows - expected_rows).elements())
        assert not missing and not extra, (
            f"marts.{table}: {len(missing)} row(s) of the full build missing, {len(extra)} extra; "
            f"first missing {missing[:1]}, first extra {extra[:1]}"
        )

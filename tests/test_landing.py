"""The landing-folder protocol of the ingestion DAGs (reformwh.orchestration): a file is taken by exactly one
run, a dead run's files are adopted, a failed run keeps its files for the retry, half-written files wait."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ingestion.loader import LoadResult
from reformwh.orchestration import claimed_files, settle_files
from reformwh.settings import DEFAULT_HEADER_ALIASES, DEFAULT_REFERENCE_DIR, Settings


@pytest.fixture
def local(tmp_path) -> Settings:
    return Settings(tmp_path / "home", None, DEFAULT_REFERENCE_DIR, DEFAULT_HEADER_ALIASES,
                    landing_dir_override=tmp_path / "landing")


def _drop(settings: Settings, *names: str) -> Path:
    folder = settings.landing_dir / "one_stop_shop"
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text(name)
    return folder


def test_concurrent_runs_never_take_the_same_file(local):
    folder = _drop(local, "a_20250101.csv", "b_20250102.csv", ".c_20250103.csv", "d_20250104.csv.part")
    with claimed_files(local, "one_stop_shop", "run 1") as first:
        assert [p.name for p in first] == ["a_20250101.csv", "b_20250102.csv"]  # half-written files wait
        _drop(local, "e_20250105.csv")
        with claimed_files(local, "one_stop_shop", "run 2") as second:
            assert [p.name for p in second] == ["e_20250105.csv"]  # run 1 is alive: its files stay its own
    assert list((folder / ".claimed").iterdir()) == []
    # files a run did not file away (no settle_files here) are back in the landing folder, not lost
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == [
        ".c_20250103.csv", "a_20250101.csv", "b_20250102.csv", "d_20250104.csv.part", "e_20250105.csv"]


def test_a_failed_run_keeps_its_files_and_a_dead_runs_files_are_adopted(local):
    folder = _drop(local, "a_20250101.csv")
    with pytest.raises(RuntimeError), claimed_files(local, "one_stop_shop", "run 1") as files:
        assert len(files) == 1
        raise RuntimeError("the warehouse went away")
    assert [p.name for p in (folder / ".claimed" / "run_1").iterdir() if not p.name.startswith(".")] == [
        "a_20250101.csv"]
    # the retry of the same run finds the file again
    with claimed_files(local, "one_stop_shop", "run 1") as files:
        assert [p.name for p in files] == ["a_20250101.csv"]
        files[0].unlink()  # as if filed away
    assert not (folder / ".claimed" / "run_1").exists()
    # a run that died (nobody holds its lock): the next run takes over its files
    _drop(local, "b_20250102.csv")
    with pytest.raises(RuntimeError), claimed_files(local, "one_stop_shop", "run 2"):
        raise RuntimeError("killed")
    _drop(local, "c_20250103.csv")
    with claimed_files(local, "one_stop_shop", "run 3") as files:
        assert [p.name for p in files] == ["b_20250102.csv", "c_20250103.csv"]
    assert not (folder / ".claimed" / "run_2").exists()


def test_settled_files_are_filed_by_outcome_without_overwriting(local):
    folder = _drop(local, "a_20250101.csv", "b_20250102.csv")
    old = folder / "processed" / "2025-06-16" / "a_20250101.csv"
    old.parent.mkdir(parents=True)
    old.write_text("an earlier delivery of the same name")
    results = [LoadResult(folder / "a_20250101.csv", "already_loaded", load_id=7),
               LoadResult(folder / "b_20250102.csv", "rejected", message="b_20250102.csv: no header row")]
    summary = settle_files(local, "one_stop_shop", results, day=date(2025, 6, 16))
    rejected = folder / "rejected" / "2025-06-16"
    # the steward's alert says where the rejected file went
    assert summary == {"files": 2, "loaded": 0, "already_loaded": 1, "rows_loaded": 0, "rows_quarantined": 0,
                       "rejected": [{"file": "b_20250102.csv", "message": "b_20250102.csv: no header row",
                                     "moved_to": str(rejected / "b_20250102.csv")}]}
    assert old.read_text() == "an earlier delivery of the same name"
    assert (folder / "processed" / "2025-06-16" / "a_20250101.1.csv").read_text() == "a_20250101.csv"
    assert (rejected / "b_20250102.csv.reason.txt").read_text() == "b_20250102.csv: no header row\n"

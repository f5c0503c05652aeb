"""Synthetic exports of every source for the sample province, for demos, tests and benchmarks; the same seed
writes byte-identical files.

    world.py                the province every source shares: time span, units, working calendar, people,
                            random draws, ZIPs with fixed times
    one_stop_shop.py        dossiers (hồ sơ TTHC) and their export formats; the procedure catalogue is
                            procedures.csv beside it
    document_management.py  document registers and tasks
    self_reports.py         unit self-reports: workbooks and evidence ZIPs
    benchmark_exports.py    large exports for the benchmarks

    write_samples(out_dir, scale=1.0, seed=20250101)  -> paths under out_dir/one_stop_shop/, document_management/
                                                         and self_reports/
    generate_samples(...)                             -> the one-stop-shop exports, with per-file row and bad-row
                                                         counts
    write_dossier_csv(path, rows, seed=1)             -> one large, valid CSV export (benchmark)
    write_daily_snapshots(out_dir, dossiers, ...)     -> overlapping daily exports (volume benchmark)
"""

from __future__ import annotations

import random
from pathlib import Path

from reformwh.samples.benchmark_exports import write_daily_snapshots, write_dossier_csv
from reformwh.samples.document_management import write_document_samples
from reformwh.samples.one_stop_shop import BAD_ROW_KINDS, HEADERS, SampleReport, generate_samples
from reformwh.samples.self_reports import write_self_report_samples
from reformwh.samples.world import DEFAULT_REFERENCE_DIR, LAST_EXTRACTION, read_reporting_units

__all__ = [
    "BAD_ROW_KINDS",
    "DEFAULT_REFERENCE_DIR",
    "HEADERS",
    "LAST_EXTRACTION",
    "SampleReport",
    "generate_samples",
    "write_daily_snapshots",
    "write_dossier_csv",
    "write_samples",
]


def write_samples(
    out_dir: Path, scale: float = 1.0, seed: int = 20250101, reference_dir: Path | None = None
) -> list[Path]:
    """Writes realistic synthetic exports of every source — out_dir/one_stop_shop/, document_management/ and
    self_reports/ — and returns the paths (a folder submission is one path)."""
    out_dir = Path(out_dir)
    reference_dir = Path(reference_dir) if reference_dir else DEFAULT_REFERENCE_DIR
    files = generate_samples(out_dir, scale=scale, seed=seed, reference_dir=reference_dir).files
    # documents and self-reports draw on one random stream of their own, in this order: the registers and tasks,
    # their exports, then the self-reports that cite the registers
    rng = random.Random(seed)
    units = read_reporting_units(reference_dir)
    document_files, documents = write_document_samples(out_dir / "document_management", units, rng, LAST_EXTRACTION)
    return files + document_files + write_self_report_samples(out_dir / "self_reports", units, documents, rng,
                                                              reference_dir, LAST_EXTRACTION)

"""Large one-stop-shop exports for the benchmarks, with the sample's simulation and rules (one_stop_shop.py), written
row by row or day by day so that memory stays bounded at any size.

    write_dossier_csv(path, rows, seed=1)                        -> one large, valid CSV export (bench/bench_ingest.py)
    write_daily_snapshots(out_dir, dossiers, first_day, last_day) -> overlapping daily exports (bench/bench_scale.py)
"""

from __future__ import annotations

import csv
import random
import re
from datetime import date, datetime, timedelta
from pathlib import Path

from reformwh.samples.one_stop_shop import (
    BAD_ROW_KINDS,
    BAD_ROW_RATE,
    HEADERS,
    Corruptor,
    Dossier,
    DossierSimulator,
    ExportStyle,
    day_weights,
    record,
    spread,
    text_row,
)
from reformwh.samples.world import DEFAULT_REFERENCE_DIR, LAST_EXTRACTION, randint

__all__ = ["write_daily_snapshots", "write_dossier_csv"]

_STAMP = re.compile(r"(\d{8})(?:T(\d{6}))?")


def write_dossier_csv(path: Path, rows: int, seed: int = 1, reference_dir: Path | None = None) -> Path:
    """One large UTF-8-with-BOM comma CSV (Vietnamese headers) of `rows` distinct valid dossiers, streamed to
    disk row by row (constant memory) — used by the benchmark (1,000,000 rows).

    Each dossier is shown as of the extraction time in the file name (`…_YYYYMMDD[THHMMSS].csv`; without one,
    2025-12-20 18:00), received over the two years before it; the format is the usual CSV export's
    (dd/mm/yyyy HH:MM, status and channel labels, Có/Không, amounts with dots)."""
    path = Path(path)
    end = LAST_EXTRACTION
    stamps = list(_STAMP.finditer(path.stem))
    if stamps:
        m = stamps[-1]
        try:
            end = datetime.strptime(m.group(1) + (m.group(2) or "235959"), "%Y%m%d%H%M%S")
        except ValueError:
            end = LAST_EXTRACTION
    rng = random.Random(seed)
    world = DossierSimulator(Path(reference_dir) if reference_dir else DEFAULT_REFERENCE_DIR, rng, end=end)
    first = world.start
    days, weights = day_weights(world, first, end.date())
    counts = spread(rows, weights)
    st = ExportStyle("csv")
    written = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HEADERS)
        deficit = 0
        for i, (day, k) in enumerate(zip(days, counts, strict=True)):
            need = k + deficit  # a day that cannot take its share (no unit receives) passes it on
            last = i == len(days) - 1
            seq: dict[str, int] = {}
            made = attempts = 0
            while made < need and attempts < (1000 * need + 1000 if last else 3 * need + 3):
                attempts += 1
                d = world.simulate(day)
                if d is None or d.first_t > end:
                    continue
                n = seq.get(d.unit, 0) + 1
                seq[d.unit] = n
                d.code = f"{d.unit}-{day:%y%m%d}-{n:04d}"
                writer.writerow(text_row(record(d, d.state(end)), st, rng))
                made += 1
            deficit = need - made
            written += made
    if written != rows:
        raise RuntimeError(f"{path}: could only simulate {written} of {rows} dossiers with this reference data")
    return path


def write_daily_snapshots(
    out_dir: Path,
    dossiers: int,
    first_day: date = date(2024, 1, 1),
    last_day: date = date(2025, 12, 31),
    seed: int = 1,
    reference_dir: Path | None = None,
) -> list[tuple[Path, int]]:
    """A large province's one-stop-shop exports as overlapping daily snapshots (the volume benchmark,
    bench/bench_scale.py): about `dossiers` dossiers received from first_day to last_day, each exported at
    20:00 on three days of its life — the day it arrives, a day in progress and the day it ends (or two
    days later) — as the export shows it then. One UTF-8 CSV per day, `ho_so_YYYYMMDDT200000.csv`, written
    day by day: memory holds only the dossiers still to be exported, never the whole history. The
    simulation, the mergers of the reference data and the rate of each kind of bad row are the sample's.
    Returns (path, rows) per file, oldest first."""
    rng = random.Random(seed)
    world = DossierSimulator(Path(reference_dir) if reference_dir else DEFAULT_REFERENCE_DIR, rng,
                   end=datetime(last_day.year, last_day.month, last_day.day, 23, 59, 59))
    days, weights = day_weights(world, first_day, last_day)
    counts = spread(dossiers, weights)
    corruptor = Corruptor(world, rng)
    style = ExportStyle("csv")
    target = Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    due: dict[date, list[Dossier]] = {}  # export day -> dossiers shown that day
    written: list[tuple[Path, int]] = []
    for day, k in zip(days, counts, strict=True):
        seq: dict[str, int] = {}
        for _ in range(k):
            d = world.simulate(day)
            if d is None:
                continue
            n = seq.get(d.unit, 0) + 1
            seq[d.unit] = n
            d.code = f"{d.unit}-{day:%y%m%d}-{n:05d}"
            first = d.first_t.date()
            last = max(d.last_t.date(), first + timedelta(days=2))
            middle = first + timedelta(days=randint(rng, 1, (last - first).days - 1))
            for export_day in (first, middle, last):
                due.setdefault(export_day, []).append(d)
        shown = due.pop(day, [])
        t = datetime(day.year, day.month, day.day, 20, 0, 0)
        path = target / f"ho_so_{t:%Y%m%dT%H%M%S}.csv"
        with open(path, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\r\n")
            writer.writerow(HEADERS)
            rows = 0
            for d in shown:
                if d.first_t > t:  # received after 20:00: the next export shows it
                    due.setdefault(day + timedelta(days=1), []).append(d)
                    continue
                rec = record(d, d.state(t))
                r = rng.random()
                if r < BAD_ROW_RATE * len(BAD_ROW_KINDS):
                    kind = BAD_ROW_KINDS[int(r / BAD_ROW_RATE)]
                    if kind != "duplicate_conflict" and corruptor.eligible(kind, rec):
                        rec = corruptor.apply(kind, rec, t, portal=False)
                writer.writerow(text_row(rec, style, rng))
                rows += 1
        written.append((path, rows))
    return written

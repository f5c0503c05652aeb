"""Volume benchmark: a large province's two years of daily snapshots, the first full build, then what one
more day costs (issue: production volume).

    .venv/bin/python bench/bench_scale.py [--dossiers 3300000] [--workdir DIR] [--keep]

Generates, with the sample generator's rules (reformwh.samples.write_daily_snapshots: lateness by field,
channels moving online, the 2025 mergers, bad rows at the usual low rates), about --dossiers dossiers
received over 2024–2025, each exported on three days of its life: about 3 version rows per dossier in
one CSV per day, written day by day. Then, on one fresh database of the embedded warehouse (or
REFORMWH_DATABASE_URL), it times:

  (a) raw COPY of every file into a text table, against (b) `reformwh ingest` of the same files
      (child process: its peak memory is the loader's);
  the first build (every model over everything), then each of the data's last two days, 30 and 31 December
      2025 (ingest + incremental build): the dearest days of the year, when its running periods hold most of
      its dossiers;
  a reference-data change (a commune merged into its neighbour) and its build;
  `reformwh report` of the latest semester (without the PDF); five typical BI queries, median of 20 each.

It ends with one line, `scale: rows=… ingest_ratio=… full_build_s=… daily_build_s=… daily_over_full=…
peak_rss_mib=… db_mib=… csv_mib=… bi_p95_ms=… report_s=…`, daily_build_s being the slower of the two days.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from datetime import date
from pathlib import Path

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from reformwh import pipeline  # noqa: E402
from reformwh.settings import DEFAULT_REFERENCE_DIR, Settings, get_settings  # noqa: E402

# the last MEASURED_DAYS days of the exports are held back and loaded one by one after the first build
FIRST_DAY, LAST_DAY, MEASURED_DAYS = date(2024, 1, 1), date(2025, 12, 31), 2
# a commune of the sample province, merged into its neighbour the day after the data
MERGED_UNIT, SUCCESSOR = "000.41.09.H99", "000.41.08.H99"

INGEST_CHILD = """
import json, resource, sys, time, warnings
warnings.filterwarnings("ignore")
from pathlib import Path
from reformwh import pipeline
from reformwh.settings import Settings
home, url, ref, aliases, listing = sys.argv[1:]
settings = Settings(Path(home), url, Path(ref), Path(aliases))
paths = [Path(p) for p in Path(listing).read_text().splitlines()]
start = time.perf_counter()
results = pipeline.ingest(settings, "one_stop_shop", paths)
print(json.dumps({"seconds": time.perf_counter() - start, "loaded": sum(r.rows_loaded for r in results),
                  "quarantined": sum(r.rows_quarantined for r in results),
                  "rejected": sum(r.status == "rejected" for r in results),
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

# Five queries a BI tool sends to the period marts (parameters filled from the data).
BI_QUERIES = {
    "a unit's quarter row": (
        "select * from marts.reform_quarter where unit_code = %(unit)s and period_key = %(quarter)s"
    ),
    "a district's semester rows": (
        "select s.* from marts.reform_semester as s join marts.dim_unit as u on u.unit_code = s.unit_code "
        "and u.is_current_version where u.parent_code = %(district)s and s.period_key = %(semester)s"
    ),
    "province trend, 12 quarters": (
        "select period_key, on_time_rate, online_rate, received_in_period, late_total from marts.reform_province "
        "where calendar = 'official' and period_type = 'quarter' order by period_start desc limit 12"
    ),
    "weakest 10 units of a period": (
        "select unit_code, unit_name, on_time_rate, resolved_total from marts.reform_quarter "
        "where period_key = %(quarter)s and resolved_total >= 10 order by on_time_rate asc, unit_code limit 10"
    ),
    "flagged units of a period": (
        "select unit_code, count(*) as gaps from marts.evidence_gaps where period_key = %(semester)s "
        "and flags_unit group by unit_code order by gaps desc"
    ),
}


def data_rows(path: Path) -> int:
    """Lines after the header (the generator writes no line breaks inside values)."""
    with open(path, "rb") as handle:
        return sum(1 for _ in handle) - 1


def settle(url: str) -> None:
    """CHECKPOINT, so that a timed step does not pay for writing out the pages of the one before it."""
    with psycopg.connect(url, autocommit=True) as conn, contextlib.suppress(psycopg.errors.InsufficientPrivilege):
        conn.execute("checkpoint")


def timed(label: str, func, *args, **kwargs):
    start = time.perf_counter()
    result = func(*args, **kwargs)
    seconds = time.perf_counter() - start
    print(f"{label:<42}{seconds:9.1f}s", flush=True)
    return result, seconds


def ingest_child(settings: Settings, paths: list[Path], workdir: Path, key: bytes) -> dict:
    listing = workdir / "files.txt"
    listing.write_text("\n".join(str(p) for p in paths))
    child = subprocess.run(
        [sys.executable, "-c", INGEST_CHILD, str(settings.home), settings.database_url, str(settings.reference_dir),
         str(settings.header_aliases_file), str(listing)],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "REFORMWH_PII_HASH_KEY": key.decode()},
    )
    if child.returncode:
        sys.exit(f"ingestion failed:\n{child.stderr}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def raw_copy_seconds(url: str, paths: list[Path]) -> float:
    """PostgreSQL COPY of the same files into one all-text table: the ceiling of any loader."""
    with open(paths[0], encoding="utf-8-sig") as handle:
        width = len(next(csv.reader(handle)))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"create table public.copy_baseline ({', '.join(f'c{i} text' for i in range(width))})")
        settle(url)
        start = time.perf_counter()
        for path in paths:
            with open(path, "rb") as handle, conn.cursor().copy(
                "copy public.copy_baseline from stdin (format csv, header true)"
            ) as copy:
                while chunk := handle.read(1 << 20):
                    copy.write(chunk)
        seconds = time.perf_counter() - start
        conn.execute("drop table public.copy_baseline")
    return seconds


def merged_reference(workdir: Path) -> Path:
    """The sample province's reference data with MERGED_UNIT merged into SUCCESSOR after the data ends."""
    target = workdir / "reference_merged"
    shutil.copytree(DEFAULT_REFERENCE_DIR, target, dirs_exist_ok=True)
    path = target / "units.csv"
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    merged = next(r for r in rows if r["unit_code"] == MERGED_UNIT and not r["valid_to"])
    merged["valid_to"], merged["successor_code"] = str(LAST_DAY), SUCCESSOR
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return target


def report_without_pdf(settings: Settings, period_key: str, out_dir: Path) -> None:
    """The report's own work; LibreOffice's conversion, where installed, is not the warehouse's cost."""
    import reporting

    reporting.generate(settings.database_url, period_key, out_dir, "preliminary", pdf=False,
                       timezone=settings.timezone)


def bi_timings(url: str) -> dict[str, list[float]]:
    with psycopg.connect(url, autocommit=True) as conn:
        params = {
            "quarter": conn.execute("select max(period_key) from marts.reform_quarter where calendar = 'official' "
                                    "and period_end <= (select max(data_as_of) from marts.reform_province)"
                                    ).fetchone()[0],
            "semester": conn.execute("select max(period_key) from marts.reform_semester where calendar = 'official' "
                                     "and period_end <= (select max(data_as_of) from marts.reform_province)"
                                     ).fetchone()[0],
            "district": conn.execute("select unit_code from marts.dim_unit where unit_level = 'district' "
                                     "order by unit_code limit 1").fetchone()[0],
        }
        params["unit"] = conn.execute("select unit_code from marts.reform_quarter where period_key = %(quarter)s "
                                      "order by received_in_period desc nulls last limit 1", params).fetchone()[0]
        timings = {}
        for name, sql in BI_QUERIES.items():
            runs = []
            for _ in range(20):
                start = time.perf_counter()
                conn.execute(sql, params).fetchall()
                runs.append((time.perf_counter() - start) * 1000)
            timings[name] = runs
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dossiers", type=int, default=3_300_000,
                        help="distinct dossiers over 2024–2025 (about three version rows each); default 3,300,000")
    parser.add_argument("--workdir", type=Path, help="where the exports go (default: a new temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the exports and the database afterwards")
    parser.add_argument("--seed", type=int, default=1, help="seed of the simulation")
    parser.add_argument("--from", dest="first_day", type=date.fromisoformat, default=FIRST_DAY,
                        help="first day of the data (default 2024-01-01; a later day makes a quick run, as the "
                             "test suite's)")
    args = parser.parse_args()

    from reformwh.samples import write_daily_snapshots

    base = get_settings()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="reformwh-scale-"))
    exports = workdir / "one_stop_shop"
    days_total = (LAST_DAY - args.first_day).days + 1
    listing = sorted(exports.glob("ho_so_*.csv")) if exports.exists() else []
    if len(listing) != days_total:
        shutil.rmtree(exports, ignore_errors=True)
        files, _ = timed(f"generate {args.dossiers:,} dossiers", write_daily_snapshots, exports, args.dossiers,
                         args.first_day, LAST_DAY, args.seed)
        listing = [path for path, _rows in files]
    history, measured_days = listing[:-MEASURED_DAYS], listing[-MEASURED_DAYS:]
    rows = sum(data_rows(p) for p in history)
    csv_mib = sum(p.stat().st_size for p in history) / 2**20
    print(f"exports: {len(history)} daily files, {rows:,} version rows, {csv_mib:,.0f} MiB "
          f"(+{MEASURED_DAYS} more days held back)", flush=True)

    name = "scale_" + uuid.uuid4().hex[:8]
    with psycopg.connect(base.database_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = base.database_url.rsplit("/", 1)[0] + "/" + name
    settings = Settings(base.home, url, base.reference_dir, base.header_aliases_file)
    os.environ["REFORMWH_PII_HASH_KEY"] = base.pii_hash_key.decode()
    quiet = {"progress": lambda _: None, "quiet": True}
    try:
        copy_s, _ = timed("(a) raw COPY of the files", raw_copy_seconds, url, history)
        settle(url)
        loaded, ingest_s = timed("(b) reformwh ingest of the files", ingest_child, settings, history, workdir,
                                 base.pii_hash_key)
        print(f"    {loaded['loaded']:,} loaded, {loaded['quarantined']:,} quarantined, {loaded['rejected']} file(s) "
              f"rejected; loader peak memory {loaded['peak_mib']:.0f} MiB")
        ratio = copy_s / loaded["seconds"]
        settle(url)
        ok, full_s = timed("first build (everything)", pipeline.build, settings, **quiet)
        assert ok, "the first build failed"
        daily = []
        dossiers = pipeline.summary_rows(settings, "select count(*) from marts.fct_dossier")[0][0]
        for path in measured_days:
            day_rows = data_rows(path)
            settle(url)
            timed(f"ingest {path.name} ({day_rows:,} rows, {day_rows / dossiers:.1%})", pipeline.ingest, settings,
                  "one_stop_shop", [path])
            ok, seconds = timed("  its build (incremental)", pipeline.build, settings, **quiet)
            assert ok, "a daily build failed"
            daily.append(seconds)
        settle(url)
        merged = merged_reference(workdir)
        ok, reference_s = timed(f"reference change ({MERGED_UNIT} merged), build",
                                pipeline.build, Settings(base.home, url, merged, base.header_aliases_file), **quiet)
        assert ok, "the build after the reference change failed"
        # the six-month report (H1; the second half is reported in the annual report)
        semester = pipeline.summary_rows(settings, "select max(period_key) from marts.reform_semester "
                                                   "where period_key like '%-H1' and period_end <= "
                                                   "(select max(data_as_of) from marts.reform_province)")[0][0]
        _, report_s = timed(f"reformwh report {semester} (DOCX, XLSX, no PDF)", report_without_pdf, settings,
                            semester, workdir / "report")
        timings = bi_timings(url)
        for query, runs in timings.items():
            print(f"BI: {query:<38}median {statistics.median(runs):7.2f} ms")
        all_runs = sorted(t for runs in timings.values() for t in runs)
        p95 = all_runs[int(0.95 * (len(all_runs) - 1))]
        db_mib = pipeline.summary_rows(settings, "select pg_database_size(current_database())")[0][0] / 2**20
        daily_s = max(daily)
        print(f"ingest throughput ratio (b/a): {ratio:.2f}   database {db_mib:,.0f} MiB = {db_mib / csv_mib:.2f}x the "
              f"exports; a day's build {daily_s / full_s:.1%} of the first build")
        print(f"scale: rows={rows} ingest_ratio={ratio:.2f} full_build_s={full_s:.0f} daily_build_s={daily_s:.1f} "
              f"daily_over_full={daily_s / full_s:.3f} peak_rss_mib={loaded['peak_mib']:.0f} db_mib={db_mib:.0f} "
              f"csv_mib={csv_mib:.0f} bi_p95_ms={p95:.1f} report_s={report_s:.1f}")
    finally:
        if not args.keep:
            with psycopg.connect(base.database_url, autocommit=True) as conn:
                conn.execute(f'drop database "{name}" with (force)')
            if not args.workdir:
                shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Ingestion benchmark: raw COPY of an export vs `reformwh ingest` of the same file, then `reformwh build`.

    .venv/bin/python bench/bench_ingest.py [--rows 1000000 | --file EXPORT] [--runs 5] [--no-build] [--no-check]

Runs on fresh databases of the embedded warehouse (or REFORMWH_DATABASE_URL). Alternates `--runs` times
(a) PostgreSQL COPY of the file into a text table and (b) the full ingestion (decode, NFC, header mapping,
validation, quarantine, COPY into raw, audit) into a fresh database, and prints the median rows/s of each and
their ratio b/a, the loader's peak memory and CPU (measured in a child process), and the CPU the rest of the
machine spent meanwhile (/proc/stat): on the embedded warehouse, the server's share of the work. Then the
times of `reformwh build` and `reformwh check` over the rows of the last load. A CHECKPOINT precedes each
timed load, so none pays for writing out the pages of the one before it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path
from statistics import median

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from reformwh.settings import Settings, get_settings  # noqa: E402


def machine_cpu_seconds() -> float:
    """CPU time the whole machine has spent (user, nice, system, irq, softirq), from /proc/stat; 0 elsewhere."""
    try:
        with open("/proc/stat") as stat:
            fields = stat.readline().split()[1:]
    except OSError:
        return 0.0
    return sum(int(x) for x in fields[:3] + fields[5:7]) / os.sysconf("SC_CLK_TCK")


CHILD = """
import json, resource, sys, time, warnings
warnings.filterwarnings("ignore")
from pathlib import Path
from bench.bench_ingest import machine_cpu_seconds
from reformwh import pipeline
from reformwh.settings import Settings
home, url, ref, aliases, path = sys.argv[1:]
settings = Settings(Path(home), url, Path(ref), Path(aliases))
start, cpu, machine = time.perf_counter(), time.process_time(), machine_cpu_seconds()
[result] = pipeline.ingest(settings, "one_stop_shop", [Path(path)])
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({"seconds": seconds, "cpu": cpu, "other_cpu": machine_cpu_seconds() - machine - cpu,
                  "loaded": result.rows_loaded, "quarantined": result.rows_quarantined, "status": result.status,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def settle(url: str) -> None:
    """CHECKPOINT, so that each timed load starts with no dirty pages of the one before it to write out
    (skipped where the role may not checkpoint)."""
    with psycopg.connect(url, autocommit=True) as conn, contextlib.suppress(psycopg.errors.InsufficientPrivilege):
        conn.execute("checkpoint")


def raw_copy(url: str, path: Path) -> tuple[float, float]:
    """(seconds, CPU of the machine) of PostgreSQL COPY of the file, as CSV, into a table of text columns."""
    with psycopg.connect(url, autocommit=True) as conn:
        with open(path, encoding="utf-8-sig") as handle:
            header = handle.readline().rstrip("\r\n").split(",")
        columns = ", ".join(f"c{i} text" for i in range(len(header)))
        conn.execute(f"create table public.copy_baseline ({columns})")
        settle(url)
        start, machine = time.perf_counter(), machine_cpu_seconds()
        with open(path, "rb") as handle, conn.cursor().copy(
            "copy public.copy_baseline from stdin (format csv, header true)"
        ) as copy:
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        seconds, machine = time.perf_counter() - start, machine_cpu_seconds() - machine
        conn.execute("drop table public.copy_baseline")
    return seconds, machine


def ingest(base: Settings, url: str, path: Path) -> dict:
    """`reformwh ingest` of the file in a child process (its own peak memory and CPU)."""
    settle(url)
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(base.home), url, str(base.reference_dir),
         str(base.header_aliases_file), str(path)],
        cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "REFORMWH_PII_HASH_KEY": base.pii_hash_key.decode()},
    )
    if child.returncode:
        sys.exit(f"ingestion failed:\n{child.stderr}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--file", help="use this export instead of generating one")
    parser.add_argument("--runs", type=int, default=5, help="alternated COPY and ingest runs; medians are compared")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--no-check", action="store_true", help="skip `reformwh check` after the build")
    args = parser.parse_args()
    base = get_settings()
    admin_url = base.database_url
    workdir = Path(tempfile.mkdtemp(prefix="reformwh-bench-"))
    if args.file:
        path = Path(args.file)
    else:
        from reformwh.samples import write_dossier_csv

        path = workdir / "ho_so_20251220T180000.csv"
        start = time.perf_counter()
        write_dossier_csv(path, args.rows)
        size = path.stat().st_size / 2**20
        print(f"generated {args.rows:,} rows, {size:.0f} MiB in {time.perf_counter() - start:.0f}s")
    with open(path, "rb") as handle:
        rows = sum(1 for _ in handle) - 1

    copies, loads, name = [], [], None
    for run in range(1, args.runs + 1):
        if name:  # each load into a database of its own; the last is kept for the build
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'drop database "{name}" with (force)')
        name = "bench_" + uuid.uuid4().hex[:8]
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'create database "{name}"')
        url = admin_url.rsplit("/", 1)[0] + "/" + name
        copies.append(raw_copy(url, path))
        loads.append(ingest(base, url, path))
        print(f"run {run}: raw COPY {copies[-1][0]:6.2f}s, ingest {loads[-1]['seconds']:6.2f}s "
              f"(loader CPU {loads[-1]['cpu']:.2f}s, rest of the machine {loads[-1]['other_cpu']:.2f}s)")

    copy_seconds, ingest_seconds = median(c[0] for c in copies), median(r["seconds"] for r in loads)
    a, b = rows / copy_seconds, rows / ingest_seconds
    last = loads[-1]
    print(f"rows in file:           {rows:,}")
    print(f"(a) raw COPY:           {copy_seconds:7.2f}s  {a:12,.0f} rows/s  "
          f"(median of {len(copies)}; machine CPU {median(c[1] for c in copies):.2f}s)")
    print(f"(b) reformwh ingest:    {ingest_seconds:7.2f}s  {b:12,.0f} rows/s  "
          f"(median of {len(loads)}; {last['loaded']:,} loaded, {last['quarantined']:,} quarantined)")
    print(f"ratio b/a (throughput): {b / a:.2f}   (target >= 0.60, issue 13)")
    print(f"loader peak memory:     {max(r['peak_mib'] for r in loads):.0f} MiB  (target < 500 MiB)")
    print(f"loader CPU:             {median(r['cpu'] for r in loads):7.2f}s  (all its threads)")
    print(f"rest of the machine:    {median(r['other_cpu'] for r in loads):7.2f}s  of CPU during the ingest (the "
          f"warehouse's, when it runs here), on {os.cpu_count()} cores")
    settings = Settings(base.home, url, base.reference_dir, base.header_aliases_file)
    if not args.no_build:
        from reformwh import pipeline

        start = time.perf_counter()
        os.environ["REFORMWH_PII_HASH_KEY"] = base.pii_hash_key.decode()
        ok = pipeline.build(settings, progress=lambda _: None, quiet=True)
        print(f"reformwh build:         {time.perf_counter() - start:7.2f}s  ({'ok' if ok else 'FAILED'})")
        if ok and not args.no_check:
            start = time.perf_counter()
            passed = pipeline.check(settings, progress=lambda _: None)
            print(f"reformwh check:         {time.perf_counter() - start:7.2f}s  ({'passed' if passed else 'FAILED'}; "
                  "GX suites on raw and marts, incl. importing GX)")
    print(f"this process peak:      {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'drop database "{name}" with (force)')


if __name__ == "__main__":
    main()

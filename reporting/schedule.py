"""Which reports are due on a given day (spec/reports.md, last paragraph) — for the report DAG.

A reported official period (Q1, H1, Q3, Y) gets
- its preliminary edition once its cut-off day has passed and the loaded data reaches the end of that day
  (self-report statuses as they stand, `awaited` where the units' deadline has not passed), and
- its final edition once the units' submission deadlines (reference.reporting_calendar) have passed too;
each edition once (a recorded run in reports.report_runs is not repeated), and only while the province's
own deadline is at most `window_days` behind, so a fresh deployment does not generate years of reports."""

from __future__ import annotations

from datetime import date, timedelta

import psycopg

from reporting.record import ensure_reports_schema


def due_reports(conn: psycopg.Connection, today: date, window_days: int = 30) -> list[tuple[str, str]]:
    """(period_key, edition) pairs to generate today, oldest period first."""
    with conn.transaction():
        ensure_reports_schema(conn)
    units_deadline = ("(select max(c.submission_deadline) from reference.reporting_calendar c "
                      "where c.period_key = d.period_key)")
    rows = conn.execute(f"""
        select d.period_key, {units_deadline} as units_deadline
        from marts.dim_period d join marts.reform_province p using (period_key)
        where d.calendar = 'official' and d.province_report_deadline is not null
          and d.end_date < %(today)s
          and p.data_as_of >= d.end_date + 1
          and d.province_report_deadline >= %(today)s - %(window)s
        order by d.end_date, d.period_key""", {"today": today, "window": window_days}).fetchall()
    recorded = set(conn.execute("select period_key, edition from reports.report_runs").fetchall())
    due = []
    for period_key, units_deadline in rows:
        if (period_key, "preliminary") not in recorded:
            due.append((period_key, "preliminary"))
        if units_deadline is not None and units_deadline < today and (period_key, "final") not in recorded:
            due.append((period_key, "final"))
    return due


def reporting_day(conn: psycopg.Connection, today: date) -> date | None:
    """The day the report DAG judges what is due on: `today`, or what REFORMWH_REPORT_STATUS_AS_OF says (as the
    dbt build judges self-report statuses): a date, or `data` — the day after the newest data in the marts, so
    a sample world that ended long ago still gets its latest report. None while the marts are not built."""
    import os

    if conn.execute("select to_regclass('marts.reform_province') is null or to_regclass('marts.dim_period') is null"
                    ).fetchone()[0]:
        return None
    as_of = os.environ.get("REFORMWH_REPORT_STATUS_AS_OF", "").strip()
    if as_of == "data":
        newest = conn.execute("select max(data_as_of)::date from marts.reform_province").fetchone()[0]
        return newest + timedelta(days=1) if newest else today
    if as_of:
        return date.fromisoformat(as_of)
    return today

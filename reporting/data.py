"""Everything the report shows, read from the marts (spec/warehouse.md). No KPI is computed here: the
rates, counts and flags are the marts' own columns, which the dbt contracts guarantee: only whether the marts
are built at all is looked up (a fresh install has none before its first `reformwh build`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import psycopg
from psycopg.rows import dict_row

PERIOD_MARTS = {"quarter": "reform_quarter", "half": "reform_semester", "year": "reform_annual"}

DOCUMENT_COLUMNS = ("docs_outgoing", "docs_outgoing_electronic", "docs_digitally_signed", "e_document_rate",
                    "digital_signature_rate", "leader_signature_rate", "docs_incoming", "docs_incoming_electronic")
TASK_COLUMNS = ("tasks_due", "tasks_done_on_time", "tasks_done_late", "tasks_overdue_at_period_end",
                "task_on_time_rate")


# Form II.06a's counts (additive, so a level's row is the sum of its units' rows; the rates are not summed)
FORM_COUNTS = ("received_total", "received_online", "received_direct_or_postal", "carried_over", "resolved_total",
               "resolved_ahead", "resolved_on_time", "resolved_late", "in_progress_total", "in_progress_on_time",
               "in_progress_overdue", "received_in_period")
# the form's rows by level of government: "cấp tỉnh" is the people's committee and the departments
FORM_LEVEL_GROUP = ("case unit_level when 'province' then 'province' when 'department' then 'province' "
                    "else unit_level end")

LEVEL_ORDER = ("case unit_level when 'province' then 0 when 'department' then 1 when 'district' then 2 "
               "else 3 end")


class ReportError(Exception):
    """A report that cannot be generated (unknown period, marts not built), with a message for operators."""


@dataclass
class ReportData:
    period: dict
    last_year_key: str
    unit_mart: str
    province: dict[str, dict]                 # period_key -> reform_province row (this, previous, last year)
    units: list[dict]                         # as-was unit rows of the period
    restated: dict[tuple[str, str], dict]     # (period_key, unit_code) -> restated row
    by_field: list[dict]
    trend: list[dict]                         # reform_province rows, oldest first, ending with this period
    merged_units: list[dict]                  # units merged away between last year's period and this one
    existing_at_end: set[str] = field(default_factory=set)  # units that still exist on the period's last day
    evidence_gaps: list[dict] = field(default_factory=list)
    area_scores: list[dict] | None = None     # None: not an annual period (scores are by year)
    periods: dict[str, dict] = field(default_factory=dict)  # dim_period rows by key
    form_by_level: dict[str, dict] = field(default_factory=dict)  # 'province'/'district'/'commune' -> counts
    unit_directory: dict[str, dict] = field(default_factory=dict)  # unit_code -> latest version by period end
    # province-wide rows of the period by field and by procedure, most late dossiers first
    late_by_field: list[dict] = field(default_factory=list)
    late_by_procedure: list[dict] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.period["period_key"]

    @property
    def previous_key(self) -> str | None:
        return self.period["previous_period_key"]

    @property
    def data_as_of(self) -> datetime | None:
        return self.province[self.key]["data_as_of"]

    @property
    def is_annual(self) -> bool:
        return self.period["period_type"] == "year"

    def period_name(self, key: str | None) -> str:
        return self.periods[key]["period_name"] if key in self.periods else (key or "–")

    @property
    def procedure_units(self) -> list[dict]:
        """Unit rows with dossier figures (units without procedures have NULL counts, domain.md §1)."""
        return [u for u in self.units if u["received_in_period"] is not None]


def _rows(conn: psycopg.Connection, sql: str, params=None) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql, params).fetchall()


def latest_reportable_period(conn: psycopg.Connection) -> str | None:
    """The newest reported official period (Q1, H1, Q3, Y) whose cut-off day the data has reached."""
    rows = conn.execute("""
        select d.period_key from marts.dim_period d join marts.reform_province p using (period_key)
        where d.calendar = 'official' and d.province_report_deadline is not null
          and d.end_date <= p.data_as_of::date
        order by d.end_date desc, d.period_type desc limit 1""").fetchall()
    return rows[0][0] if rows else None


def load(conn: psycopg.Connection, period_key: str, trend_periods: int = 6) -> ReportData:
    # the one state a user meets before the marts exist: the report asked for before the first build
    if conn.execute("select to_regclass('marts.dim_period') is null or to_regclass('marts.reform_province') is null"
                    ).fetchone()[0]:
        raise ReportError("the marts are not built yet: run `reformwh build` first")

    periods = {p["period_key"]: p for p in _rows(conn, "select * from marts.dim_period")}
    period = periods.get(period_key)
    if period is None or period["calendar"] != "official" or period["province_report_deadline"] is None:
        known = [p["period_key"] for p in periods.values()
                 if p["calendar"] == "official" and p["province_report_deadline"] is not None]
        example = ", ".join(sorted(known)[-4:])
        raise ReportError(f"{period_key!r} is not a reported period of the official calendar "
                          f"(Q1, H1, Q3 or Y of a year, e.g. {example})")
    year, suffix = period_key.split("-", 1)
    last_year_key = f"{int(year) - 1}-{suffix}"
    unit_mart = PERIOD_MARTS[period["period_type"]]
    compared = [k for k in (period_key, period["previous_period_key"], last_year_key) if k in periods]

    province = {r["period_key"]: r for r in _rows(
        conn, "select * from marts.reform_province where period_key = any(%s)", [compared])}
    units = _rows(conn, f"""select * from marts.{unit_mart} where period_key = %s
                            order by {LEVEL_ORDER}, unit_code""", [period_key])
    restated = {(r["period_key"], r["unit_code"]): r for r in _rows(
        conn, f"select * from marts.{unit_mart}_restated where period_key = any(%s)", [compared])}
    by_field = _rows(conn, f"""select * from marts.dossier_by_field where period_key = %s
                               order by {LEVEL_ORDER}, unit_code, field_code""", [period_key])

    chain = [period_key]
    while len(chain) < trend_periods and periods.get(chain[-1], {}).get("previous_period_key") in periods:
        chain.append(periods[chain[-1]]["previous_period_key"])
    trend_rows = {r["period_key"]: r for r in _rows(
        conn, "select * from marts.reform_province where period_key = any(%s)", [chain])}
    # periods before the first data are left out of the trend
    trend = [trend_rows[k] for k in reversed(chain) if k in trend_rows
             and (trend_rows[k]["received_in_period"] or trend_rows[k]["carried_over"] or k == period_key)]

    first_start: date = periods[last_year_key]["start_date"] if last_year_key in periods else period["start_date"]
    merged_units = _rows(conn, """
        select u.unit_code, u.unit_name, u.valid_to, u.successor_code, s.unit_name as successor_name
        from marts.dim_unit u
        left join lateral (select unit_name from marts.dim_unit s where s.unit_code = u.successor_code
                           order by s.valid_from desc limit 1) s on true
        where u.successor_code is not null and u.valid_to between %s and %s
        order by u.valid_to, u.unit_code""", [first_start, period["end_date"]])

    form_by_level = {r["level_group"]: r for r in _rows(conn, f"""
        select {FORM_LEVEL_GROUP} as level_group, count(*) as units,
               {", ".join(f"sum({c}) as {c}" for c in FORM_COUNTS)}
        from marts.{unit_mart} where period_key = %s and received_in_period is not null
        group by 1""", [period_key])}
    # names and levels of every unit that appears anywhere in the report (gaps of a unit merged since, …),
    # with its successor, so that a unit that no longer exists is named and labelled as merged
    unit_directory = {r["unit_code"]: r for r in _rows(conn, """
        select distinct on (u.unit_code) u.unit_code, u.unit_name, u.unit_level, u.valid_from, u.valid_to,
               u.successor_code, s.unit_name as successor_name
        from marts.dim_unit u
        left join lateral (select unit_name from marts.dim_unit s where s.unit_code = u.successor_code
                           order by s.valid_from desc limit 1) s on true
        where u.valid_from <= %s
        order by u.unit_code, u.valid_from desc""", [period["end_date"]])}

    existing_at_end = {code for (code,) in conn.execute(
        "select unit_code from marts.dim_unit where valid_from <= %s and (valid_to is null or valid_to >= %s)",
        [period["end_date"], period["end_date"]])}

    evidence_gaps = _rows(conn, "select * from marts.evidence_gaps where period_key = %s "
                                "order by unit_code, gap_type, 1", [period_key])
    area_scores = None
    if period["period_type"] == "year":
        area_scores = _rows(conn, "select * from marts.par_area_scores where year = %s "
                                  "order by unit_code, area_code", [period["year"]])

    late_by_field = _rows(conn, """select * from marts.dossier_province_by_field where period_key = %s
                                   order by late_total desc, field_code""", [period_key])
    # a view that counts the period's dossiers; without nested loops the planner does not rescan the chain
    # walk per dossier on its underestimate of the period's rows (seconds instead of a fraction)
    with conn.transaction():
        conn.execute("set local enable_nestloop = off")
        late_by_procedure = _rows(conn, """select * from marts.dossier_province_by_procedure
                                           where period_key = %s and received_total > 0
                                           order by late_total desc, procedure_code""", [period_key])

    if period_key not in province:
        raise ReportError(f"marts.reform_province has no row for {period_key}: run `reformwh build`")
    return ReportData(period=period, last_year_key=last_year_key, unit_mart=unit_mart,
                      province=province, units=units, restated=restated, by_field=by_field, trend=trend,
                      merged_units=merged_units, existing_at_end=existing_at_end,
                      evidence_gaps=evidence_gaps, area_scores=area_scores,
                      periods=periods, form_by_level=form_by_level, unit_directory=unit_directory,
                      late_by_field=late_by_field, late_by_procedure=late_by_procedure)

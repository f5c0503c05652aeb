"""Cross-period suites (issue 13 item 4): each compares the newest figures with their own history, over a batch
that a SQL query defines (a GX query asset), declared in CROSS_PERIOD_CHECKS like the marts' MART_CHECKS.

- volume per unit: each unit's dossiers received in the latest complete official quarter against the median of
  its previous quarters (restated to today's units, so a merger is no jump); a sudden drop usually means that a
  unit's exports stopped arriving;
- distribution shifts: the online and on-time rates, province-wide and per field, and each field's share of the
  province's dossiers, against the mean of the previous quarters;
- late arrivals: dossiers loaded after the latest report of a period that contains their receipt date (they are
  in the marts, not in the report that was sent; reports.published_figures_changed shows what changed).

They are warnings (GX severity `warning`): a shift in the data is not necessarily wrong, so the data steward is
told (CLI output, audit.quality_results.severity, Data Docs, the quality DAG's steward alert), and the marts still
count as checked. Each batch holds only what can be judged: units and fields with enough dossiers and history.
"""

from __future__ import annotations

from dataclasses import dataclass

from .rules import Range, Suite

WARNING = "warning"

HISTORY_QUARTERS = 4  # the history: up to this many complete quarters before the latest one
MIN_HISTORY_QUARTERS = 2  # fewer than this: no history to judge against
MIN_VOLUME = 20  # a unit judged only when its latest quarter or its history median reaches this many dossiers
VOLUME_RATIO = (0.3, 3.0)  # the latest quarter within 30%..300% of the unit's median
SHIFT_RATES = ("online_rate", "on_time_rate")
MIN_SHIFT_DOSSIERS = 30  # a rate judged only where the latest quarter and the history average received this many
MAX_SHIFT = 0.15  # rates and field shares within 15 percentage points of their history
MAX_LATE_SHARE = 0.02  # at most 2% of a unit's dossiers of a reported period arrive after its latest report

# the complete official quarters, numbered from the newest (age 1) back; a quarter before the data began has NULL
# figures and is left out by the queries below
_QUARTERS = (
    "quarters as (select period_key, period_end, row_number() over (order by period_start desc) as age "
    "from marts.dim_period where calendar = 'official' and period_type = 'quarter' and is_complete)"
)
_HISTORY = f"q.age between 2 and {1 + HISTORY_QUARTERS}"

VOLUME_QUERY = (
    f"with {_QUARTERS}, "
    "volumes as (select q.period_key, q.age, r.current_unit_code as unit_code, "
    "sum(r.received_in_period)::bigint as received "
    "from marts.reform_quarter_restated as r join quarters as q using (period_key) "
    f"where q.age <= {1 + HISTORY_QUARTERS} and r.received_in_period is not null "
    "group by q.period_key, q.age, r.current_unit_code), "
    "history as (select unit_code, count(*) as history_quarters, "
    "percentile_cont(0.5) within group (order by received) as history_median "
    "from volumes where age > 1 group by unit_code) "
    "select v.period_key, v.unit_code, v.received as received_in_period, h.history_median, h.history_quarters, "
    "round(v.received / greatest(h.history_median, 1)::numeric, 4) as volume_ratio "
    "from volumes as v join history as h using (unit_code) join quarters as q using (period_key) "
    # a unit that ceased during the quarter (a district on 30/06/2025) is expected to drop
    "where exists (select from marts.dim_unit as u where u.unit_code = v.unit_code "
    "and (u.valid_to is null or u.valid_to >= q.period_end)) "
    f"and v.age = 1 and h.history_quarters >= {MIN_HISTORY_QUARTERS} "
    f"and greatest(v.received, h.history_median) >= {MIN_VOLUME}"
)


def _shift_query() -> str:
    """One row per (scope, measure): the province ('*') and each field, the rates of SHIFT_RATES and the field's
    share of the province's dossiers; the latest quarter's value, its history's mean and the shift between."""
    rates = ", ".join(f"('{r}', {r})" for r in SHIFT_RATES)
    return (
        f"with {_QUARTERS}, "
        "scoped as ("
        "select q.age, q.period_key, '*' as field_code, p.received_in_period, "
        "p.received_in_period::numeric as province_received, p.online_rate, p.on_time_rate "
        "from marts.reform_province as p join quarters as q using (period_key) "
        "union all select q.age, q.period_key, f.field_code, f.received_in_period, p.received_in_period, "
        "f.online_rate, f.on_time_rate from marts.dossier_province_by_field as f "
        "join quarters as q using (period_key) join marts.reform_province as p using (period_key)), "
        "measured as ("
        "select s.age, s.period_key, s.field_code, s.received_in_period, m.measure, m.value from scoped as s "
        f"cross join lateral (values {rates}, "
        "('field_share', case when s.field_code <> '*' "
        "then round(s.received_in_period / nullif(s.province_received, 0), 4) end)) as m (measure, value) "
        f"where s.age <= {1 + HISTORY_QUARTERS}), "
        "history as (select field_code, measure, avg(value) as history_value, avg(received_in_period) as received, "
        "count(value) as history_quarters from measured where age > 1 group by field_code, measure) "
        "select l.period_key, l.field_code, l.measure, l.received_in_period, l.value as latest_value, "
        "round(h.history_value, 4) as history_value, h.history_quarters, "
        "round(l.value - h.history_value, 4) as shift "
        "from measured as l join history as h using (field_code, measure) "
        f"where l.age = 1 and l.value is not null and h.history_quarters >= {MIN_HISTORY_QUARTERS} "
        f"and l.received_in_period >= {MIN_SHIFT_DOSSIERS} and h.received >= {MIN_SHIFT_DOSSIERS}"
    )


LATE_QUERY = (
    "with reported as (select period_key, max(generated_at) as reported_at from reports.report_runs "
    "group by period_key) "
    "select r.period_key, d.unit_code, r.reported_at, count(*) as dossiers, "
    "count(*) filter (where a.first_loaded_at > r.reported_at) as late_arrivals, "
    "round(count(*) filter (where a.first_loaded_at > r.reported_at)::numeric / count(*), 4) as late_share "
    "from reported as r join marts.dim_period as p using (period_key) "
    "join marts.fct_dossier as d on d.received_at >= p.start_date and d.received_at < p.end_date + 1 "
    "join intermediate.int_dossier_arrivals as a using (dossier_code) "
    "group by r.period_key, d.unit_code, r.reported_at"
)


@dataclass(frozen=True)
class CrossPeriodCheck:
    """A suite over the rows `query` returns; `reads` are the tables it needs (no suite until all exist: no
    report sent yet, nothing can have arrived after it)."""

    table: str  # the table the findings are about (audit.quality_results.table_name)
    query: str
    reads: tuple[str, ...]
    rules: tuple


CROSS_PERIOD_CHECKS: dict[str, CrossPeriodCheck] = {
    "cross_period.volume_per_unit": CrossPeriodCheck(
        "marts.reform_quarter_restated", VOLUME_QUERY,
        ("marts.reform_quarter_restated", "marts.dim_period"),
        (Range("volume_ratio", *VOLUME_RATIO, show=("period_key", "unit_code", "received_in_period", "history_median"),
               description=f"a unit's dossiers received in the latest complete quarter are {VOLUME_RATIO[0]:.0%}"
                           f"-{VOLUME_RATIO[1]:.0%} of its median over the {HISTORY_QUARTERS} quarters before"),)),
    "cross_period.distribution_shift": CrossPeriodCheck(
        "marts.reform_province", _shift_query(),
        ("marts.reform_province", "marts.dossier_province_by_field", "marts.dim_period"),
        (Range("shift", -MAX_SHIFT, MAX_SHIFT,
               show=("period_key", "field_code", "measure", "latest_value", "history_value"),
               description=f"online and on-time rates and field shares (field '*': province-wide) of the latest "
                           f"complete quarter within {MAX_SHIFT * 100:.0f} percentage points of their mean over "
                           "the quarters before"),)),
    "cross_period.late_arrivals": CrossPeriodCheck(
        "raw.one_stop_shop__dossiers", LATE_QUERY,
        ("reports.report_runs", "intermediate.int_dossier_arrivals", "marts.fct_dossier", "marts.dim_period"),
        (Range("late_share", maximum=MAX_LATE_SHARE, show=("period_key", "unit_code", "late_arrivals", "dossiers"),
               description=f"at most {MAX_LATE_SHARE:.0%} of a unit's dossiers of a reported period were first "
                           "loaded after the period's latest report"),)),
}


def suites(columns: dict[str, dict[str, str]]) -> list[Suite]:
    """The cross-period suites whose tables all exist; `columns` maps schema.table to its columns."""
    # GX takes a query asset's query only when it starts with SELECT: the WITH queries go inside one
    return [Suite(name, check.table, list(check.rules), query=f"select * from ({check.query}) as rows_judged",
                  severity=WARNING)
            for name, check in CROSS_PERIOD_CHECKS.items() if all(t in columns for t in check.reads)]

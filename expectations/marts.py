"""Suites of the marts (schema `marts`), built from the columns each table has.

Every mart gets: one row per key; every `*_rate` column within [0, 1]; the conservation identities of
domain.md §3 (and the subset rules of §3–5) on every row whose columns the table has; counts never
negative. The period marts of units also: every unit that existed in a period has a row, and official
rows carry a report status (once the self-report columns exist). Rules are declared below as data.
"""

from __future__ import annotations

from dataclasses import replace

from .rules import NotNull, Range, RowRule, Suite, Unique, ValueSet, applicable, identity

# The key (grain) of each mart; tables named reform_* are keyed by period and, if they have one, unit.
KEYS = {
    "dim_unit": ("unit_code", "valid_from"),
    "dim_period": ("period_key",),
    "fct_dossier": ("dossier_code",),
    "dossier_by_field": ("period_key", "unit_code", "field_code"),
    "par_area_scores": ("year", "unit_code", "area_code"),  # spec: year x unit x area
}

# domain.md §3: the conservation identities, then "of those" subsets (§3–5). Each applies to every mart
# that has its columns (period marts as was and restated, province, by field).
IDENTITIES = [
    identity("received_in_period + carried_over = resolved_total + in_progress_total"),
    identity("resolved_total = resolved_ahead + resolved_on_time + resolved_late"),
    identity("in_progress_total = in_progress_overdue + in_progress_on_time"),
    identity("late_total = resolved_late + in_progress_overdue"),
    identity("received_in_period = received_online + received_direct + received_postal"),
    identity("received_online_full <= received_online"),
    identity("resolved_withdrawn_stopped <= resolved_on_time"),
    identity("tasks_done_on_time + tasks_done_late <= tasks_due"),
    identity("docs_digitally_signed <= docs_outgoing_electronic"),
    identity("docs_outgoing_electronic <= docs_outgoing"),
    identity("docs_incoming_electronic <= docs_incoming"),
    identity("docs_leader_digitally_signed <= docs_leader_signed"),
    identity("par_points_with_evidence = par_self_score - par_points_at_risk"),
]

REPORT_STATUSES = ("not_required", "awaited", "on_time", "late", "missing")

# Code sets and ranges of named mart columns (spec/warehouse.md, domain.md).
COLUMN_RULES = {
    "fct_dossier": [
        ValueSet("channel", (1, 2, 3)),
        ValueSet("status_code", tuple(range(1, 11))),
        ValueSet("outcome", ("ahead", "on_time", "late", "in_progress")),
        Range("supplement_count", minimum=0),
        Range("fee_amount", minimum=0),
    ],
    "dim_period": [
        ValueSet("calendar", ("official", "calendar")),
        ValueSet("period_type", ("quarter", "half", "year")),
    ],
    "dim_unit": [ValueSet("unit_level", ("province", "department", "district", "commune"))],
}

INTEGER_TYPES = {"bigint", "integer", "smallint"}
# integers that are not counts (scores and points may be negative: penalties)
NOT_COUNTS = ("year", "rank", "channel", "status_code", "score", "points")


def key_of(table: str, columns: set[str]) -> tuple[str, ...] | None:
    if table in KEYS:
        return KEYS[table]
    if table.startswith("reform_") and "period_key" in columns:
        return ("period_key", "unit_code") if "unit_code" in columns else ("period_key",)
    return None


def is_unit_period_mart(table: str, columns: set[str]) -> bool:
    """reform_quarter / _semester / _annual (as was): one row per period and unit."""
    return table.startswith("reform_") and not table.endswith("_restated") and "unit_code" in columns


def unit_rows_complete(table: str) -> RowRule:
    """spec/warehouse.md: a unit appears in a period mart for every period in which it existed."""
    return RowRule(
        "every unit that existed during a period has a row for it",
        "",
        needs=("period_key", "period_start", "period_end", "unit_code"),
        query=(
            "select p.period_key, u.unit_code from (select distinct period_key, period_start, period_end "
            "from {batch}) as p join marts.dim_unit as u on u.valid_from <= p.period_end "
            "and (u.valid_to is null or u.valid_to >= p.period_start) "
            f"where not exists (select 1 from marts.{table} as m "
            "where m.period_key = p.period_key and m.unit_code = u.unit_code) "
            "group by p.period_key, u.unit_code"
        ),
    )


def report_status_rules(table: str) -> list[RowRule]:
    statuses = ", ".join(f"'{s}'" for s in REPORT_STATUSES)
    if table.endswith("_restated"):
        return [RowRule("self-report columns are not restated: report_status is NULL",
                        "report_status is not null", show=("period_key", "unit_code"))]
    return [RowRule(
        "every unit has a report_status on official-calendar rows (and none on calendar rows)",
        f"(calendar = 'official' and (report_status is null or report_status not in ({statuses}))) "
        "or (calendar <> 'official' and report_status is not null)",
        show=("period_key", "unit_code"),
    )]


def province_carry_over() -> RowRule:
    """domain.md §3: province-wide, P's in_progress_total is the next period's carried_over where P has ended."""
    return RowRule(
        "in_progress_total of an ended period = carried_over of the next period",
        "",
        needs=("period_key", "in_progress_total", "carried_over", "period_end", "data_as_of"),
        query=(
            "select p.period_key, p.in_progress_total, nxt.period_key as next_period_key, nxt.carried_over "
            "from {batch} as p join marts.dim_period as d on p.period_key = d.previous_period_key "
            "join marts.reform_province as nxt on d.period_key = nxt.period_key "
            # a period before the first loaded dossier has NULL figures (no data): nothing known to carry over
            "where p.period_end < p.data_as_of::date "
            "and coalesce(p.in_progress_total, 0) <> coalesce(nxt.carried_over, 0)"
        ),
    )


def table_suite(table: str, columns: dict[str, str]) -> Suite:
    """`columns` maps each column of marts.<table> to its data type."""
    names = set(columns)
    rules: list = []
    key = key_of(table, names)
    if key and set(key) <= names:
        rules += [NotNull(c) for c in key]
        rules.append(Unique(key))
    rules += [Range(c, 0, 1) for c in sorted(names) if c.endswith("_rate")]
    rules += COLUMN_RULES.get(table, [])
    # each bad row is shown with its key, to be found
    shown_key = key if key and set(key) <= names else ()
    rules += [replace(rule, show=shown_key) for rule in IDENTITIES]
    counts = sorted(c for c, t in columns.items()
                    if t in INTEGER_TYPES and not any(word in c for word in NOT_COUNTS))
    if counts and table.startswith(("reform_", "dossier_by_field")):
        rules.append(RowRule("counts are not negative", " or ".join(f"{c} < 0" for c in counts),
                             show=tuple(c for c in ("period_key", "unit_code") if c in names)))
    if is_unit_period_mart(table, names):
        rules.append(unit_rows_complete(table))
    if "report_status" in names and "calendar" in names and table.startswith("reform_"):
        rules += report_status_rules(table)
    if table == "reform_province":
        rules.append(province_carry_over())
    return Suite(f"marts.{table}", f"marts.{table}", applicable(rules, names))


def suites(columns: dict[str, dict[str, str]]) -> list[Suite]:
    """The suite of every table of schema `marts`; `columns` maps schema.table to {column: data type}."""
    return [table_suite(name.split(".", 1)[1], cols) for name, cols in sorted(columns.items())
            if name.startswith("marts.")]

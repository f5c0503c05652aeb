"""Suites of the marts (schema `marts`), declared per mart in MART_CHECKS.

One owner per rule (issue 13 item 4). dbt owns what holds within one mart's rows and is tested as the mart is
built: grain and keys, code sets (accepted_values), rates within [0, 1] and the identities of domain.md §3–5
(dbt_project/models/marts/*/_*__models.yml; macros/test_unique_combination.sql). GX owns the raw layer (raw.py)
and, on the marts, what compares a mart with other periods or tables (the province's carry-over, a row for every
unit that existed) plus the value bounds dbt does not test. A mart not named in MART_CHECKS gets no suite: the
checks are declared, not guessed from table names.
"""

from __future__ import annotations

from dataclasses import dataclass

from .rules import Range, RowRule, Suite, ValueSet, applicable

INTEGER_TYPES = {"bigint", "integer", "smallint"}
# integers that are not counts (scores and points may be negative: penalties)
NOT_COUNTS = ("year", "rank", "channel", "status_code", "score", "points")


@dataclass(frozen=True)
class CountsNotNegative:
    """Every count column of the mart (its integer columns but the NOT_COUNTS) is never negative; which columns
    those are is read from the table, so a count added later is checked without a new declaration."""

    show: tuple[str, ...] = ("period_key", "unit_code")

    def rule(self, columns: dict[str, str]) -> RowRule | None:
        counts = sorted(c for c, t in columns.items()
                        if t in INTEGER_TYPES and not any(word in c for word in NOT_COUNTS))
        if not counts:
            return None
        return RowRule("counts are not negative", " or ".join(f"{c} < 0" for c in counts),
                       show=tuple(c for c in self.show if c in columns))


def unit_rows_complete(table: str) -> RowRule:
    """spec/warehouse.md: a unit appears in a period mart for every period in which it existed (against dim_unit)."""
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


def not_restated_report_status() -> RowRule:
    """Self-report columns are as was only (dbt's assert_report_status_on_official_rows_only owns the as-was marts)."""
    return RowRule("self-report columns are not restated: report_status is NULL",
                   "report_status is not null", show=("period_key", "unit_code"))


def province_carry_over() -> RowRule:
    """domain.md §3: province-wide, P's in_progress_total is the next period's carried_over where P has ended —
    and has data: a period that ends before the first loaded dossier has NULL figures (dim_period.has_dossier_data),
    nothing to carry over."""
    return RowRule(
        "in_progress_total of an ended period = carried_over of the next period",
        "",
        needs=("period_key", "in_progress_total", "carried_over", "period_end", "data_as_of"),
        query=(
            "select p.period_key, p.in_progress_total, nxt.period_key as next_period_key, nxt.carried_over "
            "from {batch} as p join marts.dim_period as own on p.period_key = own.period_key "
            "join marts.dim_period as d on p.period_key = d.previous_period_key "
            "join marts.reform_province as nxt on d.period_key = nxt.period_key "
            "where p.period_end < p.data_as_of::date and own.has_dossier_data "
            "and p.in_progress_total is distinct from nxt.carried_over"
        ),
    )


def _as_was(table: str) -> list:
    return [CountsNotNegative(), unit_rows_complete(table)]


def _restated() -> list:
    return [CountsNotNegative(), not_restated_report_status()]


# What GX checks on each mart (spec/warehouse.md). An empty list: dbt owns every rule of that mart.
MART_CHECKS: dict[str, list] = {
    "dim_period": [],
    "dim_unit": [],
    "fct_dossier": [
        ValueSet("status_code", tuple(range(1, 11))),
        Range("supplement_count", minimum=0),
        Range("fee_amount", minimum=0),
    ],
    "fct_document": [],
    "fct_task": [],
    "reform_quarter": _as_was("reform_quarter"),
    "reform_semester": _as_was("reform_semester"),
    "reform_annual": _as_was("reform_annual"),
    "reform_quarter_restated": _restated(),
    "reform_semester_restated": _restated(),
    "reform_annual_restated": _restated(),
    "reform_province": [CountsNotNegative(show=("period_key",)), province_carry_over()],
    "dossier_by_field": [CountsNotNegative()],
    "dossier_province_by_field": [],
    "dossier_province_by_procedure": [],  # a view: dbt tests it as it counts again (assert_late_by_field_...)
    "fct_self_report": [],
    "fct_self_assessment": [],
    "evidence_gaps": [],
    "par_area_scores": [],
}


def table_suite(table: str, columns: dict[str, str]) -> Suite:
    """The declared checks of marts.<table>; `columns` maps each of its columns to its data type."""
    rules = [check.rule(columns) if isinstance(check, CountsNotNegative) else check
             for check in MART_CHECKS.get(table, [])]
    return Suite(f"marts.{table}", f"marts.{table}", applicable([r for r in rules if r is not None], set(columns)))


def suites(columns: dict[str, dict[str, str]]) -> list[Suite]:
    """The suite of every mart that exists and has checks declared; `columns` maps schema.table to
    {column: data type}."""
    found = (table_suite(name.split(".", 1)[1], cols) for name, cols in sorted(columns.items())
             if name.startswith("marts."))
    return [suite for suite in found if suite.rules]

-- sqlfluff:indentation:template_blocks_indent:false
-- Province-wide late dossiers by field and by procedure (the report's explanations): every counted
-- (period, dossier) sits with one field and one procedure, so the rows of a period sum to reform_province
-- (late, late without an apology letter, handled), their late shares sum to 1 (each share is rounded to 4
-- places: within half a unit of the 4th place per row), and no (period, procedure)
-- repeats or lacks its code. Only the periods this build counted again can have changed
-- (int_dossier_periods_affected: every period on a build over everything), so only they are checked.
-- depends_on: {{ ref('int_dossier_periods_affected') }}
{%- set periods = affected_period_keys() %}

with procedures as (
    select
        period_key,
        count(*) as n_rows,
        count(distinct procedure_code) as n_codes,
        count(procedure_code) as n_coded,
        sum(late_total) as late_total,
        sum(late_without_apology) as late_without_apology,
        sum(received_total) as received_total,
        sum(late_share) as late_share
    from {{ ref('dossier_province_by_procedure') }}
    where period_key in ({{ sql_text_list(periods) }})
    group by period_key
),

fields as (
    select
        period_key,
        count(*) as n_rows,
        sum(late_total) as late_total,
        sum(late_without_apology) as late_without_apology,
        sum(received_total) as received_total,
        sum(late_share) as late_share
    from {{ ref('dossier_province_by_field') }}
    where period_key in ({{ sql_text_list(periods) }})
    group by period_key
)

select p.period_key
from {{ ref('reform_province') }} as p
left join procedures as pr on p.period_key = pr.period_key
left join fields as f on p.period_key = f.period_key
where
    p.period_key in ({{ sql_text_list(periods) }})
    and (
        pr.n_rows <> pr.n_codes
        or pr.n_rows <> pr.n_coded
        or coalesce(pr.late_total, 0) <> p.late_total
        or coalesce(pr.late_without_apology, 0) <> p.late_without_apology
        or coalesce(pr.received_total, 0) <> p.received_total
        or coalesce(f.late_total, 0) <> p.late_total
        or coalesce(f.late_without_apology, 0) <> p.late_without_apology
        or coalesce(f.received_total, 0) <> p.received_total
        or (
            p.late_total > 0
            and (abs(pr.late_share - 1) > 0.00005 * pr.n_rows or abs(f.late_share - 1) > 0.00005 * f.n_rows)
        )
    )

-- Every counted dossier figure sits with exactly one unit and one field per period: the
-- by-field rows sum to the province row.
with by_field as (
    select
        period_key,
        sum(received_in_period) as received_sum,
        sum(in_progress_total) as in_progress_sum
    from {{ ref('dossier_by_field') }}
    group by period_key
)

select p.period_key
from {{ ref('reform_province') }} as p
left join by_field as f on p.period_key = f.period_key
where
    coalesce(f.received_sum, 0) <> p.received_in_period
    or coalesce(f.in_progress_sum, 0) <> p.in_progress_total

-- Restating moves figures between units but never creates or loses any: per period the
-- restated sums equal the as-was sums, for every family.
with as_was as (
    select
        period_key,
        received_in_period,
        carried_over,
        resolved_total,
        in_progress_total
    from {{ ref('reform_quarter') }}

    union all

    select
        period_key,
        received_in_period,
        carried_over,
        resolved_total,
        in_progress_total
    from {{ ref('reform_semester') }}

    union all

    select
        period_key,
        received_in_period,
        carried_over,
        resolved_total,
        in_progress_total
    from {{ ref('reform_annual') }}
),

restated as (
    select
        period_key,
        received_in_period,
        carried_over,
        resolved_total,
        in_progress_total
    from {{ ref('reform_quarter_restated') }}

    union all

    select
        period_key,
        received_in_period,
        carried_over,
        resolved_total,
        in_progress_total
    from {{ ref('reform_semester_restated') }}

    union all

    select
        period_key,
        received_in_period,
        carried_over,
        resolved_total,
        in_progress_total
    from {{ ref('reform_annual_restated') }}
),

as_was_sums as (
    select
        period_key,
        sum(received_in_period) as received_sum,
        sum(carried_over) as carried_sum,
        sum(resolved_total) as resolved_sum,
        sum(in_progress_total) as in_progress_sum
    from as_was
    group by period_key
),

restated_sums as (
    select
        period_key,
        sum(received_in_period) as received_sum,
        sum(carried_over) as carried_sum,
        sum(resolved_total) as resolved_sum,
        sum(in_progress_total) as in_progress_sum
    from restated
    group by period_key
)

select
    a.period_key as as_was_period_key,
    r.period_key as restated_period_key
from as_was_sums as a
full outer join restated_sums as r on a.period_key = r.period_key
where
    a.period_key is null
    or r.period_key is null
    or a.received_sum is distinct from r.received_sum
    or a.carried_sum is distinct from r.carried_sum
    or a.resolved_sum is distinct from r.resolved_sum
    or a.in_progress_sum is distinct from r.in_progress_sum

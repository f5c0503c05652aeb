-- Periods that have started by the newest one-stop-shop extraction, with their evaluation time:
-- a running period is judged as of the data, whatever the clock says.
with periods as (
    select * from {{ ref('int_periods_generated') }}
),

-- the newest extraction of any version is the newest of the kept ones (an index answers it)
freshness as (
    select max(extracted_at) as data_as_of
    from {{ ref('int_dossiers_deduplicated') }}
)

select
    periods.period_key,
    periods.calendar,
    periods.period_type,
    periods.year,
    periods.start_date,
    periods.end_date,
    periods.previous_period_key,
    periods.start_date::timestamp as start_at,
    least(periods.end_date + interval '23:59:59', freshness.data_as_of) as evaluation_time,
    freshness.data_as_of
from periods
cross join freshness
where periods.start_date <= freshness.data_as_of::date

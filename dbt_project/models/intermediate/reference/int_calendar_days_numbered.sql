-- Date spine with a running working-day number, so the working days in (d1, d2] are
-- working_day_number(d2) - working_day_number(d1): two lookups instead of a range scan.
with days as (
    select gs::date as calendar_date
    from generate_series(
        '{{ var("calendar_start", "2020-01-01") }}'::date,
        '{{ var("calendar_end", "2030-12-31") }}'::date,
        interval '1 day'
    ) as gs
),

holidays as (
    select distinct holiday_date
    from {{ ref('stg_reference__holidays') }}
),

flagged as (
    select
        days.calendar_date,
        (
            extract(isodow from days.calendar_date) < 6
            and holidays.holiday_date is null
        ) as is_working_day
    from days
    left join holidays on days.calendar_date = holidays.holiday_date
)

select
    calendar_date,
    is_working_day,
    sum(case when is_working_day then 1 else 0 end) over (
        order by calendar_date rows between unbounded preceding and current row
    )::int as working_day_number
from flagged

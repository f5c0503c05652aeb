-- Reporting periods of both calendars (domain.md §2), all configured years.
select
    cast(period_key as text) as period_key,
    cast(calendar as text) as calendar,
    cast(period_type as text) as period_type,
    cast(year as integer) as year,  -- noqa: RF04
    cast(start_date as date) as start_date,
    cast(end_date as date) as end_date,
    cast(previous_period_key as text) as previous_period_key,
    cast(province_report_deadline as date) as province_report_deadline,
    cast(period_name as text) as period_name
from {{ ref('int_periods_generated') }}

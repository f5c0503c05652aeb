-- Reporting periods of both calendars (domain.md §2), all configured years, with how far the loaded data
-- reaches into each (is_complete), so a BI tool can tell a closed period from a running one.
with freshness as (
    select max(data_as_of) as data_as_of
    from {{ ref('int_periods_evaluated') }}
),

coverage as (
    select * from {{ ref('int_data_coverage') }}
)

select
    cast(periods.period_key as text) as period_key,
    cast(periods.calendar as text) as calendar,
    cast(periods.period_type as text) as period_type,
    cast(periods.year as integer) as year,  -- noqa: RF04
    cast(periods.start_date as date) as start_date,
    cast(periods.end_date as date) as end_date,
    cast(periods.previous_period_key as text) as previous_period_key,
    cast(periods.province_report_deadline as date) as province_report_deadline,
    cast(periods.period_name as text) as period_name,
    -- the names the period marts use, so that joins read the same everywhere
    cast(periods.start_date as date) as period_start,
    cast(periods.end_date as date) as period_end,
    cast(freshness.data_as_of as timestamp) as data_as_of,
    cast({{ period_is_complete('freshness.data_as_of', 'periods.end_date') }} as boolean) as is_complete,
    -- a period that ends before the first loaded dossier has no data: its mart figures are NULL, not 0
    cast(coalesce(periods.end_date >= coverage.dossiers_from, false) as boolean) as has_dossier_data
from {{ ref('int_periods_generated') }} as periods
cross join freshness
cross join coverage

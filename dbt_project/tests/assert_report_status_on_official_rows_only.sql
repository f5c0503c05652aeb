-- Every unit row of the official calendar has a report status (domain.md §5); calendar-calendar rows
-- have none.
with marts as (
    select
        period_key,
        calendar,
        unit_code,
        report_status
    from {{ ref('reform_quarter') }}
    union all
    select
        period_key,
        calendar,
        unit_code,
        report_status
    from {{ ref('reform_semester') }}
    union all
    select
        period_key,
        calendar,
        unit_code,
        report_status
    from {{ ref('reform_annual') }}
)

select *
from marts
where (calendar = 'official') = (report_status is null)

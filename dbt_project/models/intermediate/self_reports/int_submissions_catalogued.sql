-- The latest accepted submission of each unit and period, with the catalog it is judged against: the period's
-- year and the unit's level (of its report-status row, else of the unit's current version). Evidence matching
-- and gap detection both start from it.
select
    s.submission_id,
    s.unit_code,
    s.period_key,
    s.sent_at,
    s.loaded_at,
    left(s.period_key, 4)::integer as year,  -- noqa: RF04
    coalesce(statuses.unit_level, units.unit_level) as unit_level
from {{ ref('int_submissions_ranked') }} as s
left join {{ ref('int_unit_reports_statused') }} as statuses
    on
        s.unit_code = statuses.unit_code
        and s.period_key = statuses.period_key
left join {{ ref('int_units_current') }} as units on s.unit_code = units.unit_code
where s.is_latest

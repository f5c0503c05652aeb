with source as (
    select * from {{ source('reference', 'reporting_calendar') }}
)

select
    period_key,
    unit_level,
    submission_deadline
from source

with source as (
    select * from {{ source('self_reports', 'self_reports__figures') }}
)

select
    submission_id,
    unit_code,
    period_key,
    indicator_code,
    value_parsed as figure_value,
    load_id,
    source_line
from source

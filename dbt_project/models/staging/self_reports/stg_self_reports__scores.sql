with source as (
    select * from {{ source('self_reports', 'self_reports__scores') }}
)

select
    submission_id,
    unit_code,
    period_key,
    criterion_code,
    max_points_parsed as stated_max_points,
    self_score_parsed as self_score,
    nullif(explanation, '') as explanation,
    load_id,
    source_line
from source

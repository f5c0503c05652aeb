with source as (
    select * from {{ source('reference', 'criteria') }}
)

select
    year,
    unit_level,
    criterion_code,
    nullif(parent_code, '') as parent_code,
    area_code,
    area_name,
    criterion_name,
    min_points,
    max_points,
    coalesce(evidence_required, false) as evidence_required
from source

with source as (
    select * from {{ source('reference', 'indicators') }}
)

select
    year,
    unit_level,
    indicator_code,
    indicator_name,
    coalesce(evidence_required, false) as evidence_required
from source

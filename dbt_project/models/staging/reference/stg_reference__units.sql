with source as (
    select * from {{ source('reference', 'units') }}
)

select
    unit_code,
    unit_name,
    unit_level,
    parent_code,
    valid_from,
    valid_to,
    successor_code,
    has_procedures
from source

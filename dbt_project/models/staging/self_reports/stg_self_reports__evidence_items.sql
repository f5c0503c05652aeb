with source as (
    select * from {{ source('self_reports', 'self_reports__evidence_items') }}
)

select
    submission_id,
    unit_code,
    period_key,
    code,
    nullif(document_number, '') as document_number,
    document_date_parsed as document_date,
    nullif(file_name, '') as file_name,
    nullif(location, '') as location,  -- noqa: RF04
    load_id,
    source_line
from source

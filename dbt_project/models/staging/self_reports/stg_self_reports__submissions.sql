with source as (
    select * from {{ source('self_reports', 'self_reports__submissions') }}
)

select
    submission_id,
    unit_code,
    period_key,
    sent_at_parsed as sent_at,
    package_name,
    package_format,
    package_bytes_parsed as package_bytes,
    workbook_name,
    load_id,
    loaded_at
from source

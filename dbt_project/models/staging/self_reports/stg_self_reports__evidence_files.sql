with source as (
    select * from {{ source('self_reports', 'self_reports__evidence_files') }}
)

select
    submission_id,
    unit_code,
    period_key,
    file_path,
    file_name,
    file_bytes_parsed as file_bytes,
    file_sha256,
    load_id
from source

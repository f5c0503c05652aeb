-- The evidence files each accepted submission carried, and how many of them are empty (0 bytes).
select
    submission_id,
    count(*) as evidence_files,
    count(*) filter (where file_bytes = 0) as empty_files
from {{ ref('stg_self_reports__evidence_files') }}
group by submission_id

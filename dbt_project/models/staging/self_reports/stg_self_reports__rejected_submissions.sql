-- Submissions the loader refused whole: a unit whose report is missing may have sent one (named in the
-- REPORT_MISSING gap's detail).
with source as (
    select * from {{ source('audit', 'file_loads') }}
    where source = 'self_reports' and status = 'rejected'
)

select
    load_id,
    file_name,
    substring(file_name from '^([^_[:space:]]+)_') as unit_code,
    substring(file_name from '^[^_[:space:]]+_([0-9]{4}-(?:Q[1-4]|H[12]|Y))') as period_key,
    message,
    started_at as rejected_at
from source

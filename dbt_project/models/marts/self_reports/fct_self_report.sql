-- Every accepted self-report submission; the first decides the report status, the latest gives the
-- scores, figures and evidence (domain.md §5).
select
    cast(s.submission_id as text) as submission_id,
    cast(s.unit_code as text) as unit_code,
    cast(s.period_key as text) as period_key,
    cast(s.sent_at as timestamp) as sent_at,
    cast(s.is_first as boolean) as is_first,
    cast(s.is_latest as boolean) as is_latest,
    cast(s.package_name as text) as package_name,
    cast(coalesce(files.evidence_files, 0) as bigint) as evidence_files,
    cast(coalesce(files.empty_files, 0) as bigint) as empty_files,
    cast(s.loaded_at as timestamp) as loaded_at
from {{ ref('int_submissions_ranked') }} as s
left join {{ ref('int_submission_files_counted') }} as files on s.submission_id = files.submission_id

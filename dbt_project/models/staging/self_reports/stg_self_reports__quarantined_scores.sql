-- Scores the loader quarantined as outside their criterion's range: their points do not count, but the
-- INVALID_SCORE gap keeps them visible (domain.md §5). Only these fields leave the quarantine record.
with source as (
    select * from {{ source('quarantine', 'rows') }}
    where source = 'self_reports' and entity = 'scores'
)

select
    record ->> 'submission_id' as submission_id,
    record ->> 'unit_code' as unit_code,
    record ->> 'period_key' as period_key,
    record ->> 'criterion_code' as criterion_code,
    record ->> 'self_score' as self_score_text,
    reasons[1] as reason,
    quarantined_at
from source
where reasons[1] like '%is outside the criterion''s range%'

-- Every accepted submission with its place among the unit's submissions for the period: the report
-- status comes from the first (by Ngày gửi), scores, figures and evidence from the latest (domain.md §5).
select
    submission_id,
    unit_code,
    period_key,
    sent_at,
    package_name,
    loaded_at,
    load_id,
    row_number() over (
        partition by unit_code, period_key order by sent_at asc, load_id asc
    ) = 1 as is_first,
    row_number() over (
        partition by unit_code, period_key order by sent_at desc, load_id desc
    ) = 1 as is_latest,
    count(*) over (partition by unit_code, period_key) as submission_count
from {{ ref('stg_self_reports__submissions') }}

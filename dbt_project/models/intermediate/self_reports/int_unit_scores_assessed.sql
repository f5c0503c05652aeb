-- Self-assessed scores (điểm tự chấm) per year, unit and area over the applicable criteria (the catalog's
-- leaves for the unit's level), from the latest accepted annual submission; a score on a parent row is
-- ignored, a quarantined (out-of-range) score counts nothing. Points are at risk on a criterion that
-- has a gap (domain.md §5).
with annual as (
    select
        s.submission_id,
        s.unit_code,
        s.period_key,
        left(s.period_key, 4)::integer as year,  -- noqa: RF04
        statuses.unit_level
    from {{ ref('int_submissions_ranked') }} as s
    inner join {{ ref('int_unit_reports_statused') }} as statuses
        on
            s.unit_code = statuses.unit_code
            and s.period_key = statuses.period_key
    where s.is_latest and s.period_key like '%-Y'
),

gapped_criteria as (
    select distinct
        period_key,
        unit_code,
        criterion_code
    from {{ ref('int_evidence_gaps_detected') }}
    where criterion_code is not null and gap_type <> 'DOCUMENT_UNVERIFIABLE'
),

criteria as (
    select
        annual.year,
        annual.period_key,
        annual.unit_code,
        annual.unit_level,
        leaves.criterion_code,
        leaves.area_code,
        leaves.area_name,
        leaves.max_points,
        scores.self_score,
        gapped_criteria.criterion_code is not null as has_gap
    from annual
    inner join {{ ref('int_criteria_leaves_listed') }} as leaves
        on
            annual.year = leaves.year
            and annual.unit_level = leaves.unit_level
    left join {{ ref('stg_self_reports__scores') }} as scores
        on
            annual.submission_id = scores.submission_id
            and leaves.criterion_code = scores.criterion_code
    left join gapped_criteria
        on
            annual.period_key = gapped_criteria.period_key
            and annual.unit_code = gapped_criteria.unit_code
            and leaves.criterion_code = gapped_criteria.criterion_code
)

select
    year,
    period_key,
    unit_code,
    unit_level,
    area_code,
    min(area_name) as area_name,
    sum(max_points) as max_points,
    coalesce(sum(self_score), 0) as self_score,
    coalesce(sum(self_score) filter (where has_gap and self_score > 0), 0) as points_at_risk,
    coalesce(sum(self_score) filter (where self_score > 0), 0) as positive_points
from criteria
group by year, period_key, unit_code, unit_level, area_code

-- The latest accepted annual self-assessment per unit and year, one row per applicable criterion
-- (a leaf of the year's catalog for the unit's level); self-assessed points (điểm tự chấm), not the
-- appraised index.
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

gapped as (
    select distinct
        period_key,
        unit_code,
        criterion_code
    from {{ ref('int_evidence_gaps_detected') }}
    where criterion_code is not null and gap_type <> 'DOCUMENT_UNVERIFIABLE'
)

select
    (annual.year)::integer as year,  -- noqa: RF04
    (annual.unit_code)::text as unit_code,
    (annual.unit_level)::text as unit_level,
    (leaves.criterion_code)::text as criterion_code,
    (leaves.area_code)::text as area_code,
    (leaves.criterion_name)::text as criterion_name,
    (leaves.min_points)::numeric as min_points,
    (leaves.max_points)::numeric as max_points,
    (scores.self_score)::numeric as self_score,
    (scores.explanation)::text as explanation,
    (leaves.evidence_required)::boolean as evidence_required,
    (gapped.criterion_code is not null)::boolean as has_gap,
    (annual.submission_id)::text as submission_id
from annual
inner join {{ ref('int_criteria_leaves_listed') }} as leaves
    on
        annual.year = leaves.year
        and annual.unit_level = leaves.unit_level
left join {{ ref('stg_self_reports__scores') }} as scores
    on
        annual.submission_id = scores.submission_id
        and leaves.criterion_code = scores.criterion_code
left join gapped
    on
        annual.period_key = gapped.period_key
        and annual.unit_code = gapped.unit_code
        and leaves.criterion_code = gapped.criterion_code

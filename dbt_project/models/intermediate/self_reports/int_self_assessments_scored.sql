-- Each applicable criterion (a leaf of the year's catalog for the unit's level) of the latest accepted annual
-- self-assessment, with its self score (điểm tự chấm) and whether it has a gap (domain.md §5): a score on a
-- parent row is ignored, a quarantined (out-of-range) score is NULL, an unverifiable document is no gap.
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
        leaves.criterion_name,
        leaves.min_points,
        leaves.max_points,
        leaves.evidence_required,
        scores.self_score,
        scores.explanation,
        annual.submission_id,
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

select * from criteria

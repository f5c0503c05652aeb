-- The self-report columns of each official-calendar (period, unit) row: status, gap count, flag
-- (domain.md §5), and for the annual period the self-assessed scores and rank in level.
with statuses as (
    select * from {{ ref('int_unit_reports_statused') }}
),

gaps as (
    select
        period_key,
        unit_code,
        count(*) filter (where gap_type <> 'DOCUMENT_UNVERIFIABLE') as evidence_gap_count,
        coalesce(bool_or(gap_type not in ('REPORT_LATE', 'DOCUMENT_UNVERIFIABLE')), false) as missing_evidence
    from {{ ref('int_evidence_gaps_detected') }}
    group by period_key, unit_code
),

scores as (
    select
        period_key,
        unit_code,
        unit_level,
        year,
        sum(self_score) as par_self_score,
        sum(max_points) as par_max_score,
        sum(points_at_risk) as par_points_at_risk,
        sum(positive_points) as positive_points
    from {{ ref('int_unit_scores_assessed') }}
    group by period_key, unit_code, unit_level, year
),

ranked as (
    select
        *,
        rank() over (
            partition by year, unit_level order by par_self_score / nullif(par_max_score, 0) desc nulls last
        ) as rank_in_level
    from scores
)

select
    statuses.period_key,
    statuses.unit_code,
    statuses.report_status,
    coalesce(gaps.evidence_gap_count, 0) as evidence_gap_count,
    coalesce(gaps.missing_evidence, false) as missing_evidence,
    ranked.par_self_score,
    ranked.par_max_score,
    ranked.par_points_at_risk,
    ranked.par_self_score - ranked.par_points_at_risk as par_points_with_evidence,
    1 - {{ safe_rate('ranked.par_points_at_risk', 'ranked.positive_points') }} as evidence_coverage_rate,
    ranked.rank_in_level
from statuses
left join gaps
    on
        statuses.period_key = gaps.period_key
        and statuses.unit_code = gaps.unit_code
left join ranked
    on
        statuses.period_key = ranked.period_key
        and statuses.unit_code = ranked.unit_code

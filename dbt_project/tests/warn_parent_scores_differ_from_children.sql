-- A score a workbook gives on a parent criterion is ignored (its points are the sum of its children's);
-- where it differs from that sum, say so (domain.md §5).
{{ config(severity='warn') }}

with parents as (
    select distinct
        year,
        unit_level,
        parent_code as criterion_code
    from {{ ref('stg_reference__criteria') }}
    where parent_code is not null
),

submissions as (
    select
        submission_id,
        unit_code,
        period_key,
        left(period_key, 4)::integer as year  -- noqa: RF04
    from {{ ref('int_submissions_ranked') }}
    where is_latest
),

levels as (
    select
        unit_code,
        unit_level
    from {{ ref('int_units_current') }}
),

parent_scores as (
    select
        submissions.submission_id,
        submissions.unit_code,
        submissions.period_key,
        levels.unit_level,
        scores.criterion_code,
        scores.self_score
    from submissions
    inner join levels on submissions.unit_code = levels.unit_code
    inner join {{ ref('stg_self_reports__scores') }} as scores on submissions.submission_id = scores.submission_id
    inner join parents
        on
            submissions.year = parents.year
            and levels.unit_level = parents.unit_level
            and scores.criterion_code = parents.criterion_code
),

children as (
    select
        parent_scores.submission_id,
        parent_scores.criterion_code,
        coalesce(sum(child_scores.self_score), 0) as children_sum
    from parent_scores
    inner join {{ ref('stg_reference__criteria') }} as child
        on
            left(parent_scores.period_key, 4)::integer = child.year
            and parent_scores.unit_level = child.unit_level
            and parent_scores.criterion_code = child.parent_code
    left join {{ ref('stg_self_reports__scores') }} as child_scores
        on
            parent_scores.submission_id = child_scores.submission_id
            and child.criterion_code = child_scores.criterion_code
    group by parent_scores.submission_id, parent_scores.criterion_code
)

select
    parent_scores.unit_code,
    parent_scores.period_key,
    parent_scores.criterion_code,
    parent_scores.self_score as score_on_parent_row,
    children.children_sum
from parent_scores
inner join children
    on
        parent_scores.submission_id = children.submission_id
        and parent_scores.criterion_code = children.criterion_code
where parent_scores.self_score <> children.children_sum

-- The latest accepted annual self-assessment per unit and year, one row per applicable criterion; self-assessed
-- points (điểm tự chấm), not the appraised index.
select
    cast(year as integer) as year,  -- noqa: RF04
    cast(unit_code as text) as unit_code,
    cast(unit_level as text) as unit_level,
    cast(criterion_code as text) as criterion_code,
    cast(area_code as text) as area_code,
    cast(criterion_name as text) as criterion_name,
    cast(min_points as {{ points_type() }}) as min_points,
    cast(max_points as {{ points_type() }}) as max_points,
    cast(self_score as {{ points_type() }}) as self_score,
    cast(explanation as text) as explanation,
    cast(evidence_required as boolean) as evidence_required,
    cast(has_gap as boolean) as has_gap,
    cast(submission_id as text) as submission_id
from {{ ref('int_self_assessments_scored') }}

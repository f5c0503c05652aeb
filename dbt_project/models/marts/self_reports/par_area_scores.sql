-- Self-assessed points (điểm tự chấm) per year, unit and area of the catalog, with the points at risk
-- for lack of evidence (domain.md §5).
select
    cast(year as integer) as year,  -- noqa: RF04
    cast(unit_code as text) as unit_code,
    cast(unit_level as text) as unit_level,
    cast(area_code as text) as area_code,
    cast(area_name as text) as area_name,
    cast(max_points as {{ points_type() }}) as max_points,
    cast(self_score as {{ points_type() }}) as self_score,
    cast(points_at_risk as {{ points_type() }}) as points_at_risk,
    cast(self_score - points_at_risk as {{ points_type() }}) as points_with_evidence
from {{ ref('int_unit_scores_assessed') }}

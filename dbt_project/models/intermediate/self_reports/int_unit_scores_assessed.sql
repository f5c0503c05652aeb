-- Self-assessed scores (điểm tự chấm) per year, unit and area over the applicable criteria; points are at
-- risk on a criterion that has a gap (domain.md §5).
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
from {{ ref('int_self_assessments_scored') }}
group by year, period_key, unit_code, unit_level, area_code

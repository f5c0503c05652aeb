-- The applicable criteria of each catalog (year, unit level): the leaves, i.e. criteria no other
-- criterion names as its parent. A parent's points are the sum of its children's.
select
    c.year,
    c.unit_level,
    c.criterion_code,
    c.parent_code,
    c.area_code,
    c.area_name,
    c.criterion_name,
    c.min_points,
    c.max_points,
    c.evidence_required
from {{ ref('stg_reference__criteria') }} as c
where not exists (
    select 1
    from {{ ref('stg_reference__criteria') }} as child
    where
        child.year = c.year
        and child.unit_level = c.unit_level
        and child.parent_code = c.criterion_code
)

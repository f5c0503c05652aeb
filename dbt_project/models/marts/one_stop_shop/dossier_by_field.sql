-- Dossier counts and rates per period x unit (as was) x field (lĩnh vực).
select
    cast(period_key as text) as period_key,
    cast(calendar as text) as calendar,
    cast(period_type as text) as period_type,
    cast(period_start as date) as period_start,
    cast(period_end as date) as period_end,
    cast(unit_code as text) as unit_code,
    cast(unit_name as text) as unit_name,
    cast(unit_level as text) as unit_level,
    cast(current_unit_code as text) as current_unit_code,
    cast(field_code as text) as field_code,
    cast(field_name as text) as field_name,
    {{ dossier_kpi_select() }},
    {{ period_freshness_select(documents=false) }}
from {{ ref('int_unit_field_periods_aggregated') }}

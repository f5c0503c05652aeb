-- Dossier KPIs per period x field (lĩnh vực), province-wide: the as-was by-field rows summed (run-off rows
-- included, as in reform_province), rates recomputed from the sums, and each field's late dossiers as a
-- share of its own work and of the province's late dossiers.
-- A table, not a view (a sum over counts the build has already made, so cheap): marts are built in
-- marts_build and published together, and a view would depend on what it read there.

with by_field as (
    select * from {{ ref('int_unit_field_periods_aggregated') }}
),

summed as (
    select
        period_key,
        calendar,
        period_type,
        period_start,
        period_end,
        field_code,
        max(field_name) as field_name,
        count(*) filter (where late_total > 0) as units_with_late,
        max(data_as_of) as data_as_of,
        {{ dossier_count_sums() }}
    from by_field
    group by period_key, calendar, period_type, period_start, period_end, field_code
),

rated as (
    select
        *,
        {{ dossier_rate_columns() }},
        {{ late_share_columns() }}
    from summed
)

select
    cast(period_key as text) as period_key,
    cast(calendar as text) as calendar,
    cast(period_type as text) as period_type,
    cast(period_start as date) as period_start,
    cast(period_end as date) as period_end,
    cast(field_code as text) as field_code,
    cast(field_name as text) as field_name,
    cast(units_with_late as bigint) as units_with_late,
    {{ dossier_kpi_select() }},
    cast(late_rate as {{ rate_type() }}) as late_rate,
    cast(late_share as {{ rate_type() }}) as late_share,
    cast(data_as_of as timestamp) as data_as_of
from rated

-- Dossier KPIs per (period, unit as was, field): only fields with figures in the period.
with listed as (
    select * from {{ ref('int_unit_periods_listed') }}
),

counts as (
    select
        period_key,
        unit_code,
        field_code,
        max(field_name) as field_name,
        {{ dossier_count_sums() }}
    from {{ ref('int_unit_procedure_periods_counted') }}
    group by period_key, unit_code, field_code
),

joined as (
    select
        listed.period_key,
        listed.calendar,
        listed.period_type,
        listed.period_start,
        listed.period_end,
        listed.unit_code,
        listed.unit_name,
        listed.unit_level,
        listed.current_unit_code,
        counts.field_code,
        counts.field_name,
        {{ dossier_count_list('counts') }},
        listed.data_as_of
    from counts
    inner join listed
        on
            counts.period_key = listed.period_key
            and counts.unit_code = listed.unit_code
    -- units without procedures have no dossier figures (domain.md §1), so no by-field rows
    where listed.has_procedures
)

select
    *,
    {{ dossier_rate_columns() }}
from joined

-- Dossier KPIs per period x procedure (thủ tục hành chính), province-wide: the sums of the counted
-- (period, as-was unit, field, procedure) rows of the units that handle procedures, as in the unit marts,
-- so the procedures of a period sum to reform_province. With each procedure's late dossiers as a share
-- of its own work and of the province's late dossiers. A table, not a view: a view in marts_build would
-- outlive the publication of what it reads (reformwh/pipeline.py publish_marts).

with listed as (
    select * from {{ ref('int_unit_periods_listed') }}
),

periods as (
    select * from {{ ref('int_periods_evaluated') }}
),

fields as (
    select
        period_key,
        field_code,
        field_name
    from {{ ref('dossier_province_by_field') }}
),

-- per (period, procedure, as-was unit) first, so that the units with late dossiers can be counted
by_unit as (
    select
        c.period_key,
        c.procedure_code,
        c.unit_code,
        max(c.procedure_name) as procedure_name,
        min(c.field_code) as field_code,
        {{ dossier_count_sums('c') }}
    from {{ ref('int_unit_procedure_periods_counted') }} as c
    inner join listed
        on
            c.period_key = listed.period_key
            and c.unit_code = listed.unit_code
    -- units without procedures have no dossier figures (domain.md §1)
    where listed.has_procedures
    group by c.period_key, c.procedure_code, c.unit_code
),

counted as (
    select
        period_key,
        procedure_code,
        max(procedure_name) as procedure_name,
        -- a procedure belongs to one field; should its dossiers name several, the first code
        min(field_code) as field_code,
        count(*) filter (where late_total > 0) as units_with_late,
        {{ dossier_count_sums() }}
    from by_unit
    group by period_key, procedure_code
),

rated as (
    select
        *,
        {{ dossier_rate_columns() }},
        {{ late_share_columns() }}
    from counted
)

select
    cast(periods.period_key as text) as period_key,
    cast(periods.calendar as text) as calendar,
    cast(periods.period_type as text) as period_type,
    cast(periods.start_date as date) as period_start,
    cast(periods.end_date as date) as period_end,
    cast(rated.procedure_code as text) as procedure_code,
    cast(rated.procedure_name as text) as procedure_name,
    cast(rated.field_code as text) as field_code,
    cast(fields.field_name as text) as field_name,
    cast(rated.units_with_late as bigint) as units_with_late,
    {{ dossier_kpi_select('rated') }},
    cast(rated.late_rate as {{ rate_type() }}) as late_rate,
    cast(rated.late_share as {{ rate_type() }}) as late_share,
    cast(periods.data_as_of as timestamp) as data_as_of
from rated
inner join periods on rated.period_key = periods.period_key
left join fields
    on
        rated.period_key = fields.period_key
        and rated.field_code = fields.field_code

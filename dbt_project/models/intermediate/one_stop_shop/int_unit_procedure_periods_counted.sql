-- sqlfluff:indentation:template_blocks_indent:false
-- Dossier counts per (period, unit as was, field, procedure): the one place where the (period x dossier)
-- rows are counted, at the finest grain a mart asks for (the province's late dossiers by procedure); the
-- unit, by-field and by-procedure marts sum these counts (they are additive), never a second pass over
-- the dossiers. Incremental: what int_dossier_periods_affected names (whole periods, or groups of an ended
-- period) is deleted and counted again, so every row holds exactly what a build over everything gives it.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    indexes=[{'columns': ['period_key', 'unit_code']}],
    **incremental_hooks(
        'int_dossiers_classified',
        data_as_of_sql="'select max(data_as_of) from ' ~ ref('int_periods_evaluated')",
        extra_pre_hook="{% if is_incremental() %}{{ delete_affected_counts() }}{% endif %}",
    ),
) }}

-- depends_on: {{ ref('int_dossier_periods_affected') }}
-- depends_on: {{ ref('int_dossier_units_as_was') }}
{%- set whole = affected_period_keys(whole=true) if is_incremental() else [] %}
{%- set grouped = affected_period_keys(whole=false) if is_incremental() else [] %}

with counted_rows as (
    select f.*
    from {{ ref('int_dossier_periods_assigned') }} as f
    {%- if is_incremental() %}
    -- the keys as constants, so the planner joins only these periods with the dossiers
    where f.period_key in ({{ sql_text_list(whole) }})
    {%- endif %}
    {%- if grouped %}

    union all

    -- groups of ended periods: the dossiers of the units, fields and procedures concerned first (as constants,
    -- so the filter reaches the dossier scan; joined into one text each, so they are looked up by hash), then
    -- exactly the groups
    select f.*
    from {{ ref('int_dossier_periods_assigned') }} as f
    where
        f.period_key in ({{ sql_text_list(grouped) }})
        and concat_ws('|', f.dossier_unit_code, coalesce(f.field_code, ''), f.procedure_code) in (
            {{- sql_joined_list(affected_dossier_groups()) -}}
        )
        and (f.period_key, f.unit_code, coalesce(f.field_code, ''), f.procedure_code) in (
            select
                affected.period_key,
                affected.unit_code,
                affected.field_code,
                affected.procedure_code
            from {{ ref('int_dossier_periods_affected') }} as affected
            where affected.unit_code is not null
        )
    {%- endif %}
)

select
    f.period_key,
    f.unit_code,
    f.field_code,
    f.procedure_code,
    max(f.field_name) as field_name,
    max(f.procedure_name) as procedure_name,
    {{ dossier_count_aggregates('f') }}
from counted_rows as f
group by f.period_key, f.unit_code, f.field_code, f.procedure_code

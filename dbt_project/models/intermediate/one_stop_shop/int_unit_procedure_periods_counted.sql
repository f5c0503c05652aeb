-- sqlfluff:indentation:template_blocks_indent:false
-- Dossier counts per (period, unit as was, field, procedure): the one place where the (period x dossier)
-- rows are counted, at the finest grain a mart asks for (the province's late dossiers by procedure); the
-- unit, by-field and by-procedure marts sum these counts (they are additive), never a second pass over
-- the dossiers. Incremental: the periods of int_dossier_periods_affected are deleted and counted again,
-- so a period holds exactly what a build over everything would give it.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    indexes=[{'columns': ['period_key', 'unit_code']}],
    **incremental_hooks(
        'int_dossiers_classified',
        data_as_of_sql="'select max(data_as_of) from ' ~ ref('int_periods_evaluated')",
        extra_pre_hook="{% if is_incremental() %}delete from {{ this }} where period_key in "
        ~ "(select period_key from {{ ref('int_dossier_periods_affected') }}){% endif %}",
    ),
) }}

-- depends_on: {{ ref('int_dossier_periods_affected') }}
{%- set affected = affected_period_keys() if is_incremental() else [] %}

select
    f.period_key,
    f.unit_code,
    f.field_code,
    f.procedure_code,
    max(f.field_name) as field_name,
    max(f.procedure_name) as procedure_name,
    {{ dossier_count_aggregates('f') }}
from {{ ref('int_dossier_periods_assigned') }} as f
{%- if is_incremental() %}
-- the keys as constants, so the planner joins only these periods with the dossiers
where f.period_key in ({{ sql_text_list(affected) }})
{%- endif %}
group by f.period_key, f.unit_code, f.field_code, f.procedure_code

-- sqlfluff:indentation:template_blocks_indent:false
-- Dossier counts per (period, unit as was, field, procedure): the one place where the (period x dossier)
-- rows are counted, at the finest grain a mart asks for (the province's late dossiers by procedure); the
-- unit, by-field and by-procedure marts sum these counts (they are additive), never a second pass over
-- the dossiers. Incremental: what int_dossier_periods_affected names (whole periods, or groups of a period) is
-- deleted and counted again, or, for groups it marks by_difference, counted as the rows before plus the changed
-- dossiers and those the data's time moved (dossiers_moved_by_time) as they are judged now, minus as they were
-- judged at the last count: every row holds exactly what a build over everything gives it.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    indexes=[{'columns': ['period_key', 'unit_code']}],
    **incremental_hooks(
        'int_dossiers_classified',
        data_as_of_sql="'select max(data_as_of) from ' ~ ref('int_periods_evaluated')",
        extra_pre_hook="{% if is_incremental() %}{{ delete_affected_counts() }}{% endif %}",
        extra_post_hook="{% if is_incremental() %}{{ mark_differences_applied() }}{% endif %}",
    ),
) }}

-- depends_on: {{ ref('int_dossiers_classified') }}
-- depends_on: {{ ref('int_dossier_periods_affected') }}
-- depends_on: {{ ref('int_dossier_units_as_was') }}
{%- set whole = affected_period_keys('whole') if is_incremental() else [] %}
{%- set grouped = affected_period_keys('recounted') if is_incremental() else [] %}
{%- set by_difference = affected_period_keys('by_difference') if is_incremental() else [] %}
{%- if by_difference %}
{%- set last_counted_as_of = incremental_state(this.identifier).data_as_of %}
{%- set moved = dossiers_moved_by_time(last_counted_as_of) %}
{%- set sides = [
    ('now', 'select * from ' ~ changed_dossiers() ~ ' union all select * from ' ~ moved, none),
    ('before', 'select * from ' ~ replaced_dossiers() ~ ' union all select * from ' ~ moved, last_counted_as_of),
] %}
{%- endif %}
{%- set group_key = "(f.period_key, f.unit_code, coalesce(f.field_code, ''), f.procedure_code)" %}
{%- set groups_by_difference -%}
    select
        affected.period_key,
        affected.unit_code,
        affected.field_code,
        affected.procedure_code
    from {{ ref('int_dossier_periods_affected') }} as affected
    where affected.by_difference
{%- endset %}

with counted_rows as (
    select f.*
    from {{ ref('int_dossier_periods_assigned') }} as f
    {%- if is_incremental() %}
    -- the keys as constants, so the planner joins only these periods with the dossiers
    where f.period_key in ({{ sql_text_list(whole) }})
    {%- endif %}
    {%- if grouped %}

    union all

    -- groups counted again: the dossiers of the units, fields and procedures concerned first (as constants,
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
            where affected.unit_code is not null and not affected.by_difference
        )
    {%- endif %}
){%- if by_difference %},

-- groups counted by difference: the changed and the moved dossiers as they are judged now and as they were
{%- for side, dossiers, as_of in sides %}
counted_{{ side }} as (
    select
        f.period_key,
        f.unit_code,
        f.field_code,
        f.procedure_code,
        max(f.field_name) as field_name,
        max(f.procedure_name) as procedure_name,
        {{ dossier_count_aggregates('f') }}
    from ({{ dossier_periods_of('(' ~ dossiers ~ ') as ' ~ side ~ '_dossiers', as_of) }}) as f
    where f.period_key in ({{ sql_text_list(by_difference) }}) and {{ group_key }} in ({{ groups_by_difference }})
    group by f.period_key, f.unit_code, f.field_code, f.procedure_code
),
{% endfor %}
differences as (
    select * from {{ replaced_counts() }}

    union all

    select * from counted_now

    union all

    -- no name: a dossier that was in the group is still there under the same names (by_difference)
    select
        counted_before.period_key,
        counted_before.unit_code,
        counted_before.field_code,
        counted_before.procedure_code,
        null::text as field_name,
        null::text as procedure_name,
        {%- for c in dossier_count_names() %}
        -counted_before.{{ c }} as {{ c }}{{ ',' if not loop.last }}
        {%- endfor %}
    from counted_before
)
{%- endif %}

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
{%- if by_difference %}

union all

select
    d.period_key,
    d.unit_code,
    d.field_code,
    d.procedure_code,
    max(d.field_name) as field_name,
    max(d.procedure_name) as procedure_name,
    {{ dossier_count_sums('d') }}
from differences as d
group by d.period_key, d.unit_code, d.field_code, d.procedure_code
{%- endif %}

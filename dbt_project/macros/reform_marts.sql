{#- The dossier KPI columns of a period mart, cast to their contract types; with a condition, NULL where it
    is false (a period before the first loaded dossier: no data is not zero dossiers). -#}
{% macro dossier_kpi_select(alias=none, only_if=none) -%}
    {%- set p = (alias ~ '.') if alias else '' -%}
    {%- for c in dossier_count_names() %}
    cast({{ known_only(p ~ c, only_if) }} as bigint) as {{ c }},
    {%- endfor %}
    {%- for r in dossier_rate_names() %}
    cast({{ known_only(p ~ r, only_if) }} as {{ rate_type() }}) as {{ r }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- An expression, or NULL where a condition is not true. -#}
{% macro known_only(expression, only_if=none) -%}
    {%- if only_if %}case when {{ only_if }} then {{ expression }} end{% else %}{{ expression }}{% endif -%}
{%- endmacro %}

{#- The columns every period mart ends with: freshness and whether the period is complete. -#}
{% macro period_freshness_select(alias=none, documents=true) -%}
    {%- set p = (alias ~ '.') if alias else '' -%}
    cast({{ p }}data_as_of as timestamp) as data_as_of,
    {%- if documents %}
    cast({{ p }}documents_as_of as timestamp) as documents_as_of,
    {%- endif %}
    cast({{ period_is_complete(p ~ 'data_as_of', p ~ 'period_end') }} as boolean) as is_complete
{%- endmacro %}

{#- An as-was period mart: one row per period of the given type x unit. -#}
{% macro reform_period_mart(period_type) -%}
with coverage as (
    select * from {{ ref('int_data_coverage') }}
)

select
    cast(a.period_key as text) as period_key,
    cast(a.calendar as text) as calendar,
    cast(a.period_start as date) as period_start,
    cast(a.period_end as date) as period_end,
    cast(a.unit_code as text) as unit_code,
    cast(a.unit_name as text) as unit_name,
    cast(a.unit_level as text) as unit_level,
    cast(a.current_unit_code as text) as current_unit_code,
    {{ dossier_kpi_select('a', only_if='a.period_end >= coverage.dossiers_from') }},
    {{ document_kpi_select('a', only_if='a.period_end >= coverage.documents_from') }},
    {{ self_report_select('s', annual=period_type == 'year') }},
    {{ period_freshness_select('a') }}
from {{ ref('int_unit_periods_aggregated') }} as a
cross join coverage
-- self-report columns only on official-calendar rows (int_unit_periods_self_reported has no others)
left join {{ ref('int_unit_periods_self_reported') }} as s
    on
        a.period_key = s.period_key
        and a.unit_code = s.unit_code
where a.period_type = '{{ period_type }}'
{%- endmacro %}

{#- A restated period mart: as-was rows moved to the unit that exists today, counts summed over
    predecessors and rates recomputed from the sums. -#}
{% macro reform_period_mart_restated(period_type) -%}
with as_was as (
    select * from {{ ref('int_unit_periods_aggregated') }}
    where period_type = '{{ period_type }}'
),

latest_versions as (
    select * from {{ ref('int_units_current') }}
),

summed as (
    select
        period_key,
        calendar,
        period_start,
        period_end,
        current_unit_code,
        max(data_as_of) as data_as_of,
        max(documents_as_of) as documents_as_of,
        {{ dossier_count_sums() }},
        {{ document_count_sums() }}
    from as_was
    group by period_key, calendar, period_start, period_end, current_unit_code
),

rated as (
    select
        summed.*,
        latest_versions.unit_name,
        latest_versions.unit_level,
        {{ dossier_rate_columns('summed') }},
        {{ document_rate_columns('summed') }}
    from summed
    left join latest_versions on summed.current_unit_code = latest_versions.unit_code
),

coverage as (
    select * from {{ ref('int_data_coverage') }}
)

select
    cast(period_key as text) as period_key,
    cast(calendar as text) as calendar,
    cast(period_start as date) as period_start,
    cast(period_end as date) as period_end,
    cast(current_unit_code as text) as unit_code,
    cast(unit_name as text) as unit_name,
    cast(unit_level as text) as unit_level,
    cast(current_unit_code as text) as current_unit_code,
    {{ dossier_kpi_select(only_if='period_end >= coverage.dossiers_from') }},
    {{ document_kpi_select(only_if='period_end >= coverage.documents_from') }},
    -- self-report columns are NULL in restated marts (domain.md §5)
    {{ self_report_select(none, annual=period_type == 'year') }},
    {{ period_freshness_select() }}
from rated
cross join coverage
{%- endmacro %}

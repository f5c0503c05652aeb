-- Dossier, document and task KPIs per (period, unit) as was. Units without procedures get NULL dossier
-- columns, not zero; units with procedures and no activity get zeros; document and task counts are
-- zero where the unit had none.
with listed as (
    select * from {{ ref('int_unit_periods_listed') }}
),

counts as (
    select
        period_key,
        unit_code,
        {{ dossier_count_sums() }}
    from {{ ref('int_unit_procedure_periods_counted') }}
    group by period_key, unit_code
),

documents_as_of as (
    select documents_as_of from {{ ref('int_document_extractions_dated') }}
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
        listed.has_procedures,
        listed.existed_in_period,
        listed.data_as_of,
        {{ dossier_count_list('counts', zero_fill=true, only_if='listed.has_procedures') }},
        {%- for c in document_count_names() %}
            coalesce(documents.{{ c }}, 0) as {{ c }},
        {%- endfor %}
        documents_as_of.documents_as_of
    from listed
    left join counts
        on
            listed.period_key = counts.period_key
            and listed.unit_code = counts.unit_code
    left join {{ ref('int_unit_document_periods_aggregated') }} as documents
        on
            listed.period_key = documents.period_key
            and listed.unit_code = documents.unit_code
    cross join documents_as_of
)

select
    *,
    {{ dossier_rate_columns() }},
    {{ document_rate_columns() }}
from joined
